/*
 * history.c
 *		Profile history: icp_profile_versions.
 *
 * Statement triggers on icp_profiles and icp_criteria compare, for every
 * profile the statement touched, the profile's stored value with its
 * current version (valid_to IS NULL) and, where they differ, close the
 * current version at now() and open a new one: so the table keeps each
 * previous value with its validity period.  The touched profiles are the
 * names in the statement's transition tables (REFERENCING OLD TABLE / NEW
 * TABLE), plus any stored profile that has no current version yet (one a
 * COPY created); a TRUNCATE (no transition tables) looks at every profile.
 * Values are read from the tables through SPI, never from the profile cache,
 * which may not have seen this statement's changes yet.  Renames are
 * carried into the history by a row trigger before the rename happens
 * (icp_profiles_history_rename, in SQL).  COPY into the profile tables
 * (pg_restore) records nothing: the restored history comes with the dump.
 *
 * The triggers run with the rights of the role changing the profile, which
 * therefore needs SELECT, INSERT and UPDATE on icp_profile_versions.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "tcop/pquery.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "icp.h"
#include "profile.h"

PG_FUNCTION_INFO_V1(icp_profiles_history);

/* Whether two profile values are the same bytes */
static bool
SameValue(IcpProfile *a, IcpProfile *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* Run one SPI statement with a profile name (and maybe a value) */
static void
ExecVersionStatement(const char *query, const char *profile, IcpProfile *value,
					 Oid valuetype, int expected)
{
	Oid			argtypes[2] = {TEXTOID, valuetype};
	Datum		args[2];
	int			ret;

	args[0] = CStringGetTextDatum(profile);
	args[1] = PointerGetDatum(value);
	ret = SPI_execute_with_args(query, value ? 2 : 1, argtypes, args, NULL,
								false, 0);
	if (ret != expected)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
}

/*
 * The trigger is the extension's: fired AFTER, FOR EACH STATEMENT, on
 * icp_profiles or icp_criteria.  Sets *on_profiles accordingly.
 */
static void
CheckHistoryTrigger(FunctionCallInfo fcinfo, Oid nsp, bool *on_profiles)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			relid;
	bool		is_profile_table;
	bool		on_criteria;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("icp_profiles_history() must be called as a trigger")));
	relid = RelationGetRelid(trigdata->tg_relation);
	/* on Citus the trigger fires on this node's placement of the table */
	is_profile_table = IcpIsProfileTable(relid, &on_criteria);
	*on_profiles = is_profile_table && !on_criteria;
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) || !is_profile_table)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on table \"%s\" cannot use icp_profiles_history()",
						trigdata->tg_trigger->tgname,
						RelationGetRelationName(trigdata->tg_relation)),
				 errdetail("icp_profiles_history() is fired AFTER each statement on the extension's tables icp_profiles and icp_criteria.")));
}

/* The role changing profiles may write their history */
static void
CheckHistoryPrivileges(Oid versions)
{
	AclMode		needed = ACL_SELECT | ACL_INSERT | ACL_UPDATE;

	if (pg_class_aclmask(versions, GetUserId(), needed, ACLMASK_ALL) != needed)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table icp_profile_versions"),
				 errdetail("Every change to a profile records its previous value in icp_profile_versions, with the rights of the role making the change."),
				 errhint("Grant SELECT, INSERT and UPDATE on icp_profile_versions to the roles that edit profiles.")));
}

/*
 * The query listing the profiles to look at, by name in byte order: those
 * in the statement's transition tables and those without a current
 * version, or, without transition tables (TRUNCATE), every stored profile
 * and every profile with a current version.
 */
static char *
TouchedProfilesQuery(TriggerData *trigdata, bool on_profiles,
					 const char *profiles, const char *versions)
{
	Trigger    *tg = trigdata->tg_trigger;
	const char *col = on_profiles ? "name" : "profile";
	StringInfoData q;

	initStringInfo(&q);
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) ||
		(tg->tgoldtable == NULL && tg->tgnewtable == NULL))
	{
		appendStringInfo(&q, "SELECT u.n FROM (SELECT p.name FROM %s AS p UNION "
						 "SELECT v.profile FROM %s AS v WHERE v.valid_to IS NULL) AS u(n) "
						 "ORDER BY u.n COLLATE \"C\"", profiles, versions);
		return q.data;
	}
	appendStringInfo(&q, "SELECT u.n FROM (SELECT p.name FROM %s AS p WHERE NOT EXISTS "
					 "(SELECT FROM %s AS v WHERE v.profile OPERATOR(pg_catalog.=) p.name "
					 "AND v.valid_to IS NULL)", profiles, versions);
	if (tg->tgoldtable != NULL)
		appendStringInfo(&q, " UNION SELECT t.%s FROM %s AS t", col,
						 quote_identifier(tg->tgoldtable));
	if (tg->tgnewtable != NULL)
		appendStringInfo(&q, " UNION SELECT t.%s FROM %s AS t", col,
						 quote_identifier(tg->tgnewtable));
	appendStringInfoString(&q, ") AS u(n) ORDER BY u.n COLLATE \"C\"");
	return q.data;
}

