/*
 * learn_features.c
 *		icp_learn's features: which values, bins, elements and NULLs become
 *		criteria, their rules, and the sparse design the fit reads.
 *
 * Features are chosen on the training rows: values and array elements with
 * enough support (the most frequent max_values), quantile bins with rounded
 * bounds (small bins merged), IS TRUE for booleans, IS NULL where both sides
 * have support.  Everything else is the reference level.  Every rule is
 * written in the rule language with identifiers quoted as needed.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"
#include "utils/memutils.h"

#include "learn.h"
#include "rule.h"
/* ---------------------------------------------------------------------------
 * Features
 * ---------------------------------------------------------------------------
 */

/* Add a feature with its rule text; returns its index */
static int
AddFeature(FeatureList *fl, int attr, StringInfo rule)
{
	if (fl->n >= PG_UINT16_MAX - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("icp_learn would need more than %d features", PG_UINT16_MAX - 2),
				 errhint("Lower the option max_values or bins, or learn from fewer attributes.")));
	if (fl->n >= fl->alloc)
	{
		fl->alloc = Max(fl->alloc * 2, 64);
		fl->f = fl->f ? repalloc(fl->f, sizeof(LearnFeature) * fl->alloc)
			: palloc(sizeof(LearnFeature) * fl->alloc);
	}
	fl->f[fl->n].attr = attr;
	fl->f[fl->n].rule = pstrdup(rule->data);
	fl->f[fl->n].support = 0;
	fl->f[fl->n].positives = 0;
	return fl->n++;
}

/* Start a rule with the attribute's name, quoted as the rule language needs */
void
LearnStartRule(StringInfo buf, LearnAttr *a)
{
	char	   *path[1];

	path[0] = a->name;
	resetStringInfo(buf);
	IcpAppendAttrPath(buf, 1, path);
}

/* A number as a rule literal (never in exponent form) */
char *
LearnFormatNumber(double x)
{
	char		buf[128];

	if (x == floor(x) && fabs(x) < 9007199254740992.0)
		snprintf(buf, sizeof(buf), "%.0f", x);	/* exact below 2^53 */
	else if (fabs(x) >= 1e15)
	{
		/*
		 * 15 significant digits, as for smaller numbers: the double of a
		 * value like 12345678901234700000 is 12345678901234700288, and
		 * writing that would put the value on the other side of the bound
		 */
		char		e[64];
		char	   *o = buf;
		int			exp10;

		snprintf(e, sizeof(e), "%.14e", x);
		exp10 = atoi(strchr(e, 'e') + 1);
		for (const char *c = e; *c != 'e'; c++)
			if (*c != '.')
				*o++ = *c;
		for (int z = 14; z < exp10 && o < buf + sizeof(buf) - 1; z++)
			*o++ = '0';
		*o = '\0';
	}
	else
	{
		int			mag = (int) floor(log10(fabs(x)));
		int			digits = Min(Max(14 - mag, 0), 60);
		int			len;

		snprintf(buf, sizeof(buf), "%.*f", digits, x);
		len = strlen(buf);
		while (len > 1 && buf[len - 1] == '0')
			buf[--len] = '\0';
		if (len > 1 && buf[len - 1] == '.')
			buf[--len] = '\0';
	}
	return pstrdup(buf);
}

/* Append a value of a dictionary as a literal */
void
LearnAppendCodeLiteral(StringInfo buf, LearnAttr *a, uint32 code)
{
	char	   *s = LearnCodeText(a, code);

	if (a->vnumber)
		appendStringInfoString(buf, s);
	else
	{
		IcpLiteral lit;

		lit.type = ICP_LIT_STRING;
		lit.str = s;
		lit.len = strlen(s);
		lit.boolval = false;
		IcpAppendLiteral(buf, &lit);
	}
}

