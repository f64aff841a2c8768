/*
 * segment.c
 *		icp_segment: which profile an account belongs to.
 *
 * DESIGN.md section 5: a profile matches an account when its grade is A, B
 * or C.  The result is the matching exclude profile with the highest fit,
 * else the matching ideal profile with the highest fit, else NULL; ties go
 * to the name that sorts first byte-wise (C collation).  Without a list of
 * names only active profiles take part; named profiles take part whether
 * active or not.  The candidate profiles are pinned once per call site and
 * scored in one pass over each account: one deform, then the rules of every
 * profile; ideal profiles are not scored at all once an exclude one matched.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "score.h"

PG_FUNCTION_INFO_V1(icp_segment_record);
PG_FUNCTION_INFO_V1(icp_segment_jsonb);
PG_FUNCTION_INFO_V1(icp_segment_columns);

/* Release the pinned profiles when the segment's memory goes away */
static void
SegmentReset(void *arg)
{
	IcpSegment *seg = (IcpSegment *) arg;
	int			i;

	for (i = 0; i < seg->nprofiles; i++)
		IcpReleaseProfile(seg->profiles[i]);
	seg->nprofiles = 0;
}

/* qsort comparator: exclude profiles first, then by name (C collation) */
static int
CmpProfiles(const void *a, const void *b)
{
	const IcpCompiled *x = *(IcpCompiled *const *) a;
	const IcpCompiled *y = *(IcpCompiled *const *) b;

	if (x->kind != y->kind)
		return x->kind == ICP_KIND_EXCLUDE ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* qsort comparator for C strings, byte-wise */
static int
CmpNames(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Pin the candidate profiles: the named ones (names not NULL), else every
 * active profile.  The returned state lives in a child of mcxt; deleting or
 * resetting mcxt unpins the profiles.
 */
IcpSegment *
IcpSegmentCreate(MemoryContext mcxt, ArrayType *names)
{
	MemoryContext cxt = AllocSetContextCreate(mcxt, "icp segment",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	IcpSegment *seg = palloc0(sizeof(IcpSegment));
	char	  **cand;
	int			ncand = 0;
	int			i;

	seg->mcxt = cxt;
	seg->cb.func = SegmentReset;
	seg->cb.arg = seg;
	MemoryContextRegisterResetCallback(cxt, &seg->cb);

	if (names == NULL)
	{
		List	   *active = IcpActiveProfileNames();
		ListCell   *lc;

		seg->by_active = true;
		cand = palloc(sizeof(char *) * Max(list_length(active), 1));
		foreach(lc, active)
			cand[ncand++] = pstrdup(lfirst(lc));
	}
	else
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		if (ARR_NDIM(names) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("the profiles of icp_segment must be a one-dimensional array")));
		seg->names = (struct varlena *) palloc(VARSIZE(names));
		memcpy(seg->names, names, VARSIZE(names));
		deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &nulls, &n);
		cand = palloc(sizeof(char *) * Max(n, 1));
		for (i = 0; i < n; i++)
		{
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("the profiles of icp_segment must not contain NULL")));
			cand[ncand++] = TextDatumGetCString(elems[i]);
		}
		/* a name given twice takes part once */
		qsort(cand, ncand, sizeof(char *), CmpNames);
		n = 0;
		for (i = 0; i < ncand; i++)
			if (n == 0 || strcmp(cand[n - 1], cand[i]) != 0)
				cand[n++] = cand[i];
		ncand = n;
	}

	seg->profiles = palloc0(sizeof(IcpCompiled *) * Max(ncand, 1));
	seg->bindings = palloc0(sizeof(IcpBinding *) * Max(ncand, 1));
	for (i = 0; i < ncand; i++)
	{
		IcpCompiled *cp = IcpAcquireProfileByName(cand[i], true);

		/* an active profile deleted meanwhile simply takes no part */
		if (cp == NULL && seg->by_active)
			continue;
		if (cp == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("icp profile \"%s\" does not exist", cand[i]),
					 errhint("icp_segment takes the names of rows of icp_profiles.")));
		seg->profiles[seg->nprofiles++] = cp;
	}
	qsort(seg->profiles, seg->nprofiles, sizeof(IcpCompiled *), CmpProfiles);
	MemoryContextSwitchTo(old);
	return seg;
}

