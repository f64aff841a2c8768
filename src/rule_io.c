/*
 * rule_io.c
 *		The icp_rule type: binary form, canonical text and SQL functions.
 *
 * A rule is stored as a version byte followed by its tree in prefix order
 * (see rule.h and IcpSerializeRule); integers are big-endian and read byte
 * by byte, so the form is position independent and doubles as the binary
 * send/recv payload.  The deserializer trusts nothing: it is what stands
 * between a client's binary COPY and every other part of the extension.
 * The printer produces canonical text: parse(print(t)) serializes exactly
 * like t, which makes equality of values equality of rules as written.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "rule.h"

PG_FUNCTION_INFO_V1(icp_rule_in);
PG_FUNCTION_INFO_V1(icp_rule_out);
PG_FUNCTION_INFO_V1(icp_rule_recv);
PG_FUNCTION_INFO_V1(icp_rule_send);
PG_FUNCTION_INFO_V1(icp_rule_eq);
PG_FUNCTION_INFO_V1(icp_rule_ne);
PG_FUNCTION_INFO_V1(icp_rule_lt);
PG_FUNCTION_INFO_V1(icp_rule_le);
PG_FUNCTION_INFO_V1(icp_rule_gt);
PG_FUNCTION_INFO_V1(icp_rule_ge);
PG_FUNCTION_INFO_V1(icp_rule_cmp);
PG_FUNCTION_INFO_V1(icp_rule_hash);
PG_FUNCTION_INFO_V1(icp_rule_hash_extended);
PG_FUNCTION_INFO_V1(icp_rule_attributes);

/* Most names an attribute path may have (npath is one byte) */
#define ICP_MAX_PATH 255

/* ---------- serialization ---------- */

/* Append a big-endian uint32 */
static void
PutUInt32(StringInfo buf, uint32 v)
{
	char		b[4];

	b[0] = (char) (v >> 24);
	b[1] = (char) (v >> 16);
	b[2] = (char) (v >> 8);
	b[3] = (char) v;
	appendBinaryStringInfo(buf, b, 4);
}

/* Append a length-prefixed byte string */
static void
PutBytes(StringInfo buf, const char *s, int len)
{
	PutUInt32(buf, (uint32) len);
	appendBinaryStringInfo(buf, s, len);
}

/* Append one node and its subtree in prefix order */
static void
SerializeNode(StringInfo buf, const IcpNode *node)
{
	check_stack_depth();
	appendStringInfoChar(buf, (char) node->tag);
	switch (node->tag)
	{
		case ICP_NODE_AND:
		case ICP_NODE_OR:
			PutUInt32(buf, (uint32) node->nchildren);
			for (int i = 0; i < node->nchildren; i++)
				SerializeNode(buf, node->children[i]);
			break;
		case ICP_NODE_NOT:
			SerializeNode(buf, node->children[0]);
			break;
		case ICP_NODE_PRED:
			appendStringInfoChar(buf, (char) node->op);
			appendStringInfoChar(buf, node->negated ? 1 : 0);
			if (node->npath < 1 || node->npath > ICP_MAX_PATH)
				elog(ERROR, "icp_rule: attribute path of %d names", node->npath);
			appendStringInfoChar(buf, (char) node->npath);
			for (int i = 0; i < node->npath; i++)
				PutBytes(buf, node->path[i], strlen(node->path[i]));
			PutUInt32(buf, (uint32) node->nlits);
			for (int i = 0; i < node->nlits; i++)
			{
				const IcpLiteral *lit = &node->lits[i];

				appendStringInfoChar(buf, (char) lit->type);
				if (lit->type == ICP_LIT_BOOL)
				{
					char		b = lit->boolval ? 1 : 0;

					PutBytes(buf, &b, 1);
				}
				else
					PutBytes(buf, lit->str, lit->len);
			}
			break;
		default:
			elog(ERROR, "icp_rule: unknown node tag %d", (int) node->tag);
	}
}

