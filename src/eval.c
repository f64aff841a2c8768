/*
 * eval.c
 *		Evaluate bound rules against an account and compute the score.
 *
 * SQL's three-valued logic throughout: a NULL (or, in jsonb, missing)
 * attribute makes a predicate UNKNOWN.  The hot paths (integers, floats,
 * text equality, text arrays) allocate nothing; anything that must be
 * converted goes into the account's scratch memory (account.h), which the
 * caller resets after each account.  Values arrive plain: the account layer
 * has detoasted every column a rule reads.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/arrayaccess.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "bind.h"
#include "compat.h"

/* Negate a three-valued result */
static inline IcpTri
TriNot(IcpTri t)
{
	return t == ICP_UNKNOWN ? ICP_UNKNOWN : (t == ICP_TRUE ? ICP_FALSE : ICP_TRUE);
}

/* Apply a predicate's NOT (NOT IN, NOT BETWEEN, ...) to a known result */
static inline IcpTri
Neg(IcpBExpr *e, bool result)
{
	return (result != e->negated) ? ICP_TRUE : ICP_FALSE;
}

/* Result of a comparison given cmp(value, constant) */
static inline bool
CmpSatisfies(IcpOp op, int c)
{
	switch (op)
	{
		case ICP_OP_EQ:
			return c == 0;
		case ICP_OP_NE:
			return c != 0;
		case ICP_OP_LT:
			return c < 0;
		case ICP_OP_LE:
			return c <= 0;
		case ICP_OP_GT:
			return c > 0;
		case ICP_OP_GE:
			return c >= 0;
		default:
			return false;
	}
}

/* Integer value of an int2/int4/int8 Datum */
static inline int64
IntValue(IcpBExpr *e, Datum d)
{
	if (e->typid == INT4OID)
		return DatumGetInt32(d);
	if (e->typid == INT8OID)
		return DatumGetInt64(d);
	return DatumGetInt16(d);
}

/* Binary search of a sorted int64 array */
static bool
IntSetContains(const int64 *set, int n, int64 v)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (set[mid] == v)
			return true;
		if (set[mid] < v)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* Binary search of sorted byte strings */
static bool
BytesSetContains(const IcpBytes *set, int n, const char *data, int len)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			c;

		if (set[mid].len != len)
			c = set[mid].len < len ? -1 : 1;
		else
			c = memcmp(set[mid].data, data, len);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* Evaluate a float comparison, NaN sorting above everything as in SQL */
static bool
FloatSatisfies(IcpBExpr *e, double v)
{
	int			i;

	switch (e->op)
	{
		case ICP_OP_BETWEEN:
			return float8_cmp_internal(v, e->d1) >= 0 &&
				float8_cmp_internal(v, e->d2) <= 0;
		case ICP_OP_IN:
			for (i = 0; i < e->nconsts; i++)
				if (float8_cmp_internal(v, DatumGetFloat8(e->consts[i])) == 0)
					return true;
			return false;
		default:
			return CmpSatisfies(e->op, float8_cmp_internal(v, e->d1));
	}
}

/* Evaluate a comparison through the btree comparison function */
static bool
GenericSatisfies(IcpBExpr *e, Datum v)
{
	int			c;

	if (e->op == ICP_OP_BETWEEN)
	{
		c = DatumGetInt32(FunctionCall2Coll(&e->fn, e->collation, v, e->consts[0]));
		if (c < 0)
			return false;
		c = DatumGetInt32(FunctionCall2Coll(&e->fn, e->collation, v, e->consts[1]));
		return c <= 0;
	}
	c = DatumGetInt32(FunctionCall2Coll(&e->fn, e->collation, v, e->consts[0]));
	return CmpSatisfies(e->op, c);
}

