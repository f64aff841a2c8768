/*
 * learn.c
 *		icp_learn: build a logistic profile from won/lost history.
 *
 * The entry point: checks the arguments and options, picks the attribute
 * columns, runs the one scan of the source as the caller (a single SELECT
 * fed straight into learn_scan.c's DestReceiver, so privileges and row
 * security apply), has learn_features.c choose the features and
 * learn_fit.c fit them, and writes the profile and its criteria.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/dest.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "learn.h"
#include "profile.h"
#include "rule.h"

PG_FUNCTION_INFO_V1(icp_learn);

/* ---------------------------------------------------------------------------
 * Columns and options
 * ---------------------------------------------------------------------------
 */

/* Classify a column type; false when icp_learn cannot use it */
static bool
ClassifyType(Oid typid, LearnAttr *a)
{
	Oid			base = getBaseType(typid);
	Oid			elem;
	char		cat;
	bool		pref;

	a->vtype = base;
	a->vnumber = false;
	switch (base)
	{
		case BOOLOID:
			a->kind = LEARN_BOOL;
			return true;
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			a->kind = LEARN_NUM;
			a->numtype = base;
			a->integral = true;
			return true;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			/* numbers of days: bins by date, and recency (WITHIN) */
			a->kind = LEARN_NUM;
			a->numtype = base;
			a->isdate = true;
			return true;
		default:
			break;
	}
	elem = get_element_type(base);
	if (OidIsValid(elem))
	{
		Oid			ebase = getBaseType(elem);

		get_type_category_preferred(ebase, &cat, &pref);
		if (cat != TYPCATEGORY_STRING && cat != TYPCATEGORY_ENUM &&
			ebase != INT2OID && ebase != INT4OID && ebase != INT8OID)
			return false;
		a->kind = LEARN_ARR;
		a->vtype = ebase;
		a->vnumber = (cat == TYPCATEGORY_NUMERIC);
		get_typlenbyvalalign(ebase, &a->vlen, &a->vbyval, &a->valign);
		return true;
	}
	get_type_category_preferred(base, &cat, &pref);
	if (cat != TYPCATEGORY_STRING && cat != TYPCATEGORY_ENUM)
		return false;
	a->kind = LEARN_CAT;
	get_typlenbyvalalign(base, &a->vlen, &a->vbyval, &a->valign);
	return true;
}

/*
 * Does the column compare its text values by a non-deterministic collation?
 * Scoring then finds 'Alpha' = 'alpha' (or more), while the learner tells
 * values apart by their bytes: its supports would not be what the rules
 * match, so such columns are not learned from.
 */
static bool
NondeterministicText(Form_pg_attribute att, const LearnAttr *a)
{
	if (a->kind != LEARN_CAT && a->kind != LEARN_ARR)
		return false;
	return OidIsValid(att->attcollation) &&
		!get_collation_isdeterministic(att->attcollation);
}

/* Is column attnum of relid a key: alone in a unique index, or named id/..._id? */
static bool
IsKeyLike(Oid relid, AttrNumber attnum, const char *name, List *indexes)
{
	size_t		len = strlen(name);
	ListCell   *lc;

	if (strcmp(name, "id") == 0 || (len > 3 && strcmp(name + len - 3, "_id") == 0))
		return true;
	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		bool		key = false;

		if (!HeapTupleIsValid(tup))
			continue;
		{
			Form_pg_index idx = (Form_pg_index) GETSTRUCT(tup);

			key = idx->indisunique && idx->indnkeyatts == 1 &&
				idx->indkey.values[0] == attnum;
		}
		ReleaseSysCache(tup);
		if (key)
			return true;
	}
	return false;
}

/* Error for an option value out of range */
static void
BadOption(const char *key, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("icp_learn option \"%s\" must be %s", key, what)));
}

