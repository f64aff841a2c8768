/*
 * funnel.c
 *		icp_funnel(profile, source): sizing the pool criterion by criterion.
 *
 * One scan of the source reads each row's outcome vector (icp_outcomes, as
 * the caller, so privileges and row-level security apply) and updates, per
 * criterion, the rows where it is true and where it is unknown, and a
 * histogram of the first step (criteria in funnel order) that drops the row.
 * The pool of step k is the number of rows whose first dropping step comes
 * after k.  The cost is one pass over the criteria per row, whatever the
 * number of steps; a row's outcomes are counted in a memory context reset
 * per batch of rows.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "bind.h"
#include "profile.h"

PG_FUNCTION_INFO_V1(icp_funnel);

/* rows fetched from the scan at a time */
#define FUNNEL_FETCH 1000

/* What keeps a row in the pool at a step */
typedef enum FunnelKeep
{
	KEEP_IF_TRUE,				/* a positive criterion, or a penalized knock-out */
	KEEP_IF_NOT_FALSE,			/* a knock-out: unknown passes */
	KEEP_IF_NOT_TRUE			/* a negative weight: rows where it does not hold */
} FunnelKeep;

/* One step of the funnel: a criterion and how it filters */
typedef struct FunnelStep
{
	int			position;		/* 0-based index into the outcome vector */
	bool		required;
	double		weight;
	FunnelKeep	keep;
} FunnelStep;

/*
 * Funnel order: required criteria first (in criterion order), then the
 * others by weight, heaviest first, ties in criterion order.  Weights
 * compare as float8 does in SQL (NaN above everything).
 */
static int
CompareSteps(const void *a, const void *b)
{
	const FunnelStep *x = (const FunnelStep *) a;
	const FunnelStep *y = (const FunnelStep *) b;
	int			c;

	if (x->required != y->required)
		return x->required ? -1 : 1;
	if (!x->required)
	{
		c = float8_cmp_internal(-x->weight, -y->weight);
		if (c != 0)
			return c;
	}
	return (x->position > y->position) - (x->position < y->position);
}

/* Whether an outcome (1 true, 0 false, -1 unknown) keeps a row at a step */
static inline bool
Keeps(FunnelKeep keep, int outcome)
{
	switch (keep)
	{
		case KEEP_IF_TRUE:
			return outcome == 1;
		case KEEP_IF_NOT_FALSE:
			return outcome != 0;
		case KEEP_IF_NOT_TRUE:
			return outcome != 1;
	}
	return false;
}

/* The current value of a stored profile, through icp_profile() */
static Datum
FunnelProfileValue(const char *nsp, text *profile, Oid *valuetype)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		isnull;
	Datum		value;
	int			ret;

	args[0] = PointerGetDatum(profile);
	ret = SPI_execute_with_args(psprintf("SELECT %s.icp_profile($1)", nsp),
								1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "icp_profile() returned NULL");
	*valuetype = SPI_gettypeid(SPI_tuptable->tupdesc, 1);
	/* out of SPI's memory, into the caller's */
	return SPI_datumTransfer(value, false, -1);
}

