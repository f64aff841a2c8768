/*
 * notify.c
 *		icp_notify_trigger: route a row to a person when its grade changes.
 *
 *   CREATE TRIGGER leads_route AFTER INSERT OR UPDATE ON leads
 *     FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('icp_grades');
 *
 * Arguments: channel [, grade_column (default grade) [, key_columns
 * (default: the primary key, else a column named id, else the row's ctid)
 * [, outbox_table]]].  For every row whose grade
 * changed (INSERT: from NULL; UPDATE: old and new grade differ, NULLs
 * compared as values) it sends one NOTIFY on the channel with a JSON payload
 * naming the table, the row's key, the old and new grade, the fit and the
 * profile; with an outbox table it also inserts the payload there (column
 * payload).  Both are transactional: nothing is sent or kept for a
 * transaction (or subtransaction) that rolls back.  Every payload carries a
 * sequence number, so that two changes of one transaction are never
 * folded into one notification as identical NOTIFYs would be.
 *
 * The fit and the profile come from the table's icp_score_trigger that
 * writes the same grade column (its fit column and profile), else from a
 * column named fit, with no profile.  A C function (not PL/pgSQL) so that
 * this is worked out once per statement, kept in fn_extra, rather than
 * queried from the catalog for every row, and so that the payload's size
 * can be checked before NOTIFY refuses it.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/varlena.h"

#include "compat.h"
#include "icp.h"
#include "score.h"

PG_FUNCTION_INFO_V1(icp_notify_trigger);

/* Default name of the grade column, and of the fit column when no score trigger says */
#define DEFAULT_GRADE_COLUMN "grade"
#define DEFAULT_FIT_COLUMN "fit"

/*
 * NOTIFY refuses a payload of this many bytes or more (8000 with the
 * default block size, as the NOTIFY documentation says; async.c keeps its
 * own constant private)
 */
#define ICP_NOTIFY_MAX_PAYLOAD (BLCKSZ - NAMEDATALEN - 128)

/* Most key columns a trigger may name */
#define MAX_KEY_COLUMNS 32

/* Per trigger and statement state, kept in fn_extra */
typedef struct NotifyState
{
	Oid			tgoid;
	Oid			relid;
	char	   *channel;		/* NULL: outbox only */
	char	   *schema;
	char	   *table;
	int			grade_attnum;
	int			fit_attnum;		/* 0: no fit column */
	char	   *profile;		/* NULL: unknown */
	int			nkeys;
	int			key_attnums[MAX_KEY_COLUMNS];
	char	   *outbox_sql;		/* INSERT into the outbox, or NULL */
} NotifyState;

/* Numbers the payloads of this backend: no two are ever identical */
static uint64 notify_seq = 0;

/* The 1-based number of a column of the trigger's table, or a setup error */
static int
NotifyColumn(TriggerData *td, const char *name, const char *role)
{
	TupleDesc	tupdesc = RelationGetDescr(td->tg_relation);

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->attnum;
	}
	IcpTriggerSetupError(td, ERRCODE_UNDEFINED_COLUMN,
					 psprintf("%s column \"%s\" does not exist", role, name),
					 "The arguments are: channel, grade column, key columns (a comma-separated list), outbox table.");
}

/* The default key: the primary key's columns, else id, else none (ctid) */
static void
PrimaryKeyColumns(TriggerData *td, NotifyState *st)
{
	List	   *indexes = RelationGetIndexList(td->tg_relation);
	ListCell   *lc;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);

		if (idx->rd_index->indisprimary)
		{
			st->nkeys = Min(idx->rd_index->indnkeyatts, MAX_KEY_COLUMNS);
			for (int i = 0; i < st->nkeys; i++)
				st->key_attnums[i] = idx->rd_index->indkey.values[i];
		}
		index_close(idx, AccessShareLock);
		if (st->nkeys > 0)
			break;
	}
	list_free(indexes);

	/* no primary key: a column named id, else the row's ctid (nkeys 0) */
	if (st->nkeys == 0)
	{
		AttrNumber	id = get_attnum(RelationGetRelid(td->tg_relation), "id");

		if (id != InvalidAttrNumber)
			st->key_attnums[st->nkeys++] = id;
	}
}

/*
 * The fit column and profile of the table's icp_score_trigger that writes
 * the grade column, if there is one
 */
