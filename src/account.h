/*
 * account.h
 *		The account layer: every kind of input (a whole-row record, the
 *		columns a planner-rewritten call passes, a trigger's tuple, a jsonb
 *		document) becomes an IcpAccount whose values are safe to read.
 *
 * A row reader belongs to one call site (never to a shared cache).  It
 * knows the row type, which columns the bound rules read, and owns the
 * per-row scratch memory.  Every variable-length column a rule reads is
 * detoasted (out-of-line, compressed or expanded values alike) into that
 * scratch memory before any rule looks at it, so evaluators may read the
 * bytes of any varlena they are given.  IcpAccountDone() frees the scratch
 * after each account.
 */
#ifndef ICP_ACCOUNT_H
#define ICP_ACCOUNT_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/jsonb.h"

struct IcpBinding;

/* An account being scored: column values of a row, or a jsonb document */
typedef struct IcpAccount
{
	Datum	   *values;			/* per column, by 0-based attno (read ones) */
	bool	   *isnull;
	TupleDesc	tupdesc;
	JsonbContainer *json;		/* a jsonb account, else NULL */
	struct IcpRowReader *reader;	/* owner of the scratch memory */
} IcpAccount;

/* Per call site: how accounts of one row type (or jsonb) are read */
typedef struct IcpRowReader
{
	MemoryContext mcxt;			/* owns the reader and everything below */
	MemoryContext rowcxt;		/* per-account scratch, reset after each */
	bool		is_jsonb;
	Oid			typid;
	int32		typmod;
	uint64		tupdesc_id;		/* typcache identifier of the row type */
	TupleDesc	tupdesc;		/* own copy */
	TupleTableSlot *slot;		/* deforms whole-row and trigger tuples */
	int			natts_needed;	/* deform this many columns */
	bool	   *reads;			/* per column: does any bound rule read it */
	int		   *readcols;		/* 0-based attnos read, ascending */
	int			nreadcols;
	bool	   *varlena;		/* per column: attlen == -1 */
	Datum	   *values;			/* the account's values (read columns) */
	bool	   *isnull;
	char	   *buf;			/* reusable 4-byte-header copy buffer */
	Size		buflen;
	HeapTupleData tuple;		/* the whole-row datum being read */
} IcpRowReader;

extern IcpRowReader *IcpReaderCreate(MemoryContext parent, Oid typid, int32 typmod);
extern void IcpReaderFree(IcpRowReader *r);
extern bool IcpReaderMatches(IcpRowReader *r, Oid typid, int32 typmod);
extern void IcpReaderClearColumns(IcpRowReader *r);
extern IcpRowReader *IcpReaderFor(IcpRowReader **rp, MemoryContext parent,
								  Oid typid, int32 typmod);
extern void IcpReaderNeed(IcpRowReader *r, struct IcpBinding *b);

extern void IcpAccountFromRecord(IcpRowReader *r, HeapTupleHeader th, IcpAccount *acc);
extern void IcpAccountFromHeapTuple(IcpRowReader *r, HeapTuple tuple, IcpAccount *acc);
extern void IcpAccountFromValues(IcpRowReader *r, Datum *values, bool *isnull,
								 IcpAccount *acc);
extern void IcpAccountFromArgs(IcpRowReader *r, FunctionCallInfo fcinfo, int first,
							   IcpAccount *acc);
extern void IcpAccountFromJsonb(IcpRowReader *r, Jsonb *jb, IcpAccount *acc);
extern void IcpAccountDone(IcpRowReader *r);

extern Datum IcpPlainVarlena(IcpAccount *acc, Datum v);

#endif							/* ICP_ACCOUNT_H */
