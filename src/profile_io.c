/*
 * profile_io.c
 *		The icp_profile type: building, JSON text form, send/recv, compiling.
 *
 * A profile value is self-contained: scoring with it reads no table, which is
 * what lets it run in parallel workers and on Citus shards.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/shortest_dec.h"
#include "executor/spi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "profile.h"

PG_FUNCTION_INFO_V1(icp_profile_in);
PG_FUNCTION_INFO_V1(icp_profile_out);
PG_FUNCTION_INFO_V1(icp_profile_recv);
PG_FUNCTION_INFO_V1(icp_profile_send);

static const double default_thresholds[3] = {80, 60, 40};

/* Name of a profile kind as the tables spell it */
const char *
IcpKindName(IcpKind kind)
{
	return kind == ICP_KIND_EXCLUDE ? "exclude" : "ideal";
}

/* Name of a scoring model as the tables spell it */
const char *
IcpModelName(IcpModel model)
{
	return model == ICP_MODEL_LOGISTIC ? "logistic" : "points";
}

/* Name of a missing-data policy as the tables spell it */
const char *
IcpMissingName(IcpMissing missing)
{
	return missing == ICP_MISSING_PENALIZE ? "penalize" : "ignore";
}

/* How messages name a profile: icp profile "x", or an anonymous value */
static char *
ProfileLabel(const char *name)
{
	return name ? psprintf("icp profile \"%s\"", name) :
		pstrdup("an anonymous icp_profile value");
}

/* How messages name a criterion: by id when it has one, else by position */
static char *
CriterionLabel(int64 id, int index)
{
	return id != 0 ? psprintf("criterion %lld", (long long) id) :
		psprintf("criterion %d", index + 1);
}

/*
 * Raise 22003 for a weight (what = "weight of criterion 3") or bias outside
 * +-ICP_MAX_WEIGHT; value is its text.
 */
pg_noreturn static void
ReportWeightOutOfRange(const char *what, const char *value, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s is out of range in %s", what, ProfileLabel(name)),
			 errdetail("The value is %s; weights and the bias must be numbers between -%s and %s, which keeps every sum of weights finite.",
					   value, CppAsString2(ICP_MAX_WEIGHT), CppAsString2(ICP_MAX_WEIGHT)),
			 errhint("Only the ratios of the weights matter in a points profile; in a logistic profile a weight or bias beyond 40 already settles the fit.")));
}

/* The shortest text that reads back as d (NaN and Infinity spelled so) */
static char *
DoubleText(double d)
{
	char	   *buf = palloc(DOUBLE_SHORTEST_DECIMAL_LEN);

	double_to_shortest_decimal_buf(d, buf);
	return buf;
}

/* Check a weight or bias against +-ICP_MAX_WEIGHT (NaN never passes) */
static void
CheckWeight(double w, const char *what, const char *name)
{
	if (!(fabs(w) <= ICP_MAX_WEIGHT))
		ReportWeightOutOfRange(what, DoubleText(w), name);
}

/* Raise the error for an invalid profile setting */
static void
ReportBadProfile(const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid icp_profile value: %s", what),
			 detail ? errdetail("%s", detail) : 0));
}

/*
 * Check the settings shared by tables, JSON input and IcpBuildProfile.  The
 * bound on the bias (and the weights) is left to the JSON input, the table
 * constraints and compiling: the history trigger builds values from the
 * tables, and while a database still holds an out-of-range weight from icp
 * 0.1 that must not block the edits that correct it.
 */
static void
ValidateProfileSettings(double bias, const double *t)
{
	if (!isfinite(bias))
		ReportBadProfile("bias must be a finite number", NULL);
	if (!isfinite(t[0]) || !isfinite(t[1]) || !isfinite(t[2]) ||
		t[0] > 100 || t[2] < 0 || t[0] < t[1] || t[1] < t[2])
		ReportBadProfile("grade_thresholds must be three descending numbers between 0 and 100",
						 "For example [80, 60, 40]: A from 80, B from 60, C from 40, D below.");
}

/*
 * A half-life in seconds, as extract(epoch from half_life) counts it: a
 * day is 24 hours, a month 30 days, a year 365.25 days.
 */
