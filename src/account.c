/*
 * account.c
 *		Turn records, column lists, trigger tuples and jsonb documents into
 *		accounts whose values are detoasted and safe to read.
 *
 * Values reach the scorer in four ways: a whole-row datum (icp_fit(l)), the
 * columns a planner-rewritten call passes one by one (support.c), the tuple
 * a row trigger is given, and a jsonb document.  A table row's columns may
 * be stored out of line (TOAST pointers), compressed, or, from PL/pgSQL,
 * expanded; only this file looks at raw column Datums.  Every column a rule
 * reads is made plain here (pg_detoast_datum_packed into the per-account
 * scratch context), so the evaluators never see a TOAST pointer.  Short
 * (1-byte header) inline values are left as they are: they are plain bytes.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/tuptable.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "account.h"
#include "bind.h"

/* A reader for accounts of row type typid/typmod, or jsonb when InvalidOid */
IcpRowReader *
IcpReaderCreate(MemoryContext parent, Oid typid, int32 typmod)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "icp row reader",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	IcpRowReader *r = palloc0(sizeof(IcpRowReader));
	int			natts;
	int			i;

	r->mcxt = cxt;
	r->rowcxt = AllocSetContextCreate(cxt, "icp account scratch",
									  ALLOCSET_DEFAULT_SIZES);
	if (!OidIsValid(typid))
	{
		r->is_jsonb = true;
		r->typid = JSONBOID;
		r->typmod = -1;
		MemoryContextSwitchTo(old);
		return r;
	}
	r->typid = typid;
	r->typmod = typmod;
	{
		TupleDesc	td = lookup_rowtype_tupdesc(typid, typmod);

		r->tupdesc = CreateTupleDescCopy(td);
		ReleaseTupleDesc(td);
	}
	r->tupdesc_id = assign_record_type_identifier(typid, typmod);
	natts = r->tupdesc->natts;
	r->slot = MakeSingleTupleTableSlot(r->tupdesc, &TTSOpsHeapTuple);
	r->reads = palloc0(sizeof(bool) * Max(natts, 1));
	r->readcols = palloc0(sizeof(int) * Max(natts, 1));
	r->varlena = palloc0(sizeof(bool) * Max(natts, 1));
	r->values = palloc0(sizeof(Datum) * Max(natts, 1));
	r->isnull = palloc0(sizeof(bool) * Max(natts, 1));
	for (i = 0; i < natts; i++)
	{
		r->varlena[i] = TupleDescAttr(r->tupdesc, i)->attlen == -1;
		r->isnull[i] = true;
	}
	MemoryContextSwitchTo(old);
	return r;
}

/* Free a reader and its scratch memory */
void
IcpReaderFree(IcpRowReader *r)
{
	if (r == NULL)
		return;
	if (r->slot)
		ExecDropSingleTupleTableSlot(r->slot);
	MemoryContextDelete(r->mcxt);
}

/*
 * Whether a reader still fits row type typid/typmod: same type, and the
 * type's definition has not changed since (typcache identifier).
 */
bool
IcpReaderMatches(IcpRowReader *r, Oid typid, int32 typmod)
{
	if (r == NULL || r->is_jsonb != !OidIsValid(typid))
		return false;
	if (r->is_jsonb)
		return true;
	return r->typid == typid && r->typmod == typmod &&
		r->tupdesc_id == assign_record_type_identifier(typid, typmod);
}

/*
 * The reader *rp made fit row type typid/typmod (InvalidOid: jsonb), made
 * anew in parent when it does not, reading no column yet.
 */
IcpRowReader *
IcpReaderFor(IcpRowReader **rp, MemoryContext parent, Oid typid, int32 typmod)
{
	if (!IcpReaderMatches(*rp, typid, typmod))
	{
		IcpReaderFree(*rp);
		*rp = NULL;
		*rp = IcpReaderCreate(parent, typid, typmod);
	}
	IcpReaderClearColumns(*rp);
	return *rp;
}

