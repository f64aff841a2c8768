/*
 * bind.h
 *		Binding a compiled profile to a row type (or to jsonb accounts) and
 *		evaluating it.
 *
 * Binding resolves attribute names to columns, converts literals with the
 * column type's input function, looks up comparison support once and picks
 * a specialised evaluator per predicate.  Evaluation then touches no catalog
 * and allocates nothing for ordinary rows.
 *
 * Lifetimes: a compiled profile (profile.h) owns its bindings; both are
 * immutable once built and reference-counted.  A call site pins the profile
 * and the binding it uses for as long as it uses them (IcpRun), so no
 * invalidation can free either under it, and keeps everything that changes
 * per row in its own memory (IcpRun, IcpRowReader).
 */
#ifndef ICP_BIND_H
#define ICP_BIND_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "account.h"
#include "profile.h"

/* Three-valued outcome of a rule */
typedef enum IcpTri
{
	ICP_FALSE = 0,
	ICP_TRUE = 1,
	ICP_UNKNOWN = 2
} IcpTri;

/* Specialised evaluators */
typedef enum IcpEvalKind
{
	EK_AND,
	EK_OR,
	EK_NOT,
	EK_NULLTEST,				/* IS [NOT] NULL */
	EK_BOOLTEST,				/* IS [NOT] TRUE / FALSE on a boolean */
	EK_CONST,					/* known result once the value is not NULL */
	EK_INT_RANGE,				/* integer in [lo, hi] */
	EK_INT_SET,					/* integer IN sorted list */
	EK_FLOAT_CMP,				/* float8 comparison(s) */
	EK_BYTES_SET,				/* text = / IN by bytes (deterministic collation) */
	EK_GENERIC_CMP,				/* btree comparison function */
	EK_GENERIC_SET,				/* IN by btree comparison, sorted list */
	EK_GENERIC_EQSET,			/* IN by an equality function only */
	EK_PATTERN,					/* LIKE / ILIKE / ~ / ~* via the type's operator */
	EK_ARRAY_CONTAINS,			/* CONTAINS [ANY | ALL] on an array */
	EK_WITHIN,					/* date/timestamp within an interval before now */
	EK_DYNAMIC,					/* jsonb value: decided at run time */
	EK_DECAY_TIME				/* not a predicate: a decay's time attribute */
} IcpEvalKind;

/* A constant as bytes, for EK_BYTES_SET and array element matching */
typedef struct IcpBytes
{
	const char *data;
	int			len;
} IcpBytes;

typedef struct IcpBExpr IcpBExpr;

struct IcpBExpr
{
	IcpEvalKind kind;
	bool		negated;

	/* AND / OR / NOT */
	int			nargs;
	IcpBExpr  **args;

	/* predicates: where the value comes from */
	IcpNode    *node;			/* the predicate as written */
	int			attno;			/* 0-based column, -1: the jsonb account */
	int			nkeys;			/* jsonb keys to follow from there */
	char	  **keys;
	int		   *keylens;

	/* type of the column (base type for domains) */
	Oid			typid;
	Oid			collation;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	/* EK_CONST */
	IcpTri		constval;

	/* EK_INT_RANGE, EK_INT_SET */
	int64		lo,
				hi;
	int			nints;
	int64	   *ints;

	/* EK_FLOAT_CMP: lo_op/hi_op compare against dlo/dhi */
	IcpOp		op;
	double		d1,
				d2;

	/* EK_GENERIC_*, EK_PATTERN, EK_ARRAY_CONTAINS */
	FmgrInfo	fn;				/* cmp, equality or pattern function */
	int			nconsts;
	Datum	   *consts;
	IcpBytes   *bytes;			/* EK_BYTES_SET, text elements */
	bool		to_text;		/* EK_PATTERN: run on the value's text form */
	FmgrInfo	outfn;			/* output function when to_text */
	bool		elem_bytes;		/* EK_ARRAY_CONTAINS: compare elements by bytes */
	Oid			elemtype;
	int16		elemlen;
	bool		elembyval;
	char		elemalign;

	/* EK_WITHIN (and EK_DYNAMIC WITHIN): bounds are in IcpRun at within_idx */
	Interval   *interval;
	int			within_idx;

	/* EK_DYNAMIC: literals pre-converted */
	Datum	   *numerics;		/* numeric Datum per NUMBER literal, else 0 */
	bool	   *lit_is_ts;		/* STRING literal that reads as a date/time */
	TimestampTz *lit_ts;
	void	   *regex;			/* compiled pattern text for ~ / ~* */
};

/*
 * A profile bound to one row type, or to jsonb accounts.  Immutable once
 * built; owned by its compiled profile's list, which holds one pin, and
 * pinned by every call site using it.  A binding that no longer fits (the
 * row type, a type or the session settings changed) is unlinked and freed
 * when its last pin goes.  Per-row state never lives here: see IcpRun and
 * IcpRowReader (account.h).
 */