/* Binary search of sorted Datums with the btree comparison function */
static bool
GenericSetContains(IcpBExpr *e, Datum v)
{
	int			lo = 0,
				hi = e->nconsts - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = DatumGetInt32(FunctionCall2Coll(&e->fn, e->collation,
														e->consts[mid], v));

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* CONTAINS / ANY / ALL over the elements of an array value */
static bool
ArraySatisfies(IcpBExpr *e, AnyArrayType *arr)
{
	array_iter	it;
	int			nitems;
	int			i,
				j;
	int			found = 0;
	bool		localseen[64];
	bool	   *seen = localseen;
	bool		want_all = (e->op == ICP_OP_CONTAINS_ALL);

	nitems = ArrayGetNItems(AARR_NDIM(arr), AARR_DIMS(arr));
	if (want_all)
	{
		if (e->nconsts > (int) lengthof(localseen))
			seen = palloc0(sizeof(bool) * e->nconsts);
		else
			memset(localseen, 0, sizeof(localseen));
	}
	array_iter_setup(&it, arr);
	for (i = 0; i < nitems; i++)
	{
		bool		isnull;
		Datum		elem = array_iter_next(&it, &isnull, i, e->elemlen,
										   e->elembyval, e->elemalign);

		if (isnull)
			continue;
		for (j = 0; j < e->nconsts; j++)
		{
			bool		eq;

			if (want_all && seen[j])
				continue;
			if (e->elem_bytes)
			{
				text	   *t = (text *) DatumGetPointer(elem);

				eq = (VARSIZE_ANY_EXHDR(t) == e->bytes[j].len &&
					  memcmp(VARDATA_ANY(t), e->bytes[j].data, e->bytes[j].len) == 0);
			}
			else
				eq = DatumGetBool(FunctionCall2Coll(&e->fn, e->collation,
													elem, e->consts[j]));
			if (!eq)
				continue;
			if (!want_all)
				return true;
			seen[j] = true;
			if (++found == e->nconsts)
				return true;
		}
	}
	return false;
}

/* Timestamp with time zone of a date/timestamp/timestamptz value */
static TimestampTz
AsTimestampTz(Oid typid, Datum v)
{
	if (typid == DATEOID)
		return DatumGetTimestampTz(DirectFunctionCall1(date_timestamptz, v));
	if (typid == TIMESTAMPOID)
		return DatumGetTimestampTz(DirectFunctionCall1(timestamp_timestamptz, v));
	return DatumGetTimestampTz(v);
}

/* An empty run (no profile yet) whose state lives in mcxt */
void
IcpRunInit(IcpRun *run, MemoryContext mcxt)
{
	memset(run, 0, sizeof(IcpRun));
	run->mcxt = mcxt;
	run->current = -1;
}

/*
 * Make a run use a profile and one of its bindings.  The run takes over one
 * pin of each from the caller and lets go of what it used before.
 */
void
IcpRunSet(IcpRun *run, IcpCompiled *cp, IcpBinding *b)
{
	IcpRunRelease(run);
	run->cp = cp;
	run->b = b;
	run->within_now = 0;
	if (b->nwithin > 0)
	{
		run->within_lo = MemoryContextAllocZero(run->mcxt, sizeof(TimestampTz) * b->nwithin);
		run->within_hi = MemoryContextAllocZero(run->mcxt, sizeof(TimestampTz) * b->nwithin);
	}
}

/* Let go of the run's profile and binding */
void
IcpRunRelease(IcpRun *run)
{
	IcpBinding *b = run->b;
	IcpCompiled *cp = run->cp;

	run->b = NULL;
	run->cp = NULL;
	if (run->within_lo)
		pfree(run->within_lo);
	if (run->within_hi)
		pfree(run->within_hi);
	run->within_lo = run->within_hi = NULL;
	run->current = -1;
	/* the binding first: the profile's last pin frees its bindings */
	IcpReleaseBinding(b);
	IcpUnpinProfile(cp);
}

/*
 * Compute the WITHIN bounds when now() (the transaction start) has moved,
 * and note now() for decay ages.
 * TimeZone is part of the binding's settings, so a change of it brings a
 * new binding and new bounds.
 */
void
IcpPrepareRun(IcpRun *run)
{
	IcpBinding *b = run->b;
	TimestampTz now;
	int			i;

	run->in_decay = false;		/* an error may have left it set */
	if (b->nwithin == 0 && b->ndecay == 0)
		return;
	now = GetCurrentTransactionStartTimestamp();
	run->now = now;
	if (b->nwithin == 0 || run->within_now == now)
		return;
	for (i = 0; i < b->nwithin; i++)
	{
		IcpBExpr   *e = b->within[i];

		run->within_hi[i] = now;
		run->within_lo[i] = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
																	TimestampTzGetDatum(now),
																	IntervalPGetDatum(e->interval)));
	}
	run->within_now = now;
}

/*
 * Fetch the jsonb value a predicate reads.  Returns false when it is SQL
 * NULL: a NULL column, a missing key, a path through a non-object or a JSON
 * null.
 */
static bool
FetchJson(IcpBExpr *e, IcpAccount *acc, JsonbValue *out)
{
	JsonbContainer *c;
	int			i;

	if (e->attno < 0)
		c = acc->json;
	else
	{
		Jsonb	   *jb;
		MemoryContext old;

		if (acc->isnull[e->attno])
			return false;
		old = MemoryContextSwitchTo(acc->reader->rowcxt);
		jb = DatumGetJsonbP(acc->values[e->attno]);
		MemoryContextSwitchTo(old);
		c = &jb->root;
	}

	if (e->nkeys == 0)
	{
		if (JsonContainerIsScalar(c))
			JsonbExtractScalar(c, out);
		else
		{
			out->type = jbvBinary;
			out->val.binary.data = c;
			out->val.binary.len = 0;
		}
		return out->type != jbvNull;
	}
	for (i = 0; i < e->nkeys; i++)
	{
		if (!JsonContainerIsObject(c))
			return false;
		if (getKeyJsonValueFromContainer(c, e->keys[i], e->keylens[i], out) == NULL)
			return false;
		if (i < e->nkeys - 1)
		{
			if (out->type != jbvBinary)
				return false;
			c = out->val.binary.data;
		}
	}
	return out->type != jbvNull;
}

/* Name of a JSON value's type, for messages */
static const char *
JsonTypeName(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "array" : "object";
		default:
			return "null";
	}
}

