/*
 * profile_cache.c
 *		Stored profiles: loading, the per-backend cache of compiled profiles,
 *		and the rules that make a cached answer equal a fresh one.
 *
 * Compiled profiles are reference-counted (IcpPinProfile/IcpUnpinProfile):
 * the cache holds one pin per current entry and every call site one for as
 * long as it uses the profile, so an invalidation only unlinks an entry;
 * the profile is freed when its last user lets go.
 *
 * A cached answer is only given where a fresh read would give the same:
 *
 * - Changes.  A statement trigger on icp_profiles and icp_criteria
 *   (icp_profiles_changed) queues a relcache invalidation for the table;
 *   PostgreSQL delivers it to this backend at its next command (own edits)
 *   and to every other backend after commit.  The callback bumps
 *   IcpProfileGeneration, and entries of an older generation are dropped.
 * - Snapshots.  An entry remembers the snapshot it was read under.  It is
 *   "current" when that snapshot saw every change whose invalidation this
 *   backend had processed: a change's transaction completed before its
 *   invalidation was sent, so it is no later than the latest completed xid
 *   read when the invalidation arrives, and a snapshot whose xmin follows
 *   that xid sees it (this transaction's own edits are compared by command
 *   id).  A current entry serves any current snapshot; any other entry
 *   serves only a snapshot with the same xmin, xmax, in-progress count and
 *   command id (the same set of completed transactions: later completions
 *   raise xmax or shrink the in-progress list), so REPEATABLE READ
 *   transactions and statements running while an edit commits never
 *   publish what they saw as the current profile.
 * - Privileges.  Every acquire re-checks that the role may read both
 *   tables (schema USAGE, table SELECT) and that no row-level security
 *   policy applies to it.  When that fast check fails the profile is read
 *   afresh through SPI, which raises the permission error or applies the
 *   policies, and the result is never shared through the cache.
 * - Failures are never remembered: a lookup that errors stores nothing.
 *
 * The same rules cover the default profile's name and the active set.
 *
 * On Citus (after icp_citus_setup(), README "Scaling out with Citus") the
 * profile tables are reference tables: every node holds a placement, a
 * plain table named like icp_profiles_102008, kept equal to the
 * coordinator's in the same transaction.  Profiles are read from this
 * node's placement, never through the shell table (a worker may not run a
 * distributed query from inside a shard query), and the placement's
 * statement trigger sends the relcache invalidation, so the callback
 * listens for the placements' OIDs too.  A node without a placement (a
 * coordinator outside the metadata) reads through Citus and never caches.
 * A worker whose profile tables are not reference tables refuses to read
 * its own, empty, local copies: an error, not a silent NULL.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "bind.h"
#include "compat.h"
#include "icp.h"
#include "profile.h"

/* Bumped whenever a profile may have changed; 0 is never a valid value */
uint64		IcpProfileGeneration = 1;

/* Bumped by any relcache or type invalidation (a superset of the above) */
uint64		IcpCatalogGeneration = 1;

/* Bumped when a type or an enum's labels may have changed */
uint64		IcpTypeGeneration = 1;

/* OIDs of the extension's schema and profile tables, as of a generation */
Oid			IcpProfilesRelid = InvalidOid;
Oid			IcpCriteriaRelid = InvalidOid;
static Oid	icp_schema = InvalidOid;
static uint64 relids_generation = 0;

/*
 * The relations profiles are read from on this node: the tables above, or
 * on Citus their local placements; read_through_citus when this node has
 * no placement and reads the shell through Citus (never cached).
 */
static Oid	profiles_read_relid = InvalidOid;
static Oid	criteria_read_relid = InvalidOid;
static bool read_through_citus = false;

/*
 * The latest profile change this backend has processed: the latest
 * completed xid when its invalidation arrived (the change's transaction
 * completed no later), and, for changes processed inside a transaction,
 * that transaction and the command id from which its snapshots see them.
 */
static TransactionId change_xid = InvalidTransactionId;
static LocalTransactionId change_lxid = InvalidLocalTransactionId;
static CommandId change_cid = InvalidCommandId;

/* Identity numbers for compiled profiles and bindings */
static uint64 next_object_id = 1;

