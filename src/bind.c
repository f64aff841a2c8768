/*
 * bind.c
 *		Bind a compiled profile to a row type, or to jsonb accounts.
 *
 * For every predicate: resolve the attribute to a column (a.b: key b of the
 * jsonb column a), convert the literals with the column type's input
 * function, look up the comparison support of the type's default operator
 * classes and pick a specialised evaluator (see IcpEvalKind).  Any error is
 * re-raised with the profile, the criterion and its rule in the message.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

#include "bind.h"

/* Everything a predicate's binding needs to know and to report */
typedef struct BindContext
{
	IcpCompiled *cp;
	IcpBinding *b;
	IcpCriterion *crit;
	const char *what;			/* the criterion's part being bound, for messages */
	const char *rowtype;		/* for messages */
	MemoryContext errcxt;		/* outlives the binding: for error data */
} BindContext;

static IcpBExpr *BindNode(BindContext *ctx, IcpNode *node);

/* Text handed to a type's input function for a literal */
static char *
LiteralCString(const IcpLiteral *lit)
{
	if (lit->type == ICP_LIT_BOOL)
		return lit->boolval ? "true" : "false";
	return lit->str;
}

/* Convert a literal with the input function of a type */
static Datum
LiteralToType(const IcpLiteral *lit, Oid typid)
{
	Oid			infunc;
	Oid			ioparam;

	getTypeInputInfo(typid, &infunc, &ioparam);
	return OidInputFunctionCall(infunc, LiteralCString(lit), ioparam, -1);
}

/* The attribute path of a predicate as text, for messages */
static char *
PathText(IcpNode *node)
{
	StringInfoData buf;

	initStringInfo(&buf);
	IcpAppendAttrPath(&buf, node->npath, node->path);
	return buf.data;
}

/* Closest column name to a misspelt one, or NULL */
static const char *
NearestColumn(TupleDesc tupdesc, const char *name)
{
	const char *best = NULL;
	int			bestd = Max(2, (int) strlen(name) / 3) + 1;
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		const char *an = NameStr(att->attname);
		int			d;

		if (att->attisdropped)
			continue;
		d = varstr_levenshtein(name, strlen(name), an, strlen(an), 1, 1, 1, true);
		if (d < bestd)
		{
			bestd = d;
			best = an;
		}
	}
	return best;
}

/* Raise "operator not supported" for a predicate on a column type */
static void
ReportNoOperator(BindContext *ctx, IcpNode *node, Oid typid, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_FUNCTION),
			 errmsg("operator %s is not supported for column \"%s\" of type %s",
					IcpOpName(node->op), PathText(node), format_type_be(typid)),
			 errdetail("%s", why),
			 errhint("Use an operator the column's type supports, or change the column's type.")));
}

/* Integer bounds of a literal: floor and ceiling, clamped just past int64 */
static void
IntBounds(const IcpLiteral *lit, Oid typid, int128 *fl, int128 *cl)
{
	if (lit->type == ICP_LIT_NUMBER)
	{
		Datum		num = DirectFunctionCall3(numeric_in, CStringGetDatum(lit->str),
											  ObjectIdGetDatum(InvalidOid),
											  Int32GetDatum(-1));
		Datum		maxn = DirectFunctionCall1(int8_numeric, Int64GetDatum(PG_INT64_MAX));
		Datum		minn = DirectFunctionCall1(int8_numeric, Int64GetDatum(PG_INT64_MIN));
		Datum		f = DirectFunctionCall1(numeric_floor, num);
		Datum		c = DirectFunctionCall1(numeric_ceil, num);

		if (numeric_is_nan(DatumGetNumeric(num)))
		{
			/* NaN sorts above every number, as in SQL */
			*fl = *cl = (int128) PG_INT64_MAX + 1;
			return;
		}
		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, f, maxn)) > 0)
			*fl = (int128) PG_INT64_MAX + 1;
		else if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, f, minn)) < 0)
			*fl = (int128) PG_INT64_MIN - 1;
		else
			*fl = DatumGetInt64(DirectFunctionCall1(numeric_int8, f));
		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, c, maxn)) > 0)
			*cl = (int128) PG_INT64_MAX + 1;
		else if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, c, minn)) < 0)
			*cl = (int128) PG_INT64_MIN - 1;
		else
			*cl = DatumGetInt64(DirectFunctionCall1(numeric_int8, c));
	}
	else
	{
		Datum		d = LiteralToType(lit, typid);
		int64		v;

		if (typid == INT2OID)
			v = DatumGetInt16(d);
		else if (typid == INT4OID)
			v = DatumGetInt32(d);
		else
			v = DatumGetInt64(d);
		*fl = *cl = v;
	}
}

