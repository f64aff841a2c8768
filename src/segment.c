/*
 * segment.c
 *		icp_segment: which profile an account belongs to.
 *
 * A profile matches an account when its grade is A, B
 * or C.  The result is the matching exclude profile with the highest fit,
 * else the matching ideal profile with the highest fit, else NULL; ties go
 * to the name that sorts first byte-wise (C collation).  Without a list of
 * names only active profiles take part; named profiles take part whether
 * active or not.  The candidate profiles are pinned per call site (and
 * resolved again whenever the call site's key no longer holds: another
 * snapshot, role, settings or a catalog change) and scored in one pass over
 * each account: one read, then the rules of every profile; ideal profiles
 * are not scored at all once an exclude one matched.
 *
 * icp_segment(account, icp_profile[]) takes the candidates as values (what
 * a client or a coordinator ships to Citus workers): no table is read, the
 * values are compiled once per call site, every one takes part (as named
 * profiles do), the same value given twice takes part once, and two
 * different values with one name are an error.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "score.h"

PG_FUNCTION_INFO_V1(icp_segment_record);
PG_FUNCTION_INFO_V1(icp_segment_jsonb);
PG_FUNCTION_INFO_V1(icp_segment_columns);
PG_FUNCTION_INFO_V1(icp_segment_record_value);
PG_FUNCTION_INFO_V1(icp_segment_jsonb_value);
PG_FUNCTION_INFO_V1(icp_segment_record_untyped);
PG_FUNCTION_INFO_V1(icp_segment_jsonb_untyped);

/* Let go of the candidate profiles and their bindings */
static void
ReleaseRuns(IcpSegment *seg)
{
	int			i;

	for (i = 0; i < seg->nprofiles; i++)
		IcpRunRelease(&seg->runs[i]);
	seg->nprofiles = 0;
}

/* Let go of every pin when the segment's memory goes away */
static void
SegmentReset(void *arg)
{
	IcpSegment *seg = (IcpSegment *) arg;
	int			i;

	seg->key.valid = false;
	ReleaseRuns(seg);
	for (i = 0; i < seg->nvalues; i++)
		IcpUnpinProfile(seg->values[i]);
	seg->nvalues = 0;
}