static MemoryContext profiles_cxt = NULL;

/* Note a change to the profile tables */
static void
NoteProfileChange(void)
{
	FullTransactionId latest;
	TransactionId xid;

	IcpProfileGeneration++;
	latest.value = ((volatile FullTransactionId *) &TransamVariables->latestCompletedXid)->value;
	xid = XidFromFullTransactionId(latest);
	if (TransactionIdIsNormal(xid) &&
		(!TransactionIdIsValid(change_xid) || TransactionIdFollows(xid, change_xid)))
		change_xid = xid;
	if (IsTransactionState() && MyProc != NULL)
	{
		change_lxid = IcpProcLocalXid(MyProc);
		change_cid = GetCurrentCommandId(false);
	}
}

/* Relcache callback: a change to a profile table invalidates every profile */
static void
IcpRelcacheCallback(Datum arg, Oid relid)
{
	IcpCatalogGeneration++;
	if (relid == InvalidOid || relid == IcpProfilesRelid ||
		relid == IcpCriteriaRelid || relid == profiles_read_relid ||
		relid == criteria_read_relid)
		NoteProfileChange();
}

/* Syscache callback (pg_type, pg_enum): bindings may need converting anew */
static void
IcpTypeCallback(Datum arg, int cacheid, uint32 hashvalue)
{
	IcpCatalogGeneration++;
	IcpTypeGeneration++;
}

/* Register the invalidation callbacks once per backend */
void
IcpProfileCacheInit(void)
{
	CacheRegisterRelcacheCallback(IcpRelcacheCallback, (Datum) 0);
	CacheRegisterSyscacheCallback(TYPEOID, IcpTypeCallback, (Datum) 0);
	CacheRegisterSyscacheCallback(ENUMOID, IcpTypeCallback, (Datum) 0);
}

PG_FUNCTION_INFO_V1(icp_profiles_changed);

/* Statement trigger on the profile tables: tell every backend to recompile */
Datum
icp_profiles_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("icp_profiles_changed() must be called as a trigger")));

	CacheInvalidateRelcache(trigdata->tg_relation);

	/*
	 * On Citus the trigger fires on each node's placement of the table (a
	 * name like icp_profiles_102008).  Later queries of this transaction
	 * read the placement from inside the icp functions they call, which
	 * Citus cannot see: left alone, it may run some of their shards over
	 * connections opened after this edit, which do not see it.  Sequential
	 * mode keeps every multi-shard command of the transaction on the one
	 * connection per node that holds the edit.
	 */
	if (strcmp(RelationGetRelationName(trigdata->tg_relation), "icp_profiles") != 0 &&
		strcmp(RelationGetRelationName(trigdata->tg_relation), "icp_criteria") != 0 &&
		GetConfigOption("citus.multi_shard_modify_mode", true, false) != NULL)
		(void) set_config_option("citus.multi_shard_modify_mode", "sequential",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
								 true, 0, false);
	return PointerGetDatum(NULL);
}

/* ---- compiled profiles: creation and pins ---- */

/* Compile a profile value; the caller holds the one pin it starts with */
IcpCompiled *
IcpNewCompiled(const IcpProfile *value)
{
	IcpCompiled *cp;

	if (profiles_cxt == NULL)
		profiles_cxt = AllocSetContextCreate(CacheMemoryContext,
											 "icp compiled profiles",
											 ALLOCSET_DEFAULT_SIZES);
	cp = IcpCompileProfile(value, profiles_cxt);
	cp->id = next_object_id++;
	cp->refcount = 1;
	cp->bindings = NULL;
	return cp;
}

/* Take one more pin on a compiled profile */
void
IcpPinProfile(IcpCompiled *cp)
{
	Assert(cp->refcount > 0);
	cp->refcount++;
}

/* Let go of a pin; the last one frees the profile and its bindings */
void
IcpUnpinProfile(IcpCompiled *cp)
{
	if (cp == NULL)
		return;
	Assert(cp->refcount > 0);
	if (--cp->refcount > 0)
		return;
	IcpDropBindings(cp);
	MemoryContextDelete(cp->cxt);
}