static void
FindScoreTrigger(TriggerData *td, NotifyState *st, const char *grade)
{
	TriggerDesc *trigdesc = td->tg_relation->trigdesc;
	Oid			nsp = get_func_namespace(td->tg_trigger->tgfoid);

	for (int i = 0; trigdesc && i < trigdesc->numtriggers; i++)
	{
		Trigger    *t = &trigdesc->triggers[i];
		char	   *fname;

		if (t->tgenabled == TRIGGER_DISABLED || t->tgnargs < 3 ||
			strcmp(t->tgargs[2], grade) != 0 ||
			get_func_namespace(t->tgfoid) != nsp)
			continue;
		fname = get_func_name(t->tgfoid);
		if (fname == NULL || strcmp(fname, "icp_score_trigger") != 0)
			continue;
		st->profile = pstrdup(t->tgargs[0]);
		st->fit_attnum = NotifyColumn(td, t->tgargs[1][0] ? t->tgargs[1] : DEFAULT_FIT_COLUMN,
									  "fit");
		return;
	}
}

/* The INSERT statement for an outbox table, checked to have a payload column */
static char *
OutboxStatement(TriggerData *td, const char *name)
{
	List	   *parts;
	Oid			relid;
	AttrNumber	att;
	Oid			typid;

	/* checked here, so that a bad name is an error naming the trigger */
	if (!SplitIdentifierString(pstrdup(name), '.', &parts) || list_length(parts) > 3)
		IcpTriggerSetupError(td, ERRCODE_INVALID_NAME,
							 psprintf("invalid outbox table name \"%s\"", name),
							 "Name the outbox table as in SQL: grade_outbox, or crm.grade_outbox.");
	relid = RangeVarGetRelid(makeRangeVarFromNameList(textToQualifiedNameList(cstring_to_text(name))),
							 NoLock, true);
	if (!OidIsValid(relid))
		IcpTriggerSetupError(td, ERRCODE_UNDEFINED_TABLE,
							 psprintf("outbox table \"%s\" does not exist", name),
							 "Create it as, for example, CREATE TABLE grade_outbox (id bigserial PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now()).");
	att = get_attnum(relid, "payload");
	typid = att != InvalidAttrNumber ? get_atttype(relid, att) : InvalidOid;
	if (typid != JSONBOID && typid != JSONOID && typid != TEXTOID)
		IcpTriggerSetupError(td, OidIsValid(typid) ? ERRCODE_DATATYPE_MISMATCH : ERRCODE_UNDEFINED_COLUMN,
						 psprintf("outbox table \"%s\" has no column \"payload\" of type jsonb, json or text", name),
						 "Create it as, for example, CREATE TABLE grade_outbox (id bigserial PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now()).");
	return psprintf("INSERT INTO %s (payload) VALUES ($1::pg_catalog.text::pg_catalog.%s)",
					quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											   get_rel_name(relid)),
					typid == JSONBOID ? "jsonb" : typid == JSONOID ? "json" : "text");
}