/* qsort comparator: exclude profiles first, then by name (C collation) */
static int
CmpRuns(const void *a, const void *b)
{
	const IcpCompiled *x = ((const IcpRun *) a)->cp;
	const IcpCompiled *y = ((const IcpRun *) b)->cp;

	if (x->kind != y->kind)
		return x->kind == ICP_KIND_EXCLUDE ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* qsort comparator: compiled values, exclude first, then by name */
static int
CmpCompiled(const void *a, const void *b)
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
 * Segmentation state for the named profiles (names not NULL), or the
 * profile values (by_value), else for the active ones, in a child of mcxt;
 * deleting or resetting mcxt unpins everything.  Profiles are resolved by
 * IcpSegmentResolve.
 */
IcpSegment *
IcpSegmentCreate(MemoryContext mcxt, ArrayType *names, bool by_value)
{
	MemoryContext cxt = AllocSetContextCreate(mcxt, "icp segment",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	IcpSegment *seg = palloc0(sizeof(IcpSegment));

	seg->mcxt = cxt;
	seg->cb.func = SegmentReset;
	seg->cb.arg = seg;
	MemoryContextRegisterResetCallback(cxt, &seg->cb);
	seg->by_active = (names == NULL);
	seg->by_value = by_value && names != NULL;
	if (names != NULL)
	{
		if (ARR_NDIM(names) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("the profiles of icp_segment must be a one-dimensional array")));
		if (array_contains_nulls(names))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the profiles of icp_segment must not contain NULL")));
		seg->names = (struct varlena *) palloc(VARSIZE(names));
		memcpy(seg->names, names, VARSIZE(names));
	}
	MemoryContextSwitchTo(old);
	return seg;
}

/*
 * Compile the profile values of a by_value segment once: distinct, sorted
 * exclude first then by name, pinned by the segment.
 */
static void
CompileValues(IcpSegment *seg)
{
	ArrayType  *arr = (ArrayType *) seg->names;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			i,
				n = 0;
	MemoryContext old = MemoryContextSwitchTo(seg->mcxt);

	get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign,
					  &elems, &nulls, &nelems);
	seg->values = palloc0(sizeof(IcpCompiled *) * Max(nelems, 1));
	for (i = 0; i < nelems; i++)
	{
		IcpProfile *v = (IcpProfile *) pg_detoast_datum_packed((struct varlena *) DatumGetPointer(elems[i]));
		Size		len = VARSIZE_ANY_EXHDR(v);
		IcpProfile *flat = (IcpProfile *) palloc(len + VARHDRSZ);
		IcpCompiled *cp;
		int			j;
		bool		dup = false;

		CHECK_FOR_INTERRUPTS();
		SET_VARSIZE(flat, len + VARHDRSZ);
		memcpy(VARDATA(flat), VARDATA_ANY(v), len);
		for (j = 0; j < n && !dup; j++)
			dup = VARSIZE(seg->values[j]->value) == VARSIZE(flat) &&
				memcmp(VARDATA(seg->values[j]->value), VARDATA(flat), len) == 0;
		if (dup)
		{
			pfree(flat);
			continue;
		}
		cp = IcpNewCompiled(flat);
		pfree(flat);
		seg->values[n++] = cp;
		seg->nvalues = n;
		if (cp->name == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the profiles of icp_segment must have names"),
					 errdetail("Profile value %d of the array has no name, so it cannot be a segment.", i + 1),
					 errhint("Give the value a name, as in {\"name\": \"...\", ...}, or take it from icp_profile('name').")));
		for (j = 0; j < n - 1; j++)
			if (strcmp(seg->values[j]->name, cp->name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("icp_segment got two different profiles named \"%s\"", cp->name),
						 errhint("Give each candidate profile its own name.")));
	}
	qsort(seg->values, n, sizeof(IcpCompiled *), CmpCompiled);
	MemoryContextSwitchTo(old);
}

/* The candidate names, sorted and distinct, in the current memory context */
static char **
CandidateNames(IcpSegment *seg, int *ncand)
{
	char	  **cand;
	int			n = 0;
	int			i;

	if (seg->by_active)
	{
		List	   *active = IcpActiveProfileNames();
		ListCell   *lc;

		cand = palloc(sizeof(char *) * Max(list_length(active), 1));
		foreach(lc, active)
			cand[n++] = lfirst(lc);
	}
	else
	{
		Datum	   *elems;
		bool	   *nulls;
		int			nelems;

		deconstruct_array((ArrayType *) seg->names, TEXTOID, -1, false,
						  TYPALIGN_INT, &elems, &nulls, &nelems);
		cand = palloc(sizeof(char *) * Max(nelems, 1));
		for (i = 0; i < nelems; i++)
			cand[n++] = TextDatumGetCString(elems[i]);
		/* a name given twice takes part once */
		qsort(cand, n, sizeof(char *), CmpNames);
		nelems = n;
		n = 0;
		for (i = 0; i < nelems; i++)
			if (n == 0 || strcmp(cand[n - 1], cand[i]) != 0)
				cand[n++] = cand[i];
	}
	*ncand = n;
	return cand;
}

/*
 * Pin and bind the candidate profiles for a row type (InvalidOid: jsonb
 * accounts).  Cheap while the segment's key holds; otherwise everything is
 * resolved again through the cache.
 */
