-- Soundness: the internal entry points the planner rewrites icp_fit,
-- icp_grade, icp_score and icp_segment into (icp_*_columns) are not for
-- ordinary roles, and a superuser calling them by hand with arguments of
-- the wrong number, type or value gets an error (class 22 or 42), never a
-- crash: after each call the server still answers.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
DROP ROLE IF EXISTS regress_icp_snd_plain;
RESET client_min_messages;

CREATE TABLE int_leads (id int, industry text, employees int);
INSERT INTO int_leads SELECT g, (ARRAY['software', 'retail'])[1 + g % 2], g * 50 FROM generate_series(1, 20) g;
CREATE TABLE int_other (id int, tags text[], revenue numeric);
INSERT INTO icp_profiles (name, active) VALUES ('int-p', false);
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('int-p', 'industry = ''software''', 30), ('int-p', 'employees > 400', 10);

-- 1. An ordinary role may score (the planner's rewrite included) but may not
-- call the internal functions itself.
CREATE ROLE regress_icp_snd_plain;
GRANT SELECT ON int_leads, icp_profiles, icp_criteria TO regress_icp_snd_plain;
SET ROLE regress_icp_snd_plain;
SELECT bool_and(icp_fit(l, 'int-p') = want AND (icp_score(l, 'int-p')).fit = want
                AND icp_grade(l, 'int-p') IS NOT NULL
                AND icp_segment(l, ARRAY['int-p']) IS NOT DISTINCT FROM CASE WHEN want >= 40 THEN 'int-p' END)
       AS plain_role_scores
  FROM (SELECT l, 100.0 * (CASE WHEN industry = 'software' THEN 30 ELSE 0 END
                         + CASE WHEN employees > 400 THEN 10 ELSE 0 END) / 40 AS want
          FROM int_leads l) s;
\set VERBOSITY sqlstate
SELECT icp_fit_columns(1, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200);
SELECT icp_grade_columns(1, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200);
SELECT icp_score_columns(1, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200);
SELECT icp_segment_columns(1, ARRAY['int-p'], 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200);
SELECT icp_segment_columns(0, NULL::text[], 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200);
SELECT icp_fit_columns(2, icp_profile('int-p'), 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200);
\set VERBOSITY default
RESET ROLE;

-- 2. Hand-made calls by a superuser: each one is rejected with an error of
-- class 22 (data exception) or 42 (wrong call), and the server lives on.
CREATE FUNCTION pg_temp.attempt(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    IF left(SQLSTATE, 2) IN ('22', '42') THEN
        RETURN 'rejected';
    END IF;
    RETURN 'wrong error ' || SQLSTATE;
END $$;

-- wrong number of arguments
SELECT pg_temp.attempt($$SELECT icp_fit_columns()$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 'int_leads'::regtype)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200, 7)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_segment_columns(1, ARRAY['int-p'], 'int_leads'::regtype, '(0,1)'::tid, 1)$$);
SELECT 1 AS alive;

-- arguments of the wrong type
SELECT pg_temp.attempt($$SELECT icp_fit_columns('1'::text, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 42, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_grade_columns(1, 42, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, ROW(1, 2), 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, icp_profile('int-p'), 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(2, 42, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(2, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(2, '\x0100000001000000ffffffff00000000'::bytea, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_score_columns(2, '{"model": "points"}'::jsonb, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 'int_leads'::text, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::text, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, 1, 200, 'software'::text)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, '1'::text, 'software'::text, '200'::text)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, ROW(1, 'software', 200))$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_segment_columns(1, ARRAY[1, 2], 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_segment_columns(1, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_segment_columns(1, ARRAY['int-p'], 'int_leads'::regtype, '(0,1)'::tid, 1, 200, 'software'::text)$$);
SELECT 1 AS alive;

-- NULLs where the planner never puts one
SELECT pg_temp.attempt($$SELECT icp_fit_columns(NULL::int, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, NULL::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_segment_columns(NULL::int, ARRAY['int-p'], 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;

-- wrong values: a kind that does not exist, a type that is not a row type,
-- the row type of another table, a type that does not exist
SELECT pg_temp.attempt($$SELECT icp_fit_columns(-1, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(2147483647, 'int-p'::text, 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_segment_columns(2, ARRAY['int-p'], 'int_leads'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 'int4'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 'int_other'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 'pg_class'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text, 4294967295::oid::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
SELECT pg_temp.attempt($$SELECT icp_segment_columns(1, ARRAY['int-p'], 'int_other'::regtype, '(0,1)'::tid, 1, 'software'::text, 200)$$);
SELECT 1 AS alive;
-- a row type that changes from one row to the next
SELECT pg_temp.attempt($$SELECT icp_fit_columns(1, 'int-p'::text,
                                 CASE WHEN g = 1 THEN 'int_leads'::regtype ELSE 'int_other'::regtype END,
                                 '(0,1)'::tid, 1, 'software'::text, 200)
                           FROM generate_series(1, 2) g$$);
SELECT 1 AS alive;

DROP TABLE int_leads, int_other;
DELETE FROM icp_profiles WHERE name = 'int-p';
REVOKE ALL ON icp_profiles, icp_criteria FROM regress_icp_snd_plain;
DROP ROLE regress_icp_snd_plain;