/* The text a JSON value has under ->> (allocated in the current context) */
static text *
JsonAsText(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return cstring_to_text_with_len(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return cstring_to_text(DatumGetCString(DirectFunctionCall1(numeric_out,
																	   NumericGetDatum(v->val.numeric))));
		case jbvBool:
			return cstring_to_text(v->val.boolean ? "true" : "false");
		default:
			return cstring_to_text(JsonbToCString(NULL, v->val.binary.data,
												  v->val.binary.len));
	}
}

/* Raise the error for a JSON value that cannot be read as a literal's type */
static void
ReportJsonType(IcpBExpr *e, JsonbValue *v, const char *want)
{
	StringInfoData path;

	initStringInfo(&path);
	IcpAppendAttrPath(&path, e->node->npath, e->node->path);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("attribute %s is a JSON %s that cannot be compared with %s",
					path.data, JsonTypeName(v), want),
			 v->type == jbvString ?
			 errdetail("The value is \"%s\".", pnstrdup(v->val.string.val,
														 Min(v->val.string.len, 100))) : 0,
			 errhint("Store the attribute with a consistent JSON type, or compare it with a literal of its type.")));
}

/* A JSON value as a numeric, for comparison with a number literal */
static Numeric
JsonAsNumeric(IcpBExpr *e, JsonbValue *v)
{
	if (v->type == jbvNumeric)
		return v->val.numeric;
	if (v->type == jbvString)
	{
		char	   *s = pnstrdup(v->val.string.val, v->val.string.len);
		Datum		d;

		/* as a cast to numeric reads it; the error names the attribute */
		if (!IcpInputCallSafe(numeric_in, s, &d, NULL))
			ReportJsonType(e, v, "a number");
		return DatumGetNumeric(d);
	}
	ReportJsonType(e, v, "a number");
	return NULL;
}

/* A JSON value as a boolean */
static bool
JsonAsBool(IcpBExpr *e, JsonbValue *v)
{
	bool		result;

	if (v->type == jbvBool)
		return v->val.boolean;
	if (v->type == jbvString &&
		parse_bool_with_len(v->val.string.val, v->val.string.len, &result))
		return result;
	ReportJsonType(e, v, "a boolean");
	return false;
}

/*
 * Read an ISO 8601 date or timestamp ("2024-05-01", "2024-05-01 10:00",
 * "2024-05-01T10:00:00+02:00") as a timestamptz, without raising errors:
 * false when the text is not one.  Times without a zone are in the
 * session's time zone, as timestamptz input reads them.
 */
bool
IcpParseIsoTimestamp(const char *s, int len, TimestampTz *result)
{
	char		str[MAXDATELEN + 1];
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf,
				dtype,
				tz;
	struct pg_tm tt;
	fsec_t		fsec;
	int			i;

	if (len < 10 || len > MAXDATELEN || s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char) s[i]))
			return false;
	memcpy(str, s, len);
	str[len] = '\0';
	if (ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0)
		return false;
	if (IcpDecodeDateTime(field, ftype, nf, &dtype, &tt, &fsec, &tz) != 0 ||
		dtype != DTK_DATE)
		return false;
	return tm2timestamp(&tt, fsec, &tz, result) == 0;
}

/* cmp(json value, literal i) with the literal's type deciding the domain */
static int
JsonCompare(IcpBExpr *e, JsonbValue *v, int i, text **vtext)
{
	IcpLiteral *lit = &e->node->lits[i];

	if (lit->type == ICP_LIT_NUMBER)
		return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
												 NumericGetDatum(JsonAsNumeric(e, v)),
												 e->numerics[i]));
	if (lit->type == ICP_LIT_BOOL)
	{
		bool		b = JsonAsBool(e, v);

		return (b == lit->boolval) ? 0 : (b ? 1 : -1);
	}
	if (e->lit_is_ts[i] && v->type == jbvString)
	{
		TimestampTz ts;

		if (IcpParseIsoTimestamp(v->val.string.val, v->val.string.len, &ts))
			return ts < e->lit_ts[i] ? -1 : (ts > e->lit_ts[i] ? 1 : 0);
	}
	if (*vtext == NULL)
		*vtext = JsonAsText(v);
	return varstr_cmp(VARDATA_ANY(*vtext), VARSIZE_ANY_EXHDR(*vtext),
					  VARDATA_ANY(DatumGetPointer(e->consts[i])),
					  VARSIZE_ANY_EXHDR(DatumGetPointer(e->consts[i])),
					  DEFAULT_COLLATION_OID);
}

/* Whether a JSON array element equals literal i (jsonb containment) */
static bool
JsonElementEquals(IcpBExpr *e, JsonbValue *elem, int i)
{
	IcpLiteral *lit = &e->node->lits[i];

	switch (lit->type)
	{
		case ICP_LIT_STRING:
			return elem->type == jbvString && elem->val.string.len == lit->len &&
				memcmp(elem->val.string.val, lit->str, lit->len) == 0;
		case ICP_LIT_NUMBER:
			return elem->type == jbvNumeric &&
				DatumGetInt32(DirectFunctionCall2(numeric_cmp,
												  NumericGetDatum(elem->val.numeric),
												  e->numerics[i])) == 0;
		case ICP_LIT_BOOL:
			return elem->type == jbvBool && elem->val.boolean == lit->boolval;
	}
	return false;
}

