/*
 * learn_scan.c
 *		icp_learn's one scan of the source: a DestReceiver that stores a
 *		compact encoding of every row.
 *
 * Categorical values and array elements become small integer codes through
 * per-column dictionaries; numbers are kept as doubles (numeric read from
 * its stored digits, not through text); booleans as 0/1.
 *
 * Nothing depends on the order the rows arrive in: every row gets a 64-bit
 * hash of its contents (outcome and values, mixed with the seed), the
 * holdout split and the sample are decided by that hash, and after the scan
 * the stored rows are sorted by it (LearnCanonicalOrder), so everything
 * downstream (bins, features, the fit's sums) sees the same rows in the same
 * order for the same multiset of rows.  Above the row cap the rows kept are
 * those whose sample key lies below a threshold lowered in fixed steps until
 * at most cap rows qualify: a function of the rows, not of their order.
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "learn.h"
/* ---------------------------------------------------------------------------
 * Dictionaries
 * ---------------------------------------------------------------------------
 */

/* Set up an empty dictionary */
void
LearnDictInit(LearnDict *d)
{
	d->mask = 1023;
	d->slots = palloc0(sizeof(uint32) * (d->mask + 1));
	d->alloc = 256;
	d->nvalues = 0;
	d->hashes = palloc(sizeof(uint32) * d->alloc);
	d->keys = palloc(sizeof(char *) * d->alloc);
	d->keylens = palloc(sizeof(uint32) * d->alloc);
	d->full = false;
}

/* Double the slot array */
static void
DictGrow(LearnDict *d)
{
	uint32		nmask = d->mask * 2 + 1;
	uint32	   *ns = MemoryContextAllocZero(GetMemoryChunkContext(d->slots),
											sizeof(uint32) * (nmask + 1));

	for (uint32 c = 0; c < d->nvalues; c++)
	{
		uint32		h = d->hashes[c] & nmask;

		while (ns[h] != 0)
			h = (h + 1) & nmask;
		ns[h] = c + 1;
	}
	pfree(d->slots);
	d->slots = ns;
	d->mask = nmask;
}

/*
 * Code of a value's bytes, adding it when new (CODE_OTHER when full: too
 * many values in the column, or *bytes, the copies of all columns' values,
 * would pass DICT_MAX_BYTES; 100,000 values of 20 kB would be 2 GB)
 */
static uint32
DictCode(LearnDict *d, const char *key, uint32 len, MemoryContext cxt, Size *bytes)
{
	uint32		h = hash_bytes((const unsigned char *) key, (int) len);
	uint32		s = h & d->mask;
	uint32		code;
	char	   *copy;

	for (;;)
	{
		uint32		c = d->slots[s];

		if (c == 0)
			break;
		c--;
		if (d->hashes[c] == h && d->keylens[c] == len &&
			memcmp(d->keys[c], key, len) == 0)
			return c;
		s = (s + 1) & d->mask;
	}
	if (d->nvalues >= DICT_MAX_VALUES || *bytes + len + 1 > DICT_MAX_BYTES)
	{
		d->full = true;
		return CODE_OTHER;
	}
	code = d->nvalues++;
	if (code >= d->alloc)
	{
		d->alloc *= 2;
		d->hashes = repalloc(d->hashes, sizeof(uint32) * d->alloc);
		d->keys = repalloc(d->keys, sizeof(char *) * d->alloc);
		d->keylens = repalloc(d->keylens, sizeof(uint32) * d->alloc);
	}
	*bytes += len + 1;
	copy = MemoryContextAlloc(cxt, len + 1);
	memcpy(copy, key, len);
	copy[len] = '\0';
	d->hashes[code] = h;
	d->keys[code] = copy;
	d->keylens[code] = len;
	d->slots[s] = code + 1;
	if ((uint64) d->nvalues * 2 > d->mask)
		DictGrow(d);
	return code;
}

