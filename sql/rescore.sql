-- icp_rescore: rescoring a table after a profile changed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

INSERT INTO icp_profiles (name) VALUES ('rsc-mid-market');
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('rsc-mid-market', 'employees BETWEEN 50 AND 1000', 40, true),
    ('rsc-mid-market', 'industry IN (''software'', ''fintech'')', 40, false),
    ('rsc-mid-market', 'country IN (''DE'', ''AT'', ''CH'')', 20, false);

CREATE TABLE rsc_leads (
    id integer PRIMARY KEY,
    industry text,
    employees integer,
    country text,
    fit double precision,
    grade text
) WITH (fillfactor = 50);
INSERT INTO rsc_leads (id, industry, employees, country)
SELECT g, (ARRAY['software', 'fintech', 'retail', NULL])[1 + g % 4],
       CASE WHEN g % 11 = 0 THEN NULL ELSE (g * 37) % 1500 END,
       (ARRAY['DE', 'AT', 'US', 'FR'])[1 + g % 4]
  FROM generate_series(1, 5000) AS g;

-- The nightly job: commits after each batch, reports progress.
CALL icp_rescore('rsc_leads', 'rsc-mid-market', 'fit', 'grade', batch_size => 2000);
SELECT count(*) FILTER (WHERE fit IS DISTINCT FROM icp_fit(l, 'rsc-mid-market')
                           OR grade IS DISTINCT FROM icp_grade(l, 'rsc-mid-market')) AS stale
  FROM rsc_leads l;

-- After a profile edit only the rows whose score changed are written.
UPDATE icp_criteria SET weight = 10 WHERE profile = 'rsc-mid-market' AND rule = 'country IN (''DE'', ''AT'', ''CH'')';
CALL icp_rescore('rsc_leads', 'rsc-mid-market', 'fit', 'grade', batch_size => 2000);
SELECT count(*) FILTER (WHERE fit IS DISTINCT FROM icp_fit(l, 'rsc-mid-market')
                           OR grade IS DISTINCT FROM icp_grade(l, 'rsc-mid-market')) AS stale
  FROM rsc_leads l;
-- run again: nothing left to write
CALL icp_rescore('rsc_leads', 'rsc-mid-market', 'fit', 'grade', batch_size => 2000);

-- Inside a transaction block it cannot commit per batch, and says so.
BEGIN;
CALL icp_rescore('rsc_leads', 'rsc-mid-market', 'fit', batch_size => 5000);
COMMIT;

-- Quoted identifiers, a numeric fit column and a char grade column.
CREATE TABLE "Rsc ""Odd"" Leads" (
    "Employees" integer,
    employees integer,
    industry text,
    country text,
    "Fit Score" numeric(6, 2),
    "Grade" char(1)
);
INSERT INTO "Rsc ""Odd"" Leads" (employees, industry, country)
VALUES (100, 'software', 'DE'), (100, 'retail', 'US'), (5, 'retail', 'US'), (NULL, NULL, NULL);
CALL icp_rescore('"Rsc ""Odd"" Leads"', 'rsc-mid-market', 'Fit Score', 'Grade');
SELECT employees, "Fit Score", "Grade" FROM "Rsc ""Odd"" Leads" ORDER BY 1, 2;
CALL icp_rescore('"Rsc ""Odd"" Leads"', 'rsc-mid-market', 'Fit Score', 'Grade');

-- A partitioned table is rescored partition by partition.
CREATE TABLE rsc_parted (id integer, employees integer, industry text, country text, fit real)
    PARTITION BY RANGE (id);
CREATE TABLE rsc_parted_1 PARTITION OF rsc_parted FOR VALUES FROM (0) TO (100);
CREATE TABLE rsc_parted_2 PARTITION OF rsc_parted FOR VALUES FROM (100) TO (200);
INSERT INTO rsc_parted (id, employees, industry, country)
SELECT g, g * 5, 'software', 'DE' FROM generate_series(1, 199) AS g;
CALL icp_rescore('rsc_parted', 'rsc-mid-market', 'fit');
SELECT count(*) FILTER (WHERE fit IS DISTINCT FROM icp_fit(p, 'rsc-mid-market')::real) AS stale
  FROM rsc_parted p;

-- Arguments that do not fit are refused up front, with no SQL injection.
\set SHOW_CONTEXT never
CREATE VIEW rsc_view AS SELECT * FROM rsc_leads;
CALL icp_rescore('rsc_view', 'rsc-mid-market', 'fit');
CALL icp_rescore('rsc_leads', 'rsc-mid-market', 'fit"; DROP TABLE rsc_leads; --');
CALL icp_rescore('rsc_leads', 'rsc-mid-market', 'industry');
CALL icp_rescore('rsc_leads', 'rsc-mid-market', 'fit', 'employees');
CALL icp_rescore('rsc_leads', 'rsc-mid-market', 'fit', 'fit');
CALL icp_rescore('rsc_leads', 'no-such-profile', 'fit');
CALL icp_rescore('rsc_leads', 'rsc-mid-market', 'fit', batch_size => 0);
CALL icp_rescore('rsc_leads', NULL, 'fit');
CALL icp_rescore('rsc_leads', 'rsc-mid-market'' OR true --', 'fit');
SELECT count(*) AS still_there FROM rsc_leads;

DROP VIEW rsc_view;
DROP TABLE rsc_leads, "Rsc ""Odd"" Leads", rsc_parted;
DELETE FROM icp_profiles WHERE name LIKE 'rsc-%';
