-- icp_fit(l, ...) on a plain table row is rewritten by the planner to take
-- the row's columns (icp_fit_columns); the answers never change.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

CREATE TABLE pr_leads (id int PRIMARY KEY, industry text, employees int, junk text);
INSERT INTO pr_leads SELECT g, (ARRAY['software', 'retail'])[1 + g % 2], g * 10, 'x' FROM generate_series(1, 20) g;
INSERT INTO icp_profiles (name) VALUES ('pr');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('pr', 'industry = ''software''', 10), ('pr', 'employees >= 100', 10);

-- the rewritten call in the plan
EXPLAIN (VERBOSE, COSTS OFF) SELECT icp_fit(l, 'pr') FROM pr_leads l;

-- same answers as scoring the whole row (a subquery keeps the whole row)
SELECT count(*) AS differ FROM pr_leads l
WHERE icp_fit(l, 'pr') IS DISTINCT FROM icp_fit((SELECT l), 'pr')
   OR icp_grade(l, 'pr') IS DISTINCT FROM icp_grade((SELECT l), 'pr')
   OR icp_score(l, 'pr') IS DISTINCT FROM icp_score((SELECT l), 'pr');

-- grades sort, group and compare with the text collation
SELECT DISTINCT icp_grade(l, 'pr') FROM pr_leads l ORDER BY 1;
SELECT icp_grade(l, 'pr') AS grade, count(*) FROM pr_leads l GROUP BY 1 ORDER BY 1;

-- an outer join's missing row is NULL, not a row of NULLs
SELECT a.id, icp_fit(b, 'pr') FROM pr_leads a LEFT JOIN pr_leads b ON b.id = -a.id WHERE a.id < 3 ORDER BY a.id;

-- views, CTEs, subqueries, UPDATE ... WHERE
CREATE VIEW pr_view AS SELECT id, icp_fit(l, 'pr') AS fit FROM pr_leads l;
SELECT sum(fit) FROM pr_view;
WITH c AS MATERIALIZED (SELECT * FROM pr_leads) SELECT sum(icp_fit(c, 'pr')) FROM c;
UPDATE pr_leads l SET junk = icp_grade(l, 'pr') WHERE icp_fit(l, 'pr') = 100;
SELECT junk, count(*) FROM pr_leads GROUP BY 1 ORDER BY 1;

-- dropped and added columns: plans and bindings follow the table
ALTER TABLE pr_leads DROP COLUMN junk;
SELECT sum(icp_fit(l, 'pr')) FROM pr_leads l;
PREPARE pr_q AS SELECT sum(icp_fit(l, 'pr')) FROM pr_leads l;
EXECUTE pr_q;
ALTER TABLE pr_leads ADD COLUMN country text DEFAULT 'DE';
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('pr', 'country = ''DE''', 20);
EXECUTE pr_q;

-- partitioned tables and inheritance
CREATE TABLE pr_parted (id int, industry text, employees int) PARTITION BY RANGE (id);
CREATE TABLE pr_parted_1 PARTITION OF pr_parted FOR VALUES FROM (0) TO (10);
CREATE TABLE pr_parted_2 PARTITION OF pr_parted FOR VALUES FROM (10) TO (100);
INSERT INTO pr_parted SELECT id, industry, employees FROM pr_leads;
DELETE FROM icp_criteria WHERE profile = 'pr' AND rule = 'country = ''DE''';
SELECT sum(icp_fit(p, 'pr')) AS parted, (SELECT sum(icp_fit(l, 'pr')) FROM pr_leads l) AS plain FROM pr_parted p;

-- more columns than a function takes: scored as a whole row instead
\set ECHO none
SELECT format('CREATE TABLE pr_wide (%s, industry text, employees int)',
              string_agg(format('c%s int', g), ', ')) FROM generate_series(1, 120) g \gexec
\set ECHO all
INSERT INTO pr_wide (industry, employees) VALUES ('software', 500);
SELECT icp_fit(w, 'pr') FROM pr_wide w;

-- a row from the nullable side of a LEFT JOIN, read in an aggregate's
-- FILTER: the columns are nulled by the same join as the row (since 16 the
-- planner checks that), and the answers are those of the jsonb form
SELECT a.industry, count(b.id) AS matched,
       count(b.id) FILTER (WHERE icp_fit(b, 'pr') >= 50) AS good,
       count(b.id) FILTER (WHERE icp_fit(to_jsonb(b), 'pr') >= 50) AS good_jsonb
  FROM pr_leads a LEFT JOIN pr_leads b ON b.id = a.id + 15
 GROUP BY 1 ORDER BY 1;

-- RETURNING old and new (PostgreSQL 18 syntax, run only there): each call
-- scores its own version of the row
DO $$
DECLARE
    r record;
BEGIN
    IF current_setting('server_version_num')::int >= 180000 THEN
        EXECUTE $q$UPDATE pr_leads SET employees = 5 WHERE id = 12
                   RETURNING icp_fit(old, 'pr') AS o, icp_fit(new, 'pr') AS n,
                             icp_fit(to_jsonb(old), 'pr') AS oj, icp_fit(to_jsonb(new), 'pr') AS nj$q$
            INTO r;
        IF r.o IS DISTINCT FROM r.oj OR r.n IS DISTINCT FROM r.nj OR r.o = r.n THEN
            RAISE EXCEPTION 'RETURNING old/new: % % (jsonb: % %)', r.o, r.n, r.oj, r.nj;
        END IF;
        UPDATE pr_leads SET employees = 120 WHERE id = 12;
    END IF;
END
$$;

-- the internal function refuses calls it was not built for
SELECT icp_fit_columns(1, 'pr'::text, 'pr_leads'::regtype, '(0,1)'::tid, 1);
SELECT icp_fit_columns(7, 'pr'::text, 0::regtype, '(0,1)'::tid);

DROP VIEW pr_view;
DROP TABLE pr_leads, pr_parted, pr_wide;
DELETE FROM icp_profiles WHERE name = 'pr';
