/*
 * score.c
 *		SQL entry points: icp_fit, icp_grade, icp_score, icp_explain and
 *		icp_profile, and the call sites they share with batch.c.
 *
 * Every account function exists for record and jsonb, and takes no profile
 * (the default one), a profile name, or an icp_profile value.  A call site
 * (fn_extra) pins the compiled profile and its binding while it uses them,
 * reads accounts with its own row reader (account.h), and checks on every
 * call that nothing that could change the answer changed: the catalogs and
 * profile tables, the role, the snapshot, the session settings, the name or
 * value asked for.  Only then does it skip the cache; otherwise the cache
 * (profile_cache.c) answers, re-checking privileges and snapshots.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "bind.h"
#include "score.h"

PG_FUNCTION_INFO_V1(icp_profile_by_name);
PG_FUNCTION_INFO_V1(icp_profile_by_name_literal);

/* Let go of every pin when the call site's memory goes away */
static void
CallSiteReset(void *arg)
{
	IcpCallSite *cs = (IcpCallSite *) arg;
	int			i;

	cs->key.valid = false;
	IcpRunRelease(&cs->run);
	for (i = 0; i < ICP_VALUE_CACHE_SIZE; i++)
	{
		IcpUnpinProfile(cs->values[i]);
		cs->values[i] = NULL;
	}
}

/* The call site of this function invocation, created on first use */
IcpCallSite *
IcpGetCallSite(FunctionCallInfo fcinfo)
{
	IcpCallSite *cs = (IcpCallSite *) fcinfo->flinfo->fn_extra;

	if (cs == NULL)
	{
		cs = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(IcpCallSite));
		cs->mcxt = fcinfo->flinfo->fn_mcxt;
		IcpRunInit(&cs->run, cs->mcxt);
		cs->cb.func = CallSiteReset;
		cs->cb.arg = cs;
		MemoryContextRegisterResetCallback(cs->mcxt, &cs->cb);
		fcinfo->flinfo->fn_extra = cs;
	}
	return cs;
}

/* Whether a profile value has the bytes of a compiled one's value */
static bool
SameValue(IcpCompiled *cp, IcpProfile *value)
{
	Size		len = VARSIZE_ANY_EXHDR(value);

	return cp != NULL && VARSIZE_ANY_EXHDR(cp->value) == len &&
		memcmp(VARDATA_ANY(cp->value), VARDATA_ANY(value), len) == 0;
}

/* Compiled profile for an icp_profile value, cached per call site by value */
static IcpCompiled *
ValueProfile(IcpCallSite *cs, IcpProfile *value)
{
	Size		len = VARSIZE_ANY_EXHDR(value);
	IcpProfile *flat;
	int			i;

	for (i = 0; i < ICP_VALUE_CACHE_SIZE; i++)
		if (SameValue(cs->values[i], value))
			return cs->values[i];
	/* a new value: compile it, evicting the oldest (a run keeps its own pin) */
	i = cs->next_value;
	cs->next_value = (i + 1) % ICP_VALUE_CACHE_SIZE;
	IcpUnpinProfile(cs->values[i]);
	cs->values[i] = NULL;
	/* store with a 4-byte header so later comparisons are simple */
	flat = (IcpProfile *) palloc(len + VARHDRSZ);
	SET_VARSIZE(flat, len + VARHDRSZ);
	memcpy(VARDATA(flat), VARDATA_ANY(value), len);
	cs->values[i] = IcpNewCompiled(flat);
	pfree(flat);
	return cs->values[i];
}

/* Whether the run's binding is for this row type (InvalidOid: jsonb) */
static inline bool
RunFitsType(IcpRun *run, Oid typid, int32 typmod)
{
	IcpBinding *b = run->b;

	if (b == NULL)
		return false;
	if (!OidIsValid(typid))
		return b->is_jsonb;
	return !b->is_jsonb && b->typid == typid && b->typmod == typmod;
}