double
IcpIntervalSeconds(const Interval *iv)
{
	return iv->time / (double) USECS_PER_SEC +
		((double) DAYS_PER_YEAR * SECS_PER_DAY) * (iv->month / MONTHS_PER_YEAR) +
		((double) DAYS_PER_MONTH * SECS_PER_DAY) * (iv->month % MONTHS_PER_YEAR) +
		(double) SECS_PER_DAY * iv->day;
}

/* The interval as ISO 8601 text (P1Y2M3DT4H), which every IntervalStyle reads */
static char *
IntervalIsoText(const Interval *iv)
{
	struct pg_itm itm;
	char		buf[MAXDATELEN + 1];

	interval2itm(*iv, &itm);
	EncodeInterval(&itm, INTSTYLE_ISO_8601, buf);
	return pstrdup(buf);
}

/*
 * Check a half-life: more than zero and at most ICP_HALF_LIFE_MAX_YEARS
 * seconds as IcpIntervalSeconds counts them (22023 otherwise).
 */
static void
CheckHalfLife(const Interval *iv, int64 id, int index, const char *name)
{
	double		secs = IcpIntervalSeconds(iv);

	if (!(secs > 0) ||
		secs > ICP_HALF_LIFE_MAX_YEARS * DAYS_PER_YEAR * SECS_PER_DAY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("half_life of %s is out of range in %s",
						CriterionLabel(id, index), ProfileLabel(name)),
				 errdetail("The half-life is %s; it must be longer than zero and at most %d years.",
						   IntervalIsoText(iv), ICP_HALF_LIFE_MAX_YEARS),
				 errhint("Write a half-life such as '30 days': points earned that long ago count half.")));
}

/* Error context while reading a criterion's decay attribute */
typedef struct DecayContextArg
{
	int64		id;
	int			index;
	const char *name;
} DecayContextArg;

/* errcontext: which criterion's decay_on was being read */
static void
DecayErrorCallback(void *arg)
{
	DecayContextArg *d = (DecayContextArg *) arg;

	errcontext("decay_on of %s in %s", CriterionLabel(d->id, d->index),
			   ProfileLabel(d->name));
}

/*
 * Parse a decay attribute (as the rule language writes one) and return its
 * names and canonical text; syntax errors name the profile and criterion.
 */
static char *
ReadDecayAttribute(const char *text, int len, int64 id, int index,
				   const char *name, int *npath, char ***path)
{
	ErrorContextCallback errcb;
	DecayContextArg arg = {id, index, name};
	StringInfoData buf;

	errcb.callback = DecayErrorCallback;
	errcb.arg = &arg;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	IcpParseAttribute(text, len, npath, path);
	error_context_stack = errcb.previous;
	initStringInfo(&buf);
	IcpAppendAttrPath(&buf, *npath, *path);
	return buf.data;
}

/* Serialize a profile from its parts into a fresh varlena */
IcpProfile *
IcpBuildProfile(const char *name, IcpKind kind, IcpModel model,
				IcpMissing missing, double bias, const double *thresholds,
				int ncriteria, const int64 *ids, const double *weights,
				const bool *required, IcpRule **rules)
{
	return IcpBuildProfileDecay(name, kind, model, missing, bias, thresholds,
								ncriteria, ids, weights, required, rules, NULL);
}

/*
 * Serialize a profile from its parts, decays included (decays may be NULL:
 * no criterion decays), into a fresh varlena
 */