/* icp_funnel(profile text, source regclass): one row per criterion */
Datum
icp_funnel(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *profile = PG_GETARG_TEXT_PP(0);
	Oid			source = PG_GETARG_OID(1);
	char	   *relname;
	char	   *relnsp;
	char	   *nsp;
	Datum		value;
	Oid			valuetype;
	IcpCompiled *cp;
	FunnelStep *steps;
	int			nsteps;
	int64	   *matching;
	int64	   *unknown;
	int64	   *dropped_at;		/* rows whose first dropping step is k; [n]: kept */
	int		   *outcome;
	int64		total = 0;
	int64		pool;
	Portal		portal;
	MemoryContext rowcxt;
	MemoryContext old;
	uint64		r;
	int			i,
				k;

	InitMaterializedSRF(fcinfo, 0);

	relname = get_rel_name(source);
	relnsp = OidIsValid(source) ? get_namespace_name(get_rel_namespace(source)) : NULL;
	if (relname == NULL || relnsp == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", source),
				 errhint("icp_funnel counts the rows of a table, view or other relation.")));
	nsp = (char *) quote_identifier(get_namespace_name(IcpExtensionSchema()));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* one value for the whole scan, compiled for its criteria */
	value = FunnelProfileValue(nsp, profile, &valuetype);
	cp = IcpCompileProfile((IcpProfile *) PG_DETOAST_DATUM(value), CurrentMemoryContext);
	nsteps = cp->ncriteria;
	steps = palloc(sizeof(FunnelStep) * Max(nsteps, 1));
	for (i = 0; i < nsteps; i++)
	{
		IcpCriterion *c = &cp->criteria[i];

		steps[i].position = i;
		steps[i].required = c->required;
		steps[i].weight = c->weight;
		if (c->required)
			steps[i].keep = IcpUnknownIsFalse(cp) ? KEEP_IF_TRUE : KEEP_IF_NOT_FALSE;
		else
			steps[i].keep = float8_ge(c->weight, 0.0) ? KEEP_IF_TRUE : KEEP_IF_NOT_TRUE;
	}
	qsort(steps, nsteps, sizeof(FunnelStep), CompareSteps);

	matching = palloc0(sizeof(int64) * Max(nsteps, 1));
	unknown = palloc0(sizeof(int64) * Max(nsteps, 1));
	dropped_at = palloc0(sizeof(int64) * (nsteps + 1));
	outcome = palloc(sizeof(int) * Max(nsteps, 1));

	/* the scan: a cursor, so that only a batch of rows is held at a time */
	{
		Oid			argtypes[1] = {valuetype};
		Datum		args[1] = {value};

		portal = SPI_cursor_open_with_args(NULL,
										   psprintf("SELECT %s.icp_outcomes(s.*, $1) FROM %s AS s",
													nsp, quote_qualified_identifier(relnsp, relname)),
										   1, argtypes, args, NULL, true, 0);
	}
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "icp_funnel rows",
								   ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, FUNNEL_FETCH);
		if (SPI_processed == 0)
			break;
		old = MemoryContextSwitchTo(rowcxt);
		for (r = 0; r < SPI_processed; r++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
			int			n = 0;
			Datum	   *elems = NULL;
			bool	   *elemnulls = NULL;

			CHECK_FOR_INTERRUPTS();
			if (!isnull)
				deconstruct_array(DatumGetArrayTypeP(d), BOOLOID, 1, true, TYPALIGN_CHAR,
								  &elems, &elemnulls, &n);
			/* an outcome missing from the vector is unknown, as o[i] is in SQL */
			for (i = 0; i < nsteps; i++)
			{
				if (i >= n || elemnulls[i])
				{
					outcome[i] = -1;
					unknown[i]++;
				}
				else if (DatumGetBool(elems[i]))
				{
					outcome[i] = 1;
					matching[i]++;
				}
				else
					outcome[i] = 0;
			}
			for (k = 0; k < nsteps; k++)
				if (!Keeps(steps[k].keep, outcome[steps[k].position]))
					break;
			dropped_at[k]++;
			total++;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);

	/* one row per step; the pool is what no step up to this one dropped */
	pool = total;
	for (k = 0; k < nsteps; k++)
	{
		IcpCriterion *c = &cp->criteria[steps[k].position];
		Datum		values[9];
		bool		nulls[9] = {false};

		pool -= dropped_at[k];
		values[0] = Int32GetDatum(k + 1);
		values[1] = Int64GetDatum(c->id);
		nulls[1] = (c->id == 0);
		values[2] = PointerGetDatum(IcpSerializeRule(c->rule));
		values[3] = BoolGetDatum(c->required);
		values[4] = Float8GetDatum(c->weight);
		values[5] = Int64GetDatum(matching[steps[k].position]);
		values[6] = Int64GetDatum(unknown[steps[k].position]);
		values[7] = Int64GetDatum(pool);
		values[8] = Float8GetDatum(total == 0 ? 0.0 : (double) pool / (double) total);
		nulls[8] = (total == 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	MemoryContextDelete(cp->cxt);
	SPI_finish();
	return (Datum) 0;
}