/* Read the options object */
static void
ParseOptions(Jsonb *jb, LearnOptions *o)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	o->interactions = false;
	o->max_criteria = 0;
	o->l2 = 1.0;
	o->min_support = 0;
	o->bins = 10;
	o->max_values = 50;
	o->holdout = 0.0;
	o->sample = 0;
	o->seed = 0;
	if (jb == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("icp_learn options must be a JSON object"),
				 errhint("For example '{\"holdout\": 0.2, \"l2\": 1}'.")));
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;
		double		x;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(v.val.string.val, v.val.string.len);
		tok = JsonbIteratorNext(&it, &v, true);
		if (strcmp(key, "interactions") == 0)
		{
			if (v.type != jbvBool)
				BadOption(key, "true or false");
			o->interactions = v.val.boolean;
			continue;
		}
		if (v.type != jbvNumeric)
			BadOption(key, "a number");
		x = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v.val.numeric)));
		if (strcmp(key, "l2") == 0)
		{
			if (!(x >= 0 && x < 1e12))
				BadOption(key, "a number >= 0");
			o->l2 = x;
		}
		else if (strcmp(key, "max_criteria") == 0)
		{
			if (!(x >= 1 && x <= LEARN_MAX_FEATURES) || x != floor(x))
				BadOption(key, "a whole number between 1 and " CppAsString2(LEARN_MAX_FEATURES));
			o->max_criteria = (int) x;
		}
		else if (strcmp(key, "min_support") == 0)
		{
			if (!(x >= 1 && x < 1e15) || x != floor(x))
				BadOption(key, "a whole number >= 1");
			o->min_support = (int64) x;
		}
		else if (strcmp(key, "bins") == 0)
		{
			if (!(x >= 2 && x <= 100) || x != floor(x))
				BadOption(key, "a whole number between 2 and 100");
			o->bins = (int) x;
		}
		else if (strcmp(key, "max_values") == 0)
		{
			if (!(x >= 1 && x <= 1000) || x != floor(x))
				BadOption(key, "a whole number between 1 and 1000");
			o->max_values = (int) x;
		}
		else if (strcmp(key, "holdout") == 0)
		{
			if (!(x >= 0 && x < 1))
				BadOption(key, "a fraction >= 0 and < 1");
			o->holdout = x;
		}
		else if (strcmp(key, "sample") == 0)
		{
			if (!(x >= 1000 && x < 1e12) || x != floor(x))
				BadOption(key, "a whole number of rows >= 1000");
			o->sample = (int64) x;
		}
		else if (strcmp(key, "seed") == 0)
		{
			if (!(fabs(x) < 1e15) || x != floor(x))
				BadOption(key, "a whole number");
			o->seed = (int64) x;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown icp_learn option \"%s\"", key),
					 errhint("Valid options are interactions, max_criteria, l2, min_support, bins, max_values, holdout, sample and seed.")));
	}
}

/* ---------------------------------------------------------------------------
 * Writing the profile
 * ---------------------------------------------------------------------------
 */

