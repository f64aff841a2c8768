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

/* Per call site state, kept in fn_extra for the duration of a statement */
typedef struct IcpCallSite
{
	MemoryContext mcxt;			/* fn_mcxt */
	MemoryContextCallback cb;	/* releases the pinned profile */
	IcpCompiled *pinned;		/* a stored profile, pinned in the cache */
	bool		by_default;		/* pinned is the default profile */
	const void *name_arg;		/* the name argument pinned was looked up by */
	Size		name_len;		/* strlen(pinned->name) */
	bool		name_stable;	/* the name argument is a Const or Param */
	IcpCompiled *values[4];		/* compiled icp_profile values, by value */
	int			next_value;
	IcpCompiled *bound_cp;		/* binding below belongs to this profile */
	Oid			typid;
	int32		typmod;
	IcpBinding *binding;
	void	   *extra;			/* for callers with more state */
} IcpCallSite;

extern IcpCallSite *IcpGetCallSite(FunctionCallInfo fcinfo);
extern IcpCompiled *IcpCallSiteProfileByName(IcpCallSite *cs, text *name);
extern IcpCompiled *IcpCallSiteProfileByValue(IcpCallSite *cs, IcpProfile *value);
extern IcpBinding *IcpScoreRecord(IcpCallSite *cs, IcpCompiled *cp,
								  HeapTupleHeader th, IcpResult *res,
								  IcpTri *outcomes);
extern IcpBinding *IcpScoreJsonb(IcpCallSite *cs, IcpCompiled *cp, Jsonb *jb,
								 IcpResult *res, IcpTri *outcomes,
								 IcpAccount *acc_out);

/*
 * Segmentation state: several stored profiles pinned together and bound to
 * one row type (or to jsonb), scored in one pass over an account.  Used by
 * icp_segment and by the scoring trigger's segment column (segment.c).
 */
typedef struct IcpSegment
{
	MemoryContext mcxt;			/* owns everything below */
	MemoryContextCallback cb;	/* releases the pinned profiles */
	bool		by_active;		/* no names given: the active profiles */
	struct varlena *names;		/* the names argument it was built for */
	int			nprofiles;
	IcpCompiled **profiles;		/* exclude profiles first, then ideal; by name */
	IcpBinding **bindings;		/* per profile, for the bound row type */
	bool		bound;
	bool		is_jsonb;
	Oid			typid;
	int32		typmod;
	TupleDesc	tupdesc;		/* of the bound row type */
	TupleTableSlot *slot;		/* deforms whole-row accounts */
	int			natts_needed;	/* deform this many columns */
	bool	   *reads;			/* per column: does any profile read it */
	int		   *readcols;		/* 0-based attnos any profile reads */
	int			nreadcols;
	Datum	   *colvalues;		/* columns passed one by one */
	bool	   *colnulls;
} IcpSegment;

/* segment.c */
extern IcpSegment *IcpSegmentCreate(MemoryContext mcxt, ArrayType *names);
extern void IcpSegmentBindRowType(IcpSegment *seg, Oid typid, int32 typmod);
extern void IcpSegmentBindJsonb(IcpSegment *seg);
extern IcpCompiled *IcpSegmentChoose(IcpSegment *seg, IcpAccount *acc);

#endif							/* ICP_SCORE_H */