/* Serialize a tree into a fresh palloc'd varlena */
IcpRule *
IcpSerializeRule(const IcpNode *node)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	appendStringInfoChar(&buf, (char) ICP_RULE_FORMAT_VERSION);
	SerializeNode(&buf, node);
	SET_VARSIZE(buf.data, buf.len);
	return (IcpRule *) buf.data;
}

/* ---------- deserialization ---------- */

typedef struct IcpReader
{
	const unsigned char *data;
	int			len;
	int			pos;
} IcpReader;

/* Report corrupt binary input */
pg_noreturn static void
Corrupt(IcpReader *r, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid binary representation of icp_rule"),
			 errdetail("%s (at byte %d of %d).", detail, r->pos, r->len)));
}

/* Read one byte */
static uint8
GetByte(IcpReader *r)
{
	if (r->pos >= r->len)
		Corrupt(r, "The value ends unexpectedly");
	return r->data[r->pos++];
}

/* Read a big-endian uint32 */
static uint32
GetUInt32(IcpReader *r)
{
	uint32		v;

	if (r->len - r->pos < 4)
		Corrupt(r, "The value ends unexpectedly");
	v = ((uint32) r->data[r->pos] << 24) | ((uint32) r->data[r->pos + 1] << 16) |
		((uint32) r->data[r->pos + 2] << 8) | (uint32) r->data[r->pos + 3];
	r->pos += 4;
	return v;
}

/* Read a length-prefixed string; it must be valid text in the server encoding */
static char *
GetString(IcpReader *r, int *lenp)
{
	uint32		len = GetUInt32(r);
	char	   *s;

	if (len > (uint32) (r->len - r->pos))
		Corrupt(r, "A string is longer than the rest of the value");
	s = palloc(len + 1);
	memcpy(s, r->data + r->pos, len);
	s[len] = '\0';
	if (!pg_verifymbstr(s, len, true))
		Corrupt(r, "A string is not valid in the server encoding");
	r->pos += len;
	*lenp = (int) len;
	return s;
}

/* Is s the text of a number as numeric_out prints it: -?digits[.digits] */
static bool
IsNumberText(const char *s, int len)
{
	int			i = 0;
	int			ndig = 0;

	if (i < len && s[i] == '-')
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, ndig++;
	if (ndig == 0)
		return false;
	if (i < len && s[i] == '.')
	{
		i++;
		ndig = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, ndig++;
		if (ndig == 0)
			return false;
	}
	return i == len;
}

/* Read the literals of a predicate and check them against its operator */
static void
ReadLiterals(IcpReader *r, IcpNode *node)
{
	const IcpOpSyntax *syn = IcpOpSyntaxOf(node->op);
	uint32		n = GetUInt32(r);
	int			minlits,
				maxlits;
	bool		onlystring = (syn->literals == OPL_STRING);

	switch (syn->arity)
	{
		case OPA_LIST:
			minlits = 1;
			maxlits = PG_INT32_MAX;
			break;
		case OPA_TWO:
			minlits = maxlits = 2;
			break;
		case OPA_NONE:
			minlits = maxlits = 0;
			break;
		default:
			minlits = maxlits = 1;
			break;
	}
	if (n < (uint32) minlits || n > (uint32) maxlits)
		Corrupt(r, psprintf("Operator %s cannot take %u literal(s)", IcpOpName(node->op), n));
	/* each literal takes at least 5 bytes: bound the allocation */
	if (n > (uint32) (r->len - r->pos) / 5)
		Corrupt(r, "The literal count exceeds the rest of the value");

	node->nlits = (int) n;
	node->lits = (n > 0) ? palloc(n * sizeof(IcpLiteral)) : NULL;
	for (int i = 0; i < node->nlits; i++)
	{
		IcpLiteral *lit = &node->lits[i];
		uint8		type = GetByte(r);

		if (i % 1024 == 1023)
			CHECK_FOR_INTERRUPTS();
		lit->type = (IcpLitType) type;
		lit->boolval = false;
		switch (type)
		{
			case ICP_LIT_NUMBER:
				lit->str = GetString(r, &lit->len);
				if (!IsNumberText(lit->str, lit->len))
					Corrupt(r, "A number literal is not a decimal number");
				break;
			case ICP_LIT_STRING:
				lit->str = GetString(r, &lit->len);
				break;
			case ICP_LIT_BOOL:
				{
					uint8		b;

					if (GetUInt32(r) != 1)
						Corrupt(r, "A boolean literal must have length 1");
					b = GetByte(r);
					if (b > 1)
						Corrupt(r, "A boolean literal must be 0 or 1");
					lit->boolval = (b == 1);
					lit->str = NULL;
					lit->len = 0;
				}
				break;
			default:
				Corrupt(r, psprintf("Unknown literal type %u", type));
		}
		if (onlystring && lit->type != ICP_LIT_STRING)
			Corrupt(r, psprintf("Operator %s takes a string literal", IcpOpName(node->op)));
	}
}