/* The bytes that identify a datum of the attribute's value type (its equality) */
static void
ValueBytes(LearnAttr *a, Datum *v, const char **key, uint32 *len)
{
	if (a->vbyval)
	{
		*key = (const char *) v;
		*len = sizeof(Datum);
	}
	else if (a->vlen == -1)
	{
		struct varlena *p = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(*v));

		*key = VARDATA_ANY(p);
		*len = VARSIZE_ANY_EXHDR(p);
		/* character(n) compares without its trailing spaces: 'a ' = 'a' */
		if (a->vtype == BPCHAROID)
			while (*len > 0 && (*key)[*len - 1] == ' ')
				(*len)--;
	}
	else if (a->vlen == -2)
	{
		*key = DatumGetCString(*v);
		*len = strlen(*key);
	}
	else
	{
		*key = DatumGetPointer(*v);
		*len = a->vlen;
	}
}

/* Code of a datum of the attribute's value type */
static uint32
DatumCode(LearnState *st, LearnAttr *a, Datum v)
{
	const char *key;
	uint32		len;

	ValueBytes(a, &v, &key, &len);
	return DictCode(&a->dict, key, len, st->cxt, &st->dict_bytes);
}

/* 64-bit hash of a datum's identifying bytes */
static uint64
DatumHash(LearnAttr *a, Datum v)
{
	const char *key;
	uint32		len;

	ValueBytes(a, &v, &key, &len);
	return hash_bytes_extended((const unsigned char *) key, (int) len, 0);
}

/* A bijective 64-bit mixer (the splitmix64 finaliser) */
uint64
LearnMix64(uint64 x)
{
	x ^= x >> 30;
	x *= UINT64CONST(0xBF58476D1CE4E5B9);
	x ^= x >> 27;
	x *= UINT64CONST(0x94D049BB133111EB);
	x ^= x >> 31;
	return x;
}

/* Text of a dictionary value, by the type's output function */
char *
LearnCodeText(LearnAttr *a, uint32 code)
{
	const char *key = a->dict.keys[code];
	uint32		len = a->dict.keylens[code];
	Oid			outfn;
	bool		isvarlena;
	Datum		v;

	getTypeOutputInfo(a->vtype, &outfn, &isvarlena);
	if (a->vbyval)
		memcpy(&v, key, sizeof(Datum));
	else if (a->vlen == -1)
	{
		struct varlena *p = palloc(VARHDRSZ + len);

		SET_VARSIZE(p, VARHDRSZ + len);
		memcpy(VARDATA(p), key, len);
		v = PointerGetDatum(p);
	}
	else
		v = PointerGetDatum(key);
	return OidOutputFunctionCall(outfn, v);
}

/* ---------------------------------------------------------------------------
 * The scan
 * ---------------------------------------------------------------------------
 */

/* Make room for at least one more stored row */
static void
GrowRows(LearnState *st)
{
	int64		n = Min(st->cap, Max(Max(st->alloc * 2, 65536), st->expected));
	MemoryContext old = MemoryContextSwitchTo(st->cxt);

#define GROW(ptr, type) \
	((ptr) = (st->alloc == 0) ? MemoryContextAllocHuge(st->cxt, sizeof(type) * n) \
	 : repalloc_huge((ptr), sizeof(type) * n))

	GROW(st->y, uint8);
	GROW(st->hold, uint8);
	GROW(st->rowhash, uint64);
	for (int i = 0; i < st->natts; i++)
	{
		LearnAttr  *a = &st->atts[i];

		switch (a->kind)
		{
			case LEARN_CAT:
			case LEARN_BOOL:
				GROW(a->codes, uint32);
				break;
			case LEARN_NUM:
				GROW(a->vals, double);
				break;
			case LEARN_ARR:
				GROW(a->aoff, uint64);
				GROW(a->acnt, uint16);
				break;
		}
	}
#undef GROW
	st->alloc = n;
	MemoryContextSwitchTo(old);
}

