/*
 * learn_rules.c
 *		icp_learn's interaction rules (option interactions): conjunctions of
 *		up to three conditions, boosted on the logistic residuals of the
 *		one-attribute fit.
 *
 * The search runs on an evenly spaced subset of at most RULE_ROWS training
 * rows (in the canonical row order, so it is a function of the rows); every
 * tenth of them is kept out to decide when to stop.  Each round grows one
 * rule greedily, like one path of a shallow tree: the condition whose rows
 * have the largest Newton gain G^2 / (H + lambda) (G, H: sums of the
 * gradient p - y and curvature p (1 - p) of the log loss at the current
 * margins) -- or the pair of conditions on two scalar attributes with the
 * largest gain, from histograms over both attributes' slots, when it beats
 * that clearly (after the one-attribute fit every single feature's
 * residuals sum to zero, so a combination of two of them shows only as a
 * pair) -- then the condition that most raises the gain within those rows,
 * and a further one the same way, stopping when none raises it.  Numbers
 * and dates are binned and compared as doubles (dates in days).  Conditions are
 * values (=, <>), thresholds on numbers (a finer quantile grid than the
 * bins, so the split finds the cut), IS TRUE/FALSE, CONTAINS and IS [NOT]
 * NULL, each with SQL's meaning (a NULL never matches), so a rule's
 * feature on a row is exactly what scoring the rule gives.  The rule's rows
 * get a shrunken Newton step (RULE_SHRINK) and the next round starts from
 * there; a rule found again adds its step to its weight.  The histograms of
 * all fit rows are kept up to date (only the stepped rows change), so a
 * round costs a pass over the rule's rows, not over all rows.  Boosting
 * stops at max_criteria distinct criteria or when the log loss of the rows
 * kept out has not improved for RULE_PATIENCE rounds; the rounds after the
 * best one are undone.  A rule's weight is the sum of its steps: the
 * shrinkage is the regularisation (fitting the rules again jointly would
 * undo it and overfit).
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "learn.h"
#include "rule.h"

#define RULE_ROWS 100000		/* rows the rules are searched on */
#define RULE_SUPPORT 3.0		/* a rule needs this many times min_support rows */
#define TREE_BINS 32			/* threshold candidates per number */
#define RULE_SHRINK 0.3			/* step of a rule: this share of Newton's */
#define RULE_LAMBDA 1.0			/* curvature added in the gain */
#define RULE_GROWTH 1.0001		/* a further condition must raise the gain this much */
#define RULE_PATIENCE 50		/* rounds without progress before stopping */
#define PAIR_CELLS (1 << 20)	/* cells of all pair histograms together */

/* What the search knows about one attribute */
typedef struct RuleAttr
{
	int			nslots;			/* histogram slots, the NULL slot last */
	uint16	   *slot_of_code;	/* CAT, ARR: slot of each code (OTHER: none) */
	uint32	   *code_of_slot;	/* CAT, ARR: code of each value slot */
	int			nvals;			/* CAT, ARR: value slots */
	int			ncuts;			/* NUM: thresholds */
	double	   *cuts;
	uint16	   *rowslot;		/* CAT, NUM, BOOL: slot of each sample row */
	double	   *G;				/* per slot, on the rows of a rule so far */
	double	   *H;
	double	   *N;
	double		nn[3];			/* ARR: G, H, N of rows with a non-NULL array */
	double	   *G0;				/* the same on all fit rows, kept up to date */
	double	   *H0;
	double	   *N0;
	double		nn0[3];
} RuleAttr;

#define SLOT_NONE PG_UINT16_MAX

/* Does condition c hold on stored row r? */
static inline bool
CondHolds(LearnState *st, const LearnCond *c, int64 r)
{
	LearnAttr  *a = &st->atts[c->attr];

	switch (c->op)
	{
		case COND_EQ:
			return a->codes[r] == c->code;
		case COND_NE:
			return a->codes[r] != CODE_NULL && a->codes[r] != c->code;
		case COND_GE:
			return !isnan(a->vals[r]) && a->vals[r] >= c->cut;
		case COND_LT:
			return !isnan(a->vals[r]) && a->vals[r] < c->cut;
		case COND_TRUE:
			return a->codes[r] == 1;
		case COND_FALSE:
			return a->codes[r] == 0;
		case COND_CONTAINS:
			if (a->acnt[r] == ARR_NULL)
				return false;
			for (int e = 0; e < a->acnt[r]; e++)
				if (st->pool[a->aoff[r] + e] == c->code)
					return true;
			return false;
		case COND_NULL:
		case COND_NOTNULL:
			{
				bool		isnull;

				switch (a->kind)
				{
					case LEARN_NUM:
						isnull = isnan(a->vals[r]);
						break;
					case LEARN_ARR:
						isnull = a->acnt[r] == ARR_NULL;
						break;
					default:
						isnull = a->codes[r] == CODE_NULL;
						break;
				}
				return (c->op == COND_NULL) == isnull;
			}
	}
	return false;
}

/* Does rule holds on stored row r? */
static inline bool
RuleHolds(LearnState *st, const LearnRule *rule, int64 r)
{
	for (int k = 0; k < rule->ncond; k++)
		if (!CondHolds(st, &rule->c[k], r))
			return false;
	return true;
}

