/*
 * batch.c
 *		C helpers of the table-wide functions written in PL/pgSQL:
 *		icp_outcomes and icp_profile_criteria (used by icp_funnel) and
 *		icp_rescore_can_commit (used by icp_rescore).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "score.h"

PG_FUNCTION_INFO_V1(icp_outcomes_record);
PG_FUNCTION_INFO_V1(icp_outcomes_record_value);
PG_FUNCTION_INFO_V1(icp_outcomes_jsonb);
PG_FUNCTION_INFO_V1(icp_outcomes_jsonb_value);
PG_FUNCTION_INFO_V1(icp_profile_criteria);
PG_FUNCTION_INFO_V1(icp_rescore_can_commit);

/*
 * Outcome of every criterion of a profile for an account, as a boolean[]
 * in criterion order (NULL: unknown).
 */
static Datum
OutcomesEntry(FunctionCallInfo fcinfo, bool by_value, bool jsonb)
{
	IcpCallSite *cs = IcpGetCallSite(fcinfo);
	IcpProfileArg kind = by_value ? ICP_ARG_VALUE : ICP_ARG_NAME;
	void	   *arg = by_value ? (void *) PG_GETARG_ICPPROFILE_P(1) :
		(void *) PG_GETARG_TEXT_PP(1);
	IcpCompiled *cp;
	IcpRun	   *run;
	IcpResult	res;
	IcpTri	   *outcomes;
	Datum	   *elems;
	bool	   *nulls;
	int			dims[1];
	int			lbs[1] = {1};
	int			i;

	if (jsonb)
		run = IcpScoreJsonb(cs, kind, arg, PG_GETARG_JSONB_P(0), &res, &outcomes, NULL);
	else
		run = IcpScoreRecord(cs, kind, arg, PG_GETARG_HEAPTUPLEHEADER(0), &res,
							 &outcomes, NULL);
	cp = run->cp;
	elems = palloc(sizeof(Datum) * Max(cp->ncriteria, 1));
	nulls = palloc(sizeof(bool) * Max(cp->ncriteria, 1));
	for (i = 0; i < cp->ncriteria; i++)
	{
		elems[i] = BoolGetDatum(outcomes[i] == ICP_TRUE);
		nulls[i] = (outcomes[i] == ICP_UNKNOWN);
	}
	dims[0] = cp->ncriteria;
	if (cp->ncriteria == 0)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(BOOLOID));
	PG_RETURN_ARRAYTYPE_P(construct_md_array(elems, nulls, 1, dims, lbs, BOOLOID,
											 1, true, TYPALIGN_CHAR));
}

/* icp_outcomes(record, text) */
Datum
icp_outcomes_record(PG_FUNCTION_ARGS)
{
	return OutcomesEntry(fcinfo, false, false);
}

/* icp_outcomes(record, icp_profile) */
Datum
icp_outcomes_record_value(PG_FUNCTION_ARGS)
{
	return OutcomesEntry(fcinfo, true, false);
}

/* icp_outcomes(jsonb, text) */
Datum
icp_outcomes_jsonb(PG_FUNCTION_ARGS)
{
	return OutcomesEntry(fcinfo, false, true);
}

/* icp_outcomes(jsonb, icp_profile) */
Datum
icp_outcomes_jsonb_value(PG_FUNCTION_ARGS)
{
	return OutcomesEntry(fcinfo, true, true);
}

/* icp_profile_criteria(icp_profile): the criteria of a profile value */
Datum
icp_profile_criteria(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	IcpProfile *value = PG_GETARG_ICPPROFILE_P(0);
	IcpCompiled *cp;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	/* only read here: compiled in the call's memory, freed with it */
	cp = IcpCompileProfile(value, CurrentMemoryContext);
	for (i = 0; i < cp->ncriteria; i++)
	{
		IcpCriterion *c = &cp->criteria[i];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = Int32GetDatum(i + 1);
		values[1] = Int64GetDatum(c->id);
		nulls[1] = (c->id == 0);
		values[2] = PointerGetDatum(IcpSerializeRule(c->rule));
		values[3] = Float8GetDatum(c->weight);
		values[4] = BoolGetDatum(c->required);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(cp->cxt);
	return (Datum) 0;
}

/*
 * Whether the procedure calling this may COMMIT: true when it was CALLed
 * outside a transaction block and outside any function (a non-atomic SPI
 * context).
 */
Datum
icp_rescore_can_commit(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(SPI_inside_nonatomic_context());
}
