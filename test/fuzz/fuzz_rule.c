/*
 * fuzz_rule.c
 *		libFuzzer targets for the rule parser (text input) and the binary
 *		rule decoder (what icp_rule_recv reads).
 *
 * Built twice by test/fuzz/run.sh: without FUZZ_RECV the input is rule text,
 * with it the input is a serialized rule.  Beyond "no crash, no sanitizer
 * report", each accepted input must satisfy the type's promises:
 *   text:   parse -> print -> parse gives the same serialized value, and the
 *           serialized value decodes and re-encodes to itself;
 *   binary: what icp_rule_recv does (decode, print, parse again: the parse
 *           may refuse what only it checks, such as a bad regex); when the
 *           parse accepts, printing is idempotent.
 * A broken promise aborts, which libFuzzer reports as a crash.
 */
#include "postgres.h"

#include "rule.h"
#include "pgstub.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Serialize, or NULL on error */
static IcpRule *
TrySerialize(const IcpNode *node)
{
	return IcpSerializeRule(node);
}

/* Equal serialized values */
static bool
SameRule(const IcpRule *a, const IcpRule *b)
{
	return VARSIZE(a) == VARSIZE(b) &&
		memcmp(VARDATA(a), VARDATA(b), VARSIZE(a) - VARHDRSZ) == 0;
}

/* Parse text; false when the parser raised an error */
static bool
TryParse(const char *text, int len, IcpNode **node)
{
	sigjmp_buf	local;
	sigjmp_buf *save = PG_exception_stack;
	bool		ok = false;

	if (sigsetjmp(local, 0) == 0)
	{
		PG_exception_stack = &local;
		*node = IcpParseRule(text, len);
		ok = true;
	}
	PG_exception_stack = save;
	return ok;
}

/* Decode bytes; false when the decoder raised an error */
static bool
TryDecode(const char *bytes, int len, IcpNode **node)
{
	sigjmp_buf	local;
	sigjmp_buf *save = PG_exception_stack;
	bool		ok = false;

	if (sigsetjmp(local, 0) == 0)
	{
		PG_exception_stack = &local;
		*node = IcpDeserializeBytes(bytes, len);
		ok = true;
	}
	PG_exception_stack = save;
	return ok;
}

/* Print a tree to text */
static char *
Print(const IcpNode *node)
{
	StringInfoData buf;

	initStringInfo(&buf);
	IcpRuleToString(&buf, node);
	return buf.data;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		stack_base;
	IcpNode    *node;
	IcpNode    *again;
	char	   *text;

	StubStackBase = &stack_base;
	if (size > 1 << 20)
		return 0;

#ifndef FUZZ_RECV
	{
		char	   *input = palloc(size + 1);
		IcpRule    *ser;
		IcpRule    *ser2;

		memcpy(input, data, size);
		input[size] = '\0';
		if (TryParse(input, (int) size, &node))
		{
			ser = TrySerialize(node);
			text = Print(node);
			if (!TryParse(text, strlen(text), &again))
				abort();		/* canonical text does not parse */
			ser2 = TrySerialize(again);
			if (!SameRule(ser, ser2))
				abort();		/* text round trip changed the rule */
			if (!TryDecode(VARDATA(ser), VARSIZE(ser) - VARHDRSZ, &again))
				abort();		/* a serialized rule does not decode */
			if (!SameRule(ser, TrySerialize(again)))
				abort();		/* binary round trip changed the rule */
		}
	}
#else
	if (TryDecode((const char *) data, (int) size, &node))
	{
		text = Print(node);
		if (TryParse(text, strlen(text), &again) &&
			strcmp(Print(again), Print(IcpDeserializeRule(IcpSerializeRule(again)))) != 0)
			abort();			/* the canonical text is not stable */
	}
#endif
	StubResetMemory();
	return 0;
}