/* Unpin a profile from IcpAcquireProfileByName */
void
IcpReleaseProfile(IcpCompiled *cp)
{
	IcpUnpinProfile(cp);
}

/* ---- session settings and use keys ---- */

/*
 * The session's lc_monetary, read through the GUC rather than pg_locale.h,
 * whose ICU include would make the ICU headers a build dependency
 */
static const char *
LcMonetary(void)
{
	const char *v = GetConfigOption("lc_monetary", false, false);

	return v ? v : "";
}

/* The session settings constants are converted under, now */
void
IcpCurrentSettings(IcpSettings *s)
{
	const char *tz = session_timezone ? pg_get_timezone_name(session_timezone) : "";

	memset(s, 0, sizeof(IcpSettings));
	s->datestyle = DateStyle;
	s->dateorder = DateOrder;
	s->intervalstyle = IntervalStyle;
	s->tz = session_timezone;
	strlcpy(s->timezone, tz ? tz : "", sizeof(s->timezone));
	strlcpy(s->monetary, LcMonetary(), sizeof(s->monetary));
	strlcpy(s->search_path, namespace_search_path ? namespace_search_path : "",
			sizeof(s->search_path));
}

/* Whether the session settings in deps (ICP_DEP_*) are still those of s */
bool
IcpSettingsMatch(const IcpSettings *s, int deps)
{
	const char *tz;

	if (deps == 0)
		return true;
	if ((deps & ICP_DEP_DATETIME) &&
		(s->datestyle != DateStyle || s->dateorder != DateOrder))
		return false;
	if ((deps & (ICP_DEP_DATETIME | ICP_DEP_INTERVAL)) &&
		s->tz != session_timezone)
	{
		tz = session_timezone ? pg_get_timezone_name(session_timezone) : "";
		if (strncmp(s->timezone, tz ? tz : "", sizeof(s->timezone)) != 0)
			return false;
	}
	if ((deps & ICP_DEP_INTERVAL) && s->intervalstyle != IntervalStyle)
		return false;
	if ((deps & ICP_DEP_MONEY) &&
		strcmp(s->monetary, LcMonetary()) != 0)
		return false;
	return !(deps & ICP_DEP_SEARCH_PATH) ||
		strcmp(s->search_path, namespace_search_path ? namespace_search_path : "") == 0;
}

/* The snapshot a read would use now, or NULL */
static Snapshot
CurrentReadSnapshot(void)
{
	return ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;
}

/*
 * Start resolving a call site's profile: take in pending invalidations and
 * return the catalog generation the resolution will be valid for.
 */
uint64
IcpUseKeyBegin(void)
{
	AcceptInvalidationMessages();
	return IcpCatalogGeneration;
}

/*
 * Remember what a call site resolved its profile under: the generation
 * IcpUseKeyBegin returned before anything was looked up (an invalidation
 * taken in while binding makes the key stale at once), and the role,
 * snapshot and settings now; deps says which settings the bindings in use
 * depend on (only those are compared on later calls).
 */
void
IcpUseKeyTake(IcpUseKey *key, uint64 catalog_generation, int deps)
{
	Snapshot	snap = CurrentReadSnapshot();

	key->valid = true;
	key->catalog_generation = catalog_generation;
	key->userid = GetUserId();
	key->snap_cid = snap ? snap->curcid : InvalidCommandId;
	key->snap_xmin = snap ? snap->xmin : InvalidTransactionId;
	key->snap_xmax = snap ? snap->xmax : InvalidTransactionId;
	key->snap_xcnt = snap ? snap->xcnt : 0;
	key->snap_lxid = MyProc ? IcpProcLocalXid(MyProc) : InvalidLocalTransactionId;
	IcpCurrentSettings(&key->settings);
	key->deps = deps;
}

/*
 * Whether nothing that could change a call site's answer has changed since
 * IcpUseKeyTake: cheap enough to ask for every row.
 */