/* Text[] or float8[] datum from C arrays */
static Datum
TextArray(char **s, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(s[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

static Datum
Float8Array(double *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = Float8GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, FLOAT8OID, sizeof(float8),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* Insert or replace the profile and its criteria through SPI */
static void
WriteProfile(const char *name, const char *description, double bias,
			 double *thresholds, int n, char **rules, double *weights, char **notes)
{
	const char *nsp = quote_identifier(get_namespace_name(IcpExtensionSchema()));
	char	   *sql;
	Oid			types[4];
	Datum		vals[4];
	int			rc;

	sql = psprintf("INSERT INTO %s.icp_profiles AS p (name, description, model, bias, grade_thresholds) "
				   "VALUES ($1, $2, 'logistic', $3, $4) "
				   "ON CONFLICT (name) DO UPDATE SET model = 'logistic', bias = EXCLUDED.bias, "
				   "grade_thresholds = EXCLUDED.grade_thresholds, "
				   "description = COALESCE(p.description, EXCLUDED.description)",
				   nsp);
	types[0] = TEXTOID;
	types[1] = TEXTOID;
	types[2] = FLOAT8OID;
	types[3] = FLOAT8ARRAYOID;
	vals[0] = CStringGetTextDatum(name);
	vals[1] = CStringGetTextDatum(description);
	vals[2] = Float8GetDatum(bias);
	vals[3] = Float8Array(thresholds, 3);
	rc = SPI_execute_with_args(sql, 4, types, vals, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "icp_learn: could not write profile: %s", SPI_result_code_string(rc));

	sql = psprintf("DELETE FROM %s.icp_criteria WHERE profile OPERATOR(pg_catalog.=) $1", nsp);
	rc = SPI_execute_with_args(sql, 1, types, vals, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "icp_learn: could not replace criteria: %s", SPI_result_code_string(rc));

	if (n == 0)
		return;
	sql = psprintf("INSERT INTO %s.icp_criteria (profile, rule, weight, note) "
				   "SELECT $1, u.r::%s.icp_rule, u.w, u.t "
				   "FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4)) "
				   "WITH ORDINALITY AS u(r, w, t, i) ORDER BY u.i",
				   nsp, nsp);
	types[1] = TEXTARRAYOID;
	types[2] = FLOAT8ARRAYOID;
	types[3] = TEXTARRAYOID;
	vals[1] = TextArray(rules, n);
	vals[2] = Float8Array(weights, n);
	vals[3] = TextArray(notes, n);
	rc = SPI_execute_with_args(sql, 4, types, vals, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "icp_learn: could not write criteria: %s", SPI_result_code_string(rc));
}

/* ---------------------------------------------------------------------------
 * icp_learn
 * ---------------------------------------------------------------------------
 */

/* Position (0-based) of a column by exact name in tupdesc, or -1 */
static int
FindColumn(TupleDesc td, const char *name)
{
	for (int i = 0; i < td->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(td, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	return -1;
}

/* Error: a column the caller named does not exist */
static void
NoSuchColumn(const char *col, const char *rel)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("column \"%s\" of relation %s does not exist", col, rel),
			 errhint("Column names are matched exactly, without case folding.")));
}

/* Pick the attributes: the given names, or every usable non-key column */
static void
ResolveAttributes(LearnState *st, Relation rel, int outcol, ArrayType *names)
{
	TupleDesc	td = RelationGetDescr(rel);
	List	   *indexes = NIL;

	st->atts = palloc0(sizeof(LearnAttr) * td->natts);
	st->natts = 0;
	if (names != NULL)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
		{
			char	   *col;
			int			c;
			LearnAttr  *a;

			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("attribute names must not be NULL")));
			col = TextDatumGetCString(elems[i]);
			c = FindColumn(td, col);
			if (c < 0)
				NoSuchColumn(col, st->source);
			if (c == outcol)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the outcome column \"%s\" cannot also be an attribute", col)));
			for (int j = 0; j < st->natts; j++)
				if (strcmp(st->atts[j].name, col) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_DUPLICATE_COLUMN),
							 errmsg("attribute \"%s\" is named more than once", col)));
			if (st->natts >= td->natts)
				break;
			a = &st->atts[st->natts];
			a->name = col;
			if (!ClassifyType(TupleDescAttr(td, c)->atttypid, a))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("icp_learn cannot learn from column \"%s\" of type %s",
								col, format_type_be(TupleDescAttr(td, c)->atttypid)),
						 errhint("Supported are boolean, numeric, date, timestamp, text-like and enum columns, "
								 "and arrays of text-like, enum or integer values.")));
			if (NondeterministicText(TupleDescAttr(td, c), a))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("icp_learn cannot learn from column \"%s\" of non-deterministic collation %s",
								col, get_collation_name(TupleDescAttr(td, c)->attcollation)),
						 errdetail("Scoring compares its values by that collation, learning by their exact text."),
						 errhint("Learn from a view that gives the column a deterministic collation, such as %s COLLATE \"C\".",
								 quote_identifier(col))));
			st->natts++;
		}
		if (st->natts == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("no attributes to learn from"),
					 errhint("Name at least one column, or pass NULL to use every column.")));
		return;
	}

	if (rel->rd_rel->relhasindex)
		indexes = RelationGetIndexList(rel);
	for (int c = 0; c < td->natts; c++)
	{
		Form_pg_attribute att = TupleDescAttr(td, c);
		LearnAttr  *a = &st->atts[st->natts];

		if (att->attisdropped || c == outcol)
			continue;
		if (IsKeyLike(RelationGetRelid(rel), att->attnum, NameStr(att->attname), indexes))
			continue;
		a->name = pstrdup(NameStr(att->attname));
		if (!ClassifyType(att->atttypid, a))
		{
			ereport(NOTICE,
					(errmsg("icp_learn: skipping column \"%s\" of type %s",
							NameStr(att->attname), format_type_be(att->atttypid))));
			continue;
		}
		if (NondeterministicText(att, a))
		{
			ereport(NOTICE,
					(errmsg("icp_learn: skipping column \"%s\" of non-deterministic collation %s",
							NameStr(att->attname), get_collation_name(att->attcollation))));
			continue;
		}
		st->natts++;
	}
	if (st->natts == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s has no columns icp_learn can learn from", st->source)));
}

/* Rough bytes of storage per kept row, for the row cap */
static double
BytesPerRow(LearnState *st)
{
	double		b = 2 + 8 + 8 + 8;	/* y, split, row hash, row pointer, scores */

	for (int i = 0; i < st->natts; i++)
		switch (st->atts[i].kind)
		{
			case LEARN_CAT:
			case LEARN_BOOL:
				b += 4 + 2;
				break;
			case LEARN_NUM:
				b += 8 + 2;
				break;
			case LEARN_ARR:
				b += 8 + 2 + 8 * (4 + 2);
				break;
		}
	return b;
}

