/*
 * learn.h
 *		Learning logistic profiles from won/lost history.
 *
 * icp_learn(profile, source, outcome [, attributes] [, options]) reads a
 * table of past leads with a won/lost outcome and writes (or replaces) a
 * logistic profile whose criteria are readable rules: frequent values,
 * quantile bins, booleans, array elements and missingness, each weighted by
 * its log-odds, the intercept becoming the profile's bias.
 *
 * learn.c is the SQL entry point (columns, options, writing the profile);
 * learn_scan.c reads the source in one scan into a compact per-row encoding;
 * learn_features.c turns that into binary features (one rule each) and a
 * sparse design; learn_fit.c fits the L2-regularised logistic regression
 * and computes AUCs; learn_rules.c boosts interaction rules (AND of up to
 * three conditions) on the residuals of that fit.
 */
#ifndef ICP_LEARN_H
#define ICP_LEARN_H

#include "postgres.h"

#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "tcop/dest.h"
#include "utils/timestamp.h"

/*
 * A sparse 0/1 design in compressed-row form: row i has the active features
 * fidx[rowptr[i] .. rowptr[i + 1] - 1] and the outcome y[i] (0 or 1).
 */
typedef struct LearnDesign
{
	int64		n;				/* rows */
	int			p;				/* features (the intercept is extra) */
	uint64	   *rowptr;			/* n + 1 offsets into fidx */
	uint16	   *fidx;
	uint8	   *y;
} LearnDesign;

#define CODE_NULL		PG_UINT32_MAX	/* the value is NULL */
#define CODE_OTHER		(PG_UINT32_MAX - 1)	/* a value past the dictionary cap */
#define ARR_NULL		PG_UINT16_MAX	/* the array is NULL */
#define ARR_MAX_ELEMS	(PG_UINT16_MAX - 1)
#define DICT_MAX_VALUES 100000	/* distinct values remembered per column */
#define DICT_MAX_BYTES	((Size) 64 * 1024 * 1024)	/* of distinct values, all columns */
#define LARGE_INPUT		1000000 /* rows from which progress is reported */
#define MEMORY_BUDGET	((double) 150 * 1024 * 1024)	/* bytes of row storage */
#define QUANTILE_ROWS	100000	/* values sorted to find bin bounds */

/*
 * Most features the fit takes.  Newton's method keeps a dense Hessian: with
 * its Cholesky factor that is 2 (p + 1)^2 doubles, 64 MB at 2,000 features,
 * next to MEMORY_BUDGET of row storage; the factorisation costs p^3 / 6
 * operations per iteration.  Candidates beyond this are dropped, the least
 * supported first (LearnCapFeatures).
 */
#define LEARN_MAX_FEATURES 2000
/* Criteria kept at most with interactions, unless max_criteria says otherwise */
#define LEARN_DEFAULT_CRITERIA 200

/* Recency intervals of date features: WITHIN '7 days', '30 days', ... */
#define LEARN_RECENCY 4

typedef enum LearnKind
{
	LEARN_CAT,					/* categorical: value = 'x' */
	LEARN_NUM,					/* numeric: quantile bins */
	LEARN_BOOL,					/* boolean: IS TRUE */
	LEARN_ARR					/* array: CONTAINS element */
} LearnKind;

/* Distinct values of one column (array elements for arrays) */
typedef struct LearnDict
{
	uint32	   *slots;			/* open addressing: code + 1, 0 = empty */
	uint32		mask;
	uint32		nvalues;
	uint32		alloc;
	uint32	   *hashes;			/* per code */
	char	  **keys;			/* per code: the value's bytes */
	uint32	   *keylens;
	bool		full;			/* DICT_MAX_VALUES or DICT_MAX_BYTES reached */
} LearnDict;