bool
IcpUseKeyValid(const IcpUseKey *key)
{
	Snapshot	snap;

	if (!key->valid || key->catalog_generation != IcpCatalogGeneration ||
		key->userid != GetUserId())
		return false;
	snap = CurrentReadSnapshot();

	/*
	 * Two snapshots of one transaction with the same xmin, xmax, number of
	 * transactions in progress and command id see the same data: any
	 * transaction completing in between raises xmax or shrinks the list.
	 */
	if (snap == NULL ||
		key->snap_cid != snap->curcid || key->snap_xmin != snap->xmin ||
		key->snap_xmax != snap->xmax || key->snap_xcnt != snap->xcnt ||
		key->snap_lxid != (MyProc ? IcpProcLocalXid(MyProc) : InvalidLocalTransactionId))
		return false;
	return IcpSettingsMatch(&key->settings, key->deps);
}

/* ---- snapshots ---- */

/* The snapshot a profile was read under, as far as caching is concerned */
typedef struct SnapKey
{
	TransactionId xmin;			/* InvalidTransactionId: no snapshot */
	TransactionId xmax;
	uint32		xcnt;
	CommandId	cid;
	LocalTransactionId lxid;
} SnapKey;

/* The key of the snapshot a read would use now */
static void
TakeSnapKey(SnapKey *k)
{
	Snapshot	snap = CurrentReadSnapshot();

	memset(k, 0, sizeof(SnapKey));
	if (snap == NULL)
		return;
	k->xmin = snap->xmin;
	k->xmax = snap->xmax;
	k->xcnt = snap->xcnt;
	k->cid = snap->curcid;
	k->lxid = MyProc ? IcpProcLocalXid(MyProc) : InvalidLocalTransactionId;
}

/* Whether two snapshot keys see the same committed and own changes */
static bool
SnapKeyEqual(const SnapKey *a, const SnapKey *b)
{
	return TransactionIdIsValid(a->xmin) && a->xmin == b->xmin &&
		a->xmax == b->xmax && a->xcnt == b->xcnt && a->cid == b->cid &&
		a->lxid == b->lxid;
}

/* Whether a snapshot saw every profile change this backend has processed */
static bool
SnapIsCurrent(const SnapKey *k)
{
	if (!TransactionIdIsValid(k->xmin))
		return false;
	/* every xid before xmin has completed, the change's included */
	if (TransactionIdIsValid(change_xid) && !TransactionIdFollows(k->xmin, change_xid))
		return false;
	if (change_lxid != InvalidLocalTransactionId && k->lxid == change_lxid &&
		k->cid < change_cid)
		return false;
	return true;
}

/* What an answer cached under a generation and a snapshot stands for */
typedef struct Stamp
{
	uint64		generation;		/* 0: nothing stored */
	SnapKey		snap;
	bool		current;
} Stamp;

/* Stamp an answer read just now */
static void
TakeStamp(Stamp *st, uint64 generation, const SnapKey *snap)
{
	st->generation = generation;
	st->snap = *snap;
	st->current = SnapIsCurrent(snap);
}

/* Whether an answer stamped st is the answer a read under snap would give */
static bool
StampServes(const Stamp *st, const SnapKey *snap)
{
	if (st->generation == 0 || st->generation != IcpProfileGeneration)
		return false;
	if (SnapKeyEqual(&st->snap, snap))
		return true;
	return st->current && SnapIsCurrent(snap);
}

/* ---- the profile tables ---- */

/* Schema of the icp extension, read from pg_extension */
Oid
IcpExtensionSchema(void)
{
	Oid			extoid = get_extension_oid("icp", true);
	Oid			result = InvalidOid;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;

	if (!OidIsValid(extoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"icp\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION icp.")));
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		result = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * On Citus, the shard id of a reference table (0: not a Citus table) and
 * this node's group (0: the coordinator, or a node outside any cluster).
 */
static int64
CitusShardOf(Oid relid, int32 *groupid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1];
	bool		isnull;
	int64		shardid = 0;
	int			ret;

	*groupid = 0;
	if (!OidIsValid(get_extension_oid("citus", true)) ||
		!OidIsValid(get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE)) ||
		!OidIsValid(get_relname_relid("pg_dist_local_group", PG_CATALOG_NAMESPACE)))
		return 0;
	args[0] = ObjectIdGetDatum(relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute("SELECT g.groupid FROM pg_catalog.pg_dist_local_group AS g", true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	if (SPI_processed > 0)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		*groupid = isnull ? 0 : DatumGetInt32(d);
	}
	ret = SPI_execute_with_args("SELECT s.shardid FROM pg_catalog.pg_dist_shard AS s "
								"WHERE s.logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
								1, argtypes, args, NULL, true, 2);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		shardid = isnull ? 0 : DatumGetInt64(d);
	}
	SPI_finish();
	return shardid;
}

