-- icp: Ideal Customer Profile scoring.  Generated into icp--<version>.sql by
-- the Makefile from the files in src/sql/, concatenated in name order.
-- Every object is schema-qualified with @extschema@ or pg_catalog so that
-- nothing planted on the search_path is picked up while installing.

\echo Use "CREATE EXTENSION icp" to load this file. \quit
-- ---------------------------------------------------------------------------
-- icp_rule: one boolean condition over the attributes of an account, written
-- like a SQL condition (the grammar is in src/rule.h and the README), stored
-- in a compact validated binary form and printed back canonically.
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.icp_rule;

CREATE FUNCTION @extschema@.icp_rule_in(pg_catalog.cstring)
RETURNS @extschema@.icp_rule
AS 'MODULE_PATHNAME', 'icp_rule_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_out(@extschema@.icp_rule)
RETURNS pg_catalog.cstring
AS 'MODULE_PATHNAME', 'icp_rule_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_recv(pg_catalog.internal)
RETURNS @extschema@.icp_rule
AS 'MODULE_PATHNAME', 'icp_rule_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_send(@extschema@.icp_rule)
RETURNS pg_catalog.bytea
AS 'MODULE_PATHNAME', 'icp_rule_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.icp_rule (
    INPUT = @extschema@.icp_rule_in,
    OUTPUT = @extschema@.icp_rule_out,
    RECEIVE = @extschema@.icp_rule_recv,
    SEND = @extschema@.icp_rule_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);

COMMENT ON TYPE @extschema@.icp_rule IS
'one ICP criterion: a boolean condition over account attributes, e.g. employees BETWEEN 50 AND 1000';
COMMENT ON FUNCTION @extschema@.icp_rule_in(pg_catalog.cstring) IS
'icp_rule input: parses and validates rule text';
COMMENT ON FUNCTION @extschema@.icp_rule_out(@extschema@.icp_rule) IS
'icp_rule output: the canonical text of the rule';
COMMENT ON FUNCTION @extschema@.icp_rule_recv(pg_catalog.internal) IS
'icp_rule binary input: validates the binary form and canonicalises it';
COMMENT ON FUNCTION @extschema@.icp_rule_send(@extschema@.icp_rule) IS
'icp_rule binary output: the serialized rule';

-- Comparison: byte-wise order of the canonical binary form.  Equal values are
-- rules that read the same once canonicalised; the order is stable but has no
-- meaning beyond grouping, DISTINCT and unique indexes.