/* Set up the search's view of attribute ai on the sample rows */
static void
InitRuleAttr(LearnState *st, int ai, RuleAttr *ra, const int64 *rows, int64 ns)
{
	LearnAttr  *a = &st->atts[ai];

	memset(ra, 0, sizeof(*ra));
	switch (a->kind)
	{
		case LEARN_CAT:
		case LEARN_ARR:
			{
				uint32		nv = a->dict.nvalues;

				ra->slot_of_code = palloc(sizeof(uint16) * Max(nv, 1));
				ra->code_of_slot = palloc(sizeof(uint32) * Max(nv, 1));
				for (uint32 c = 0; c < nv; c++)
				{
					ra->slot_of_code[c] = SLOT_NONE;
					if (a->feat_of_code != NULL && a->feat_of_code[c] >= 0 &&
						ra->nvals < PG_UINT16_MAX - 4)
					{
						ra->code_of_slot[ra->nvals] = c;
						ra->slot_of_code[c] = (uint16) ra->nvals++;
					}
				}
				/* CAT: value slots, other, NULL; ARR: value slots, NULL */
				ra->nslots = ra->nvals + (a->kind == LEARN_CAT ? 2 : 1);
				break;
			}
		case LEARN_BOOL:
			ra->nslots = 3;		/* false, true, NULL */
			break;
		case LEARN_NUM:
			{
				double	   *v = palloc(sizeof(double) * Max(ns, 1));
				int64		m = 0;

				for (int64 i = 0; i < ns; i++)
					if (isfinite(a->vals[rows[i]]))
						v[m++] = a->vals[rows[i]];	/* bounds are finite */
				LearnSortDoubles(v, m);
				ra->cuts = palloc(sizeof(double) * TREE_BINS);
				for (int j = 1; j < TREE_BINS && m > 0; j++)
				{
					int64		at = (int64) ((double) j * m / TREE_BINS);
					double		q = v[at],
								gap = q - v[0];

					if (q <= v[0])
						continue;
					/* round within a quarter of the distance to the neighbours' quantiles */
					{
						int64		lo = (int64) ((double) (j - 1) * m / TREE_BINS);
						int64		hi = Min(m - 1, (int64) ((double) (j + 1) * m / TREE_BINS));

						gap = Min(q - v[lo], v[hi] - q);
						if (gap <= 0)
							gap = Max(q - v[lo], v[hi] - q);
					}
					q = LearnNiceCut(a, q, gap / 4);
					if (q > v[0] && (ra->ncuts == 0 || q > ra->cuts[ra->ncuts - 1]))
						ra->cuts[ra->ncuts++] = q;
				}
				pfree(v);
				ra->nslots = ra->ncuts + 2; /* bins, NULL */
				break;
			}
	}
	ra->G = palloc(sizeof(double) * ra->nslots);
	ra->H = palloc(sizeof(double) * ra->nslots);
	ra->N = palloc(sizeof(double) * ra->nslots);
	ra->G0 = palloc0(sizeof(double) * ra->nslots);
	ra->H0 = palloc0(sizeof(double) * ra->nslots);
	ra->N0 = palloc0(sizeof(double) * ra->nslots);
	if (a->kind == LEARN_ARR)
		return;
	ra->rowslot = palloc(sizeof(uint16) * Max(ns, 1));
	for (int64 i = 0; i < ns; i++)
	{
		int64		r = rows[i];
		int			s;

		switch (a->kind)
		{
			case LEARN_CAT:
				s = a->codes[r] == CODE_NULL ? ra->nslots - 1 :
					a->codes[r] == CODE_OTHER || ra->slot_of_code[a->codes[r]] == SLOT_NONE ?
					ra->nvals : ra->slot_of_code[a->codes[r]];
				break;
			case LEARN_BOOL:
				s = a->codes[r] == CODE_NULL ? 2 : (int) a->codes[r];
				break;
			default:
				if (isnan(a->vals[r]))
					s = ra->nslots - 1;
				else
				{
					int			lo = 0,
								hi = ra->ncuts;

					while (lo < hi)
					{
						int			mid = (lo + hi) / 2;

						if (ra->cuts[mid] <= a->vals[r])
							lo = mid + 1;
						else
							hi = mid;
					}
					s = lo;
				}
				break;
		}
		ra->rowslot[i] = (uint16) s;
	}
}

/* The best condition (or pair of conditions) to add */
typedef struct CondChoice
{
	double		gain;
	double		G,
				H,
				N;
	LearnCond	c;
	bool		pair;			/* first and c together */
	LearnCond	first;
	const LearnCond *with;		/* while scoring pairs: the first condition */
} CondChoice;

/* Consider condition c (with best->with, if set) with sums (G, H, N) */
static inline void
Consider(CondChoice *best, double G, double H, double N, double minN,
		 double maxN, int ai, LearnCondOp op, uint32 code, double cut)
{
	double		gain;

	if (N < minN || N > maxN)
		return;
	gain = G * G / (H + RULE_LAMBDA);
	if (gain <= best->gain)
		return;
	best->gain = gain;
	best->G = G;
	best->H = H;
	best->N = N;
	best->c.attr = ai;
	best->c.op = op;
	best->c.code = code;
	best->c.cut = cut;
	best->pair = best->with != NULL;
	if (best->with)
		best->first = *best->with;
}