/* Turn an integer range into EK_INT_RANGE or, when empty, EK_CONST */
static void
SetIntRange(IcpBExpr *e, int128 lo, int128 hi)
{
	if (lo < PG_INT64_MIN)
		lo = PG_INT64_MIN;
	if (hi > PG_INT64_MAX)
		hi = PG_INT64_MAX;
	if (lo > hi)
	{
		e->kind = EK_CONST;
		e->constval = e->negated ? ICP_TRUE : ICP_FALSE;
		e->negated = false;
		return;
	}
	e->kind = EK_INT_RANGE;
	e->lo = (int64) lo;
	e->hi = (int64) hi;
}

/* qsort comparator for int64 */
static int
CmpInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* Bind a comparison, BETWEEN or IN on an integer column */
static void
BindIntPred(IcpBExpr *e, IcpNode *node, Oid typid)
{
	int128		fl,
				cl,
				fl2,
				cl2;
	const int128 MIN = (int128) PG_INT64_MIN;
	const int128 MAX = (int128) PG_INT64_MAX;
	int			i;

	switch (node->op)
	{
		case ICP_OP_EQ:
		case ICP_OP_NE:
			IntBounds(&node->lits[0], typid, &fl, &cl);
			e->negated = (node->op == ICP_OP_NE);
			if (fl != cl)		/* not an integer: never equal */
				SetIntRange(e, 1, 0);
			else
				SetIntRange(e, fl, fl);
			break;
		case ICP_OP_LT:
			IntBounds(&node->lits[0], typid, &fl, &cl);
			SetIntRange(e, MIN, cl - 1);
			break;
		case ICP_OP_LE:
			IntBounds(&node->lits[0], typid, &fl, &cl);
			SetIntRange(e, MIN, fl);
			break;
		case ICP_OP_GT:
			IntBounds(&node->lits[0], typid, &fl, &cl);
			SetIntRange(e, fl + 1, MAX);
			break;
		case ICP_OP_GE:
			IntBounds(&node->lits[0], typid, &fl, &cl);
			SetIntRange(e, cl, MAX);
			break;
		case ICP_OP_BETWEEN:
			IntBounds(&node->lits[0], typid, &fl, &cl);
			IntBounds(&node->lits[1], typid, &fl2, &cl2);
			SetIntRange(e, cl, fl2);
			break;
		case ICP_OP_IN:
			e->ints = palloc(sizeof(int64) * node->nlits);
			e->nints = 0;
			for (i = 0; i < node->nlits; i++)
			{
				if ((i & 1023) == 0)
					CHECK_FOR_INTERRUPTS();
				IntBounds(&node->lits[i], typid, &fl, &cl);
				if (fl == cl && fl >= MIN && fl <= MAX)
					e->ints[e->nints++] = (int64) fl;
			}
			if (e->nints == 0)
			{
				SetIntRange(e, 1, 0);
				break;
			}
			qsort(e->ints, e->nints, sizeof(int64), CmpInt64);
			e->kind = EK_INT_SET;
			break;
		default:
			Assert(false);
	}
}

/* A float literal: numbers as float8, strings through the column's type */
static double
FloatLiteral(const IcpLiteral *lit, Oid typid)
{
	if (lit->type == ICP_LIT_NUMBER)
		return DatumGetFloat8(DirectFunctionCall1(float8in, CStringGetDatum(lit->str)));
	if (typid == FLOAT4OID)
		return (double) DatumGetFloat4(LiteralToType(lit, FLOAT4OID));
	return DatumGetFloat8(LiteralToType(lit, FLOAT8OID));
}

/* Bind a comparison, BETWEEN or IN on a float column */
static void
BindFloatPred(IcpBExpr *e, IcpNode *node, Oid typid)
{
	int			i;

	e->kind = EK_FLOAT_CMP;
	e->op = node->op;
	if (node->op == ICP_OP_IN)
	{
		e->nconsts = node->nlits;
		e->consts = palloc(sizeof(Datum) * node->nlits);
		for (i = 0; i < node->nlits; i++)
			e->consts[i] = Float8GetDatum(FloatLiteral(&node->lits[i], typid));
	}
	else
	{
		e->d1 = FloatLiteral(&node->lits[0], typid);
		if (node->op == ICP_OP_BETWEEN)
			e->d2 = FloatLiteral(&node->lits[1], typid);
	}
}