IcpProfile *
IcpBuildProfileDecay(const char *name, IcpKind kind, IcpModel model,
					 IcpMissing missing, double bias, const double *thresholds,
					 int ncriteria, const int64 *ids, const double *weights,
					 const bool *required, IcpRule **rules,
					 const IcpDecaySpec *decays)
{
	StringInfoData buf;
	IcpProfileHeader hdr;
	bool		any_decay = false;
	int			i;

	if (thresholds == NULL)
		thresholds = default_thresholds;
	ValidateProfileSettings(bias, thresholds);
	for (i = 0; decays && i < ncriteria; i++)
		any_decay |= (decays[i].decay_on != NULL);

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = any_decay ? ICP_PROFILE_FORMAT_DECAY : ICP_PROFILE_FORMAT_VERSION;
	hdr.kind = (uint8) kind;
	hdr.model = (uint8) model;
	hdr.missing = (uint8) missing;
	hdr.ncriteria = ncriteria;
	hdr.name_len = name ? (int32) strlen(name) : -1;
	hdr.bias = bias;
	memcpy(hdr.thresholds, thresholds, sizeof(hdr.thresholds));

	initStringInfo(&buf);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	appendBinaryStringInfo(&buf, (char *) &hdr, sizeof(hdr));
	if (name)
		appendBinaryStringInfo(&buf, name, hdr.name_len);

	for (i = 0; i < ncriteria; i++)
	{
		IcpCriterionHeader ch;

		if (!isfinite(weights[i]))
			ReportBadProfile("criterion weights must be finite numbers", NULL);
		memset(&ch, 0, sizeof(ch));
		ch.id = ids ? ids[i] : 0;
		ch.weight = weights[i];
		ch.required = required[i] ? 1 : 0;
		ch.rule_len = VARSIZE_ANY_EXHDR(rules[i]);
		if (decays && decays[i].decay_on != NULL)
			ch.flags |= ICP_CRITERION_DECAY;
		appendBinaryStringInfo(&buf, (char *) &ch, sizeof(ch));
		appendBinaryStringInfo(&buf, VARDATA_ANY(rules[i]), ch.rule_len);
		if (ch.flags & ICP_CRITERION_DECAY)
		{
			IcpDecayHeader dh;
			int			npath;
			char	  **path;
			char	   *attr;

			attr = ReadDecayAttribute(decays[i].decay_on, strlen(decays[i].decay_on),
									  ch.id, i, name, &npath, &path);
			CheckHalfLife(&decays[i].half_life, ch.id, i, name);
			memset(&dh, 0, sizeof(dh));
			dh.time = decays[i].half_life.time;
			dh.day = decays[i].half_life.day;
			dh.month = decays[i].half_life.month;
			dh.attr_len = strlen(attr);
			appendBinaryStringInfo(&buf, (char *) &dh, sizeof(dh));
			appendBinaryStringInfo(&buf, attr, dh.attr_len);
		}
	}
	SET_VARSIZE(buf.data, buf.len);
	return (IcpProfile *) buf.data;
}

/* Raise the error for a corrupt serialized profile */
static void
ReportCorruptProfile(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("icp_profile value is corrupt")));
}

/*
 * Walk a serialized profile: fills *hdr and, for each criterion, calls back
 * with its header and rule bytes.  Checks every length against the varlena.
 */
typedef void (*CriterionVisitor) (void *arg, int index,
								  const IcpCriterionHeader *ch,
								  const char *rule, int rule_len,
								  const IcpDecayHeader *dh, const char *attr);

static const char *
WalkProfile(const IcpProfile *value, IcpProfileHeader *hdr,
			CriterionVisitor visit, void *arg)
{
	const char *p = VARDATA_ANY(value);
	const char *end = p + VARSIZE_ANY_EXHDR(value);
	const char *name;
	int			i;

	if (end - p < (long) sizeof(IcpProfileHeader))
		ReportCorruptProfile();
	memcpy(hdr, p, sizeof(IcpProfileHeader));
	p += sizeof(IcpProfileHeader);
	if ((hdr->version != ICP_PROFILE_FORMAT_VERSION &&
		 hdr->version != ICP_PROFILE_FORMAT_DECAY) || hdr->ncriteria < 0 ||
		hdr->name_len < -1 || hdr->name_len > end - p)
		ReportCorruptProfile();
	name = hdr->name_len >= 0 ? p : NULL;
	if (name)
		p += hdr->name_len;
	for (i = 0; i < hdr->ncriteria; i++)
	{
		IcpCriterionHeader ch;
		IcpDecayHeader dh;
		const char *rule;
		const char *attr = NULL;

		if (end - p < (long) sizeof(ch))
			ReportCorruptProfile();
		memcpy(&ch, p, sizeof(ch));
		p += sizeof(ch);
		if (ch.rule_len < 1 || ch.rule_len > end - p)
			ReportCorruptProfile();
		rule = p;
		p += ch.rule_len;
		if ((ch.flags & ~ICP_CRITERION_DECAY) != 0 ||
			(ch.flags != 0 && hdr->version < ICP_PROFILE_FORMAT_DECAY))
			ReportCorruptProfile();
		if (ch.flags & ICP_CRITERION_DECAY)
		{
			if (end - p < (long) sizeof(dh))
				ReportCorruptProfile();
			memcpy(&dh, p, sizeof(dh));
			p += sizeof(dh);
			if (dh.attr_len < 1 || dh.attr_len > end - p)
				ReportCorruptProfile();
			attr = p;
			p += dh.attr_len;
		}
		if (visit)
			visit(arg, i, &ch, rule, ch.rule_len, attr ? &dh : NULL, attr);
	}
	if (p != end)
		ReportCorruptProfile();
	return name;
}