/* Rewrite the element pool keeping only the elements of stored rows */
static void
CompactPool(LearnState *st)
{
	uint32	   *np = MemoryContextAllocHuge(st->cxt, sizeof(uint32) * Max(st->pool_live, 1024));
	uint64		len = 0;

	for (int64 r = 0; r < st->nstored; r++)
		for (int i = 0; i < st->natts; i++)
		{
			LearnAttr  *a = &st->atts[i];

			if (a->kind != LEARN_ARR || a->acnt[r] == ARR_NULL)
				continue;
			memcpy(np + len, st->pool + a->aoff[r], sizeof(uint32) * a->acnt[r]);
			a->aoff[r] = len;
			len += a->acnt[r];
		}
	pfree(st->pool);
	st->pool = np;
	st->pool_len = len;
	st->pool_alloc = Max(st->pool_live, 1024);
}

/* Append elements to the pool */
static uint64
PoolAppend(LearnState *st, const uint32 *el, int n)
{
	uint64		off;

	if (st->pool_len + n > st->pool_alloc)
	{
		if (st->pool_len > 2 * st->pool_live + 1000000)
			CompactPool(st);
		if (st->pool_len + n > st->pool_alloc)
		{
			st->pool_alloc = Max(st->pool_alloc * 2, st->pool_len + n);
			st->pool = repalloc_huge(st->pool, sizeof(uint32) * st->pool_alloc);
		}
	}
	off = st->pool_len;
	memcpy(st->pool + off, el, sizeof(uint32) * n);
	st->pool_len += n;
	st->pool_live += n;
	return off;
}

/*
 * A numeric as a double, read from its stored form (base-10000 digits; see
 * numeric.c): exact digits times one power of ten, so the result is the
 * correctly rounded value strtod would give.  False when the value needs the
 * slow path (special values, too many digits, far exponents).
 */
static bool
NumericToDouble(const char *ptr, double *result)
{
	struct varlena *p = pg_detoast_datum_packed((struct varlena *) ptr);
	const char *data = VARDATA_ANY(p);
	int			len = VARSIZE_ANY_EXHDR(p);
	uint16		header;
	int			weight;
	bool		neg;
	int			hdr;
	int			ndigits;
	uint64		mant = 0;
	int			exp10;
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
		1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

	if (len < 2)
		return false;
	memcpy(&header, data, sizeof(uint16));
	if ((header & 0xC000) == 0xC000)
		return false;			/* NaN, infinities */
	if (header & 0x8000)
	{
		/* short format: sign, display scale and weight in the header */
		neg = (header & 0x2000) != 0;
		weight = (header & 0x0040) ? (int) (~0x003F | (header & 0x003F)) : (int) (header & 0x003F);
		hdr = 2;
	}
	else
	{
		int16		w;

		if (len < 4)
			return false;
		neg = (header & 0xC000) == 0x4000;
		memcpy(&w, data + 2, sizeof(int16));
		weight = w;
		hdr = 4;
	}
	ndigits = (len - hdr) / 2;
	if (ndigits == 0)
	{
		*result = 0.0;
		return true;
	}
	if (ndigits > 4)
		return false;			/* may not fit 53 bits */
	for (int i = 0; i < ndigits; i++)
	{
		int16		d;

		memcpy(&d, data + hdr + 2 * i, sizeof(int16));
		mant = mant * 10000 + (uint64) d;
	}
	if (mant >= (UINT64CONST(1) << 53))
		return false;
	exp10 = 4 * (weight - ndigits + 1);
	if (exp10 > 22 || exp10 < -22)
		return false;
	*result = exp10 >= 0 ? (double) mant * pow10[exp10] : (double) mant / pow10[-exp10];
	if (exp10 > 0 && *result >= 9007199254740992.0)
		return false;			/* the product may have been rounded */
	if (neg)
		*result = -*result;
	return true;
}

