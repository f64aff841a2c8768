/*
 * rule_parse.c
 *		Tokenizer and recursive-descent parser for the rule language.
 *
 * Turns rule text (the grammar is in rule.h) into an IcpNode tree.  Keywords are
 * case-insensitive, plain identifiers are folded to lower case, numbers are
 * canonicalised through numeric_in/numeric_out, AND/OR are flattened, and
 * regular expressions, LIKE patterns and WITHIN intervals are validated here
 * so that a stored rule never fails later for a reason visible in its text.
 * Time is linear in the length of the text; nesting is limited to
 * ICP_RULE_MAX_DEPTH.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "rule.h"

/* Longest rule text or token quoted in an error message, in characters */
#define ICP_MSG_MAX_CHARS 100

/* Largest exponent accepted in 1e6 notation (1e1000 is a 1001-digit number) */
#define ICP_MAX_EXPONENT 1000

typedef enum IcpTokType
{
	TOK_END,
	TOK_IDENT,					/* plain identifier or keyword, folded */
	TOK_QIDENT,					/* "quoted identifier", unescaped */
	TOK_STRING,					/* 'string', unescaped */
	TOK_NUMBER,					/* unsigned number as written */
	TOK_EQ,
	TOK_NE,
	TOK_LT,
	TOK_LE,
	TOK_GT,
	TOK_GE,
	TOK_REGEX,
	TOK_IREGEX,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_COMMA,
	TOK_DOT,
	TOK_PLUS,
	TOK_MINUS
} IcpTokType;

typedef struct IcpToken
{
	IcpTokType	type;
	int			start;			/* byte offset of the token in the text */
	int			end;			/* byte offset just past it */
	char	   *val;			/* IDENT, QIDENT, STRING, NUMBER: its value */
	int			vallen;
} IcpToken;

typedef struct IcpParser
{
	const char *str;			/* the rule text (not NUL-terminated) */
	int			len;
	int			pos;			/* scan position */
	IcpToken	tok;			/* current token */
	int			depth;			/* current NOT/parenthesis nesting */
	const char *what;			/* "rule" or "attribute": what the text is */
} IcpParser;

/* Keywords of the rule language outside the operator table, lower case */
static const char *const rule_keywords[] = {
	"and", "false", "not", "or", "true"
};

static IcpNode *ParseOr(IcpParser *p);
static void ValidateLikePattern(IcpParser *p, const IcpToken *tok, IcpOp op);
static void ValidateRegex(IcpParser *p, const IcpToken *tok, IcpOp op);
static void ValidateInterval(IcpParser *p, const IcpToken *tok, IcpOp op);

/* The operator table's rule-layer columns (rule_ops.h), in IcpOp order */
#define ICP_OPERATOR(op, name, form, negation, arity, literals, validate, hint, bind, eval_json) \
	{op, name, form, negation, arity, literals, hint},
static const IcpOpSyntax op_syntax[] = {
#include "rule_ops.h"
};
#undef ICP_OPERATOR

/* ... and the parser's checks of string literals */
typedef void (*IcpValidateFn) (IcpParser *p, const IcpToken *tok, IcpOp op);

#define ICP_OPERATOR(op, name, form, negation, arity, literals, validate, hint, bind, eval_json) \
	validate,
static const IcpValidateFn op_validate[] = {
#include "rule_ops.h"
};
#undef ICP_OPERATOR

StaticAssertDecl(lengthof(op_syntax) == ICP_OP_MAX,
				 "rule_ops.h must have one line per IcpOp");

/* The syntax of an operator (op must be valid) */
const IcpOpSyntax *
IcpOpSyntaxOf(IcpOp op)
{
	Assert(op >= ICP_OP_EQ && op <= ICP_OP_MAX);
	Assert(op_syntax[op - 1].op == op);
	return &op_syntax[op - 1];
}

/* Does the upper-case operator name contain word (lower case) as a keyword? */
static bool
NameHasWord(const char *name, const char *word)
{
	int			wlen = strlen(word);
	const char *s = name;

	while (*s)
	{
		const char *e = strchr(s, ' ');
		int			len = e ? (int) (e - s) : (int) strlen(s);

		if (len == wlen && pg_strncasecmp(s, word, len) == 0)
			return true;
		s += len;
		while (*s == ' ')
			s++;
	}
	return false;
}

/* Is word (lower case) a keyword of the rule language? */
bool
IcpIsRuleKeyword(const char *word)
{
	for (int i = 0; i < lengthof(rule_keywords); i++)
	{
		if (strcmp(word, rule_keywords[i]) == 0)
			return true;
	}
	for (int i = 0; i < lengthof(op_syntax); i++)
	{
		if (op_syntax[i].form == OPF_WORDS && NameHasWord(op_syntax[i].name, word))
			return true;
	}
	return false;
}

/* Copy of s[0..len) cut to ICP_MSG_MAX_CHARS characters, "..." if cut */
static char *
ClipForMessage(const char *s, int len)
{
	int			clip = pg_mbcharcliplen(s, len, ICP_MSG_MAX_CHARS);
	char	   *res = palloc(clip + 4);

	memcpy(res, s, clip);
	if (clip < len)
		memcpy(res + clip, "...", 4);
	else
		res[clip] = '\0';
	return res;
}