/* Whether the call site's run answers for this profile argument */
static inline bool
RunFitsProfile(IcpCallSite *cs, IcpProfileArg kind, void *arg)
{
	if (cs->kind != kind || cs->run.cp == NULL)
		return false;
	switch (kind)
	{
		case ICP_ARG_DEFAULT:
			return true;
		case ICP_ARG_NAME:
			{
				text	   *name = (text *) arg;

				return VARSIZE_ANY_EXHDR(name) == cs->name_len &&
					memcmp(VARDATA_ANY(name), cs->name, cs->name_len) == 0;
			}
		default:
			{
				IcpProfile *value = (IcpProfile *) arg;
				IcpCompiled *cp = cs->run.cp;
				Size		len = VARSIZE_ANY_EXHDR(value);

				return VARSIZE_ANY_EXHDR(cp->value) == len &&
					memcmp(VARDATA_ANY(cp->value), VARDATA_ANY(value), len) == 0;
			}
	}
}

/*
 * The run of a call site for a profile argument (arg: the name text, the
 * icp_profile value, or NULL for the default profile) and a row type
 * (InvalidOid: jsonb accounts), ready to score.  Cheap while nothing
 * changed; otherwise the profile and the binding are resolved again.
 */
IcpRun *
IcpCallSiteResolve(IcpCallSite *cs, IcpProfileArg kind, void *arg,
				   Oid typid, int32 typmod)
{
	IcpCompiled *cp;
	IcpBinding *b;
	uint64		generation;

	if (IcpUseKeyValid(&cs->key) && RunFitsType(&cs->run, typid, typmod) &&
		RunFitsProfile(cs, kind, arg))
		return &cs->run;

	cs->key.valid = false;
	generation = IcpUseKeyBegin();
	if (kind == ICP_ARG_VALUE)
	{
		cp = ValueProfile(cs, (IcpProfile *) arg);
		IcpPinProfile(cp);
	}
	else
	{
		char	   *name = kind == ICP_ARG_NAME ? text_to_cstring((text *) arg)
			: IcpDefaultProfileName();

		cp = IcpAcquireProfileByName(name, false);
		if (cs->name)
			pfree(cs->name);
		cs->name = NULL;
		if (kind == ICP_ARG_NAME)
		{
			cs->name_len = VARSIZE_ANY_EXHDR((text *) arg);
			cs->name = MemoryContextAlloc(cs->mcxt, cs->name_len + 1);
			memcpy(cs->name, VARDATA_ANY((text *) arg), cs->name_len);
			cs->name[cs->name_len] = '\0';
		}
	}

	PG_TRY();
	{
		b = IcpAcquireBinding(cp, typid, typmod);
	}
	PG_CATCH();
	{
		IcpUnpinProfile(cp);
		PG_RE_THROW();
	}
	PG_END_TRY();
	IcpRunSet(&cs->run, cp, b);
	cs->kind = kind;

	IcpReaderNeed(IcpReaderFor(&cs->reader, cs->mcxt, typid, typmod), b);
	IcpUseKeyTake(&cs->key, generation, b->deps);
	return &cs->run;
}

/*
 * Score a row (record) account.  When outcomes is given, *outcomes receives
 * each criterion's result, sized by the profile actually used.  When acc
 * is given the account is left to the caller (who calls IcpAccountDone),
 * else it is released here.
 */
IcpRun *
IcpScoreRecord(IcpCallSite *cs, IcpProfileArg kind, void *arg,
			   HeapTupleHeader th, IcpResult *res, IcpTri **outcomes,
			   IcpAccount *acc)
{
	IcpRun	   *run = IcpCallSiteResolve(cs, kind, arg,
										 HeapTupleHeaderGetTypeId(th),
										 HeapTupleHeaderGetTypMod(th));
	IcpAccount	local;
	ErrorContextCallback errcb;

	if (acc == NULL)
		acc = &local;
	errcb.callback = IcpScoringErrorCallback;
	errcb.arg = run;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	IcpAccountFromRecord(cs->reader, th, acc);
	if (outcomes)
		*outcomes = palloc(sizeof(IcpTri) * Max(run->cp->ncriteria, 1));
	IcpScoreAccount(run, acc, res, outcomes ? *outcomes : NULL);

	error_context_stack = errcb.previous;
	if (acc == &local)
		IcpAccountDone(cs->reader);
	return run;
}