/* Comparator: codes by count descending, then by value (not by code, which is arrival order) */
static int
CmpCodeCount(const void *a, const void *b, void *arg)
{
	const LearnAttr *at = (const LearnAttr *) arg;
	const int64 *cnt = at->code_count;
	uint32		x = *(const uint32 *) a,
				y = *(const uint32 *) b;
	int			c;

	if (cnt[x] != cnt[y])
		return cnt[x] > cnt[y] ? -1 : 1;
	c = memcmp(at->dict.keys[x], at->dict.keys[y],
			   Min(at->dict.keylens[x], at->dict.keylens[y]));
	if (c != 0)
		return c;
	return (at->dict.keylens[x] > at->dict.keylens[y]) -
		(at->dict.keylens[x] < at->dict.keylens[y]);
}

/* Frequent values (CAT) or elements (ARR) with enough support become features */
static void
ValueFeatures(LearnState *st, int ai, FeatureList *fl, int64 ntrain,
			  int64 ms, int max_values)
{
	LearnAttr  *a = &st->atts[ai];
	uint32		nv = a->dict.nvalues;
	int64	   *cnt = palloc0(sizeof(int64) * Max(nv, 1));
	uint32	   *order = palloc(sizeof(uint32) * Max(nv, 1));
	int			kept = 0;
	StringInfoData buf;

	for (int64 r = 0; r < st->nstored; r++)
	{
		if (st->hold[r])
			continue;
		if (a->kind == LEARN_CAT)
		{
			if (a->codes[r] < CODE_OTHER)
				cnt[a->codes[r]]++;
		}
		else if (a->acnt[r] != ARR_NULL)
			for (int k = 0; k < a->acnt[r]; k++)
				cnt[st->pool[a->aoff[r] + k]]++;
	}
	for (uint32 c = 0; c < nv; c++)
		order[c] = c;
	a->code_count = cnt;
	qsort_arg(order, nv, sizeof(uint32), CmpCodeCount, a);
	a->code_count = NULL;
	a->feat_of_code = palloc(sizeof(int32) * Max(nv, 1));
	for (uint32 c = 0; c < nv; c++)
		a->feat_of_code[c] = -1;
	initStringInfo(&buf);
	for (uint32 i = 0; i < nv && kept < max_values; i++)
	{
		uint32		c = order[i];

		if (cnt[c] < ms)
			break;
		if (cnt[c] >= ntrain)
			continue;			/* true of every row: the bias says it */
		LearnStartRule(&buf, a);
		appendStringInfoString(&buf, a->kind == LEARN_CAT ? " = " : " CONTAINS ");
		LearnAppendCodeLiteral(&buf, a, c);
		a->feat_of_code[c] = AddFeature(fl, ai, &buf);
		kept++;
	}
	pfree(cnt);
	pfree(order);
}

/* Round a bin bound to few significant digits, staying within tol of it */
double
LearnNiceBound(double x, double tol, bool integral)
{
	double		r = x;

	if (x != 0)
	{
		for (int digits = 1; digits <= 15; digits++)
		{
			double		scale = pow(10.0, floor(log10(fabs(x))) - digits + 1);

			r = round(x / scale) * scale;
			if (fabs(r - x) <= tol)
				break;
		}
	}
	if (integral)
		r = round(r);
	/* what the rule will say, read back */
	return strtod(LearnFormatNumber(r), NULL);
}

/* Day number (days since 2000-01-01) of the first day of year y, month m */
static double
DayOf(int y, int m)
{
	while (m > 12)
	{
		m -= 12;
		y++;
	}
	return (double) (date2j(y, m, 1) - POSTGRES_EPOCH_JDATE);
}

/*
 * A bin bound as the rule will say it: dates round to the start of a year,
 * else of a month, else to a whole day, within tol days of x; numbers as
 * LearnNiceBound
 */
