/*
 * pgstub.c
 *		A minimal stand-in for the PostgreSQL backend, so that the rule parser
 *		and the binary rule decoder (src/rule_parse.c, src/rule_io.c) run
 *		inside a libFuzzer process.
 *
 * Memory is an arena freed after every input; ereport(ERROR) longjmps to the
 * innermost PG_TRY like the real backend; numbers, intervals and regular
 * expressions are checked by simple stand-ins (the parser's own logic is
 * what is fuzzed).  Functions only the SQL entry points use abort().
 */
#include "postgres.h"

#include <ctype.h>
#include <stdarg.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pgstub.h"

#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif

/* ---- memory: every allocation is freed by StubResetMemory() ---- */

typedef struct Chunk
{
	struct Chunk *next;
	struct Chunk *prev;
	size_t		size;
	max_align_t align[];
} Chunk;

static Chunk arena = {&arena, &arena, 0};
MemoryContext CurrentMemoryContext = NULL;
MemoryContext ErrorContext = NULL;
volatile sig_atomic_t InterruptPending = false;
sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;

/* Allocate a tracked chunk */
static void *
StubAlloc(size_t size, bool zero)
{
	Chunk	   *c;

	if (size > MaxAllocSize)
		elog(ERROR, "invalid memory alloc request size %zu", size);
	c = malloc(sizeof(Chunk) + size);
	if (c == NULL)
		abort();
	if (zero)
		memset(c->align, 0, size);
	c->size = size;
	c->next = arena.next;
	c->prev = &arena;
	arena.next->prev = c;
	arena.next = c;
	return c->align;
}

/* Free every chunk allocated since the last reset */
void
StubResetMemory(void)
{
	Chunk	   *c = arena.next;

	while (c != &arena)
	{
		Chunk	   *next = c->next;

		free(c);
		c = next;
	}
	arena.next = arena.prev = &arena;
}

void *
palloc(Size size)
{
	return StubAlloc(size, false);
}

void *
palloc0(Size size)
{
	return StubAlloc(size, true);
}

