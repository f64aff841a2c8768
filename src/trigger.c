/*
 * trigger.c
 *		icp_score_trigger: score rows into their own columns as they are
 *		written.
 *
 *   CREATE TRIGGER leads_score BEFORE INSERT OR UPDATE ON leads
 *     FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('mid-market-saas',
 *                                                   'fit', 'grade', 'segment');
 *
 * The setup (columns and their types, how the trigger fires) is checked at
 * the first row of each statement and kept in fn_extra, which lives as long
 * as the statement.  The profile is pinned and bound to the table's row
 * type like any call site's (score.h), and resolved again whenever the
 * call site's key no longer holds; each row then costs one deform (its
 * read columns detoasted by the account layer), the rules and forming the
 * new tuple.  On UPDATE a row whose attributes read
 * by the profile (and by the segment's profiles) did not change is returned
 * as it is, without scoring, unless one of the result columns is NULL.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "score.h"

PG_FUNCTION_INFO_V1(icp_score_trigger);

/* Default name of the fit column when the trigger names none */
#define DEFAULT_FIT_COLUMN "fit"

/* One result column of the trigger */
typedef struct TrigColumn
{
	int			attnum;			/* 1-based; 0 when not written */
	Oid			typid;
	int32		typmod;
} TrigColumn;

/* Per trigger and statement state, kept in fn_extra */
typedef struct TrigState
{
	Oid			tgoid;
	Oid			relid;
	MemoryContext mcxt;
	MemoryContextCallback cb;
	IcpUseKey	key;			/* what run and seg were resolved under */
	IcpRun		run;			/* the profile and binding, pinned */
	IcpSegment *seg;			/* when a segment column is written */
	TrigColumn	fit;
	TrigColumn	grade;
	TrigColumn	segment;
	TupleDesc	tupdesc;
	IcpRowReader *reader;		/* reads the columns any profile reads */
	TupleTableSlot *newslot;	/* UPDATE: raw columns of both versions */
	TupleTableSlot *oldslot;
	Datum	   *values;			/* the row being written, deformed */
	bool	   *isnull;
} TrigState;

/* Let go of the trigger's pins when the statement's memory goes away */
static void
TrigStateReset(void *arg)
{
	TrigState  *st = (TrigState *) arg;

	st->key.valid = false;
	IcpRunRelease(&st->run);
}

/* Raise a setup error that names the trigger and its table (also notify.c's) */
void
IcpTriggerSetupError(TriggerData *td, int sqlerrcode, const char *msg, const char *hint)
{
	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg("trigger \"%s\" on table \"%s\": %s",
					td->tg_trigger->tgname,
					RelationGetRelationName(td->tg_relation), msg),
			 hint ? errhint("%s", hint) : 0));
}

/* Find and check one result column; kind is "fit" or a text column's role */
static void
ResolveColumn(TriggerData *td, TrigColumn *col, const char *name, bool numeric,
			  const char *role)
{
	TupleDesc	tupdesc = RelationGetDescr(td->tg_relation);
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (att->attisdropped || strcmp(NameStr(att->attname), name) != 0)
			continue;
		if (att->attgenerated)
			IcpTriggerSetupError(td, ERRCODE_TRIGGERED_ACTION_EXCEPTION,
					   psprintf("%s column \"%s\" is a generated column", role, name),
					   "Use a plain column for the trigger to write into.");
		if (numeric && att->atttypid != FLOAT8OID && att->atttypid != FLOAT4OID &&
			att->atttypid != NUMERICOID)
			IcpTriggerSetupError(td, ERRCODE_DATATYPE_MISMATCH,
					   psprintf("%s column \"%s\" is of type %s, but must be double precision, real or numeric",
								role, name, format_type_be(att->atttypid)),
					   "Change the column's type, or name another column in the trigger's arguments.");
		if (!numeric && att->atttypid != TEXTOID && att->atttypid != VARCHAROID &&
			att->atttypid != BPCHAROID)
			IcpTriggerSetupError(td, ERRCODE_DATATYPE_MISMATCH,
					   psprintf("%s column \"%s\" is of type %s, but must be text, varchar or char",
								role, name, format_type_be(att->atttypid)),
					   "Change the column's type, or name another column in the trigger's arguments.");
		col->attnum = att->attnum;
		col->typid = att->atttypid;
		col->typmod = att->atttypmod;
		return;
	}
	IcpTriggerSetupError(td, ERRCODE_UNDEFINED_COLUMN,
			   psprintf("%s column \"%s\" does not exist", role, name),
			   "The arguments are: profile, fit column, grade column, segment column; pass '' to skip grade or segment.");
}