/* qsort comparator for byte strings: by length, then bytes */
static int
CmpBytes(const void *a, const void *b)
{
	const IcpBytes *x = (const IcpBytes *) a;
	const IcpBytes *y = (const IcpBytes *) b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->data, y->data, x->len);
}

/* Literal list as sorted byte strings (text with a deterministic collation) */
static void
BindBytesSet(IcpBExpr *e, IcpNode *node)
{
	int			i;

	e->kind = EK_BYTES_SET;
	e->nconsts = node->nlits;
	e->bytes = palloc(sizeof(IcpBytes) * node->nlits);
	for (i = 0; i < node->nlits; i++)
	{
		const char *s = LiteralCString(&node->lits[i]);

		e->bytes[i].data = pstrdup(s);
		e->bytes[i].len = strlen(s);
	}
	qsort(e->bytes, e->nconsts, sizeof(IcpBytes), CmpBytes);
}

/* Whether bytewise equality is the type's equality under this collation */
static bool
IsBytewiseText(Oid typid, Oid collation)
{
	if (typid != TEXTOID && typid != VARCHAROID)
		return false;
	if (!OidIsValid(collation))
		return true;
	return get_collation_isdeterministic(collation);
}

/* Comparator context for sorting Datums with a btree comparison function */
typedef struct SortCmpArg
{
	FmgrInfo   *fn;
	Oid			collation;
} SortCmpArg;

/* qsort_arg comparator calling the type's btree comparison function */
static int
CmpDatums(const void *a, const void *b, void *arg)
{
	SortCmpArg *s = (SortCmpArg *) arg;

	return DatumGetInt32(FunctionCall2Coll(s->fn, s->collation,
										   *(const Datum *) a,
										   *(const Datum *) b));
}

/* Bind a comparison, BETWEEN or IN through the type's default opclasses */
static void
BindGenericPred(BindContext *ctx, IcpBExpr *e, IcpNode *node, Oid typid)
{
	TypeCacheEntry *tce;
	bool		ordering = (node->op != ICP_OP_EQ && node->op != ICP_OP_NE &&
							node->op != ICP_OP_IN);
	int			i;

	tce = lookup_type_cache(typid, TYPECACHE_CMP_PROC_FINFO | TYPECACHE_EQ_OPR_FINFO);
	e->op = node->op;
	e->nconsts = node->nlits;
	e->consts = palloc(sizeof(Datum) * node->nlits);
	for (i = 0; i < node->nlits; i++)
	{
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		e->consts[i] = LiteralToType(&node->lits[i], typid);
	}

	if (OidIsValid(tce->cmp_proc_finfo.fn_oid))
	{
		fmgr_info_copy(&e->fn, &tce->cmp_proc_finfo, CurrentMemoryContext);
		if (node->op == ICP_OP_IN)
		{
			SortCmpArg arg = {&e->fn, e->collation};

			qsort_arg(e->consts, e->nconsts, sizeof(Datum), CmpDatums, &arg);
			e->kind = EK_GENERIC_SET;
		}
		else
			e->kind = EK_GENERIC_CMP;
	}
	else if (!ordering && OidIsValid(tce->eq_opr_finfo.fn_oid))
	{
		fmgr_info_copy(&e->fn, &tce->eq_opr_finfo, CurrentMemoryContext);
		e->kind = EK_GENERIC_EQSET;
		if (node->op == ICP_OP_NE)
			e->negated = !e->negated;
	}
	else
		ReportNoOperator(ctx, node, typid,
						 ordering ? "The type has no default btree operator class." :
						 "The type has no default equality operator.");
}

/* Name of the schema a type lives in */
static char *
TypeNamespaceName(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Oid			nsp;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", typid);
	nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
	ReleaseSysCache(tup);
	return get_namespace_name(nsp);
}