double
LearnNiceCut(LearnAttr *a, double x, double tol)
{
	int			y,
				m,
				d;
	double		best;

	if (!a->isdate)
		return LearnNiceBound(x, tol, a->integral);
	if (!(fabs(x) < 1e8))
		return round(x);
	j2date((int) floor(x) + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	for (int k = 0; k <= 1; k++)
		if (fabs((best = DayOf(y + k, 1)) - x) <= tol)
			return best;
	for (int k = 0; k <= 1; k++)
		if (fabs((best = DayOf(y, m + k)) - x) <= tol)
			return best;
	return round(x);
}

/* The literal of a bin bound: a number, or a date (midnight UTC for timestamptz) */
char *
LearnCutText(LearnAttr *a, double cut)
{
	int			y,
				m,
				d;

	if (!a->isdate)
		return LearnFormatNumber(cut);
	j2date((int) floor(cut) + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	/* ISO with an explicit era: year 0 is 1 BC */
	return psprintf("'%04d-%02d-%02d%s%s'", y > 0 ? y : 1 - y, m, d, y > 0 ? "" : " BC",
					a->numtype == TIMESTAMPTZOID ? " 00:00:00+00" : "");
}

/* Bin of value x: the number of bounds <= x */
static inline int
BinOf(const double *cuts, int ncuts, double x)
{
	int			lo = 0,
				hi = ncuts;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (cuts[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Quantile bins of a numeric column become features; the bounds come from
 * the finite values (infinite ones fall in the first or last bin)
 */
static void
BinFeatures(LearnState *st, int ai, FeatureList *fl, int64 ms, int bins)
{
	LearnAttr  *a = &st->atts[ai];
	int64		m = 0,
				stride,
				ns = 0,
				ndistinct = 1;
	double	   *sample;
	double	   *raw;
	int			nraw = 0;
	int64	   *cnt;
	StringInfoData buf;

	for (int64 r = 0; r < st->nstored; r++)
		if (!st->hold[r] && isfinite(a->vals[r]))
			m++;
	a->ncuts = 0;
	a->cuts = palloc(sizeof(double) * (bins + 1));
	a->bin_feat = palloc(sizeof(int32) * (bins + 2));
	if (m == 0)
		return;
	stride = (m + QUANTILE_ROWS - 1) / QUANTILE_ROWS;
	sample = palloc(sizeof(double) * (m / stride + 1));
	m = 0;
	for (int64 r = 0; r < st->nstored; r++)
		if (!st->hold[r] && isfinite(a->vals[r]))
			if (m++ % stride == 0)
				sample[ns++] = a->vals[r];
	LearnSortDoubles(sample, ns);
	for (int64 i = 1; i < ns; i++)
		if (sample[i] != sample[i - 1])
			ndistinct++;

	/* candidate bounds: every distinct value, or the quantiles */
	raw = palloc(sizeof(double) * (Max(ndistinct, bins) + 1));
	if (ndistinct <= bins)
	{
		for (int64 i = 1; i < ns; i++)
			if (sample[i] != sample[i - 1])
				raw[nraw++] = a->isdate ? sample[i] :
					strtod(LearnFormatNumber(sample[i]), NULL); /* as written */
	}
	else
	{
		for (int j = 1; j < bins; j++)
		{
			double		q = sample[(int64) ((double) j * ns / bins)];

			if (q > sample[0] && (nraw == 0 || q > raw[nraw - 1]))
				raw[nraw++] = q;
		}
		/* round each bound, keeping it well inside its neighbours */
		for (int j = 0; j < nraw; j++)
		{
			double		gap = INFINITY;

			if (j > 0)
				gap = raw[j] - raw[j - 1];
			else
				gap = raw[j] - sample[0];
			if (j + 1 < nraw)
				gap = Min(gap, raw[j + 1] - raw[j]);
			raw[j] = LearnNiceCut(a, raw[j], gap / 4);
		}
	}
	for (int j = 0; j < nraw; j++)
		if (raw[j] > sample[0] && (a->ncuts == 0 || raw[j] > a->cuts[a->ncuts - 1]))
			a->cuts[a->ncuts++] = raw[j];

	/* merge bins below the support (counted on the sample, scaled up) */
	cnt = palloc0(sizeof(int64) * (a->ncuts + 1));
	for (int64 i = 0; i < ns; i++)
		cnt[BinOf(a->cuts, a->ncuts, sample[i])] += stride;
	{
		int			kept = 0;
		int64		acc = 0;

		for (int j = 0; j < a->ncuts; j++)
		{
			acc += cnt[j];
			if (acc >= ms)
			{
				a->cuts[kept++] = a->cuts[j];
				acc = 0;
			}
		}
		acc += cnt[a->ncuts];
		if (acc < ms && kept > 0)
			kept--;
		a->ncuts = kept;
	}
	if (a->ncuts == 0)
		return;

	initStringInfo(&buf);
	for (int b = 0; b <= a->ncuts; b++)
	{
		LearnStartRule(&buf, a);
		if (b == 0)
			appendStringInfo(&buf, " < %s", LearnCutText(a, a->cuts[0]));
		else if (b == a->ncuts)
			appendStringInfo(&buf, " >= %s", LearnCutText(a, a->cuts[b - 1]));
		else if (a->integral && fabs(a->cuts[b]) < 9007199254740992.0)
		{
			double		lo = a->cuts[b - 1],
						hi = a->cuts[b] - 1;

			if (lo == hi)
				appendStringInfo(&buf, " = %s", LearnFormatNumber(lo));
			else
				appendStringInfo(&buf, " BETWEEN %s AND %s",
								 LearnFormatNumber(lo), LearnFormatNumber(hi));
		}
		else
		{
			appendStringInfo(&buf, " >= %s AND ", LearnCutText(a, a->cuts[b - 1]));
			IcpAppendAttrPath(&buf, 1, &a->name);
			appendStringInfo(&buf, " < %s", LearnCutText(a, a->cuts[b]));
		}
		a->bin_feat[b] = AddFeature(fl, ai, &buf);
	}
	pfree(cnt);
	pfree(sample);
	pfree(raw);
}

/* Is the attribute's value NULL in stored row r? */
static inline bool
IsNullAt(LearnAttr *a, int64 r)
{
	switch (a->kind)
	{
		case LEARN_CAT:
		case LEARN_BOOL:
			return a->codes[r] == CODE_NULL;
		case LEARN_NUM:
			return isnan(a->vals[r]);
		case LEARN_ARR:
			return a->acnt[r] == ARR_NULL;
	}
	return false;
}

/*
 * Recency features of a date or timestamp column: x WITHIN '7 days' (30, 90,
 * 365) where enough training rows have it and a longer interval adds rows.
 * The bounds are what scoring computes now (the transaction start) in the
 * session's time zone, in the column's own days.
 */
static void
RecencyFeatures(LearnState *st, int ai, FeatureList *fl, int64 ms, int64 nonnull)
{
	static const int days[LEARN_RECENCY] = {7, 30, 90, 365};
	LearnAttr  *a = &st->atts[ai];
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int64		prev = 0;
	StringInfoData buf;

	initStringInfo(&buf);
	a->nrec = 0;
	for (int k = 0; k < LEARN_RECENCY; k++)
	{
		Interval	iv;
		TimestampTz lo_ts;
		double		lo,
					hi;
		int64		cnt = 0;

		memset(&iv, 0, sizeof(iv));
		iv.day = days[k];
		lo_ts = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
														TimestampTzGetDatum(now),
														IntervalPGetDatum(&iv)));
		if (a->numtype == DATEOID)
		{
			DateADT		dlo = DatumGetDateADT(DirectFunctionCall1(timestamptz_date,
																  TimestampTzGetDatum(lo_ts)));

			/* the first date whose midnight is not before the bound */
			if (DatumGetTimestampTz(DirectFunctionCall1(date_timestamptz,
														DateADTGetDatum(dlo))) < lo_ts)
				dlo++;
			lo = dlo;
			hi = DatumGetDateADT(DirectFunctionCall1(timestamptz_date, TimestampTzGetDatum(now)));
		}
		else if (a->numtype == TIMESTAMPOID)
		{
			lo = (double) DatumGetTimestamp(DirectFunctionCall1(timestamptz_timestamp,
																TimestampTzGetDatum(lo_ts))) / USECS_PER_DAY;
			hi = (double) DatumGetTimestamp(DirectFunctionCall1(timestamptz_timestamp,
																TimestampTzGetDatum(now))) / USECS_PER_DAY;
		}
		else
		{
			lo = (double) lo_ts / USECS_PER_DAY;
			hi = (double) now / USECS_PER_DAY;
		}
		for (int64 r = 0; r < st->nstored; r++)
			if (!st->hold[r] && a->vals[r] >= lo && a->vals[r] <= hi)
				cnt++;
		if (cnt < ms || cnt >= nonnull || cnt == prev)
			continue;
		prev = cnt;
		LearnStartRule(&buf, a);
		appendStringInfo(&buf, " WITHIN '%d days'", days[k]);
		a->rec_lo[a->nrec] = lo;
		a->rec_hi[a->nrec] = hi;
		a->rec_feat[a->nrec] = AddFeature(fl, ai, &buf);
		a->nrec++;
	}
	pfree(buf.data);
}

/* Choose the features of every attribute */
void
LearnBuildFeatures(LearnState *st, FeatureList *fl, int64 ntrain, int64 ms,
			  const LearnOptions *o)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int ai = 0; ai < st->natts; ai++)
	{
		LearnAttr  *a = &st->atts[ai];
		int64		nnull = 0,
					ntrue = 0;

		CHECK_FOR_INTERRUPTS();
		a->null_feat = -1;
		a->true_feat = -1;
		for (int64 r = 0; r < st->nstored; r++)
		{
			if (st->hold[r])
				continue;
			if (IsNullAt(a, r))
				nnull++;
			else if (a->kind == LEARN_BOOL && a->codes[r] == 1)
				ntrue++;
		}
		switch (a->kind)
		{
			case LEARN_CAT:
			case LEARN_ARR:
				ValueFeatures(st, ai, fl, ntrain, ms, o->max_values);
				break;
			case LEARN_NUM:
				BinFeatures(st, ai, fl, ms, o->bins);
				if (a->isdate)
					RecencyFeatures(st, ai, fl, ms, ntrain - nnull);
				break;
			case LEARN_BOOL:
				if (ntrue >= ms && ntrue < ntrain)
				{
					LearnStartRule(&buf, a);
					appendStringInfoString(&buf, " IS TRUE");
					a->true_feat = AddFeature(fl, ai, &buf);
				}
				break;
		}
		/* missingness, when both sides have support */
		if (nnull >= ms && ntrain - nnull >= ms)
		{
			LearnStartRule(&buf, a);
			appendStringInfoString(&buf, " IS NULL");
			a->null_feat = AddFeature(fl, ai, &buf);
		}
	}
}

/* Append the features of stored row r to a design under construction */
int
LearnRowFeatures(LearnState *st, int64 r, uint16 *out)
{
	int			k = 0;

	for (int ai = 0; ai < st->natts; ai++)
	{
		LearnAttr  *a = &st->atts[ai];
		int			f = -1;

		switch (a->kind)
		{
			case LEARN_CAT:
				{
					uint32		c = a->codes[r];

					f = (c == CODE_NULL) ? a->null_feat :
						(c == CODE_OTHER) ? -1 : a->feat_of_code[c];
					break;
				}
			case LEARN_BOOL:
				f = (a->codes[r] == CODE_NULL) ? a->null_feat :
					(a->codes[r] == 1) ? a->true_feat : -1;
				break;
			case LEARN_NUM:
				{
					double		x = a->vals[r];

					if (isnan(x))
						f = a->null_feat;
					else if (a->ncuts > 0)
						f = a->bin_feat[BinOf(a->cuts, a->ncuts, x)];
					for (int j = 0; j < a->nrec; j++)
						if (a->rec_feat[j] >= 0 && x >= a->rec_lo[j] && x <= a->rec_hi[j])
							out[k++] = (uint16) a->rec_feat[j];
					break;
				}
			case LEARN_ARR:
				if (a->acnt[r] == ARR_NULL)
					f = a->null_feat;
				else
					for (int e = 0; e < a->acnt[r]; e++)
					{
						int			g = a->feat_of_code[st->pool[a->aoff[r] + e]];

						if (g >= 0)
							out[k++] = (uint16) g;
					}
				break;
		}
		if (f >= 0)
			out[k++] = (uint16) f;
	}
	return k;
}

/* Most features stored row r can have: one per attribute, all array elements */
static int64
RowBound(LearnState *st, int64 r)
{
	int64		bound = 0;

	for (int ai = 0; ai < st->natts; ai++)
	{
		LearnAttr  *a = &st->atts[ai];

		if (a->kind != LEARN_ARR || a->acnt[r] == ARR_NULL)
			bound += 1 + a->nrec;
		else
			bound += a->acnt[r];
	}
	return bound;
}

/* Comparator: feature indexes by support descending, then index */
static int
CmpFeatureSupport(const void *a, const void *b, void *arg)
{
	const int64 *support = (const int64 *) arg;
	int			x = *(const int *) a,
				y = *(const int *) b;

	if (support[x] != support[y])
		return support[x] > support[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/* Renumber a feature index through map (-1 stays -1) */
static inline int32
Renumber(const int32 *map, int32 f)
{
	return f >= 0 ? map[f] : -1;
}

/* Renumber the features the attributes point to (map: old -> new or -1) */
void
LearnRenumberFeatures(LearnState *st, const int32 *map)
{
	for (int ai = 0; ai < st->natts; ai++)
	{
		LearnAttr  *a = &st->atts[ai];

		a->null_feat = Renumber(map, a->null_feat);
		a->true_feat = Renumber(map, a->true_feat);
		if (a->kind == LEARN_CAT || a->kind == LEARN_ARR)
			for (uint32 c = 0; c < a->dict.nvalues; c++)
				a->feat_of_code[c] = Renumber(map, a->feat_of_code[c]);
		if (a->kind == LEARN_NUM && a->ncuts > 0)
			for (int b = 0; b <= a->ncuts; b++)
				a->bin_feat[b] = Renumber(map, a->bin_feat[b]);
		for (int j = 0; j < a->nrec; j++)
			a->rec_feat[j] = Renumber(map, a->rec_feat[j]);
	}
}

/*
 * Keep at most LEARN_MAX_FEATURES features: the ones true on the most
 * training rows (ties: the earlier one).  A dropped value, element, bin or
 * NULL joins its attribute's reference level, as a rare value does.  The
 * kept features keep their order; a NOTICE says how many were dropped.
 */
void
LearnCapFeatures(LearnState *st, FeatureList *fl)
{
	int			n = fl->n;
	int64	   *support;
	int		   *order;
	int32	   *map;
	uint16	   *buf;
	int64		maxrow = 1;
	int			next = 0;
	int64		cutoff;

	if (n <= LEARN_MAX_FEATURES)
		return;

	/* exact support of every candidate on the training rows */
	for (int64 r = 0; r < st->nstored; r++)
		maxrow = Max(maxrow, RowBound(st, r));
	buf = palloc(sizeof(uint16) * maxrow);
	support = palloc0(sizeof(int64) * n);
	for (int64 r = 0; r < st->nstored; r++)
	{
		int			k;

		if (st->hold[r])
			continue;
		k = LearnRowFeatures(st, r, buf);
		for (int j = 0; j < k; j++)
			support[buf[j]]++;
		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	order = palloc(sizeof(int) * n);
	for (int f = 0; f < n; f++)
		order[f] = f;
	qsort_arg(order, n, sizeof(int), CmpFeatureSupport, support);
	cutoff = support[order[LEARN_MAX_FEATURES - 1]];
	map = palloc(sizeof(int32) * n);
	for (int f = 0; f < n; f++)
		map[f] = -1;
	for (int i = 0; i < LEARN_MAX_FEATURES; i++)
		map[order[i]] = 0;
	for (int f = 0; f < n; f++)
		if (map[f] == 0)
		{
			map[f] = next;
			fl->f[next++] = fl->f[f];
		}
	fl->n = next;

	LearnRenumberFeatures(st, map);

	ereport(NOTICE,
			(errmsg("icp_learn: fitting the %d most frequent of %d candidate features",
					LEARN_MAX_FEATURES, n),
			 errdetail("The fit takes at most %d features; the %d left out are true on at most " INT64_FORMAT " training rows each and count as their attribute's reference level.",
					   LEARN_MAX_FEATURES, n - LEARN_MAX_FEATURES, cutoff),
			 errhint("Raise the option min_support, or lower max_values or bins, to choose the features yourself.")));
	pfree(buf);
	pfree(support);
	pfree(order);
	pfree(map);
}

/* Does extra feature j hold on stored row r? */
static inline bool
ExtraHolds(const LearnExtra *x, int j, int64 r)
{
	return x->feat[j] >= 0 && ((x->bits[j][r >> 6] >> (r & 63)) & 1);
}

/*
 * Build the training and holdout designs; counts each feature's support.
 * extra (or NULL) adds the features of rules: a bitmap of the stored rows
 * each holds on and its feature number (-1: none).
 */
void
LearnBuildDesigns(LearnState *st, FeatureList *fl, LearnDesign *train, LearnDesign *test,
				  const LearnExtra *extra)
{
	int64		nrows[2] = {0, 0};
	uint64		bound[2] = {0, 0};
	int			nflat = 0;
	LearnDesign *d[2];
	int			nx = extra ? extra->n : 0;

	d[0] = train;
	d[1] = test;
	for (int f = 0; f < fl->n; f++)
	{
		fl->f[f].support = 0;
		fl->f[f].positives = 0;
	}
	for (int ai = 0; ai < st->natts; ai++)
		if (st->atts[ai].kind != LEARN_ARR)
			nflat += 1 + st->atts[ai].nrec;
	for (int64 r = 0; r < st->nstored; r++)
	{
		int			h = st->hold[r];

		nrows[h]++;
		bound[h] += nflat;
		/* an array gives its elements, or one IS NULL feature */
		for (int ai = 0; ai < st->natts; ai++)
			if (st->atts[ai].kind == LEARN_ARR)
				bound[h] += (st->atts[ai].acnt[r] == ARR_NULL) ? 1 : st->atts[ai].acnt[r];
		for (int j = 0; j < nx; j++)
			bound[h] += ExtraHolds(extra, j, r);
	}
	for (int h = 0; h < 2; h++)
	{
		d[h]->n = 0;
		d[h]->p = fl->n;
		d[h]->rowptr = MemoryContextAllocHuge(st->cxt, sizeof(uint64) * (nrows[h] + 1));
		d[h]->fidx = MemoryContextAllocHuge(st->cxt, sizeof(uint16) * Max(bound[h], 1));
		d[h]->y = MemoryContextAllocHuge(st->cxt, Max(nrows[h], 1));
		d[h]->rowptr[0] = 0;
	}
	for (int64 r = 0; r < st->nstored; r++)
	{
		LearnDesign *dd = d[st->hold[r]];
		uint64		off = dd->rowptr[dd->n];
		int			k = LearnRowFeatures(st, r, dd->fidx + off);

		for (int j = 0; j < nx; j++)
			if (ExtraHolds(extra, j, r))
				dd->fidx[off + k++] = (uint16) extra->feat[j];
		if (!st->hold[r])
			for (int j = 0; j < k; j++)
			{
				fl->f[dd->fidx[off + j]].support++;
				fl->f[dd->fidx[off + j]].positives += st->y[r];
			}
		dd->y[dd->n] = st->y[r];
		dd->n++;
		dd->rowptr[dd->n] = off + k;
		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}