/* Read the body of a predicate node (after its tag) */
static void
ReadPredicate(IcpReader *r, IcpNode *node)
{
	uint8		op = GetByte(r);
	uint8		negated = GetByte(r);
	uint8		npath;

	if (op < ICP_OP_EQ || op > ICP_OP_MAX)
		Corrupt(r, psprintf("Unknown operator %u", op));
	node->op = (IcpOp) op;
	if (negated > 1)
		Corrupt(r, "The negation flag must be 0 or 1");
	node->negated = (negated == 1);
	if (node->negated && IcpOpSyntaxOf(node->op)->negation == OPN_NONE)
		Corrupt(r, psprintf("Operator %s cannot be negated", IcpOpName(node->op)));

	npath = GetByte(r);
	if (npath == 0)
		Corrupt(r, "A predicate has no attribute");
	node->npath = npath;
	node->path = palloc(npath * sizeof(char *));
	for (int i = 0; i < npath; i++)
	{
		int			len;

		node->path[i] = GetString(r, &len);
		if (len == 0)
			Corrupt(r, "An attribute name is empty");
	}
	ReadLiterals(r, node);
}

/* Read one node and its subtree */
static IcpNode *
ReadNode(IcpReader *r, int depth)
{
	IcpNode    *node;
	uint8		tag;

	check_stack_depth();
	if (depth > ICP_RULE_MAX_DEPTH)
		Corrupt(r, "The rule is nested too deeply");
	tag = GetByte(r);
	node = palloc0(sizeof(IcpNode));
	node->tag = (IcpNodeTag) tag;
	switch (tag)
	{
		case ICP_NODE_AND:
		case ICP_NODE_OR:
			{
				uint32		n = GetUInt32(r);

				if (n < 2)
					Corrupt(r, "AND and OR need at least two operands");
				/* each child takes at least 8 bytes: bound the allocation */
				if (n > (uint32) (r->len - r->pos) / 8)
					Corrupt(r, "The operand count exceeds the rest of the value");
				node->nchildren = (int) n;
				node->children = palloc(n * sizeof(IcpNode *));
				for (int i = 0; i < node->nchildren; i++)
				{
					IcpNode    *child = ReadNode(r, depth + 1);

					if (child->tag == node->tag)
						Corrupt(r, "AND directly under AND (or OR under OR) is not canonical");
					node->children[i] = child;
				}
			}
			break;
		case ICP_NODE_NOT:
			node->nchildren = 1;
			node->children = palloc(sizeof(IcpNode *));
			node->children[0] = ReadNode(r, depth + 1);
			break;
		case ICP_NODE_PRED:
			ReadPredicate(r, node);
			break;
		default:
			r->pos--;
			Corrupt(r, psprintf("Unknown node tag %u", tag));
	}
	return node;
}

/*
 * Deserialize raw bytes (the varlena payload, starting with the version
 * byte) into a tree, validating everything.
 */
IcpNode *
IcpDeserializeBytes(const char *data, int len)
{
	IcpReader	r;
	IcpNode    *node;
	uint8		version;

	r.data = (const unsigned char *) data;
	r.len = len;
	r.pos = 0;
	version = GetByte(&r);
	if (version != ICP_RULE_FORMAT_VERSION)
	{
		r.pos = 0;
		Corrupt(&r, psprintf("Unsupported format version %u", version));
	}
	node = ReadNode(&r, 1);
	if (r.pos != r.len)
		Corrupt(&r, "Unexpected bytes after the end of the rule");
	return node;
}