/* Score a jsonb account; acc as for IcpScoreRecord */
IcpRun *
IcpScoreJsonb(IcpCallSite *cs, IcpProfileArg kind, void *arg, Jsonb *jb,
			  IcpResult *res, IcpTri **outcomes, IcpAccount *acc)
{
	IcpRun	   *run = IcpCallSiteResolve(cs, kind, arg, InvalidOid, -1);
	IcpAccount	local;
	ErrorContextCallback errcb;

	if (acc == NULL)
		acc = &local;
	IcpAccountFromJsonb(cs->reader, jb, acc);

	errcb.callback = IcpScoringErrorCallback;
	errcb.arg = run;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	if (outcomes)
		*outcomes = palloc(sizeof(IcpTri) * Max(run->cp->ncriteria, 1));
	IcpScoreAccount(run, acc, res, outcomes ? *outcomes : NULL);
	error_context_stack = errcb.previous;

	if (acc == &local)
		IcpAccountDone(cs->reader);
	return run;
}

/* The profile argument of an entry point (NULL for the default profile) */
static void *
ProfileArg(FunctionCallInfo fcinfo, IcpProfileArg kind)
{
	switch (kind)
	{
		case ICP_ARG_DEFAULT:
			return NULL;
		case ICP_ARG_NAME:
			return PG_GETARG_TEXT_PP(1);
		default:
			return PG_GETARG_ICPPROFILE_P(1);
	}
}

/* Score the account argument of an entry point */
static IcpCompiled *
ScoreArgs(FunctionCallInfo fcinfo, IcpProfileArg kind, bool jsonb, IcpResult *res)
{
	IcpCallSite *cs = IcpGetCallSite(fcinfo);
	void	   *arg = ProfileArg(fcinfo, kind);
	IcpRun	   *run;

	if (jsonb)
		run = IcpScoreJsonb(cs, kind, arg, PG_GETARG_JSONB_P(0), res, NULL, NULL);
	else
		run = IcpScoreRecord(cs, kind, arg, PG_GETARG_HEAPTUPLEHEADER(0), res,
							 NULL, NULL);
	return run->cp;
}

/* icp_fit: the fit 0-100, NULL when nothing counts */
static Datum
FitEntry(FunctionCallInfo fcinfo, IcpProfileArg kind, bool jsonb)
{
	IcpResult	res;

	ScoreArgs(fcinfo, kind, jsonb, &res);
	if (res.fit_null)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(res.fit);
}

/* icp_grade: A, B, C or D */
static Datum
GradeEntry(FunctionCallInfo fcinfo, IcpProfileArg kind, bool jsonb)
{
	IcpResult	res;

	ScoreArgs(fcinfo, kind, jsonb, &res);
	if (res.grade == 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(&res.grade, 1));
}

/* The icp_score_result of a score */
static Datum
ScoreResultDatum(FunctionCallInfo fcinfo, IcpCompiled *cp, IcpResult *res)
{
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("icp_score must be called in a context that accepts a record")));
	values[0] = Float8GetDatum(res->fit);
	nulls[0] = res->fit_null;
	if (res->grade)
		values[1] = PointerGetDatum(cstring_to_text_with_len(&res->grade, 1));
	else
		nulls[1] = true;
	values[2] = Float8GetDatum(res->coverage);
	nulls[2] = res->coverage_null;
	values[3] = BoolGetDatum(res->disqualified);
	if (cp->name)
		values[4] = CStringGetTextDatum(cp->name);
	else
		nulls[4] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/* icp_score: fit, grade, coverage, disqualified, profile */
static Datum
ScoreEntry(FunctionCallInfo fcinfo, IcpProfileArg kind, bool jsonb)
{
	IcpResult	res;
	IcpCompiled *cp = ScoreArgs(fcinfo, kind, jsonb, &res);

	return ScoreResultDatum(fcinfo, cp, &res);
}

