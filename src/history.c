/*
 * history.c
 *		Profile history: icp_profile_versions.
 *
 * A statement trigger on icp_profiles and icp_criteria compares the value
 * of every stored profile with its current version (valid_to IS NULL) and,
 * where they differ, closes the current version at now() and opens a new
 * one: so the table keeps each previous value with its validity period.
 * Values are read from the tables through SPI, never from the profile cache,
 * which may not have seen this statement's changes yet.  Renames are
 * carried into the history by a row trigger before the rename happens
 * (icp_profiles_history_rename, in SQL).  COPY into the profile tables
 * (pg_restore) records nothing: the restored history comes with the dump.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
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

/* A current version as read from icp_profile_versions */
typedef struct CurrentVersion
{
	char	   *profile;
	IcpProfile *value;
	bool		seen;			/* the profile still exists */
} CurrentVersion;

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

/* Statement trigger on the profile tables: record changed profile values */
Datum
icp_profiles_history(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;
	MemoryContext old;
	char	   *nspname;
	char	   *versions;
	char	   *profiles;
	char	   *close_query;
	char	   *insert_query;
	Oid			valuetype;
	CurrentVersion *cur;
	int			ncur;
	char	  **names;
	int			nnames;
	int			ret;
	int			i,
				j;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("icp_profiles_history() must be called as a trigger")));

	/*
	 * COPY into the profile tables is how pg_restore (and bulk loads) bring
	 * them back; the history of those profiles comes with the dump, so a
	 * COPY records nothing (the next change compares with the stored current
	 * version as usual).
	 */
	if (ActivePortal != NULL && ActivePortal->commandTag == CMDTAG_COPY)
		return PointerGetDatum(NULL);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "icp profile history",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	nspname = (char *) quote_identifier(get_namespace_name(IcpExtensionSchema()));
	versions = psprintf("%s.icp_profile_versions", nspname);
	profiles = psprintf("%s.icp_profiles", nspname);
	valuetype = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								CStringGetDatum("icp_profile"),
								ObjectIdGetDatum(IcpExtensionSchema()));
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

	/*
	 * One history writer at a time: two transactions changing different
	 * profiles both compare every profile, and without this both would open
	 * a new current version of the same one (unique violation).  The
	 * queries below take a fresh snapshot, so they see what the writer
	 * before us committed.
	 */
	ret = SPI_execute(psprintf("LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE", versions),
					  false, 0);
	if (ret != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));

	/* the current versions */
	ret = SPI_execute(psprintf("SELECT profile, value FROM %s WHERE valid_to IS NULL",
							   versions), false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	ncur = (int) SPI_processed;
	cur = MemoryContextAllocZero(cxt, sizeof(CurrentVersion) * Max(ncur, 1));
	for (i = 0; i < ncur; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		Datum		d = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull);
		IcpProfile *v = (IcpProfile *) PG_DETOAST_DATUM(d);

		cur[i].profile = MemoryContextStrdup(cxt, SPI_getvalue(tup, SPI_tuptable->tupdesc, 1));
		cur[i].value = MemoryContextAlloc(cxt, VARSIZE_ANY(v));
		memcpy(cur[i].value, v, VARSIZE_ANY(v));
	}

	/* the stored profiles */
	ret = SPI_execute(psprintf("SELECT name FROM %s ORDER BY name COLLATE \"C\"", profiles),
					  false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	nnames = (int) SPI_processed;
	names = MemoryContextAlloc(cxt, sizeof(char *) * Max(nnames, 1));
	for (i = 0; i < nnames; i++)
		names[i] = MemoryContextStrdup(cxt, SPI_getvalue(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 1));

	for (i = 0; i < nnames; i++)
	{
		IcpProfile *value;
		CurrentVersion *c = NULL;

		CHECK_FOR_INTERRUPTS();
		/* IcpLoadProfileValue reads with the active snapshot: let it see this statement */
		CommandCounterIncrement();
		PushCopiedSnapshot(GetActiveSnapshot());
		UpdateActiveSnapshotCommandId();
		value = IcpLoadProfileValue(names[i], true, NULL);
		PopActiveSnapshot();
		if (value == NULL)
			continue;
		for (j = 0; j < ncur; j++)
			if (strcmp(cur[j].profile, names[i]) == 0)
			{
				c = &cur[j];
				c->seen = true;
				break;
			}
		if (c != NULL && SameValue(c->value, value))
			continue;
		if (c != NULL)
			ExecVersionStatement(close_query, names[i], NULL, InvalidOid, SPI_OK_UPDATE);
		ExecVersionStatement(insert_query, names[i], value, valuetype, SPI_OK_INSERT);
	}

	/* profiles deleted: their last version ends now */
	for (j = 0; j < ncur; j++)
		if (!cur[j].seen)
			ExecVersionStatement(close_query, cur[j].profile, NULL, InvalidOid,
								 SPI_OK_UPDATE);

	SPI_finish();
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return PointerGetDatum(NULL);
}
