-- icp 0.1 -> 0.2: soundness release.  Internal entry points are no longer
-- callable by PUBLIC, the history trigger functions run with the caller's
-- rights, and icp_rescore / icp_funnel are rewritten (see README, Upgrading).
-- Every object is schema-qualified; nothing is adopted from the search_path.

\echo Use "ALTER EXTENSION icp UPDATE TO '0.2'" to load this file. \quit

-- Internal entry points of the planner rewrite are no longer executable by
-- PUBLIC; the rewrite is only made for roles that may execute them.
REVOKE ALL ON FUNCTION @extschema@.icp_fit_columns("any") FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.icp_grade_columns("any") FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.icp_score_columns("any") FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.icp_segment_columns("any") FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Stored profiles must pass the checks 0.2 makes on input.
--
-- 0.2 refuses WITHIN intervals that now() cannot be moved back by (more than
-- 1000 years) or that read differently under IntervalStyle sql_standard, and
-- weights or a bias beyond +-1e12 (sums of such weights overflow to a NaN
-- fit).  0.1 accepted them, and a dump of such a row would no longer
-- restore.  So before anything else changes, every weight and bias is
-- checked and every stored rule and profile version is read again through
-- the 0.2 input functions; if any is refused the update stops, listing what
-- to fix.  The tightened CHECK constraints follow.
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    bad text[] := '{}';
    r record;
BEGIN
    FOR r IN SELECT p.name, p.bias FROM @extschema@.icp_profiles AS p
              WHERE NOT (p.bias OPERATOR(pg_catalog.>=) '-1e12'::double precision
                         AND p.bias OPERATOR(pg_catalog.<=) '1e12'::double precision)
              ORDER BY p.name LOOP
        bad := pg_catalog.array_append(bad,
            pg_catalog.format('profile %L: bias %s is beyond -1e12 .. 1e12', r.name, r.bias));
    END LOOP;
    FOR r IN SELECT c.id, c.profile, c.weight FROM @extschema@.icp_criteria AS c
              WHERE NOT (c.weight OPERATOR(pg_catalog.>=) '-1e12'::double precision
                         AND c.weight OPERATOR(pg_catalog.<=) '1e12'::double precision)
              ORDER BY c.id LOOP
        bad := pg_catalog.array_append(bad,
            pg_catalog.format('criterion %s of profile %L: weight %s is beyond -1e12 .. 1e12',
                              r.id, r.profile, r.weight));
    END LOOP;
    FOR r IN SELECT c.id, c.profile, c.rule::text AS rule
               FROM @extschema@.icp_criteria AS c ORDER BY c.id LOOP
        BEGIN
            PERFORM r.rule::@extschema@.icp_rule;
        EXCEPTION WHEN OTHERS THEN
            bad := pg_catalog.array_append(bad,
                pg_catalog.format('criterion %s of profile %L: %s', r.id, r.profile, SQLERRM));
        END;
    END LOOP;
    FOR r IN SELECT v.profile, v.version, v.value::text AS value
               FROM @extschema@.icp_profile_versions AS v ORDER BY v.profile, v.version LOOP
        BEGIN
            PERFORM r.value::@extschema@.icp_profile;
        EXCEPTION WHEN OTHERS THEN
            bad := pg_catalog.array_append(bad,
                pg_catalog.format('version %s of profile %L in icp_profile_versions: %s',
                                  r.version, r.profile, SQLERRM));
        END;
    END LOOP;
    IF pg_catalog.cardinality(bad) OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION 'icp 0.2 refuses % stored value(s) that icp 0.1 accepted',
                        pg_catalog.cardinality(bad)
            USING ERRCODE = 'check_violation',
                  DETAIL = pg_catalog.array_to_string(bad, E'\n'),
                  HINT = 'Correct the listed profiles and criteria (UPDATE icp_profiles, '
                         'UPDATE icp_criteria), delete the listed profile versions (DELETE FROM '
                         'icp_profile_versions), then run ALTER EXTENSION icp UPDATE again.';
    END IF;
END
$$;

-- the same bound as a fresh install's constraints (src/sql/20_tables.sql).
-- Adding a constraint checks the existing rows, and the block above has
-- already stopped the update with a list if any would fail, so the
-- constraints are added valid (NOT VALID would leave unchecked rows that a
-- dump could not restore).
ALTER TABLE @extschema@.icp_profiles
    DROP CONSTRAINT icp_profiles_bias_check,
    ADD CONSTRAINT icp_profiles_bias_check
        CHECK (bias OPERATOR(pg_catalog.>=) '-1e12'::double precision
               AND bias OPERATOR(pg_catalog.<=) '1e12'::double precision);
ALTER TABLE @extschema@.icp_criteria
    DROP CONSTRAINT icp_criteria_weight_check,
    ADD CONSTRAINT icp_criteria_weight_check
        CHECK (weight OPERATOR(pg_catalog.>=) '-1e12'::double precision
               AND weight OPERATOR(pg_catalog.<=) '1e12'::double precision);

-- weights and the bias beyond +-1e12 are refused with 22003 (the CHECK
-- constraints above would say 23514)
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