/* icp_explain: one row per criterion */
static Datum
ExplainEntry(FunctionCallInfo fcinfo, IcpProfileArg kind, bool jsonb)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	IcpCallSite *cs;
	IcpCompiled *cp;
	IcpRun	   *run;
	IcpResult	res;
	IcpTri	   *outcomes;
	IcpAccount	acc;
	void	   *arg;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	cs = IcpGetCallSite(fcinfo);
	arg = ProfileArg(fcinfo, kind);
	if (jsonb)
		run = IcpScoreJsonb(cs, kind, arg, PG_GETARG_JSONB_P(0), &res, &outcomes, &acc);
	else
		run = IcpScoreRecord(cs, kind, arg, PG_GETARG_HEAPTUPLEHEADER(0), &res,
							 &outcomes, &acc);
	cp = run->cp;

	for (i = 0; i < cp->ncriteria; i++)
	{
		IcpCriterion *c = &cp->criteria[i];
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};
		StringInfoData vals;
		double		factor;

		if (c->id != 0)
			values[0] = Int64GetDatum(c->id);
		else
			values[0] = Int64GetDatum(i + 1);
		values[1] = PointerGetDatum(IcpSerializeRule(c->rule));
		values[2] = Float8GetDatum(c->weight);
		values[3] = BoolGetDatum(c->required);
		values[4] = CStringGetTextDatum(outcomes[i] == ICP_TRUE ? "match" :
										outcomes[i] == ICP_FALSE ? "miss" : "unknown");
		initStringInfo(&vals);
		IcpDescribeValues(&vals, run, run->b->rules[i], &acc);
		factor = 1.0;
		if (c->decays)
			IcpDescribeDecay(&vals, run, i, &acc, &factor);
		values[5] = Float8GetDatum(outcomes[i] == ICP_TRUE ? c->weight * factor : 0);
		values[6] = CStringGetTextDatum(vals.data);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	IcpAccountDone(cs->reader);
	return (Datum) 0;
}

/* Declare the 16 C symbols: output x account x profile argument */
#define ICP_ENTRY(sqlname, handler, kind, jsonb) \
	PG_FUNCTION_INFO_V1(sqlname); \
	Datum sqlname(PG_FUNCTION_ARGS) { return handler(fcinfo, kind, jsonb); }

ICP_ENTRY(icp_fit_record, FitEntry, PG_NARGS() == 1 ? ICP_ARG_DEFAULT : ICP_ARG_NAME, false)
ICP_ENTRY(icp_fit_record_value, FitEntry, ICP_ARG_VALUE, false)
ICP_ENTRY(icp_fit_jsonb, FitEntry, PG_NARGS() == 1 ? ICP_ARG_DEFAULT : ICP_ARG_NAME, true)
ICP_ENTRY(icp_fit_jsonb_value, FitEntry, ICP_ARG_VALUE, true)
ICP_ENTRY(icp_grade_record, GradeEntry, PG_NARGS() == 1 ? ICP_ARG_DEFAULT : ICP_ARG_NAME, false)
ICP_ENTRY(icp_grade_record_value, GradeEntry, ICP_ARG_VALUE, false)
ICP_ENTRY(icp_grade_jsonb, GradeEntry, PG_NARGS() == 1 ? ICP_ARG_DEFAULT : ICP_ARG_NAME, true)
ICP_ENTRY(icp_grade_jsonb_value, GradeEntry, ICP_ARG_VALUE, true)
ICP_ENTRY(icp_score_record, ScoreEntry, PG_NARGS() == 1 ? ICP_ARG_DEFAULT : ICP_ARG_NAME, false)
ICP_ENTRY(icp_score_record_value, ScoreEntry, ICP_ARG_VALUE, false)
ICP_ENTRY(icp_score_jsonb, ScoreEntry, PG_NARGS() == 1 ? ICP_ARG_DEFAULT : ICP_ARG_NAME, true)
ICP_ENTRY(icp_score_jsonb_value, ScoreEntry, ICP_ARG_VALUE, true)
ICP_ENTRY(icp_explain_record, ExplainEntry, PG_NARGS() == 1 ? ICP_ARG_DEFAULT : ICP_ARG_NAME, false)
ICP_ENTRY(icp_explain_record_value, ExplainEntry, ICP_ARG_VALUE, false)
ICP_ENTRY(icp_explain_jsonb, ExplainEntry, PG_NARGS() == 1 ? ICP_ARG_DEFAULT : ICP_ARG_NAME, true)
ICP_ENTRY(icp_explain_jsonb_value, ExplainEntry, ICP_ARG_VALUE, true)

/* Raise the error for a hand-made icp_*_columns call of the wrong shape */
static void
BadColumnsCall(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid call of an internal icp scoring function"),
			 errdetail("%s", detail),
			 errhint("Call icp_fit, icp_grade, icp_score or icp_segment with a whole row instead.")));
}

/* OID of the icp_profile type */
static Oid
IcpProfileTypeOid(void)
{
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
						   CStringGetDatum("icp_profile"),
						   ObjectIdGetDatum(IcpExtensionSchema()));
}