/* The owner of a relation, InvalidOid when it is gone */
static Oid
RelationOwner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		ReleaseSysCache(tup);
	}
	return owner;
}

/*
 * The relation to read one profile table from on this node: the table, or
 * its local placement on Citus.  Sets *through_citus when the table is a
 * Citus table without a placement here.
 */
static Oid
ReadRelation(Oid relid, const char *relname, bool *through_citus)
{
	int32		groupid;
	int64		shardid = CitusShardOf(relid, &groupid);
	Oid			placement;

	if (shardid == 0)
	{
		if (groupid != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the icp profile tables are not replicated to this Citus worker"),
					 errdetail("Table \"%s\" is not a Citus reference table, so this worker's copy of it is empty.",
							   relname),
					 errhint("Run SELECT icp_citus_setup(); on the coordinator.")));
		return relid;
	}
	placement = get_relname_relid(psprintf("%s_" INT64_FORMAT, relname, shardid),
								  icp_schema);
	/*
	 * A placement belongs to the table's owner: a table of that name planted
	 * by a role that may create in the schema is not one.
	 */
	if (OidIsValid(placement) && RelationOwner(placement) == RelationOwner(relid))
		return placement;
	if (groupid != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this Citus worker has no placement of the icp profile table \"%s\"",
						relname),
				 errhint("Run SELECT replicate_reference_tables(); on the coordinator.")));
	*through_citus = true;
	return relid;
}

/* Look up the extension's schema and tables, once per profile generation */
static void
EnsureProfileRelids(void)
{
	bool		through = false;

	if (relids_generation == IcpProfileGeneration && OidIsValid(icp_schema) &&
		OidIsValid(IcpProfilesRelid) && OidIsValid(IcpCriteriaRelid) &&
		OidIsValid(profiles_read_relid) && OidIsValid(criteria_read_relid))
		return;
	relids_generation = 0;
	icp_schema = IcpExtensionSchema();
	IcpProfilesRelid = get_relname_relid("icp_profiles", icp_schema);
	IcpCriteriaRelid = get_relname_relid("icp_criteria", icp_schema);
	if (!OidIsValid(IcpProfilesRelid) || !OidIsValid(IcpCriteriaRelid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the icp profile tables are missing from schema \"%s\"",
						get_namespace_name(icp_schema)),
				 errhint("Reinstall the extension: DROP EXTENSION icp; CREATE EXTENSION icp.")));
	profiles_read_relid = InvalidOid;
	criteria_read_relid = InvalidOid;
	profiles_read_relid = ReadRelation(IcpProfilesRelid, "icp_profiles", &through);
	criteria_read_relid = ReadRelation(IcpCriteriaRelid, "icp_criteria", &through);
	read_through_citus = through;
	relids_generation = IcpProfileGeneration;
}

/*
 * Schema-qualified name of the relation this node reads a profile table
 * from (criteria: icp_criteria, else icp_profiles), for SPI queries.
 */
char *
IcpProfileTableName(bool criteria)
{
	char	   *relname;

	EnsureProfileRelids();
	relname = get_rel_name(criteria ? criteria_read_relid : profiles_read_relid);
	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the icp profile tables changed while being read"),
				 errhint("Retry the statement.")));
	return psprintf("%s.%s", quote_identifier(get_namespace_name(icp_schema)),
					quote_identifier(relname));
}

/* Whether a relation is one of the profile tables or this node's placement of one */
bool
IcpIsProfileTable(Oid relid, bool *criteria)
{
	EnsureProfileRelids();
	*criteria = (relid == IcpCriteriaRelid || relid == criteria_read_relid);
	return *criteria || relid == IcpProfilesRelid || relid == profiles_read_relid;
}