/* May a condition of op on attribute ai join the rule so far? */
static bool
MayJoin(const LearnRule *rule, int ai, LearnCondOp op)
{
	for (int k = 0; k < rule->ncond; k++)
	{
		const LearnCond *c = &rule->c[k];

		if (c->attr != ai)
			continue;
		/* a number may get a range: one lower and one upper bound */
		if ((c->op == COND_GE && op == COND_LT) || (c->op == COND_LT && op == COND_GE))
			continue;
		return false;
	}
	return true;
}

/* Add sample row i (stored row r): gi and hi to the sums, n to the counts */
static inline void
HistAdd(LearnState *st, RuleAttr *ra, LearnAttr *a, int32 i, int64 r,
		double gi, double hi, double n, double *G, double *H, double *N, double *nn)
{
	if (a->kind == LEARN_ARR)
	{
		int			last = ra->nslots - 1;

		if (a->acnt[r] == ARR_NULL)
		{
			G[last] += gi;
			H[last] += hi;
			N[last] += n;
			return;
		}
		nn[0] += gi;
		nn[1] += hi;
		nn[2] += n;
		for (int e = 0; e < a->acnt[r]; e++)
		{
			uint16		s = ra->slot_of_code[st->pool[a->aoff[r] + e]];

			if (s != SLOT_NONE)
			{
				G[s] += gi;
				H[s] += hi;
				N[s] += n;
			}
		}
		return;
	}
	{
		uint16		s = ra->rowslot[i];

		G[s] += gi;
		H[s] += hi;
		N[s] += n;
	}
}

/*
 * Consider the conditions on a scalar attribute (not an array) whose rows
 * so far have sums G, H, N per slot (the NULL slot last)
 */
static void
ConsiderSlots(LearnAttr *a, int ai, RuleAttr *ra, const double *G,
			  const double *H, const double *N, double minN, double maxN,
			  const LearnRule *rule, CondChoice *best)
{
	double		tG = 0,
				tH = 0,
				tN = 0,
				nG,
				nH,
				nN;

	for (int s = 0; s < ra->nslots - 1; s++)
	{
		tG += G[s];
		tH += H[s];
		tN += N[s];
	}
	nG = G[ra->nslots - 1];
	nH = H[ra->nslots - 1];
	nN = N[ra->nslots - 1];
	if (MayJoin(rule, ai, COND_NULL))
	{
		Consider(best, nG, nH, nN, minN, maxN, ai, COND_NULL, 0, 0);
		Consider(best, tG, tH, tN, minN, maxN, ai, COND_NOTNULL, 0, 0);
	}
	switch (a->kind)
	{
		case LEARN_CAT:
			if (!MayJoin(rule, ai, COND_EQ))
				break;
			for (int s = 0; s < ra->nvals; s++)
			{
				Consider(best, G[s], H[s], N[s], minN, maxN, ai,
						 COND_EQ, ra->code_of_slot[s], 0);
				Consider(best, tG - G[s], tH - H[s], tN - N[s], minN, maxN,
						 ai, COND_NE, ra->code_of_slot[s], 0);
			}
			break;
		case LEARN_BOOL:
			if (!MayJoin(rule, ai, COND_TRUE))
				break;
			Consider(best, G[1], H[1], N[1], minN, maxN, ai, COND_TRUE, 0, 0);
			Consider(best, G[0], H[0], N[0], minN, maxN, ai, COND_FALSE, 0, 0);
			break;
		case LEARN_NUM:
			{
				double		pG = 0,
							pH = 0,
							pN = 0;
				bool		lt = MayJoin(rule, ai, COND_LT),
							ge = MayJoin(rule, ai, COND_GE);

				for (int j = 0; j < ra->ncuts; j++)
				{
					pG += G[j];
					pH += H[j];
					pN += N[j];
					if (lt)
						Consider(best, pG, pH, pN, minN, maxN, ai, COND_LT, 0, ra->cuts[j]);
					if (ge)
						Consider(best, tG - pG, tH - pH, tN - pN, minN, maxN, ai,
								 COND_GE, 0, ra->cuts[j]);
				}
				break;
			}
		default:
			break;
	}
}

/*
 * Choose the condition that most raises the gain on the covered rows: from
 * the histograms of all fit rows (global) or from ones accumulated on the
 * covered rows.
 */
static void
BestCondition(LearnState *st, RuleAttr *ras, const int64 *rows,
			  const int32 *cover, int64 ncover, const double *g,
			  const double *h, double minN, const LearnRule *rule,
			  bool global, CondChoice *best)
{
	double		maxN = (double) ncover - 1;

	for (int ai = 0; ai < st->natts; ai++)
	{
		LearnAttr  *a = &st->atts[ai];
		RuleAttr   *ra = &ras[ai];
		double	   *G = global ? ra->G0 : ra->G;
		double	   *H = global ? ra->H0 : ra->H;
		double	   *N = global ? ra->N0 : ra->N;
		double	   *nn = global ? ra->nn0 : ra->nn;

		if (!global)
		{
			memset(G, 0, sizeof(double) * ra->nslots);
			memset(H, 0, sizeof(double) * ra->nslots);
			memset(N, 0, sizeof(double) * ra->nslots);
			nn[0] = nn[1] = nn[2] = 0;
			for (int64 k = 0; k < ncover; k++)
			{
				int32		i = cover[k];

				HistAdd(st, ra, a, i, rows[i], g[i], h[i], 1, G, H, N, nn);
			}
		}
		if (a->kind == LEARN_ARR)
		{
			if (MayJoin(rule, ai, COND_CONTAINS))
				for (int s = 0; s < ra->nvals; s++)
					Consider(best, G[s], H[s], N[s], minN, maxN, ai,
							 COND_CONTAINS, ra->code_of_slot[s], 0);
			if (MayJoin(rule, ai, COND_NULL))
			{
				int			s = ra->nslots - 1;

				Consider(best, G[s], H[s], N[s], minN, maxN, ai, COND_NULL, 0, 0);
				Consider(best, nn[0], nn[1], nn[2], minN, maxN, ai, COND_NOTNULL, 0, 0);
			}
			continue;
		}
		ConsiderSlots(a, ai, ra, G, H, N, minN, maxN, rule, best);
	}
}