CREATE FUNCTION @extschema@.icp_rule_eq(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'icp_rule_eq'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_ne(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'icp_rule_ne'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_lt(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'icp_rule_lt'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_le(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'icp_rule_le'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_gt(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'icp_rule_gt'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_ge(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'icp_rule_ge'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_cmp(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.int4
AS 'MODULE_PATHNAME', 'icp_rule_cmp'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_hash(@extschema@.icp_rule)
RETURNS pg_catalog.int4
AS 'MODULE_PATHNAME', 'icp_rule_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_hash_extended(@extschema@.icp_rule, pg_catalog.int8)
RETURNS pg_catalog.int8
AS 'MODULE_PATHNAME', 'icp_rule_hash_extended'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_rule_eq(@extschema@.icp_rule, @extschema@.icp_rule) IS
'true when two rules are the same once canonicalised';
COMMENT ON FUNCTION @extschema@.icp_rule_ne(@extschema@.icp_rule, @extschema@.icp_rule) IS
'true when two rules differ once canonicalised';
COMMENT ON FUNCTION @extschema@.icp_rule_lt(@extschema@.icp_rule, @extschema@.icp_rule) IS
'icp_rule ordering (byte-wise on the binary form): less than';
COMMENT ON FUNCTION @extschema@.icp_rule_le(@extschema@.icp_rule, @extschema@.icp_rule) IS
'icp_rule ordering (byte-wise on the binary form): less than or equal';
COMMENT ON FUNCTION @extschema@.icp_rule_gt(@extschema@.icp_rule, @extschema@.icp_rule) IS
'icp_rule ordering (byte-wise on the binary form): greater than';
COMMENT ON FUNCTION @extschema@.icp_rule_ge(@extschema@.icp_rule, @extschema@.icp_rule) IS
'icp_rule ordering (byte-wise on the binary form): greater than or equal';
COMMENT ON FUNCTION @extschema@.icp_rule_cmp(@extschema@.icp_rule, @extschema@.icp_rule) IS
'btree support for icp_rule: -1, 0 or 1';
COMMENT ON FUNCTION @extschema@.icp_rule_hash(@extschema@.icp_rule) IS
'hash support for icp_rule';
COMMENT ON FUNCTION @extschema@.icp_rule_hash_extended(@extschema@.icp_rule, pg_catalog.int8) IS
'seeded 64-bit hash support for icp_rule (hash partitioning)';

CREATE OPERATOR @extschema@.= (
    LEFTARG = @extschema@.icp_rule,
    RIGHTARG = @extschema@.icp_rule,
    FUNCTION = @extschema@.icp_rule_eq,
    COMMUTATOR = OPERATOR(@extschema@.=),
    NEGATOR = OPERATOR(@extschema@.<>),
    RESTRICT = pg_catalog.eqsel,
    JOIN = pg_catalog.eqjoinsel,
    HASHES,
    MERGES
);

CREATE OPERATOR @extschema@.<> (
    LEFTARG = @extschema@.icp_rule,
    RIGHTARG = @extschema@.icp_rule,
    FUNCTION = @extschema@.icp_rule_ne,
    COMMUTATOR = OPERATOR(@extschema@.<>),
    NEGATOR = OPERATOR(@extschema@.=),
    RESTRICT = pg_catalog.neqsel,
    JOIN = pg_catalog.neqjoinsel
);

CREATE OPERATOR @extschema@.< (
    LEFTARG = @extschema@.icp_rule,
    RIGHTARG = @extschema@.icp_rule,
    FUNCTION = @extschema@.icp_rule_lt,
    COMMUTATOR = OPERATOR(@extschema@.>),
    NEGATOR = OPERATOR(@extschema@.>=),
    RESTRICT = pg_catalog.scalarltsel,
    JOIN = pg_catalog.scalarltjoinsel
);

CREATE OPERATOR @extschema@.<= (
    LEFTARG = @extschema@.icp_rule,
    RIGHTARG = @extschema@.icp_rule,
    FUNCTION = @extschema@.icp_rule_le,
    COMMUTATOR = OPERATOR(@extschema@.>=),
    NEGATOR = OPERATOR(@extschema@.>),
    RESTRICT = pg_catalog.scalarlesel,
    JOIN = pg_catalog.scalarlejoinsel
);

CREATE OPERATOR @extschema@.> (
    LEFTARG = @extschema@.icp_rule,
    RIGHTARG = @extschema@.icp_rule,
    FUNCTION = @extschema@.icp_rule_gt,
    COMMUTATOR = OPERATOR(@extschema@.<),
    NEGATOR = OPERATOR(@extschema@.<=),
    RESTRICT = pg_catalog.scalargtsel,
    JOIN = pg_catalog.scalargtjoinsel
);

CREATE OPERATOR @extschema@.>= (
    LEFTARG = @extschema@.icp_rule,
    RIGHTARG = @extschema@.icp_rule,
    FUNCTION = @extschema@.icp_rule_ge,
    COMMUTATOR = OPERATOR(@extschema@.<=),
    NEGATOR = OPERATOR(@extschema@.<),
    RESTRICT = pg_catalog.scalargesel,
    JOIN = pg_catalog.scalargejoinsel
);

CREATE OPERATOR CLASS @extschema@.icp_rule_btree_ops
DEFAULT FOR TYPE @extschema@.icp_rule USING btree AS
    OPERATOR 1 @extschema@.<,
    OPERATOR 2 @extschema@.<=,
    OPERATOR 3 @extschema@.=,
    OPERATOR 4 @extschema@.>=,
    OPERATOR 5 @extschema@.>,
    FUNCTION 1 @extschema@.icp_rule_cmp(@extschema@.icp_rule, @extschema@.icp_rule);

CREATE OPERATOR CLASS @extschema@.icp_rule_hash_ops
DEFAULT FOR TYPE @extschema@.icp_rule USING hash AS
    OPERATOR 1 @extschema@.=,
    FUNCTION 1 @extschema@.icp_rule_hash(@extschema@.icp_rule),
    FUNCTION 2 @extschema@.icp_rule_hash_extended(@extschema@.icp_rule, pg_catalog.int8);

CREATE FUNCTION @extschema@.icp_rule_attributes(@extschema@.icp_rule)
RETURNS pg_catalog.text[]
AS 'MODULE_PATHNAME', 'icp_rule_attributes'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_rule_attributes(@extschema@.icp_rule) IS
'the distinct attribute paths a rule reads, in order of first appearance (a.b for key b of a)';

-- ---------------------------------------------------------------------------
-- Profile tables: a profile is a row of icp_profiles, its rules are rows of
-- icp_criteria.  Both are configuration tables: pg_dump keeps their rows.
-- Operators in constraints are spelled OPERATOR(pg_catalog.x) so that an
-- operator planted on the search_path cannot change their meaning.
-- Weights and the bias lie between -1e12 and 1e12 (NaN and infinities fail
-- the check too): then no sum of weights can overflow a float8, so no fit is
-- NaN.  The icp_profile type checks the same bound (ICP_MAX_WEIGHT).
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.icp_profiles (
    name text NOT NULL PRIMARY KEY
        CONSTRAINT icp_profiles_name_check
        CHECK (pg_catalog.length(name) OPERATOR(pg_catalog.>) 0),
    description text,
    kind text NOT NULL DEFAULT 'ideal'
        CONSTRAINT icp_profiles_kind_check
        CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['ideal', 'exclude']::text[])),
    model text NOT NULL DEFAULT 'points'
        CONSTRAINT icp_profiles_model_check
        CHECK (model OPERATOR(pg_catalog.=) ANY (ARRAY['points', 'logistic']::text[])),
    bias double precision NOT NULL DEFAULT 0
        CONSTRAINT icp_profiles_bias_check
        CHECK (bias OPERATOR(pg_catalog.>=) '-1e12'::double precision
               AND bias OPERATOR(pg_catalog.<=) '1e12'::double precision),
    grade_thresholds double precision[] NOT NULL DEFAULT '{80,60,40}'
        CONSTRAINT icp_profiles_grade_thresholds_check
        CHECK (pg_catalog.array_ndims(grade_thresholds) OPERATOR(pg_catalog.=) 1
               AND pg_catalog.array_length(grade_thresholds, 1) OPERATOR(pg_catalog.=) 3
               AND pg_catalog.array_position(grade_thresholds, NULL) IS NULL
               AND grade_thresholds[1] OPERATOR(pg_catalog.>=) grade_thresholds[2]
               AND grade_thresholds[2] OPERATOR(pg_catalog.>=) grade_thresholds[3]
               AND grade_thresholds[1] OPERATOR(pg_catalog.<=) 100::double precision
               AND grade_thresholds[3] OPERATOR(pg_catalog.>=) 0::double precision),
    missing text NOT NULL DEFAULT 'ignore'
        CONSTRAINT icp_profiles_missing_check
        CHECK (missing OPERATOR(pg_catalog.=) ANY (ARRAY['ignore', 'penalize']::text[])),
    is_default boolean NOT NULL DEFAULT false,
    active boolean NOT NULL DEFAULT true,
    created_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now()
);

-- at most one default profile
CREATE UNIQUE INDEX icp_profiles_one_default
    ON @extschema@.icp_profiles (is_default) WHERE is_default;

COMMENT ON TABLE @extschema@.icp_profiles IS
    'Ideal Customer Profiles: one row per named profile; its rules are in icp_criteria';
COMMENT ON COLUMN @extschema@.icp_profiles.name IS
    'Unique name users type, e.g. in icp_fit(lead, ''mid-market-saas'')';
COMMENT ON COLUMN @extschema@.icp_profiles.description IS
    'Free text: who this profile describes';
COMMENT ON COLUMN @extschema@.icp_profiles.kind IS
    'ideal: accounts to chase; exclude: an anti-profile of accounts not to chase';
COMMENT ON COLUMN @extschema@.icp_profiles.model IS
    'points: fit = share of positive weight earned; logistic: fit = 100 * sigmoid(bias + weights of true criteria)';
COMMENT ON COLUMN @extschema@.icp_profiles.bias IS
    'Intercept of a logistic profile (ignored by points profiles)';
COMMENT ON COLUMN @extschema@.icp_profiles.grade_thresholds IS
    'Lowest fit for grades A, B and C, descending; below the last is D';
COMMENT ON COLUMN @extschema@.icp_profiles.missing IS
    'ignore: criteria on unknown data do not count; penalize: they count as not met';
COMMENT ON COLUMN @extschema@.icp_profiles.is_default IS
    'The profile used when a scoring function is called without one (at most one)';
COMMENT ON COLUMN @extschema@.icp_profiles.active IS
    'Whether the profile takes part in icp_segment when no profiles are named';
COMMENT ON COLUMN @extschema@.icp_profiles.created_at IS 'When the profile was created';
COMMENT ON COLUMN @extschema@.icp_profiles.updated_at IS 'When the profile row was last changed';

CREATE TABLE @extschema@.icp_criteria (
    id bigserial NOT NULL PRIMARY KEY,
    profile text NOT NULL
        CONSTRAINT icp_criteria_profile_fkey
        REFERENCES @extschema@.icp_profiles (name)
        ON UPDATE CASCADE ON DELETE CASCADE,
    rule @extschema@.icp_rule NOT NULL,
    weight double precision NOT NULL DEFAULT 1
        CONSTRAINT icp_criteria_weight_check
        CHECK (weight OPERATOR(pg_catalog.>=) '-1e12'::double precision
               AND weight OPERATOR(pg_catalog.<=) '1e12'::double precision),
    required boolean NOT NULL DEFAULT false,
    dimension text
        CONSTRAINT icp_criteria_dimension_check
        CHECK (dimension OPERATOR(pg_catalog.=) ANY (ARRAY['firmographic', 'technographic',
                                                          'behavioural', 'environmental']::text[])),
    note text,
    created_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now()
);

CREATE INDEX icp_criteria_profile_idx ON @extschema@.icp_criteria (profile);

COMMENT ON TABLE @extschema@.icp_criteria IS
    'The rules of each profile: one row per criterion';
COMMENT ON COLUMN @extschema@.icp_criteria.id IS
    'Criterion id, shown by icp_explain and in error messages';
COMMENT ON COLUMN @extschema@.icp_criteria.profile IS
    'The profile this criterion belongs to (renames carry along, deletes cascade)';
COMMENT ON COLUMN @extschema@.icp_criteria.rule IS
    'One condition over the account''s attributes, e.g. employees BETWEEN 50 AND 1000';
COMMENT ON COLUMN @extschema@.icp_criteria.weight IS
    'Points (points model) or log-odds (logistic model) earned when the rule is true; may be negative';
COMMENT ON COLUMN @extschema@.icp_criteria.required IS
    'Knock-out: when the rule is false the account is disqualified (fit 0, grade D)';
COMMENT ON COLUMN @extschema@.icp_criteria.dimension IS
    'firmographic, technographic, behavioural or environmental; may be left NULL';
COMMENT ON COLUMN @extschema@.icp_criteria.note IS 'Free text: why this criterion';
COMMENT ON COLUMN @extschema@.icp_criteria.created_at IS 'When the criterion was added';

-- keep updated_at honest
CREATE FUNCTION @extschema@.icp_touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION @extschema@.icp_touch_updated_at() IS
    'Trigger function: sets icp_profiles.updated_at on every update';

CREATE TRIGGER icp_profiles_touch
    BEFORE UPDATE ON @extschema@.icp_profiles
    FOR EACH ROW EXECUTE FUNCTION @extschema@.icp_touch_updated_at();

-- weights and the bias stay within +-1e12: refused with 22003 (numeric value
-- out of range) before the CHECK constraints above would say 23514
CREATE FUNCTION @extschema@.icp_check_weights()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'icp_check_weights';

COMMENT ON FUNCTION @extschema@.icp_check_weights() IS
    'Trigger function: refuses weights and biases beyond +-1e12 with SQLSTATE 22003';

CREATE TRIGGER icp_profiles_check_bias
    BEFORE INSERT OR UPDATE OF bias ON @extschema@.icp_profiles
    FOR EACH ROW EXECUTE FUNCTION @extschema@.icp_check_weights();

CREATE TRIGGER icp_criteria_check_weight
    BEFORE INSERT OR UPDATE OF weight ON @extschema@.icp_criteria
    FOR EACH ROW EXECUTE FUNCTION @extschema@.icp_check_weights();

-- every change to a profile makes every session recompile it
CREATE FUNCTION @extschema@.icp_profiles_changed()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'icp_profiles_changed';

COMMENT ON FUNCTION @extschema@.icp_profiles_changed() IS
    'Trigger function: invalidates the compiled profiles cached by every session';

CREATE TRIGGER icp_profiles_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.icp_profiles
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_changed();

CREATE TRIGGER icp_criteria_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.icp_criteria
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_changed();

-- Privileges: nothing is granted to PUBLIC.  Reading profiles (and so
-- scoring) needs SELECT on both tables; changing them needs the grants below.
-- When a non-superuser database owner installs the (trusted) extension, the
-- tables belong to the bootstrap superuser, so the installing role gets them
-- explicitly; for a superuser install these grants change nothing.
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
    ON @extschema@.icp_profiles, @extschema@.icp_criteria TO @extowner@ WITH GRANT OPTION;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE @extschema@.icp_criteria_id_seq TO @extowner@ WITH GRANT OPTION;

SELECT pg_catalog.pg_extension_config_dump('@extschema@.icp_profiles', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.icp_criteria', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.icp_criteria_id_seq', '');

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

-- ---------------------------------------------------------------------------
-- Segmentation: which profile an account belongs to.  A profile matches when
-- its grade is A, B or C; the best matching exclude profile wins, else the
-- best matching ideal one, else NULL (ties: the name that sorts first).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_segment_columns(VARIADIC "any")
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_columns'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_segment_columns("any") IS
    'Internal: icp_segment on the columns of a table row, as the planner rewrites it';

REVOKE ALL ON FUNCTION @extschema@.icp_segment_columns("any") FROM PUBLIC;

CREATE FUNCTION @extschema@.icp_segment(account record)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_segment(record) IS
    'The segment of an account (record) among the active profiles: the best matching (grade A-C) exclude profile, else the best matching ideal one, else NULL; ties to the name that sorts first';

CREATE FUNCTION @extschema@.icp_segment(account record, profiles pg_catalog.text[])
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_segment(record, pg_catalog.text[]) IS
    'The segment of an account (record) among the named profiles (active or not): the best matching (grade A-C) exclude profile, else the best matching ideal one, else NULL; ties to the name that sorts first';

CREATE FUNCTION @extschema@.icp_segment(account pg_catalog.jsonb)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_segment(pg_catalog.jsonb) IS
    'The segment of an account (jsonb) among the active profiles: the best matching (grade A-C) exclude profile, else the best matching ideal one, else NULL; ties to the name that sorts first';

CREATE FUNCTION @extschema@.icp_segment(account pg_catalog.jsonb, profiles pg_catalog.text[])
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_segment(pg_catalog.jsonb, pg_catalog.text[]) IS
    'The segment of an account (jsonb) among the named profiles (active or not): the best matching (grade A-C) exclude profile, else the best matching ideal one, else NULL; ties to the name that sorts first';

-- ---------------------------------------------------------------------------
-- Scoring trigger: BEFORE INSERT OR UPDATE ... FOR EACH ROW EXECUTE FUNCTION
-- icp_score_trigger('profile' [, 'fit' [, 'grade' [, 'segment']]]).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_score_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'icp_score_trigger'
LANGUAGE C;

COMMENT ON FUNCTION @extschema@.icp_score_trigger() IS
    'Trigger function (BEFORE INSERT OR UPDATE, FOR EACH ROW): writes the fit, grade and segment of the new row into its columns; arguments: profile [, fit_column (default fit) [, grade_column [, segment_column]]]';

-- ---------------------------------------------------------------------------
-- Bulk rescoring in committed batches.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_rescore_can_commit()
RETURNS boolean
AS 'MODULE_PATHNAME', 'icp_rescore_can_commit'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.icp_rescore_can_commit() IS
    'Internal: whether the calling procedure may COMMIT (it was CALLed outside a transaction block and outside any function)';

-- A procedure cannot have a SET search_path clause and COMMIT, so every name
-- below is qualified, and every identifier built into SQL goes through
-- format('%I') or a regclass.
CREATE PROCEDURE @extschema@.icp_rescore(
    tbl pg_catalog.regclass,
    profile pg_catalog.text,
    fit_column pg_catalog.text,
    grade_column pg_catalog.text DEFAULT NULL,
    batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
AS $$
DECLARE
    can_commit boolean := @extschema@.icp_rescore_can_commit();
    kind "char";
    value @extschema@.icp_profile;
    fit_type pg_catalog.text;
    grade_type pg_catalog.text;
    generated "char";
    typ pg_catalog.oid;
    parts pg_catalog.oid[];
    part pg_catalog.oid;
    partname pg_catalog.text;
    stmt pg_catalog.text;
    scored pg_catalog.text;
    writes pg_catalog.text;
    writes_end pg_catalog.text;
    stmt_end pg_catalog.text;
    walk record;
    res record;
    last_key record;
    first_stmt pg_catalog.text;
    after pg_catalog.text;
    bound pg_catalog.text;
    i integer;
    started boolean;
    total bigint := 0;
    total_blocks bigint := 0;
    done bigint := 0;
    changed bigint := 0;
    nblocks bigint;
    blk bigint;
    step bigint;
    seen bigint;
    upd bigint;
    block_size integer := pg_catalog.current_setting('block_size')::integer;
BEGIN
    IF tbl IS NULL OR profile IS NULL OR fit_column IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22004',
            MESSAGE = 'icp_rescore: tbl, profile and fit_column must not be NULL';
    END IF;
    IF batch_size IS NULL OR batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = pg_catalog.format('icp_rescore: batch_size must be at least 1, not %s', batch_size);
    END IF;

    SELECT c.relkind INTO kind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) tbl;
    IF kind IS NULL OR kind OPERATOR(pg_catalog.<>) ALL (ARRAY['r', 'p']::"char"[]) THEN
        RAISE EXCEPTION USING ERRCODE = '42809',
            MESSAGE = pg_catalog.format('icp_rescore: %s is not a table', tbl),
            HINT = 'icp_rescore writes into a plain or partitioned table.';
    END IF;

    SELECT a.atttypid, a.attgenerated, pg_catalog.format_type(a.atttypid, a.atttypmod)
      INTO typ, generated, fit_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) fit_column
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '42703',
            MESSAGE = pg_catalog.format('icp_rescore: column %I of table %s does not exist', fit_column, tbl);
    END IF;
    IF typ OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog.float8'::pg_catalog.regtype,
                                        'pg_catalog.float4'::pg_catalog.regtype,
                                        'pg_catalog.numeric'::pg_catalog.regtype]::pg_catalog.oid[]) THEN
        RAISE EXCEPTION USING ERRCODE = '42804',
            MESSAGE = pg_catalog.format('icp_rescore: fit column %I of table %s is of type %s, but must be double precision, real or numeric',
                                        fit_column, tbl, fit_type);
    END IF;
    IF generated OPERATOR(pg_catalog.<>) '' THEN
        RAISE EXCEPTION USING ERRCODE = '428C9',
            MESSAGE = pg_catalog.format('icp_rescore: column %I of table %s is a generated column', fit_column, tbl);
    END IF;

    IF grade_column IS NOT NULL THEN
        IF grade_column OPERATOR(pg_catalog.=) fit_column THEN
            RAISE EXCEPTION USING ERRCODE = '22023',
                MESSAGE = 'icp_rescore: the fit and grade columns must be different columns';
        END IF;
        SELECT a.atttypid, a.attgenerated, pg_catalog.format_type(a.atttypid, a.atttypmod)
          INTO typ, generated, grade_type
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) grade_column
           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = '42703',
                MESSAGE = pg_catalog.format('icp_rescore: column %I of table %s does not exist', grade_column, tbl);
        END IF;
        IF typ OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog.text'::pg_catalog.regtype,
                                            'pg_catalog.varchar'::pg_catalog.regtype,
                                            'pg_catalog.bpchar'::pg_catalog.regtype]::pg_catalog.oid[]) THEN
            RAISE EXCEPTION USING ERRCODE = '42804',
                MESSAGE = pg_catalog.format('icp_rescore: grade column %I of table %s is of type %s, but must be text, varchar or char',
                                            grade_column, tbl, grade_type);
        END IF;
        IF generated OPERATOR(pg_catalog.<>) '' THEN
            RAISE EXCEPTION USING ERRCODE = '428C9',
                MESSAGE = pg_catalog.format('icp_rescore: column %I of table %s is a generated column', grade_column, tbl);
        END IF;
    END IF;

    -- one value for the whole run: every batch scores with the same version
    value := @extschema@.icp_profile(profile);

    IF kind OPERATOR(pg_catalog.=) 'p' THEN
        parts := ARRAY(SELECT t.relid FROM pg_catalog.pg_partition_tree(tbl) t
                        WHERE t.isleaf ORDER BY t.relid::pg_catalog.oid);
    ELSE
        parts := ARRAY[tbl::pg_catalog.oid];
    END IF;
    EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %s', tbl) INTO total;
    FOREACH part IN ARRAY parts LOOP
        total_blocks := total_blocks OPERATOR(pg_catalog.+)
            pg_catalog.pg_relation_size(part) OPERATOR(pg_catalog./) block_size;
    END LOOP;

    IF NOT can_commit THEN
        RAISE NOTICE 'icp_rescore: called inside a transaction block or a function, so all batches run in this one transaction'
            USING HINT = 'CALL it on its own (autocommit) to commit after each batch.';
    END IF;

    -- blocks per batch, from the average rows per block, adjusted as we go
    step := GREATEST(1, pg_catalog.ceil(batch_size::numeric OPERATOR(pg_catalog.*)
                total_blocks OPERATOR(pg_catalog./) GREATEST(total, 1))::bigint);

    FOREACH part IN ARRAY parts LOOP
        SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) INTO partname
          FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
         WHERE c.oid OPERATOR(pg_catalog.=) part;
        -- A primary key is walked in key order, in batches of exactly
        -- batch_size rows, with the operators of the key's own btree operator
        -- classes and the index's collations (so citext, uuid, numeric, a
        -- non-C collation or a composite key sort as the index does).  The
        -- last key of a batch comes back as a record and goes into the next
        -- batch as a typed parameter, unpacked by a column definition list:
        -- key values are never turned into text.  Without a primary key the
        -- table is walked by ctid ranges (see below).
        SELECT pg_catalog.count(*) AS n,
               pg_catalog.string_agg(pg_catalog.format('t.%I AS k%s', k.attname, k.n), ', ' ORDER BY k.n) AS sel,
               pg_catalog.string_agg(pg_catalog.format('t.%I%s USING %s', k.attname, k.coll, k.lt), ', ' ORDER BY k.n) AS ord,
               pg_catalog.string_agg(pg_catalog.format('cur.k%s%s USING %s', k.n, k.coll, k.gt), ', ' ORDER BY k.n) AS ord_desc,
               pg_catalog.string_agg(pg_catalog.format('cur.k%s', k.n), ', ' ORDER BY k.n) AS last,
               pg_catalog.string_agg(pg_catalog.format('t.%I%s', k.attname, k.coll), ', ' ORDER BY k.n) AS cols,
               pg_catalog.string_agg(pg_catalog.format('b.k%s', k.n), ', ' ORDER BY k.n) AS vals,
               pg_catalog.string_agg(pg_catalog.format('k%s %s', k.n, k.typ), ', ' ORDER BY k.n) AS defs,
               pg_catalog.string_agg(pg_catalog.format('t.%I%s %s cur.k%s', k.attname, k.coll, k.eq, k.n),
                                     ' AND ' ORDER BY k.n) AS eqs,
               pg_catalog.count(DISTINCT k.gt_schema) AS gt_schemas,
               pg_catalog.min(k.gt) AS gt,
               pg_catalog.array_agg(pg_catalog.format('t.%I%s', k.attname, k.coll) ORDER BY k.n) AS col_list,
               pg_catalog.array_agg(k.gt ORDER BY k.n) AS gt_list,
               pg_catalog.array_agg(k.ge ORDER BY k.n) AS ge_list,
               pg_catalog.array_agg(k.eq ORDER BY k.n) AS eq_list
          INTO walk
          FROM (SELECT u.n, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS typ,
                       CASE WHEN u.coll OPERATOR(pg_catalog.=) 0 THEN ''
                            ELSE pg_catalog.format(' COLLATE %I.%I', cn.nspname, co.collname) END AS coll,
                       ops.lt, ops.eq, ops.ge, ops.gt, ops.gt_schema
                  FROM pg_catalog.pg_index i
                 CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(i.indkey::pg_catalog.int2[]),
                                               pg_catalog.unnest(i.indclass::pg_catalog.oid[]),
                                               pg_catalog.unnest(i.indcollation::pg_catalog.oid[]))
                       WITH ORDINALITY AS u(attnum, opclass, coll, n)
                  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid
                                                AND a.attnum OPERATOR(pg_catalog.=) u.attnum
                  JOIN pg_catalog.pg_opclass oc ON oc.oid OPERATOR(pg_catalog.=) u.opclass
                  LEFT JOIN pg_catalog.pg_collation co ON co.oid OPERATOR(pg_catalog.=) u.coll
                  LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid OPERATOR(pg_catalog.=) co.collnamespace
                 -- the operators <, =, >= and > of the key column's btree operator class
                 CROSS JOIN LATERAL (
                       SELECT pg_catalog.max(pg_catalog.format('OPERATOR(%I.%s)', n.nspname, o.oprname))
                                  FILTER (WHERE m.amopstrategy OPERATOR(pg_catalog.=) 1) AS lt,
                              pg_catalog.max(pg_catalog.format('OPERATOR(%I.%s)', n.nspname, o.oprname))
                                  FILTER (WHERE m.amopstrategy OPERATOR(pg_catalog.=) 3) AS eq,
                              pg_catalog.max(pg_catalog.format('OPERATOR(%I.%s)', n.nspname, o.oprname))
                                  FILTER (WHERE m.amopstrategy OPERATOR(pg_catalog.=) 4) AS ge,
                              pg_catalog.max(pg_catalog.format('OPERATOR(%I.%s)', n.nspname, o.oprname))
                                  FILTER (WHERE m.amopstrategy OPERATOR(pg_catalog.=) 5) AS gt,
                              pg_catalog.max(n.nspname) FILTER (WHERE m.amopstrategy OPERATOR(pg_catalog.=) 5) AS gt_schema
                         FROM pg_catalog.pg_amop m
                         JOIN pg_catalog.pg_operator o ON o.oid OPERATOR(pg_catalog.=) m.amopopr
                         JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) o.oprnamespace
                        WHERE m.amopfamily OPERATOR(pg_catalog.=) oc.opcfamily
                          AND m.amoplefttype OPERATOR(pg_catalog.=) oc.opcintype
                          AND m.amoprighttype OPERATOR(pg_catalog.=) oc.opcintype) AS ops
                 WHERE i.indrelid OPERATOR(pg_catalog.=) part AND i.indisprimary
                   AND u.n OPERATOR(pg_catalog.<=) i.indnkeyatts) AS k;
        scored := pg_catalog.format(
            't.%1$I AS old_fit, CAST(%2$s.icp_fit(t, $1) AS %3$s) AS new_fit, %4$s',
            fit_column, '@extschema@', fit_type,
            CASE WHEN grade_column IS NULL THEN 'NULL::pg_catalog.text AS old_grade, NULL::pg_catalog.text AS new_grade'
                 ELSE pg_catalog.format('t.%I AS old_grade, CAST(%s.icp_grade(t, $1) AS %s) AS new_grade',
                                        grade_column, '@extschema@', grade_type) END);
        -- the UPDATE of a batch is writes || (which rows) || writes_end;
        -- generated text is joined, never fed to format() again
        writes := pg_catalog.format(
            'UPDATE ONLY %1$s AS t SET %2$I = cur.new_fit %3$s FROM cur WHERE ',
            partname, fit_column,
            CASE WHEN grade_column IS NULL THEN ''
                 ELSE pg_catalog.format(', %I = cur.new_grade', grade_column) END);
        writes_end := pg_catalog.format(
            ' AND (cur.old_fit IS DISTINCT FROM cur.new_fit %s) RETURNING 1',
            CASE WHEN grade_column IS NULL THEN ''
                 ELSE 'OR cur.old_grade IS DISTINCT FROM cur.new_grade' END);
        IF walk.n OPERATOR(pg_catalog.>) 0 THEN
            -- the rows after the last key of the previous batch ($2, a record
            -- of the key's types): one row comparison when every > lives in
            -- one schema (an index range), else spelled out column by column
            IF walk.gt_schemas OPERATOR(pg_catalog.=) 1 THEN
                after := pg_catalog.format('ROW(%s) %s (SELECT %s FROM pg_catalog.unnest(ARRAY[$2]) AS b(%s))',
                                           walk.cols, walk.gt, walk.vals, walk.defs);
            ELSE
                after := NULL;
                FOR i IN REVERSE walk.n .. 1 LOOP
                    bound := pg_catalog.format('(SELECT b.k%s FROM pg_catalog.unnest(ARRAY[$2]) AS b(%s))',
                                               i, walk.defs);
                    after := CASE WHEN after IS NULL
                        THEN pg_catalog.format('%s %s %s', walk.col_list[i], walk.gt_list[i], bound)
                        ELSE pg_catalog.format('(%1$s %2$s %3$s OR (%1$s %4$s %3$s AND %5$s))',
                                               walk.col_list[i], walk.gt_list[i], bound, walk.eq_list[i], after) END;
                END LOOP;
                after := pg_catalog.format('%s %s (SELECT b.k1 FROM pg_catalog.unnest(ARRAY[$2]) AS b(%s)) AND %s',
                                           walk.col_list[1], walk.ge_list[1], walk.defs, after);
            END IF;
            -- the update joins on the key and on the ctid read: a row that a
            -- concurrent transaction changed in between is left to it
            stmt := pg_catalog.format(
                'WITH cur AS MATERIALIZED (SELECT t.ctid AS tid, %s, %s FROM ONLY %s AS t WHERE ',
                walk.sel, scored, partname);
            stmt_end := pg_catalog.format(
                ' ORDER BY %s LIMIT $3), upd AS (%s) '
                'SELECT (SELECT pg_catalog.count(*) FROM cur) AS seen, (SELECT pg_catalog.count(*) FROM upd) AS upd,'
                ' (SELECT ROW(%s) FROM cur ORDER BY %s LIMIT 1) AS last',
                walk.ord,
                writes || walk.eqs || ' AND t.ctid OPERATOR(pg_catalog.=) cur.tid' || writes_end,
                walk.last, walk.ord_desc);
            first_stmt := stmt || 'true' || stmt_end;
            stmt := stmt || after || stmt_end;
            started := false;
            LOOP
                IF NOT started THEN
                    EXECUTE first_stmt INTO res USING value, NULL::pg_catalog.int4, batch_size;
                ELSE
                    EXECUTE stmt INTO res USING value, last_key, batch_size;
                END IF;
                seen := res.seen;
                EXIT WHEN seen OPERATOR(pg_catalog.=) 0;
                last_key := res.last;
                started := true;
                done := done OPERATOR(pg_catalog.+) seen;
                changed := changed OPERATOR(pg_catalog.+) res.upd;
                RAISE NOTICE '%', pg_catalog.format('rescored %s of %s rows (%s%%)', done, total,
                    LEAST(100, done OPERATOR(pg_catalog.*) 100 OPERATOR(pg_catalog./) GREATEST(total, 1)));
                IF can_commit THEN
                    COMMIT;
                END IF;
                EXIT WHEN seen OPERATOR(pg_catalog.<) batch_size;
            END LOOP;
            CONTINUE;
        END IF;

        -- blocks added after the start hold rows this run already wrote
        nblocks := pg_catalog.pg_relation_size(part) OPERATOR(pg_catalog./) block_size;
        stmt := pg_catalog.format(
            'WITH cur AS MATERIALIZED (SELECT t.ctid AS tid, %1$s FROM ONLY %2$s AS t'
            ' WHERE t.ctid OPERATOR(pg_catalog.>=) $2 AND t.ctid OPERATOR(pg_catalog.<) $3), '
            'upd AS (%3$s) '
            'SELECT (SELECT pg_catalog.count(*) FROM cur), (SELECT pg_catalog.count(*) FROM upd)',
            scored, partname,
            writes || 't.ctid OPERATOR(pg_catalog.>=) $2 AND t.ctid OPERATOR(pg_catalog.<) $3'
                      ' AND t.ctid OPERATOR(pg_catalog.=) cur.tid' || writes_end);
        blk := 0;
        WHILE blk OPERATOR(pg_catalog.<) nblocks LOOP
            EXECUTE stmt INTO seen, upd
              USING value,
                    pg_catalog.format('(%s,0)', blk)::pg_catalog.tid,
                    pg_catalog.format('(%s,0)', blk OPERATOR(pg_catalog.+) step)::pg_catalog.tid;
            done := done OPERATOR(pg_catalog.+) seen;
            changed := changed OPERATOR(pg_catalog.+) upd;
            blk := blk OPERATOR(pg_catalog.+) step;
            RAISE NOTICE '%', pg_catalog.format('rescored %s of %s rows (%s%%)',
                LEAST(done, total), total,
                LEAST(100, done OPERATOR(pg_catalog.*) 100 OPERATOR(pg_catalog./) GREATEST(total, 1)));
            IF can_commit THEN
                COMMIT;
            END IF;
            IF seen OPERATOR(pg_catalog.>) 0 THEN
                step := GREATEST(1, LEAST(step OPERATOR(pg_catalog.*) 4,
                            (step::numeric OPERATOR(pg_catalog.*) batch_size OPERATOR(pg_catalog./) seen)::bigint));
            END IF;
        END LOOP;
    END LOOP;
    RAISE NOTICE '%', pg_catalog.format('icp_rescore: %s rows scored with profile %L, %s updated',
                                        LEAST(done, total), profile, changed);
END
$$;

COMMENT ON PROCEDURE @extschema@.icp_rescore(pg_catalog.regclass, pg_catalog.text, pg_catalog.text, pg_catalog.text, integer) IS
    'Rescores a table after a profile changed: writes fit (and grade) only where they differ, commits after each batch of about batch_size rows, reports progress as NOTICEs; safe to interrupt and run again';

-- ---------------------------------------------------------------------------
-- Criterion outcomes and pool sizing: icp_funnel.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_outcomes(account record, profile pg_catalog.text)
RETURNS boolean[]
AS 'MODULE_PATHNAME', 'icp_outcomes_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_outcomes(record, pg_catalog.text) IS
    'Outcome of each criterion of the named profile for an account (record), in criterion order: true, false or NULL (unknown)';

CREATE FUNCTION @extschema@.icp_outcomes(account record, profile @extschema@.icp_profile)
RETURNS boolean[]
AS 'MODULE_PATHNAME', 'icp_outcomes_record_value'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_outcomes(record, @extschema@.icp_profile) IS
    'Outcome of each criterion of a profile value for an account (record), in criterion order: true, false or NULL (unknown)';

CREATE FUNCTION @extschema@.icp_outcomes(account pg_catalog.jsonb, profile pg_catalog.text)
RETURNS boolean[]
AS 'MODULE_PATHNAME', 'icp_outcomes_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_outcomes(pg_catalog.jsonb, pg_catalog.text) IS
    'Outcome of each criterion of the named profile for an account (jsonb), in criterion order: true, false or NULL (unknown)';

CREATE FUNCTION @extschema@.icp_outcomes(account pg_catalog.jsonb, profile @extschema@.icp_profile)
RETURNS boolean[]
AS 'MODULE_PATHNAME', 'icp_outcomes_jsonb_value'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_outcomes(pg_catalog.jsonb, @extschema@.icp_profile) IS
    'Outcome of each criterion of a profile value for an account (jsonb), in criterion order: true, false or NULL (unknown)';

CREATE FUNCTION @extschema@.icp_profile_criteria(profile @extschema@.icp_profile,
    OUT "position" integer, OUT criterion bigint, OUT rule @extschema@.icp_rule,
    OUT weight double precision, OUT required boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'icp_profile_criteria'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.icp_profile_criteria(@extschema@.icp_profile) IS
    'The criteria of a profile value, in order: position (as in icp_outcomes), criterion id, rule, weight, required';

-- One scan of the source (src/funnel.c): icp_outcomes per row, counted per
-- criterion and per first step that drops the row, so the cost grows with
-- rows x criteria.
CREATE FUNCTION @extschema@.icp_funnel(profile pg_catalog.text, source pg_catalog.regclass,
    OUT step integer, OUT criterion bigint, OUT rule @extschema@.icp_rule,
    OUT required boolean, OUT weight double precision,
    OUT matching bigint, OUT unknown bigint, OUT pool bigint, OUT pool_share double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'icp_funnel'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.icp_funnel(pg_catalog.text, pg_catalog.regclass) IS
    'Sizes the pool: one row per criterion (required ones first, then by weight) with the rows matching it, the rows where it is unknown, and the rows left when it and every earlier one are applied as filters';

-- ---------------------------------------------------------------------------
-- Profile history: every change to a profile keeps the previous value with
-- its validity period.
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.icp_profile_versions (
    profile text NOT NULL,
    version integer NOT NULL,
    value @extschema@.icp_profile NOT NULL,
    valid_from timestamp with time zone NOT NULL,
    valid_to timestamp with time zone,
    CONSTRAINT icp_profile_versions_pkey PRIMARY KEY (profile, version),
    CONSTRAINT icp_profile_versions_period_check
        CHECK (valid_to IS NULL OR valid_to OPERATOR(pg_catalog.>=) valid_from)
);

-- at most one current version per profile
CREATE UNIQUE INDEX icp_profile_versions_current
    ON @extschema@.icp_profile_versions (profile) WHERE valid_to IS NULL;

COMMENT ON TABLE @extschema@.icp_profile_versions IS
    'Profile history: each value a profile has had, with the period it was in force; written by triggers on icp_profiles and icp_criteria';
COMMENT ON COLUMN @extschema@.icp_profile_versions.profile IS
    'The profile''s name (renames carry along; the rows of a deleted profile stay)';
COMMENT ON COLUMN @extschema@.icp_profile_versions.version IS
    'Version number, 1 for the first value of the profile';
COMMENT ON COLUMN @extschema@.icp_profile_versions.value IS
    'The profile''s value in this period: score with it as icp_fit(account, value)';
COMMENT ON COLUMN @extschema@.icp_profile_versions.valid_from IS
    'Start of the transaction that made this value';
COMMENT ON COLUMN @extschema@.icp_profile_versions.valid_to IS
    'Start of the transaction that replaced it (or deleted the profile); NULL for the current value';

-- The history is written with the rights of the role that changes a
-- profile (no function here is SECURITY DEFINER): such a role needs SELECT,
-- INSERT and UPDATE on icp_profile_versions, as it needs INSERT, UPDATE and
-- DELETE on the profile tables.
CREATE FUNCTION @extschema@.icp_profiles_history()
RETURNS trigger
AS 'MODULE_PATHNAME', 'icp_profiles_history'
LANGUAGE C
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION @extschema@.icp_profiles_history() IS
    'Trigger function: records in icp_profile_versions every profile whose value a statement changed';

-- One trigger per event: transition tables name the profiles a statement
-- touched (a trigger with transition tables takes a single event, and
-- TRUNCATE has none: it looks at every profile).
CREATE TRIGGER icp_profiles_history_insert
    AFTER INSERT ON @extschema@.icp_profiles
    REFERENCING NEW TABLE AS icp_new
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_profiles_history_update
    AFTER UPDATE ON @extschema@.icp_profiles
    REFERENCING OLD TABLE AS icp_old NEW TABLE AS icp_new
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_profiles_history_delete
    AFTER DELETE ON @extschema@.icp_profiles
    REFERENCING OLD TABLE AS icp_old
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_profiles_history_truncate
    AFTER TRUNCATE ON @extschema@.icp_profiles
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_criteria_history_insert
    AFTER INSERT ON @extschema@.icp_criteria
    REFERENCING NEW TABLE AS icp_new
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_criteria_history_update
    AFTER UPDATE ON @extschema@.icp_criteria
    REFERENCING OLD TABLE AS icp_old NEW TABLE AS icp_new
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_criteria_history_delete
    AFTER DELETE ON @extschema@.icp_criteria
    REFERENCING OLD TABLE AS icp_old
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_criteria_history_truncate
    AFTER TRUNCATE ON @extschema@.icp_criteria
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

-- A rename moves the profile's history along, before the criteria follow it
-- (ON UPDATE CASCADE) and before the statement trigger compares values.  A
-- new name that already has history (of a deleted profile) keeps it, and
-- the renamed profile's versions are numbered after it.
CREATE FUNCTION @extschema@.icp_profiles_history_rename()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT (has_table_privilege('@extschema@.icp_profile_versions', 'SELECT')
            AND has_table_privilege('@extschema@.icp_profile_versions', 'UPDATE')) THEN
        RAISE EXCEPTION 'permission denied for table icp_profile_versions'
            USING ERRCODE = '42501',
                  DETAIL = 'Renaming a profile renames its history in icp_profile_versions, with the rights of the role making the change.',
                  HINT = 'Grant SELECT, INSERT and UPDATE on icp_profile_versions to the roles that edit profiles.';
    END IF;
    -- (a new name taken by another profile fails on the primary key anyway)
    IF NEW.name IS DISTINCT FROM OLD.name AND NOT EXISTS
        (SELECT FROM @extschema@.icp_profiles AS p WHERE p.name = NEW.name) THEN
        UPDATE @extschema@.icp_profile_versions AS v
           SET profile = NEW.name,
               version = v.version + COALESCE(
                   (SELECT max(w.version) FROM @extschema@.icp_profile_versions AS w
                     WHERE w.profile = NEW.name), 0)
         WHERE v.profile = OLD.name;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION @extschema@.icp_profiles_history_rename() IS
    'Trigger function: carries a profile''s history in icp_profile_versions along when the profile is renamed';

CREATE TRIGGER icp_profiles_history_rename
    BEFORE UPDATE OF name ON @extschema@.icp_profiles
    FOR EACH ROW EXECUTE FUNCTION @extschema@.icp_profiles_history_rename();

-- Like the profile tables: nothing for PUBLIC, everything (with grant
-- option) for the role installing the extension.
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
    ON @extschema@.icp_profile_versions TO @extowner@ WITH GRANT OPTION;

SELECT pg_catalog.pg_extension_config_dump('@extschema@.icp_profile_versions', '');

-- ---------------------------------------------------------------------------
-- Learning and validating profiles from won/lost history: icp_learn (C,
-- src/learn.c) writes a logistic profile, icp_evaluate and icp_lift measure
-- any profile against the outcomes.
-- All run as the caller (privileges and row security of the source apply).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_learn(profile pg_catalog.text, source pg_catalog.regclass,
    outcome pg_catalog.text, attributes pg_catalog.text[] DEFAULT NULL,
    options pg_catalog.jsonb DEFAULT '{}'::pg_catalog.jsonb,
    OUT rows_used bigint, OUT positives bigint, OUT holdout_rows bigint, OUT criteria integer,
    OUT train_auc double precision, OUT holdout_auc double precision,
    OUT seconds double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'icp_learn'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.icp_learn(pg_catalog.text, pg_catalog.regclass, pg_catalog.text,
    pg_catalog.text[], pg_catalog.jsonb) IS
    'Learns (or replaces) a logistic profile from won/lost history: one criterion per useful value, bin, element or IS NULL; options l2, min_support, bins, max_values, holdout, sample, seed';

-- The SQL expression (on alias t) that reads a boolean or 0/1 outcome
-- column as boolean; errors name the column.
CREATE FUNCTION @extschema@.icp_outcome_expression(source pg_catalog.regclass,
    outcome pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    typ oid;
BEGIN
    IF source IS NULL OR outcome IS NULL THEN
        RAISE EXCEPTION 'a source and an outcome column are needed'
            USING ERRCODE = '22004';
    END IF;
    SELECT CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END
      INTO typ
      FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
     WHERE a.attrelid = source
       AND a.attname = outcome
       AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', outcome, source
            USING ERRCODE = '42703',
                  HINT = 'Column names are matched exactly, without case folding.';
    END IF;
    IF typ = 'pg_catalog.bool'::pg_catalog.regtype THEN
        RETURN pg_catalog.format('t.%I', outcome);
    ELSIF typ = ANY (ARRAY['pg_catalog.int2'::pg_catalog.regtype,
            'pg_catalog.int4'::pg_catalog.regtype, 'pg_catalog.int8'::pg_catalog.regtype]::oid[]) THEN
        RETURN pg_catalog.format('CASE t.%I WHEN 1 THEN true WHEN 0 THEN false END', outcome);
    END IF;
    RAISE EXCEPTION 'outcome column "%" is of type %, not boolean or integer',
        outcome, pg_catalog.format_type(typ, NULL)
        USING ERRCODE = '42804',
              HINT = 'Use a boolean column, or an integer column holding 1 for won and 0 for lost.';
END
$$;

COMMENT ON FUNCTION @extschema@.icp_outcome_expression(pg_catalog.regclass, pg_catalog.text) IS
    'Internal: the expression reading a boolean or 0/1 outcome column of a source as boolean';

CREATE FUNCTION @extschema@.icp_evaluate(profile pg_catalog.text, source pg_catalog.regclass,
    outcome pg_catalog.text,
    OUT rows bigint, OUT positives bigint, OUT auc double precision,
    OUT log_loss double precision, OUT lift_top_decile double precision,
    OUT precision_a double precision, OUT recall_a double precision,
    OUT precision_ab double precision, OUT recall_ab double precision)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    yexpr pg_catalog.text := @extschema@.icp_outcome_expression(source, outcome);
    logistic boolean;
    bad bigint;
BEGIN
    IF profile IS NULL THEN
        RAISE EXCEPTION 'a profile name is needed' USING ERRCODE = '22004';
    END IF;
    SELECT p.model = 'logistic' INTO logistic
      FROM @extschema@.icp_profiles p WHERE p.name = profile;
    -- Scores come from one profile value computed once.  Rows whose fit is
    -- NULL (nothing known) rank below every other row.
    EXECUTE pg_catalog.format($q$
        WITH pv AS MATERIALIZED (SELECT @extschema@.icp_profile($1) AS v),
        raw AS MATERIALIZED (
            SELECT @extschema@.icp_score(t, pv.v) AS sc, %1$s AS y, t.%2$I AS o
              FROM %3$s AS t, pv
             WHERE t.%2$I IS NOT NULL),
        s AS (SELECT (sc).fit AS fit, (sc).grade AS grade, y FROM raw WHERE y IS NOT NULL),
        g AS (SELECT COALESCE(fit, -1) AS f, count(*) AS n,
                     count(*) FILTER (WHERE y) AS pos
                FROM s GROUP BY 1),
        tot AS (SELECT sum(n)::bigint AS n, sum(pos)::bigint AS pos FROM g),
        r AS (SELECT f, n, pos,
                     COALESCE(sum(n - pos) OVER
                         (ORDER BY f ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS negbelow,
                     COALESCE(sum(n) OVER
                         (ORDER BY f DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS above
                FROM g)
        SELECT tot.n, tot.pos,
               (SELECT (sum(r.pos * (r.negbelow + (r.n - r.pos) / 2.0)) / NULLIF(tot.pos::numeric * (tot.n - tot.pos), 0))::double precision FROM r),
               CASE WHEN $2 THEN
                   (SELECT avg(CASE WHEN y
                        THEN - ln(GREATEST(fit / 100, 1e-15::double precision))
                        ELSE - ln(GREATEST(1 - fit / 100, 1e-15::double precision))
                        END) FROM s)
               END,
               -- top decile: the first n/10 rows by fit, a tied group at
               -- the cut counted in proportion
               (SELECT (sum(r.pos * LEAST(GREATEST(
                            (tot.n / 10.0 - r.above) / r.n, 0), 1)) / (tot.n / 10.0) / NULLIF(tot.pos::numeric / tot.n, 0))::double precision
                  FROM r),
               (SELECT (count(*) FILTER (WHERE y)::double precision / NULLIF(count(*), 0))
                  FROM s WHERE grade = 'A'),
               (SELECT count(*)::double precision / NULLIF(tot.pos, 0)
                  FROM s WHERE y AND grade = 'A'),
               (SELECT (count(*) FILTER (WHERE y)::double precision / NULLIF(count(*), 0))
                  FROM s WHERE grade = ANY (ARRAY['A', 'B'])),
               (SELECT count(*)::double precision / NULLIF(tot.pos, 0)
                  FROM s WHERE y AND grade = ANY (ARRAY['A', 'B'])),
               (SELECT count(*) FROM raw WHERE y IS NULL)
          FROM tot
        $q$, yexpr, outcome, source)
      INTO rows, positives, auc, log_loss, lift_top_decile,
           precision_a, recall_a, precision_ab, recall_ab, bad
     USING profile, COALESCE(logistic, false);
    IF bad > 0 THEN
        RAISE EXCEPTION 'outcome column "%" must be 0 or 1', outcome
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('%s rows hold another value.', bad);
    END IF;
    IF COALESCE(rows, 0) = 0 THEN
        RAISE EXCEPTION 'source % has no rows with a known outcome', source USING ERRCODE = '22023';
    ELSIF positives = 0 THEN
        RAISE EXCEPTION 'source % has no positive rows', source
            USING ERRCODE = '22023', HINT = 'A profile is validated on won and lost examples: both are needed.';
    ELSIF positives = rows THEN
        RAISE EXCEPTION 'source % has no negative rows', source
            USING ERRCODE = '22023', HINT = 'A profile is validated on won and lost examples: both are needed.';
    END IF;
END
$$;

COMMENT ON FUNCTION @extschema@.icp_evaluate(pg_catalog.text, pg_catalog.regclass, pg_catalog.text) IS
    'Validates a profile on won/lost history: rows, positives, AUC (Mann-Whitney, ties half), log loss (logistic profiles), lift of the top decile, precision and recall of grade A and of A+B';

CREATE FUNCTION @extschema@.icp_lift(profile pg_catalog.text, source pg_catalog.regclass,
    outcome pg_catalog.text, buckets integer DEFAULT 10)
RETURNS TABLE (bucket integer, min_fit double precision, max_fit double precision,
    rows bigint, positives bigint, rate double precision, lift double precision,
    cumulative_share double precision, cumulative_gain double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    yexpr pg_catalog.text := @extschema@.icp_outcome_expression(source, outcome);
    bad bigint;
BEGIN
    IF profile IS NULL THEN
        RAISE EXCEPTION 'a profile name is needed' USING ERRCODE = '22004';
    END IF;
    IF buckets IS NULL OR buckets < 1 OR buckets > 1000 THEN
        RAISE EXCEPTION 'buckets must be between 1 and 1000' USING ERRCODE = '22023';
    END IF;
    IF yexpr LIKE 'CASE%' THEN
        EXECUTE pg_catalog.format('SELECT count(*) FROM %s AS t WHERE t.%I IS NOT NULL AND (%s) IS NULL',
                                  source, outcome, yexpr) INTO bad;
        IF bad > 0 THEN
            RAISE EXCEPTION 'outcome column "%" must be 0 or 1', outcome
                USING ERRCODE = '22023', DETAIL = pg_catalog.format('%s rows hold another value.', bad);
        END IF;
    END IF;
    -- Rows are ordered by fit, best first, and cut into equal shares; rows
    -- with the same fit stay together in the bucket holding their middle.
    RETURN QUERY EXECUTE pg_catalog.format($q$
        WITH pv AS MATERIALIZED (SELECT @extschema@.icp_profile($1) AS v),
        s AS MATERIALIZED (
            SELECT @extschema@.icp_fit(t, pv.v) AS fit, %1$s AS y
              FROM %3$s AS t, pv
             WHERE t.%2$I IS NOT NULL),
        g AS (SELECT COALESCE(fit, -1) AS f, min(fit) AS lo,
                     max(fit) AS hi, count(*) AS n,
                     count(*) FILTER (WHERE y) AS pos
                FROM s WHERE y IS NOT NULL GROUP BY 1),
        tot AS (SELECT sum(n) AS n, sum(pos) AS pos FROM g),
        r AS (SELECT g.*, COALESCE(sum(g.n) OVER
                         (ORDER BY g.f DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS above
                FROM g),
        b AS (SELECT LEAST(floor((r.above + r.n / 2.0) * $2 / tot.n)::integer + 1, $2) AS bucket,
                     r.lo, r.hi, r.n, r.pos
                FROM r, tot),
        agg AS (SELECT b.bucket, min(b.lo) AS lo, max(b.hi) AS hi,
                       sum(b.n)::bigint AS n, sum(b.pos)::bigint AS pos
                  FROM b GROUP BY b.bucket)
        SELECT agg.bucket, agg.lo, agg.hi, agg.n, agg.pos,
               agg.pos::double precision / agg.n,
               (agg.pos::double precision / agg.n) / NULLIF(tot.pos::double precision / tot.n, 0),
               sum(agg.n) OVER w::double precision / tot.n,
               sum(agg.pos) OVER w::double precision / NULLIF(tot.pos, 0)
          FROM agg, tot
        WINDOW w AS (ORDER BY agg.bucket)
         ORDER BY agg.bucket
        $q$, yexpr, outcome, source)
    USING profile, buckets;
END
$$;

COMMENT ON FUNCTION @extschema@.icp_lift(pg_catalog.text, pg_catalog.regclass, pg_catalog.text, integer) IS
    'The lift/gain table of a profile on won/lost history: one row per fit bucket (best first) with rows, positives, rate, lift, cumulative share of rows and cumulative gain';

-- ---------------------------------------------------------------------------
-- Internal functions nobody calls by name: EXECUTE is revoked from PUBLIC.
-- The planner calls a support function, and a table fires its triggers,
-- without checking EXECUTE, so these keep working for every role; only
-- calling them directly, or attaching the trigger functions to another
-- table, needs the owner.
--
-- icp_rescore_can_commit and icp_outcome_expression stay executable by
-- PUBLIC on purpose: icp_rescore, icp_evaluate and icp_lift run with the
-- caller's rights and call them, so revoking them would break those for
-- every role but the owner.  Neither can do harm: the first takes no
-- argument and says whether the calling procedure may COMMIT, the second
-- reads the catalog (readable by all) and rejects a NULL or an unknown
-- column with an error.
-- ---------------------------------------------------------------------------

REVOKE EXECUTE ON FUNCTION @extschema@.icp_support(pg_catalog.internal) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.icp_touch_updated_at() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.icp_profiles_changed() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.icp_profiles_history() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.icp_profiles_history_rename() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.icp_check_weights() FROM PUBLIC;
