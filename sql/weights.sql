--
-- weights: criterion weights and a profile's bias lie between -1e12 and
-- 1e12, in the tables, in icp_profile values (JSON and binary input) and in
-- values compiled for scoring.  With that bound no sum of weights can
-- overflow a float8, so a fit is never NaN.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;
\set VERBOSITY terse

-- the tables: refused with 22003 by a trigger (a CHECK on each says the
-- same), NaN and infinities included
INSERT INTO icp_profiles (name, model) VALUES ('w-points', 'points'), ('w-logistic', 'logistic');
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('w-points', 'a > 0', 1e308);
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('w-points', 'a > 0', -1.000001e12);
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('w-points', 'a > 0', 'NaN');
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('w-points', 'a > 0', 'Infinity');
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('w-points', 'a > 0', '-Infinity');
UPDATE icp_profiles SET bias = 1e13 WHERE name = 'w-logistic';
UPDATE icp_profiles SET bias = 'NaN' WHERE name = 'w-logistic';

-- JSON input: 22003, naming the profile and the criterion
\set VERBOSITY default
SELECT '{"name": "j", "criteria": [{"rule": "a > 0", "weight": 1e308}]}'::icp_profile;
SELECT '{"criteria": [{"rule": "a > 0", "weight": 1}, {"id": 7, "rule": "a > 1", "weight": -1e400}]}'::icp_profile;
SELECT '{"name": "j", "model": "logistic", "bias": 1000000000000.5, "criteria": []}'::icp_profile;
SELECT '{"name": "j", "criteria": [{"rule": "a > 0", "weight": "NaN"}]}'::icp_profile;
\set VERBOSITY terse
-- the SQLSTATE of each
CREATE FUNCTION pg_temp.sqlstate_of(value text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM value::icp_profile;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
SELECT json, pg_temp.sqlstate_of(json) FROM (VALUES
    ('{"criteria": [{"rule": "a > 0", "weight": 1e12}]}'),
    ('{"criteria": [{"rule": "a > 0", "weight": -1e12}]}'),
    ('{"criteria": [{"rule": "a > 0", "weight": 1000000000001}]}'),
    ('{"criteria": [{"rule": "a > 0", "weight": 1e308}]}'),
    ('{"criteria": [{"rule": "a > 0", "weight": 1e400}]}'),
    ('{"bias": -1e12, "criteria": []}'),
    ('{"bias": -1e13, "criteria": []}'),
    ('{"bias": 1e999, "criteria": []}')
) v(json);
DROP FUNCTION pg_temp.sqlstate_of(text);

-- binary input (icp_profile_recv: a version byte and the JSON text) is
-- checked alike; the payload goes through COPY FROM ... (FORMAT binary)
CREATE TEMP TABLE profile_received (p icp_profile);
CREATE FUNCTION pg_temp.receive(payload bytea) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    stream bytea := '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                    || '\x0001'::bytea || int4send(length(payload)) || payload
                    || '\xffff'::bytea;
BEGIN
    TRUNCATE profile_received;
    EXECUTE format('COPY profile_received FROM PROGRAM %L (FORMAT binary)',
                   'printf %s ' || translate(encode(stream, 'base64'), E'\n', '') || ' | base64 -d');
    RETURN (SELECT p::text FROM profile_received);
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pg_temp.receive('\x01'::bytea || convert_to('{"criteria": [{"rule": "a > 0", "weight": 1e12}]}', 'UTF8'));
SELECT pg_temp.receive('\x01'::bytea || convert_to('{"name": "r", "criteria": [{"rule": "a > 0", "weight": 2e12}]}', 'UTF8'));
SELECT pg_temp.receive('\x01'::bytea || convert_to('{"name": "r", "bias": -1e300, "criteria": []}', 'UTF8'));
SELECT pg_temp.receive(icp_profile_send('{"name": "r", "bias": 3, "criteria": [{"rule": "a > 0", "weight": -1e12}]}'));
DROP TABLE profile_received;
DROP FUNCTION pg_temp.receive(bytea);

-- at the bound, sums stay finite: 2,000 criteria of weight +-1e12 score as
-- the formulas computed in plain SQL say (never NaN)
INSERT INTO icp_criteria (profile, rule, weight)
SELECT p, ('a > ' || g)::icp_rule, CASE WHEN g % 3 = 0 THEN -1e12 ELSE 1e12 END
  FROM generate_series(1, 2000) g, unnest(ARRAY['w-points', 'w-logistic']) p;
UPDATE icp_profiles SET bias = -1e12 WHERE name = 'w-logistic';
WITH acc(a) AS (VALUES (0), (700), (5000)),
sums AS (
    SELECT acc.a,
           coalesce(sum(c.weight) FILTER (WHERE acc.a > r.g), 0) AS earned,
           sum(c.weight) FILTER (WHERE c.weight > 0) AS possible
      FROM acc, icp_criteria c, LATERAL (SELECT substr(c.rule::text, 5)::int) AS r(g)
     WHERE c.profile = 'w-points'
     GROUP BY acc.a),
fits AS (
    SELECT s.a,
           icp_fit(jsonb_build_object('a', s.a), 'w-points') AS fit_points,
           100 * greatest(0, least(1, s.earned / s.possible)) AS expected_points,
           icp_fit(jsonb_build_object('a', s.a), 'w-logistic') AS fit_logistic,
           -- sigmoid, its argument clamped where float8 exp() would overflow
           100 / (1 + exp(-greatest(-700, least(700, -1e12 + s.earned)))) AS expected_logistic
      FROM sums s)
SELECT a, round(fit_points::numeric, 4) AS fit_points,
       abs(fit_points - expected_points) < 1e-9 AS points_ok,
       round(fit_logistic::numeric, 4) AS fit_logistic,
       abs(fit_logistic - expected_logistic) < 1e-9 AS logistic_ok
  FROM fits ORDER BY a;

-- a value stored before the bound existed (icp 0.1 took any finite weight)
-- is refused when compiled for scoring, instead of giving a NaN fit; the
-- constraint is dropped (and the trigger disabled) inside a transaction
-- to plant one
\set VERBOSITY default
BEGIN;
ALTER TABLE icp_criteria DROP CONSTRAINT icp_criteria_weight_check;
ALTER TABLE icp_criteria DISABLE TRIGGER icp_criteria_check_weight;
INSERT INTO icp_profiles (name) VALUES ('w-old');
INSERT INTO icp_criteria (id, profile, rule, weight) VALUES
    (9101, 'w-old', 'a > 0', 1e308), (9102, 'w-old', 'a > 1', 1e308);
SELECT icp_fit('{"a": 5}'::jsonb, 'w-old');
ROLLBACK;

DELETE FROM icp_profiles WHERE name IN ('w-points', 'w-logistic');
DELETE FROM icp_profile_versions WHERE profile IN ('w-points', 'w-logistic');