/*
 * Sums of the fit rows over the slots of two scalar attributes: the first
 * condition of a rule is also searched jointly with a second one, since
 * after the one-attribute fit the residuals of every single feature sum to
 * zero and only a pair shows where they are not.
 */
typedef struct PairHist
{
	int			a,
				b;
	double	   *G;				/* [slot of a * slots of b + slot of b] */
	double	   *H;
	double	   *N;
} PairHist;

/* Add sample row i's gi, hi and n to every pair histogram */
static inline void
PairAdd(RuleAttr *ras, PairHist *ph, int npairs, int32 i, double gi, double hi, double n)
{
	for (int k = 0; k < npairs; k++)
	{
		PairHist   *p = &ph[k];
		int			cell = ras[p->a].rowslot[i] * ras[p->b].nslots + ras[p->b].rowslot[i];

		p->G[cell] += gi;
		p->H[cell] += hi;
		p->N[cell] += n;
	}
}

/* Add row sa of a pair histogram to the vectors over b's slots, times sign */
static inline void
AddRow(const PairHist *p, int nb, int sa, double sign, double *G, double *H, double *N)
{
	const double *g = p->G + (Size) sa * nb,
			   *h = p->H + (Size) sa * nb,
			   *n = p->N + (Size) sa * nb;

	for (int sb = 0; sb < nb; sb++)
	{
		G[sb] += sign * g[sb];
		H[sb] += sign * h[sb];
		N[sb] += sign * n[sb];
	}
}

/* Consider every condition on b within the rows of condition c on a */
static void
ConsiderWithin(LearnState *st, RuleAttr *ras, const PairHist *p, const LearnCond *c,
			   const double *G, const double *H, const double *N,
			   double minN, double maxN, CondChoice *best)
{
	RuleAttr   *rb = &ras[p->b];
	double		total = 0;
	LearnRule	empty;

	for (int sb = 0; sb < rb->nslots; sb++)
		total += N[sb];
	if (total < minN)
		return;
	memset(&empty, 0, sizeof(empty));
	best->with = c;
	ConsiderSlots(&st->atts[p->b], p->b, rb, G, H, N, minN, maxN, &empty, best);
	best->with = NULL;
}

/* The best pair of conditions on two scalar attributes, from their histograms */
static void
BestPair(LearnState *st, RuleAttr *ras, PairHist *ph, int npairs, double minN,
		 double maxN, CondChoice *best)
{
	for (int k = 0; k < npairs; k++)
	{
		PairHist   *p = &ph[k];
		LearnAttr  *a = &st->atts[p->a];
		RuleAttr   *ra = &ras[p->a];
		int			nb = ras[p->b].nslots;
		int			last = ra->nslots - 1;
		double	   *nnG = palloc0(sizeof(double) * nb),
				   *nnH = palloc0(sizeof(double) * nb),
				   *nnN = palloc0(sizeof(double) * nb),
				   *vG = palloc(sizeof(double) * nb),
				   *vH = palloc(sizeof(double) * nb),
				   *vN = palloc(sizeof(double) * nb);
		LearnCond	c;

		CHECK_FOR_INTERRUPTS();
		memset(&c, 0, sizeof(c));
		c.attr = p->a;
		/* the rows where a is not NULL, and where it is */
		for (int sa = 0; sa < last; sa++)
			AddRow(p, nb, sa, 1, nnG, nnH, nnN);
		c.op = COND_NOTNULL;
		ConsiderWithin(st, ras, p, &c, nnG, nnH, nnN, minN, maxN, best);
		memset(vG, 0, sizeof(double) * nb);
		memset(vH, 0, sizeof(double) * nb);
		memset(vN, 0, sizeof(double) * nb);
		AddRow(p, nb, last, 1, vG, vH, vN);
		c.op = COND_NULL;
		ConsiderWithin(st, ras, p, &c, vG, vH, vN, minN, maxN, best);
		switch (a->kind)
		{
			case LEARN_CAT:
				for (int sa = 0; sa < ra->nvals; sa++)
				{
					memset(vG, 0, sizeof(double) * nb);
					memset(vH, 0, sizeof(double) * nb);
					memset(vN, 0, sizeof(double) * nb);
					AddRow(p, nb, sa, 1, vG, vH, vN);
					c.op = COND_EQ;
					c.code = ra->code_of_slot[sa];
					ConsiderWithin(st, ras, p, &c, vG, vH, vN, minN, maxN, best);
					memcpy(vG, nnG, sizeof(double) * nb);
					memcpy(vH, nnH, sizeof(double) * nb);
					memcpy(vN, nnN, sizeof(double) * nb);
					AddRow(p, nb, sa, -1, vG, vH, vN);
					c.op = COND_NE;
					ConsiderWithin(st, ras, p, &c, vG, vH, vN, minN, maxN, best);
				}
				break;
			case LEARN_BOOL:
				for (int sa = 0; sa < 2; sa++)
				{
					memset(vG, 0, sizeof(double) * nb);
					memset(vH, 0, sizeof(double) * nb);
					memset(vN, 0, sizeof(double) * nb);
					AddRow(p, nb, sa, 1, vG, vH, vN);
					c.op = sa == 1 ? COND_TRUE : COND_FALSE;
					ConsiderWithin(st, ras, p, &c, vG, vH, vN, minN, maxN, best);
				}
				break;
			case LEARN_NUM:
				{
					double	   *pG = palloc0(sizeof(double) * nb),
							   *pH = palloc0(sizeof(double) * nb),
							   *pN = palloc0(sizeof(double) * nb);

					for (int j = 0; j < ra->ncuts; j++)
					{
						AddRow(p, nb, j, 1, pG, pH, pN);
						c.cut = ra->cuts[j];
						c.op = COND_LT;
						ConsiderWithin(st, ras, p, &c, pG, pH, pN, minN, maxN, best);
						for (int sb = 0; sb < nb; sb++)
						{
							vG[sb] = nnG[sb] - pG[sb];
							vH[sb] = nnH[sb] - pH[sb];
							vN[sb] = nnN[sb] - pN[sb];
						}
						c.op = COND_GE;
						ConsiderWithin(st, ras, p, &c, vG, vH, vN, minN, maxN, best);
					}
					pfree(pG);
					pfree(pH);
					pfree(pN);
					break;
				}
			default:
				break;
		}
		pfree(nnG);
		pfree(nnH);
		pfree(nnN);
		pfree(vG);
		pfree(vH);
		pfree(vN);
	}
}

