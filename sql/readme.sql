-- The README's examples, run as written (test/checks/readme_examples.sh
-- checks that every SQL example in README.md appears in a regression file).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
DROP ROLE IF EXISTS bi_readers;
DROP ROLE IF EXISTS revops;
RESET client_min_messages;

CREATE TABLE leads (name text, industry text, employees int, country text, tech_stack text[]);
INSERT INTO leads VALUES
    ('Acme GmbH', 'software', 120, 'DE', '{salesforce}'),
    ('Bolt SARL', 'retail', 300, 'FR', NULL),
    ('Fin Corp', 'fintech', 900, 'AT', '{hubspot}');
INSERT INTO icp_profiles (name, description, is_default) VALUES ('mid-market-saas', 'EU SaaS, 50-1000 staff', true);
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
  ('mid-market-saas', 'industry IN (''software'', ''fintech'')',   30, false),
  ('mid-market-saas', 'employees BETWEEN 50 AND 1000',            25, true),
  ('mid-market-saas', 'country IN (''DE'', ''AT'', ''CH'')',         10, false),
  ('mid-market-saas', 'tech_stack CONTAINS ''salesforce''',         10, false);

-- the first example
SELECT name, icp_fit(l), icp_grade(l) FROM leads l ORDER BY 2 DESC;

-- the rule language
SELECT 'industry IN (''software'', ''fintech'')'::icp_rule;
SELECT 'employees BETWEEN 50 AND 1000 AND country <> ''US'''::icp_rule;
SELECT 'tech_stack CONTAINS ANY (''salesforce'', ''hubspot'')'::icp_rule;
SELECT 'last_visit WITHIN ''30 days'' OR trial.active IS TRUE'::icp_rule;
SELECT 'domain ~* ''\.(io|ai)$'''::icp_rule;
SELECT icp_rule_attributes('a = 1 AND meta.score > 2');   -- {a,meta.score}

-- scoring with profile values
SELECT icp_fit(l, (SELECT icp_profile('mid-market-saas'))) FROM leads l;

WITH p AS MATERIALIZED (SELECT icp_profile('mid-market-saas') AS p)
SELECT l.name, icp_fit(l, p.p) FROM leads l, p;

SELECT icp_fit('{"employees": 500}'::jsonb,
               '{"model": "points", "criteria": [{"rule": "employees > 100", "weight": 2}]}'::icp_profile);

-- segmentation
SELECT l.name, icp_segment(l) AS segment FROM leads l ORDER BY l.name;
SELECT icp_segment(l, ARRAY['mid-market-saas']) FROM leads l;
SELECT icp_segment('{"industry": "software", "employees": 200, "country": "DE"}'::jsonb);

-- privileges
CREATE ROLE bi_readers;
CREATE ROLE revops;
GRANT SELECT ON icp_profiles, icp_criteria TO bi_readers;
GRANT SELECT, INSERT, UPDATE, DELETE ON icp_profiles, icp_criteria TO revops;
GRANT USAGE ON SEQUENCE icp_criteria_id_seq TO revops;
GRANT SELECT, INSERT, UPDATE ON icp_profile_versions TO revops;
SET ROLE bi_readers;
SELECT count(icp_fit('{"employees": 500}'::jsonb, 'mid-market-saas')) AS readers_can_score;
RESET ROLE;
SET ROLE revops;
UPDATE icp_criteria SET weight = weight + 1 WHERE profile = 'mid-market-saas';
SELECT count(*) AS revops_versions FROM icp_profile_versions WHERE profile = 'mid-market-saas';
RESET ROLE;

-- the fast path for bulk scoring: without EXECUTE on the internal functions
-- a role scores through the whole row (same answers); with it, the planner
-- passes the columns; a prepared plan is planned again for each role
GRANT SELECT ON leads TO bi_readers;
PREPARE fits AS SELECT name, icp_fit(l) FROM leads l ORDER BY name;
EXECUTE fits;
SET ROLE bi_readers;
EXPLAIN (COSTS OFF, VERBOSE) SELECT icp_fit(l) FROM leads l;
EXECUTE fits;
SELECT icp_fit_columns(0, NULL::text, 'leads'::regtype, '(0,1)'::tid, 'x'::text, 'y'::text, 1, 'DE'::text, '{}'::text[]);
RESET ROLE;
GRANT EXECUTE ON FUNCTION icp_fit_columns("any"), icp_grade_columns("any"),
    icp_score_columns("any"), icp_segment_columns("any") TO bi_readers;
SET ROLE bi_readers;
EXPLAIN (COSTS OFF, VERBOSE) SELECT icp_fit(l) FROM leads l;
EXECUTE fits;
RESET ROLE;
DEALLOCATE fits;
REVOKE EXECUTE ON FUNCTION icp_fit_columns("any"), icp_grade_columns("any"),
    icp_score_columns("any"), icp_segment_columns("any") FROM bi_readers;
REVOKE ALL ON leads FROM bi_readers;

REVOKE ALL ON icp_profiles, icp_criteria, icp_profile_versions FROM bi_readers, revops;
REVOKE ALL ON SEQUENCE icp_criteria_id_seq FROM revops;
DROP ROLE bi_readers;
DROP ROLE revops;
DROP TABLE leads;
DELETE FROM icp_profiles WHERE name = 'mid-market-saas';