/* Bind LIKE / ILIKE / ~ / ~* using the type's own operator when it has one */
static void
BindPatternPred(BindContext *ctx, IcpBExpr *e, IcpNode *node, Oid typid)
{
	const char *opname;
	Oid			opr = InvalidOid;
	Oid			right = InvalidOid;
	char		typcategory;
	bool		typispreferred;

	switch (node->op)
	{
		case ICP_OP_LIKE:
			opname = "~~";
			break;
		case ICP_OP_ILIKE:
			opname = "~~*";
			break;
		case ICP_OP_REGEX:
			opname = "~";
			break;
		default:
			opname = "~*";
			break;
	}

	e->kind = EK_PATTERN;
	if (typid == TEXTOID || typid == VARCHAROID)
	{
		opr = OpernameGetOprid(list_make2(makeString("pg_catalog"), makeString((char *) opname)),
							   TEXTOID, TEXTOID);
		right = TEXTOID;
	}
	else
	{
		char	   *nsp = TypeNamespaceName(typid);

		if (nsp)
		{
			right = typid;
			opr = OpernameGetOprid(list_make2(makeString(nsp), makeString((char *) opname)),
								   typid, typid);
			if (!OidIsValid(opr))
			{
				right = TEXTOID;
				opr = OpernameGetOprid(list_make2(makeString(nsp), makeString((char *) opname)),
									   typid, TEXTOID);
			}
		}
	}
	if (!OidIsValid(opr))
	{
		get_type_category_preferred(typid, &typcategory, &typispreferred);
		if (typcategory != TYPCATEGORY_STRING)
			ReportNoOperator(ctx, node, typid, "It needs a text column.");
		/* a string type without its own operator: match its text form */
		e->to_text = true;
		{
			Oid			outfunc;
			bool		isvarlena;

			getTypeOutputInfo(typid, &outfunc, &isvarlena);
			fmgr_info(outfunc, &e->outfn);
		}
		opr = OpernameGetOprid(list_make2(makeString("pg_catalog"), makeString((char *) opname)),
							   TEXTOID, TEXTOID);
		right = TEXTOID;
		if (!OidIsValid(e->collation))
			e->collation = DEFAULT_COLLATION_OID;
	}
	fmgr_info(get_opcode(opr), &e->fn);
	e->nconsts = 1;
	e->consts = palloc(sizeof(Datum));
	e->consts[0] = LiteralToType(&node->lits[0], right);
}

/* Bind CONTAINS / CONTAINS ANY / CONTAINS ALL on an array column */
static void
BindArrayPred(BindContext *ctx, IcpBExpr *e, IcpNode *node, Oid elemtype)
{
	TypeCacheEntry *tce;
	int			i;

	e->kind = EK_ARRAY_CONTAINS;
	e->op = node->op;
	e->elemtype = elemtype;
	get_typlenbyvalalign(elemtype, &e->elemlen, &e->elembyval, &e->elemalign);
	elemtype = getBaseType(elemtype);
	e->nconsts = node->nlits;
	if (IsBytewiseText(elemtype, e->collation))
	{
		e->elem_bytes = true;
		e->bytes = palloc(sizeof(IcpBytes) * node->nlits);
		for (i = 0; i < node->nlits; i++)
		{
			const char *s = LiteralCString(&node->lits[i]);

			e->bytes[i].data = pstrdup(s);
			e->bytes[i].len = strlen(s);
		}
		return;
	}
	tce = lookup_type_cache(elemtype, TYPECACHE_EQ_OPR_FINFO);
	if (!OidIsValid(tce->eq_opr_finfo.fn_oid))
		ReportNoOperator(ctx, node, elemtype, "The array's element type has no default equality operator.");
	fmgr_info_copy(&e->fn, &tce->eq_opr_finfo, CurrentMemoryContext);
	e->consts = palloc(sizeof(Datum) * node->nlits);
	for (i = 0; i < node->nlits; i++)
		e->consts[i] = LiteralToType(&node->lits[i], elemtype);
}