/* Statement trigger on the profile tables: record changed profile values */
Datum
icp_profiles_history(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	MemoryContext cxt;
	MemoryContext old;
	Oid			nsp;
	char	   *nspname;
	char	   *versions;
	char	   *profiles;
	char	   *current_query;
	char	   *close_query;
	char	   *insert_query;
	Oid			valuetype;
	bool		on_profiles;
	char	  **names;
	int			nnames;
	int			ret;
	int			i;

	/*
	 * COPY into the profile tables is how pg_restore (and bulk loads) bring
	 * them back; the history of those profiles comes with the dump, so a
	 * COPY records nothing (the next change compares with the stored current
	 * version as usual).  It is also how Citus fills a new placement of the
	 * tables on a worker (icp_citus_setup, a node added later), before the
	 * node's other profile table may be readable: nothing is read then.
	 */
	if (CALLED_AS_TRIGGER(fcinfo) &&
		ActivePortal != NULL && ActivePortal->commandTag == CMDTAG_COPY)
		return PointerGetDatum(NULL);

	nsp = IcpExtensionSchema();
	CheckHistoryTrigger(fcinfo, nsp, &on_profiles);

	CheckHistoryPrivileges(get_relname_relid("icp_profile_versions", nsp));

	cxt = AllocSetContextCreate(CurrentMemoryContext, "icp profile history",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	nspname = (char *) quote_identifier(get_namespace_name(nsp));
	versions = psprintf("%s.icp_profile_versions", nspname);
	profiles = IcpProfileTableName(false);
	valuetype = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								CStringGetDatum("icp_profile"),
								ObjectIdGetDatum(nsp));
	current_query = psprintf("SELECT value FROM %s WHERE profile OPERATOR(pg_catalog.=) $1 "
							 "AND valid_to IS NULL", versions);
	close_query = psprintf("UPDATE %s SET valid_to = GREATEST(pg_catalog.now(), valid_from) "
						   "WHERE profile OPERATOR(pg_catalog.=) $1 AND valid_to IS NULL",
						   versions);
	insert_query = psprintf("INSERT INTO %s (profile, version, value, valid_from) "
							"SELECT $1, COALESCE(pg_catalog.max(version), 0) OPERATOR(pg_catalog.+) 1, $2, "
							"GREATEST(pg_catalog.now(), pg_catalog.max(valid_to)) "
							"FROM %s WHERE profile OPERATOR(pg_catalog.=) $1",
							versions, versions);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* the transition tables, as relations the queries below can read */
	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "SPI_register_trigger_data failed");

	/*
	 * One history writer at a time: two transactions changing the same
	 * profile (or creating profiles by COPY) would both open a new current
	 * version of it (unique violation).  The queries below take a fresh
	 * snapshot, so they see what the writer before us committed.
	 */
	ret = SPI_execute(psprintf("LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE", versions),
					  false, 0);
	if (ret != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));

	ret = SPI_execute(TouchedProfilesQuery(trigdata, on_profiles, profiles, versions),
					  false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	nnames = (int) SPI_processed;
	names = MemoryContextAlloc(cxt, sizeof(char *) * Max(nnames, 1));
	for (i = 0; i < nnames; i++)
		names[i] = MemoryContextStrdup(cxt, SPI_getvalue(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 1));
	SPI_freetuptable(SPI_tuptable);

	for (i = 0; i < nnames; i++)
	{
		IcpProfile *value;
		IcpProfile *current = NULL;
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		/* IcpLoadProfileValue reads with the active snapshot: let it see this statement */
		CommandCounterIncrement();
		PushCopiedSnapshot(GetActiveSnapshot());
		UpdateActiveSnapshotCommandId();
		value = IcpLoadProfileValue(names[i], true, NULL);
		PopActiveSnapshot();

		ExecVersionStatement(current_query, names[i], NULL, InvalidOid, SPI_OK_SELECT);
		if (SPI_processed > 0)
			current = (IcpProfile *) PG_DETOAST_DATUM(SPI_getbinval(SPI_tuptable->vals[0],
																	SPI_tuptable->tupdesc,
																	1, &isnull));
		if (current != NULL && value != NULL && SameValue(current, value))
			continue;
		/* changed or deleted: the current version ends now */
		if (current != NULL)
			ExecVersionStatement(close_query, names[i], NULL, InvalidOid, SPI_OK_UPDATE);
		if (value != NULL)
			ExecVersionStatement(insert_query, names[i], value, valuetype, SPI_OK_INSERT);
	}

	SPI_finish();
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return PointerGetDatum(NULL);
}
