/*
 * profile.h
 *		The icp_profile value type, compiled profiles and the profile cache.
 *
 * An IcpProfile is a whole profile (model, bias, thresholds, missing policy,
 * criteria with their serialized rules) in one varlena.  Its text form is
 * JSON.  Scoring turns a value into an IcpCompiled (rules deserialized), then
 * binds that to each row type it meets (see bind.h).
 */
#ifndef ICP_PROFILE_H
#define ICP_PROFILE_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "rule.h"

/*
 * Version 1: criteria without decay (icp 0.1, 0.2).  Version 2 (0.3) lets a
 * criterion carry a decay (ICP_CRITERION_DECAY).  A value is written as
 * version 1 whenever none of its criteria decays, so values without decay
 * keep the bytes they always had; both versions are read.
 */
#define ICP_PROFILE_FORMAT_VERSION 1
#define ICP_PROFILE_FORMAT_DECAY 2

/* Longest half-life, in years of 365.25 days (as for WITHIN intervals) */
#define ICP_HALF_LIFE_MAX_YEARS ICP_WITHIN_MAX_YEARS

/*
 * Largest absolute value of a criterion's weight and of a profile's bias.
 * Sums of weights then stay finite for any number of criteria a profile can
 * have (it would take 10^296 of them to overflow a float8), so no fit is NaN.
 * The icp_criteria and icp_profiles tables check the same bound.
 */
#define ICP_MAX_WEIGHT 1e12

typedef enum IcpKind
{
	ICP_KIND_IDEAL = 0,
	ICP_KIND_EXCLUDE = 1
} IcpKind;

typedef enum IcpModel
{
	ICP_MODEL_POINTS = 0,
	ICP_MODEL_LOGISTIC = 1
} IcpModel;

typedef enum IcpMissing
{
	ICP_MISSING_IGNORE = 0,
	ICP_MISSING_PENALIZE = 1
} IcpMissing;

/*
 * Fixed part of a serialized profile.  It is followed by the name bytes
 * (name_len, no terminator) and then, for each criterion, an
 * IcpCriterionHeader, the rule's serialized bytes (rule_len) and, when the
 * criterion decays (version 2), an IcpDecayHeader and the decay attribute's
 * canonical text (attr_len bytes).  Fields are read with memcpy, so the
 * varlena needs no particular alignment of its parts.
 */
typedef struct IcpProfileHeader
{
	uint8		version;
	uint8		kind;
	uint8		model;
	uint8		missing;
	int32		ncriteria;
	int32		name_len;		/* -1: the value has no name */
	int32		pad;
	double		bias;
	double		thresholds[3];	/* A, B, C */
} IcpProfileHeader;

typedef struct IcpCriterionHeader
{
	int64		id;				/* 0 when the value gives none */
	double		weight;
	int32		rule_len;
	uint8		required;
	uint8		flags;			/* ICP_CRITERION_*; always 0 in version 1 */
	uint8		pad[2];
} IcpCriterionHeader;

#define ICP_CRITERION_DECAY 0x01

/* The decay of a criterion in a serialized profile */
typedef struct IcpDecayHeader
{
	int64		time;			/* half-life: microseconds part */
	int32		day;			/* days part */
	int32		month;			/* months part */
	int32		attr_len;		/* bytes of the attribute text that follow */
	int32		pad;
} IcpDecayHeader;

/*
 * A criterion's decay as IcpBuildProfileDecay takes it: the attribute as
 * the rule language writes it and the half-life.
 */
typedef struct IcpDecaySpec
{
	const char *decay_on;		/* NULL: the criterion does not decay */
	Interval	half_life;
} IcpDecaySpec;

typedef struct varlena IcpProfile;

#define DatumGetIcpProfileP(X)		((IcpProfile *) PG_DETOAST_DATUM(X))
#define PG_GETARG_ICPPROFILE_P(n)	DatumGetIcpProfileP(PG_GETARG_DATUM(n))

/* One criterion of a compiled profile */
typedef struct IcpCriterion
{
	int64		id;
	double		weight;
	bool		required;
	IcpNode    *rule;			/* deserialized tree */
	char	   *rule_text;		/* canonical text, for messages and explain */
	/* decay: TRUE earns weight * 0.5 ^ (age / half_life) */
	bool		decays;
	char	   *decay_on;		/* canonical attribute text */
	int			decay_npath;	/* its names */
	char	  **decay_path;
	Interval	half_life;
	double		half_life_secs; /* as extract(epoch from half_life) */
} IcpCriterion;

struct IcpBinding;

/*
 * A profile ready to bind: everything decoded, in its own memory context.
 * Immutable once compiled, except for its list of bindings.  Reference
 * counted: the profile cache holds one pin while the entry is current, and
 * every call site using it holds one; it is freed when the last pin goes
 * (IcpUnpinProfile), never while anyone uses it.
 */