/* icp_learn(profile, source, outcome, attributes, options): learn a logistic profile */
Datum
icp_learn(PG_FUNCTION_ARGS)
{
	TimestampTz start = GetCurrentTimestamp();
	MemoryContext fncxt = CurrentMemoryContext;
	LearnState *st;
	LearnOptions opt;
	char	   *name;
	Oid			relid;
	char	   *outcome;
	char		relkind;
	Relation	rel;
	TupleDesc	td;
	int			outcol;
	StringInfoData q;
	LearnReceiver recv;
	SPIExecuteOptions xo;
	int64		ntrain,
				npos = 0,
				ms;
	FeatureList fl = {NULL, 0, 0};
	LearnDesign train,
				test;
	LearnFitInfo info;
	double	   *w;
	double	   *score;
	double		train_auc,
				holdout_auc = 0;
	double		thresholds[3];
	int			nkept = 0;
	int			max_criteria;
	char	  **rules;
	char	  **notes;
	double	   *weights;
	TupleDesc	rtd;
	Datum		values[7];
	bool		isnull[7];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("icp_learn needs a profile name, a source and an outcome column")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	relid = PG_GETARG_OID(1);
	outcome = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("profile name must not be empty")));
	if (get_call_result_type(fcinfo, NULL, &rtd) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "icp_learn: return type must be a row type");

	st = palloc0(sizeof(LearnState));
	st->cxt = AllocSetContextCreate(fncxt, "icp_learn", ALLOCSET_DEFAULT_SIZES);
	st->rowcxt = AllocSetContextCreate(st->cxt, "icp_learn row", ALLOCSET_SMALL_SIZES);
	MemoryContextSwitchTo(st->cxt);
	ParseOptions(PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4), &opt);

	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_VIEW &&
		relkind != RELKIND_MATVIEW && relkind != RELKIND_FOREIGN_TABLE &&
		relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("icp_learn source \"%s\" is not a table or view", get_rel_name(relid))));
	st->source = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											get_rel_name(relid));
	rel = relation_open(relid, AccessShareLock);
	td = RelationGetDescr(rel);
	outcol = FindColumn(td, outcome);
	if (outcol < 0)
		NoSuchColumn(outcome, st->source);
	st->outname = outcome;
	st->outtype = getBaseType(TupleDescAttr(td, outcol)->atttypid);
	if (st->outtype != BOOLOID && st->outtype != INT2OID &&
		st->outtype != INT4OID && st->outtype != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("outcome column \"%s\" is of type %s, not boolean or integer",
						outcome, format_type_be(TupleDescAttr(td, outcol)->atttypid)),
				 errhint("Use a boolean column, or an integer column holding 1 for won and 0 for lost.")));
	ResolveAttributes(st, rel, outcol, PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3));
	if (rel->rd_rel->reltuples > 0)
		st->expected = (int64) (rel->rd_rel->reltuples * 1.05) + 1000;
	relation_close(rel, NoLock);

	for (int i = 0; i < st->natts; i++)
		LearnDictInit(&st->atts[i].dict);
	st->cap = opt.sample > 0 ? opt.sample :
		(int64) Max(100000.0, Min(20000000.0, MEMORY_BUDGET / BytesPerRow(st)));
	st->holdout = opt.holdout;
	st->seed_sample = LearnMix64((uint64) opt.seed ^ UINT64CONST(0x5851F42D4C957F2D));
	st->seed_split = LearnMix64((uint64) opt.seed ^ UINT64CONST(0x14057B7EF767814F));
	st->keep_below = PG_UINT64_MAX;
	st->pool_alloc = 1024;
	st->pool = palloc(sizeof(uint32) * st->pool_alloc);

	/* the one scan, as the caller (privileges and row security apply) */
	initStringInfo(&q);
	appendStringInfo(&q, "SELECT %s", quote_identifier(outcome));
	for (int i = 0; i < st->natts; i++)
		appendStringInfo(&q, ", %s", quote_identifier(st->atts[i].name));
	appendStringInfo(&q, " FROM %s", st->source);

	LearnReceiverInit(&recv, st);
	memset(&xo, 0, sizeof(xo));
	xo.dest = (DestReceiver *) &recv;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "icp_learn: SPI_connect failed");
	MemoryContextSwitchTo(st->cxt);
	{
		int			rc = SPI_execute_extended(q.data, &xo);

		/* SPI reports a SELECT into a DestNone receiver as a utility command */
		if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
			elog(ERROR, "icp_learn: scan failed: %s", SPI_result_code_string(rc));
	}
	MemoryContextSwitchTo(st->cxt);
	st->progress = st->nscanned >= LARGE_INPUT;
	LearnCanonicalOrder(st);
	elog(DEBUG1, "icp_learn: scan done at %.3f s", LearnSecondsSince(start));

	for (int i = 0; i < st->natts; i++)
		if (st->atts[i].dict.full)
			ereport(NOTICE,
					(errmsg("icp_learn: column \"%s\" has more distinct values than are remembered; only the first are learned from",
							st->atts[i].name),
					 errdetail("At most %d distinct values are remembered per column, and %d MB of them over all columns.",
							   DICT_MAX_VALUES, (int) (DICT_MAX_BYTES / (1024 * 1024))),
					 errhint("A column with a value per row carries no pattern; leave it out of the attributes.")));
	if (st->nknown > st->nstored)
		ereport(NOTICE,
				(errmsg("icp_learn: learning from a sample of %lld of %lld rows",
						(long long) st->nstored, (long long) st->nknown),
				 errhint("The option sample sets how many rows are kept.")));

	/* the data must show both outcomes */
	ntrain = 0;
	for (int64 r = 0; r < st->nstored; r++)
		if (!st->hold[r])
		{
			ntrain++;
			npos += st->y[r];
		}
	if (st->nscanned == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source %s is empty", st->source)));
	if (st->nknown == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source %s has no rows with a known outcome", st->source),
				 errdetail("Column \"%s\" is NULL in all %lld rows.", outcome,
						   (long long) st->nscanned)));
	if (npos == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source %s has no positive rows", st->source),
				 errdetail("Column \"%s\" is never true in the %lld training rows.",
						   outcome, (long long) ntrain),
				 errhint("A profile is learned from won and lost examples: both are needed.")));
	if (npos == ntrain)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source %s has no negative rows", st->source),
				 errdetail("Column \"%s\" is true in all %lld training rows.",
						   outcome, (long long) ntrain),
				 errhint("A profile is learned from won and lost examples: both are needed.")));

	ms = opt.min_support > 0 ? opt.min_support : Max(10, (ntrain + 1999) / 2000);
	max_criteria = opt.max_criteria > 0 ? opt.max_criteria :
		opt.interactions ? LEARN_DEFAULT_CRITERIA : 0;
	LearnBuildFeatures(st, &fl, ntrain, ms, &opt);
	LearnCapFeatures(st, &fl);
	elog(DEBUG1, "icp_learn: features chosen at %.3f s", LearnSecondsSince(start));
	LearnBuildDesigns(st, &fl, &train, &test, NULL);
	elog(DEBUG1, "icp_learn: designs built at %.3f s", LearnSecondsSince(start));
	if (st->progress)
		ereport(NOTICE,
				(errmsg("icp_learn: %lld rows read in %.1f s; fitting %d features on %lld rows",
						(long long) st->nscanned, LearnSecondsSince(start), fl.n,
						(long long) train.n)));

	w = palloc(sizeof(double) * (fl.n + 1));
	LearnFitLogistic(&train, opt.l2, w, &info);
	if (st->progress)
		ereport(NOTICE,
				(errmsg("icp_learn: fitted in %d iterations at %.1f s",
						info.iterations, LearnSecondsSince(start))));

	/*
	 * At most max_criteria single features: drop the least important (in
	 * steps) and fit again; with interactions down to four fifths of it, to
	 * leave room for rules.
	 */
	while (max_criteria > 0)
	{
		int			nonzero = 0;
		int			keep = opt.interactions ? (4 * max_criteria) / 5 : max_criteria;

		for (int j = 0; j < fl.n; j++)
			if (round(w[j] * 10000.0) != 0.0)
				nonzero++;
		if (nonzero <= max_criteria)
			break;
		CHECK_FOR_INTERRUPTS();
		LearnPrune(st, &fl, &train, &test, w, Max(Max(keep, 1), (int) (nonzero * 0.6)));
		if (st->progress)
			ereport(NOTICE,
					(errmsg("icp_learn: fitting again with %d of %d criteria at %.1f s",
							fl.n, nonzero, LearnSecondsSince(start))));
		pfree(w);
		w = palloc(sizeof(double) * (fl.n + 1));
		LearnFitLogistic(&train, opt.l2, w, &info);
	}

	if (opt.interactions)
	{
		/* rules boosted on the residuals, their steps added to the weights */
		LearnRule  *found;
		double	   *rw;
		int			nfound;
		int			nsingle = 0;

		for (int j = 0; j < fl.n; j++)
			if (round(w[j] * 10000.0) != 0.0)
				nsingle++;
		score = MemoryContextAllocHuge(st->cxt, sizeof(double) * Max(train.n, 1));
		LearnScores(&train, w, score);
		nfound = LearnFindRules(st, &train, score, ms, Max(0, max_criteria - nsingle),
								&found, &rw);
		pfree(score);
		LearnAddRuleFeatures(st, &fl, found, rw, nfound, &train, &test, &w);
		if (st->progress)
			ereport(NOTICE,
					(errmsg("icp_learn: %d rules found at %.1f s",
							nfound, LearnSecondsSince(start))));
	}

	/* readable weights: 4 decimals; a weight that rounds to 0 is no criterion */
	rules = palloc(sizeof(char *) * Max(fl.n, 1));
	notes = palloc(sizeof(char *) * Max(fl.n, 1));
	weights = palloc(sizeof(double) * Max(fl.n, 1));
	for (int j = 0; j <= fl.n; j++)
	{
		w[j] = round(w[j] * 10000.0) / 10000.0;
		/* the profile tables hold weights within +-ICP_MAX_WEIGHT only */
		if (!(fabs(w[j]) <= ICP_MAX_WEIGHT))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("icp_learn could not fit profile \"%s\": a weight came out as %g",
							name, w[j]),
					 errdetail("Weights must lie between -%s and %s.",
							   CppAsString2(ICP_MAX_WEIGHT), CppAsString2(ICP_MAX_WEIGHT)),
					 errhint("Some attribute separates won from lost perfectly; raise the option l2.")));
	}
	for (int j = 0; j < fl.n; j++)
	{
		if (w[j] == 0.0)
			continue;
		rules[nkept] = fl.f[j].rule;
		weights[nkept] = w[j];
		notes[nkept] = psprintf("learned: support %lld, won rate %.3f",
								(long long) fl.f[j].support,
								fl.f[j].support > 0 ?
								(double) fl.f[j].positives / fl.f[j].support : 0.0);
		nkept++;
	}

	elog(DEBUG1, "icp_learn: fitted at %.3f s", LearnSecondsSince(start));
	score = MemoryContextAllocHuge(st->cxt, sizeof(double) * Max(Max(train.n, test.n), 1));
	LearnScores(&train, w, score);
	train_auc = LearnAuc(score, train.y, train.n);
	{
		/* grades: A the top 10 % of the training rows, B the next 20 %, C the next 30 % */
		static const double shares[3] = {0.9, 0.7, 0.4};
		double		eta[3];

		LearnQuantiles(score, train.n, shares, 3, eta);
		for (int k = 0; k < 3; k++)
			thresholds[k] = floor(1000.0 / (1.0 + exp(-eta[k]))) / 10.0;
	}
	elog(DEBUG1, "icp_learn: train AUC and grades at %.3f s", LearnSecondsSince(start));
	if (test.n > 0)
	{
		LearnScores(&test, w, score);
		holdout_auc = LearnAuc(score, test.y, test.n);
	}

	WriteProfile(name,
				 psprintf("learned by icp_learn from %s (outcome %s)", st->source, outcome),
				 w[fl.n], thresholds, nkept, rules, weights, notes);
	if (st->progress)
		ereport(NOTICE,
				(errmsg("icp_learn: profile \"%s\" written with %d criteria", name, nkept)));

	SPI_finish();
	MemoryContextSwitchTo(fncxt);

	memset(isnull, 0, sizeof(isnull));
	values[0] = Int64GetDatum(train.n);
	values[1] = Int64GetDatum(npos);
	values[2] = Int64GetDatum(test.n);
	values[3] = Int32GetDatum(nkept);
	values[4] = Float8GetDatum(train_auc);
	isnull[4] = isnan(train_auc);
	values[5] = Float8GetDatum(holdout_auc);
	isnull[5] = test.n == 0 || isnan(holdout_auc);
	values[6] = Float8GetDatum(LearnSecondsSince(start));
	MemoryContextDelete(st->cxt);
	rtd = BlessTupleDesc(rtd);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(rtd, values, isnull)));
}