/* Literals of a predicate evaluated on jsonb values, pre-converted */
static void
BindDynamicPred(IcpBExpr *e, IcpNode *node)
{
	int			i;

	e->kind = EK_DYNAMIC;
	e->op = node->op;
	e->collation = DEFAULT_COLLATION_OID;
	e->numerics = palloc0(sizeof(Datum) * Max(node->nlits, 1));
	e->consts = palloc0(sizeof(Datum) * Max(node->nlits, 1));
	e->lit_is_ts = palloc0(sizeof(bool) * Max(node->nlits, 1));
	e->lit_ts = palloc0(sizeof(TimestampTz) * Max(node->nlits, 1));
	for (i = 0; i < node->nlits; i++)
	{
		IcpLiteral *lit = &node->lits[i];

		if (lit->type == ICP_LIT_NUMBER)
			e->numerics[i] = DirectFunctionCall3(numeric_in, CStringGetDatum(lit->str),
												 ObjectIdGetDatum(InvalidOid),
												 Int32GetDatum(-1));
		/* text form of every literal, for text comparisons and patterns */
		e->consts[i] = PointerGetDatum(cstring_to_text(LiteralCString(lit)));
		/* JSON has no dates: an ISO date literal compares as a date */
		if (lit->type == ICP_LIT_STRING)
			e->lit_is_ts[i] = IcpParseIsoTimestamp(lit->str, lit->len, &e->lit_ts[i]);
	}
	if (node->op == ICP_OP_WITHIN)
		e->interval = DatumGetIntervalP(DirectFunctionCall3(interval_in,
															CStringGetDatum(node->lits[0].str),
															ObjectIdGetDatum(InvalidOid),
															Int32GetDatum(-1)));
}

/* Find a column by name, or raise 42703 with a hint */
static int
FindColumn(BindContext *ctx, IcpNode *node)
{
	TupleDesc	tupdesc = ctx->b->tupdesc;
	const char *name = node->path[0];
	const char *near;
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	near = NearestColumn(tupdesc, name);
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("column \"%s\" does not exist in row type %s", name, ctx->rowtype),
			 near ? errhint("Perhaps you meant \"%s\".", near) :
			 errhint("Fix the rule, or score a row type that has this column.")));
	return -1;
}

/*
 * The session settings (ICP_DEP_*) a literal of type typid depends on when
 * converted: none for the types whose input ignores them, all of them for a
 * type icp does not know.
 */
static int
SettingsDeps(Oid typid)
{
	switch (typid)
	{
		case BOOLOID:
		case CHAROID:
		case NAMEOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case BYTEAOID:
		case UUIDOID:
		case JSONOID:
		case JSONBOID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
		case BITOID:
		case VARBITOID:
			return 0;
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return ICP_DEP_DATETIME;
		case INTERVALOID:
			return ICP_DEP_INTERVAL;
		case CASHOID:
			return ICP_DEP_MONEY;
		case REGCLASSOID:
		case REGTYPEOID:
		case REGPROCOID:
		case REGPROCEDUREOID:
		case REGOPEROID:
		case REGOPERATOROID:
		case REGCONFIGOID:
		case REGDICTIONARYOID:
		case REGNAMESPACEOID:
		case REGROLEOID:
		case REGCOLLATIONOID:
			return ICP_DEP_SEARCH_PATH;
		default:
			return type_is_enum(typid) ? 0 : ICP_DEP_ALL;
	}
}

/* =, <>, <, <=, >, >=, BETWEEN and IN on a typed column */
static void
BindCompare(BindContext *ctx, IcpBExpr *e, IcpNode *node, Oid typid)
{
	ctx->b->deps |= SettingsDeps(typid);
	if (typid == INT2OID || typid == INT4OID || typid == INT8OID)
		BindIntPred(e, node, typid);
	else if (typid == FLOAT4OID || typid == FLOAT8OID)
		BindFloatPred(e, node, typid);
	else if ((node->op == ICP_OP_EQ || node->op == ICP_OP_NE ||
			  node->op == ICP_OP_IN) && IsBytewiseText(typid, e->collation))
	{
		BindBytesSet(e, node);
		if (node->op == ICP_OP_NE)
			e->negated = !e->negated;
	}
	else
		BindGenericPred(ctx, e, node, typid);
}

/* IS [NOT] TRUE and IS [NOT] FALSE on a boolean column */
static void
BindBoolTest(BindContext *ctx, IcpBExpr *e, IcpNode *node, Oid typid)
{
	if (typid != BOOLOID)
		ReportNoOperator(ctx, node, typid, "It needs a boolean column.");
	e->kind = EK_BOOLTEST;
	e->op = node->op;
}

/* LIKE, ILIKE, ~ and ~* on a typed column */
static void
BindPattern(BindContext *ctx, IcpBExpr *e, IcpNode *node, Oid typid)
{
	ctx->b->deps |= SettingsDeps(typid);
	BindPatternPred(ctx, e, node, typid);
}

