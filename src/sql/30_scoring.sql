
-- ---------------------------------------------------------------------------
-- Profile values and scoring.  An icp_profile is a whole profile (model,
-- bias, thresholds, missing policy, criteria) as one immutable value, JSON as
-- text; scoring with it reads no table.  icp_fit, icp_grade, icp_score and
-- icp_explain take an account (any record, or a jsonb object) and a profile
-- name or value; the formulas are in the README (Scoring).
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.icp_profile;

CREATE FUNCTION @extschema@.icp_profile_in(pg_catalog.cstring)
RETURNS @extschema@.icp_profile
AS 'MODULE_PATHNAME', 'icp_profile_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_profile_out(@extschema@.icp_profile)
RETURNS pg_catalog.cstring
AS 'MODULE_PATHNAME', 'icp_profile_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_profile_recv(pg_catalog.internal)
RETURNS @extschema@.icp_profile
AS 'MODULE_PATHNAME', 'icp_profile_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_profile_send(@extschema@.icp_profile)
RETURNS pg_catalog.bytea
AS 'MODULE_PATHNAME', 'icp_profile_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.icp_profile (
    INPUT = @extschema@.icp_profile_in,
    OUTPUT = @extschema@.icp_profile_out,
    RECEIVE = @extschema@.icp_profile_recv,
    SEND = @extschema@.icp_profile_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);

COMMENT ON TYPE @extschema@.icp_profile IS
    'A whole profile (model, bias, thresholds, missing policy, criteria) as one immutable value; text form is JSON';
COMMENT ON FUNCTION @extschema@.icp_profile_in(pg_catalog.cstring) IS 'icp_profile input: JSON text';
COMMENT ON FUNCTION @extschema@.icp_profile_out(@extschema@.icp_profile) IS 'icp_profile output: canonical JSON text';
COMMENT ON FUNCTION @extschema@.icp_profile_recv(pg_catalog.internal) IS 'icp_profile binary input';
COMMENT ON FUNCTION @extschema@.icp_profile_send(@extschema@.icp_profile) IS 'icp_profile binary output';

CREATE FUNCTION @extschema@.icp_profile(name pg_catalog.text)
RETURNS @extschema@.icp_profile
AS 'MODULE_PATHNAME', 'icp_profile_by_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_profile(pg_catalog.text) IS
    'The current value of a stored profile; score with it to avoid table access (parallel workers, Citus shards)';

-- icp_profile('name') with an untyped literal would be parsed as a cast to
-- the type icp_profile (a JSON value); this exact match keeps it a lookup.
CREATE FUNCTION @extschema@.icp_profile(name pg_catalog.unknown)
RETURNS @extschema@.icp_profile
AS 'MODULE_PATHNAME', 'icp_profile_by_name_literal'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_profile(pg_catalog.unknown) IS
    'icp_profile(''name'') written with a literal: the current value of that stored profile';

-- Planner support: icp_fit(l, ...) on a table row is rewritten to take the
-- row's columns directly (see src/support.c).
CREATE FUNCTION @extschema@.icp_support(pg_catalog.internal)
RETURNS pg_catalog.internal
AS 'MODULE_PATHNAME', 'icp_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_support(pg_catalog.internal) IS
    'Planner support of icp_fit, icp_grade and icp_score: scores table rows from their columns';

CREATE FUNCTION @extschema@.icp_fit_columns(VARIADIC "any")
RETURNS double precision
AS 'MODULE_PATHNAME', 'icp_fit_columns'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_grade_columns(VARIADIC "any")
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_grade_columns'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE TYPE @extschema@.icp_score_result AS (
    fit double precision,
    grade pg_catalog.text,
    coverage double precision,
    disqualified boolean,
    profile pg_catalog.text
);

CREATE FUNCTION @extschema@.icp_score_columns(VARIADIC "any")
RETURNS @extschema@.icp_score_result
AS 'MODULE_PATHNAME', 'icp_score_columns'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_fit_columns("any") IS
    'Internal: icp_fit on the columns of a table row, as the planner rewrites it';
COMMENT ON FUNCTION @extschema@.icp_grade_columns("any") IS
    'Internal: icp_grade on the columns of a table row, as the planner rewrites it';
COMMENT ON FUNCTION @extschema@.icp_score_columns("any") IS
    'Internal: icp_score on the columns of a table row, as the planner rewrites it';