/* The rule text as quoted in error messages */
static char *
RuleForMessage(IcpParser *p)
{
	return ClipForMessage(p->str, p->len);
}

/* 1-based character position of a byte offset in the rule text */
static int
CharPosition(IcpParser *p, int offset)
{
	return pg_mbstrlen_with_len(p->str, offset) + 1;
}

/* Report a syntax error at bytes [start, end) of the rule, or at its end */
pg_noreturn static void
SyntaxErrorAt(IcpParser *p, int start, int end, const char *what,
			  const char *hint)
{
	if (start >= p->len)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s at end of %s \"%s\"", what, p->what, RuleForMessage(p)),
				 errdetail("The error is at character %d.",
						   CharPosition(p, p->len)),
				 hint ? errhint("%s", hint) : 0));
	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("%s at or near \"%s\" in %s \"%s\"", what,
					ClipForMessage(p->str + start, end - start),
					p->what, RuleForMessage(p)),
			 errdetail("The error is at character %d.",
					   CharPosition(p, start)),
			 hint ? errhint("%s", hint) : 0));
}

/* Report a syntax error at the current token */
pg_noreturn static void
SyntaxError(IcpParser *p, const char *hint)
{
	SyntaxErrorAt(p, p->tok.start, p->tok.end, "syntax error", hint);
}

/* Can c start a plain identifier? */
static inline bool
IsIdentStart(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		c >= 0x80;
}

/* Can c continue a plain identifier? */
static inline bool
IsIdentCont(unsigned char c)
{
	return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '$';
}

/* Is c an ASCII digit? */
static inline bool
IsDigit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Scan a quoted token ('string' or "identifier") starting at the opening
 * quote; doubled quotes stand for one.  Sets tok->val and returns the end.
 */
static int
ScanQuoted(IcpParser *p, int start, char quote, IcpToken *tok)
{
	const char *s = p->str;
	int			i = start + 1;
	int			ndoubled = 0;
	char	   *out;
	int			o = 0;

	for (;;)
	{
		if (i >= p->len)
			SyntaxErrorAt(p, start, p->len,
						  quote == '\'' ? "unterminated quoted string" :
						  "unterminated quoted identifier",
						  quote == '\'' ?
						  "Close the string with a single quote; write '' for a quote inside it." :
						  "Close the identifier with a double quote; write \"\" for a quote inside it.");
		if (s[i] == quote)
		{
			if (i + 1 < p->len && s[i + 1] == quote)
			{
				ndoubled++;
				i += 2;
				continue;
			}
			break;
		}
		i++;
	}

	/* i is at the closing quote */
	out = palloc(i - start - ndoubled);
	for (int j = start + 1; j < i; j++)
	{
		out[o++] = s[j];
		if (s[j] == quote)
			j++;
	}
	out[o] = '\0';
	tok->val = out;
	tok->vallen = o;
	return i + 1;
}