/* Schema-qualified name of one of the extension's tables, for SPI queries */
static char *
QualifiedTable(const char *table)
{
	return IcpProfileTableName(strcmp(table, "icp_criteria") == 0);
}

/*
 * Whether the current role reads the profile tables exactly as the cache
 * holds them: USAGE on the schema, SELECT on both tables, and no row-level
 * security policy in force for it.  Cheap (syscache lookups); asked at every
 * acquire.  When false, answers are read afresh and never shared.
 */
static bool
CacheServesRole(void)
{
	Oid			user = GetUserId();

	EnsureProfileRelids();
	if (read_through_citus)
		return false;
	if (object_aclcheck(NamespaceRelationId, icp_schema, user, ACL_USAGE) != ACLCHECK_OK)
		return false;
	if (pg_class_aclcheck(profiles_read_relid, user, ACL_SELECT) != ACLCHECK_OK ||
		pg_class_aclcheck(criteria_read_relid, user, ACL_SELECT) != ACLCHECK_OK)
		return false;
	if (check_enable_rls(profiles_read_relid, InvalidOid, true) == RLS_ENABLED ||
		check_enable_rls(criteria_read_relid, InvalidOid, true) == RLS_ENABLED)
		return false;
	return true;
}

/* Parse a profile's text setting */
static int
SettingValue(const char *s, const char *one)
{
	return strcmp(s, one) == 0 ? 1 : 0;
}

/*
 * Read a stored profile into a value (in the caller's memory context).
 * Returns NULL when there is no such profile and missing_ok.
 */
IcpProfile *
IcpLoadProfileValue(const char *name, bool missing_ok, bool *active)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	char	   *query;
	IcpProfile *result = NULL;
	int			ret;

	args[0] = CStringGetTextDatum(name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	query = psprintf("SELECT kind, model, bias, grade_thresholds, missing, active "
					 "FROM %s WHERE name OPERATOR(pg_catalog.=) $1",
					 QualifiedTable("icp_profiles"));
	ret = SPI_execute_with_args(query, 1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));

	if (SPI_processed == 0)
	{
		SPI_finish();
		if (missing_ok)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("icp profile \"%s\" does not exist", name),
				 errhint("Profiles are rows of icp_profiles; check the name or create it with INSERT INTO icp_profiles (name) VALUES (...).")));
	}
	else
	{
		TupleDesc	td = SPI_tuptable->tupdesc;
		HeapTuple	tup = SPI_tuptable->vals[0];
		char	   *kind = SPI_getvalue(tup, td, 1);
		char	   *model = SPI_getvalue(tup, td, 2);
		bool		isnull;
		double		bias = DatumGetFloat8(SPI_getbinval(tup, td, 3, &isnull));
		ArrayType  *tarr = DatumGetArrayTypeP(SPI_getbinval(tup, td, 4, &isnull));
		char	   *missing = SPI_getvalue(tup, td, 5);
		bool		is_active = DatumGetBool(SPI_getbinval(tup, td, 6, &isnull));
		Datum	   *telems;
		int			nt;
		double		thresholds[3];
		int			n,
					i;
		int64	   *ids;
		double	   *weights;
		bool	   *required;
		IcpRule   **rules;
		IcpDecaySpec *decays;
		Oid			crit;
		bool		has_decay;

		deconstruct_array(tarr, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
						  &telems, NULL, &nt);
		for (i = 0; i < 3; i++)
			thresholds[i] = i < nt ? DatumGetFloat8(telems[i]) : 0;

		/* a database not yet updated to 0.3 has no decay columns */
		crit = get_relname_relid("icp_criteria", IcpExtensionSchema());
		has_decay = OidIsValid(crit) &&
			get_attnum(crit, "decay_on") != InvalidAttrNumber;
		query = psprintf("SELECT id, rule, weight, required, %s FROM %s "
						 "WHERE profile OPERATOR(pg_catalog.=) $1 ORDER BY id",
						 has_decay ? "decay_on, half_life" : "NULL::pg_catalog.text, NULL::pg_catalog.interval",
						 QualifiedTable("icp_criteria"));
		ret = SPI_execute_with_args(query, 1, argtypes, args, NULL, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
		n = (int) SPI_processed;
		ids = palloc(sizeof(int64) * Max(n, 1));
		weights = palloc(sizeof(double) * Max(n, 1));
		required = palloc(sizeof(bool) * Max(n, 1));
		rules = palloc(sizeof(IcpRule *) * Max(n, 1));
		decays = palloc0(sizeof(IcpDecaySpec) * Max(n, 1));
		td = SPI_tuptable->tupdesc;
		for (i = 0; i < n; i++)
		{
			tup = SPI_tuptable->vals[i];
			ids[i] = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
			rules[i] = DatumGetIcpRuleP(SPI_getbinval(tup, td, 2, &isnull));
			weights[i] = DatumGetFloat8(SPI_getbinval(tup, td, 3, &isnull));
			required[i] = DatumGetBool(SPI_getbinval(tup, td, 4, &isnull));
			decays[i].decay_on = SPI_getvalue(tup, td, 5);
			if (decays[i].decay_on != NULL)
			{
				Datum		hl = SPI_getbinval(tup, td, 6, &isnull);

				/* the table's check constraint pairs the two columns */
				if (isnull)
					ereport(ERROR,
							(errcode(ERRCODE_NOT_NULL_VIOLATION),
							 errmsg("criterion " INT64_FORMAT " of icp profile \"%s\" has decay_on but no half_life",
									ids[i], name)));
				decays[i].half_life = *DatumGetIntervalP(hl);
			}
		}
		{
			MemoryContext spi = MemoryContextSwitchTo(caller);

			result = IcpBuildProfileDecay(name,
									 SettingValue(kind, "exclude") ? ICP_KIND_EXCLUDE : ICP_KIND_IDEAL,
									 SettingValue(model, "logistic") ? ICP_MODEL_LOGISTIC : ICP_MODEL_POINTS,
									 SettingValue(missing, "penalize") ? ICP_MISSING_PENALIZE : ICP_MISSING_IGNORE,
									 bias, thresholds, n, ids, weights, required, rules,
										  decays);
			MemoryContextSwitchTo(spi);
		}
		if (active)
			*active = is_active;
	}
	SPI_finish();
	return result;
}