void *
palloc_extended(Size size, int flags)
{
	return StubAlloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void
pfree(void *pointer)
{
	Chunk	   *c = (Chunk *) ((char *) pointer - offsetof(Chunk, align));

	c->prev->next = c->next;
	c->next->prev = c->prev;
	free(c);
}

void *
repalloc(void *pointer, Size size)
{
	Chunk	   *c = (Chunk *) ((char *) pointer - offsetof(Chunk, align));
	void	   *n = StubAlloc(size, false);

	memcpy(n, pointer, Min(size, c->size));
	pfree(pointer);
	return n;
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

char *
pstrdup(const char *in)
{
	return pnstrdup(in, strlen(in));
}

char *
psprintf(const char *fmt,...)
{
	va_list		args;
	int			n;
	char	   *buf;

	va_start(args, fmt);
	n = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	buf = palloc(n + 1);
	va_start(args, fmt);
	vsnprintf(buf, n + 1, fmt, args);
	va_end(args);
	return buf;
}

/* ---- StringInfo ---- */

void
initStringInfo(StringInfo str)
{
	str->maxlen = 1024;
	str->data = palloc(str->maxlen);
	resetStringInfo(str);
}

void
resetStringInfo(StringInfo str)
{
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

void
enlargeStringInfo(StringInfo str, int needed)
{
	int			newlen;

	if (needed < 0 || ((Size) needed) >= (MaxAllocSize - (Size) str->len))
		elog(ERROR, "out of memory");
	needed += str->len + 1;
	if (needed <= str->maxlen)
		return;
	newlen = 2 * str->maxlen;
	while (needed > newlen)
		newlen = 2 * newlen;
	str->data = repalloc(str->data, newlen);
	str->maxlen = newlen;
}

/* 16 made the data a void pointer */
#if PG_VERSION_NUM >= 160000
void
appendBinaryStringInfo(StringInfo str, const void *data, int datalen)
#else
void
appendBinaryStringInfo(StringInfo str, const char *data, int datalen)
#endif
{
	enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, datalen);
	str->len += datalen;
	str->data[str->len] = '\0';
}

void
appendStringInfoString(StringInfo str, const char *s)
{
	appendBinaryStringInfo(str, s, strlen(s));
}

void
appendStringInfoChar(StringInfo str, char ch)
{
	appendBinaryStringInfo(str, &ch, 1);
}

void
appendStringInfoSpaces(StringInfo str, int count)
{
	while (count-- > 0)
		appendStringInfoChar(str, ' ');
}

void
appendStringInfo(StringInfo str, const char *fmt,...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	enlargeStringInfo(str, n);
	va_start(args, fmt);
	vsnprintf(str->data + str->len, n + 1, fmt, args);
	va_end(args);
	str->len += n;
}

/* ---- errors: ERROR longjmps to the innermost PG_TRY ---- */

static int	cur_elevel;
static int	cur_sqlerrcode;
static char cur_message[512];

bool
errstart(int elevel, const char *domain)
{
	cur_elevel = elevel;
	cur_sqlerrcode = ERRCODE_INTERNAL_ERROR;
	cur_message[0] = '\0';
	return elevel >= ERROR;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

int
errcode(int sqlerrcode)
{
	cur_sqlerrcode = sqlerrcode;
	return 0;
}

/* Format a message, which also checks its arguments match the format */
static int
StubFormat(const char *fmt, va_list args)
{
	vsnprintf(cur_message, sizeof(cur_message), fmt, args);
	return 0;
}

int
errmsg(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	StubFormat(fmt, args);
	va_end(args);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	StubFormat(fmt, args);
	va_end(args);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	char		tmp[512];
	va_list		args;

	va_start(args, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, args);
	va_end(args);
	return 0;
}

int
errhint(const char *fmt,...)
{
	char		tmp[512];
	va_list		args;

	va_start(args, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, args);
	va_end(args);
	return 0;
}

int
errposition(int cursorpos)
{
	return 0;
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (cur_elevel < ERROR)
		return;
	StubLastErrorCode = cur_sqlerrcode;
	if (PG_exception_stack == NULL)
		abort();
	siglongjmp(*PG_exception_stack, 1);
}

int			StubLastErrorCode = 0;

ErrorData *
CopyErrorData(void)
{
	ErrorData  *e = palloc0(sizeof(ErrorData));

	e->elevel = cur_elevel;
	e->sqlerrcode = cur_sqlerrcode;
	e->message = pstrdup(cur_message);
	return e;
}

void
FlushErrorState(void)
{
}

void
pg_re_throw(void)
{
	if (PG_exception_stack == NULL)
		abort();
	siglongjmp(*PG_exception_stack, 1);
}

/* ---- stack depth and interrupts ---- */

char	   *StubStackBase = NULL;

void
check_stack_depth(void)
{
	char		here;

	if (StubStackBase && StubStackBase - &here > 1024L * 1024L)
		ereport(ERROR,
				(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
				 errmsg("stack depth limit exceeded")));
}

void
ProcessInterrupts(void)
{
}

/* ---- fmgr: DirectFunctionCall for the stand-in functions below ---- */

Datum
DirectFunctionCall1Coll(PGFunction func, Oid collation, Datum arg1)
{
	LOCAL_FCINFO(fcinfo, 1);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, 1, collation, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[0].isnull = false;
	result = (*func) (fcinfo);
	if (fcinfo->isnull)
		abort();
	return result;
}

Datum
DirectFunctionCall2Coll(PGFunction func, Oid collation, Datum arg1, Datum arg2)
{
	LOCAL_FCINFO(fcinfo, 2);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, 2, collation, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = arg2;
	fcinfo->args[1].isnull = false;
	result = (*func) (fcinfo);
	if (fcinfo->isnull)
		abort();
	return result;
}

Datum
DirectFunctionCall3Coll(PGFunction func, Oid collation, Datum arg1, Datum arg2,
						Datum arg3)
{
	LOCAL_FCINFO(fcinfo, 3);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, 3, collation, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = arg2;
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = arg3;
	fcinfo->args[2].isnull = false;
	result = (*func) (fcinfo);
	if (fcinfo->isnull)
		abort();
	return result;
}

#if PG_VERSION_NUM >= 160000
/*
 * DirectInputFunctionCallSafe (16 and later; src/compat.h calls it): the
 * stand-in input functions below raise their errors; data exceptions are
 * caught here and saved as soft errors would be.
 */
bool
DirectInputFunctionCallSafe(PGFunction func, char *str, Oid typioparam,
							int32 typmod, fmNodePtr escontext, Datum *result)
{
	ErrorSaveContext *es = (ErrorSaveContext *) escontext;
	volatile bool ok = true;

	PG_TRY();
	{
		*result = DirectFunctionCall3(func, CStringGetDatum(str),
									  ObjectIdGetDatum(typioparam),
									  Int32GetDatum(typmod));
	}
	PG_CATCH();
	{
		ErrorData  *edata = CopyErrorData();

		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		es->error_occurred = true;
		if (es->details_wanted)
			es->error_data = edata;
		ok = false;
	}
	PG_END_TRY();
	return ok;
}
#endif

/*
 * numeric_in: accepts [+|-] digits [. digits] [e [+|-] digits] like the real
 * one (exponent within +-1000) and keeps the value as numeric_out prints
 * it: plain decimal, no leading zeros, the scale kept, no "-0".
 */
Datum
numeric_in(PG_FUNCTION_ARGS)
{
	const char *s = PG_GETARG_CSTRING(0);
	const char *p = s;
	bool		neg = false;
	StringInfoData digits;
	int			nint = 0;
	int			nfrac = 0;
	long		exp = 0;
	int			point;
	int			scale;
	int			i;
	bool		nonzero = false;
	StringInfoData out;

	while (isspace((unsigned char) *p))
		p++;
	if (*p == '+' || *p == '-')
		neg = (*p++ == '-');
	initStringInfo(&digits);
	while (isdigit((unsigned char) *p))
		appendStringInfoChar(&digits, *p++), nint++;
	if (*p == '.')
	{
		p++;
		while (isdigit((unsigned char) *p))
			appendStringInfoChar(&digits, *p++), nfrac++;
	}
	if (nint + nfrac == 0)
		goto bad;
	if (*p == 'e' || *p == 'E')
	{
		bool		eneg = false;

		p++;
		if (*p == '+' || *p == '-')
			eneg = (*p++ == '-');
		if (!isdigit((unsigned char) *p))
			goto bad;
		while (isdigit((unsigned char) *p))
		{
			exp = exp * 10 + (*p++ - '0');
			if (exp > 1000)
				goto bad;
		}
		if (eneg)
			exp = -exp;
	}
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '\0')
		goto bad;

	/* digits with the decimal point after "point" of them */
	point = nint + (int) exp;
	scale = Max(nfrac - (int) exp, 0);
	initStringInfo(&out);
	for (i = 0; i < digits.len; i++)
		if (digits.data[i] != '0')
			nonzero = true;
	if (neg && nonzero)
		appendStringInfoChar(&out, '-');
	/* integer part without leading zeros */
	{
		bool		started = false;

		for (i = 0; i < point; i++)
		{
			char		d = i < digits.len ? digits.data[i] : '0';

			if (d != '0' || started)
			{
				appendStringInfoChar(&out, d);
				started = true;
			}
		}
		if (!started)
			appendStringInfoChar(&out, '0');
	}
	if (scale > 0)
	{
		appendStringInfoChar(&out, '.');
		for (i = point; i < point + scale; i++)
			appendStringInfoChar(&out, (i >= 0 && i < digits.len) ? digits.data[i] : '0');
	}
	PG_RETURN_CSTRING(out.data);

bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type numeric: \"%s\"", s)));
	PG_RETURN_NULL();
}