/* CONTAINS / ANY / ALL on a JSON value: array elements, as jsonb @> does */
static bool
JsonContains(IcpRun *run, IcpBExpr *e, JsonbValue *v)
{
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken tok;
	bool	   *seen;
	int			found = 0;
	int			j;
	bool		want_all = (e->op == ICP_OP_CONTAINS_ALL);

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		return false;
	seen = palloc0(sizeof(bool) * e->node->nlits);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		for (j = 0; j < e->node->nlits; j++)
		{
			if (seen[j] || !JsonElementEquals(e, &elem, j))
				continue;
			if (!want_all)
				return true;
			seen[j] = true;
			if (++found == e->node->nlits)
				return true;
		}
	}
	return false;
}

/* =, <>, <, <=, >, >= on a JSON value */
static bool
JsonCmpOp(IcpRun *run, IcpBExpr *e, JsonbValue *v)
{
	text	   *vtext = NULL;

	return CmpSatisfies(e->op, JsonCompare(e, v, 0, &vtext));
}

/* BETWEEN on a JSON value */
static bool
JsonBetween(IcpRun *run, IcpBExpr *e, JsonbValue *v)
{
	text	   *vtext = NULL;

	return JsonCompare(e, v, 0, &vtext) >= 0 && JsonCompare(e, v, 1, &vtext) <= 0;
}

/* IN on a JSON value */
static bool
JsonIn(IcpRun *run, IcpBExpr *e, JsonbValue *v)
{
	text	   *vtext = NULL;

	for (int i = 0; i < e->node->nlits; i++)
		if (JsonCompare(e, v, i, &vtext) == 0)
			return true;
	return false;
}

/* IS TRUE on a JSON value */
static bool
JsonIsTrue(IcpRun *run, IcpBExpr *e, JsonbValue *v)
{
	return JsonAsBool(e, v);
}

/* IS FALSE on a JSON value */
static bool
JsonIsFalse(IcpRun *run, IcpBExpr *e, JsonbValue *v)
{
	return !JsonAsBool(e, v);
}

/* LIKE, ILIKE, ~ and ~* on a JSON value's text */
static bool
JsonPattern(IcpRun *run, IcpBExpr *e, JsonbValue *v)
{
	PGFunction	fn = e->op == ICP_OP_LIKE ? textlike :
		e->op == ICP_OP_ILIKE ? texticlike :
		e->op == ICP_OP_REGEX ? textregexeq : texticregexeq;

	return DatumGetBool(DirectFunctionCall2Coll(fn, DEFAULT_COLLATION_OID,
												PointerGetDatum(JsonAsText(v)),
												e->consts[0]));
}

/* WITHIN on a JSON string read as a timestamptz */
static bool
JsonWithin(IcpRun *run, IcpBExpr *e, JsonbValue *v)
{
	TimestampTz ts;

	if (v->type != jbvString)
		ReportJsonType(e, v, "a timestamp");
	ts = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
												 CStringGetDatum(pnstrdup(v->val.string.val,
																		  v->val.string.len)),
												 ObjectIdGetDatum(InvalidOid),
												 Int32GetDatum(-1)));
	return ts >= run->within_lo[e->within_idx] &&
		ts <= run->within_hi[e->within_idx];
}

/* Evaluates a predicate on a JSON value: the operator table's eval_json */
typedef bool (*IcpJsonEvalFn) (IcpRun *run, IcpBExpr *e, JsonbValue *v);

#define ICP_OPERATOR(op, name, form, negation, arity, literals, validate, hint, bind, eval_json) \
	eval_json,
static const IcpJsonEvalFn json_evals[] = {
#include "rule_ops.h"
};
#undef ICP_OPERATOR

StaticAssertDecl(lengthof(json_evals) == ICP_OP_MAX,
				 "rule_ops.h must have one line per IcpOp");

/* Evaluate a predicate on a non-null JSON value */
static IcpTri
EvalDynamic(IcpRun *run, IcpBExpr *e, JsonbValue *v)
{
	IcpJsonEvalFn fn = json_evals[e->op - 1];

	if (fn == NULL)
		elog(ERROR, "unexpected rule operator %d", (int) e->op);
	return Neg(e, fn(run, e, v));
}