/*
 * Check that an icp_*_columns call has the shape support.c builds, before
 * any argument is read as a type it might not be: (kind int4, profile
 * (text, text[] for segments, or icp_profile), rowtype regtype, ctid tid,
 * then exactly one argument per column of the row type, of the column's
 * type).  Checked once per call site, row type and catalog generation;
 * returns the kind.  Anything else is an error, never a crash.
 */
IcpProfileArg
IcpCheckColumnsCall(FunctionCallInfo fcinfo, IcpColumnsCheck *chk, bool segment)
{
	FmgrInfo   *fl = fcinfo->flinfo;
	int			nargs = PG_NARGS();
	int32		kind;
	Oid			typid;
	Oid			argtype;
	TupleDesc	td;
	int			i;

	/*
	 * The argument types belong to the call's expression, which is fixed for
	 * this FmgrInfo (whose fn_extra holds chk): once checked, only the
	 * values of the kind and the row type can differ from row to row.
	 */
	if (chk->checked && chk->generation == IcpCatalogGeneration &&
		!PG_ARGISNULL(0) && !PG_ARGISNULL(2) &&
		PG_GETARG_INT32(0) == chk->kind && PG_GETARG_OID(2) == chk->typid)
		return (IcpProfileArg) chk->kind;

	if (fl == NULL || fl->fn_expr == NULL || nargs < ICP_COLUMNS_FIXED_ARGS)
		BadColumnsCall("The call has too few arguments.");
	if (get_fn_expr_variadic(fl))
		BadColumnsCall("The arguments must not be passed as a VARIADIC array.");
	if (get_fn_expr_argtype(fl, 0) != INT4OID ||
		get_fn_expr_argtype(fl, 2) != REGTYPEOID ||
		get_fn_expr_argtype(fl, 3) != TIDOID)
		BadColumnsCall("The first four arguments must be of types integer, any, regtype and tid.");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		BadColumnsCall("The kind and the row type must not be NULL.");
	kind = PG_GETARG_INT32(0);
	typid = PG_GETARG_OID(2);
	chk->checked = false;

	argtype = get_fn_expr_argtype(fl, 1);
	switch (kind)
	{
		case ICP_ARG_DEFAULT:
			break;
		case ICP_ARG_NAME:
			if (argtype != (segment ? TEXTARRAYOID : TEXTOID))
				BadColumnsCall(segment ? "The profiles must be a text[]." :
							   "The profile must be a text name.");
			break;
		case ICP_ARG_VALUE:
			if (segment || !OidIsValid(argtype) || argtype != IcpProfileTypeOid())
				BadColumnsCall("The profile must be an icp_profile value.");
			break;
		default:
			BadColumnsCall("The kind must be 0, 1 or 2.");
	}
	if (!OidIsValid(get_typ_typrelid(typid)))
		BadColumnsCall("The row type must be the type of a table.");
	td = lookup_rowtype_tupdesc(typid, -1);
	if (nargs - ICP_COLUMNS_FIXED_ARGS != td->natts)
	{
		ReleaseTupleDesc(td);
		BadColumnsCall("There must be one argument per column of the row type.");
	}
	for (i = 0; i < td->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(td, i);

		if (!att->attisdropped &&
			get_fn_expr_argtype(fl, ICP_COLUMNS_FIXED_ARGS + i) != att->atttypid)
		{
			ReleaseTupleDesc(td);
			BadColumnsCall("An argument does not have the type of its column.");
		}
	}
	ReleaseTupleDesc(td);
	chk->checked = true;
	chk->generation = IcpCatalogGeneration;
	chk->typid = typid;
	chk->kind = kind;
	return (IcpProfileArg) kind;
}

/*
 * Score the columns of a table row passed one by one, as a call rewritten
 * by the planner support function passes them (support.c).  Returns NULL
 * when the result is NULL.
 */
static IcpCompiled *
ScoreColumns(FunctionCallInfo fcinfo, IcpResult *res)
{
	IcpCallSite *cs = IcpGetCallSite(fcinfo);
	IcpProfileArg kind = IcpCheckColumnsCall(fcinfo, &cs->cols, false);
	IcpRun	   *run;
	IcpAccount	acc;
	ErrorContextCallback errcb;

	if (PG_ARGISNULL(3) || (kind != ICP_ARG_DEFAULT && PG_ARGISNULL(1)))
		return NULL;
	run = IcpCallSiteResolve(cs, kind, ProfileArg(fcinfo, kind),
							 PG_GETARG_OID(2), -1);

	errcb.callback = IcpScoringErrorCallback;
	errcb.arg = run;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	IcpAccountFromArgs(cs->reader, fcinfo, ICP_COLUMNS_FIXED_ARGS, &acc);
	IcpScoreAccount(run, &acc, res, NULL);
	error_context_stack = errcb.previous;
	IcpAccountDone(cs->reader);
	return run->cp;
}