/* Deserialize a stored rule */
IcpNode *
IcpDeserializeRule(const IcpRule *rule)
{
	return IcpDeserializeBytes(VARDATA_ANY(rule), VARSIZE_ANY_EXHDR(rule));
}

/* ---------- canonical text ---------- */

/* Text of an operator keyword, e.g. "BETWEEN", for messages */
const char *
IcpOpName(IcpOp op)
{
	if (op < ICP_OP_EQ || op > ICP_OP_MAX)
		return "?";
	return IcpOpSyntaxOf(op)->name;
}

/* Append s in the given quotes, doubling any quote inside */
static void
AppendQuoted(StringInfo buf, const char *s, int len, char quote)
{
	appendStringInfoChar(buf, quote);
	for (int i = 0; i < len; i++)
	{
		if (s[i] == quote)
			appendStringInfoChar(buf, quote);
		appendStringInfoChar(buf, s[i]);
	}
	appendStringInfoChar(buf, quote);
}

/* Append one attribute path as the rule language writes it (quoted as needed) */
void
IcpAppendAttrPath(StringInfo buf, int npath, char **path)
{
	for (int i = 0; i < npath; i++)
	{
		const char *name = path[i];

		if (i > 0)
			appendStringInfoChar(buf, '.');
		/* bare only when SQL would not quote it and it is no rule keyword */
		if (quote_identifier(name) == name && !IcpIsRuleKeyword(name))
			appendStringInfoString(buf, name);
		else
			AppendQuoted(buf, name, strlen(name), '"');
	}
}

/* Append one literal as the rule language writes it */
void
IcpAppendLiteral(StringInfo buf, const IcpLiteral *lit)
{
	switch (lit->type)
	{
		case ICP_LIT_NUMBER:
			appendBinaryStringInfo(buf, lit->str, lit->len);
			break;
		case ICP_LIT_STRING:
			AppendQuoted(buf, lit->str, lit->len, '\'');
			break;
		case ICP_LIT_BOOL:
			appendStringInfoString(buf, lit->boolval ? "TRUE" : "FALSE");
			break;
	}
}

/* Append a parenthesised, comma-separated literal list */
static void
AppendLiteralList(StringInfo buf, const IcpNode *node)
{
	appendStringInfoChar(buf, '(');
	for (int i = 0; i < node->nlits; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		IcpAppendLiteral(buf, &node->lits[i]);
	}
	appendStringInfoChar(buf, ')');
}

/* Append a predicate, written as the operator table says */
static void
AppendPredicate(StringInfo buf, const IcpNode *node)
{
	const IcpOpSyntax *syn = IcpOpSyntaxOf(node->op);
	const char *name = syn->name;

	IcpAppendAttrPath(buf, node->npath, node->path);
	appendStringInfoChar(buf, ' ');
	if (node->negated && syn->negation == OPN_BEFORE)
		appendStringInfoString(buf, "NOT ");
	if (node->negated && syn->negation == OPN_INSIDE)
	{
		const char *sp = strchr(name, ' ');
		int			flen = sp ? (int) (sp - name) : (int) strlen(name);

		appendStringInfo(buf, "%.*s NOT%s", flen, name, name + flen);
	}
	else
		appendStringInfoString(buf, name);
	switch (syn->arity)
	{
		case OPA_NONE:
			break;
		case OPA_LIST:
			appendStringInfoChar(buf, ' ');
			AppendLiteralList(buf, node);
			break;
		case OPA_TWO:
			appendStringInfoChar(buf, ' ');
			IcpAppendLiteral(buf, &node->lits[0]);
			appendStringInfoString(buf, " AND ");
			IcpAppendLiteral(buf, &node->lits[1]);
			break;
		case OPA_ONE:
			appendStringInfoChar(buf, ' ');
			IcpAppendLiteral(buf, &node->lits[0]);
			break;
	}
}