-- Internal entry points are not for PUBLIC: the planner rewrite only uses
-- them for roles granted EXECUTE (README, Privileges).
REVOKE ALL ON FUNCTION @extschema@.icp_fit_columns("any") FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.icp_grade_columns("any") FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.icp_score_columns("any") FROM PUBLIC;

COMMENT ON TYPE @extschema@.icp_score_result IS
    'Result of icp_score: fit 0-100, grade A-D, coverage 0-1 (share of weight whose outcome was known), knock-out flag, profile name';

CREATE FUNCTION @extschema@.icp_fit(account record)
RETURNS double precision
AS 'MODULE_PATHNAME', 'icp_fit_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_fit(record) IS
    'The fit 0-100 of an account (record) against the default profile';

CREATE FUNCTION @extschema@.icp_fit(account record, profile pg_catalog.text)
RETURNS double precision
AS 'MODULE_PATHNAME', 'icp_fit_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_fit(record, pg_catalog.text) IS
    'The fit 0-100 of an account (record) against the named profile';

CREATE FUNCTION @extschema@.icp_fit(account record, profile @extschema@.icp_profile)
RETURNS double precision
AS 'MODULE_PATHNAME', 'icp_fit_record_value'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_fit(record, @extschema@.icp_profile) IS
    'The fit 0-100 of an account (record) against a profile value (reads no table)';

CREATE FUNCTION @extschema@.icp_fit(account pg_catalog.jsonb)
RETURNS double precision
AS 'MODULE_PATHNAME', 'icp_fit_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_fit(pg_catalog.jsonb) IS
    'The fit 0-100 of an account (jsonb) against the default profile';

CREATE FUNCTION @extschema@.icp_fit(account pg_catalog.jsonb, profile pg_catalog.text)
RETURNS double precision
AS 'MODULE_PATHNAME', 'icp_fit_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_fit(pg_catalog.jsonb, pg_catalog.text) IS
    'The fit 0-100 of an account (jsonb) against the named profile';

CREATE FUNCTION @extschema@.icp_fit(account pg_catalog.jsonb, profile @extschema@.icp_profile)
RETURNS double precision
AS 'MODULE_PATHNAME', 'icp_fit_jsonb_value'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_fit(pg_catalog.jsonb, @extschema@.icp_profile) IS
    'The fit 0-100 of an account (jsonb) against a profile value (reads no table)';

CREATE FUNCTION @extschema@.icp_grade(account record)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_grade_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_grade(record) IS
    'The grade A, B, C or D of an account (record) against the default profile';

CREATE FUNCTION @extschema@.icp_grade(account record, profile pg_catalog.text)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_grade_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_grade(record, pg_catalog.text) IS
    'The grade A, B, C or D of an account (record) against the named profile';

CREATE FUNCTION @extschema@.icp_grade(account record, profile @extschema@.icp_profile)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_grade_record_value'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_grade(record, @extschema@.icp_profile) IS
    'The grade A, B, C or D of an account (record) against a profile value (reads no table)';

CREATE FUNCTION @extschema@.icp_grade(account pg_catalog.jsonb)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_grade_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_grade(pg_catalog.jsonb) IS
    'The grade A, B, C or D of an account (jsonb) against the default profile';

CREATE FUNCTION @extschema@.icp_grade(account pg_catalog.jsonb, profile pg_catalog.text)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_grade_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_grade(pg_catalog.jsonb, pg_catalog.text) IS
    'The grade A, B, C or D of an account (jsonb) against the named profile';

CREATE FUNCTION @extschema@.icp_grade(account pg_catalog.jsonb, profile @extschema@.icp_profile)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_grade_jsonb_value'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_grade(pg_catalog.jsonb, @extschema@.icp_profile) IS
    'The grade A, B, C or D of an account (jsonb) against a profile value (reads no table)';

CREATE FUNCTION @extschema@.icp_score(account record)
RETURNS @extschema@.icp_score_result
AS 'MODULE_PATHNAME', 'icp_score_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_score(record) IS
    'Fit, grade, coverage, disqualified and profile of an account (record) against the default profile';

CREATE FUNCTION @extschema@.icp_score(account record, profile pg_catalog.text)
RETURNS @extschema@.icp_score_result
AS 'MODULE_PATHNAME', 'icp_score_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_score(record, pg_catalog.text) IS
    'Fit, grade, coverage, disqualified and profile of an account (record) against the named profile';

