-- icp_score_trigger: score rows into their own columns as they are written.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

INSERT INTO icp_profiles (name, kind) VALUES
    ('trg-mid-market', 'ideal'), ('trg-startup-sam', 'exclude');
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('trg-mid-market', 'employees BETWEEN 50 AND 1000', 40, true),
    ('trg-mid-market', 'industry IN (''software'', ''fintech'')', 40, false),
    ('trg-mid-market', 'country IN (''DE'', ''AT'', ''CH'')', 20, false),
    ('trg-startup-sam', 'employees < 20', 60, true),
    ('trg-startup-sam', 'funding = ''seed''', 40, false);

-- The README's example: a leads table scored on every INSERT and UPDATE.
CREATE TABLE leads (
    id bigint PRIMARY KEY,
    name text,
    industry text,
    employees integer,
    country text,
    funding text,
    fit double precision,
    grade text,
    segment text
);
CREATE TRIGGER leads_score
    BEFORE INSERT OR UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('trg-mid-market', 'fit', 'grade', 'segment');

INSERT INTO leads (id, name, industry, employees, country, funding) VALUES
    (1, 'Acme GmbH', 'software', 200, 'DE', 'series-a'),
    (2, 'Tiny Labs', 'software', 8, 'DE', 'seed'),
    (3, 'Big Retail', 'retail', 5000, 'US', 'public'),
    (4, 'Mystery', NULL, NULL, NULL, NULL);
COPY leads (id, name, industry, employees, country, funding) FROM stdin;
5	Fin AG	fintech	120	CH	series-b
6	Shop SA	retail	300	FR	\N
\.
SELECT id, name, fit, grade, segment FROM leads ORDER BY id;

-- UPDATE of an attribute the profile reads: rescored.
UPDATE leads SET employees = 60 WHERE id = 3;
SELECT id, fit, grade, segment FROM leads WHERE id = 3;

-- UPDATE of nothing the profiles read: no scoring work; a value written by
-- hand stays (icp_rescore relies on this), a NULL result column is filled.
UPDATE leads SET fit = 42, name = 'Acme SE' WHERE id = 1;
UPDATE leads SET employees = employees WHERE id = 1;
SELECT id, name, fit, grade FROM leads WHERE id = 1;
UPDATE leads SET grade = NULL, name = 'Acme' WHERE id = 1;
SELECT id, name, fit, grade FROM leads WHERE id = 1;
UPDATE leads SET country = 'AT' WHERE id = 1;
SELECT id, name, fit, grade FROM leads WHERE id = 1;

-- Every trigger-written value equals what the scoring functions say.
INSERT INTO leads (id, industry, employees, country, funding)
SELECT 100 + g, (ARRAY['software', 'fintech', 'retail', NULL])[1 + g % 4],
       CASE WHEN g % 9 = 0 THEN NULL ELSE (g * 37) % 1500 END,
       (ARRAY['DE', 'AT', 'US', 'FR', NULL])[1 + g % 5],
       (ARRAY['seed', 'series-a', NULL])[1 + g % 3]
  FROM generate_series(1, 2000) AS g;
UPDATE leads SET employees = employees + 7 WHERE id % 3 = 0;
UPDATE leads SET industry = 'software' WHERE id % 5 = 0;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE fit IS DISTINCT FROM icp_fit(l, 'trg-mid-market')) AS fit_differs,
       count(*) FILTER (WHERE grade IS DISTINCT FROM icp_grade(l, 'trg-mid-market')) AS grade_differs,
       count(*) FILTER (WHERE segment IS DISTINCT FROM icp_segment(l)) AS segment_differs
  FROM leads l;

-- numeric, real, varchar and char result columns; '' skips a column.
CREATE TABLE leads_typed (
    id integer,
    employees integer,
    industry text,
    country text,
    funding text,
    fit numeric(5, 1),
    fit_real real,
    grade varchar(1),
    seg char(20)
);
CREATE TRIGGER leads_typed_score BEFORE INSERT ON leads_typed
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('trg-mid-market', 'fit', '', 'seg');
CREATE TRIGGER leads_typed_score_real BEFORE INSERT ON leads_typed
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('trg-mid-market', 'fit_real', 'grade');
INSERT INTO leads_typed (id, employees, industry, country) VALUES (1, 100, 'retail', 'DE');
SELECT fit, fit_real, grade, '[' || seg::text || ']' AS seg, octet_length(seg) AS seg_bytes FROM leads_typed;

-- A wrong setup is an error at the first row, naming the trigger and table.
CREATE TABLE leads_bad (id integer, employees integer, fit text, score double precision, grade integer);
CREATE TRIGGER t_missing BEFORE INSERT ON leads_bad
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('trg-mid-market', 'nope');
INSERT INTO leads_bad (id) VALUES (1);
DROP TRIGGER t_missing ON leads_bad;
CREATE TRIGGER t_fit_type BEFORE INSERT ON leads_bad
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('trg-mid-market');
INSERT INTO leads_bad (id) VALUES (1);
DROP TRIGGER t_fit_type ON leads_bad;
CREATE TRIGGER t_grade_type BEFORE INSERT ON leads_bad
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('trg-mid-market', 'score', 'grade');
INSERT INTO leads_bad (id) VALUES (1);
DROP TRIGGER t_grade_type ON leads_bad;
CREATE TRIGGER t_after AFTER INSERT ON leads_bad
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('trg-mid-market', 'score');
INSERT INTO leads_bad (id) VALUES (1);
DROP TRIGGER t_after ON leads_bad;
CREATE TRIGGER t_statement BEFORE INSERT ON leads_bad
    FOR EACH STATEMENT EXECUTE FUNCTION icp_score_trigger('trg-mid-market', 'score');
INSERT INTO leads_bad (id) VALUES (1);
DROP TRIGGER t_statement ON leads_bad;
CREATE TRIGGER t_delete BEFORE DELETE ON leads_bad
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('trg-mid-market', 'score');
INSERT INTO leads_bad (id) VALUES (1);
DELETE FROM leads_bad;
DROP TRIGGER t_delete ON leads_bad;
CREATE TRIGGER t_no_args BEFORE INSERT ON leads_bad
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger();
INSERT INTO leads_bad (id) VALUES (1);
DROP TRIGGER t_no_args ON leads_bad;
CREATE TRIGGER t_profile BEFORE INSERT ON leads_bad
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('no-such-profile', 'score');
INSERT INTO leads_bad (id) VALUES (1);
DROP TRIGGER t_profile ON leads_bad;
-- a rule reading a column the table lacks: the binding error names it
CREATE TABLE leads_narrow (id integer, fit double precision);
CREATE TRIGGER t_narrow BEFORE INSERT ON leads_narrow
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('trg-mid-market');
DO $$
BEGIN
    INSERT INTO leads_narrow (id) VALUES (1);
EXCEPTION WHEN OTHERS THEN
    -- (criterion ids depend on the sequence: masked)
    RAISE NOTICE '% %', SQLSTATE, regexp_replace(SQLERRM, 'criterion \d+', 'criterion <id>');
END
$$;

DROP TABLE leads, leads_typed, leads_bad, leads_narrow;
DELETE FROM icp_profiles WHERE name LIKE 'trg-%';