void
IcpSegmentResolve(IcpSegment *seg, Oid typid, int32 typmod)
{
	MemoryContext old;
	char	  **cand;
	int			ncand;
	int			i;
	uint64		generation;

	if (IcpUseKeyValid(&seg->key) && seg->is_jsonb == !OidIsValid(typid) &&
		(seg->is_jsonb || (seg->typid == typid && seg->typmod == typmod)))
		return;

	seg->key.valid = false;
	generation = IcpUseKeyBegin();
	ReleaseRuns(seg);
	if (seg->by_value && seg->values == NULL)
		CompileValues(seg);
	old = MemoryContextSwitchTo(seg->mcxt);
	if (seg->by_value)
	{
		cand = NULL;
		ncand = seg->nvalues;
	}
	else
		cand = CandidateNames(seg, &ncand);
	if (seg->runs == NULL || ncand > seg->nruns)
	{
		if (seg->runs)
			pfree(seg->runs);
		seg->runs = palloc0(sizeof(IcpRun) * Max(ncand, 1));
		seg->nruns = Max(ncand, 1);
	}
	for (i = 0; i < ncand; i++)
	{
		IcpCompiled *cp;

		if (seg->by_value)
		{
			/* the run takes its own pin below; this one stands for the acquire */
			cp = seg->values[i];
			IcpPinProfile(cp);
			IcpRunInit(&seg->runs[seg->nprofiles], seg->mcxt);
			seg->runs[seg->nprofiles++].cp = cp;
			continue;
		}
		cp = IcpAcquireProfileByName(cand[i], true);

		/* an active profile deleted meanwhile simply takes no part */
		if (cp == NULL && seg->by_active)
			continue;
		if (cp == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("icp profile \"%s\" does not exist", cand[i]),
					 errhint("icp_segment takes the names of rows of icp_profiles.")));
		IcpRunInit(&seg->runs[seg->nprofiles], seg->mcxt);
		seg->runs[seg->nprofiles++].cp = cp;
	}
	qsort(seg->runs, seg->nprofiles, sizeof(IcpRun), CmpRuns);
	for (i = 0; i < seg->nprofiles; i++)
	{
		IcpRun	   *run = &seg->runs[i];
		IcpBinding *b = IcpAcquireBinding(run->cp, typid, typmod);

		/* IcpRunSet takes one pin of each and lets go of the run's old one */
		IcpPinProfile(run->cp);
		IcpRunSet(run, run->cp, b);
	}
	MemoryContextSwitchTo(old);

	seg->is_jsonb = !OidIsValid(typid);
	seg->typid = typid;
	seg->typmod = typmod;
	IcpSegmentNeed(seg, IcpReaderFor(&seg->reader, seg->mcxt, typid, typmod));
	{
		int			deps = 0;

		for (i = 0; i < seg->nprofiles; i++)
			deps |= seg->runs[i].b->deps;
		IcpUseKeyTake(&seg->key, generation, deps);
	}
}

/* Make a reader read every column the segment's profiles read */
void
IcpSegmentNeed(IcpSegment *seg, IcpRowReader *reader)
{
	int			i;

	for (i = 0; i < seg->nprofiles; i++)
		IcpReaderNeed(reader, seg->runs[i].b);
}

/* Error context: which profile was being scored for the segment */
static void
SegmentErrorCallback(void *arg)
{
	IcpRun	  **runp = (IcpRun **) arg;

	if (*runp)
		IcpScoringErrorCallback(*runp);
}

/*
 * Whether a required criterion already rules the profile out (it would be
 * disqualified: grade D, no match), checked before scoring the rest.
 */
static bool
KnockedOut(IcpRun *run, IcpAccount *acc)
{
	IcpCompiled *cp = run->cp;
	bool		out = false;
	int			i;

	IcpPrepareRun(run);
	for (i = 0; i < cp->ncriteria && !out; i++)
	{
		IcpTri		t;
		double		factor;

		if (!cp->criteria[i].required)
			continue;
		run->current = i;
		t = IcpEvalCriterion(run, i, acc, &factor);
		out = IcpOutcomeDisqualifies(cp, &cp->criteria[i], t);
	}
	run->current = -1;
	return out;
}

/*
 * The segment of an account (resolved beforehand): the winning profile, or
 * NULL.  Profiles are sorted exclude first, then by name, so the first of
 * equal fits is the one whose name sorts first.
 */