/*
 * A NaN value as the comparisons of scoring see it: PostgreSQL orders NaN
 * above every number, so against any finite bound it behaves as +Infinity
 * (NaN stays reserved for NULL in the learner's arrays).
 */
static inline double
NotNaN(double x)
{
	return isnan(x) ? INFINITY : x;
}

/*
 * Numeric value of a LEARN_NUM column as a double; NaN and infinite values
 * and dates become +-Infinity, which compare with a bound as scoring does
 */
static double
NumValue(LearnAttr *a, Datum v)
{
	switch (a->numtype)
	{
		case INT2OID:
			return (double) DatumGetInt16(v);
		case INT4OID:
			return (double) DatumGetInt32(v);
		case INT8OID:
			return (double) DatumGetInt64(v);
		case FLOAT4OID:
			return NotNaN((double) DatumGetFloat4(v));
		case FLOAT8OID:
			return NotNaN(DatumGetFloat8(v));
		case DATEOID:
			if (DATE_IS_NOBEGIN(DatumGetDateADT(v)))
				return -INFINITY;
			if (DATE_IS_NOEND(DatumGetDateADT(v)))
				return INFINITY;
			return (double) DatumGetDateADT(v);
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			if (TIMESTAMP_IS_NOBEGIN(DatumGetTimestamp(v)))
				return -INFINITY;
			if (TIMESTAMP_IS_NOEND(DatumGetTimestamp(v)))
				return INFINITY;
			return (double) DatumGetTimestamp(v) / (double) USECS_PER_DAY;
		default:
			{
				double		x;

				if (NumericToDouble(DatumGetPointer(v), &x))
					return x;
				return NotNaN(DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, v)));
			}
	}
}

/* Hash of attribute a's value in a row (order-independent identity) */
static uint64
ValueHash(LearnAttr *a, Datum v, bool isnull)
{
	if (isnull)
		return UINT64CONST(0x2545F4914F6CDD1D);
	switch (a->kind)
	{
		case LEARN_CAT:
			return DatumHash(a, v);
		case LEARN_BOOL:
			return DatumGetBool(v) ? 1 : 2;
		case LEARN_NUM:
			{
				double		x = NumValue(a, v);
				uint64		bits;

				if (x == 0.0)
					x = 0.0;	/* -0 is 0 */
				memcpy(&bits, &x, sizeof(bits));
				return LearnMix64(bits);
			}
		case LEARN_ARR:
			{
				ArrayType  *arr = DatumGetArrayTypeP(v);
				Datum	   *elems;
				bool	   *nulls;
				int			nel;
				uint64		h = 3;

				deconstruct_array(arr, a->vtype, a->vlen, a->vbyval, a->valign,
								  &elems, &nulls, &nel);
				for (int e = 0; e < nel; e++)
					h = LearnMix64(h ^ (nulls[e] ? 7 : DatumHash(a, elems[e])));
				return h;
			}
	}
	return 0;
}

/* Store the value of attribute a of a row in slot r */
static void
StoreValue(LearnState *st, LearnAttr *a, int64 r, Datum v, bool isnull)
{
	switch (a->kind)
	{
		case LEARN_CAT:
			a->codes[r] = isnull ? CODE_NULL : DatumCode(st, a, v);
			break;
		case LEARN_BOOL:
			a->codes[r] = isnull ? CODE_NULL : (DatumGetBool(v) ? 1 : 0);
			break;
		case LEARN_NUM:
			{
				/* NaN marks NULL; infinities fall in the outer bins */
				a->vals[r] = isnull ? get_float8_nan() : NumValue(a, v);
				break;
			}
		case LEARN_ARR:
			{
				if (isnull)
					a->acnt[r] = ARR_NULL;
				else
				{
					ArrayType  *arr = DatumGetArrayTypeP(v);
					Datum	   *elems;
					bool	   *nulls;
					int			nel,
								k = 0;
					uint32	   *codes;

					deconstruct_array(arr, a->vtype, a->vlen, a->vbyval, a->valign,
									  &elems, &nulls, &nel);
					codes = palloc(sizeof(uint32) * Max(nel, 1));
					for (int e = 0; e < nel && k < ARR_MAX_ELEMS; e++)
					{
						uint32		c;
						bool		dup = false;

						if (nulls[e])
							continue;
						c = DatumCode(st, a, elems[e]);
						if (c == CODE_OTHER)
							continue;
						for (int j = 0; j < k; j++)
							if (codes[j] == c)
								dup = true;
						if (!dup)
							codes[k++] = c;
					}
					a->aoff[r] = PoolAppend(st, codes, k);
					a->acnt[r] = (uint16) k;
				}
				break;
			}
	}
}