/* CONTAINS, CONTAINS ANY and CONTAINS ALL on an array column */
static void
BindContains(BindContext *ctx, IcpBExpr *e, IcpNode *node, Oid typid)
{
	Oid			elemtype = get_element_type(typid);

	if (!OidIsValid(elemtype))
		ReportNoOperator(ctx, node, typid, "It needs an array or jsonb column.");
	ctx->b->deps |= SettingsDeps(getBaseType(elemtype));
	BindArrayPred(ctx, e, node, elemtype);
}

/* WITHIN on a date, timestamp or timestamptz column */
static void
BindWithin(BindContext *ctx, IcpBExpr *e, IcpNode *node, Oid typid)
{
	ctx->b->deps |= ICP_DEP_DATETIME | ICP_DEP_INTERVAL;
	if (typid != DATEOID && typid != TIMESTAMPOID && typid != TIMESTAMPTZOID)
		ReportNoOperator(ctx, node, typid,
						 "It needs a date, timestamp or timestamptz column.");
	e->kind = EK_WITHIN;
	e->interval = DatumGetIntervalP(DirectFunctionCall3(interval_in,
														CStringGetDatum(node->lits[0].str),
														ObjectIdGetDatum(InvalidOid),
														Int32GetDatum(-1)));
}

/* Binds a predicate on a typed column: the operator table's bind column */
typedef void (*IcpBindFn) (BindContext *ctx, IcpBExpr *e, IcpNode *node, Oid typid);

#define ICP_OPERATOR(op, name, form, negation, arity, literals, validate, hint, bind, eval_json) \
	bind,
static const IcpBindFn binders[] = {
#include "rule_ops.h"
};
#undef ICP_OPERATOR

StaticAssertDecl(lengthof(binders) == ICP_OP_MAX,
				 "rule_ops.h must have one line per IcpOp");

/*
 * Resolve where a predicate's (or a decay's) value comes from: the column,
 * its type, and the jsonb keys to follow from there
 */
static void
BindSource(BindContext *ctx, IcpBExpr *e, IcpNode *node)
{
	Form_pg_attribute att;
	int			i;

	e->node = node;

	if (ctx->b->is_jsonb)
	{
		e->attno = -1;
		e->nkeys = node->npath;
		e->keys = node->path;
	}
	else
	{
		e->attno = FindColumn(ctx, node);
		att = TupleDescAttr(ctx->b->tupdesc, e->attno);
		ctx->b->reads[e->attno] = true;
		e->typid = getBaseType(att->atttypid);
		e->collation = att->attcollation;
		get_typlenbyvalalign(e->typid, &e->typlen, &e->typbyval, &e->typalign);
		if (node->npath > 1 && e->typid != JSONBOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("attribute %s needs column \"%s\" to be of type jsonb, but it is of type %s",
							PathText(node), node->path[0], format_type_be(att->atttypid)),
					 errhint("A dotted attribute a.b reads key b of the jsonb column a.")));
		e->nkeys = node->npath - 1;
		e->keys = node->path + 1;
	}
	e->keylens = palloc(sizeof(int) * Max(e->nkeys, 1));
	for (i = 0; i < e->nkeys; i++)
		e->keylens[i] = strlen(e->keys[i]);
}

/* Bind one predicate */
static IcpBExpr *
BindPred(BindContext *ctx, IcpNode *node)
{
	IcpBExpr   *e = palloc0(sizeof(IcpBExpr));

	e->negated = node->negated;
	BindSource(ctx, e, node);

	/* an operator that only asks whether the value is there */
	if (binders[node->op - 1] == NULL)
	{
		e->kind = EK_NULLTEST;
		return e;
	}

	/* jsonb accounts and jsonb columns: compared by the values' JSON types */
	if (ctx->b->is_jsonb || e->typid == JSONBOID)
	{
		BindDynamicPred(e, node);
		/* date-like strings and WITHIN intervals are read as dates */
		ctx->b->deps |= ICP_DEP_DATETIME | ICP_DEP_INTERVAL;
		return e;
	}

	binders[node->op - 1] (ctx, e, node, e->typid);
	return e;
}