/* Check the trigger's setup and build its state (first row of a statement) */
static NotifyState *
SetupNotify(FunctionCallInfo fcinfo, TriggerData *td)
{
	Trigger    *tg = td->tg_trigger;
	MemoryContext old;
	NotifyState *st;
	const char *grade;

	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		(!TRIGGER_FIRED_BY_INSERT(td->tg_event) && !TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
		IcpTriggerSetupError(td, ERRCODE_TRIGGERED_ACTION_EXCEPTION,
						 "icp_notify_trigger must be fired AFTER INSERT OR UPDATE ... FOR EACH ROW",
						 "Create it as AFTER INSERT OR UPDATE ... FOR EACH ROW.");
	if (tg->tgnargs < 1 || tg->tgnargs > 4)
		IcpTriggerSetupError(td, ERRCODE_TRIGGERED_ACTION_EXCEPTION,
						 "icp_notify_trigger takes a channel and up to three more arguments",
						 "Use icp_notify_trigger('channel' [, 'grade_column' [, 'key_columns' [, 'outbox_table']]]).");

	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	st = palloc0(sizeof(NotifyState));
	st->tgoid = tg->tgoid;
	st->relid = RelationGetRelid(td->tg_relation);
	st->schema = get_namespace_name(RelationGetNamespace(td->tg_relation));
	st->table = pstrdup(RelationGetRelationName(td->tg_relation));

	/* the channel: what LISTEN takes, an identifier of at most 63 bytes */
	if (tg->tgargs[0][0] != '\0')
	{
		const char *ch = tg->tgargs[0];

		if (strlen(ch) >= NAMEDATALEN)
			IcpTriggerSetupError(td, ERRCODE_INVALID_PARAMETER_VALUE,
							 psprintf("channel name \"%s\" is too long", ch),
							 psprintf("A channel name has at most %d bytes.", NAMEDATALEN - 1));
		for (const char *c = ch; *c; c++)
			if ((unsigned char) *c < 0x20 || *c == 0x7f)
				IcpTriggerSetupError(td, ERRCODE_INVALID_PARAMETER_VALUE,
								 "channel name contains a control character",
								 "Use a channel name a listener can write, such as icp_grades.");
		st->channel = pstrdup(ch);
	}
	else if (tg->tgnargs < 4 || tg->tgargs[3][0] == '\0')
		IcpTriggerSetupError(td, ERRCODE_INVALID_PARAMETER_VALUE,
						 "the channel name is empty and no outbox table is named",
						 "Name a channel, an outbox table (fourth argument), or both.");

	grade = tg->tgnargs > 1 && tg->tgargs[1][0] ? tg->tgargs[1] : DEFAULT_GRADE_COLUMN;
	st->grade_attnum = NotifyColumn(td, grade, "grade");

	if (tg->tgnargs > 2 && tg->tgargs[2][0])
	{
		char	   *raw = pstrdup(tg->tgargs[2]);
		List	   *names;
		ListCell   *lc;
		int			len = strlen(raw);

		/* also accept the array form, '{region,id}' */
		if (len >= 2 && raw[0] == '{' && raw[len - 1] == '}')
		{
			raw[len - 1] = '\0';
			raw++;
		}
		if (!SplitIdentifierString(raw, ',', &names) || names == NIL)
			IcpTriggerSetupError(td, ERRCODE_INVALID_PARAMETER_VALUE,
							 psprintf("invalid list of key columns \"%s\"", tg->tgargs[2]),
							 "Write the key columns as a comma-separated list, as in 'region, id'.");
		if (list_length(names) > MAX_KEY_COLUMNS)
			IcpTriggerSetupError(td, ERRCODE_PROGRAM_LIMIT_EXCEEDED,
							 psprintf("more than %d key columns", MAX_KEY_COLUMNS), NULL);
		foreach(lc, names)
			st->key_attnums[st->nkeys++] = NotifyColumn(td, (char *) lfirst(lc), "key");
	}
	else
		PrimaryKeyColumns(td, st);

	FindScoreTrigger(td, st, grade);
	if (st->fit_attnum == 0)
	{
		AttrNumber	att = get_attnum(st->relid, DEFAULT_FIT_COLUMN);

		st->fit_attnum = att != InvalidAttrNumber ? att : 0;
	}

	if (tg->tgnargs > 3 && tg->tgargs[3][0])
		st->outbox_sql = OutboxStatement(td, tg->tgargs[3]);
	MemoryContextSwitchTo(old);
	return st;
}

/* The text of a column value (NULL for SQL NULL), char(n) padding removed */
static char *
ColumnText(TupleDesc tupdesc, HeapTuple tuple, int attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, attnum, tupdesc, &isnull);
	Oid			typid = TupleDescAttr(tupdesc, attnum - 1)->atttypid;
	Oid			outfunc;
	bool		isvarlena;
	char	   *s;

	if (isnull)
		return NULL;
	getTypeOutputInfo(typid, &outfunc, &isvarlena);
	s = OidOutputFunctionCall(outfunc, d);
	if (getBaseType(typid) == BPCHAROID)
	{
		int			len = strlen(s);

		while (len > 0 && s[len - 1] == ' ')
			s[--len] = '\0';
	}
	return s;
}

/* Append a column value as JSON: numbers and booleans as such, else a string */
static void
AppendJsonValue(StringInfo buf, TupleDesc tupdesc, HeapTuple tuple, int attnum)
{
	char	   *s = ColumnText(tupdesc, tuple, attnum);

	if (s == NULL)
	{
		appendStringInfoString(buf, "null");
		return;
	}
	switch (getBaseType(TupleDescAttr(tupdesc, attnum - 1)->atttypid))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
			appendStringInfoString(buf, s);
			return;
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
			/* NaN and infinities have no JSON number */
			if (strspn(s, "0123456789.-+eE") == strlen(s))
			{
				appendStringInfoString(buf, s);
				return;
			}
			break;
		case BOOLOID:
			appendStringInfoString(buf, s[0] == 't' ? "true" : "false");
			return;
		default:
			break;
	}
	escape_json(buf, s);
}

/* Append "name": value for each key column ("ctid" when there are none) */
static void
AppendKey(StringInfo buf, NotifyState *st, TupleDesc tupdesc, HeapTuple tuple)
{
	appendStringInfoChar(buf, '{');
	if (st->nkeys == 0)
		appendStringInfo(buf, "\"ctid\": \"(%u,%u)\"",
						 ItemPointerGetBlockNumber(&tuple->t_self),
						 ItemPointerGetOffsetNumber(&tuple->t_self));
	for (int i = 0; i < st->nkeys; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		escape_json(buf, NameStr(TupleDescAttr(tupdesc, st->key_attnums[i] - 1)->attname));
		appendStringInfoString(buf, ": ");
		AppendJsonValue(buf, tupdesc, tuple, st->key_attnums[i]);
	}
	appendStringInfoChar(buf, '}');
}