/* Evaluate a predicate on a typed, non-null column value */
static IcpTri
EvalTyped(IcpRun *run, IcpBExpr *e, Datum v, IcpAccount *acc)
{
	MemoryContext rowcxt = acc->reader->rowcxt;

	switch (e->kind)
	{
		case EK_BOOLTEST:
			return Neg(e, DatumGetBool(v) == (e->op == ICP_OP_IS_TRUE));
		case EK_CONST:
			return e->constval;
		case EK_INT_RANGE:
			{
				int64		x = IntValue(e, v);

				return Neg(e, x >= e->lo && x <= e->hi);
			}
		case EK_INT_SET:
			return Neg(e, IntSetContains(e->ints, e->nints, IntValue(e, v)));
		case EK_FLOAT_CMP:
			return Neg(e, FloatSatisfies(e, e->typid == FLOAT4OID ?
										 (double) DatumGetFloat4(v) :
										 DatumGetFloat8(v)));
		case EK_BYTES_SET:
			{
				struct varlena *t = (struct varlena *) DatumGetPointer(v);

				/* the reader made it plain; this only guards the invariant */
				if (VARATT_IS_EXTERNAL(t) || VARATT_IS_COMPRESSED(t))
				{
					MemoryContext old = MemoryContextSwitchTo(rowcxt);

					t = pg_detoast_datum_packed(t);
					MemoryContextSwitchTo(old);
				}
				return Neg(e, BytesSetContains(e->bytes, e->nconsts,
											   VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
			}
		default:
			break;
	}

	/* the remaining evaluators may allocate: do it in the row context */
	{
		MemoryContext old = MemoryContextSwitchTo(rowcxt);
		bool		r = false;

		if (e->typlen == -1 && e->kind != EK_PATTERN)
			v = IcpPlainVarlena(acc, v);

		switch (e->kind)
		{
			case EK_GENERIC_CMP:
				r = GenericSatisfies(e, v);
				break;
			case EK_GENERIC_SET:
				r = GenericSetContains(e, v);
				break;
			case EK_GENERIC_EQSET:
				{
					int			i;

					for (i = 0; i < e->nconsts && !r; i++)
						r = DatumGetBool(FunctionCall2Coll(&e->fn, e->collation,
														   v, e->consts[i]));
				}
				break;
			case EK_PATTERN:
				if (e->to_text)
					v = PointerGetDatum(cstring_to_text(OutputFunctionCall(&e->outfn, v)));
				r = DatumGetBool(FunctionCall2Coll(&e->fn, e->collation, v,
												   e->consts[0]));
				break;
			case EK_ARRAY_CONTAINS:
				r = ArraySatisfies(e, DatumGetAnyArrayP(IcpPlainVarlena(acc, v)));
				break;
			case EK_WITHIN:
				{
					TimestampTz ts = AsTimestampTz(e->typid, v);

					r = ts >= run->within_lo[e->within_idx] &&
						ts <= run->within_hi[e->within_idx];
				}
				break;
			default:
				elog(ERROR, "unexpected evaluator %d", (int) e->kind);
		}
		MemoryContextSwitchTo(old);
		return Neg(e, r);
	}
}

/* Evaluate a bound rule tree on an account */
IcpTri
IcpEvalExpr(IcpRun *run, IcpBExpr *e, IcpAccount *acc)
{
	MemoryContext rowcxt = acc->reader->rowcxt;
	int			i;
	IcpTri		r;

	switch (e->kind)
	{
		case EK_AND:
			r = ICP_TRUE;
			for (i = 0; i < e->nargs; i++)
			{
				IcpTri		t = IcpEvalExpr(run, e->args[i], acc);

				if (t == ICP_FALSE)
					return ICP_FALSE;
				if (t == ICP_UNKNOWN)
					r = ICP_UNKNOWN;
			}
			return r;
		case EK_OR:
			r = ICP_FALSE;
			for (i = 0; i < e->nargs; i++)
			{
				IcpTri		t = IcpEvalExpr(run, e->args[i], acc);

				if (t == ICP_TRUE)
					return ICP_TRUE;
				if (t == ICP_UNKNOWN)
					r = ICP_UNKNOWN;
			}
			return r;
		case EK_NOT:
			return TriNot(IcpEvalExpr(run, e->args[0], acc));
		default:
			break;
	}

	if (e->kind == EK_DYNAMIC || (e->kind == EK_NULLTEST &&
								  (e->attno < 0 || e->nkeys > 0)))
	{
		JsonbValue	v;
		bool		present = FetchJson(e, acc, &v);

		if (e->kind == EK_NULLTEST)
			return Neg(e, !present);
		if (!present)
		{
			/* IS TRUE / IS FALSE are never unknown */
			if (e->op == ICP_OP_IS_TRUE || e->op == ICP_OP_IS_FALSE)
				return Neg(e, false);
			return ICP_UNKNOWN;
		}
		{
			MemoryContext old = MemoryContextSwitchTo(rowcxt);

			r = EvalDynamic(run, e, &v);
			MemoryContextSwitchTo(old);
		}
		return r;
	}

	/* a typed column */
	if (acc->isnull[e->attno])
	{
		if (e->kind == EK_NULLTEST)
			return Neg(e, true);
		if (e->kind == EK_BOOLTEST)
			return Neg(e, false);
		return ICP_UNKNOWN;
	}
	if (e->kind == EK_NULLTEST)
		return Neg(e, false);
	return EvalTyped(run, e, acc->values[e->attno], acc);
}

/*
 * The time a decay reads, as a timestamptz: false when it is unknown (NULL,
 * a missing key, JSON null).  Dates and timestamps are read in the
 * session's time zone, as now() - x reads them in SQL; a JSON string is
 * read as timestamptz input reads it, and anything else in JSON is an
 * error naming the attribute.
 */
static bool
IcpDecayTime(IcpBExpr *e, IcpAccount *acc, TimestampTz *ts)
{
	if (e->typid == JSONBOID)
	{
		JsonbValue	v;
		MemoryContext old;

		if (!FetchJson(e, acc, &v))
			return false;
		if (v.type != jbvString)
		{
			StringInfoData path;

			initStringInfo(&path);
			IcpAppendAttrPath(&path, e->node->npath, e->node->path);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("decay_on attribute %s is a JSON %s, not a time",
							path.data, JsonTypeName(&v)),
					 errhint("Store the time as a JSON string that timestamptz input reads, such as \"2026-11-30T10:00:00Z\".")));
		}
		old = MemoryContextSwitchTo(acc->reader->rowcxt);
		*ts = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
													  CStringGetDatum(pnstrdup(v.val.string.val,
																			   v.val.string.len)),
													  ObjectIdGetDatum(InvalidOid),
													  Int32GetDatum(-1)));
		MemoryContextSwitchTo(old);
		return true;
	}
	if (acc->isnull[e->attno])
		return false;
	*ts = AsTimestampTz(e->typid, acc->values[e->attno]);
	return true;
}