/* Comparator: conditions by attribute, then operator, then value */
static int
CmpCond(const void *a, const void *b)
{
	const LearnCond *x = (const LearnCond *) a,
			   *y = (const LearnCond *) b;

	if (x->attr != y->attr)
		return x->attr < y->attr ? -1 : 1;
	if (x->op != y->op)
		return x->op < y->op ? -1 : 1;
	if (x->code != y->code)
		return x->code < y->code ? -1 : 1;
	return (x->cut > y->cut) - (x->cut < y->cut);
}

/* Are two canonical rules the same? */
static bool
SameRule(const LearnRule *x, const LearnRule *y)
{
	if (x->ncond != y->ncond)
		return false;
	for (int k = 0; k < x->ncond; k++)
		if (CmpCond(&x->c[k], &y->c[k]) != 0)
			return false;
	return true;
}

static void AppendRule(LearnState *st, StringInfo buf, const LearnRule *rule);

/* Log loss of margin eta for outcome y */
static inline double
LogLoss(double eta, uint8 y)
{
	return (eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta))) - (y ? eta : 0);
}

/* Gradient and curvature of the log loss at margin eta */
static inline void
GradHess(double eta, uint8 y, double *g, double *h)
{
	double		e = exp(-fabs(eta));
	double		p = eta >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);

	*g = p - (double) y;
	*h = p * (1.0 - p);
}

/*
 * Boost rules on the logistic residuals of the fit whose training scores
 * are score[]: at most max_rules distinct rules (*rules, with their summed
 * steps in *weights); returns how many.  Every tenth sample row is kept out
 * of the search to stop early: the rules found after the round with the
 * lowest log loss on those rows (none better in RULE_PATIENCE rounds) are
 * dropped again.
 */
