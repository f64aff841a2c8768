-- Row-level security on scored tables holds: the functions that read or
-- write a whole table (icp_rescore, icp_funnel, and the learning and
-- evaluation functions) run as the caller and see only the caller's rows.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
DROP ROLE IF EXISTS regress_icp_alice;
RESET client_min_messages;

CREATE TABLE rls_leads (id int PRIMARY KEY, owner text, industry text, employees int,
                        won boolean, fit float8, grade text);
INSERT INTO rls_leads
SELECT g, CASE WHEN g % 2 = 0 THEN 'regress_icp_alice' ELSE 'bob' END,
       (ARRAY['software', 'retail', 'fintech'])[1 + g % 3], (g * 37) % 1500, g % 3 = 0, NULL, NULL
FROM generate_series(1, 600) g;
INSERT INTO icp_profiles (name) VALUES ('rls');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('rls', 'industry IN (''software'', ''fintech'')', 10), ('rls', 'employees > 300', 10);

CREATE ROLE regress_icp_alice;
GRANT SELECT, INSERT, UPDATE, DELETE ON icp_profiles, icp_criteria TO regress_icp_alice;
GRANT USAGE ON SEQUENCE icp_criteria_id_seq TO regress_icp_alice;
GRANT SELECT, INSERT, UPDATE ON icp_profile_versions TO regress_icp_alice;
GRANT SELECT, UPDATE ON rls_leads TO regress_icp_alice;
ALTER TABLE rls_leads ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON rls_leads USING (owner = current_user);

SET ROLE regress_icp_alice;
SELECT count(*) AS visible FROM rls_leads;
CALL icp_rescore('rls_leads', 'rls', 'fit', 'grade');
SELECT step, matching, pool FROM icp_funnel('rls', 'rls_leads');
SELECT rows, positives FROM icp_evaluate('rls', 'rls_leads', 'won');
SELECT sum(rows) AS lift_rows FROM icp_lift('rls', 'rls_leads', 'won');
SELECT rows_used, positives FROM icp_learn('rls-learned', 'rls_leads', 'won', ARRAY['industry', 'employees']);
RESET ROLE;

-- alice's rows were rescored, bob's were not touched
SELECT owner, count(*) AS rows, count(fit) AS scored,
       count(*) FILTER (WHERE fit IS DISTINCT FROM icp_fit(l, 'rls')) AS stale
FROM rls_leads l GROUP BY owner ORDER BY owner;

DROP TABLE rls_leads;
DELETE FROM icp_profiles WHERE name IN ('rls', 'rls-learned');
REVOKE ALL ON icp_profiles, icp_criteria, icp_profile_versions FROM regress_icp_alice;
REVOKE ALL ON SEQUENCE icp_criteria_id_seq FROM regress_icp_alice;
DROP ROLE regress_icp_alice;