Datum
numeric_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(pstrdup(PG_GETARG_CSTRING(0)));
}

/* The setting interval_in reads; the stand-in below ignores it */
int			IntervalStyle = INTSTYLE_POSTGRES;

/*
 * interval_in: needs a digit; the interval is that many days (the first
 * number in the text, negative after a leading '-', clamped to int32), so
 * the WITHIN range checks still see small, negative and huge values
 */
Datum
interval_in(PG_FUNCTION_ARGS)
{
	const char *s = PG_GETARG_CSTRING(0);
	const char *d = strpbrk(s, "0123456789");
	Interval   *iv;
	int64		days = 0;

	if (d == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
				 errmsg("invalid input syntax for type interval: \"%s\"", s)));
	for (; *d >= '0' && *d <= '9'; d++)
		days = Min(days * 10 + (*d - '0'), (int64) PG_INT32_MAX);
	iv = palloc0(sizeof(Interval));
	iv->day = (int32) (s[0] == '-' ? -days : days);
	PG_RETURN_INTERVAL_P(iv);
}

/* ---- regular expressions: only balanced parentheses are checked ---- */

int
pg_regcomp(regex_t *re, const pg_wchar *string, size_t len, int flags, Oid collation)
{
	int			depth = 0;
	size_t		i;

	memset(re, 0, sizeof(*re));
	for (i = 0; i < len; i++)
	{
		if (string[i] == '(')
			depth++;
		else if (string[i] == ')' && --depth < 0)
			return REG_EPAREN;
	}
	return depth == 0 ? REG_OKAY : REG_EPAREN;
}