/* Append a node; AND/OR under NOT, and OR under AND, get parentheses */
static void
AppendNode(StringInfo buf, const IcpNode *node)
{
	check_stack_depth();
	switch (node->tag)
	{
		case ICP_NODE_AND:
		case ICP_NODE_OR:
			for (int i = 0; i < node->nchildren; i++)
			{
				const IcpNode *child = node->children[i];
				bool		paren = (child->tag == ICP_NODE_OR ||
									 child->tag == node->tag);

				if (i > 0)
					appendStringInfoString(buf, node->tag == ICP_NODE_AND ?
										   " AND " : " OR ");
				if (paren)
					appendStringInfoChar(buf, '(');
				AppendNode(buf, child);
				if (paren)
					appendStringInfoChar(buf, ')');
			}
			break;
		case ICP_NODE_NOT:
			{
				const IcpNode *child = node->children[0];
				bool		paren = (child->tag == ICP_NODE_AND ||
									 child->tag == ICP_NODE_OR);

				appendStringInfoString(buf, paren ? "NOT (" : "NOT ");
				AppendNode(buf, child);
				if (paren)
					appendStringInfoChar(buf, ')');
			}
			break;
		case ICP_NODE_PRED:
			AppendPredicate(buf, node);
			break;
	}
}

/* Append the canonical text of a tree (what icp_rule_out prints) */
void
IcpRuleToString(StringInfo buf, const IcpNode *node)
{
	AppendNode(buf, node);
}

/* Parse text and return the serialized canonical value (used by casts too) */
IcpRule *
IcpRuleFromCString(const char *str, int len)
{
	return IcpSerializeRule(IcpParseRule(str, len));
}

/* ---------- SQL-callable functions ---------- */

/* icp_rule_in(cstring): parse and validate rule text */
Datum
icp_rule_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);

	PG_RETURN_ICPRULE_P(IcpRuleFromCString(str, strlen(str)));
}

/* icp_rule_out(icp_rule): canonical text */
Datum
icp_rule_out(PG_FUNCTION_ARGS)
{
	IcpRule    *rule = PG_GETARG_ICPRULE_P(0);
	StringInfoData buf;

	initStringInfo(&buf);
	IcpRuleToString(&buf, IcpDeserializeRule(rule));
	PG_RETURN_CSTRING(buf.data);
}

/* icp_rule_recv(internal): validate the binary form, then canonicalise it */
Datum
icp_rule_recv(PG_FUNCTION_ARGS)
{
	StringInfo	msg = (StringInfo) PG_GETARG_POINTER(0);
	IcpNode    *node;
	StringInfoData text;

	node = IcpDeserializeBytes(msg->data + msg->cursor, msg->len - msg->cursor);
	msg->cursor = msg->len;

	/* a received value is exactly as canonical and checked as a typed one */
	initStringInfo(&text);
	IcpRuleToString(&text, node);
	PG_RETURN_ICPRULE_P(IcpRuleFromCString(text.data, text.len));
}

/* icp_rule_send(icp_rule): the serialized form, verbatim */
Datum
icp_rule_send(PG_FUNCTION_ARGS)
{
	IcpRule    *rule = (IcpRule *) PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, VARDATA_ANY(rule), VARSIZE_ANY_EXHDR(rule));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Byte-wise order of two serialized rules, length as tie-break */
static int
CompareRules(FunctionCallInfo fcinfo)
{
	struct varlena *a = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	struct varlena *b = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(1));
	int			alen = VARSIZE_ANY_EXHDR(a);
	int			blen = VARSIZE_ANY_EXHDR(b);
	int			cmp;

	cmp = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(alen, blen));
	if (cmp == 0)
		cmp = (alen > blen) - (alen < blen);
	else
		cmp = (cmp > 0) - (cmp < 0);
	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return cmp;
}

/* icp_rule = icp_rule */
Datum
icp_rule_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CompareRules(fcinfo) == 0);
}

/* icp_rule <> icp_rule */
Datum
icp_rule_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CompareRules(fcinfo) != 0);
}

