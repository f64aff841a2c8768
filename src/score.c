/*
 * score.c
 *		SQL entry points: icp_fit, icp_grade, icp_score, icp_explain and
 *		icp_profile.
 *
 * Every account function exists for record and jsonb, and takes no profile
 * (the default one), a profile name, or an icp_profile value.  A call site
 * (fn_extra) pins the compiled profile for the statement and remembers the
 * binding for the last row type, so a row costs one deform and the rules.
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
#include "utils/typcache.h"

#include "bind.h"
#include "score.h"

#define VALUE_CACHE_SIZE 4

PG_FUNCTION_INFO_V1(icp_profile_by_name);
PG_FUNCTION_INFO_V1(icp_profile_by_name_literal);

/* Release the pinned profile when the call site's memory goes away */
static void
CallSiteReset(void *arg)
{
	IcpCallSite *cs = (IcpCallSite *) arg;

	if (cs->pinned)
		IcpReleaseProfile(cs->pinned);
	cs->pinned = NULL;
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
		cs->cb.func = CallSiteReset;
		cs->cb.arg = cs;
		MemoryContextRegisterResetCallback(cs->mcxt, &cs->cb);
		cs->name_stable = get_fn_expr_arg_stable(fcinfo->flinfo, 1);
		fcinfo->flinfo->fn_extra = cs;
	}
	return cs;
}

/* Compiled profile for a profile name (NULL: the default profile) */
IcpCompiled *
IcpCallSiteProfileByName(IcpCallSite *cs, text *name)
{
	char	   *cname;

	if (cs->pinned != NULL)
	{
		if (name == NULL)
		{
			if (cs->by_default)
				return cs->pinned;
		}
		else if (!cs->by_default &&
				 ((cs->name_stable && name == cs->name_arg) ||
				  (VARSIZE_ANY_EXHDR(name) == cs->name_len &&
				   memcmp(VARDATA_ANY(name), cs->pinned->name, cs->name_len) == 0)))
		{
			/*
			 * a constant name arrives at the same address on every row; a
			 * computed one may reuse an address with other contents
			 */
			cs->name_arg = name;
			return cs->pinned;
		}
		IcpReleaseProfile(cs->pinned);
		cs->pinned = NULL;
	}
	cname = name ? text_to_cstring(name) : IcpDefaultProfileName();
	cs->pinned = IcpAcquireProfileByName(cname, false);
	cs->by_default = (name == NULL);
	cs->name_arg = name;
	cs->name_len = strlen(cs->pinned->name);
	return cs->pinned;
}

/* Compiled profile for an icp_profile value, cached per call site by value */
IcpCompiled *
IcpCallSiteProfileByValue(IcpCallSite *cs, IcpProfile *value)
{
	Size		len = VARSIZE_ANY_EXHDR(value);
	IcpProfile *flat;
	int			i;

	for (i = 0; i < VALUE_CACHE_SIZE; i++)
	{
		IcpCompiled *cp = cs->values[i];

		if (cp && VARSIZE_ANY_EXHDR(cp->value) == len &&
			memcmp(VARDATA_ANY(cp->value), VARDATA_ANY(value), len) == 0)
			return cp;
	}
	/* a new value: compile it, evicting the oldest */
	i = cs->next_value;
	cs->next_value = (i + 1) % VALUE_CACHE_SIZE;
	if (cs->values[i])
	{
		if (cs->bound_cp == cs->values[i])
			cs->bound_cp = NULL;
		MemoryContextDelete(cs->values[i]->cxt);
		cs->values[i] = NULL;
	}
	/* store with a 4-byte header so later comparisons are simple */
	flat = (IcpProfile *) palloc(len + VARHDRSZ);
	SET_VARSIZE(flat, len + VARHDRSZ);
	memcpy(VARDATA(flat), VARDATA_ANY(value), len);
	cs->values[i] = IcpCompileProfile(flat, cs->mcxt);
	pfree(flat);
	return cs->values[i];
}

/* Error context: which profile was being scored */
static void
ScoringErrorCallback(void *arg)
{
	IcpCompiled *cp = (IcpCompiled *) arg;
	IcpCriterion *c;

	if (cp->current < 0 || cp->current >= cp->ncriteria)
	{
		errcontext("scoring with icp profile \"%s\"", cp->name ? cp->name : "(value)");
		return;
	}
	c = &cp->criteria[cp->current];
	if (c->id != 0)
		errcontext("scoring with icp profile \"%s\", criterion %lld (%s)",
				   cp->name ? cp->name : "(value)", (long long) c->id, c->rule_text);
	else
		errcontext("scoring with icp profile \"%s\", criterion %d (%s)",
				   cp->name ? cp->name : "(value)", cp->current + 1, c->rule_text);
}