int
LearnFindRules(LearnState *st, const LearnDesign *train, const double *score,
			   int64 ms, int max_rules, LearnRule **rules, double **weights)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "icp_learn rules", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int64		step = Max(1, (train->n + RULE_ROWS - 1) / RULE_ROWS);
	int64		ns = 0,
				t = 0,
				nfit = 0,
				nval = 0;
	int64	   *rows = palloc(sizeof(int64) * ((train->n + step - 1) / step + 1));
	double	   *margin;
	double	   *g;
	double	   *h;
	uint8	   *y;
	int32	   *cover;
	int32	   *fitrows;
	int32	   *valrows;
	RuleAttr   *ras = palloc(sizeof(RuleAttr) * st->natts);
	PairHist   *ph;
	int			npairs = 0;
	Size		cells = 0;
	LearnRule  *found;
	double	   *fw;
	int		   *nat;			/* distinct rules after each round */
	int		   *log_rule;		/* per round: the rule stepped */
	double	   *log_delta;		/* per round: its step */
	int			nfound = 0;
	int			round;
	int			best_round = 0;
	double		best_loss;
	double		val_loss;
	double		minN;
	int			max_rounds = 4 * max_rules + 100;
	TimestampTz start = GetCurrentTimestamp();

	/* the sample: every step-th training row */
	for (int64 r = 0; r < st->nstored; r++)
	{
		if (st->hold[r])
			continue;
		if (t % step == 0)
			rows[ns++] = r;
		t++;
	}
	margin = palloc(sizeof(double) * Max(ns, 1));
	g = palloc(sizeof(double) * Max(ns, 1));
	h = palloc(sizeof(double) * Max(ns, 1));
	y = palloc(Max(ns, 1));
	cover = palloc(sizeof(int32) * Max(ns, 1));
	fitrows = palloc(sizeof(int32) * Max(ns, 1));
	valrows = palloc(sizeof(int32) * Max(ns, 1));
	for (int64 i = 0; i < ns; i++)
	{
		margin[i] = score[i * step];
		y[i] = st->y[rows[i]];
		if (i % 10 == 9)
			valrows[nval++] = (int32) i;
		else
			fitrows[nfit++] = (int32) i;
	}
	for (int ai = 0; ai < st->natts; ai++)
		InitRuleAttr(st, ai, &ras[ai], rows, ns);
	/* pair histograms of the scalar attributes, within PAIR_CELLS cells */
	ph = palloc(sizeof(PairHist) * Max(st->natts * st->natts / 2, 1));
	for (int a = 0; a < st->natts; a++)
		for (int b = a + 1; b < st->natts; b++)
		{
			Size		n = (Size) ras[a].nslots * ras[b].nslots;

			if (st->atts[a].kind == LEARN_ARR || st->atts[b].kind == LEARN_ARR ||
				cells + n > PAIR_CELLS)
				continue;
			ph[npairs].a = a;
			ph[npairs].b = b;
			ph[npairs].G = palloc0(sizeof(double) * n);
			ph[npairs].H = palloc0(sizeof(double) * n);
			ph[npairs].N = palloc0(sizeof(double) * n);
			cells += n;
			npairs++;
		}
	minN = Max(1.0, RULE_SUPPORT * (double) ms * (double) nfit / (double) Max(train->n, 1));
	nat = palloc(sizeof(int) * (max_rounds + 1));
	nat[0] = 0;
	log_rule = palloc(sizeof(int) * max_rounds);
	log_delta = palloc(sizeof(double) * max_rounds);

	MemoryContextSwitchTo(old);
	found = palloc(sizeof(LearnRule) * Max(max_rules, 1));
	fw = palloc0(sizeof(double) * Max(max_rules, 1));
	MemoryContextSwitchTo(cxt);

	/* gradients and the histograms of all fit rows */
	for (int64 k = 0; k < nfit; k++)
	{
		int32		i = fitrows[k];

		GradHess(margin[i], y[i], &g[i], &h[i]);
		for (int ai = 0; ai < st->natts; ai++)
			HistAdd(st, &ras[ai], &st->atts[ai], i, rows[i], g[i], h[i], 1,
					ras[ai].G0, ras[ai].H0, ras[ai].N0, ras[ai].nn0);
		PairAdd(ras, ph, npairs, i, g[i], h[i], 1);
	}
	val_loss = 0;
	for (int64 k = 0; k < nval; k++)
		val_loss += LogLoss(margin[valrows[k]], y[valrows[k]]);
	best_loss = val_loss;

	for (round = 0; round < max_rounds; round++)
	{
		LearnRule	rule;
		double		gain = 0,
					G = 0,
					H = 0,
					delta;
		int64		ncover = nfit;
		int			j;

		CHECK_FOR_INTERRUPTS();
		if (st->progress && round > 0 && round % 50 == 0)
			ereport(NOTICE,
					(errmsg("icp_learn: %d rule rounds in %.1f s, %d distinct rules",
							round, LearnSecondsSince(start), nfound)));
		memset(&rule, 0, sizeof(rule));
		while (rule.ncond < RULE_MAX_CONDS)
		{
			CondChoice	best;
			int64		kept = 0;

			memset(&best, 0, sizeof(best));
			best.gain = rule.ncond == 0 ? 0 : gain * RULE_GROWTH;
			BestCondition(st, ras, rows, rule.ncond == 0 ? fitrows : cover, ncover,
						  g, h, minN, &rule, rule.ncond == 0, &best);
			if (rule.ncond == 0)
			{
				/* a pair must beat the best single condition clearly */
				CondChoice	single = best;

				best.gain *= RULE_GROWTH;
				BestPair(st, ras, ph, npairs, minN, (double) nfit - 1, &best);
				if (!best.pair)
					best = single;
			}
			if (best.N == 0)
				break;
			if (best.pair)
				rule.c[rule.ncond++] = best.first;
			rule.c[rule.ncond++] = best.c;
			gain = best.gain;
			G = best.G;
			H = best.H;
			for (int64 k = 0; k < ncover; k++)
			{
				int32		i = rule.ncond <= 2 && (rule.ncond == 1 || best.pair) ?
					fitrows[k] : cover[k];

				if (CondHolds(st, &best.c, rows[i]) &&
					(!best.pair || CondHolds(st, &best.first, rows[i])))
					cover[kept++] = i;
			}
			ncover = kept;
			CHECK_FOR_INTERRUPTS();
		}
		if (rule.ncond == 0)
			break;				/* nothing left to gain */
		qsort(rule.c, rule.ncond, sizeof(LearnCond), CmpCond);
		for (j = 0; j < nfound; j++)
			if (SameRule(&found[j], &rule))
				break;
		if (j == nfound && nfound >= max_rules)
			break;				/* the budget is spent */
		delta = -RULE_SHRINK * G / (H + RULE_LAMBDA);
		/* step the rule's rows, keeping the histograms up to date */
		for (int64 k = 0; k < ncover; k++)
		{
			int32		i = cover[k];

			double		g0 = g[i],
						h0 = h[i];

			margin[i] += delta;
			GradHess(margin[i], y[i], &g[i], &h[i]);
			/* count 0: only the sums move */
			for (int ai = 0; ai < st->natts; ai++)
				HistAdd(st, &ras[ai], &st->atts[ai], i, rows[i], g[i] - g0, h[i] - h0, 0,
						ras[ai].G0, ras[ai].H0, ras[ai].N0, ras[ai].nn0);
			PairAdd(ras, ph, npairs, i, g[i] - g0, h[i] - h0, 0);
		}
		for (int64 k = 0; k < nval; k++)
		{
			int32		i = valrows[k];

			if (RuleHolds(st, &rule, rows[i]))
			{
				val_loss -= LogLoss(margin[i], y[i]);
				margin[i] += delta;
				val_loss += LogLoss(margin[i], y[i]);
			}
		}
		if (j == nfound)
			found[nfound++] = rule;
		fw[j] += delta;
		log_rule[round] = j;
		log_delta[round] = delta;
		nat[round + 1] = nfound;

		if (message_level_is_interesting(DEBUG2))
		{
			StringInfoData dbg;

			initStringInfo(&dbg);
			AppendRule(st, &dbg, &rule);
			elog(DEBUG2, "icp_learn: round %d: %s: rows %lld, G %.3f, H %.3f, step %.4f, holdout loss %.6f",
				 round, dbg.data, (long long) ncover, G, H, delta, val_loss / Max(nval, 1));
		}
		/* stop early once the rows kept out stop improving */
		if (val_loss < best_loss - 1e-9 * nval)
		{
			best_loss = val_loss;
			best_round = round + 1;
		}
		else if (round + 1 - best_round >= RULE_PATIENCE)
			break;
	}

	/* keep the rounds up to the best one: the steps of the later ones go */
	if (nval > 0 && best_round < round)
	{
		memset(fw, 0, sizeof(double) * Max(max_rules, 1));
		for (int k = 0; k < best_round; k++)
			fw[log_rule[k]] += log_delta[k];
		nfound = nat[best_round];
	}
	elog(DEBUG1, "icp_learn: %d rule rounds, the best after %d, %d rules, %.1f s",
		 round, best_round, nfound, LearnSecondsSince(start));
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	*rules = found;
	*weights = fw;
	return nfound;
}

