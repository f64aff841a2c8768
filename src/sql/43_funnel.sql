
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
