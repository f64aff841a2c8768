-- icp_funnel: size the pool, criterion by criterion.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

INSERT INTO icp_profiles (name) VALUES ('fun-mid-market');
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('fun-mid-market', 'industry IN (''software'', ''fintech'')', 30, false),
    ('fun-mid-market', 'employees BETWEEN 50 AND 1000', 25, true),
    ('fun-mid-market', 'country IN (''DE'', ''AT'', ''CH'')', 10, false),
    ('fun-mid-market', 'tech_stack CONTAINS ''salesforce''', 20, false),
    ('fun-mid-market', 'revenue > 1000000', 15, true),
    ('fun-mid-market', 'churned IS TRUE', -50, false);

CREATE TABLE fun_leads (
    id integer,
    industry text,
    employees integer,
    country text,
    tech_stack text[],
    revenue bigint,
    churned boolean,
    owner text
);
INSERT INTO fun_leads
SELECT g, (ARRAY['software', 'fintech', 'retail', 'health'])[1 + g % 4],
       CASE WHEN g % 10 = 0 THEN NULL ELSE (g * 37) % 2000 END,
       (ARRAY['DE', 'AT', 'US', 'FR', 'CH'])[1 + g % 5],
       CASE WHEN g % 3 = 0 THEN ARRAY['salesforce'] ELSE ARRAY['hubspot'] END,
       CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 7919) % 5000000 END,
       g % 13 = 0,
       CASE WHEN g % 2 = 0 THEN 'alice' ELSE 'bob' END
  FROM generate_series(1, 1000) AS g;

-- Required criteria first (knock-outs: rows where they are false leave the
-- pool), then the others by weight; each row's pool keeps only the rows
-- that pass it and every row above it.
SELECT step, rule, required, weight, matching, unknown, pool, round(pool_share::numeric, 3) AS pool_share
  FROM icp_funnel('fun-mid-market', 'fun_leads');

-- The same counts by hand, from icp_outcomes (true, false or NULL per criterion).
SELECT count(*) FILTER (WHERE o[2] IS NOT FALSE) AS pool_1,
       count(*) FILTER (WHERE o[2] IS NOT FALSE AND o[5] IS NOT FALSE) AS pool_2,
       count(*) FILTER (WHERE o[2] IS NOT FALSE AND o[5] IS NOT FALSE AND o[1]) AS pool_3,
       count(*) FILTER (WHERE o[4] IS NULL) AS unknown_salesforce
  FROM (SELECT icp_outcomes(l, 'fun-mid-market') AS o FROM fun_leads l) AS x;
SELECT icp_outcomes('{"industry": "software", "employees": 10}'::jsonb, 'fun-mid-market');
SELECT "position", rule, weight, required FROM icp_profile_criteria(icp_profile('fun-mid-market'));

-- penalize: an unknown required criterion disqualifies, so it leaves the pool
UPDATE icp_profiles SET missing = 'penalize' WHERE name = 'fun-mid-market';
SELECT step, rule, matching, unknown, pool FROM icp_funnel('fun-mid-market', 'fun_leads');

-- Row-level security on the source is respected: the funnel runs as the caller.
CREATE ROLE fun_alice;
GRANT SELECT ON fun_leads TO fun_alice;
GRANT SELECT ON icp_profiles, icp_criteria TO fun_alice;
ALTER TABLE fun_leads ENABLE ROW LEVEL SECURITY;
CREATE POLICY fun_own ON fun_leads FOR SELECT USING (owner = 'alice');
SET ROLE fun_alice;
SELECT step, matching, unknown, pool FROM icp_funnel('fun-mid-market', 'fun_leads');
RESET ROLE;

-- An empty source, and errors.
\set SHOW_CONTEXT never
CREATE TABLE fun_empty (LIKE fun_leads);
SELECT step, matching, unknown, pool, pool_share FROM icp_funnel('fun-mid-market', 'fun_empty');
SELECT * FROM icp_funnel('no-such-profile', 'fun_leads');
SELECT * FROM icp_funnel('fun-mid-market', 'no_such_table');

DROP TABLE fun_leads, fun_empty;
REVOKE SELECT ON icp_profiles, icp_criteria FROM fun_alice;
DROP ROLE fun_alice;
DELETE FROM icp_profiles WHERE name LIKE 'fun-%';
