/*
 * learn_scan.c
 *		icp_learn's one scan of the source: a DestReceiver that stores a
 *		compact encoding of every row.
 *
 * Categorical values and array elements become small integer codes through
 * per-column dictionaries; numbers are kept as doubles (numeric read from
 * its stored digits, not through text); booleans as 0/1.  Above the row cap
 * the rows kept are a reservoir sample, so memory stays bounded.
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

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

/* Code of a value's bytes, adding it when new (CODE_OTHER when full) */
static uint32
DictCode(LearnDict *d, const char *key, uint32 len, MemoryContext cxt)
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
	if (d->nvalues >= DICT_MAX_VALUES)
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

/* Code of a datum of the attribute's value type */
static uint32
DatumCode(LearnState *st, LearnAttr *a, Datum v)
{
	if (a->vbyval)
		return DictCode(&a->dict, (const char *) &v, sizeof(Datum), st->cxt);
	if (a->vlen == -1)
	{
		struct varlena *p = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(v));

		return DictCode(&a->dict, VARDATA_ANY(p), VARSIZE_ANY_EXHDR(p), st->cxt);
	}
	if (a->vlen == -2)
		return DictCode(&a->dict, DatumGetCString(v), strlen(DatumGetCString(v)), st->cxt);
	return DictCode(&a->dict, DatumGetPointer(v), a->vlen, st->cxt);
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

/* Numeric value of a LEARN_NUM column as a double */
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
			return (double) DatumGetFloat4(v);
		case FLOAT8OID:
			return DatumGetFloat8(v);
		default:
			{
				double		x;

				if (NumericToDouble(DatumGetPointer(v), &x))
					return x;
				return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, v));
			}
	}
}

/* Store the value of attribute i of a row in slot r */
static void
StoreValue(LearnState *st, LearnAttr *a, int64 r, Datum v, bool isnull, bool replacing)
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
				double		x = isnull ? get_float8_nan() : NumValue(a, v);

				if (isinf(x))
					x = get_float8_nan();	/* no bin for infinities */
				if (a->integral && !isnan(x) && x != floor(x))
					a->integral = false;
				a->vals[r] = x;
				break;
			}
		case LEARN_ARR:
			{
				if (replacing && a->acnt[r] != ARR_NULL)
					st->pool_live -= a->acnt[r];
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
	bool		replacing = false;
	bool		hold;

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
	hold = st->holdout > 0 && pg_prng_double(&st->rng_split) < st->holdout;

	if (st->nstored < st->cap)
	{
		if (st->nstored >= st->alloc)
			GrowRows(st);
		r = st->nstored++;
	}
	else
	{
		uint64		j = pg_prng_uint64_range(&st->rng_sample, 0, st->nknown - 1);

		if ((int64) j >= st->cap)
			return true;
		r = (int64) j;
		replacing = true;
	}

	old = MemoryContextSwitchTo(st->rowcxt);
	st->y[r] = (uint8) y;
	st->hold[r] = hold ? 1 : 0;
	for (int i = 0; i < st->natts; i++)
		StoreValue(st, &st->atts[i], r, slot->tts_values[i + 1],
				   slot->tts_isnull[i + 1], replacing);
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->rowcxt);
	return true;
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