/*
 * The decay factor of an age: 0.5 ^ (age / half-life), 1 for an age of
 * zero or less (a time in the future does not decay).  +infinity is in the
 * future; -infinity is infinitely old and decays to 0.
 */
static inline double
DecayFactor(double age_secs, double half_life_secs)
{
	if (!(age_secs > 0))
		return 1.0;
	return pow(0.5, age_secs / half_life_secs);
}

/* Seconds from ts to now (negative for a time in the future) */
static inline double
AgeSeconds(TimestampTz now, TimestampTz ts)
{
	if (TIMESTAMP_IS_NOEND(ts))
		return -INFINITY;
	if (TIMESTAMP_IS_NOBEGIN(ts))
		return INFINITY;
	return ((double) now - (double) ts) / USECS_PER_SEC;
}

/*
 * Evaluate criterion i with its decay.  A TRUE criterion that decays earns
 * its weight times *factor, from the age of its time; when that time is
 * unknown its points are unknown, and so is the criterion.  FALSE and
 * UNKNOWN outcomes earn nothing and do not look at the time.  *factor is 1
 * without decay.  IcpPrepareRun must have run.
 */
IcpTri
IcpEvalCriterion(IcpRun *run, int i, IcpAccount *acc, double *factor)
{
	IcpBinding *b = run->b;
	IcpTri		t = IcpEvalExpr(run, b->rules[i], acc);
	IcpBExpr   *d;
	TimestampTz ts;

	*factor = 1.0;
	if (t != ICP_TRUE || b->decay == NULL || (d = b->decay[i]) == NULL)
		return t;
	run->in_decay = true;
	if (!IcpDecayTime(d, acc, &ts))
	{
		run->in_decay = false;
		return ICP_UNKNOWN;
	}
	run->in_decay = false;
	*factor = DecayFactor(AgeSeconds(run->now, ts),
						  run->cp->criteria[i].half_life_secs);
	return t;
}

/*
 * For explain: the time, age and factor of criterion i's decay; false when
 * the criterion does not decay or its time is unknown.
 */
bool
IcpDecayAge(IcpRun *run, int i, IcpAccount *acc, TimestampTz *ts,
			double *age_secs, double *factor)
{
	IcpBExpr   *d;

	if (run->b->decay == NULL || (d = run->b->decay[i]) == NULL)
		return false;
	IcpPrepareRun(run);
	if (!IcpDecayTime(d, acc, ts))
		return false;
	*age_secs = AgeSeconds(run->now, *ts);
	*factor = DecayFactor(*age_secs, run->cp->criteria[i].half_life_secs);
	return true;
}

/* Grade of a fit under the profile's thresholds */
char
IcpGradeFor(IcpCompiled *cp, double fit)
{
	if (fit >= cp->thresholds[0])
		return 'A';
	if (fit >= cp->thresholds[1])
		return 'B';
	if (fit >= cp->thresholds[2])
		return 'C';
	return 'D';
}

/* Raise the error for sums of weights that leave the range of float8 */
static void
ReportOverflow(const IcpCompiled *cp)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("icp profile \"%s\": the sum of its weights is out of range",
					cp->name ? cp->name : "(value)"),
			 errhint("Use weights of a sensible size; README, Scoring, gives the bound.")));
}

/* points: fit = 100 * clamp(earned / possible, 0, 1); NULL when nothing counts */
static double
PointsFit(const IcpCompiled *cp, const IcpSums *sums, bool *fit_null)
{
	double		fit;

	if (!sums->counted || sums->possible <= 0)
	{
		*fit_null = true;
		return 0;
	}
	fit = 100.0 * sums->earned / sums->possible;
	return fit < 0 ? 0 : (fit > 100 ? 100 : fit);
}

/* logistic: fit = 100 * sigmoid(bias + earned) */
static double
LogisticFit(const IcpCompiled *cp, const IcpSums *sums, bool *fit_null)
{
	return 100.0 / (1.0 + exp(-(cp->bias + sums->earned)));
}