/* Scan an unsigned number: digits [. digits] [e [+-] digits], or .digits */
static int
ScanNumber(IcpParser *p, int start, IcpToken *tok)
{
	const char *s = p->str;
	int			i = start;

	while (i < p->len && IsDigit(s[i]))
		i++;
	if (i < p->len && s[i] == '.')
	{
		i++;
		while (i < p->len && IsDigit(s[i]))
			i++;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E'))
	{
		int			j = i + 1;

		if (j < p->len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < p->len && IsDigit(s[j]))
		{
			while (j < p->len && IsDigit(s[j]))
				j++;
			i = j;
		}
	}
	tok->val = pnstrdup(s + start, i - start);
	tok->vallen = i - start;
	return i;
}

/* Advance p->tok to the next token */
static void
NextToken(IcpParser *p)
{
	const char *s = p->str;
	int			i = p->pos;
	IcpToken   *tok = &p->tok;
	char		c;

	CHECK_FOR_INTERRUPTS();

	while (i < p->len && scanner_isspace(s[i]))
		i++;
	tok->start = i;
	tok->val = NULL;
	tok->vallen = 0;
	if (i >= p->len)
	{
		tok->type = TOK_END;
		tok->end = p->pos = i;
		return;
	}

	c = s[i];
	if (IsIdentStart((unsigned char) c))
	{
		int			j = i + 1;

		while (j < p->len && IsIdentCont((unsigned char) s[j]))
			j++;
		tok->type = TOK_IDENT;
		tok->val = downcase_identifier(s + i, j - i, false, false);
		tok->vallen = strlen(tok->val);
		i = j;
	}
	else if (IsDigit(c) || (c == '.' && i + 1 < p->len && IsDigit(s[i + 1])))
	{
		tok->type = TOK_NUMBER;
		i = ScanNumber(p, i, tok);
	}
	else if (c == '\'')
	{
		tok->type = TOK_STRING;
		i = ScanQuoted(p, i, '\'', tok);
	}
	else if (c == '"')
	{
		tok->type = TOK_QIDENT;
		i = ScanQuoted(p, i, '"', tok);
		if (tok->vallen == 0)
			SyntaxErrorAt(p, tok->start, i, "zero-length quoted identifier",
						  "An attribute name cannot be empty.");
	}
	else
	{
		char		n = (i + 1 < p->len) ? s[i + 1] : '\0';

		i++;
		switch (c)
		{
			case '=':
				tok->type = TOK_EQ;
				break;
			case '<':
				tok->type = TOK_LT;
				if (n == '=')
					tok->type = TOK_LE, i++;
				else if (n == '>')
					tok->type = TOK_NE, i++;
				break;
			case '>':
				tok->type = TOK_GT;
				if (n == '=')
					tok->type = TOK_GE, i++;
				break;
			case '!':
				if (n != '=')
					SyntaxErrorAt(p, tok->start, i, "syntax error",
								  "Write \"not equal\" as <> or !=.");
				tok->type = TOK_NE;
				i++;
				break;
			case '~':
				tok->type = TOK_REGEX;
				if (n == '*')
					tok->type = TOK_IREGEX, i++;
				break;
			case '(':
				tok->type = TOK_LPAREN;
				break;
			case ')':
				tok->type = TOK_RPAREN;
				break;
			case ',':
				tok->type = TOK_COMMA;
				break;
			case '.':
				tok->type = TOK_DOT;
				break;
			case '+':
				tok->type = TOK_PLUS;
				break;
			case '-':
				tok->type = TOK_MINUS;
				break;
			default:
				SyntaxErrorAt(p, tok->start, tok->start + pg_mblen(s + tok->start),
							  "syntax error", NULL);
		}
	}
	tok->end = p->pos = i;
}

/* Is the current token the (unquoted) keyword kw? */
static inline bool
IsKeyword(IcpParser *p, const char *kw)
{
	return p->tok.type == TOK_IDENT && strcmp(p->tok.val, kw) == 0;
}

/* Consume a token of the given type or report a syntax error */
static void
Expect(IcpParser *p, IcpTokType type, const char *hint)
{
	if (p->tok.type != type)
		SyntaxError(p, hint);
	NextToken(p);
}

/* Enter one level of NOT/parenthesis nesting, enforcing the limits */
static void
EnterNesting(IcpParser *p)
{
	check_stack_depth();
	if (++p->depth > ICP_RULE_MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
				 errmsg("rule \"%s\" is nested too deeply", RuleForMessage(p)),
				 errdetail("A rule may be nested at most %d levels deep; the limit is exceeded at character %d.",
						   ICP_RULE_MAX_DEPTH, CharPosition(p, p->tok.start)),
				 errhint("Parentheses, NOT, and AND inside OR (or OR inside AND) each add a level.")));
}

/* A new node with the given tag */
static IcpNode *
NewNode(IcpNodeTag tag)
{
	IcpNode    *node = palloc0(sizeof(IcpNode));

	node->tag = tag;
	return node;
}

/* Append child to a growing array of nodes */
static void
AppendChild(IcpNode ***arr, int *n, int *cap, IcpNode *child)
{
	if (*n >= *cap)
	{
		*cap = (*cap == 0) ? 4 : *cap * 2;
		*arr = (*arr == NULL) ? palloc(*cap * sizeof(IcpNode *)) :
			repalloc(*arr, *cap * sizeof(IcpNode *));
	}
	(*arr)[(*n)++] = child;
}

/*
 * Call a type input function (numeric_in, interval_in) on s; on a data
 * exception return 0 and its message in *errmsg_out, so that the caller can
 * report it in the rule's terms.  Other errors propagate.
 */
static Datum
CallInputCatching(PGFunction fn, const char *s, char **errmsg_out)
{
	Datum		result = (Datum) 0;

	*errmsg_out = NULL;
	if (!IcpInputCallSafe(fn, s, &result, errmsg_out))
		return (Datum) 0;
	return result;
}

/* Does a scanned number have an exponent beyond +-ICP_MAX_EXPONENT? */
static bool
ExponentTooLarge(const char *num)
{
	const char *e = strpbrk(num, "eE");
	int			exp = 0;

	if (e == NULL)
		return false;
	e++;
	if (*e == '+' || *e == '-')
		e++;
	for (; *e; e++)
	{
		exp = exp * 10 + (*e - '0');
		if (exp > ICP_MAX_EXPONENT)
			return true;
	}
	return false;
}

