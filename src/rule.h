/*
 * rule.h
 *		The icp_rule type: parse tree, compact binary form and printing.
 *
 * A rule is one boolean condition over the attributes of an account, written
 * like a SQL condition.  The grammar (keywords case-insensitive, plain
 * identifiers folded to lower case, "quoted" ones kept):
 *
 *	rule	  := or_expr
 *	or_expr   := and_expr { OR and_expr }
 *	and_expr  := not_expr { AND not_expr }
 *	not_expr  := NOT not_expr | '(' or_expr ')' | predicate
 *	predicate := attr cmp literal
 *			   | attr [NOT] IN '(' literal { ',' literal } ')'
 *			   | attr [NOT] BETWEEN literal AND literal
 *			   | attr IS [NOT] NULL | attr IS [NOT] TRUE | attr IS [NOT] FALSE
 *			   | attr [NOT] LIKE string | attr [NOT] ILIKE string
 *			   | attr ~ string | attr ~* string
 *			   | attr CONTAINS literal
 *			   | attr CONTAINS ANY '(' literal { ',' literal } ')'
 *			   | attr CONTAINS ALL '(' literal { ',' literal } ')'
 *			   | attr WITHIN string			(an interval before now())
 *	attr	  := identifier { '.' identifier }	(a.b: key b of jsonb column a)
 *	cmp		  := = | <> | != | < | <= | > | >=
 *	literal   := [+|-] number | 'string' | TRUE | FALSE
 *
 * Semantics are SQL's (NULL makes a predicate unknown; three-valued logic);
 * what each operator means on each column type is decided when a profile is
 * bound to a row type (bind.h).  Text is parsed into a tree of IcpNode,
 * which is serialized into a position-independent byte stream (the varlena
 * IcpRule, also the binary send/recv payload).  Everything that reads a
 * stored rule deserializes it back into a tree.
 */
#ifndef ICP_RULE_H
#define ICP_RULE_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

#include "compat.h"

/* Version byte that starts every serialized rule */
#define ICP_RULE_FORMAT_VERSION 1

/*
 * Deepest tree a rule may have (a predicate alone has depth 1); the parser
 * also refuses more than this many nested parentheses/NOTs.  Code walking a
 * tree recursively can rely on it.
 */
#define ICP_RULE_MAX_DEPTH 1000

/*
 * Largest interval WITHIN accepts, in years: the interval as a whole and
 * each of its parts (months, days, time) at most this long, a year counted
 * as 365.25 days and a month as a twelfth of that.  now() minus such an
 * interval moves at most three times this far from now(), which stays a
 * valid timestamp for any clock later than 1700 BC.
 */
#define ICP_WITHIN_MAX_YEARS 1000

/* What is wrong with the interval of a WITHIN predicate, if anything */
typedef enum IcpWithinProblem
{
	ICP_WITHIN_OK = 0,
	ICP_WITHIN_INVALID,			/* interval_in refuses it */
	ICP_WITHIN_STYLE_DEPENDENT, /* reads differently under some IntervalStyle */
	ICP_WITHIN_NOT_POSITIVE,	/* zero or negative */
	ICP_WITHIN_TOO_LARGE		/* beyond ICP_WITHIN_MAX_YEARS */
} IcpWithinProblem;

typedef enum IcpNodeTag
{
	ICP_NODE_AND = 1,
	ICP_NODE_OR = 2,
	ICP_NODE_NOT = 3,
	ICP_NODE_PRED = 4
} IcpNodeTag;

typedef enum IcpOp
{
	ICP_OP_EQ = 1,				/* attr = lit */
	ICP_OP_NE,					/* attr <> lit (also written !=) */
	ICP_OP_LT,
	ICP_OP_LE,
	ICP_OP_GT,
	ICP_OP_GE,
	ICP_OP_IN,					/* attr [NOT] IN (lits) */
	ICP_OP_BETWEEN,				/* attr [NOT] BETWEEN lit AND lit */
	ICP_OP_IS_NULL,				/* attr IS [NOT] NULL */
	ICP_OP_IS_TRUE,				/* attr IS [NOT] TRUE */
	ICP_OP_IS_FALSE,			/* attr IS [NOT] FALSE */
	ICP_OP_LIKE,				/* attr [NOT] LIKE 'pattern' */
	ICP_OP_ILIKE,				/* attr [NOT] ILIKE 'pattern' */
	ICP_OP_REGEX,				/* attr ~ 'regex' */
	ICP_OP_IREGEX,				/* attr ~* 'regex' */
	ICP_OP_CONTAINS,			/* attr CONTAINS lit */
	ICP_OP_CONTAINS_ANY,		/* attr CONTAINS ANY (lits) */
	ICP_OP_CONTAINS_ALL,		/* attr CONTAINS ALL (lits) */
	ICP_OP_WITHIN				/* attr WITHIN 'interval' */
} IcpOp;

#define ICP_OP_MAX ICP_OP_WITHIN

/*
 * How an operator is written and what it takes: the rule layer's columns of
 * the operator table (rule_ops.h, which explains them).
 */
typedef enum IcpOpForm
{
	OPF_SYMBOL,					/* one symbol token: ~ ~* */
	OPF_COMPARE,				/* a comparison symbol: = <> < <= > >= */
	OPF_WORDS					/* keywords: IN, IS NULL, CONTAINS ANY */
} IcpOpForm;