/* Bind a rule tree */
static IcpBExpr *
BindNode(BindContext *ctx, IcpNode *node)
{
	IcpBExpr   *e;
	int			i;

	check_stack_depth();
	if (node->tag == ICP_NODE_PRED)
	{
		e = BindPred(ctx, node);
		if (e->kind == EK_WITHIN || (e->kind == EK_DYNAMIC && e->op == ICP_OP_WITHIN))
		{
			IcpBinding *b = ctx->b;

			b->within = b->within ? repalloc(b->within, sizeof(IcpBExpr *) * (b->nwithin + 1))
				: palloc(sizeof(IcpBExpr *));
			e->within_idx = b->nwithin;
			b->within[b->nwithin++] = e;
		}
		return e;
	}
	e = palloc0(sizeof(IcpBExpr));
	e->node = node;
	e->kind = node->tag == ICP_NODE_AND ? EK_AND :
		(node->tag == ICP_NODE_OR ? EK_OR : EK_NOT);
	e->nargs = node->nchildren;
	e->args = palloc(sizeof(IcpBExpr *) * node->nchildren);
	for (i = 0; i < node->nchildren; i++)
		e->args[i] = BindNode(ctx, node->children[i]);
	return e;
}

/*
 * Bind the time attribute a criterion's points decay by: a date,
 * timestamp or timestamptz column, or a jsonb value read as a timestamptz
 * (IcpDecayTime).  Date, timestamp and jsonb values become instants under
 * the session's TimeZone (and DateStyle, for jsonb text), so the binding
 * depends on those settings.
 */
static IcpBExpr *
BindDecay(BindContext *ctx, IcpCriterion *c)
{
	IcpBExpr   *e = palloc0(sizeof(IcpBExpr));
	IcpNode    *node = palloc0(sizeof(IcpNode));

	/* the attribute as a predicate node, for lookups and messages */
	node->tag = ICP_NODE_PRED;
	node->op = ICP_OP_IS_NULL;
	node->npath = c->decay_npath;
	node->path = c->decay_path;
	BindSource(ctx, e, node);
	e->kind = EK_DECAY_TIME;
	if (ctx->b->is_jsonb || e->typid == JSONBOID)
		e->typid = JSONBOID;
	else if (e->typid != DATEOID && e->typid != TIMESTAMPOID &&
			 e->typid != TIMESTAMPTZOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("decay_on column \"%s\" must be of type date, timestamp or timestamptz, but it is of type %s",
						PathText(node),
						format_type_be(TupleDescAttr(ctx->b->tupdesc, e->attno)->atttypid)),
				 errhint("Points decay by the age of a time attribute, such as the time of the last visit.")));
	if (e->typid != TIMESTAMPTZOID)
		ctx->b->deps |= ICP_DEP_DATETIME;
	return e;
}