/* Parse [+|-] number at the current token into a canonical NUMBER literal */
static void
ParseNumber(IcpParser *p, IcpLiteral *lit)
{
	int			start = p->tok.start;
	bool		minus = false;
	char	   *text;
	char	   *err;
	Datum		num = (Datum) 0;

	if (p->tok.type == TOK_PLUS || p->tok.type == TOK_MINUS)
	{
		minus = (p->tok.type == TOK_MINUS);
		NextToken(p);
		if (p->tok.type != TOK_NUMBER)
			SyntaxError(p, "A sign must be followed by a number.");
	}
	text = minus ? psprintf("-%s", p->tok.val) : p->tok.val;
	err = NULL;
	if (ExponentTooLarge(p->tok.val))
		err = psprintf("the exponent may be at most %d", ICP_MAX_EXPONENT);
	else
		num = CallInputCatching(numeric_in, text, &err);
	if (err != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("number \"%s\" is out of range in rule \"%s\"",
						ClipForMessage(p->str + start, p->tok.end - start),
						RuleForMessage(p)),
				 errdetail("The number is at character %d: %s.",
						   CharPosition(p, start), err)));
	lit->type = ICP_LIT_NUMBER;
	lit->str = DatumGetCString(DirectFunctionCall1(numeric_out, num));
	lit->len = strlen(lit->str);
	lit->boolval = false;
	NextToken(p);
}

/* Parse one literal: [+|-] number, 'string', TRUE or FALSE */
static void
ParseLiteral(IcpParser *p, IcpLiteral *lit)
{
	switch (p->tok.type)
	{
		case TOK_PLUS:
		case TOK_MINUS:
		case TOK_NUMBER:
			ParseNumber(p, lit);
			return;
		case TOK_STRING:
			lit->type = ICP_LIT_STRING;
			lit->str = p->tok.val;
			lit->len = p->tok.vallen;
			lit->boolval = false;
			NextToken(p);
			return;
		case TOK_IDENT:
			if (IsKeyword(p, "true") || IsKeyword(p, "false"))
			{
				lit->type = ICP_LIT_BOOL;
				lit->str = NULL;
				lit->len = 0;
				lit->boolval = IsKeyword(p, "true");
				NextToken(p);
				return;
			}
			break;
		case TOK_QIDENT:
			SyntaxError(p, "Strings are written in single quotes; double quotes are for attribute names.");
		default:
			break;
	}
	SyntaxError(p, "Expected a literal: a number, a 'string', TRUE or FALSE.");
}

/* Parse '(' literal { ',' literal } ')' into pred->lits */
static void
ParseLiteralList(IcpParser *p, IcpNode *pred)
{
	int			cap = 8;

	Expect(p, TOK_LPAREN, "Expected a parenthesised list of literals, as in (1, 2, 3).");
	pred->lits = palloc(cap * sizeof(IcpLiteral));
	pred->nlits = 0;
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (pred->nlits >= cap)
		{
			cap *= 2;
			pred->lits = repalloc(pred->lits, cap * sizeof(IcpLiteral));
		}
		ParseLiteral(p, &pred->lits[pred->nlits++]);
		if (p->tok.type == TOK_RPAREN)
			break;
		Expect(p, TOK_COMMA, "Expected a comma or a closing parenthesis in the list.");
	}
	NextToken(p);
}

/* Check that a LIKE pattern does not end with its escape character */
static void
ValidateLikePattern(IcpParser *p, const IcpToken *tok, IcpOp op)
{
	const char *s = tok->val;
	int			i = 0;

	while (i < tok->vallen)
	{
		if (s[i] == '\\')
		{
			if (i + 1 >= tok->vallen)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_ESCAPE_SEQUENCE),
						 errmsg("LIKE pattern must not end with escape character in rule \"%s\"",
								RuleForMessage(p)),
						 errdetail("The pattern is at character %d.",
								   CharPosition(p, tok->start)),
						 errhint("Write \\\\ for a literal backslash.")));
			i++;
		}
		i += pg_mblen(s + i);
	}
}

/* Compile a regular expression once to make sure it is valid */
static void
ValidateRegex(IcpParser *p, const IcpToken *tok, IcpOp op)
{
	bool		icase = (op == ICP_OP_IREGEX);
	pg_wchar   *wpat = palloc((tok->vallen + 1) * sizeof(pg_wchar));
	int			wlen = pg_mb2wchar_with_len(tok->val, wpat, tok->vallen);
	regex_t		re;
	int			rc;

	rc = pg_regcomp(&re, wpat, wlen, REG_ADVANCED | (icase ? REG_ICASE : 0),
					DEFAULT_COLLATION_OID);
	if (rc != REG_OKAY)
	{
		char		errstr[100];

		/* a cancel stops compilation (REG_CANCEL before 16): serve it */
		CHECK_FOR_INTERRUPTS();
		pg_regerror(rc, &re, errstr, sizeof(errstr));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
				 errmsg("invalid regular expression in rule \"%s\": %s",
						RuleForMessage(p), errstr),
				 errdetail("The regular expression is at character %d.",
						   CharPosition(p, tok->start))));
	}
	pg_regfree(&re);
	pfree(wpat);
}

/*
 * Parse interval text as interval_in does with IntervalStyle set to style;
 * NULL (and the message in *err) if it is not an interval.  Only the
 * interval input code reads the setting, and it is put back on every exit.
 */
static Interval *
IntervalUnderStyle(const char *s, int style, char **err)
{
	int			saved = IntervalStyle;
	volatile Datum result = (Datum) 0;

	IntervalStyle = style;
	PG_TRY();
	{
		result = CallInputCatching(interval_in, s, err);
	}
	PG_FINALLY();
	{
		IntervalStyle = saved;
	}
	PG_END_TRY();
	return *err ? NULL : DatumGetIntervalP(result);
}