/* Append a double in its shortest exact decimal form */
static void
AppendDouble(StringInfo buf, double d)
{
	char		tmp[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(d, tmp);
	appendStringInfoString(buf, tmp);
}

typedef struct JsonOutState
{
	StringInfo	buf;
} JsonOutState;

/* Append one criterion as a JSON object */
static void
CriterionToJson(void *arg, int index, const IcpCriterionHeader *ch,
				const char *rule, int rule_len,
				const IcpDecayHeader *dh, const char *attr)
{
	JsonOutState *st = (JsonOutState *) arg;
	StringInfoData text;
	IcpNode    *node = IcpDeserializeBytes(rule, rule_len);

	initStringInfo(&text);
	IcpRuleToString(&text, node);
	if (index > 0)
		appendStringInfoString(st->buf, ", ");
	appendStringInfoChar(st->buf, '{');
	if (ch->id != 0)
		appendStringInfo(st->buf, "\"id\": " INT64_FORMAT ", ", ch->id);
	appendStringInfoString(st->buf, "\"rule\": ");
	escape_json(st->buf, text.data);
	appendStringInfoString(st->buf, ", \"weight\": ");
	AppendDouble(st->buf, ch->weight);
	appendStringInfo(st->buf, ", \"required\": %s", ch->required ? "true" : "false");
	if (dh)
	{
		Interval	iv;

		iv.time = dh->time;
		iv.day = dh->day;
		iv.month = dh->month;
		appendStringInfoString(st->buf, ", \"decay_on\": ");
		escape_json(st->buf, pnstrdup(attr, dh->attr_len));
		appendStringInfoString(st->buf, ", \"half_life\": ");
		escape_json(st->buf, IntervalIsoText(&iv));
	}
	appendStringInfoChar(st->buf, '}');
	pfree(text.data);
}

/* Append the canonical JSON text of a profile value */
void
IcpProfileToJson(StringInfo buf, const IcpProfile *value)
{
	IcpProfileHeader hdr;
	const char *name;
	JsonOutState st;

	st.buf = buf;
	/* first pass validates; name points into the value */
	name = WalkProfile(value, &hdr, NULL, NULL);
	appendStringInfoChar(buf, '{');
	if (name)
	{
		char	   *n = pnstrdup(name, hdr.name_len);

		appendStringInfoString(buf, "\"name\": ");
		escape_json(buf, n);
		appendStringInfoString(buf, ", ");
	}
	appendStringInfo(buf, "\"kind\": \"%s\", \"model\": \"%s\", \"bias\": ",
					 IcpKindName(hdr.kind), IcpModelName(hdr.model));
	AppendDouble(buf, hdr.bias);
	appendStringInfo(buf, ", \"missing\": \"%s\", \"grade_thresholds\": [",
					 IcpMissingName(hdr.missing));
	AppendDouble(buf, hdr.thresholds[0]);
	appendStringInfoString(buf, ", ");
	AppendDouble(buf, hdr.thresholds[1]);
	appendStringInfoString(buf, ", ");
	AppendDouble(buf, hdr.thresholds[2]);
	appendStringInfoString(buf, "], \"criteria\": [");
	WalkProfile(value, &hdr, CriterionToJson, &st);
	appendStringInfoString(buf, "]}");
}

/* Report a JSON profile that does not have the expected shape */
static void
ReportBadJson(const char *msg, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type icp_profile: %s", msg),
			 detail ? errdetail("%s", detail) : 0,
			 errhint("An icp_profile is a JSON object such as {\"name\": \"p\", \"model\": \"points\", \"criteria\": [{\"rule\": \"employees > 50\", \"weight\": 10}]}.")));
}