/* The scoring models, in IcpModel order */
static const IcpModelDef models[] = {
	{ICP_MODEL_POINTS, "points", PointsFit},
	{ICP_MODEL_LOGISTIC, "logistic", LogisticFit},
};

/* The missing-data policies, in IcpMissing order */
static const IcpMissingDef missing_policies[] = {
	{ICP_MISSING_IGNORE, "ignore", false},
	{ICP_MISSING_PENALIZE, "penalize", true},
};

/* The scoring model of a profile */
const IcpModelDef *
IcpModelOf(const IcpCompiled *cp)
{
	Assert(cp->model < lengthof(models) && models[cp->model].model == cp->model);
	return &models[cp->model];
}

/* The missing-data policy of a profile */
const IcpMissingDef *
IcpMissingOf(const IcpCompiled *cp)
{
	Assert(cp->missing < lengthof(missing_policies) &&
		   missing_policies[cp->missing].missing == cp->missing);
	return &missing_policies[cp->missing];
}

/* Whether an UNKNOWN criterion counts as FALSE under the profile's policy */
bool
IcpUnknownIsFalse(const IcpCompiled *cp)
{
	return IcpMissingOf(cp)->unknown_is_false;
}

/* Whether an outcome of a criterion disqualifies the account */
bool
IcpOutcomeDisqualifies(const IcpCompiled *cp, const IcpCriterion *c, IcpTri t)
{
	return c->required &&
		(t == ICP_FALSE || (t == ICP_UNKNOWN && IcpUnknownIsFalse(cp)));
}

/*
 * Add one criterion's outcome to the sums.  A TRUE criterion earns its
 * weight times factor (1, or its decay); possible and known use the plain
 * weight.  An UNKNOWN one counts (as FALSE, and so may disqualify) only when
 * the policy says so (unknown_false).  Inlined into the per-row loop.
 */
static inline void
AddOutcome(const IcpCriterion *c, IcpTri t, double factor, bool unknown_false,
		   IcpSums *sums)
{
	if (t == ICP_TRUE)
	{
		sums->earned += c->weight * factor;
		sums->known += fabs(c->weight);
	}
	else
	{
		if (t == ICP_FALSE)
			sums->known += fabs(c->weight);
		else if (!unknown_false)
			return;				/* an unknown that does not count */
		if (c->required)
			sums->disqualified = true;
	}
	sums->counted = true;
	if (c->weight > 0)
		sums->possible += c->weight;
}

/* Add one criterion's outcome to the sums, under the profile's policy */
void
IcpAddOutcome(const IcpCompiled *cp, const IcpCriterion *c, IcpTri t,
			  double factor, IcpSums *sums)
{
	Assert((c->required && t != ICP_TRUE &&
			(t == ICP_FALSE || IcpUnknownIsFalse(cp))) ==
		   IcpOutcomeDisqualifies(cp, c, t));
	AddOutcome(c, t, factor, IcpUnknownIsFalse(cp), sums);
}

/*
 * Turn the sums into a result: the model's fit, 0 and grade D when
 * disqualified, coverage = share of the absolute weight whose outcome was
 * known.  A sum that is not finite is an error (22003), never a NaN fit.
 */
void
IcpFinishScore(const IcpCompiled *cp, const IcpSums *sums, IcpResult *res)
{
	if (!isfinite(sums->earned) || !isfinite(sums->possible) ||
		!isfinite(sums->known) || !isfinite(cp->bias + sums->earned))
		ReportOverflow(cp);

	res->earned = sums->earned;
	res->disqualified = sums->disqualified;
	res->coverage_null = (cp->total_abs_weight <= 0);
	res->coverage = res->coverage_null ? 0 : sums->known / cp->total_abs_weight;
	res->fit_null = false;
	if (sums->disqualified)
		res->fit = 0;
	else
		res->fit = IcpModelOf(cp)->fit(cp, sums, &res->fit_null);
	if (!res->fit_null && isnan(res->fit))
		ReportOverflow(cp);
	if (res->fit_null)
	{
		res->fit = 0;
		res->grade = 0;
	}
	else
		res->grade = sums->disqualified ? 'D' : IcpGradeFor((IcpCompiled *) cp, res->fit);
}

/*
 * Score an account: evaluate every criterion, add its outcome
 * (IcpAddOutcome) and finish with the profile's model (IcpFinishScore).
 * outcomes, when given, receives each criterion's three-valued result.
 */
void
IcpScoreAccount(IcpRun *run, IcpAccount *acc, IcpResult *res, IcpTri *outcomes)
{
	IcpCompiled *cp = run->cp;
	IcpBinding *b = run->b;
	IcpSums		sums = {0, 0, 0, false, false};
	bool		unknown_false = IcpUnknownIsFalse(cp);
	int			i;

	IcpPrepareRun(run);
	for (i = 0; i < cp->ncriteria; i++)
	{
		IcpTri		t;
		double		factor = 1.0;

		run->current = i;
		if (likely(b->decay == NULL))
			t = IcpEvalExpr(run, b->rules[i], acc);
		else
			t = IcpEvalCriterion(run, i, acc, &factor);
		if (outcomes)
			outcomes[i] = t;
		AddOutcome(&cp->criteria[i], t, factor, unknown_false, &sums);
	}
	run->current = -1;
	IcpFinishScore(cp, &sums, res);
}