/*
 * Lower the sample threshold one step (by a quarter) and drop the stored
 * rows at or above it, keeping the others in their order.
 */
static void
LowerThreshold(LearnState *st)
{
	int64		kept = 0;

	st->keep_below -= st->keep_below / 4;
	for (int64 r = 0; r < st->nstored; r++)
	{
		if (st->rowhash[r] >= st->keep_below)
		{
			for (int i = 0; i < st->natts; i++)
			{
				LearnAttr  *a = &st->atts[i];

				if (a->kind == LEARN_ARR && a->acnt[r] != ARR_NULL)
					st->pool_live -= a->acnt[r];
			}
			continue;
		}
		if (kept != r)
		{
			st->y[kept] = st->y[r];
			st->hold[kept] = st->hold[r];
			st->rowhash[kept] = st->rowhash[r];
			for (int i = 0; i < st->natts; i++)
			{
				LearnAttr  *a = &st->atts[i];

				switch (a->kind)
				{
					case LEARN_CAT:
					case LEARN_BOOL:
						a->codes[kept] = a->codes[r];
						break;
					case LEARN_NUM:
						a->vals[kept] = a->vals[r];
						break;
					case LEARN_ARR:
						a->aoff[kept] = a->aoff[r];
						a->acnt[kept] = a->acnt[r];
						break;
				}
			}
		}
		kept++;
	}
	st->nstored = kept;
}

/* Elapsed seconds since start */
double
LearnSecondsSince(TimestampTz start)
{
	return (double) (GetCurrentTimestamp() - start) / 1000000.0;
}

/* DestReceiver: one row of the source */
static bool
LearnReceive(TupleTableSlot *slot, DestReceiver *self)
{
	LearnState *st = ((LearnReceiver *) self)->st;
	MemoryContext old;
	int64		r;
	int			y;
	bool		hold;
	uint64		h,
				key;

	CHECK_FOR_INTERRUPTS();
	slot_getallattrs(slot);
	st->nscanned++;
	if (st->nscanned % LARGE_INPUT == 0)
		ereport(NOTICE,
				(errmsg("icp_learn: %lld rows of %s read",
						(long long) st->nscanned, st->source)));
	if (slot->tts_isnull[0])
		return true;

	if (st->outtype == BOOLOID)
		y = DatumGetBool(slot->tts_values[0]) ? 1 : 0;
	else
	{
		int64		v = (st->outtype == INT2OID) ? DatumGetInt16(slot->tts_values[0]) :
		(st->outtype == INT4OID) ? DatumGetInt32(slot->tts_values[0]) :
		DatumGetInt64(slot->tts_values[0]);

		if (v != 0 && v != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("outcome column \"%s\" must be 0 or 1, found %lld",
							st->outname, (long long) v),
					 errhint("Use a boolean outcome, or 1 for won and 0 for lost.")));
		y = (int) v;
	}
	st->nknown++;

	/* the row's identity: its outcome and values, mixed with the seed */
	old = MemoryContextSwitchTo(st->rowcxt);
	h = LearnMix64((uint64) y + 1);
	for (int i = 0; i < st->natts; i++)
		h = LearnMix64(h ^ (ValueHash(&st->atts[i], slot->tts_values[i + 1],
									  slot->tts_isnull[i + 1]) +
							(uint64) (i + 1) * UINT64CONST(0x9E3779B97F4A7C15)));
	key = LearnMix64(h ^ st->seed_sample);
	hold = st->holdout > 0 &&
		(double) (LearnMix64(h ^ st->seed_split) >> 11) * (1.0 / 9007199254740992.0) < st->holdout;

	/* above the cap, lower the threshold until this row fits or falls out */
	while (key < st->keep_below && st->nstored >= st->cap)
		LowerThreshold(st);
	if (key >= st->keep_below)
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(st->rowcxt);
		return true;
	}
	if (st->nstored >= st->alloc)
		GrowRows(st);
	r = st->nstored++;
	st->y[r] = (uint8) y;
	st->hold[r] = hold ? 1 : 0;
	st->rowhash[r] = key;
	for (int i = 0; i < st->natts; i++)
		StoreValue(st, &st->atts[i], r, slot->tts_values[i + 1],
				   slot->tts_isnull[i + 1]);
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->rowcxt);
	return true;
}