/*
 * Check the interval text of a WITHIN predicate.  It must be an interval
 * that every IntervalStyle reads alike (under sql_standard a leading minus
 * sign makes all parts without a sign of their own negative; every other
 * style reads those parts as positive), positive as PostgreSQL compares
 * intervals, and no longer than ICP_WITHIN_MAX_YEARS, as a whole and in
 * each of its parts, so that now() minus it is always a valid timestamp.
 */
IcpWithinProblem
IcpCheckWithinInterval(const char *text, char **err)
{
	const int64 year_usecs = (int64) (DAYS_PER_YEAR * SECS_PER_DAY) * USECS_PER_SEC;
	const int64 max_usecs = ICP_WITHIN_MAX_YEARS * year_usecs;
	Interval   *iv;
	bool		style_dependent;
	int128		cmp_value;

	iv = IcpReadInterval(text, err, &style_dependent);
	if (iv == NULL)
		return style_dependent ? ICP_WITHIN_STYLE_DEPENDENT : ICP_WITHIN_INVALID;

	/* positive as interval comparison sees it: a month is 30 days there */
	cmp_value = (int128) iv->time +
		((int128) iv->month * DAYS_PER_MONTH + iv->day) * USECS_PER_DAY;
	if (cmp_value <= 0)
		return ICP_WITHIN_NOT_POSITIVE;

	/* each part, then the whole, in years of 365.25 days */
	if (Abs((int64) iv->month) > ICP_WITHIN_MAX_YEARS * MONTHS_PER_YEAR ||
		Abs((int64) iv->day) > (int64) (ICP_WITHIN_MAX_YEARS * DAYS_PER_YEAR) ||
		iv->time > max_usecs || iv->time < -max_usecs)
		return ICP_WITHIN_TOO_LARGE;
	if ((int64) iv->month * (year_usecs / MONTHS_PER_YEAR) +
		(int64) iv->day * USECS_PER_DAY + iv->time > max_usecs)
		return ICP_WITHIN_TOO_LARGE;
	return ICP_WITHIN_OK;
}

/* Report a WITHIN problem found by IcpCheckWithinInterval */
void
IcpReportWithinProblem(IcpWithinProblem problem, const char *interval,
					   const char *where, const char *detail)
{
	switch (problem)
	{
		case ICP_WITHIN_OK:
			break;
		case ICP_WITHIN_INVALID:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
					 errmsg("invalid interval '%s' after WITHIN %s", interval, where),
					 detail ? errdetail("%s", detail) : 0,
					 errhint("Write an interval such as '30 days' or '6 months'.")));
			break;
		case ICP_WITHIN_STYLE_DEPENDENT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
					 errmsg("interval '%s' after WITHIN depends on IntervalStyle %s",
							interval, where),
					 detail ? errdetail("%s", detail) : 0,
					 errhint("Under IntervalStyle sql_standard a leading minus sign makes every part without a sign of its own negative; give each part its own sign, as in '-1 day +40 hours'.")));
			break;
		case ICP_WITHIN_NOT_POSITIVE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("interval '%s' after WITHIN must be positive %s",
							interval, where),
					 detail ? errdetail("%s", detail) : 0,
					 errhint("WITHIN looks back from now(); write '30 days', not '-30 days'.")));
			break;
		case ICP_WITHIN_TOO_LARGE:
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_FIELD_OVERFLOW),
					 errmsg("interval '%s' after WITHIN is out of range %s",
							interval, where),
					 detail ? errdetail("%s", detail) : 0,
					 errhint("WITHIN takes at most %d years (%d days); no part of the interval (years and months, days, hours to seconds) may exceed that on its own either.",
							 ICP_WITHIN_MAX_YEARS, (int) (ICP_WITHIN_MAX_YEARS * DAYS_PER_YEAR))));
			break;
	}
	elog(ERROR, "unexpected WITHIN problem %d", (int) problem);
}

/* Check the interval of a WITHIN predicate at the token tok */
static void
ValidateInterval(IcpParser *p, const IcpToken *tok, IcpOp op)
{
	char	   *err = NULL;
	IcpWithinProblem problem = IcpCheckWithinInterval(tok->val, &err);
	char	   *detail;

	if (problem == ICP_WITHIN_OK)
		return;
	if (problem == ICP_WITHIN_INVALID)
		detail = psprintf("The interval is at character %d: %s.",
						  CharPosition(p, tok->start), err);
	else
		detail = psprintf("The interval is at character %d.",
						  CharPosition(p, tok->start));
	IcpReportWithinProblem(problem, ClipForMessage(tok->val, tok->vallen),
						   psprintf("in rule \"%s\"", RuleForMessage(p)), detail);
}