/* Forget which columns are read (before binding other profiles) */
void
IcpReaderClearColumns(IcpRowReader *r)
{
	int			i;

	if (r->is_jsonb)
		return;
	r->nreadcols = 0;
	r->natts_needed = 0;
	for (i = 0; i < r->tupdesc->natts; i++)
	{
		r->reads[i] = false;
		r->isnull[i] = true;
	}
}

/* Read the columns a binding's rules read, too */
void
IcpReaderNeed(IcpRowReader *r, IcpBinding *b)
{
	int			natts;
	int			i;

	if (r->is_jsonb)
		return;
	Assert(b->tupdesc_id == r->tupdesc_id);
	natts = r->tupdesc->natts;
	for (i = 0; i < b->nreadcols; i++)
	{
		int			att = b->readcols[i];

		if (att < 0 || att >= natts)
			elog(ERROR, "icp binding reads column %d of a row type with %d columns",
				 att + 1, natts);
		r->reads[att] = true;
	}
	r->nreadcols = 0;
	for (i = 0; i < natts; i++)
		if (r->reads[i])
			r->readcols[r->nreadcols++] = i;
	r->natts_needed = r->nreadcols > 0 ? r->readcols[r->nreadcols - 1] + 1 : 0;
}

/*
 * A column value made safe to read: out-of-line, compressed and expanded
 * values are detoasted into the account's scratch memory.
 */
static inline Datum
PlainColumn(IcpRowReader *r, Datum d)
{
	struct varlena *p = (struct varlena *) DatumGetPointer(d);

	if (VARATT_IS_EXTERNAL(p) || VARATT_IS_COMPRESSED(p))
	{
		MemoryContext old = MemoryContextSwitchTo(r->rowcxt);

		p = pg_detoast_datum_packed(p);
		MemoryContextSwitchTo(old);
		return PointerGetDatum(p);
	}
	return d;
}

/* Point an account at the reader's column values */
static inline void
RowAccount(IcpRowReader *r, IcpAccount *acc)
{
	acc->values = r->values;
	acc->isnull = r->isnull;
	acc->tupdesc = r->tupdesc;
	acc->json = NULL;
	acc->reader = r;
}

/* Copy the read columns of a deformed slot into the account */
static void
FromSlot(IcpRowReader *r, IcpAccount *acc)
{
	TupleTableSlot *slot = r->slot;
	int			i;

	slot_getsomeattrs(slot, r->natts_needed);
	for (i = 0; i < r->nreadcols; i++)
	{
		int			att = r->readcols[i];

		r->isnull[att] = slot->tts_isnull[att];
		r->values[att] = r->isnull[att] ? (Datum) 0 :
			(r->varlena[att] ? PlainColumn(r, slot->tts_values[att]) :
			 slot->tts_values[att]);
	}
	RowAccount(r, acc);
}

/*
 * A whole-row datum as an account.  The datum must be of the reader's row
 * type and live as long as the account is used.
 */
void
IcpAccountFromRecord(IcpRowReader *r, HeapTupleHeader th, IcpAccount *acc)
{
	HeapTuple	tuple = &r->tuple;

	Assert(!r->is_jsonb);
	tuple->t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tuple->t_self);
	tuple->t_tableOid = InvalidOid;
	tuple->t_data = th;
	ExecStoreHeapTuple(tuple, r->slot, false);
	FromSlot(r, acc);
}

/* A heap tuple of the reader's row type (a trigger's row) as an account */
void
IcpAccountFromHeapTuple(IcpRowReader *r, HeapTuple tuple, IcpAccount *acc)
{
	Assert(!r->is_jsonb);
	ExecStoreHeapTuple(tuple, r->slot, false);
	FromSlot(r, acc);
}

