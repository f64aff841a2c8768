
-- ---------------------------------------------------------------------------
-- Criterion outcomes and pool sizing (DESIGN.md section 5: icp_funnel).
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

-- One scan of the source: icp_outcomes per row, then one count per step.
CREATE FUNCTION @extschema@.icp_funnel(profile pg_catalog.text, source pg_catalog.regclass,
    OUT step integer, OUT criterion bigint, OUT rule @extschema@.icp_rule,
    OUT required boolean, OUT weight double precision,
    OUT matching bigint, OUT unknown bigint, OUT pool bigint, OUT pool_share double precision)
RETURNS SETOF record
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE ROWS 10
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    value @extschema@.icp_profile := @extschema@.icp_profile(profile);
    penalize boolean;
    c record;
    aggs pg_catalog.text[] := ARRAY['pg_catalog.count(*)'];
    conds pg_catalog.text := 'true';
    counts bigint[];
    total bigint;
    i integer := 0;
BEGIN
    penalize := (value::pg_catalog.text::pg_catalog.jsonb ->> 'missing') = 'penalize';
    -- required criteria first (in criterion order), then by weight, heaviest first
    FOR c IN SELECT x.* FROM @extschema@.icp_profile_criteria(value) AS x
              ORDER BY x.required DESC, CASE WHEN x.required THEN 0 ELSE -x.weight END,
                       x."position" LOOP
        aggs := aggs || pg_catalog.format('pg_catalog.count(*) FILTER (WHERE o[%s])', c."position")
                     || pg_catalog.format('pg_catalog.count(*) FILTER (WHERE o[%s] IS NULL)', c."position");
        -- as a filter: a required criterion drops the rows it disqualifies;
        -- any other keeps the rows where it holds (negative weights: where
        -- it does not hold)
        conds := conds || ' AND ' || CASE
            WHEN c.required AND penalize THEN pg_catalog.format('o[%s] IS TRUE', c."position")
            WHEN c.required THEN pg_catalog.format('o[%s] IS NOT FALSE', c."position")
            WHEN c.weight >= 0 THEN pg_catalog.format('o[%s] IS TRUE', c."position")
            ELSE pg_catalog.format('o[%s] IS NOT TRUE', c."position") END;
        aggs := aggs || pg_catalog.format('pg_catalog.count(*) FILTER (WHERE %s)', conds);
    END LOOP;
    EXECUTE pg_catalog.format(
        'SELECT ARRAY[%s] FROM (SELECT @extschema@.icp_outcomes(s, $1) AS o FROM %s AS s) AS x',
        pg_catalog.array_to_string(aggs, ', '), source)
      INTO counts USING value;
    total := counts[1];
    FOR c IN SELECT x.* FROM @extschema@.icp_profile_criteria(value) AS x
              ORDER BY x.required DESC, CASE WHEN x.required THEN 0 ELSE -x.weight END,
                       x."position" LOOP
        step := i + 1;
        criterion := c.criterion;
        rule := c.rule;
        required := c.required;
        weight := c.weight;
        matching := counts[2 + 3 * i];
        unknown := counts[3 + 3 * i];
        pool := counts[4 + 3 * i];
        pool_share := CASE WHEN total = 0 THEN NULL ELSE pool::double precision / total END;
        i := i + 1;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION @extschema@.icp_funnel(pg_catalog.text, pg_catalog.regclass) IS
    'Sizes the pool: one row per criterion (required ones first, then by weight) with the rows matching it, the rows where it is unknown, and the rows left when it and every earlier one are applied as filters';