typedef struct LearnAttr
{
	char	   *name;
	LearnKind	kind;
	Oid			vtype;			/* value type (element type of an array) */
	int16		vlen;
	bool		vbyval;
	char		valign;
	bool		vnumber;		/* rule literals are numbers, not strings */
	Oid			numtype;		/* LEARN_NUM: the column's base type */
	bool		integral;		/* LEARN_NUM: every value is a whole number */
	bool		isdate;			/* LEARN_NUM of a date or timestamp[tz]: values in days */
	int			nrec;			/* dates: recency features (WITHIN) */
	double		rec_lo[LEARN_RECENCY];	/* ... true for rec_lo <= value <= rec_hi */
	double		rec_hi[LEARN_RECENCY];
	int32		rec_feat[LEARN_RECENCY];
	LearnDict	dict;
	int64	   *code_count;		/* while choosing values: rows per code */
	/* per stored row */
	uint32	   *codes;			/* LEARN_CAT, LEARN_BOOL (0/1) */
	double	   *vals;			/* LEARN_NUM, NaN = NULL */
	uint64	   *aoff;			/* LEARN_ARR: offset into the element pool */
	uint16	   *acnt;			/* LEARN_ARR: elements, ARR_NULL = NULL */
	/* features */
	int32	   *feat_of_code;	/* LEARN_CAT/ARR: feature of each code or -1 */
	int			null_feat;
	int			true_feat;
	int			ncuts;
	double	   *cuts;			/* LEARN_NUM: bin bounds, ascending */
	int32	   *bin_feat;		/* ncuts + 1 */
} LearnAttr;

typedef struct LearnOptions
{
	bool		interactions;	/* learn AND-rules too */
	int			max_criteria;	/* 0: no limit */
	double		l2;
	int64		min_support;	/* 0: automatic */
	int			bins;
	int			max_values;
	double		holdout;
	int64		sample;			/* 0: automatic */
	int64		seed;
} LearnOptions;

typedef struct LearnState
{
	const char *source;			/* for messages */
	int			natts;
	LearnAttr  *atts;
	Oid			outtype;
	const char *outname;
	int64		cap;			/* rows kept at most */
	int64		alloc;			/* rows allocated */
	int64		expected;		/* rows the catalog expects */
	int64		nstored;
	int64		nknown;			/* rows seen with a known outcome */
	int64		nscanned;
	uint8	   *y;
	uint8	   *hold;
	uint64	   *rowhash;		/* hash of each stored row's contents */
	uint32	   *pool;			/* array elements of stored rows */
	uint64		pool_len;
	uint64		pool_alloc;
	uint64		pool_live;
	double		holdout;
	uint64		seed_sample;	/* mixed into the row hash for the sample */
	uint64		seed_split;		/* ... and for the holdout split */
	uint64		keep_below;		/* rows whose sample key is below this are kept */
	MemoryContext cxt;			/* everything of this call */
	Size		dict_bytes;		/* bytes of distinct values remembered */
	MemoryContext rowcxt;		/* reset after every row */
	bool		progress;
} LearnState;

typedef struct LearnReceiver
{
	DestReceiver pub;
	LearnState *st;
} LearnReceiver;

/* A chosen feature: one rule */
typedef struct LearnFeature
{
	int			attr;
	char	   *rule;
	int64		support;
	int64		positives;
} LearnFeature;

typedef struct FeatureList
{
	LearnFeature *f;
	int			n;
	int			alloc;
} FeatureList;

/* What the fit reports besides the weights */
typedef struct LearnFitInfo
{
	int			iterations;
	double		loss;			/* penalised negative log-likelihood */
	bool		converged;
} LearnFitInfo;

/* A condition of an interaction rule, with SQL's meaning (NULL never matches) */
typedef enum LearnCondOp
{
	COND_EQ,					/* a = value */
	COND_NE,					/* a <> value */
	COND_GE,					/* a >= cut */
	COND_LT,					/* a < cut */
	COND_TRUE,					/* a IS TRUE */
	COND_FALSE,					/* a IS FALSE */
	COND_CONTAINS,				/* a CONTAINS element */
	COND_NULL,					/* a IS NULL */
	COND_NOTNULL				/* a IS NOT NULL */
} LearnCondOp;