/* The rule text of a condition (or of a range: two conditions on one number) */
static void
AppendRule(LearnState *st, StringInfo buf, const LearnRule *rule)
{
	StringInfoData part;

	initStringInfo(&part);
	resetStringInfo(buf);
	for (int k = 0; k < rule->ncond; k++)
	{
		const LearnCond *c = &rule->c[k];
		LearnAttr  *a = &st->atts[c->attr];

		LearnStartRule(&part, a);
		switch (c->op)
		{
			case COND_EQ:
			case COND_NE:
			case COND_CONTAINS:
				appendStringInfoString(&part, c->op == COND_EQ ? " = " :
									   c->op == COND_NE ? " <> " : " CONTAINS ");
				LearnAppendCodeLiteral(&part, a, c->code);
				break;
			case COND_GE:
				/* followed by the upper bound of a range on the same number */
				if (k + 1 < rule->ncond && rule->c[k + 1].attr == c->attr &&
					rule->c[k + 1].op == COND_LT && a->integral &&
					rule->c[k + 1].cut == floor(rule->c[k + 1].cut) &&
					fabs(rule->c[k + 1].cut) < 9007199254740992.0 &&
					c->cut == floor(c->cut))
				{
					appendStringInfo(&part, " BETWEEN %s AND %s", LearnFormatNumber(c->cut),
									 LearnFormatNumber(rule->c[k + 1].cut - 1));
					k++;
				}
				else
					appendStringInfo(&part, " >= %s", LearnCutText(a, c->cut));
				break;
			case COND_LT:
				appendStringInfo(&part, " < %s", LearnCutText(a, c->cut));
				break;
			case COND_TRUE:
				appendStringInfoString(&part, " IS TRUE");
				break;
			case COND_FALSE:
				appendStringInfoString(&part, " IS FALSE");
				break;
			case COND_NULL:
				appendStringInfoString(&part, " IS NULL");
				break;
			case COND_NOTNULL:
				appendStringInfoString(&part, " IS NOT NULL");
				break;
		}
		if (buf->len > 0)
			appendStringInfoString(buf, " AND ");
		appendStringInfoString(buf, part.data);
	}
	pfree(part.data);
}

/*
 * Add the rules, with their weights, as features after the single ones and
 * rebuild both designs with them (support and won rate counted afresh).
 * *w holds the single features' weights and the bias after them; it is
 * replaced by the weights of all features and the bias.  A rule true on no
 * training row is left out; one true on all of them moves the bias; one
 * written like a single feature, or true on exactly the training rows of an
 * earlier rule, adds its weight to that one.
 */