/* The text of a JSON string value, or an error naming the key */
static char *
JsonString(JsonbValue *v, const char *key)
{
	if (v->type != jbvString)
		ReportBadJson(psprintf("\"%s\" must be a string", key), NULL);
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* A finite JSON number as a double, or an error naming the key */
static double
JsonNumber(JsonbValue *v, const char *key)
{
	double		d;

	if (v->type != jbvNumeric)
		ReportBadJson(psprintf("\"%s\" must be a number", key), NULL);
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
										   NumericGetDatum(v->val.numeric)));
	if (!isfinite(d))
		ReportBadJson(psprintf("\"%s\" must be a finite number", key), NULL);
	return d;
}

/*
 * A weight or bias from JSON as a double, refusing (22003) a number beyond
 * +-ICP_MAX_WEIGHT before converting it, so that 1e400 gets the same error
 * as 1e13 rather than a float8 overflow
 */
static double
JsonWeight(JsonbValue *v, const char *key, const char *what, const char *name)
{
	Datum		num;
	Datum		bound;

	if (v->type != jbvNumeric)
		ReportBadJson(psprintf("\"%s\" must be a number", key), NULL);
	num = NumericGetDatum(v->val.numeric);
	bound = NumericGetDatum(int64_to_numeric((int64) ICP_MAX_WEIGHT));
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp,
										  DirectFunctionCall1(numeric_abs, num),
										  bound)) > 0)
	{
		char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, num));

		if (strlen(text) > 24)
		{
			/* 1e400 as 1e+400, not 401 digits: drop the mantissa's zeros */
			char	   *sci = numeric_out_sci(v->val.numeric, 15);
			char	   *e = strchr(sci, 'e');
			char	   *z = e;

			while (z > sci && z[-1] == '0')
				z--;
			if (z > sci && z[-1] == '.')
				z--;
			text = psprintf("%.*s%s", (int) (z - sci), sci, e);
		}
		ReportWeightOutOfRange(what, text, name);
	}
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, num));
}

/* A JSON boolean, or an error naming the key */
static bool
JsonBool(JsonbValue *v, const char *key)
{
	if (v->type != jbvBool)
		ReportBadJson(psprintf("\"%s\" must be true or false", key), NULL);
	return v->val.boolean;
}

/* Collect the elements of a JSON array (skipping nested content) */
static List *
JsonArrayElements(JsonbValue *v, const char *key)
{
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken tok;
	List	   *result = NIL;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		ReportBadJson(psprintf("\"%s\" must be an array", key), NULL);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		if (tok == WJB_ELEM)
		{
			JsonbValue *copy = palloc(sizeof(JsonbValue));

			*copy = elem;
			result = lappend(result, copy);
		}
	}
	return result;
}