#define RULE_MAX_CONDS 3

typedef struct LearnCond
{
	int			attr;
	LearnCondOp op;
	uint32		code;			/* COND_EQ, COND_NE, COND_CONTAINS */
	double		cut;			/* COND_GE, COND_LT */
} LearnCond;

/* An interaction rule: the AND of its conditions, in canonical order */
typedef struct LearnRule
{
	int			ncond;
	LearnCond	c[RULE_MAX_CONDS];
} LearnRule;

/* learn_scan.c */
extern void LearnDictInit(LearnDict *d);
extern char *LearnCodeText(LearnAttr *a, uint32 code);
extern void LearnReceiverInit(LearnReceiver *r, LearnState *st);
extern double LearnSecondsSince(TimestampTz start);
extern void LearnCanonicalOrder(LearnState *st);
extern uint64 LearnMix64(uint64 x);

/* learn_features.c */
extern void LearnBuildFeatures(LearnState *st, FeatureList *fl, int64 ntrain,
							   int64 ms, const LearnOptions *o);
extern void LearnCapFeatures(LearnState *st, FeatureList *fl);
extern void LearnRenumberFeatures(LearnState *st, const int32 *map);
/* Features of rules for LearnBuildDesigns: row bitmaps and feature numbers */
typedef struct LearnExtra
{
	int			n;
	uint64	  **bits;			/* per rule: bit r set when it holds on stored row r */
	int32	   *feat;			/* per rule: its feature, or -1 */
} LearnExtra;

extern void LearnBuildDesigns(LearnState *st, FeatureList *fl,
							  LearnDesign *train, LearnDesign *test,
							  const LearnExtra *extra);
extern int	LearnRowFeatures(LearnState *st, int64 r, uint16 *out);
extern char *LearnFormatNumber(double x);
extern char *LearnCutText(LearnAttr *a, double cut);
extern double LearnNiceCut(LearnAttr *a, double x, double tol);
extern double LearnNiceBound(double x, double tol, bool integral);
extern void LearnStartRule(StringInfo buf, LearnAttr *a);
extern void LearnAppendCodeLiteral(StringInfo buf, LearnAttr *a, uint32 code);

/* learn_rules.c */
extern int	LearnFindRules(LearnState *st, const LearnDesign *train,
						   const double *score, int64 ms, int max_rules,
						   LearnRule **rules, double **weights);
extern void LearnAddRuleFeatures(LearnState *st, FeatureList *fl,
								 LearnRule *rules, const double *rw, int nrules,
								 LearnDesign *train, LearnDesign *test, double **w);
extern void LearnPrune(LearnState *st, FeatureList *fl, LearnDesign *train,
					   LearnDesign *test, const double *w, int keep);

/* learn_fit.c */
/*
 * Fit weights w[0..p-1] and the intercept w[p] minimising the negative
 * log-likelihood plus l2/2 * |w[0..p-1]|^2.  Deterministic.
 */
extern void LearnFitLogistic(const LearnDesign *d, double l2, double *w,
							 LearnFitInfo *info);

/* Linear scores bias + sum of active weights, one per row of d */
extern void LearnScores(const LearnDesign *d, const double *w, double *score);

/* Exact AUC (Mann-Whitney, ties count half) of scores against y; NaN if undefined */
extern double LearnAuc(const double *score, const uint8 *y, int64 n);

/* Stable LSD radix sort of keys, carrying idx (if not NULL) along */
extern void LearnRadixSort(uint64 *keys, uint32 *idx, int64 n);
extern void LearnSortDoubles(double *v, int64 n);

/* Values at quantiles qs[0..k-1] (0..1) of n values, from an even sample */
extern void LearnQuantiles(const double *v, int64 n, const double *qs, int k,
						   double *out);

#endif							/* ICP_LEARN_H */