/* Score a row (record) account against a compiled profile */
IcpBinding *
IcpScoreRecord(IcpCallSite *cs, IcpCompiled *cp, HeapTupleHeader th,
			   IcpResult *res, IcpTri *outcomes)
{
	Oid			typid = HeapTupleHeaderGetTypeId(th);
	int32		typmod = HeapTupleHeaderGetTypMod(th);
	HeapTupleData tuple;
	IcpBinding *b;
	IcpAccount	acc;
	ErrorContextCallback errcb;

	if (cs->bound_cp != cp || cs->typid != typid || cs->typmod != typmod ||
		cs->binding == NULL || cs->binding->is_jsonb)
	{
		cs->binding = IcpBindRowType(cp, typid, typmod);
		cs->bound_cp = cp;
		cs->typid = typid;
		cs->typmod = typmod;
	}
	b = cs->binding;

	errcb.callback = ScoringErrorCallback;
	errcb.arg = cp;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	IcpAccountFromRecord(&acc, &tuple, th, b->slot, b->tupdesc, b->natts_needed);
	IcpScoreAccount(cp, b, &acc, res, outcomes);
	if (outcomes == NULL)
		ExecClearTuple(b->slot);

	error_context_stack = errcb.previous;
	return b;
}

/* Score a jsonb account against a compiled profile */
IcpBinding *
IcpScoreJsonb(IcpCallSite *cs, IcpCompiled *cp, Jsonb *jb, IcpResult *res,
			  IcpTri *outcomes, IcpAccount *acc_out)
{
	IcpBinding *b;
	IcpAccount	acc;
	ErrorContextCallback errcb;

	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a jsonb account must be a JSON object"),
				 errhint("Pass an object whose keys are the attributes, such as {\"employees\": 120}.")));
	if (cs->bound_cp != cp || cs->binding == NULL || !cs->binding->is_jsonb)
	{
		cs->binding = IcpBindJsonb(cp);
		cs->bound_cp = cp;
		cs->typid = JSONBOID;
		cs->typmod = -1;
	}
	b = cs->binding;

	errcb.callback = ScoringErrorCallback;
	errcb.arg = cp;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	acc.values = NULL;
	acc.isnull = NULL;
	acc.tupdesc = NULL;
	acc.json = &jb->root;
	IcpScoreAccount(cp, b, &acc, res, outcomes);
	if (acc_out)
		*acc_out = acc;

	error_context_stack = errcb.previous;
	return b;
}

/* The compiled profile an entry point was asked for */
static IcpCompiled *
ProfileArg(FunctionCallInfo fcinfo, IcpCallSite *cs, IcpProfileArg kind)
{
	switch (kind)
	{
		case ICP_ARG_DEFAULT:
			return IcpCallSiteProfileByName(cs, NULL);
		case ICP_ARG_NAME:
			return IcpCallSiteProfileByName(cs, PG_GETARG_TEXT_PP(1));
		default:
			return IcpCallSiteProfileByValue(cs, PG_GETARG_ICPPROFILE_P(1));
	}
}

/* Score the account argument of an entry point */
static IcpCompiled *
ScoreArgs(FunctionCallInfo fcinfo, IcpProfileArg kind, bool jsonb, IcpResult *res)
{
	IcpCallSite *cs = IcpGetCallSite(fcinfo);
	IcpCompiled *cp = ProfileArg(fcinfo, cs, kind);

	if (jsonb)
		IcpScoreJsonb(cs, cp, PG_GETARG_JSONB_P(0), res, NULL, NULL);
	else
		IcpScoreRecord(cs, cp, PG_GETARG_HEAPTUPLEHEADER(0), res, NULL);
	return cp;
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
	IcpBinding *b;
	IcpResult	res;
	IcpTri	   *outcomes;
	IcpAccount	acc;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	cs = IcpGetCallSite(fcinfo);
	cp = ProfileArg(fcinfo, cs, kind);
	outcomes = palloc(sizeof(IcpTri) * Max(cp->ncriteria, 1));
	if (jsonb)
		b = IcpScoreJsonb(cs, cp, PG_GETARG_JSONB_P(0), &res, outcomes, &acc);
	else
	{
		b = IcpScoreRecord(cs, cp, PG_GETARG_HEAPTUPLEHEADER(0), &res, outcomes);
		acc.values = b->slot->tts_values;
		acc.isnull = b->slot->tts_isnull;
		acc.tupdesc = b->tupdesc;
		acc.json = NULL;
	}

	for (i = 0; i < cp->ncriteria; i++)
	{
		IcpCriterion *c = &cp->criteria[i];
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};
		StringInfoData vals;

		if (c->id != 0)
			values[0] = Int64GetDatum(c->id);
		else
			values[0] = Int64GetDatum(i + 1);
		values[1] = PointerGetDatum(IcpSerializeRule(c->rule));
		values[2] = Float8GetDatum(c->weight);
		values[3] = BoolGetDatum(c->required);
		values[4] = CStringGetTextDatum(outcomes[i] == ICP_TRUE ? "match" :
										outcomes[i] == ICP_FALSE ? "miss" : "unknown");
		values[5] = Float8GetDatum(outcomes[i] == ICP_TRUE ? c->weight : 0);
		initStringInfo(&vals);
		IcpDescribeValues(&vals, b, b->rules[i], &acc);
		values[6] = CStringGetTextDatum(vals.data);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	if (!jsonb)
		ExecClearTuple(b->slot);
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

/*
 * Check that a hand-made icp_*_columns call has the shape support.c builds,
 * so that no argument is read as a type it is not.
 */
static void
CheckColumnsCall(FunctionCallInfo fcinfo, IcpBinding *b)
{
	FmgrInfo   *fl = fcinfo->flinfo;
	int			i;

	if (get_fn_expr_argtype(fl, 0) != INT4OID ||
		get_fn_expr_argtype(fl, 2) != REGTYPEOID ||
		get_fn_expr_argtype(fl, 3) != TIDOID ||
		PG_NARGS() - 4 != b->tupdesc->natts)
		goto bad;
	for (i = 0; i < b->tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(b->tupdesc, i);

		if (!att->attisdropped &&
			get_fn_expr_argtype(fl, 4 + i) != att->atttypid)
			goto bad;
	}
	return;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid call of an internal icp scoring function"),
			 errhint("Call icp_fit, icp_grade or icp_score with a whole row instead.")));
}

