/*
 * profile_cache.c
 *		Invalidation of compiled profiles.
 *
 * Compiled profiles live in backend-local caches.  A statement-level trigger
 * on icp_profiles and icp_criteria (icp_profiles_changed) queues a relcache
 * invalidation for the profile table; PostgreSQL delivers it to this backend
 * at the next command (own edits) and to every other backend after commit.
 * The callback only bumps a generation counter; caches compare it and rebuild
 * lazily.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "utils/fmgroids.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "icp.h"
#include "profile.h"

/* Bumped whenever a profile may have changed; 0 is never a valid value */
uint64		IcpProfileGeneration = 1;

/* OIDs of the profile tables, learnt when a profile is first read */
Oid			IcpProfilesRelid = InvalidOid;
Oid			IcpCriteriaRelid = InvalidOid;

/* Relcache callback: any change to a profile table invalidates every cache */
static void
IcpRelcacheCallback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == IcpProfilesRelid ||
		relid == IcpCriteriaRelid)
		IcpProfileGeneration++;
}

/* Register the relcache callback once per backend */
void
IcpProfileCacheInit(void)
{
	CacheRegisterRelcacheCallback(IcpRelcacheCallback, (Datum) 0);
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
	return PointerGetDatum(NULL);
}

/* A compiled profile cached by name */
typedef struct CacheEntry
{
	struct CacheEntry *next;
	uint64		generation;		/* IcpProfileGeneration when loaded */
	int			refcount;		/* call sites using it right now */
	bool		orphan;			/* stale and unlinked: free at refcount 0 */
	IcpCompiled *cp;
} CacheEntry;

static CacheEntry *cache_head = NULL;
static CacheEntry *orphan_head = NULL;	/* stale entries still in use */
static MemoryContext cache_cxt = NULL;

/* default profile name, and the active profiles, as of a generation */
static uint64 default_generation = 0;
static char *default_name = NULL;
static uint64 active_generation = 0;
static List *active_names = NIL;

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

/* Schema-qualified name of one of the extension's tables, for SPI queries */
static char *
QualifiedTable(const char *table)
{
	Oid			nsp = IcpExtensionSchema();
	char	   *nspname = get_namespace_name(nsp);

	IcpProfilesRelid = get_relname_relid("icp_profiles", nsp);
	IcpCriteriaRelid = get_relname_relid("icp_criteria", nsp);
	return psprintf("%s.%s", quote_identifier(nspname), quote_identifier(table));
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

		deconstruct_array(tarr, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
						  &telems, NULL, &nt);
		for (i = 0; i < 3; i++)
			thresholds[i] = i < nt ? DatumGetFloat8(telems[i]) : 0;

		query = psprintf("SELECT id, rule, weight, required FROM %s "
						 "WHERE profile OPERATOR(pg_catalog.=) $1 ORDER BY id",
						 QualifiedTable("icp_criteria"));
		ret = SPI_execute_with_args(query, 1, argtypes, args, NULL, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
		n = (int) SPI_processed;
		ids = palloc(sizeof(int64) * Max(n, 1));
		weights = palloc(sizeof(double) * Max(n, 1));
		required = palloc(sizeof(bool) * Max(n, 1));
		rules = palloc(sizeof(IcpRule *) * Max(n, 1));
		td = SPI_tuptable->tupdesc;
		for (i = 0; i < n; i++)
		{
			tup = SPI_tuptable->vals[i];
			ids[i] = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
			rules[i] = DatumGetIcpRuleP(SPI_getbinval(tup, td, 2, &isnull));
			weights[i] = DatumGetFloat8(SPI_getbinval(tup, td, 3, &isnull));
			required[i] = DatumGetBool(SPI_getbinval(tup, td, 4, &isnull));
		}
		{
			MemoryContext spi = MemoryContextSwitchTo(caller);

			result = IcpBuildProfile(name,
									 SettingValue(kind, "exclude") ? ICP_KIND_EXCLUDE : ICP_KIND_IDEAL,
									 SettingValue(model, "logistic") ? ICP_MODEL_LOGISTIC : ICP_MODEL_POINTS,
									 SettingValue(missing, "penalize") ? ICP_MISSING_PENALIZE : ICP_MISSING_IGNORE,
									 bias, thresholds, n, ids, weights, required, rules);
			MemoryContextSwitchTo(spi);
		}
		if (active)
			*active = is_active;
	}
	SPI_finish();
	return result;
}

