/*
 * rule_ops.h
 *		The table of rule operators: one line per operator.
 *
 * Each line says how an operator is written, what it takes and which
 * functions give it meaning:
 *
 *	ICP_OPERATOR(op, name, form, negation, arity, literals, validate, hint,
 *				 bind, eval_json)
 *
 *	op			the IcpOp value (rule.h); lines are in IcpOp order
 *	name		canonical text: a symbol ("<=") or upper-case keywords
 *				("IS NULL", "CONTAINS ANY"), which the parser matches
 *				case-insensitively and the printer writes
 *	form		OPF_SYMBOL (one symbol token), OPF_COMPARE (a symbol that is a
 *				comparison, as hints call them) or OPF_WORDS (the keywords)
 *	negation	OPN_NONE, OPN_BEFORE (x NOT IN ...) or OPN_INSIDE (x IS NOT NULL)
 *	arity		OPA_NONE, OPA_ONE, OPA_TWO (low AND high) or OPA_LIST ('(' ... ')')
 *	literals	OPL_ANY, or OPL_STRING (a single string, checked by validate)
 *	validate	rule_parse.c: checks the string literal of an OPL_STRING operator
 *	hint		what the parser says when that string literal is missing
 *	bind		bind.c: binds the predicate on a typed column, choosing a
 *				specialised evaluator (IcpEvalKind, evaluated in eval.c);
 *				NULL for an operator that only asks whether a value is present
 *	eval_json	eval.c: evaluates the predicate on a non-null JSON value
 *
 * The rule layer (parser, printer, binary form), the binder and the jsonb
 * evaluator each define ICP_OPERATOR to take the columns they need and then
 * include this file, as PostgreSQL's kwlist.h is used; so a new operator is
 * one line here plus its functions.
 */

/* no include guard: this file is included several times */

ICP_OPERATOR(ICP_OP_EQ, "=", OPF_COMPARE, OPN_NONE, OPA_ONE, OPL_ANY, NULL, NULL, BindCompare, JsonCmpOp)
ICP_OPERATOR(ICP_OP_NE, "<>", OPF_COMPARE, OPN_NONE, OPA_ONE, OPL_ANY, NULL, NULL, BindCompare, JsonCmpOp)
ICP_OPERATOR(ICP_OP_LT, "<", OPF_COMPARE, OPN_NONE, OPA_ONE, OPL_ANY, NULL, NULL, BindCompare, JsonCmpOp)
ICP_OPERATOR(ICP_OP_LE, "<=", OPF_COMPARE, OPN_NONE, OPA_ONE, OPL_ANY, NULL, NULL, BindCompare, JsonCmpOp)
ICP_OPERATOR(ICP_OP_GT, ">", OPF_COMPARE, OPN_NONE, OPA_ONE, OPL_ANY, NULL, NULL, BindCompare, JsonCmpOp)
ICP_OPERATOR(ICP_OP_GE, ">=", OPF_COMPARE, OPN_NONE, OPA_ONE, OPL_ANY, NULL, NULL, BindCompare, JsonCmpOp)
ICP_OPERATOR(ICP_OP_IN, "IN", OPF_WORDS, OPN_BEFORE, OPA_LIST, OPL_ANY, NULL, NULL, BindCompare, JsonIn)
ICP_OPERATOR(ICP_OP_BETWEEN, "BETWEEN", OPF_WORDS, OPN_BEFORE, OPA_TWO, OPL_ANY, NULL, NULL, BindCompare, JsonBetween)
ICP_OPERATOR(ICP_OP_IS_NULL, "IS NULL", OPF_WORDS, OPN_INSIDE, OPA_NONE, OPL_ANY, NULL, NULL, NULL, NULL)
ICP_OPERATOR(ICP_OP_IS_TRUE, "IS TRUE", OPF_WORDS, OPN_INSIDE, OPA_NONE, OPL_ANY, NULL, NULL, BindBoolTest, JsonIsTrue)
ICP_OPERATOR(ICP_OP_IS_FALSE, "IS FALSE", OPF_WORDS, OPN_INSIDE, OPA_NONE, OPL_ANY, NULL, NULL, BindBoolTest, JsonIsFalse)
ICP_OPERATOR(ICP_OP_LIKE, "LIKE", OPF_WORDS, OPN_BEFORE, OPA_ONE, OPL_STRING, ValidateLikePattern,
			 "LIKE and ILIKE take a pattern in single quotes, as in name LIKE 'Acme%'.", BindPattern, JsonPattern)
ICP_OPERATOR(ICP_OP_ILIKE, "ILIKE", OPF_WORDS, OPN_BEFORE, OPA_ONE, OPL_STRING, ValidateLikePattern,
			 "LIKE and ILIKE take a pattern in single quotes, as in name LIKE 'Acme%'.", BindPattern, JsonPattern)
ICP_OPERATOR(ICP_OP_REGEX, "~", OPF_SYMBOL, OPN_NONE, OPA_ONE, OPL_STRING, ValidateRegex,
			 "~ and ~* take a regular expression in single quotes, as in domain ~ '\\.io$'.", BindPattern, JsonPattern)
ICP_OPERATOR(ICP_OP_IREGEX, "~*", OPF_SYMBOL, OPN_NONE, OPA_ONE, OPL_STRING, ValidateRegex,
			 "~ and ~* take a regular expression in single quotes, as in domain ~ '\\.io$'.", BindPattern, JsonPattern)
ICP_OPERATOR(ICP_OP_CONTAINS, "CONTAINS", OPF_WORDS, OPN_NONE, OPA_ONE, OPL_ANY, NULL, NULL, BindContains, JsonContains)
ICP_OPERATOR(ICP_OP_CONTAINS_ANY, "CONTAINS ANY", OPF_WORDS, OPN_NONE, OPA_LIST, OPL_ANY, NULL, NULL, BindContains, JsonContains)
ICP_OPERATOR(ICP_OP_CONTAINS_ALL, "CONTAINS ALL", OPF_WORDS, OPN_NONE, OPA_LIST, OPL_ANY, NULL, NULL, BindContains, JsonContains)
ICP_OPERATOR(ICP_OP_WITHIN, "WITHIN", OPF_WORDS, OPN_NONE, OPA_ONE, OPL_STRING, ValidateInterval,
			 "WITHIN takes an interval in single quotes, as in last_seen WITHIN '30 days'.", BindWithin, JsonWithin)