/* Parse the JSON text form into a serialized profile */
IcpProfile *
IcpProfileFromJson(const char *json)
{
	Jsonb	   *jb;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *name = NULL;
	IcpKind		kind = ICP_KIND_IDEAL;
	IcpModel	model = ICP_MODEL_POINTS;
	IcpMissing	missing = ICP_MISSING_IGNORE;
	double		bias = 0;
	double		thresholds[3] = {80, 60, 40};
	List	   *criteria = NIL;
	JsonbValue	bias_v;
	bool		have_bias = false;
	int			n,
				i;
	int64	   *ids;
	double	   *weights;
	bool	   *required;
	IcpRule   **rules;
	IcpDecaySpec *decays;
	ListCell   *lc;

	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
	if (!JB_ROOT_IS_OBJECT(jb))
		ReportBadJson("the value must be a JSON object", NULL);

	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(v.val.string.val, v.val.string.len);
		tok = JsonbIteratorNext(&it, &v, true);
		Assert(tok == WJB_VALUE);
		if (strcmp(key, "name") == 0)
			name = v.type == jbvNull ? NULL : JsonString(&v, key);
		else if (strcmp(key, "kind") == 0)
		{
			char	   *s = JsonString(&v, key);

			if (strcmp(s, "ideal") == 0)
				kind = ICP_KIND_IDEAL;
			else if (strcmp(s, "exclude") == 0)
				kind = ICP_KIND_EXCLUDE;
			else
				ReportBadJson(psprintf("unknown kind \"%s\"", s),
							  "The kind is \"ideal\" or \"exclude\".");
		}
		else if (strcmp(key, "model") == 0)
		{
			char	   *s = JsonString(&v, key);

			if (strcmp(s, "points") == 0)
				model = ICP_MODEL_POINTS;
			else if (strcmp(s, "logistic") == 0)
				model = ICP_MODEL_LOGISTIC;
			else
				ReportBadJson(psprintf("unknown model \"%s\"", s),
							  "The model is \"points\" or \"logistic\".");
		}
		else if (strcmp(key, "missing") == 0)
		{
			char	   *s = JsonString(&v, key);

			if (strcmp(s, "ignore") == 0)
				missing = ICP_MISSING_IGNORE;
			else if (strcmp(s, "penalize") == 0)
				missing = ICP_MISSING_PENALIZE;
			else
				ReportBadJson(psprintf("unknown missing policy \"%s\"", s),
							  "The missing policy is \"ignore\" or \"penalize\".");
		}
		else if (strcmp(key, "bias") == 0)
		{
			/* read once the name is known: keys come sorted, bias first */
			bias_v = v;
			have_bias = true;
		}
		else if (strcmp(key, "grade_thresholds") == 0)
		{
			List	   *elems = JsonArrayElements(&v, key);

			if (list_length(elems) != 3)
				ReportBadJson("\"grade_thresholds\" must have three numbers", NULL);
			for (i = 0; i < 3; i++)
				thresholds[i] = JsonNumber(list_nth(elems, i), key);
		}
		else if (strcmp(key, "criteria") == 0)
			criteria = JsonArrayElements(&v, key);
		else if (strcmp(key, "description") == 0 || strcmp(key, "active") == 0)
			 /* accepted for convenience, not part of the value */ ;
		else
			ReportBadJson(psprintf("unknown key \"%s\"", key),
						  "Known keys are name, kind, model, bias, missing, grade_thresholds and criteria.");
	}

	if (have_bias)
		bias = JsonWeight(&bias_v, "bias", "bias", name);

	n = list_length(criteria);
	ids = palloc0(sizeof(int64) * Max(n, 1));
	weights = palloc0(sizeof(double) * Max(n, 1));
	required = palloc0(sizeof(bool) * Max(n, 1));
	rules = palloc0(sizeof(IcpRule *) * Max(n, 1));
	decays = palloc0(sizeof(IcpDecaySpec) * Max(n, 1));
	i = 0;
	foreach(lc, criteria)
	{
		JsonbValue *c = (JsonbValue *) lfirst(lc);
		bool		have_rule = false;
		bool		have_half_life = false;

		weights[i] = 1;
		if (c->type != jbvBinary || !JsonContainerIsObject(c->val.binary.data))
			ReportBadJson(psprintf("criterion %d must be a JSON object", i + 1), NULL);
		it = JsonbIteratorInit(c->val.binary.data);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			char	   *key;

			if (tok != WJB_KEY)
				continue;
			key = pnstrdup(v.val.string.val, v.val.string.len);
			tok = JsonbIteratorNext(&it, &v, true);
			if (strcmp(key, "rule") == 0)
			{
				char	   *s = JsonString(&v, key);

				rules[i] = IcpRuleFromCString(s, strlen(s));
				have_rule = true;
			}
			else if (strcmp(key, "weight") == 0)
				weights[i] = JsonWeight(&v, key,
										psprintf("weight of %s", CriterionLabel(ids[i], i)),
										name);
			else if (strcmp(key, "required") == 0)
				required[i] = JsonBool(&v, key);
			else if (strcmp(key, "id") == 0)
			{
				if (v.type == jbvNull)
					ids[i] = 0;
				else
				{
					double		d = JsonNumber(&v, key);

					if (d != floor(d) || d < 0 || d > 9.0e15)
						ReportBadJson("criterion \"id\" must be a positive integer", NULL);
					ids[i] = (int64) d;
				}
			}
			else if (strcmp(key, "decay_on") == 0)
				decays[i].decay_on = v.type == jbvNull ? NULL : JsonString(&v, key);
			else if (strcmp(key, "half_life") == 0)
			{
				if (v.type != jbvNull)
				{
					char	   *text = JsonString(&v, key);
					char	   *err = NULL;
					bool		style_dependent;
					Interval   *iv = IcpReadInterval(text, &err, &style_dependent);

					if (iv == NULL)
						ReportBadJson(psprintf("\"half_life\" of criterion %d is not an interval", i + 1),
									  style_dependent ?
									  psprintf("The interval '%s' reads differently under IntervalStyle sql_standard; give each part its own sign.", text) :
									  psprintf("%s.", err));
					decays[i].half_life = *iv;
					have_half_life = true;
				}
			}
			else if (strcmp(key, "dimension") == 0 || strcmp(key, "note") == 0)
				 /* accepted for convenience, not part of the value */ ;
			else
				ReportBadJson(psprintf("unknown key \"%s\" in criterion %d", key, i + 1),
							  "Known criterion keys are id, rule, weight, required, decay_on and half_life.");
		}
		if (!have_rule)
			ReportBadJson(psprintf("criterion %d has no \"rule\"", i + 1), NULL);
		if ((decays[i].decay_on != NULL) != have_half_life)
			ReportBadJson(psprintf("criterion %d must give both \"decay_on\" and \"half_life\", or neither", i + 1),
						  "A decaying criterion names the time attribute its points age by and their half-life.");
		i++;
	}

	return IcpBuildProfileDecay(name, kind, model, missing, bias, thresholds, n,
								ids, weights, required, rules, decays);
}