size_t
pg_regerror(int errcode, const regex_t *preg, char *errbuf, size_t errbuf_size)
{
	return snprintf(errbuf, errbuf_size, "parentheses () not balanced");
}

void
pg_regfree(regex_t *re)
{
}

/* ---- multibyte: the server encoding is UTF-8 ---- */

int
pg_mblen(const char *mbstr)
{
	return pg_utf_mblen((const unsigned char *) mbstr);
}

bool
pg_verifymbstr(const char *mbstr, int len, bool noError)
{
	while (len > 0)
	{
		int			l = pg_utf_mblen((const unsigned char *) mbstr);

		if (*mbstr == '\0' || l > len || !pg_utf8_islegal((const unsigned char *) mbstr, l))
		{
			if (noError)
				return false;
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("invalid byte sequence for encoding \"UTF8\"")));
		}
		mbstr += l;
		len -= l;
	}
	return true;
}

int
pg_mbstrlen_with_len(const char *mbstr, int len)
{
	int			n = 0;

	while (len > 0 && *mbstr)
	{
		int			l = pg_mblen(mbstr);

		len -= l;
		mbstr += l;
		n++;
	}
	return n;
}

int
pg_mbcharcliplen(const char *mbstr, int len, int limit)
{
	int			clen = 0;
	int			nch = 0;

	while (len > 0 && *mbstr)
	{
		int			l = pg_mblen(mbstr);

		nch++;
		if (nch > limit)
			break;
		clen += l;
		len -= l;
		mbstr += l;
	}
	return clen;
}

int
pg_mb2wchar_with_len(const char *from, pg_wchar *to, int len)
{
	int			n = 0;

	while (len > 0 && *from)
	{
		int			l = pg_utf_mblen((const unsigned char *) from);

		if (l > len)
			break;
		*to++ = (unsigned char) *from;	/* the stand-in regex looks at ASCII only */
		from += l;
		len -= l;
		n++;
	}
	*to = 0;
	return n;
}

/* ---- identifiers ---- */

bool
scanner_isspace(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f';
}

char *
downcase_identifier(const char *ident, int len, bool warn, bool truncate)
{
	char	   *result = palloc(len + 1);
	int			i;

	for (i = 0; i < len; i++)
		result[i] = (ident[i] >= 'A' && ident[i] <= 'Z') ? ident[i] + ('a' - 'A') : ident[i];
	result[len] = '\0';
	return result;
}

/* quote_identifier: quotes anything but a plain lower-case identifier */
const char *
quote_identifier(const char *ident)
{
	const char *p;
	bool		safe = (ident[0] >= 'a' && ident[0] <= 'z') || ident[0] == '_';
	StringInfoData buf;

	for (p = ident; *p && safe; p++)
		safe = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (safe && strcmp(ident, "select") != 0 && strcmp(ident, "default") != 0)
		return ident;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '"');
	for (p = ident; *p; p++)
	{
		if (*p == '"')
			appendStringInfoChar(&buf, '"');
		appendStringInfoChar(&buf, *p);
	}
	appendStringInfoChar(&buf, '"');
	return buf.data;
}

/* ---- only the SQL entry points use these; the fuzzer never calls them ---- */

void
pg_qsort(void *base, size_t nel, size_t elsize, int (*cmp) (const void *, const void *))
{
	qsort(base, nel, elsize, cmp);
}

text *
cstring_to_text(const char *s)
{
	abort();
}

struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	abort();
}

struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	abort();
}

#define NOT_IN_FUZZER(name) void name(void); void name(void) { abort(); }
NOT_IN_FUZZER(construct_array)
NOT_IN_FUZZER(hash_bytes)
NOT_IN_FUZZER(hash_bytes_extended)
NOT_IN_FUZZER(pq_begintypsend)
NOT_IN_FUZZER(pq_endtypsend)
NOT_IN_FUZZER(pq_sendbytes)