/* Run a one-column text query and return its values */
static List *
QueryNames(const char *query)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *result = NIL;
	uint64		i;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(query, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		MemoryContext spi = MemoryContextSwitchTo(caller);

		result = lappend(result, pstrdup(v));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return result;
}

/* ---- the cache of compiled profiles ---- */

/* A compiled profile cached by name */
typedef struct CacheEntry
{
	struct CacheEntry *next;
	IcpCompiled *cp;			/* the cache's pin */
	Stamp		stamp;
} CacheEntry;

static CacheEntry *cache_head = NULL;

/* the default profile's name and the active profiles, with their stamps */
static Stamp default_stamp;
static char *default_name = NULL;
static Stamp active_stamp;
static List *active_names = NIL;

/* Unlink and unpin every cache entry of an older generation */
static void
PruneCache(void)
{
	CacheEntry **prev = &cache_head;
	CacheEntry *entry;

	while ((entry = *prev) != NULL)
	{
		if (entry->stamp.generation != IcpProfileGeneration)
		{
			*prev = entry->next;
			IcpUnpinProfile(entry->cp);
			pfree(entry);
		}
		else
			prev = &entry->next;
	}
}

/* Read and compile a stored profile (pinned), or NULL when missing_ok */
static IcpCompiled *
LoadCompiled(const char *name, bool missing_ok)
{
	IcpProfile *value;
	IcpCompiled *cp;
	bool		active = true;

	value = IcpLoadProfileValue(name, missing_ok, &active);
	if (value == NULL)
		return NULL;
	cp = IcpNewCompiled(value);
	cp->active = active;
	pfree(value);
	return cp;
}

/*
 * A compiled profile for a stored profile, pinned until IcpReleaseProfile.
 * NULL when there is no such profile and missing_ok.
 */
