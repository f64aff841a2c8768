
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
    created_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now(),
    decay_on text,
    half_life interval,
    CONSTRAINT icp_criteria_decay_check
        CHECK ((decay_on IS NULL) OPERATOR(pg_catalog.=) (half_life IS NULL))
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
COMMENT ON COLUMN @extschema@.icp_criteria.decay_on IS
    'Time attribute (date, timestamp, timestamptz, or a jsonb string) whose age makes the points of a true rule decay; NULL: no decay';
COMMENT ON COLUMN @extschema@.icp_criteria.half_life IS
    'Age at which the points of a true rule count half: points = weight * 0.5 ^ (age / half_life)';

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