/* Free an entry's compiled profile */
static void
FreeEntry(CacheEntry *entry)
{
	MemoryContextDelete(entry->cp->cxt);
	pfree(entry);
}

/*
 * A compiled profile for a stored profile, pinned until IcpReleaseProfile.
 * Compiled once per backend and reused until a change to the profile tables
 * is committed (or made by this session).
 */
IcpCompiled *
IcpAcquireProfileByName(const char *name, bool missing_ok)
{
	CacheEntry **prev;
	CacheEntry *entry;
	uint64		generation;
	IcpProfile *value;
	bool		active = true;

	AcceptInvalidationMessages();
	for (prev = &cache_head; (entry = *prev) != NULL; prev = &entry->next)
	{
		if (strcmp(entry->cp->name, name) != 0)
			continue;
		if (entry->generation == IcpProfileGeneration)
		{
			entry->refcount++;
			return entry->cp;
		}
		/* stale: unlink, free now or when its last user lets go */
		*prev = entry->next;
		if (entry->refcount == 0)
			FreeEntry(entry);
		else
		{
			entry->orphan = true;
			entry->next = orphan_head;
			orphan_head = entry;
		}
		break;
	}

	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(CacheMemoryContext, "icp profile cache",
										  ALLOCSET_DEFAULT_SIZES);
	generation = IcpProfileGeneration;
	value = IcpLoadProfileValue(name, missing_ok, &active);
	if (value == NULL)
		return NULL;
	entry = MemoryContextAllocZero(cache_cxt, sizeof(CacheEntry));
	entry->cp = IcpCompileProfile(value, cache_cxt);
	entry->cp->active = active;
	entry->generation = generation;
	entry->refcount = 1;
	entry->next = cache_head;
	cache_head = entry;
	return entry->cp;
}

/* Unpin a profile from IcpAcquireProfileByName */
void
IcpReleaseProfile(IcpCompiled *cp)
{
	CacheEntry **prev;
	CacheEntry *entry;

	for (entry = cache_head; entry != NULL; entry = entry->next)
	{
		if (entry->cp == cp)
		{
			if (entry->refcount > 0)
				entry->refcount--;
			return;
		}
	}
	for (prev = &orphan_head; (entry = *prev) != NULL; prev = &entry->next)
	{
		if (entry->cp == cp)
		{
			if (--entry->refcount <= 0)
			{
				*prev = entry->next;
				FreeEntry(entry);
			}
			return;
		}
	}
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

/*
 * The profile used when none is named: the is_default one, else the only
 * active one, else an error with a hint.
 */
char *
IcpDefaultProfileName(void)
{
	List	   *names;

	AcceptInvalidationMessages();
	if (default_name != NULL && default_generation == IcpProfileGeneration)
		return default_name;

	default_generation = IcpProfileGeneration;
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
	if (default_name)
		pfree(default_name);
	default_name = MemoryContextStrdup(TopMemoryContext, linitial(names));
	return default_name;
}

/* Names of the active profiles, sorted, as of the current generation */
List *
IcpActiveProfileNames(void)
{
	List	   *names;
	ListCell   *lc;
	MemoryContext old;

	AcceptInvalidationMessages();
	if (active_generation == IcpProfileGeneration && active_generation != 0)
		return active_names;
	active_generation = IcpProfileGeneration;
	names = QueryNames(psprintf("SELECT name FROM %s WHERE active ORDER BY name COLLATE \"C\"",
								QualifiedTable("icp_profiles")));
	list_free_deep(active_names);
	active_names = NIL;
	old = MemoryContextSwitchTo(TopMemoryContext);
	foreach(lc, names)
		active_names = lappend(active_names, pstrdup(lfirst(lc)));
	MemoryContextSwitchTo(old);
	return active_names;
}