typedef struct IcpCompiled
{
	MemoryContext cxt;			/* owns everything below */
	uint64		id;				/* unique in this backend: identity */
	int			refcount;		/* pins */
	char	   *name;			/* NULL for an anonymous value */
	IcpKind		kind;
	IcpModel	model;
	IcpMissing	missing;
	double		bias;
	double		thresholds[3];
	bool		active;			/* from the table; true for values */
	int			ncriteria;
	IcpCriterion *criteria;
	double		total_abs_weight;	/* for coverage */
	IcpProfile *value;			/* the serialized value it came from */
	struct IcpBinding *bindings;	/* bound row types and jsonb, a list */
} IcpCompiled;

/* profile_io.c */
extern IcpProfile *IcpProfileFromJson(const char *json);
extern void IcpProfileToJson(StringInfo buf, const IcpProfile *value);
extern IcpCompiled *IcpCompileProfile(const IcpProfile *value, MemoryContext parent);
extern IcpProfile *IcpBuildProfile(const char *name, IcpKind kind, IcpModel model,
								   IcpMissing missing, double bias,
								   const double *thresholds, int ncriteria,
								   const int64 *ids, const double *weights,
								   const bool *required, IcpRule **rules);
extern IcpProfile *IcpBuildProfileDecay(const char *name, IcpKind kind, IcpModel model,
										IcpMissing missing, double bias,
										const double *thresholds, int ncriteria,
										const int64 *ids, const double *weights,
										const bool *required, IcpRule **rules,
										const IcpDecaySpec *decays);
extern double IcpIntervalSeconds(const Interval *iv);

/* profile_cache.c */
extern Oid	IcpExtensionSchema(void);
extern char *IcpProfileTableName(bool criteria);
extern bool IcpIsProfileTable(Oid relid, bool *criteria);
extern IcpCompiled *IcpNewCompiled(const IcpProfile *value);
extern void IcpPinProfile(IcpCompiled *cp);
extern void IcpUnpinProfile(IcpCompiled *cp);
extern IcpCompiled *IcpAcquireProfileByName(const char *name, bool missing_ok);
extern void IcpReleaseProfile(IcpCompiled *cp);
extern char *IcpDefaultProfileName(void);
extern List *IcpActiveProfileNames(void);
extern IcpProfile *IcpLoadProfileValue(const char *name, bool missing_ok, bool *active);

/*
 * Which session settings a binding's constants depend on (IcpSettings):
 * date/time literals on DateStyle and TimeZone, intervals (and WITHIN) on
 * IntervalStyle, money on lc_monetary, reg* on search_path; a type icp
 * does not know may depend on any of them.
 */
#define ICP_DEP_DATETIME	0x01
#define ICP_DEP_INTERVAL	0x02
#define ICP_DEP_MONEY		0x04
#define ICP_DEP_SEARCH_PATH	0x08
#define ICP_DEP_ALL			0x0F

/*
 * The session settings constants are converted under: date and time
 * literals depend on TimeZone and DateStyle, intervals on IntervalStyle,
 * money on lc_monetary, regclass and the like on search_path.  A binding is only used under the settings it was
 * built with.
 */
typedef struct IcpSettings
{
	int			datestyle;
	int			dateorder;
	int			intervalstyle;
	const void *tz;				/* session_timezone: pg_tz entries are never
								 * freed, so the same pointer is the same zone */
	char		timezone[256];
	char		monetary[256];
	char		search_path[1024];	/* reg* literals resolve names by it */
} IcpSettings;

/*
 * What a call site's profile (and binding) were resolved under.  While it
 * is unchanged the call site may keep using them; any change (a catalog or
 * profile invalidation, another role, another snapshot, other session
 * settings) sends it back to the cache, which re-checks everything.
 */
typedef struct IcpUseKey
{
	bool		valid;
	uint64		catalog_generation;
	Oid			userid;
	uint32		snap_cid;
	uint32		snap_xmin;
	uint32		snap_xmax;
	uint32		snap_xcnt;
	uint32		snap_lxid;
	IcpSettings settings;
	int			deps;			/* which of settings matter (ICP_DEP_*) */
} IcpUseKey;

extern void IcpCurrentSettings(IcpSettings *s);
extern bool IcpSettingsMatch(const IcpSettings *s, int deps);
extern uint64 IcpUseKeyBegin(void);
extern void IcpUseKeyTake(IcpUseKey *key, uint64 catalog_generation, int deps);
extern bool IcpUseKeyValid(const IcpUseKey *key);
extern uint64 IcpCatalogGeneration;

extern const char *IcpKindName(IcpKind kind);
extern const char *IcpModelName(IcpModel model);
extern const char *IcpMissingName(IcpMissing missing);

#endif							/* ICP_PROFILE_H */