/* Parse the single string literal of an OPL_STRING operator, validated */
static void
ParseStringLiteral(IcpParser *p, IcpNode *pred)
{
	IcpToken	tok = p->tok;

	if (tok.type != TOK_STRING)
		SyntaxError(p, IcpOpSyntaxOf(pred->op)->hint);
	op_validate[pred->op - 1] (p, &tok, pred->op);

	pred->nlits = 1;
	pred->lits = palloc(sizeof(IcpLiteral));
	pred->lits[0].type = ICP_LIT_STRING;
	pred->lits[0].str = tok.val;
	pred->lits[0].len = tok.vallen;
	pred->lits[0].boolval = false;
	NextToken(p);
}

/* Parse attr := identifier { '.' identifier } into pred->path */
static void
ParseAttr(IcpParser *p, IcpNode *pred)
{
	int			cap = 4;

	if (p->tok.type == TOK_IDENT && IcpIsRuleKeyword(p->tok.val))
		SyntaxError(p, psprintf("Expected an attribute name; to use the keyword \"%s\" as one, write it in double quotes.",
								p->tok.val));
	if (p->tok.type != TOK_IDENT && p->tok.type != TOK_QIDENT)
		SyntaxError(p, "A condition starts with an attribute name, as in employees > 50.");

	pred->path = palloc(cap * sizeof(char *));
	pred->npath = 0;
	for (;;)
	{
		if (pred->npath >= 255)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("attribute path has more than 255 names in %s \"%s\"",
							p->what, RuleForMessage(p)),
					 errdetail("The error is at character %d.",
							   CharPosition(p, p->tok.start))));
		if (pred->npath >= cap)
		{
			cap *= 2;
			pred->path = repalloc(pred->path, cap * sizeof(char *));
		}
		pred->path[pred->npath++] = p->tok.val;
		NextToken(p);
		if (p->tok.type != TOK_DOT)
			break;
		NextToken(p);
		if (p->tok.type != TOK_IDENT && p->tok.type != TOK_QIDENT)
			SyntaxError(p, "Expected a key name after the dot.");
	}
}

/* The symbol text of an operator token, or NULL for other tokens */
static const char *
TokenSymbol(IcpTokType type)
{
	switch (type)
	{
		case TOK_EQ:
			return "=";
		case TOK_NE:
			return "<>";
		case TOK_LT:
			return "<";
		case TOK_LE:
			return "<=";
		case TOK_GT:
			return ">";
		case TOK_GE:
			return ">=";
		case TOK_REGEX:
			return "~";
		case TOK_IREGEX:
			return "~*";
		default:
			return NULL;
	}
}

/* Length of the first keyword of an operator name */
static int
FirstWordLen(const char *name)
{
	const char *e = strchr(name, ' ');

	return e ? (int) (e - name) : (int) strlen(name);
}

/* Does the current token spell the keyword name[0..len)? */
static bool
IsWord(IcpParser *p, const char *word, int len)
{
	return p->tok.type == TOK_IDENT && (int) strlen(p->tok.val) == len &&
		pg_strncasecmp(p->tok.val, word, len) == 0;
}

/* Append "A, B or C" to buf from the listed words, skipping repeats */
static void
AppendChoice(StringInfo buf, const char **words, int *lens, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, i == n - 1 ? " or " : ", ");
		appendBinaryStringInfo(buf, words[i], lens[i]);
	}
}

/*
 * The hint listing what may follow: which = 0 after the attribute, 1 after
 * NOT, 2 after "IS" (the words that may follow the first one of the IS
 * operators), 3 after "IS NOT".
 */
static char *
OperatorHint(int which, const char *first, int firstlen)
{
	const char *words[ICP_OP_MAX + 1];
	int			lens[ICP_OP_MAX + 1];
	int			n = 0;
	bool		compare = false;
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < lengthof(op_syntax); i++)
	{
		const IcpOpSyntax *s = &op_syntax[i];
		const char *w = s->name;
		int			len = s->form == OPF_WORDS ? FirstWordLen(w) : (int) strlen(w);

		if (which == 0 && s->form == OPF_COMPARE)
		{
			if (!compare)
			{
				words[n] = "a comparison operator";
				lens[n++] = strlen("a comparison operator");
			}
			compare = true;
			continue;
		}
		if (which == 1 && s->negation != OPN_BEFORE)
			continue;
		if (which >= 2)
		{
			if (s->form != OPF_WORDS || s->negation != OPN_INSIDE ||
				len != firstlen || strncmp(w, first, len) != 0 ||
				w[len] != ' ')
				continue;
			w += len + 1;
			len = strlen(w);
		}
		if (n > 0 && lens[n - 1] == len && strncmp(words[n - 1], w, len) == 0)
			continue;
		words[n] = w;
		lens[n++] = len;
	}
	appendStringInfoString(&buf, "Expected ");
	AppendChoice(&buf, words, lens, n);
	if (which == 0)
		appendStringInfoString(&buf, " after the attribute name.");
	else if (which == 1)
		appendStringInfoString(&buf, " after NOT.");
	else
		appendStringInfo(&buf, "%s after %.*s%s.",
						 which == 2 ? " (optionally preceded by NOT)" : "",
						 firstlen, first, which == 3 ? " NOT" : "");
	return buf.data;
}