/* Check the trigger's setup and build its state (first row of a statement) */
static TrigState *
SetupTrigger(FunctionCallInfo fcinfo, TriggerData *td)
{
	Trigger    *tg = td->tg_trigger;
	MemoryContext cxt;
	MemoryContext old;
	TrigState  *st;
	const char *fitname;

	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		IcpTriggerSetupError(td, ERRCODE_TRIGGERED_ACTION_EXCEPTION,
				   "icp_score_trigger must be fired BEFORE ... FOR EACH ROW",
				   "Create it as BEFORE INSERT OR UPDATE ... FOR EACH ROW.");
	if (!TRIGGER_FIRED_BY_INSERT(td->tg_event) && !TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		IcpTriggerSetupError(td, ERRCODE_TRIGGERED_ACTION_EXCEPTION,
				   "icp_score_trigger must be fired by INSERT or UPDATE",
				   "Create it as BEFORE INSERT OR UPDATE ... FOR EACH ROW.");
	if (tg->tgnargs < 1 || tg->tgnargs > 4 || tg->tgargs[0][0] == '\0')
		IcpTriggerSetupError(td, ERRCODE_TRIGGERED_ACTION_EXCEPTION,
				   "icp_score_trigger takes a profile name and up to three column names",
				   "Use icp_score_trigger('profile' [, 'fit_column' [, 'grade_column' [, 'segment_column']]]).");

	cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "icp score trigger",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	st = palloc0(sizeof(TrigState));
	st->mcxt = cxt;
	st->tgoid = tg->tgoid;
	st->relid = RelationGetRelid(td->tg_relation);
	IcpRunInit(&st->run, cxt);
	st->cb.func = TrigStateReset;
	st->cb.arg = st;
	MemoryContextRegisterResetCallback(cxt, &st->cb);

	fitname = tg->tgnargs > 1 && tg->tgargs[1][0] ? tg->tgargs[1] : DEFAULT_FIT_COLUMN;
	ResolveColumn(td, &st->fit, fitname, true, "fit");
	if (tg->tgnargs > 2 && tg->tgargs[2][0])
		ResolveColumn(td, &st->grade, tg->tgargs[2], false, "grade");
	if (tg->tgnargs > 3 && tg->tgargs[3][0])
		ResolveColumn(td, &st->segment, tg->tgargs[3], false, "segment");
	if (st->fit.attnum == st->grade.attnum || st->fit.attnum == st->segment.attnum ||
		(st->grade.attnum != 0 && st->grade.attnum == st->segment.attnum))
		IcpTriggerSetupError(td, ERRCODE_TRIGGERED_ACTION_EXCEPTION,
				   "the fit, grade and segment columns must be different columns",
				   NULL);
	st->tupdesc = CreateTupleDescCopy(RelationGetDescr(td->tg_relation));
	if (st->segment.attnum != 0)
		st->seg = IcpSegmentCreate(cxt, NULL, false);
	st->newslot = MakeSingleTupleTableSlot(st->tupdesc, &TTSOpsHeapTuple);
	st->oldslot = MakeSingleTupleTableSlot(st->tupdesc, &TTSOpsHeapTuple);
	st->values = palloc(sizeof(Datum) * Max(st->tupdesc->natts, 1));
	st->isnull = palloc(sizeof(bool) * Max(st->tupdesc->natts, 1));
	MemoryContextSwitchTo(old);
	return st;
}

/* Whether an UPDATE changed any column a profile reads */
static bool
ReadColumnsChanged(TrigState *st)
{
	int			i;

	for (i = 0; i < st->reader->nreadcols; i++)
	{
		int			att = st->reader->readcols[i];
		Form_pg_attribute a = TupleDescAttr(st->tupdesc, att);
		bool		n1 = st->oldslot->tts_isnull[att];
		bool		n2 = st->newslot->tts_isnull[att];

		if (n1 != n2)
			return true;
		if (!n1 && !datumIsEqual(st->oldslot->tts_values[att],
								 st->newslot->tts_values[att],
								 a->attbyval, a->attlen))
			return true;
	}
	return false;
}

/* A text result as a Datum of a text, varchar or char column */
static Datum
TextColumnDatum(TrigColumn *col, const char *s)
{
	Datum		d = PointerGetDatum(cstring_to_text(s));

	if (col->typid == VARCHAROID && col->typmod >= 0)
		d = DirectFunctionCall3(varchar, d, Int32GetDatum(col->typmod),
								BoolGetDatum(false));
	else if (col->typid == BPCHAROID)
		d = DirectFunctionCall3(bpchar, d, Int32GetDatum(col->typmod),
								BoolGetDatum(false));
	return d;
}

/* A fit as a Datum of a double precision, real or numeric column */
static Datum
FitColumnDatum(TrigColumn *col, double fit)
{
	Datum		d;

	if (col->typid == FLOAT8OID)
		return Float8GetDatum(fit);
	if (col->typid == FLOAT4OID)
		return Float4GetDatum((float4) fit);
	d = DirectFunctionCall1(float8_numeric, Float8GetDatum(fit));
	if (col->typmod >= 0)
		d = DirectFunctionCall2(numeric, d, Int32GetDatum(col->typmod));
	return d;
}

/*
 * Pin and bind the trigger's profile (and the segment's) to the table's row
 * type: cheap while the key holds, else resolved again through the cache.
 */
static void
ResolveTrigger(TrigState *st, TriggerData *td)
{
	Oid			reltype = RelationGetForm(td->tg_relation)->reltype;
	IcpCompiled *cp;
	IcpBinding *b;
	uint64		generation;

	if (IcpUseKeyValid(&st->key))
		return;
	st->key.valid = false;
	generation = IcpUseKeyBegin();
	cp = IcpAcquireProfileByName(td->tg_trigger->tgargs[0], true);
	if (cp == NULL)
		IcpTriggerSetupError(td, ERRCODE_UNDEFINED_OBJECT,
				   psprintf("icp profile \"%s\" does not exist", td->tg_trigger->tgargs[0]),
				   "The first argument of icp_score_trigger is the name of a row of icp_profiles.");
	PG_TRY();
	{
		b = IcpAcquireBinding(cp, reltype, -1);
	}
	PG_CATCH();
	{
		IcpUnpinProfile(cp);
		PG_RE_THROW();
	}
	PG_END_TRY();
	IcpRunSet(&st->run, cp, b);
	if (st->seg)
		IcpSegmentResolve(st->seg, reltype, -1);
	IcpReaderNeed(IcpReaderFor(&st->reader, st->mcxt, reltype, -1), b);
	if (st->seg)
		IcpSegmentNeed(st->seg, st->reader);
	IcpUseKeyTake(&st->key, generation,
				  b->deps | (st->seg ? st->seg->key.deps : 0));
}

/* BEFORE INSERT OR UPDATE FOR EACH ROW: write fit, grade and segment */
Datum
icp_score_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TrigState  *st;
	HeapTuple	tuple;
	IcpAccount	acc;
	IcpResult	res;
	ErrorContextCallback errcb;
	HeapTuple	newtuple;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("icp_score_trigger() must be called as a trigger")));

	st = (TrigState *) fcinfo->flinfo->fn_extra;
	if (st == NULL || st->tgoid != td->tg_trigger->tgoid ||
		st->relid != RelationGetRelid(td->tg_relation))
	{
		if (st != NULL)
		{
			fcinfo->flinfo->fn_extra = NULL;
			MemoryContextDelete(st->mcxt);
		}
		st = SetupTrigger(fcinfo, td);
		fcinfo->flinfo->fn_extra = st;
	}
	else if (!TRIGGER_FIRED_BY_INSERT(td->tg_event) &&
			 !TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		SetupTrigger(fcinfo, td);	/* raises the setup error */
	ResolveTrigger(st, td);

	tuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		bool		unchanged;

		ExecStoreHeapTuple(tuple, st->newslot, false);
		slot_getsomeattrs(st->newslot, st->reader->natts_needed);
		ExecStoreHeapTuple(td->tg_trigtuple, st->oldslot, false);
		slot_getsomeattrs(st->oldslot, st->reader->natts_needed);
		unchanged = !ReadColumnsChanged(st);
		ExecClearTuple(st->oldslot);
		ExecClearTuple(st->newslot);
		if (unchanged &&
			!heap_attisnull(tuple, st->fit.attnum, st->tupdesc) &&
			(st->grade.attnum == 0 || !heap_attisnull(tuple, st->grade.attnum, st->tupdesc)) &&
			(st->segment.attnum == 0 || !heap_attisnull(tuple, st->segment.attnum, st->tupdesc)))
			return PointerGetDatum(tuple);
	}

	/* one deform serves the rules and the new tuple */
	heap_deform_tuple(tuple, st->tupdesc, st->values, st->isnull);
	IcpAccountFromValues(st->reader, st->values, st->isnull, &acc);
	errcb.callback = IcpScoringErrorCallback;
	errcb.arg = &st->run;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	IcpScoreAccount(&st->run, &acc, &res, NULL);
	error_context_stack = errcb.previous;

	st->isnull[st->fit.attnum - 1] = res.fit_null;
	st->values[st->fit.attnum - 1] = res.fit_null ? (Datum) 0 :
		FitColumnDatum(&st->fit, res.fit);
	if (st->grade.attnum != 0)
	{
		char		g[2] = {res.grade, '\0'};

		st->isnull[st->grade.attnum - 1] = (res.grade == 0);
		st->values[st->grade.attnum - 1] = res.grade == 0 ? (Datum) 0 :
			TextColumnDatum(&st->grade, g);
	}
	if (st->segment.attnum != 0)
	{
		IcpCompiled *win = st->seg->nprofiles > 0 ? IcpSegmentChoose(st->seg, &acc) : NULL;

		st->isnull[st->segment.attnum - 1] = (win == NULL);
		st->values[st->segment.attnum - 1] = win == NULL ? (Datum) 0 :
			TextColumnDatum(&st->segment, win->name);
	}
	newtuple = heap_form_tuple(st->tupdesc, st->values, st->isnull);
	/* what heap_modify_tuple keeps of the original */
	newtuple->t_data->t_ctid = tuple->t_data->t_ctid;
	newtuple->t_self = tuple->t_self;
	newtuple->t_tableOid = tuple->t_tableOid;
	IcpAccountDone(st->reader);
	return PointerGetDatum(newtuple);
}