PG_FUNCTION_INFO_V1(icp_fit_columns);
PG_FUNCTION_INFO_V1(icp_grade_columns);
PG_FUNCTION_INFO_V1(icp_score_columns);

/* icp_fit on a table row's columns (planner rewrite of icp_fit) */
Datum
icp_fit_columns(PG_FUNCTION_ARGS)
{
	IcpResult	res;

	if (ScoreColumns(fcinfo, &res) == NULL || res.fit_null)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(res.fit);
}

/* icp_grade on a table row's columns (planner rewrite of icp_grade) */
Datum
icp_grade_columns(PG_FUNCTION_ARGS)
{
	IcpResult	res;

	if (ScoreColumns(fcinfo, &res) == NULL || res.grade == 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(&res.grade, 1));
}

/* icp_score on a table row's columns (planner rewrite of icp_score) */
Datum
icp_score_columns(PG_FUNCTION_ARGS)
{
	IcpResult	res;
	IcpCompiled *cp = ScoreColumns(fcinfo, &res);

	if (cp == NULL)
		PG_RETURN_NULL();
	return ScoreResultDatum(fcinfo, cp, &res);
}

/*
 * State of an icp_profile(name) call site: the profile last returned,
 * pinned, and what it was resolved under, so that a call repeated for every
 * row (the planner does not fold a STABLE function) costs a copy, not a
 * cache lookup with its privilege checks.
 */
typedef struct ProfileSite
{
	MemoryContextCallback cb;
	IcpUseKey	key;
	char	   *name;
	IcpCompiled *cp;
} ProfileSite;

/* Let go of the pinned profile when the call site's memory goes away */
static void
ProfileSiteReset(void *arg)
{
	ProfileSite *ps = (ProfileSite *) arg;

	ps->key.valid = false;
	IcpUnpinProfile(ps->cp);
	ps->cp = NULL;
}

/* The current value of a stored profile, copied out of the cache */
static Datum
ProfileValueByName(FunctionCallInfo fcinfo, const char *name)
{
	ProfileSite *ps = (ProfileSite *) fcinfo->flinfo->fn_extra;
	IcpProfile *copy;

	if (ps == NULL)
	{
		ps = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ProfileSite));
		ps->cb.func = ProfileSiteReset;
		ps->cb.arg = ps;
		MemoryContextRegisterResetCallback(fcinfo->flinfo->fn_mcxt, &ps->cb);
		fcinfo->flinfo->fn_extra = ps;
	}
	if (ps->cp == NULL || !IcpUseKeyValid(&ps->key) || strcmp(ps->name, name) != 0)
	{
		uint64		generation;
		IcpCompiled *cp;

		ps->key.valid = false;
		generation = IcpUseKeyBegin();
		cp = IcpAcquireProfileByName(name, false);
		IcpUnpinProfile(ps->cp);
		ps->cp = cp;
		if (ps->name)
			pfree(ps->name);
		ps->name = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, name);
		IcpUseKeyTake(&ps->key, generation, 0);
	}
	copy = (IcpProfile *) palloc(VARSIZE_ANY(ps->cp->value));
	memcpy(copy, ps->cp->value, VARSIZE_ANY(ps->cp->value));
	PG_RETURN_POINTER(copy);
}

/* icp_profile(name text): the current value of a stored profile */
Datum
icp_profile_by_name(PG_FUNCTION_ARGS)
{
	return ProfileValueByName(fcinfo, text_to_cstring(PG_GETARG_TEXT_PP(0)));
}

/*
 * icp_profile('literal'): the same for an untyped literal, which the parser
 * would otherwise read as a cast to the type icp_profile
 */
Datum
icp_profile_by_name_literal(PG_FUNCTION_ARGS)
{
	return ProfileValueByName(fcinfo, PG_GETARG_CSTRING(0));
}
