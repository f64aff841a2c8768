-- Soundness: huge weights.  Sums of weights that overflow a float8 never
-- give a NaN (or any out-of-range) fit, coverage, grade or evaluation: such a
-- weight is either refused when it is stored or given, with SQLSTATE 22003
-- (numeric value out of range), or the result is clamped to a finite one.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

CREATE TABLE wgt_leads (id int PRIMARY KEY, a int, b int, won boolean);
INSERT INTO wgt_leads SELECT g, g % 2, CASE WHEN g % 5 = 0 THEN NULL ELSE g % 3 END, g % 4 = 0
  FROM generate_series(1, 40) g;

-- 'accepted' or 'refused' (22003) for a statement storing or giving a
-- weight; any other error is shown.
CREATE FUNCTION pg_temp.store(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    RETURN CASE WHEN SQLSTATE = '22003' THEN 'refused' ELSE 'error ' || SQLSTATE END;
END $$;
-- Whether every score of a profile is a number in range (or NULL), its
-- grade the one its fit earns, and icp_evaluate's figures in range, on
-- rows, jsonb accounts and the profile's value; a 22003 error counts as
-- safe too (a clear error), any other error does not.
CREATE FUNCTION pg_temp.safe(p text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    ok boolean;
    e record;
BEGIN
    SELECT bool_and((s.fit IS NULL OR s.fit BETWEEN 0 AND 100)
                    AND (s.coverage IS NULL OR s.coverage BETWEEN 0 AND 1)
                    AND s.grade IS NOT DISTINCT FROM
                        CASE WHEN s.fit IS NULL THEN NULL WHEN s.fit >= 80 THEN 'A' WHEN s.fit >= 60 THEN 'B'
                             WHEN s.fit >= 40 THEN 'C' ELSE 'D' END
                    AND (j.f IS NULL OR j.f BETWEEN 0 AND 100)
                    AND (v.f IS NULL OR v.f BETWEEN 0 AND 100)
                    AND NOT EXISTS (SELECT FROM icp_explain(l, p) x WHERE x.points = 'NaN' OR x.weight = 'NaN'))
      INTO ok
      FROM wgt_leads l,
           LATERAL icp_score(l, p) s,
           LATERAL (SELECT icp_fit(to_jsonb(l), p) AS f) j,
           LATERAL (SELECT icp_fit(l, icp_profile(p)) AS f) v;
    IF NOT ok THEN
        RETURN 'NaN or out of range';
    END IF;
    SELECT * INTO e FROM icp_evaluate(p, 'wgt_leads', 'won');
    IF e.auc = 'NaN' OR e.auc NOT BETWEEN 0 AND 1 OR e.log_loss = 'NaN' OR e.lift_top_decile = 'NaN' THEN
        RETURN 'icp_evaluate: NaN or out of range';
    END IF;
    IF EXISTS (SELECT FROM icp_lift(p, 'wgt_leads', 'won', 4) x
                WHERE x.rate = 'NaN' OR x.lift = 'NaN' OR x.cumulative_gain = 'NaN') THEN
        RETURN 'icp_lift: NaN';
    END IF;
    RETURN 'safe';
EXCEPTION WHEN OTHERS THEN
    RETURN CASE WHEN SQLSTATE = '22003' THEN 'safe' ELSE 'error ' || SQLSTATE END;
END $$;

INSERT INTO icp_profiles (name, model, missing) VALUES
    ('wgt-sum', 'points', 'ignore'),          -- positive weights whose sum overflows
    ('wgt-mixed', 'points', 'ignore'),        -- +huge and -huge
    ('wgt-penalize', 'points', 'penalize'),   -- unknown outcomes count as false
    ('wgt-logistic', 'logistic', 'ignore'),   -- the sigmoid of an overflowing sum
    ('wgt-finite', 'points', 'ignore');       -- big but finite: exact

-- storing the weights: accepted, or refused with 22003
SELECT pg_temp.store($$INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('wgt-sum', 'a = 1', 1e308), ('wgt-sum', 'b = 1', 1e308), ('wgt-sum', 'b = 2', 1.5e308)$$) IN ('accepted', 'refused') AS stored_or_22003;
SELECT pg_temp.store($$INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('wgt-mixed', 'a = 1', 1e308), ('wgt-mixed', 'a = 0', 1e308),
    ('wgt-mixed', 'b = 1', -1e308), ('wgt-mixed', 'b = 2', -1.7e308)$$) IN ('accepted', 'refused') AS stored_or_22003;
SELECT pg_temp.store($$INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('wgt-penalize', 'a = 1', 1.7e308), ('wgt-penalize', 'b = 1', 1.7e308), ('wgt-penalize', 'b IS NULL', 1e308)$$) IN ('accepted', 'refused') AS stored_or_22003;
SELECT pg_temp.store($$INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('wgt-logistic', 'a = 1', 1e308), ('wgt-logistic', 'b = 1', 1e308),
    ('wgt-logistic', 'a = 0', -1e308), ('wgt-logistic', 'b = 2', -1e308)$$) IN ('accepted', 'refused') AS stored_or_22003;
SELECT pg_temp.store($$UPDATE icp_profiles SET bias = 1e308 WHERE name = 'wgt-logistic'$$) IN ('accepted', 'refused') AS stored_or_22003;
SELECT pg_temp.store($$INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('wgt-finite', 'a = 1', 1e307), ('wgt-finite', 'b = 1', 2e307), ('wgt-finite', 'b = 2', 3e307)$$) IN ('accepted', 'refused') AS stored_or_22003;

-- scoring: never a NaN
SELECT p AS profile, pg_temp.safe(p) AS scores
  FROM unnest(ARRAY['wgt-sum', 'wgt-mixed', 'wgt-penalize', 'wgt-logistic', 'wgt-finite']) p ORDER BY p;
-- segmentation compares such fits without failing
SELECT pg_temp.store($$SELECT icp_segment(l, ARRAY['wgt-sum', 'wgt-mixed', 'wgt-penalize', 'wgt-logistic']) FROM wgt_leads l$$)
       IN ('accepted', 'refused') AS segment_runs_or_22003;

-- big but finite sums are exact (if they were stored): the points formula by hand
SELECT count(*) FILTER (WHERE NOT abs(icp_fit(l, 'wgt-finite') - want) < 1e-9) AS finite_wrong
  FROM wgt_leads l,
       LATERAL (SELECT 100 * ((CASE WHEN l.a = 1 THEN 1e307 ELSE 0 END + CASE WHEN l.b = 1 THEN 2e307 ELSE 0 END
                                         + CASE WHEN l.b = 2 THEN 3e307 ELSE 0 END)::float8
                                        / ((CASE WHEN l.a IS NOT NULL THEN 1e307 ELSE 0 END
                                            + CASE WHEN l.b IS NOT NULL THEN 5e307 ELSE 0 END)::float8)) AS want) w;

-- profile values with huge weights, and weights beyond float8
-- (given as a value: refused with 22003, or every fit in range)
CREATE FUNCTION pg_temp.value_fits() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT bool_and(f IS NULL OR f BETWEEN 0 AND 100)
          FROM (SELECT icp_fit(l, '{"model": "points", "criteria": [{"rule": "a = 1", "weight": 1e308},
                                      {"rule": "a = 0", "weight": 1.7e308}, {"rule": "b = 1", "weight": 1.7e308}]}'::icp_profile) AS f
                  FROM wgt_leads l) s) THEN
        RETURN 'in range';
    END IF;
    RETURN 'NaN or out of range';
EXCEPTION WHEN OTHERS THEN
    RETURN CASE WHEN SQLSTATE = '22003' THEN 'refused' ELSE 'error ' || SQLSTATE END;
END $$;
SELECT pg_temp.value_fits() IN ('in range', 'refused') AS value_fits_in_range_or_22003;
SELECT pg_temp.store($$SELECT '{"model": "points", "criteria": [{"rule": "a = 1", "weight": 1e309}]}'::icp_profile$$)
       AS weight_beyond_float8;
SELECT pg_temp.store($$SELECT '{"model": "logistic", "bias": -1e400, "criteria": [{"rule": "a = 1", "weight": 1}]}'::icp_profile$$)
       AS bias_beyond_float8;

DROP TABLE wgt_leads;
DELETE FROM icp_profiles WHERE name LIKE 'wgt-%';