/* icp_rule < icp_rule */
Datum
icp_rule_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CompareRules(fcinfo) < 0);
}

/* icp_rule <= icp_rule */
Datum
icp_rule_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CompareRules(fcinfo) <= 0);
}

/* icp_rule > icp_rule */
Datum
icp_rule_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CompareRules(fcinfo) > 0);
}

/* icp_rule >= icp_rule */
Datum
icp_rule_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CompareRules(fcinfo) >= 0);
}

/* btree support: -1, 0 or 1 */
Datum
icp_rule_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(CompareRules(fcinfo));
}

/* hash support: hash of the serialized form */
Datum
icp_rule_hash(PG_FUNCTION_ARGS)
{
	struct varlena *a = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	Datum		h;

	h = hash_any((const unsigned char *) VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a));
	PG_FREE_IF_COPY(a, 0);
	return h;
}

/* extended hash support (hash partitioning): seeded 64-bit hash */
Datum
icp_rule_hash_extended(PG_FUNCTION_ARGS)
{
	struct varlena *a = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	Datum		h;

	h = hash_any_extended((const unsigned char *) VARDATA_ANY(a),
						  VARSIZE_ANY_EXHDR(a), PG_GETARG_INT64(1));
	PG_FREE_IF_COPY(a, 0);
	return h;
}

typedef struct IcpAttrRef
{
	char	   *name;			/* path joined with '.' */
	int			order;			/* order of appearance */
} IcpAttrRef;

/* Collect the attribute paths of a tree, in order of appearance */
static void
CollectAttrs(const IcpNode *node, IcpAttrRef **refs, int *n, int *cap)
{
	check_stack_depth();
	if (node->tag != ICP_NODE_PRED)
	{
		for (int i = 0; i < node->nchildren; i++)
			CollectAttrs(node->children[i], refs, n, cap);
		return;
	}
	if (*n >= *cap)
	{
		*cap *= 2;
		*refs = repalloc(*refs, *cap * sizeof(IcpAttrRef));
	}
	{
		StringInfoData buf;

		initStringInfo(&buf);
		for (int i = 0; i < node->npath; i++)
		{
			if (i > 0)
				appendStringInfoChar(&buf, '.');
			appendStringInfoString(&buf, node->path[i]);
		}
		(*refs)[*n].name = buf.data;
		(*refs)[*n].order = *n;
		(*n)++;
	}
}

/* qsort comparator: by name, then by order of appearance */
static int
AttrRefByName(const void *a, const void *b)
{
	const IcpAttrRef *x = a;
	const IcpAttrRef *y = b;
	int			c = strcmp(x->name, y->name);

	return (c != 0) ? c : (x->order - y->order);
}

/* qsort comparator: by order of appearance */
static int
AttrRefByOrder(const void *a, const void *b)
{
	return ((const IcpAttrRef *) a)->order - ((const IcpAttrRef *) b)->order;
}

/* icp_rule_attributes(icp_rule): distinct attribute paths, first use first */
Datum
icp_rule_attributes(PG_FUNCTION_ARGS)
{
	IcpNode    *node = IcpDeserializeRule(PG_GETARG_ICPRULE_P(0));
	int			cap = 8;
	int			n = 0;
	int			ndistinct = 0;
	IcpAttrRef *refs = palloc(cap * sizeof(IcpAttrRef));
	Datum	   *elems;

	CollectAttrs(node, &refs, &n, &cap);

	/* keep the first appearance of each name, in O(n log n) */
	qsort(refs, n, sizeof(IcpAttrRef), AttrRefByName);
	for (int i = 0; i < n; i++)
	{
		if (i == 0 || strcmp(refs[i].name, refs[ndistinct - 1].name) != 0)
			refs[ndistinct++] = refs[i];
	}
	qsort(refs, ndistinct, sizeof(IcpAttrRef), AttrRefByOrder);

	elems = palloc(ndistinct * sizeof(Datum));
	for (int i = 0; i < ndistinct; i++)
		elems[i] = CStringGetTextDatum(refs[i].name);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, ndistinct, TEXTOID, -1, false,
										  TYPALIGN_INT));
}