/* Bind every candidate profile to a row type, once per row type */
void
IcpSegmentBindRowType(IcpSegment *seg, Oid typid, int32 typmod)
{
	MemoryContext old;
	int			natts;
	int			i,
				att;

	if (seg->bound && !seg->is_jsonb && seg->typid == typid &&
		seg->typmod == typmod)
		return;
	seg->bound = false;
	old = MemoryContextSwitchTo(seg->mcxt);
	for (i = 0; i < seg->nprofiles; i++)
		seg->bindings[i] = IcpBindRowType(seg->profiles[i], typid, typmod);
	if (seg->slot)
		ExecDropSingleTupleTableSlot(seg->slot);
	{
		TupleDesc	td = lookup_rowtype_tupdesc(typid, typmod);

		seg->tupdesc = CreateTupleDescCopy(td);
		ReleaseTupleDesc(td);
	}
	natts = seg->tupdesc->natts;
	seg->slot = MakeSingleTupleTableSlot(seg->tupdesc, &TTSOpsHeapTuple);
	seg->reads = palloc0(sizeof(bool) * Max(natts, 1));
	seg->readcols = palloc0(sizeof(int) * Max(natts, 1));
	seg->colvalues = palloc0(sizeof(Datum) * Max(natts, 1));
	seg->colnulls = palloc0(sizeof(bool) * Max(natts, 1));
	seg->nreadcols = 0;
	seg->natts_needed = 0;
	for (i = 0; i < seg->nprofiles; i++)
	{
		IcpBinding *b = seg->bindings[i];

		seg->natts_needed = Max(seg->natts_needed, b->natts_needed);
		for (att = 0; att < natts && att < b->tupdesc->natts; att++)
			if (b->reads[att])
				seg->reads[att] = true;
	}
	for (att = 0; att < natts; att++)
		if (seg->reads[att])
			seg->readcols[seg->nreadcols++] = att;
	MemoryContextSwitchTo(old);
	seg->typid = typid;
	seg->typmod = typmod;
	seg->is_jsonb = false;
	seg->bound = true;
}

/* Bind every candidate profile to jsonb accounts */
void
IcpSegmentBindJsonb(IcpSegment *seg)
{
	int			i;

	if (seg->bound && seg->is_jsonb)
		return;
	seg->bound = false;
	for (i = 0; i < seg->nprofiles; i++)
		seg->bindings[i] = IcpBindJsonb(seg->profiles[i]);
	seg->typid = JSONBOID;
	seg->typmod = -1;
	seg->is_jsonb = true;
	seg->bound = true;
}

/* Error context: which profile was being scored for the segment */
static void
SegmentErrorCallback(void *arg)
{
	IcpCompiled **cpp = (IcpCompiled **) arg;

	if (*cpp)
		errcontext("segmenting with icp profile \"%s\"", (*cpp)->name);
}

/*
 * Whether a required criterion already rules the profile out (it would be
 * disqualified: grade D, no match), checked before scoring the rest.
 */
static bool
KnockedOut(IcpCompiled *cp, IcpBinding *b, IcpAccount *acc)
{
	bool		out = false;
	int			i;

	IcpPrepareBinding(b);
	for (i = 0; i < cp->ncriteria && !out; i++)
	{
		IcpTri		t;

		if (!cp->criteria[i].required)
			continue;
		cp->current = i;
		t = IcpEvalExpr(b->rules[i], acc, b);
		out = (t == ICP_FALSE ||
			   (t == ICP_UNKNOWN && cp->missing == ICP_MISSING_PENALIZE));
	}
	MemoryContextReset(b->rowcxt);
	return out;
}

/*
 * The segment of an account (bound beforehand): the winning profile, or NULL.
 * Profiles are sorted exclude first, then by name, so the first of equal
 * fits is the one whose name sorts first.
 */
IcpCompiled *
IcpSegmentChoose(IcpSegment *seg, IcpAccount *acc)
{
	IcpCompiled *best = NULL;
	IcpCompiled *current = NULL;
	double		best_fit = 0;
	ErrorContextCallback errcb;
	int			i;

	errcb.callback = SegmentErrorCallback;
	errcb.arg = &current;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	for (i = 0; i < seg->nprofiles; i++)
	{
		IcpCompiled *cp = seg->profiles[i];
		IcpResult	res;

		/* an exclude profile matched: no ideal profile can win */
		if (best != NULL && cp->kind != best->kind)
			break;
		current = cp;
		if (KnockedOut(cp, seg->bindings[i], acc))
			continue;
		IcpScoreAccount(cp, seg->bindings[i], acc, &res, NULL);
		if (res.grade == 'A' || res.grade == 'B' || res.grade == 'C')
		{
			if (best == NULL || res.fit > best_fit)
			{
				best = cp;
				best_fit = res.fit;
			}
		}
	}

	error_context_stack = errcb.previous;
	return best;
}

/* The segment state of a call site, rebuilt when the names argument changes */
static IcpSegment *
CallSiteSegment(FunctionCallInfo fcinfo, ArrayType *names)
{
	IcpSegment *seg = (IcpSegment *) fcinfo->flinfo->fn_extra;

	if (seg != NULL)
	{
		if (names == NULL && seg->by_active)
			return seg;
		if (names != NULL && !seg->by_active &&
			VARSIZE(names) == VARSIZE(seg->names) &&
			memcmp(names, seg->names, VARSIZE(names)) == 0)
			return seg;
		fcinfo->flinfo->fn_extra = NULL;
		MemoryContextDelete(seg->mcxt);
	}
	seg = IcpSegmentCreate(fcinfo->flinfo->fn_mcxt, names);
	fcinfo->flinfo->fn_extra = seg;
	return seg;
}