/*
 * Score the columns of a table row passed one by one, as a call rewritten
 * by the planner support function passes them (support.c).  Returns NULL
 * when the result is NULL.
 */
static IcpCompiled *
ScoreColumns(FunctionCallInfo fcinfo, IcpResult *res)
{
	IcpCallSite *cs;
	IcpCompiled *cp;
	IcpBinding *b;
	IcpAccount	acc;
	IcpProfileArg kind;
	Oid			typid;
	ErrorContextCallback errcb;
	int			i;

	if (PG_NARGS() < 4 || PG_ARGISNULL(0) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid call of an internal icp scoring function")));
	kind = (IcpProfileArg) PG_GETARG_INT32(0);
	typid = PG_GETARG_OID(2);
	if (kind != ICP_ARG_DEFAULT && kind != ICP_ARG_NAME && kind != ICP_ARG_VALUE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid call of an internal icp scoring function")));
	if (PG_ARGISNULL(3) || (kind != ICP_ARG_DEFAULT && PG_ARGISNULL(1)))
		return NULL;

	cs = IcpGetCallSite(fcinfo);
	if (kind == ICP_ARG_DEFAULT)
		cp = IcpCallSiteProfileByName(cs, NULL);
	else if (kind == ICP_ARG_NAME)
		cp = IcpCallSiteProfileByName(cs, PG_GETARG_TEXT_PP(1));
	else
		cp = IcpCallSiteProfileByValue(cs, PG_GETARG_ICPPROFILE_P(1));

	if (cs->bound_cp != cp || cs->typid != typid || cs->typmod != -1 ||
		cs->binding == NULL || cs->binding->is_jsonb)
	{
		if (get_typ_typrelid(typid) == InvalidOid)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid call of an internal icp scoring function")));
		cs->binding = IcpBindRowType(cp, typid, -1);
		CheckColumnsCall(fcinfo, cs->binding);
		cs->bound_cp = cp;
		cs->typid = typid;
		cs->typmod = -1;
	}
	b = cs->binding;

	for (i = 0; i < b->nreadcols; i++)
	{
		int			att = b->readcols[i];

		b->colvalues[att] = fcinfo->args[4 + att].value;
		b->colnulls[att] = fcinfo->args[4 + att].isnull;
	}
	acc.values = b->colvalues;
	acc.isnull = b->colnulls;
	acc.tupdesc = b->tupdesc;
	acc.json = NULL;

	errcb.callback = ScoringErrorCallback;
	errcb.arg = cp;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	IcpScoreAccount(cp, b, &acc, res, NULL);
	error_context_stack = errcb.previous;
	return cp;
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

/* The current value of a stored profile, copied out of the cache */
static Datum
ProfileValueByName(const char *name)
{
	IcpCompiled *cp = IcpAcquireProfileByName(name, false);
	IcpProfile *copy = (IcpProfile *) palloc(VARSIZE_ANY(cp->value));

	memcpy(copy, cp->value, VARSIZE_ANY(cp->value));
	IcpReleaseProfile(cp);
	PG_RETURN_POINTER(copy);
}

/* icp_profile(name text): the current value of a stored profile */
Datum
icp_profile_by_name(PG_FUNCTION_ARGS)
{
	return ProfileValueByName(text_to_cstring(PG_GETARG_TEXT_PP(0)));
}

/*
 * icp_profile('literal'): the same for an untyped literal, which the parser
 * would otherwise read as a cast to the type icp_profile
 */
Datum
icp_profile_by_name_literal(PG_FUNCTION_ARGS)
{
	return ProfileValueByName(PG_GETARG_CSTRING(0));
}