/* Error context: which profile (and criterion) was being scored */
void
IcpScoringErrorCallback(void *arg)
{
	IcpRun	   *run = (IcpRun *) arg;
	IcpCompiled *cp = run->cp;
	IcpCriterion *c;

	if (cp == NULL)
		return;
	if (run->current < 0 || run->current >= cp->ncriteria)
	{
		errcontext("scoring with icp profile \"%s\"", cp->name ? cp->name : "(value)");
		return;
	}
	c = &cp->criteria[run->current];
	if (run->in_decay && c->decays)
		errcontext("scoring with icp profile \"%s\", criterion %lld (%s), reading its decay_on %s",
				   cp->name ? cp->name : "(value)",
				   (long long) (c->id != 0 ? c->id : run->current + 1),
				   c->rule_text, c->decay_on);
	else if (c->id != 0)
		errcontext("scoring with icp profile \"%s\", criterion %lld (%s)",
				   cp->name ? cp->name : "(value)", (long long) c->id, c->rule_text);
	else
		errcontext("scoring with icp profile \"%s\", criterion %d (%s)",
				   cp->name ? cp->name : "(value)", run->current + 1, c->rule_text);
}

/* Append "attr=value" for one predicate's attribute */
static void
DescribeOne(StringInfo buf, IcpBExpr *e, IcpAccount *acc)
{
	if (buf->len > 0)
		appendStringInfoString(buf, ", ");
	IcpAppendAttrPath(buf, e->node->npath, e->node->path);
	appendStringInfoChar(buf, '=');
	if (e->attno < 0 || e->nkeys > 0 || e->typid == JSONBOID)
	{
		JsonbValue	v;

		if (!FetchJson(e, acc, &v))
			appendStringInfoString(buf, "NULL");
		else
		{
			text	   *t = JsonAsText(&v);

			appendBinaryStringInfo(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		}
	}
	else if (acc->isnull[e->attno])
		appendStringInfoString(buf, "NULL");
	else
	{
		Oid			outfunc;
		bool		isvarlena;

		getTypeOutputInfo(TupleDescAttr(acc->tupdesc, e->attno)->atttypid,
						  &outfunc, &isvarlena);
		appendStringInfoString(buf, OidOutputFunctionCall(outfunc,
														  acc->values[e->attno]));
	}
}

/* Collect distinct predicates (by attribute) of a tree and describe them */
static void
DescribeTree(StringInfo buf, IcpBExpr *e, IcpAccount *acc, List **seen)
{
	ListCell   *lc;
	int			i;

	if (e->kind == EK_AND || e->kind == EK_OR || e->kind == EK_NOT)
	{
		for (i = 0; i < e->nargs; i++)
			DescribeTree(buf, e->args[i], acc, seen);
		return;
	}
	foreach(lc, *seen)
	{
		IcpNode    *n = (IcpNode *) lfirst(lc);
		int			k;

		if (n->npath != e->node->npath)
			continue;
		for (k = 0; k < n->npath; k++)
			if (strcmp(n->path[k], e->node->path[k]) != 0)
				break;
		if (k == n->npath)
			return;
	}
	*seen = lappend(*seen, e->node);
	DescribeOne(buf, e, acc);
}

/* The attribute values a criterion reads, as "a=1, b=NULL" */
void
IcpDescribeValues(StringInfo buf, IcpRun *run, IcpBExpr *e, IcpAccount *acc)
{
	List	   *seen = NIL;

	DescribeTree(buf, e, acc, &seen);
	list_free(seen);
}

/*
 * Append the time a decaying criterion reads, its age at now() and the
 * factor its points are multiplied by: ", last_seen=... (age 3 days, decay
 * 0.933)"; *factor receives the factor (1 when the time is unknown).
 */
void
IcpDescribeDecay(StringInfo buf, IcpRun *run, int i, IcpAccount *acc,
				 double *factor)
{
	IcpBExpr   *d = run->b->decay ? run->b->decay[i] : NULL;
	TimestampTz ts;
	double		age;

	*factor = 1.0;
	if (d == NULL)
		return;
	DescribeOne(buf, d, acc);
	if (!IcpDecayAge(run, i, acc, &ts, &age, factor))
	{
		appendStringInfoString(buf, " (age unknown)");
		return;
	}
	if (TIMESTAMP_NOT_FINITE(ts))
		appendStringInfo(buf, " (age %s", TIMESTAMP_IS_NOEND(ts) ? "-infinity" : "infinity");
	else
	{
		Datum		iv = DirectFunctionCall2(timestamp_mi,
											 TimestampTzGetDatum(run->now),
											 TimestampTzGetDatum(ts));

		appendStringInfo(buf, " (age %s",
						 DatumGetCString(DirectFunctionCall1(interval_out, iv)));
	}
	appendStringInfo(buf, ", decay %.6g)", *factor);
}