void
LearnAddRuleFeatures(LearnState *st, FeatureList *fl, LearnRule *rules,
					 const double *rw, int nrules, LearnDesign *train,
					 LearnDesign *test, double **w)
{
	int			nsingle = fl->n;
	int64	   *cnt = palloc0(sizeof(int64) * Max(nrules, 1));
	uint64	   *hash = palloc(sizeof(uint64) * Max(nrules, 1));
	int32	   *feat = palloc(sizeof(int32) * Max(nrules, 1));
	int32	   *into = palloc(sizeof(int32) * Max(nrules, 1));
	double	   *nw;
	double		bias = (*w)[nsingle];
	int64		ntrain = 0;
	LearnDesign *d[2];
	LearnExtra	extra;
	StringInfoData text;
	int64		words = (st->nstored + 63) / 64;
	uint64	  **bits = palloc(sizeof(uint64 *) * Max(nrules, 1));

	/* pass 1: the rows of each rule (a bitmap), its support and a hash of its rows */
	for (int j = 0; j < nrules; j++)
	{
		hash[j] = 0;
		bits[j] = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint64) * words);
		memset(bits[j], 0, sizeof(uint64) * words);
		for (int64 r = 0; r < st->nstored; r++)
			if (RuleHolds(st, &rules[j], r))
			{
				bits[j][r >> 6] |= UINT64CONST(1) << (r & 63);
				if (!st->hold[r])
				{
					cnt[j]++;
					hash[j] = LearnMix64(hash[j] ^ (uint64) r);
				}
			}
		CHECK_FOR_INTERRUPTS();
	}
	for (int64 r = 0; r < st->nstored; r++)
		ntrain += !st->hold[r];
	nw = palloc(sizeof(double) * (nsingle + nrules + 1));
	memcpy(nw, *w, sizeof(double) * nsingle);
	initStringInfo(&text);
	for (int j = 0; j < nrules; j++)
	{
		feat[j] = -1;
		into[j] = -1;
		if (cnt[j] == 0)
			continue;
		if (cnt[j] == ntrain)
		{
			bias += rw[j];
			continue;
		}
		for (int k = 0; k < j && into[j] < 0; k++)
			if (feat[k] >= 0 && cnt[k] == cnt[j] && hash[k] == hash[j])
				into[j] = feat[k];
		if (into[j] < 0)
		{
			AppendRule(st, &text, &rules[j]);
			for (int f = 0; f < fl->n && into[j] < 0; f++)
				if (strcmp(fl->f[f].rule, text.data) == 0)
					into[j] = f;
		}
		if (into[j] >= 0)
		{
			nw[into[j]] += rw[j];
			continue;
		}
		if (fl->n >= fl->alloc)
		{
			fl->alloc = Max(fl->alloc * 2, 64);
			fl->f = fl->f ? repalloc(fl->f, sizeof(LearnFeature) * fl->alloc)
				: palloc(sizeof(LearnFeature) * fl->alloc);
		}
		fl->f[fl->n].attr = -1;
		fl->f[fl->n].rule = pstrdup(text.data);
		nw[fl->n] = rw[j];
		feat[j] = fl->n++;
	}
	nw[fl->n] = bias;
	pfree(*w);
	*w = nw;
	/* both designs again, with the rules */
	d[0] = train;
	d[1] = test;
	for (int k = 0; k < 2; k++)
	{
		pfree(d[k]->rowptr);
		pfree(d[k]->fidx);
		pfree(d[k]->y);
	}
	extra.n = nrules;
	extra.bits = bits;
	extra.feat = feat;
	LearnBuildDesigns(st, fl, train, test, &extra);
	elog(DEBUG1, "icp_learn: %d single features, %d of %d rules added",
		 nsingle, fl->n - nsingle, nrules);
	pfree(cnt);
	pfree(hash);
	pfree(feat);
	pfree(into);
	for (int j = 0; j < nrules; j++)
		pfree(bits[j]);
	pfree(bits);
}

/* Drop the features not in keep[] from a design, renumbering through map */
static void
CompactDesign(LearnDesign *d, const int32 *map, int p)
{
	uint64		out = 0;
	uint64		lo = 0;

	for (int64 i = 0; i < d->n; i++)
	{
		uint64		hi = d->rowptr[i + 1];

		for (uint64 k = lo; k < hi; k++)
			if (map[d->fidx[k]] >= 0)
				d->fidx[out++] = (uint16) map[d->fidx[k]];
		lo = hi;
		d->rowptr[i + 1] = out;
	}
	d->p = p;
}

/* Comparator: features by importance descending, then index */
static int
CmpImportance(const void *a, const void *b, void *arg)
{
	const double *imp = (const double *) arg;
	int			x = *(const int *) a,
				y = *(const int *) b;

	if (imp[x] != imp[y])
		return imp[x] > imp[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/*
 * Keep the keep features of largest importance |w| * sd (the weight times
 * the feature's standard deviation on the training rows: how much it moves
 * scores), in their order; the designs lose the others.
 */
void
LearnPrune(LearnState *st, FeatureList *fl, LearnDesign *train, LearnDesign *test,
		   const double *w, int keep)
{
	int			n = fl->n;
	double	   *imp = palloc(sizeof(double) * Max(n, 1));
	int		   *order = palloc(sizeof(int) * Max(n, 1));
	int32	   *map = palloc(sizeof(int32) * Max(n, 1));
	int			next = 0;

	for (int f = 0; f < n; f++)
	{
		double		s = (double) fl->f[f].support / (double) Max(train->n, 1);

		imp[f] = fabs(w[f]) * sqrt(s * (1.0 - s));
		order[f] = f;
		map[f] = -1;
	}
	qsort_arg(order, n, sizeof(int), CmpImportance, imp);
	for (int i = 0; i < Min(keep, n); i++)
		map[order[i]] = 0;
	for (int f = 0; f < n; f++)
		if (map[f] == 0)
		{
			map[f] = next;
			fl->f[next++] = fl->f[f];
		}
	fl->n = next;
	CompactDesign(train, map, next);
	CompactDesign(test, map, next);
	LearnRenumberFeatures(st, map);
	pfree(imp);
	pfree(order);
	pfree(map);
}