IcpCompiled *
IcpSegmentChoose(IcpSegment *seg, IcpAccount *acc)
{
	IcpCompiled *best = NULL;
	IcpRun	   *current = NULL;
	double		best_fit = 0;
	ErrorContextCallback errcb;
	int			i;

	errcb.callback = SegmentErrorCallback;
	errcb.arg = &current;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	for (i = 0; i < seg->nprofiles; i++)
	{
		IcpRun	   *run = &seg->runs[i];
		IcpResult	res;

		/* an exclude profile matched: no ideal profile can win */
		if (best != NULL && run->cp->kind != best->kind)
			break;
		current = run;
		if (KnockedOut(run, acc))
			continue;
		IcpScoreAccount(run, acc, &res, NULL);
		if (res.grade == 'A' || res.grade == 'B' || res.grade == 'C')
		{
			if (best == NULL || res.fit > best_fit)
			{
				best = run->cp;
				best_fit = res.fit;
			}
		}
	}

	error_context_stack = errcb.previous;
	return best;
}

/* The segment state of a call site, made anew when the names argument changes */
static IcpSegment *
CallSiteSegment(FunctionCallInfo fcinfo, ArrayType *names, bool by_value)
{
	IcpSegment *seg = (IcpSegment *) fcinfo->flinfo->fn_extra;

	if (seg != NULL)
	{
		if (names == NULL && seg->by_active)
			return seg;
		if (names != NULL && !seg->by_active && seg->by_value == by_value &&
			VARSIZE(names) == VARSIZE(seg->names) &&
			memcmp(names, seg->names, VARSIZE(names)) == 0)
			return seg;
		fcinfo->flinfo->fn_extra = NULL;
		MemoryContextDelete(seg->mcxt);
	}
	seg = IcpSegmentCreate(fcinfo->flinfo->fn_mcxt, names, by_value);
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

/*
 * The second argument: an array of names or values, or NULL when there is
 * none.  The text overloads take an untyped literal ('{a,b}'): it is read
 * as a text[] of names, as it was before the icp_profile[] variant existed.
 */
static ArrayType *
SegmentArg(FunctionCallInfo fcinfo, bool untyped)
{
	if (PG_NARGS() < 2)
		return NULL;
	if (untyped)
	{
		struct varlena *lit = (struct varlena *) PG_GETARG_TEXT_P(1);
		IcpSegment *seg = (IcpSegment *) fcinfo->flinfo->fn_extra;
		ArrayType  *names;

		/* the same literal as the last call: its array is the call site's */
		if (seg != NULL && seg->literal != NULL && !seg->by_active &&
			!seg->by_value && VARSIZE(lit) == VARSIZE(seg->literal) &&
			memcmp(lit, seg->literal, VARSIZE(lit)) == 0)
			return (ArrayType *) seg->names;
		names = DatumGetArrayTypeP(OidFunctionCall3(F_ARRAY_IN,
													CStringGetDatum(text_to_cstring((text *) lit)),
													ObjectIdGetDatum(TEXTOID),
													Int32GetDatum(-1)));
		seg = CallSiteSegment(fcinfo, names, false);
		if (seg->literal == NULL)
			seg->literal = (struct varlena *) MemoryContextAlloc(seg->mcxt, VARSIZE(lit));
		else if (VARSIZE(seg->literal) != VARSIZE(lit))
			seg->literal = (struct varlena *) repalloc(seg->literal, VARSIZE(lit));
		memcpy(seg->literal, lit, VARSIZE(lit));
		return names;
	}
	return PG_GETARG_ARRAYTYPE_P(1);
}

/* icp_segment on a record, the candidates named, given as values or active */
static Datum
SegmentRecord(FunctionCallInfo fcinfo, bool by_value, bool untyped)
{
	HeapTupleHeader th = PG_GETARG_HEAPTUPLEHEADER(0);
	ArrayType  *names = SegmentArg(fcinfo, untyped);
	IcpSegment *seg = CallSiteSegment(fcinfo, names, by_value);
	IcpAccount	acc;
	Datum		result;

	IcpSegmentResolve(seg, HeapTupleHeaderGetTypeId(th),
					  HeapTupleHeaderGetTypMod(th));
	if (seg->nprofiles == 0)
		PG_RETURN_NULL();
	IcpAccountFromRecord(seg->reader, th, &acc);
	result = SegmentResult(fcinfo, IcpSegmentChoose(seg, &acc));
	IcpAccountDone(seg->reader);
	return result;
}

/* icp_segment on a jsonb account, the candidates named, given as values or active */
static Datum
SegmentJsonb(FunctionCallInfo fcinfo, bool by_value, bool untyped)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	ArrayType  *names = SegmentArg(fcinfo, untyped);
	IcpSegment *seg;
	IcpAccount	acc;
	Datum		result;

	seg = CallSiteSegment(fcinfo, names, by_value);
	IcpSegmentResolve(seg, InvalidOid, -1);
	IcpAccountFromJsonb(seg->reader, jb, &acc);
	if (seg->nprofiles == 0)
		PG_RETURN_NULL();
	result = SegmentResult(fcinfo, IcpSegmentChoose(seg, &acc));
	IcpAccountDone(seg->reader);
	return result;
}