/* Bind every criterion, re-raising errors with the profile and criterion named */
static void
BindCriteria(BindContext *ctx)
{
	IcpCompiled *cp = ctx->cp;
	int			i;

	ctx->b->rules = palloc0(sizeof(IcpBExpr *) * Max(cp->ncriteria, 1));
	for (i = 0; i < cp->ncriteria; i++)
	{
		MemoryContext bcxt = CurrentMemoryContext;

		ctx->crit = &cp->criteria[i];
		ctx->what = ctx->crit->rule_text;
		PG_TRY();
		{
			ctx->b->rules[i] = BindNode(ctx, cp->criteria[i].rule);
			if (ctx->crit->decays)
			{
				ctx->what = psprintf("decay_on %s", ctx->crit->decay_on);
				if (ctx->b->decay == NULL)
					ctx->b->decay = palloc0(sizeof(IcpBExpr *) * cp->ncriteria);
				ctx->b->decay[i] = BindDecay(ctx, ctx->crit);
				ctx->b->ndecay++;
			}
		}
		PG_CATCH();
		{
			ErrorData  *edata;
			char	   *crit;

			/* the binding's context is deleted on the way out: copy outside it */
			MemoryContextSwitchTo(ctx->errcxt);
			edata = CopyErrorData();
			if (edata->elevel != ERROR || edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
				PG_RE_THROW();
			FlushErrorState();
			crit = ctx->crit->id != 0 ? psprintf("criterion %lld", (long long) ctx->crit->id)
				: psprintf("criterion %d", i + 1);
			edata->message = psprintf("profile \"%s\", %s (%s): %s",
									  cp->name ? cp->name : "(value)", crit,
									  ctx->what, edata->message);
			MemoryContextSwitchTo(bcxt);
			ReThrowError(edata);
		}
		PG_END_TRY();
	}
}

/* Next identity number of a binding */
static uint64 next_binding_id = 1;

/*
 * Build a binding: for the row type typid/typmod, or for jsonb accounts when
 * typid is InvalidOid.  It lives in its own context under the profile's and
 * starts with one pin for the caller.  On error nothing is left behind.
 */
static IcpBinding *
BuildBinding(IcpCompiled *cp, Oid typid, int32 typmod, uint64 ident)
{
	MemoryContext cxt = AllocSetContextCreate(cp->cxt, "icp binding",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	IcpBinding *b = palloc0(sizeof(IcpBinding));
	BindContext ctx;
	TupleDesc	td;
	int			att;

	b->cxt = cxt;
	b->id = next_binding_id++;
	b->refcount = 1;
	b->type_generation = IcpTypeGeneration;
	IcpCurrentSettings(&b->settings);
	PG_TRY();
	{
		ctx.cp = cp;
		ctx.b = b;
		ctx.crit = NULL;
		ctx.errcxt = old;
		b->typmod = typmod;
		if (!OidIsValid(typid))
		{
			b->typid = JSONBOID;
			b->is_jsonb = true;
			ctx.rowtype = "jsonb";
			BindCriteria(&ctx);
		}
		else
		{
			b->typid = typid;
			b->tupdesc_id = ident;
			td = lookup_rowtype_tupdesc(typid, typmod);
			b->tupdesc = CreateTupleDescCopy(td);
			ReleaseTupleDesc(td);
			b->reads = palloc0(sizeof(bool) * Max(b->tupdesc->natts, 1));
			ctx.rowtype = typid == RECORDOID ? "record" : format_type_be(typid);
			BindCriteria(&ctx);
			b->readcols = palloc0(sizeof(int) * Max(b->tupdesc->natts, 1));
			for (att = 0; att < b->tupdesc->natts; att++)
				if (b->reads[att])
					b->readcols[b->nreadcols++] = att;
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return b;
}

/* Drop the profile list's pin of a binding; the last pin frees it */
static void
UnlinkBinding(IcpCompiled *cp, IcpBinding *b)
{
	IcpBinding **prev;

	for (prev = &cp->bindings; *prev != NULL; prev = &(*prev)->next)
	{
		if (*prev == b)
		{
			*prev = b->next;
			b->next = NULL;
			b->linked = false;
			IcpReleaseBinding(b);
			return;
		}
	}
}

/* Whether a binding still fits: same row type definition, types, settings */
static bool
BindingFits(IcpBinding *b, uint64 ident)
{
	return b->type_generation == IcpTypeGeneration &&
		(b->is_jsonb || b->tupdesc_id == ident) &&
		IcpSettingsMatch(&b->settings, b->deps);
}

/*
 * A binding of a profile to a row type (typid InvalidOid: to jsonb
 * accounts), pinned for the caller until IcpReleaseBinding.  Bindings are
 * cached in the profile; one that no longer fits is unlinked (and freed
 * once nobody uses it) and built anew.
 */
IcpBinding *
IcpAcquireBinding(IcpCompiled *cp, Oid typid, int32 typmod)
{
	bool		jsonb = !OidIsValid(typid);
	uint64		ident = jsonb ? 0 : assign_record_type_identifier(typid, typmod);
	IcpBinding *b;
	IcpBinding *next;

	for (b = cp->bindings; b != NULL; b = next)
	{
		next = b->next;
		if (b->is_jsonb != jsonb || (!jsonb && (b->typid != typid || b->typmod != typmod)))
			continue;
		if (BindingFits(b, ident))
		{
			b->refcount++;
			return b;
		}
		UnlinkBinding(cp, b);
	}
	b = BuildBinding(cp, typid, typmod, ident);
	b->next = cp->bindings;
	b->linked = true;
	b->refcount++;				/* the list's pin */
	cp->bindings = b;
	return b;
}

/* Let go of a pin on a binding; the last one frees it */
void
IcpReleaseBinding(IcpBinding *b)
{
	if (b == NULL)
		return;
	Assert(b->refcount > 0);
	if (--b->refcount == 0)
		MemoryContextDelete(b->cxt);
}

/* Unlink every binding of a profile that is being freed */
void
IcpDropBindings(IcpCompiled *cp)
{
	while (cp->bindings != NULL)
		UnlinkBinding(cp, cp->bindings);
}