typedef enum IcpOpNegation
{
	OPN_NONE,					/* cannot be negated */
	OPN_BEFORE,					/* x NOT IN (...) */
	OPN_INSIDE					/* x IS NOT NULL: after the first keyword */
} IcpOpNegation;

typedef enum IcpOpArity
{
	OPA_NONE,					/* no literal */
	OPA_ONE,					/* one literal */
	OPA_TWO,					/* low AND high */
	OPA_LIST					/* '(' literal { ',' literal } ')' */
} IcpOpArity;

typedef enum IcpOpLiterals
{
	OPL_ANY,					/* numbers, strings, booleans */
	OPL_STRING					/* one string, validated by the parser */
} IcpOpLiterals;

typedef struct IcpOpSyntax
{
	IcpOp		op;
	const char *name;			/* "<=", "IS NULL", "CONTAINS ANY" */
	IcpOpForm	form;
	IcpOpNegation negation;
	IcpOpArity	arity;
	IcpOpLiterals literals;
	const char *hint;			/* OPL_STRING: when the string is missing */
} IcpOpSyntax;

/* The syntax of an operator (op must be valid: ICP_OP_EQ..ICP_OP_MAX) */
extern const IcpOpSyntax *IcpOpSyntaxOf(IcpOp op);

typedef enum IcpLitType
{
	ICP_LIT_NUMBER = 1,			/* canonical decimal text, as numeric_out prints */
	ICP_LIT_STRING = 2,			/* the string's characters, server encoding */
	ICP_LIT_BOOL = 3			/* boolval */
} IcpLitType;

typedef struct IcpLiteral
{
	IcpLitType	type;
	char	   *str;			/* NUMBER and STRING: NUL-terminated text */
	int			len;			/* strlen(str) */
	bool		boolval;		/* BOOL */
} IcpLiteral;

typedef struct IcpNode
{
	IcpNodeTag	tag;

	/* AND, OR (two or more children, never a child of the same tag), NOT (one) */
	int			nchildren;
	struct IcpNode **children;

	/* PRED */
	IcpOp		op;
	bool		negated;		/* NOT IN, NOT BETWEEN, IS NOT, NOT LIKE, ... */
	int			npath;			/* attr a.b.c: npath = 3 */
	char	  **path;			/* identifiers as resolved (folded/unquoted) */
	int			nlits;
	IcpLiteral *lits;
} IcpNode;

/* The on-disk/in-memory value of type icp_rule: a varlena of serialized bytes */
typedef struct varlena IcpRule;

#define DatumGetIcpRuleP(X)		((IcpRule *) PG_DETOAST_DATUM(X))
#define PG_GETARG_ICPRULE_P(n)	DatumGetIcpRuleP(PG_GETARG_DATUM(n))
#define PG_RETURN_ICPRULE_P(x)	PG_RETURN_POINTER(x)

/* Parse rule text; ereports ERRCODE_SYNTAX_ERROR (with position) on bad input */
extern IcpNode *IcpParseRule(const char *str, int len);

/* Serialize a tree into a fresh palloc'd varlena */
extern IcpRule *IcpSerializeRule(const IcpNode *node);

/*
 * Deserialize raw bytes (the varlena payload, starting with the version
 * byte) into a tree, validating everything; ereports
 * ERRCODE_INVALID_BINARY_REPRESENTATION on corrupt input.
 */
extern IcpNode *IcpDeserializeBytes(const char *data, int len);

/* Deserialize a stored rule */
extern IcpNode *IcpDeserializeRule(const IcpRule *rule);

/* Append the canonical text of a tree (what icp_rule_out prints) */
extern void IcpRuleToString(StringInfo buf, const IcpNode *node);

/* Append one attribute path as the rule language writes it (quoted as needed) */
extern void IcpAppendAttrPath(StringInfo buf, int npath, char **path);

/* Append one literal as the rule language writes it */
extern void IcpAppendLiteral(StringInfo buf, const IcpLiteral *lit);

/* Text of an operator keyword, e.g. "BETWEEN", for messages */
extern const char *IcpOpName(IcpOp op);

/* Is word (lower case) a keyword of the rule language (and, in, within...)? */
extern bool IcpIsRuleKeyword(const char *word);

/* Parse an attribute (a, "A b", a.b) into its names; syntax errors ereport */
extern void IcpParseAttribute(const char *str, int len, int *npath, char ***path);

/* Interval text as every IntervalStyle reads it, or NULL (see rule_parse.c) */
extern Interval *IcpReadInterval(const char *text, char **err, bool *style_dependent);

/* Parse text and return the serialized canonical value (used by casts too) */
extern IcpRule *IcpRuleFromCString(const char *str, int len);

/*
 * Check the interval text of a WITHIN predicate; on ICP_WITHIN_INVALID,
 * *err receives interval_in's message.
 */
extern IcpWithinProblem IcpCheckWithinInterval(const char *text, char **err);

/*
 * Report a WITHIN problem.  interval is the text to quote, where says where
 * it is ("in rule \"...\"", "in criterion 3 of icp profile \"p\""), detail
 * is a full sentence or NULL.
 */
pg_noreturn extern void IcpReportWithinProblem(IcpWithinProblem problem, const char *interval,
											   const char *where, const char *detail);

#endif							/* ICP_RULE_H */