/*
 * The columns of a row passed as arguments first .. first + natts - 1 (a
 * planner-rewritten call) as an account.  The caller has checked that the
 * argument types are the row type's column types.
 */
void
IcpAccountFromArgs(IcpRowReader *r, FunctionCallInfo fcinfo, int first,
				   IcpAccount *acc)
{
	int			i;

	Assert(!r->is_jsonb);
	for (i = 0; i < r->nreadcols; i++)
	{
		int			att = r->readcols[i];
		NullableDatum *arg = &fcinfo->args[first + att];

		r->isnull[att] = arg->isnull;
		r->values[att] = arg->isnull ? (Datum) 0 :
			(r->varlena[att] ? PlainColumn(r, arg->value) : arg->value);
	}
	RowAccount(r, acc);
}

/*
 * A row already deformed into values/isnull arrays of the reader's row type
 * (a trigger's tuple) as an account; the arrays must outlive the account.
 */
void
IcpAccountFromValues(IcpRowReader *r, Datum *values, bool *isnull, IcpAccount *acc)
{
	int			i;

	Assert(!r->is_jsonb);
	for (i = 0; i < r->nreadcols; i++)
	{
		int			att = r->readcols[i];

		r->isnull[att] = isnull[att];
		r->values[att] = isnull[att] ? (Datum) 0 :
			(r->varlena[att] ? PlainColumn(r, values[att]) : values[att]);
	}
	RowAccount(r, acc);
}

/* A jsonb document (already detoasted by the caller) as an account */
void
IcpAccountFromJsonb(IcpRowReader *r, Jsonb *jb, IcpAccount *acc)
{
	Assert(r->is_jsonb);
	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a jsonb account must be a JSON object"),
				 errhint("Pass an object whose keys are the attributes, such as {\"employees\": 120}.")));
	acc->values = NULL;
	acc->isnull = NULL;
	acc->tupdesc = NULL;
	acc->json = &jb->root;
	acc->reader = r;
}

/* Done with the current account: release the slot and the scratch memory */
void
IcpAccountDone(IcpRowReader *r)
{
	if (r->slot && !TTS_EMPTY(r->slot))
		ExecClearTuple(r->slot);
	/* most accounts need no scratch memory: skip the call then */
	if (!r->rowcxt->isReset || r->rowcxt->firstchild != NULL)
		MemoryContextReset(r->rowcxt);
}

/*
 * A plain varlena with a 4-byte header.  A short-header inline value (the
 * common case for small values in a heap tuple) is copied into the reader's
 * reusable buffer, so that functions that detoast their arguments (numeric
 * comparison, array access) need not palloc a copy for every row.  Values
 * reaching here were made plain by the reader, so a 1-byte header is never
 * a TOAST pointer; anything else extended is detoasted all the same.
 */
Datum
IcpPlainVarlena(IcpAccount *acc, Datum v)
{
	struct varlena *p = (struct varlena *) DatumGetPointer(v);
	IcpRowReader *r = acc->reader;

	if (VARATT_IS_EXTERNAL(p) || VARATT_IS_COMPRESSED(p))
	{
		MemoryContext old = MemoryContextSwitchTo(r->rowcxt);

		p = pg_detoast_datum(p);
		MemoryContextSwitchTo(old);
		return PointerGetDatum(p);
	}
	if (VARATT_IS_SHORT(p))
	{
		Size		len = VARSIZE_SHORT(p) - VARHDRSZ_SHORT;

		if (r->buflen < len + VARHDRSZ)
		{
			Size		want = Max(len + VARHDRSZ, 256);

			r->buf = r->buf ? repalloc(r->buf, want)
				: MemoryContextAlloc(r->mcxt, want);
			r->buflen = want;
		}
		SET_VARSIZE(r->buf, len + VARHDRSZ);
		memcpy(VARDATA(r->buf), VARDATA_SHORT(p), len);
		return PointerGetDatum(r->buf);
	}
	return v;
}
