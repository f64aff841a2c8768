-- Internal functions: those nobody calls by name are not executable by
-- PUBLIC (test/pgtap/schema.sql lists them), and everything built on them
-- still works for any role.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
DROP ROLE IF EXISTS regress_icp_intern;
RESET client_min_messages;

CREATE TABLE intern_leads (id integer PRIMARY KEY, name text, employees integer, won boolean,
                           fit double precision);
INSERT INTO intern_leads SELECT g, 'lead ' || g, g * 10, g % 3 = 0, NULL FROM generate_series(1, 30) AS g;
INSERT INTO icp_profiles (name) VALUES ('intern');
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('intern', 'employees > 100', 1);

CREATE ROLE regress_icp_intern;
GRANT SELECT, INSERT, UPDATE, DELETE ON icp_profiles, icp_criteria TO regress_icp_intern;
GRANT USAGE ON SEQUENCE icp_criteria_id_seq TO regress_icp_intern;
GRANT SELECT, INSERT, UPDATE ON icp_profile_versions TO regress_icp_intern;
GRANT SELECT, UPDATE ON intern_leads TO regress_icp_intern;
GRANT CREATE ON SCHEMA public TO regress_icp_intern;

SET ROLE regress_icp_intern;
\set SHOW_CONTEXT never
-- calling them, or attaching the trigger functions to a table of one's
-- own, is refused
SELECT icp_profiles_changed();
CREATE TABLE intern_own (name text);
CREATE TRIGGER steal BEFORE UPDATE OF name ON intern_own
    FOR EACH ROW EXECUTE FUNCTION icp_profiles_history_rename();
CREATE TRIGGER steal AFTER INSERT ON intern_own
    FOR EACH STATEMENT EXECUTE FUNCTION icp_profiles_history();
CREATE TRIGGER steal BEFORE UPDATE ON intern_own
    FOR EACH ROW EXECUTE FUNCTION icp_touch_updated_at();
DROP TABLE intern_own;
\set SHOW_CONTEXT errors

-- ... while the triggers on the profile tables fire for this role, scoring
-- table rows (planner support) works, and the functions that call the
-- helpers left to PUBLIC run
UPDATE icp_criteria SET weight = 2 WHERE profile = 'intern';
SELECT max(version) AS versions FROM icp_profile_versions WHERE profile = 'intern';
SELECT count(*) FILTER (WHERE icp_fit(l, 'intern') = 100) AS fitting FROM intern_leads l;
SET client_min_messages = warning;
CALL icp_rescore('intern_leads', 'intern', 'fit');
RESET client_min_messages;
SELECT count(*) FILTER (WHERE fit IS DISTINCT FROM icp_fit(l, 'intern')) AS stale FROM intern_leads l;
SELECT rows, positives FROM icp_evaluate('intern', 'intern_leads', 'won');
SELECT sum(rows) AS lift_rows FROM icp_lift('intern', 'intern_leads', 'won', 3);
RESET ROLE;

-- A superuser may attach the history trigger elsewhere, but it refuses to
-- run on any table but the profile tables.
CREATE TABLE intern_other (name text);
CREATE TRIGGER misplaced AFTER INSERT ON intern_other
    FOR EACH STATEMENT EXECUTE FUNCTION icp_profiles_history();
\set SHOW_CONTEXT never
INSERT INTO intern_other VALUES ('x');
\set SHOW_CONTEXT errors
DROP TABLE intern_other;

DROP TABLE intern_leads;
DELETE FROM icp_profiles WHERE name = 'intern';
DELETE FROM icp_profile_versions WHERE profile = 'intern';
REVOKE ALL ON icp_profiles, icp_criteria, icp_profile_versions FROM regress_icp_intern;
REVOKE ALL ON SEQUENCE icp_criteria_id_seq FROM regress_icp_intern;
REVOKE CREATE ON SCHEMA public FROM regress_icp_intern;
DROP ROLE regress_icp_intern;