CREATE FUNCTION @extschema@.icp_score(account record, profile @extschema@.icp_profile)
RETURNS @extschema@.icp_score_result
AS 'MODULE_PATHNAME', 'icp_score_record_value'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_score(record, @extschema@.icp_profile) IS
    'Fit, grade, coverage, disqualified and profile of an account (record) against a profile value (reads no table)';

CREATE FUNCTION @extschema@.icp_score(account pg_catalog.jsonb)
RETURNS @extschema@.icp_score_result
AS 'MODULE_PATHNAME', 'icp_score_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_score(pg_catalog.jsonb) IS
    'Fit, grade, coverage, disqualified and profile of an account (jsonb) against the default profile';

CREATE FUNCTION @extschema@.icp_score(account pg_catalog.jsonb, profile pg_catalog.text)
RETURNS @extschema@.icp_score_result
AS 'MODULE_PATHNAME', 'icp_score_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_score(pg_catalog.jsonb, pg_catalog.text) IS
    'Fit, grade, coverage, disqualified and profile of an account (jsonb) against the named profile';

CREATE FUNCTION @extschema@.icp_score(account pg_catalog.jsonb, profile @extschema@.icp_profile)
RETURNS @extschema@.icp_score_result
AS 'MODULE_PATHNAME', 'icp_score_jsonb_value'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_score(pg_catalog.jsonb, @extschema@.icp_profile) IS
    'Fit, grade, coverage, disqualified and profile of an account (jsonb) against a profile value (reads no table)';

CREATE FUNCTION @extschema@.icp_explain(account record,
    OUT criterion bigint, OUT rule @extschema@.icp_rule, OUT weight double precision,
    OUT required boolean, OUT outcome pg_catalog.text, OUT points double precision,
    OUT value pg_catalog.text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'icp_explain_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.icp_explain(record) IS
    'Why this fit: one row per criterion (record) against the default profile, with its outcome (match, miss, unknown), points and the values seen';

CREATE FUNCTION @extschema@.icp_explain(account record, profile pg_catalog.text,
    OUT criterion bigint, OUT rule @extschema@.icp_rule, OUT weight double precision,
    OUT required boolean, OUT outcome pg_catalog.text, OUT points double precision,
    OUT value pg_catalog.text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'icp_explain_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.icp_explain(record, pg_catalog.text) IS
    'Why this fit: one row per criterion (record) against the named profile, with its outcome (match, miss, unknown), points and the values seen';

CREATE FUNCTION @extschema@.icp_explain(account record, profile @extschema@.icp_profile,
    OUT criterion bigint, OUT rule @extschema@.icp_rule, OUT weight double precision,
    OUT required boolean, OUT outcome pg_catalog.text, OUT points double precision,
    OUT value pg_catalog.text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'icp_explain_record_value'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.icp_explain(record, @extschema@.icp_profile) IS
    'Why this fit: one row per criterion (record) against a profile value (reads no table), with its outcome (match, miss, unknown), points and the values seen';

CREATE FUNCTION @extschema@.icp_explain(account pg_catalog.jsonb,
    OUT criterion bigint, OUT rule @extschema@.icp_rule, OUT weight double precision,
    OUT required boolean, OUT outcome pg_catalog.text, OUT points double precision,
    OUT value pg_catalog.text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'icp_explain_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.icp_explain(pg_catalog.jsonb) IS
    'Why this fit: one row per criterion (jsonb) against the default profile, with its outcome (match, miss, unknown), points and the values seen';

CREATE FUNCTION @extschema@.icp_explain(account pg_catalog.jsonb, profile pg_catalog.text,
    OUT criterion bigint, OUT rule @extschema@.icp_rule, OUT weight double precision,
    OUT required boolean, OUT outcome pg_catalog.text, OUT points double precision,
    OUT value pg_catalog.text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'icp_explain_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.icp_explain(pg_catalog.jsonb, pg_catalog.text) IS
    'Why this fit: one row per criterion (jsonb) against the named profile, with its outcome (match, miss, unknown), points and the values seen';

CREATE FUNCTION @extschema@.icp_explain(account pg_catalog.jsonb, profile @extschema@.icp_profile,
    OUT criterion bigint, OUT rule @extschema@.icp_rule, OUT weight double precision,
    OUT required boolean, OUT outcome pg_catalog.text, OUT points double precision,
    OUT value pg_catalog.text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'icp_explain_jsonb_value'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.icp_explain(pg_catalog.jsonb, @extschema@.icp_profile) IS
    'Why this fit: one row per criterion (jsonb) against a profile value (reads no table), with its outcome (match, miss, unknown), points and the values seen';