typedef struct IcpBinding
{
	struct IcpBinding *next;
	MemoryContext cxt;			/* owns the binding */
	uint64		id;				/* unique in this backend: identity */
	int			refcount;		/* pins, the profile's list included */
	bool		linked;			/* still in the profile's list */
	Oid			typid;
	int32		typmod;
	uint64		tupdesc_id;		/* typcache identifier of the row type */
	uint64		type_generation;	/* IcpTypeGeneration when built */
	IcpSettings settings;		/* session settings when built */
	int			deps;			/* which of them its constants depend on */
	bool		is_jsonb;
	TupleDesc	tupdesc;		/* of the row type (NULL for jsonb) */
	bool	   *reads;			/* per column: does any rule read it */
	int		   *readcols;		/* 0-based attnos any rule reads */
	int			nreadcols;
	IcpBExpr  **rules;			/* one per criterion */
	int			nwithin;
	IcpBExpr  **within;
	int			ndecay;			/* criteria that decay */
	IcpBExpr  **decay;			/* per criterion, its time attribute or NULL;
								 * NULL when none decays */
} IcpBinding;

/*
 * A compiled profile and its binding in use at one call site, with that
 * call site's own evaluation state.  Holds one pin on each.
 */
typedef struct IcpRun
{
	IcpCompiled *cp;
	IcpBinding *b;
	MemoryContext mcxt;			/* the call site's: within bounds */
	TimestampTz within_now;		/* now() the bounds below were computed for */
	TimestampTz *within_lo;		/* per WITHIN predicate of b */
	TimestampTz *within_hi;
	TimestampTz now;			/* transaction start, for decay ages */
	int			current;		/* criterion being evaluated, for messages */
	bool		in_decay;		/* reading its decay time, for messages */
} IcpRun;

/* Result of scoring one account */
typedef struct IcpResult
{
	double		fit;
	bool		fit_null;
	double		coverage;
	bool		coverage_null;
	bool		disqualified;
	char		grade;			/* 'A'..'D', 0 when fit is NULL */
	double		earned;
} IcpResult;

/*
 * The running sums of a score.  IcpAddOutcome adds one criterion's outcome
 * under the profile's missing policy (the one scoring rule every caller
 * shares); the profile's model turns the sums into a fit (IcpFinishScore).
 */
typedef struct IcpSums
{
	double		earned;			/* weights of TRUE criteria (decayed) */
	double		possible;		/* positive weights of the criteria that count */
	double		known;			/* absolute weights of known outcomes */
	bool		counted;		/* some criterion counts */
	bool		disqualified;	/* a required criterion failed */
} IcpSums;

/* A scoring model: how the sums become a fit (NULL: *fit_null) */
typedef struct IcpModelDef
{
	IcpModel	model;
	const char *name;			/* as icp_profiles.model spells it */
	double		(*fit) (const IcpCompiled *cp, const IcpSums *sums, bool *fit_null);
} IcpModelDef;

/* A missing-data policy: whether an UNKNOWN criterion counts as FALSE */
typedef struct IcpMissingDef
{
	IcpMissing	missing;
	const char *name;			/* as icp_profiles.missing spells it */
	bool		unknown_is_false;
} IcpMissingDef;

/* bind.c */
extern uint64 IcpTypeGeneration;
extern IcpBinding *IcpAcquireBinding(IcpCompiled *cp, Oid typid, int32 typmod);
extern void IcpReleaseBinding(IcpBinding *b);
extern void IcpDropBindings(IcpCompiled *cp);

/* eval.c */
extern void IcpRunInit(IcpRun *run, MemoryContext mcxt);
extern void IcpRunSet(IcpRun *run, IcpCompiled *cp, IcpBinding *b);
extern void IcpRunRelease(IcpRun *run);
extern bool IcpParseIsoTimestamp(const char *s, int len, TimestampTz *result);
extern IcpTri IcpEvalExpr(IcpRun *run, IcpBExpr *e, IcpAccount *acc);
extern IcpTri IcpEvalCriterion(IcpRun *run, int i, IcpAccount *acc, double *factor);
extern bool IcpDecayAge(IcpRun *run, int i, IcpAccount *acc, TimestampTz *ts,
						double *age_secs, double *factor);
extern void IcpScoreAccount(IcpRun *run, IcpAccount *acc, IcpResult *res,
							IcpTri *outcomes);
extern void IcpPrepareRun(IcpRun *run);
extern char IcpGradeFor(IcpCompiled *cp, double fit);
extern const IcpModelDef *IcpModelOf(const IcpCompiled *cp);
extern const IcpMissingDef *IcpMissingOf(const IcpCompiled *cp);
extern bool IcpUnknownIsFalse(const IcpCompiled *cp);
extern bool IcpOutcomeDisqualifies(const IcpCompiled *cp, const IcpCriterion *c,
								   IcpTri t);
extern void IcpAddOutcome(const IcpCompiled *cp, const IcpCriterion *c, IcpTri t,
						  double factor, IcpSums *sums);
extern void IcpFinishScore(const IcpCompiled *cp, const IcpSums *sums,
						   IcpResult *res);
extern void IcpDescribeValues(StringInfo buf, IcpRun *run, IcpBExpr *e,
							  IcpAccount *acc);
extern void IcpScoringErrorCallback(void *arg);
extern void IcpDescribeDecay(StringInfo buf, IcpRun *run, int i, IcpAccount *acc,
							 double *factor);

#endif							/* ICP_BIND_H */