/*
 * Put the stored rows in the order of their hashes, so that the rows (not
 * the order they were read in) decide everything learned from them; also
 * note which numeric columns hold whole numbers only.  Equal hashes are
 * equal rows (up to 64-bit collisions), whose order does not matter.
 */
void
LearnCanonicalOrder(LearnState *st)
{
	int64		n = st->nstored;
	uint32	   *perm;
	void	   *tmp;

	for (int i = 0; i < st->natts; i++)
	{
		LearnAttr  *a = &st->atts[i];

		if (a->kind != LEARN_NUM)
			continue;
		a->integral = !a->isdate;
		for (int64 r = 0; r < n && a->integral; r++)
			if (!isnan(a->vals[r]) && a->vals[r] != floor(a->vals[r]))
				a->integral = false;
	}
	if (n < 2)
		return;
	perm = MemoryContextAllocHuge(st->cxt, sizeof(uint32) * n);
	for (int64 r = 0; r < n; r++)
		perm[r] = (uint32) r;
	LearnRadixSort(st->rowhash, perm, n);
	tmp = MemoryContextAllocHuge(st->cxt, sizeof(uint64) * n);

#define PERMUTE(arr, type) \
	do { \
		type	   *t_ = (type *) tmp; \
		for (int64 r_ = 0; r_ < n; r_++) \
			t_[r_] = (arr)[perm[r_]]; \
		memcpy((arr), t_, sizeof(type) * n); \
	} while (0)

	PERMUTE(st->y, uint8);
	PERMUTE(st->hold, uint8);
	for (int i = 0; i < st->natts; i++)
	{
		LearnAttr  *a = &st->atts[i];

		switch (a->kind)
		{
			case LEARN_CAT:
			case LEARN_BOOL:
				PERMUTE(a->codes, uint32);
				break;
			case LEARN_NUM:
				PERMUTE(a->vals, double);
				break;
			case LEARN_ARR:
				PERMUTE(a->aoff, uint64);
				PERMUTE(a->acnt, uint16);
				break;
		}
		CHECK_FOR_INTERRUPTS();
	}
#undef PERMUTE
	pfree(tmp);
	pfree(perm);
}

/* DestReceiver callbacks with nothing to do */
static void
LearnStartup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
LearnShutdown(DestReceiver *self)
{
}

static void
LearnDestroy(DestReceiver *self)
{
}

/* Set up the DestReceiver that stores every row of the scan */
void
LearnReceiverInit(LearnReceiver *r, LearnState *st)
{
	memset(r, 0, sizeof(*r));
	r->pub.receiveSlot = LearnReceive;
	r->pub.rStartup = LearnStartup;
	r->pub.rShutdown = LearnShutdown;
	r->pub.rDestroy = LearnDestroy;
	r->pub.mydest = DestNone;
	r->st = st;
}