/*
 * Read the operator after the attribute, by the operator table: a symbol,
 * or keywords with NOT where the operator allows it.  Sets pred->op and
 * pred->negated and leaves the current token after the operator.
 */
static void
ParseOperator(IcpParser *p, IcpNode *pred)
{
	const char *sym = TokenSymbol(p->tok.type);
	const IcpOpSyntax *first = NULL;
	const IcpOpSyntax *match = NULL;
	int			flen;

	if (sym != NULL)
	{
		for (int i = 0; i < lengthof(op_syntax); i++)
			if (op_syntax[i].form != OPF_WORDS && strcmp(op_syntax[i].name, sym) == 0)
				match = &op_syntax[i];
		Assert(match != NULL);
		pred->op = match->op;
		NextToken(p);
		return;
	}

	if (IsKeyword(p, "not"))
	{
		pred->negated = true;
		NextToken(p);
	}
	/* the operators whose first keyword this is (and that NOT may precede) */
	for (int i = 0; i < lengthof(op_syntax) && first == NULL; i++)
	{
		const IcpOpSyntax *s = &op_syntax[i];

		if (s->form == OPF_WORDS && IsWord(p, s->name, FirstWordLen(s->name)) &&
			(!pred->negated || s->negation == OPN_BEFORE))
			first = s;
	}
	if (first == NULL)
		SyntaxError(p, OperatorHint(pred->negated ? 1 : 0, NULL, 0));
	flen = FirstWordLen(first->name);
	NextToken(p);

	/* a second keyword: IS [NOT] NULL, CONTAINS ANY */
	if (first->negation == OPN_INSIDE && IsKeyword(p, "not"))
	{
		pred->negated = true;
		NextToken(p);
	}
	for (int i = 0; i < lengthof(op_syntax) && match == NULL; i++)
	{
		const IcpOpSyntax *s = &op_syntax[i];
		const char *second = s->name + flen + 1;

		if (s->form != OPF_WORDS || strncmp(s->name, first->name, flen) != 0 ||
			s->name[flen] != ' ')
			continue;
		if (IsWord(p, second, FirstWordLen(second)))
			match = s;
	}
	if (match != NULL)
		NextToken(p);
	else if (first->name[flen] == '\0')
		match = first;
	else
		SyntaxError(p, OperatorHint(pred->negated ? 3 : 2, first->name, flen));
	pred->op = match->op;
}

/* Parse a predicate: attr followed by an operator and its literals */
static IcpNode *
ParsePredicate(IcpParser *p)
{
	IcpNode    *pred = NewNode(ICP_NODE_PRED);
	const IcpOpSyntax *syn;

	ParseAttr(p, pred);
	ParseOperator(p, pred);
	syn = IcpOpSyntaxOf(pred->op);

	switch (syn->arity)
	{
		case OPA_NONE:
			break;
		case OPA_LIST:
			ParseLiteralList(p, pred);
			break;
		case OPA_TWO:
			pred->nlits = 2;
			pred->lits = palloc(2 * sizeof(IcpLiteral));
			ParseLiteral(p, &pred->lits[0]);
			if (!IsKeyword(p, "and"))
				SyntaxError(p, psprintf("%s is written x %s low AND high.",
										syn->name, syn->name));
			NextToken(p);
			ParseLiteral(p, &pred->lits[1]);
			break;
		case OPA_ONE:
			if (syn->literals == OPL_STRING)
				ParseStringLiteral(p, pred);
			else
			{
				pred->nlits = 1;
				pred->lits = palloc(sizeof(IcpLiteral));
				ParseLiteral(p, &pred->lits[0]);
			}
			break;
	}
	return pred;
}

/* not_expr := NOT not_expr | '(' or_expr ')' | predicate */
static IcpNode *
ParseNot(IcpParser *p)
{
	IcpNode    *node;

	check_stack_depth();
	if (IsKeyword(p, "not"))
	{
		EnterNesting(p);
		NextToken(p);
		node = NewNode(ICP_NODE_NOT);
		node->nchildren = 1;
		node->children = palloc(sizeof(IcpNode *));
		node->children[0] = ParseNot(p);
		p->depth--;
		return node;
	}
	if (p->tok.type == TOK_LPAREN)
	{
		EnterNesting(p);
		NextToken(p);
		node = ParseOr(p);
		Expect(p, TOK_RPAREN, "Expected AND, OR or a closing parenthesis.");
		p->depth--;
		return node;
	}
	return ParsePredicate(p);
}

/*
 * A chain "sub { keyword sub }" as one node of the given tag (or just the
 * single operand); flattening nested chains happens afterwards.
 */
static IcpNode *
ParseChain(IcpParser *p, IcpNodeTag tag, const char *keyword,
		   IcpNode *(*sub) (IcpParser *))
{
	IcpNode    *first = sub(p);
	IcpNode    *node;
	int			cap = 0;

	if (!IsKeyword(p, keyword))
		return first;
	node = NewNode(tag);
	AppendChild(&node->children, &node->nchildren, &cap, first);
	while (IsKeyword(p, keyword))
	{
		NextToken(p);
		AppendChild(&node->children, &node->nchildren, &cap, sub(p));
	}
	return node;
}