typedef struct CompileState
{
	IcpCompiled *cp;
} CompileState;

/*
 * Check the WITHIN intervals of a decoded rule.  Values stored before the
 * parser checked them (or built elsewhere) may hold intervals the scorer
 * could not subtract from now(): refuse them here, naming the criterion,
 * rather than failing on every row.
 */
static void
CheckWithinIntervals(const IcpNode *node, IcpCompiled *cp, const IcpCriterion *c,
					 int index)
{
	check_stack_depth();
	if (node->tag != ICP_NODE_PRED)
	{
		for (int i = 0; i < node->nchildren; i++)
			CheckWithinIntervals(node->children[i], cp, c, index);
		return;
	}
	if (node->op == ICP_OP_WITHIN && node->nlits == 1)
	{
		char	   *err = NULL;
		IcpWithinProblem problem = IcpCheckWithinInterval(node->lits[0].str, &err);

		if (problem != ICP_WITHIN_OK)
			IcpReportWithinProblem(problem, node->lits[0].str,
								   psprintf("in %s of %s",
											CriterionLabel(c->id, index),
											ProfileLabel(cp->name)),
								   psprintf("The criterion's rule is %s%s%s.",
											c->rule_text, err ? ": " : "",
											err ? err : ""));
	}
}

/* Decode one criterion into the compiled profile */
static void
CompileCriterion(void *arg, int index, const IcpCriterionHeader *ch,
				 const char *rule, int rule_len,
				 const IcpDecayHeader *dh, const char *attr)
{
	IcpCompiled *cp = ((CompileState *) arg)->cp;
	IcpCriterion *c = &cp->criteria[index];
	StringInfoData text;

	c->id = ch->id;
	c->weight = ch->weight;
	c->required = ch->required != 0;
	c->rule = IcpDeserializeBytes(rule, rule_len);
	initStringInfo(&text);
	IcpRuleToString(&text, c->rule);
	c->rule_text = text.data;
	CheckWeight(c->weight, psprintf("weight of %s", CriterionLabel(c->id, index)),
				cp->name);
	CheckWithinIntervals(c->rule, cp, c, index);
	cp->total_abs_weight += fabs(ch->weight);
	if (dh)
	{
		c->decays = true;
		c->half_life.time = dh->time;
		c->half_life.day = dh->day;
		c->half_life.month = dh->month;
		CheckHalfLife(&c->half_life, c->id, index, cp->name);
		c->half_life_secs = IcpIntervalSeconds(&c->half_life);
		c->decay_on = ReadDecayAttribute(attr, dh->attr_len, c->id, index, cp->name,
										 &c->decay_npath, &c->decay_path);
		/* the stored text is canonical: anything else is not ours */
		if ((int) strlen(c->decay_on) != dh->attr_len ||
			memcmp(c->decay_on, attr, dh->attr_len) != 0)
			ReportCorruptProfile();
	}
}