IcpCompiled *
IcpAcquireProfileByName(const char *name, bool missing_ok)
{
	CacheEntry **prev;
	CacheEntry *entry;
	SnapKey		snap;
	uint64		generation;
	IcpCompiled *cp;

	AcceptInvalidationMessages();
	if (!CacheServesRole())
		return LoadCompiled(name, missing_ok);

	PruneCache();
	TakeSnapKey(&snap);
	for (prev = &cache_head; (entry = *prev) != NULL; prev = &entry->next)
	{
		if (strcmp(entry->cp->name, name) != 0)
			continue;
		if (StampServes(&entry->stamp, &snap))
		{
			IcpPinProfile(entry->cp);
			return entry->cp;
		}
		/* read under another snapshot: replaced below */
		*prev = entry->next;
		IcpUnpinProfile(entry->cp);
		pfree(entry);
		break;
	}

	generation = IcpProfileGeneration;
	cp = LoadCompiled(name, missing_ok);
	if (cp == NULL)
		return NULL;
	/* an invalidation arrived while reading: give it out, cache nothing */
	if (generation != IcpProfileGeneration || !TransactionIdIsValid(snap.xmin))
		return cp;
	entry = MemoryContextAllocZero(CacheMemoryContext, sizeof(CacheEntry));
	entry->cp = cp;
	IcpPinProfile(cp);
	TakeStamp(&entry->stamp, generation, &snap);
	entry->next = cache_head;
	cache_head = entry;
	return cp;
}

/*
 * The profile used when none is named: the is_default one, else the only
 * active one, else an error with a hint.  Returned in the caller's memory.
 */
char *
IcpDefaultProfileName(void)
{
	List	   *names;
	SnapKey		snap;
	uint64		generation;
	bool		shared;

	AcceptInvalidationMessages();
	shared = CacheServesRole();
	TakeSnapKey(&snap);
	if (shared && default_name != NULL && StampServes(&default_stamp, &snap))
		return pstrdup(default_name);

	generation = IcpProfileGeneration;
	names = QueryNames(psprintf("SELECT name FROM %s WHERE is_default",
								QualifiedTable("icp_profiles")));
	if (names == NIL)
		names = QueryNames(psprintf("SELECT name FROM %s WHERE active LIMIT 2",
									QualifiedTable("icp_profiles")));
	if (list_length(names) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no default icp profile"),
				 errdetail(names == NIL ? "There is no active profile." :
						   "Several profiles are active and none is marked as the default."),
				 errhint("Name the profile, as in icp_fit(account, 'name'), or mark one with UPDATE icp_profiles SET is_default = true WHERE name = 'name'.")));
	if (shared && generation == IcpProfileGeneration && TransactionIdIsValid(snap.xmin))
	{
		char	   *copy = MemoryContextStrdup(CacheMemoryContext, linitial(names));

		if (default_name)
			pfree(default_name);
		default_name = copy;
		TakeStamp(&default_stamp, generation, &snap);
	}
	return pstrdup(linitial(names));
}

/* Names of the active profiles, sorted byte-wise, in the caller's memory */
List *
IcpActiveProfileNames(void)
{
	List	   *names;
	ListCell   *lc;
	SnapKey		snap;
	uint64		generation;
	bool		shared;

	AcceptInvalidationMessages();
	shared = CacheServesRole();
	TakeSnapKey(&snap);
	if (shared && active_stamp.generation != 0 && StampServes(&active_stamp, &snap))
	{
		names = NIL;
		foreach(lc, active_names)
			names = lappend(names, pstrdup(lfirst(lc)));
		return names;
	}

	generation = IcpProfileGeneration;
	names = QueryNames(psprintf("SELECT name FROM %s WHERE active ORDER BY name COLLATE \"C\"",
								QualifiedTable("icp_profiles")));
	if (shared && generation == IcpProfileGeneration && TransactionIdIsValid(snap.xmin))
	{
		MemoryContext old = MemoryContextSwitchTo(CacheMemoryContext);
		List	   *copy = NIL;

		foreach(lc, names)
			copy = lappend(copy, pstrdup(lfirst(lc)));
		MemoryContextSwitchTo(old);
		list_free_deep(active_names);
		active_names = copy;
		TakeStamp(&active_stamp, generation, &snap);
	}
	return names;
}