/* The text result of a segment choice */
static Datum
SegmentResult(FunctionCallInfo fcinfo, IcpCompiled *cp)
{
	if (cp == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(cp->name));
}

/* icp_segment(record [, text[]]) */
Datum
icp_segment_record(PG_FUNCTION_ARGS)
{
	HeapTupleHeader th = PG_GETARG_HEAPTUPLEHEADER(0);
	ArrayType  *names = PG_NARGS() > 1 ? PG_GETARG_ARRAYTYPE_P(1) : NULL;
	IcpSegment *seg = CallSiteSegment(fcinfo, names);
	HeapTupleData tuple;
	IcpAccount	acc;
	IcpCompiled *cp;

	if (seg->nprofiles == 0)
		PG_RETURN_NULL();
	IcpSegmentBindRowType(seg, HeapTupleHeaderGetTypeId(th),
						  HeapTupleHeaderGetTypMod(th));
	IcpAccountFromRecord(&acc, &tuple, th, seg->slot, seg->tupdesc, seg->natts_needed);
	cp = IcpSegmentChoose(seg, &acc);
	ExecClearTuple(seg->slot);
	return SegmentResult(fcinfo, cp);
}

/* icp_segment(jsonb [, text[]]) */
Datum
icp_segment_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	ArrayType  *names = PG_NARGS() > 1 ? PG_GETARG_ARRAYTYPE_P(1) : NULL;
	IcpSegment *seg;
	IcpAccount	acc;

	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a jsonb account must be a JSON object"),
				 errhint("Pass an object whose keys are the attributes, such as {\"employees\": 120}.")));
	seg = CallSiteSegment(fcinfo, names);
	if (seg->nprofiles == 0)
		PG_RETURN_NULL();
	IcpSegmentBindJsonb(seg);
	acc.values = NULL;
	acc.isnull = NULL;
	acc.tupdesc = NULL;
	acc.json = &jb->root;
	return SegmentResult(fcinfo, IcpSegmentChoose(seg, &acc));
}

/* Raise the error for a hand-made icp_segment_columns call of the wrong shape */
static void
BadColumnsCall(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid call of an internal icp scoring function"),
			 errhint("Call icp_segment with a whole row instead.")));
}

/*
 * icp_segment on the columns of a table row passed one by one, as the
 * planner support function rewrites icp_segment(l [, profiles]):
 * (kind, profiles text[], rowtype oid, ctid, col1, ..., colN).
 */
Datum
icp_segment_columns(PG_FUNCTION_ARGS)
{
	FmgrInfo   *fl = fcinfo->flinfo;
	IcpSegment *seg;
	IcpProfileArg kind;
	ArrayType  *names = NULL;
	Oid			typid;
	IcpAccount	acc;
	int			i;

	if (PG_NARGS() < 4 || PG_ARGISNULL(0) || PG_ARGISNULL(2))
		BadColumnsCall();
	kind = (IcpProfileArg) PG_GETARG_INT32(0);
	typid = PG_GETARG_OID(2);
	if (kind != ICP_ARG_DEFAULT && kind != ICP_ARG_NAME)
		BadColumnsCall();
	if (PG_ARGISNULL(3) || (kind == ICP_ARG_NAME && PG_ARGISNULL(1)))
		PG_RETURN_NULL();
	if (kind == ICP_ARG_NAME)
	{
		if (get_fn_expr_argtype(fl, 1) != TEXTARRAYOID)
			BadColumnsCall();
		names = PG_GETARG_ARRAYTYPE_P(1);
	}

	seg = CallSiteSegment(fcinfo, names);
	if (seg->nprofiles == 0)
		PG_RETURN_NULL();
	if (!seg->bound || seg->is_jsonb || seg->typid != typid || seg->typmod != -1)
	{
		if (get_typ_typrelid(typid) == InvalidOid)
			BadColumnsCall();
		IcpSegmentBindRowType(seg, typid, -1);
		/* every argument must be what the row type says it is */
		if (get_fn_expr_argtype(fl, 0) != INT4OID ||
			get_fn_expr_argtype(fl, 2) != REGTYPEOID ||
			get_fn_expr_argtype(fl, 3) != TIDOID ||
			PG_NARGS() - 4 != seg->tupdesc->natts)
			BadColumnsCall();
		for (i = 0; i < seg->tupdesc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(seg->tupdesc, i);

			if (!att->attisdropped &&
				get_fn_expr_argtype(fl, 4 + i) != att->atttypid)
				BadColumnsCall();
		}
	}

	for (i = 0; i < seg->nreadcols; i++)
	{
		int			att = seg->readcols[i];

		seg->colvalues[att] = fcinfo->args[4 + att].value;
		seg->colnulls[att] = fcinfo->args[4 + att].isnull;
	}
	acc.values = seg->colvalues;
	acc.isnull = seg->colnulls;
	acc.tupdesc = seg->tupdesc;
	acc.json = NULL;
	return SegmentResult(fcinfo, IcpSegmentChoose(seg, &acc));
}