/* icp_segment(record [, text[]]) */
Datum
icp_segment_record(PG_FUNCTION_ARGS)
{
	return SegmentRecord(fcinfo, false, false);
}

/* icp_segment(record, icp_profile[]) */
Datum
icp_segment_record_value(PG_FUNCTION_ARGS)
{
	return SegmentRecord(fcinfo, true, false);
}

/* icp_segment(jsonb [, text[]]) */
Datum
icp_segment_jsonb(PG_FUNCTION_ARGS)
{
	return SegmentJsonb(fcinfo, false, false);
}

/* icp_segment(jsonb, icp_profile[]) */
Datum
icp_segment_jsonb_value(PG_FUNCTION_ARGS)
{
	return SegmentJsonb(fcinfo, true, false);
}

/* icp_segment(record, text): profile names as one array literal */
Datum
icp_segment_record_untyped(PG_FUNCTION_ARGS)
{
	return SegmentRecord(fcinfo, false, true);
}

/* icp_segment(jsonb, text): profile names as one array literal */
Datum
icp_segment_jsonb_untyped(PG_FUNCTION_ARGS)
{
	return SegmentJsonb(fcinfo, false, true);
}

/*
 * icp_segment on the columns of a table row passed one by one, as the
 * planner support function rewrites icp_segment(l [, profiles]):
 * (kind, profiles text[], rowtype oid, ctid, col1, ..., colN).
 */
Datum
icp_segment_columns(PG_FUNCTION_ARGS)
{
	IcpSegment *seg;
	IcpProfileArg kind;
	ArrayType  *names = NULL;
	IcpAccount	acc;
	Datum		result;

	/* check the call's shape before reading any argument */
	seg = (IcpSegment *) fcinfo->flinfo->fn_extra;
	if (seg != NULL)
		kind = IcpCheckColumnsCall(fcinfo, &seg->cols, true);
	else
	{
		IcpColumnsCheck first;

		memset(&first, 0, sizeof(first));
		kind = IcpCheckColumnsCall(fcinfo, &first, true);
	}
	if (kind == ICP_ARG_VALUE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid call of an internal icp scoring function")));
	if (PG_ARGISNULL(3) || (kind == ICP_ARG_NAME && PG_ARGISNULL(1)))
		PG_RETURN_NULL();
	if (kind == ICP_ARG_NAME)
		names = PG_GETARG_ARRAYTYPE_P(1);

	seg = CallSiteSegment(fcinfo, names, false);
	IcpSegmentResolve(seg, PG_GETARG_OID(2), -1);
	if (seg->nprofiles == 0)
		PG_RETURN_NULL();
	IcpAccountFromArgs(seg->reader, fcinfo, ICP_COLUMNS_FIXED_ARGS, &acc);
	result = SegmentResult(fcinfo, IcpSegmentChoose(seg, &acc));
	IcpAccountDone(seg->reader);
	return result;
}