/*
 * The payload of one grade change.  key_text is the key object, or NULL to
 * leave it out (too long for NOTIFY): then the row's ctid stands in.
 */
static char *
BuildPayload(NotifyState *st, TriggerData *td, HeapTuple tuple, const char *key_text,
			 const char *old_grade, const char *new_grade, uint64 seq)
{
	TupleDesc	tupdesc = RelationGetDescr(td->tg_relation);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"schema\": ");
	escape_json(&buf, st->schema);
	appendStringInfoString(&buf, ", \"table\": ");
	escape_json(&buf, st->table);
	appendStringInfo(&buf, ", \"op\": \"%s\", \"key\": ",
					 TRIGGER_FIRED_BY_INSERT(td->tg_event) ? "INSERT" : "UPDATE");
	if (key_text)
		appendStringInfoString(&buf, key_text);
	else
		appendStringInfo(&buf, "null, \"key_too_long\": true, \"ctid\": \"(%u,%u)\"",
						 ItemPointerGetBlockNumber(&tuple->t_self),
						 ItemPointerGetOffsetNumber(&tuple->t_self));
	appendStringInfoString(&buf, ", \"old_grade\": ");
	if (old_grade)
		escape_json(&buf, old_grade);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, ", \"new_grade\": ");
	if (new_grade)
		escape_json(&buf, new_grade);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, ", \"fit\": ");
	if (st->fit_attnum > 0)
		AppendJsonValue(&buf, tupdesc, tuple, st->fit_attnum);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, ", \"profile\": ");
	if (st->profile)
		escape_json(&buf, st->profile);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfo(&buf, ", \"seq\": " UINT64_FORMAT "}", seq);
	return buf.data;
}

/* Insert a payload into the outbox table, with the rights of the writer */
static void
InsertOutbox(NotifyState *st, const char *payload)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int			ret;

	args[0] = CStringGetTextDatum(payload);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(st->outbox_sql, 1, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	SPI_finish();
}

/* icp_notify_trigger(): AFTER INSERT OR UPDATE row trigger, one NOTIFY per grade change */
Datum
icp_notify_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	NotifyState *st;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	char	   *old_grade = NULL;
	char	   *new_grade;
	char	   *payload;
	StringInfoData key;
	uint64		seq;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("icp_notify_trigger() must be called as a trigger")));
	st = (NotifyState *) fcinfo->flinfo->fn_extra;
	if (st == NULL || st->tgoid != td->tg_trigger->tgoid ||
		st->relid != RelationGetRelid(td->tg_relation) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		(!TRIGGER_FIRED_BY_INSERT(td->tg_event) && !TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
	{
		st = SetupNotify(fcinfo, td);
		fcinfo->flinfo->fn_extra = st;
	}

	tupdesc = RelationGetDescr(td->tg_relation);
	tuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	new_grade = ColumnText(tupdesc, tuple, st->grade_attnum);
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		old_grade = ColumnText(tupdesc, td->tg_trigtuple, st->grade_attnum);
	if ((old_grade == NULL && new_grade == NULL) ||
		(old_grade != NULL && new_grade != NULL && strcmp(old_grade, new_grade) == 0))
		return PointerGetDatum(NULL);

	seq = ++notify_seq;
	initStringInfo(&key);
	AppendKey(&key, st, tupdesc, tuple);
	payload = BuildPayload(st, td, tuple, key.data, old_grade, new_grade, seq);
	if (st->outbox_sql)
		InsertOutbox(st, payload);
	if (st->channel)
	{
		/* NOTIFY takes less than 8000 bytes: a huge key gives way to the ctid */
		if (strlen(payload) >= ICP_NOTIFY_MAX_PAYLOAD)
			payload = BuildPayload(st, td, tuple, NULL, old_grade, new_grade, seq);
		if (strlen(payload) >= ICP_NOTIFY_MAX_PAYLOAD)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("trigger \"%s\" on table \"%s\": the notification is too long",
							td->tg_trigger->tgname, RelationGetRelationName(td->tg_relation)),
					 errdetail("Even without its key the payload has %zu bytes; NOTIFY takes fewer than %d.",
							   strlen(payload), ICP_NOTIFY_MAX_PAYLOAD),
					 errhint("Use shorter grades and profile names, or an outbox table only.")));
		Async_Notify(st->channel, payload);
	}
	return PointerGetDatum(NULL);
}