/* Decode a profile value into a compiled profile in a new child context */
IcpCompiled *
IcpCompileProfile(const IcpProfile *value, MemoryContext parent)
{
	MemoryContext cxt,
				old;
	IcpCompiled *cp;
	IcpProfileHeader hdr;
	const char *name;
	CompileState st;

	cxt = AllocSetContextCreate(parent, "icp compiled profile",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		cp = palloc0(sizeof(IcpCompiled));
		cp->cxt = cxt;
		cp->value = (IcpProfile *) palloc(VARSIZE_ANY(value));
		memcpy(cp->value, value, VARSIZE_ANY(value));
		name = WalkProfile(cp->value, &hdr, NULL, NULL);
		cp->name = name ? pnstrdup(name, hdr.name_len) : NULL;
		cp->kind = hdr.kind;
		cp->model = hdr.model;
		cp->missing = hdr.missing;
		cp->bias = hdr.bias;
		CheckWeight(cp->bias, "bias", cp->name);
		memcpy(cp->thresholds, hdr.thresholds, sizeof(cp->thresholds));
		cp->active = true;
		cp->ncriteria = hdr.ncriteria;
		cp->criteria = palloc0(sizeof(IcpCriterion) * Max(hdr.ncriteria, 1));
		st.cp = cp;
		WalkProfile(cp->value, &hdr, CompileCriterion, &st);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return cp;
}

/* icp_profile input: JSON text */
Datum
icp_profile_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);

	PG_RETURN_POINTER(IcpProfileFromJson(str));
}

/* icp_profile output: canonical JSON text */
Datum
icp_profile_out(PG_FUNCTION_ARGS)
{
	IcpProfile *value = PG_GETARG_ICPPROFILE_P(0);
	StringInfoData buf;

	initStringInfo(&buf);
	IcpProfileToJson(&buf, value);
	PG_RETURN_CSTRING(buf.data);
}

/* icp_profile binary input: a version byte and the JSON text */
Datum
icp_profile_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version = pq_getmsgbyte(buf);
	char	   *text;
	int			nbytes;

	if (version != ICP_PROFILE_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported icp_profile binary format version %d", version)));
	text = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
	PG_RETURN_POINTER(IcpProfileFromJson(text));
}

/* icp_profile binary output: a version byte and the JSON text */
Datum
icp_profile_send(PG_FUNCTION_ARGS)
{
	IcpProfile *value = PG_GETARG_ICPPROFILE_P(0);
	StringInfoData text;
	StringInfoData buf;

	initStringInfo(&text);
	IcpProfileToJson(&text, value);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, ICP_PROFILE_FORMAT_VERSION);
	pq_sendtext(&buf, text.data, text.len);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(icp_check_weights);

/*
 * BEFORE INSERT OR UPDATE row trigger on icp_criteria (column weight) and
 * icp_profiles (column bias): refuse a value outside +-ICP_MAX_WEIGHT with
 * 22003 naming the profile and criterion.  The tables' CHECK constraints
 * say the same; the trigger fires first and gives the numeric error.
 */
Datum
icp_check_weights(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	TupleDesc	tupdesc;
	bool		criteria;
	int			attno;
	bool		isnull;
	double		w;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(td->tg_event) || TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("icp_check_weights() must be called as a BEFORE INSERT OR UPDATE row trigger")));
	tuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	tupdesc = RelationGetDescr(td->tg_relation);
	criteria = (SPI_fnumber(tupdesc, "weight") > 0);
	attno = SPI_fnumber(tupdesc, criteria ? "weight" : "bias");
	if (attno <= 0 || TupleDescAttr(tupdesc, attno - 1)->atttypid != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("icp_check_weights() must be a trigger on icp_criteria or icp_profiles")));
	w = DatumGetFloat8(heap_getattr(tuple, attno, tupdesc, &isnull));
	if (!isnull && !(fabs(w) <= ICP_MAX_WEIGHT))
	{
		int			profno = SPI_fnumber(tupdesc, criteria ? "profile" : "name");
		int			idno = criteria ? SPI_fnumber(tupdesc, "id") : 0;
		char	   *profile = profno > 0 ? SPI_getvalue(tuple, tupdesc, profno) : NULL;
		char	   *id = idno > 0 ? SPI_getvalue(tuple, tupdesc, idno) : NULL;

		ReportWeightOutOfRange(criteria ?
							   (id ? psprintf("weight of criterion %s", id) : "weight") :
							   "bias", DoubleText(w), profile);
	}
	return PointerGetDatum(tuple);
}