/* and_expr := not_expr { AND not_expr } */
static IcpNode *
ParseAnd(IcpParser *p)
{
	return ParseChain(p, ICP_NODE_AND, "and", ParseNot);
}

/* or_expr := and_expr { OR and_expr } */
static IcpNode *
ParseOr(IcpParser *p)
{
	return ParseChain(p, ICP_NODE_OR, "or", ParseAnd);
}

/* Append to arr the children of node, descending into children of its tag */
static void
GatherSameTag(const IcpNode *node, IcpNode ***arr, int *n, int *cap)
{
	check_stack_depth();
	for (int i = 0; i < node->nchildren; i++)
	{
		IcpNode    *child = node->children[i];

		if (child->tag == node->tag)
			GatherSameTag(child, arr, n, cap);
		else
			AppendChild(arr, n, cap, child);
	}
}

/*
 * Merge AND children of AND nodes (and OR of OR) into their parent, in
 * place, and return the depth of the resulting tree.  Each node is visited
 * once, so this is linear however the groups were parenthesised.
 */
static int
FlattenTree(IcpNode *node)
{
	int			depth = 0;

	check_stack_depth();
	if (node->tag == ICP_NODE_PRED)
		return 1;
	if (node->tag == ICP_NODE_AND || node->tag == ICP_NODE_OR)
	{
		bool		nested = false;

		for (int i = 0; i < node->nchildren; i++)
			nested |= (node->children[i]->tag == node->tag);
		if (nested)
		{
			IcpNode   **arr = NULL;
			int			n = 0;
			int			cap = 0;

			GatherSameTag(node, &arr, &n, &cap);
			node->children = arr;
			node->nchildren = n;
		}
	}
	for (int i = 0; i < node->nchildren; i++)
	{
		int			d = FlattenTree(node->children[i]);

		depth = Max(depth, d);
	}
	return depth + 1;
}

/*
 * Start parsing text (what it is, "rule" or "attribute", for messages) at
 * its first token; empty text is a syntax error with the given hint
 */
static void
StartParser(IcpParser *p, const char *str, int len, const char *what,
			const char *empty_hint)
{
	pg_verifymbstr(str, len, false);
	p->str = str;
	p->len = len;
	p->pos = 0;
	p->depth = 0;
	p->what = what;
	NextToken(p);
	if (p->tok.type == TOK_END)
		SyntaxError(p, empty_hint);
}

/* Parse rule text; ereports ERRCODE_SYNTAX_ERROR (with position) on bad input */
IcpNode *
IcpParseRule(const char *str, int len)
{
	IcpParser	p;
	IcpNode    *root;

	StartParser(&p, str, len, "rule",
				"A rule cannot be empty; write a condition such as employees > 50.");

	root = ParseOr(&p);
	if (p.tok.type == TOK_RPAREN)
		SyntaxError(&p, "This closing parenthesis has no matching opening one.");
	if (p.tok.type != TOK_END)
		SyntaxError(&p, "Expected AND, OR or the end of the rule.");

	if (FlattenTree(root) > ICP_RULE_MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
				 errmsg("rule \"%s\" is nested too deeply", RuleForMessage(&p)),
				 errdetail("A rule may be nested at most %d levels deep.",
						   ICP_RULE_MAX_DEPTH),
				 errhint("Parentheses, NOT, and AND inside OR (or OR inside AND) each add a level.")));
	return root;
}

/*
 * Parse an attribute as the rule language writes it (a, "A b", a.b) into
 * its names; ereports ERRCODE_SYNTAX_ERROR (with position) on bad input.
 */
void
IcpParseAttribute(const char *str, int len, int *npath, char ***path)
{
	IcpParser	p;
	IcpNode		pred;

	StartParser(&p, str, len, "attribute", "An attribute name cannot be empty.");
	memset(&pred, 0, sizeof(pred));
	ParseAttr(&p, &pred);
	if (p.tok.type != TOK_END)
		SyntaxError(&p, "Expected the end of the attribute: write one attribute name, or a.b for key b of the jsonb column a.");
	*npath = pred.npath;
	*path = pred.path;
}

/*
 * Read interval text as every IntervalStyle reads it: NULL with *err set
 * when interval_in refuses it, NULL with *style_dependent set when styles
 * read it differently (see IcpCheckWithinInterval).
 */
Interval *
IcpReadInterval(const char *text, char **err, bool *style_dependent)
{
	Interval   *iv;
	Interval   *std;
	char	   *std_err;

	*style_dependent = false;
	iv = IntervalUnderStyle(text, INTSTYLE_POSTGRES, err);
	if (iv == NULL)
		return NULL;
	std = IntervalUnderStyle(text, INTSTYLE_SQL_STANDARD, &std_err);
	if (std == NULL || std->month != iv->month || std->day != iv->day ||
		std->time != iv->time)
	{
		*style_dependent = true;
		return NULL;
	}
	return iv;
}
