/*
 * learn_fit.c
 *		The numerical part of icp_learn: L2-regularised logistic regression
 *		on a sparse 0/1 design, exact AUC and quantiles.
 *
 * The fit is Newton's method with a backtracking line search.  Each
 * iteration makes one pass over all rows for the loss and the gradient
 * (cost: the active features of each row); the Hessian is accumulated on an
 * evenly spaced subset of at most HESSIAN_ROWS rows and scaled up, which
 * keeps an iteration linear in the data while Newton still converges in a
 * handful of steps.  Everything is summed in a fixed order: deterministic.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "learn.h"

/* Rows the Hessian is accumulated on (evenly spaced subset above this) */
#define HESSIAN_ROWS 200000
#define MAX_ITERATIONS 60
#define QUANTILE_SAMPLE 100000
#define WARM_ROWS 100000		/* rows of the warm-start fit on large inputs */

/* Loss, gradient and (sampled) Hessian at w; returns the penalised loss */
static double
LossGradHess(const LearnDesign *d, double l2, const double *w, double *g,
			 double *H, int64 step, int64 stride)
{
	int			p = d->p;
	int			P = p + 1;
	double		loss = 0.0;
	double		hscale;
	int64		nsample = 0;
	int64		nrows = 0;

	memset(g, 0, sizeof(double) * P);
	memset(H, 0, sizeof(double) * P * P);

	for (int64 i = 0; i < d->n; i += step)
	{
		uint64		lo = d->rowptr[i],
					hi = d->rowptr[i + 1];
		double		eta = w[p];
		double		e,
					mu,
					r;

		for (uint64 k = lo; k < hi; k++)
			eta += w[d->fidx[k]];
		e = exp(-fabs(eta));
		if (eta >= 0)
		{
			mu = 1.0 / (1.0 + e);
			loss += eta + log1p(e);
		}
		else
		{
			mu = e / (1.0 + e);
			loss += log1p(e);
		}
		if (d->y[i])
			loss -= eta;
		r = mu - (double) d->y[i];
		for (uint64 k = lo; k < hi; k++)
			g[d->fidx[k]] += r;
		g[p] += r;

		if (nrows++ % stride == 0)
		{
			double		v = mu * (1.0 - mu);

			nsample++;
			for (uint64 a = lo; a < hi; a++)
			{
				int			fa = d->fidx[a];
				double	   *row = H + (Size) fa * P;

				for (uint64 b = a; b < hi; b++)
				{
					int			fb = d->fidx[b];

					if (fb >= fa)
						row[fb] += v;
					else
						H[(Size) fb * P + fa] += v;
				}
				row[p] += v;
			}
			H[(Size) p * P + p] += v;
		}
		if ((nrows & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	/* scale the sampled Hessian, mirror it, add the penalty */
	hscale = nsample > 0 ? (double) nrows / (double) nsample : 1.0;
	for (int a = 0; a < P; a++)
		for (int b = a; b < P; b++)
		{
			double		v = H[(Size) a * P + b] * hscale;

			H[(Size) a * P + b] = v;
			H[(Size) b * P + a] = v;
		}
	for (int j = 0; j < p; j++)
	{
		loss += 0.5 * l2 * w[j] * w[j];
		g[j] += l2 * w[j];
		H[(Size) j * P + j] += l2;
	}
	return loss;
}

/*
 * Dot product of a[0..n-1] and b[0..n-1] with four running sums, so that the
 * additions do not wait on each other (the Cholesky factorisation spends
 * nearly all its time here); the order is fixed, so results are repeatable.
 */
static inline double
Dot(const double *a, const double *b, int n)
{
	double		s0 = 0.0,
				s1 = 0.0,
				s2 = 0.0,
				s3 = 0.0;
	int			k = 0;

	for (; k + 3 < n; k += 4)
	{
		s0 += a[k] * b[k];
		s1 += a[k + 1] * b[k + 1];
		s2 += a[k + 2] * b[k + 2];
		s3 += a[k + 3] * b[k + 3];
	}
	for (; k < n; k++)
		s0 += a[k] * b[k];
	return (s0 + s1) + (s2 + s3);
}

/*
 * Solve H x = b for symmetric positive (semi)definite H by Cholesky, adding a
 * small ridge when a pivot is not positive.  H is left untouched.
 */
static void
SolveSpd(const double *H, const double *b, double *x, int P)
{
	double	   *L = palloc(sizeof(double) * P * P);
	double		ridge = 0.0;
	double		trace = 0.0;

	for (int i = 0; i < P; i++)
		trace += H[(Size) i * P + i];
	for (int attempt = 0;; attempt++)
	{
		bool		ok = true;

		memcpy(L, H, sizeof(double) * P * P);
		for (int i = 0; i < P; i++)
			L[(Size) i * P + i] += ridge;
		for (int j = 0; j < P && ok; j++)
		{
			double	   *Lj = L + (Size) j * P;
			double		s = Lj[j] - Dot(Lj, Lj, j);

			if (!(s > 0.0))
			{
				ok = false;
				break;
			}
			s = sqrt(s);
			Lj[j] = s;
			for (int i = j + 1; i < P; i++)
			{
				double	   *Li = L + (Size) i * P;

				Li[j] = (Li[j] - Dot(Li, Lj, j)) / s;
			}
			CHECK_FOR_INTERRUPTS();
		}
		if (ok)
			break;
		ridge = (ridge == 0.0) ? 1e-10 * (trace / P + 1.0) : ridge * 100.0;
		if (attempt > 20)
			elog(ERROR, "icp_learn: could not factor the Hessian");
	}
	/* forward then backward substitution */
	for (int i = 0; i < P; i++)
	{
		double		t = b[i];

		for (int k = 0; k < i; k++)
			t -= L[(Size) i * P + k] * x[k];
		x[i] = t / L[(Size) i * P + i];
	}
	for (int i = P - 1; i >= 0; i--)
	{
		double		t = x[i];

		for (int k = i + 1; k < P; k++)
			t -= L[(Size) k * P + i] * x[k];
		x[i] = t / L[(Size) i * P + i];
	}
	pfree(L);
}

/*
 * Newton iterations from w on every step-th row of d (penalty l2 scaled to
 * those rows); returns the loss reached.
 */
static double
NewtonLoop(const LearnDesign *d, double l2, double *w, int64 step, LearnFitInfo *info)
{
	int			P = d->p + 1;
	int64		nrows = (d->n + step - 1) / step;
	int64		stride = nrows > HESSIAN_ROWS ? (nrows + HESSIAN_ROWS - 1) / HESSIAN_ROWS : 1;
	double		l2s = l2 * (double) nrows / (double) Max(d->n, 1);
	double	   *g = palloc(sizeof(double) * P);
	double	   *H = palloc(sizeof(double) * P * P);
	double	   *gn = palloc(sizeof(double) * P);
	double	   *dir = palloc(sizeof(double) * P);
	double	   *wn = palloc(sizeof(double) * P);
	double	   *neg = palloc(sizeof(double) * P);
	double		tol = 1e-10 * (double) nrows + 1e-12;
	double		loss;

	info->converged = false;
	loss = LossGradHess(d, l2s, w, g, H, step, stride);
	for (int it = 0; it < MAX_ITERATIONS; it++)
	{
		double		slope = 0.0;
		double		t = 1.0;
		double		newloss = loss;

		for (int j = 0; j < P; j++)
			neg[j] = -g[j];
		SolveSpd(H, neg, dir, P);
		for (int j = 0; j < P; j++)
			slope += g[j] * dir[j];
		info->iterations++;
		if (-slope / 2.0 < tol)
		{
			info->converged = true;
			break;
		}
		/*
		 * backtracking line search (Armijo); H has served for dir, so each
		 * trial overwrites it and the accepted one leaves the Hessian at wn
		 */
		for (;;)
		{
			for (int j = 0; j < P; j++)
				wn[j] = w[j] + t * dir[j];
			newloss = LossGradHess(d, l2s, wn, gn, H, step, stride);
			if (newloss <= loss + 1e-4 * t * slope || t < 1e-8)
				break;
			t *= 0.5;
		}
		if (newloss > loss)
		{
			/* no progress possible at this precision */
			info->converged = true;
			break;
		}
		memcpy(w, wn, sizeof(double) * P);
		memcpy(g, gn, sizeof(double) * P);
		/* a full Newton step that gained next to nothing: done */
		if (t == 1.0 && -slope / 2.0 < 1e3 * tol)
		{
			loss = newloss;
			info->converged = true;
			break;
		}
		loss = newloss;
	}
	pfree(g);
	pfree(H);
	pfree(gn);
	pfree(dir);
	pfree(wn);
	pfree(neg);
	return loss;
}

/*
 * Fit the L2-regularised logistic regression.  On large inputs Newton first
 * runs on an even subset of about WARM_ROWS rows; from there a step or two
 * on all rows reach the optimum.
 */
void
LearnFitLogistic(const LearnDesign *d, double l2, double *w, LearnFitInfo *info)
{
	int			p = d->p;
	int64		npos = 0;

	for (int64 i = 0; i < d->n; i++)
		npos += d->y[i];
	memset(w, 0, sizeof(double) * (p + 1));
	if (npos > 0 && npos < d->n)
		w[p] = log((double) npos / (double) (d->n - npos));
	info->iterations = 0;
	if (d->n > 4 * WARM_ROWS)
		(void) NewtonLoop(d, l2, w, d->n / WARM_ROWS, info);
	info->loss = NewtonLoop(d, l2, w, 1, info);
}

/* Linear scores of every row of d */
void
LearnScores(const LearnDesign *d, const double *w, double *score)
{
	for (int64 i = 0; i < d->n; i++)
	{
		double		eta = w[d->p];

		for (uint64 k = d->rowptr[i]; k < d->rowptr[i + 1]; k++)
			eta += w[d->fidx[k]];
		score[i] = eta;
	}
}

/* An unsigned key that sorts like the double */
static inline uint64
OrderedKey(double s)
{
	uint64		u;

	if (s == 0.0)
		s = 0.0;				/* -0 and +0 are one score */
	memcpy(&u, &s, sizeof(u));
	return (u & UINT64CONST(0x8000000000000000)) ? ~u : (u | UINT64CONST(0x8000000000000000));
}

/*
 * LSD radix sort of keys[0..n-1], 8 bits at a time, skipping constant
 * digits; idx[] (if not NULL) is carried along.  Stable.
 */
void
LearnRadixSort(uint64 *keys, uint32 *idx, int64 n)
{
	uint64	   *tk = palloc_extended(sizeof(uint64) * Max(n, 1), MCXT_ALLOC_HUGE);
	uint32	   *ti = idx ? palloc_extended(sizeof(uint32) * Max(n, 1), MCXT_ALLOC_HUGE) : NULL;
	uint64	   *sk = keys,
			   *dk = tk;
	uint32	   *si = idx,
			   *di = ti;

	for (int shift = 0; shift < 64; shift += 8)
	{
		int64		count[257];
		bool		constant = false;

		memset(count, 0, sizeof(count));
		for (int64 i = 0; i < n; i++)
			count[((sk[i] >> shift) & 0xFF) + 1]++;
		for (int b = 0; b < 256; b++)
			if (count[b + 1] == n)
				constant = true;
		if (constant)
			continue;
		for (int b = 0; b < 256; b++)
			count[b + 1] += count[b];
		for (int64 i = 0; i < n; i++)
		{
			int64		to = count[(sk[i] >> shift) & 0xFF]++;

			dk[to] = sk[i];
			if (idx)
				di[to] = si[i];
		}
		{
			uint64	   *t = sk;
			uint32	   *u = si;

			sk = dk;
			dk = t;
			si = di;
			di = u;
		}
		CHECK_FOR_INTERRUPTS();
	}
	if (sk != keys)
	{
		memcpy(keys, sk, sizeof(uint64) * n);
		if (idx)
			memcpy(idx, si, sizeof(uint32) * n);
	}
	pfree(tk);
	if (ti)
		pfree(ti);
}

/* The double of an OrderedKey */
static inline double
KeyDouble(uint64 u)
{
	double		s;

	u = (u & UINT64CONST(0x8000000000000000)) ? (u & ~UINT64CONST(0x8000000000000000)) : ~u;
	memcpy(&s, &u, sizeof(s));
	return s;
}

/* Sort v[0..n-1] ascending (no NaNs; -0 becomes 0) by radix sort */
void
LearnSortDoubles(double *v, int64 n)
{
	uint64	   *keys = palloc_extended(sizeof(uint64) * Max(n, 1), MCXT_ALLOC_HUGE);

	for (int64 i = 0; i < n; i++)
		keys[i] = OrderedKey(v[i]);
	LearnRadixSort(keys, NULL, n);
	for (int64 i = 0; i < n; i++)
		v[i] = KeyDouble(keys[i]);
	pfree(keys);
}

/* Exact AUC: P(score of a positive > score of a negative), ties count half */
double
LearnAuc(const double *score, const uint8 *y, int64 n)
{
	uint64	   *keys;
	double		npos = 0,
				nneg = 0,
				negbelow = 0,
				sum = 0;
	int64		i = 0;

	if (n == 0)
		return get_float8_nan();
	keys = palloc_extended(sizeof(uint64) * n, MCXT_ALLOC_HUGE);
	/* the last bit of a key carries the outcome; equal scores stay adjacent */
	for (int64 k = 0; k < n; k++)
		keys[k] = (OrderedKey(score[k]) & ~UINT64CONST(1)) | (y[k] ? 1 : 0);
	LearnRadixSort(keys, NULL, n);
	while (i < n)
	{
		uint64		group = keys[i] >> 1;
		double		gpos = 0,
					gneg = 0;

		while (i < n && (keys[i] >> 1) == group)
		{
			if (keys[i] & 1)
				gpos++;
			else
				gneg++;
			i++;
		}
		sum += gpos * (negbelow + gneg / 2.0);
		negbelow += gneg;
		npos += gpos;
		nneg += gneg;
	}
	pfree(keys);
	if (npos == 0 || nneg == 0)
		return get_float8_nan();
	return sum / (npos * nneg);
}

/* Values at quantiles qs[0..k-1] of v[0..n-1], from a sorted sample of at most QUANTILE_SAMPLE */
void
LearnQuantiles(const double *v, int64 n, const double *qs, int k, double *out)
{
	int64		stride = (n + QUANTILE_SAMPLE - 1) / QUANTILE_SAMPLE;
	int64		m = 0;
	double	   *c;

	if (n == 0)
	{
		for (int j = 0; j < k; j++)
			out[j] = get_float8_nan();
		return;
	}
	if (stride < 1)
		stride = 1;
	c = palloc(sizeof(double) * (n / stride + 1));
	for (int64 i = 0; i < n; i += stride)
		c[m++] = v[i];
	LearnSortDoubles(c, m);
	for (int j = 0; j < k; j++)
	{
		int64		idx = (int64) floor(qs[j] * (double) (m - 1));

		out[j] = c[Max(0, Min(idx, m - 1))];
	}
	pfree(c);
}
