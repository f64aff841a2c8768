/*
 * score.h
 *		Call sites of the scoring entry points, shared with segmentation and
 *		the trigger.
 */
#ifndef ICP_SCORE_H
#define ICP_SCORE_H

#include "postgres.h"

#include "access/htup.h"
#include "fmgr.h"
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/jsonb.h"

#include "bind.h"

/* How an entry point names its profile */
typedef enum IcpProfileArg
{
	ICP_ARG_DEFAULT,			/* no profile argument: the default profile */
	ICP_ARG_NAME,				/* a profile name (text) */
	ICP_ARG_VALUE				/* an icp_profile value */
} IcpProfileArg;

#define ICP_VALUE_CACHE_SIZE 4

/* Arguments before the columns in an icp_*_columns call */
#define ICP_COLUMNS_FIXED_ARGS 4

/*
 * The argument shape of an icp_*_columns call, checked once per call site
 * (and again when the row type or the catalogs change) before any argument
 * is read: (kind int4, profile, rowtype regtype, ctid tid, col1 .. colN).
 */
typedef struct IcpColumnsCheck
{
	bool		checked;
	uint64		generation;		/* IcpCatalogGeneration when checked */
	Oid			typid;			/* the row type checked */
	int32		kind;			/* the kind checked */
} IcpColumnsCheck;

/*
 * Per call site state, kept in fn_extra (as long as the FmgrInfo lives: a
 * statement, or a PL/pgSQL expression across a loop).  It pins the profile
 * and binding it uses (run) and reads accounts with its own row reader.
 * Every call checks key (IcpUseKeyValid): while nothing changed, the pinned
 * profile is used as it is; otherwise it is resolved again through the
 * cache, which re-checks privileges, snapshot and settings.
 */
typedef struct IcpCallSite
{
	MemoryContext mcxt;			/* fn_mcxt */
	MemoryContextCallback cb;	/* lets go of every pin */
	IcpUseKey	key;			/* what run was resolved under */
	IcpProfileArg kind;			/* how run's profile was asked for */
	char	   *name;			/* by name: the name asked for */
	int			name_len;
	IcpCompiled *values[ICP_VALUE_CACHE_SIZE];	/* icp_profile values, pinned */
	int			next_value;
	IcpRun		run;			/* profile and binding in use, pinned */
	IcpRowReader *reader;		/* reads accounts of run's row type */
	IcpColumnsCheck cols;		/* icp_*_columns: argument shape checked */
	void	   *extra;			/* for callers with more state */
} IcpCallSite;

extern IcpCallSite *IcpGetCallSite(FunctionCallInfo fcinfo);
extern IcpRun *IcpCallSiteResolve(IcpCallSite *cs, IcpProfileArg kind, void *arg,
								  Oid typid, int32 typmod);
extern IcpRun *IcpScoreRecord(IcpCallSite *cs, IcpProfileArg kind, void *arg,
							  HeapTupleHeader th, IcpResult *res,
							  IcpTri **outcomes, IcpAccount *acc);
extern IcpRun *IcpScoreJsonb(IcpCallSite *cs, IcpProfileArg kind, void *arg,
							 Jsonb *jb, IcpResult *res, IcpTri **outcomes,
							 IcpAccount *acc);
extern IcpProfileArg IcpCheckColumnsCall(FunctionCallInfo fcinfo,
										 IcpColumnsCheck *chk, bool segment);

/*
 * Segmentation state: several stored profiles pinned together and bound to
 * one row type (or to jsonb), scored in one pass over an account.  Used by
 * icp_segment and by the scoring trigger's segment column (segment.c).
 * Resolved again, like a call site, whenever its key no longer holds.
 */
typedef struct IcpSegment
{
	MemoryContext mcxt;			/* owns everything below */
	MemoryContextCallback cb;	/* lets go of every pin */
	IcpUseKey	key;			/* what runs were resolved under */
	bool		by_active;		/* no names given: the active profiles */
	bool		by_value;		/* names holds icp_profile values */
	struct varlena *names;		/* the names (or values) argument it was built for */
	struct varlena *literal;	/* the text overloads: the literal names came from */
	int			nvalues;		/* by_value: the distinct values, compiled */
	IcpCompiled **values;		/* pinned; exclude first, then by name */
	int			nprofiles;
	int			nruns;			/* allocated length of runs */
	IcpRun	   *runs;			/* exclude profiles first, then ideal; by name */
	bool		is_jsonb;
	Oid			typid;
	int32		typmod;
	IcpRowReader *reader;		/* reads accounts (not used by the trigger) */
	IcpColumnsCheck cols;		/* icp_segment_columns: argument shape */
} IcpSegment;

/* trigger.c */
struct TriggerData;
pg_noreturn extern void IcpTriggerSetupError(struct TriggerData *td, int sqlerrcode,
											 const char *msg, const char *hint);

/* segment.c */
extern IcpSegment *IcpSegmentCreate(MemoryContext mcxt, ArrayType *names,
									bool by_value);
extern void IcpSegmentResolve(IcpSegment *seg, Oid typid, int32 typmod);
extern void IcpSegmentNeed(IcpSegment *seg, IcpRowReader *reader);
extern IcpCompiled *IcpSegmentChoose(IcpSegment *seg, IcpAccount *acc);

#endif							/* ICP_SCORE_H */
