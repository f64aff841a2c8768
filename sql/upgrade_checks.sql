--
-- upgrade_checks: ALTER EXTENSION icp UPDATE from 0.1 refuses stored values
-- that 0.2 no longer accepts on input (a dump of them would not restore),
-- lists them, and goes through once they are fixed.  Runs in a scratch
-- database so that the suite's own database keeps its extension.
--
SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS icp_upgrade_checks;
RESET client_min_messages;
CREATE DATABASE icp_upgrade_checks;
\c icp_upgrade_checks
CREATE EXTENSION icp VERSION '0.1';

-- values only 0.1 could have stored; the rule is planted with a
-- binary-coercible cast since the 0.2 library parses rule text itself
INSERT INTO icp_profiles (name) VALUES ('recent'), ('fine');
INSERT INTO icp_criteria (id, profile, rule, weight) VALUES
    (1, 'fine', 'employees > 50', 10);
BEGIN;
CREATE CAST (bytea AS icp_rule) WITHOUT FUNCTION;
INSERT INTO icp_criteria (id, profile, rule, weight)
VALUES (2, 'recent', ('\x0104130001000000047365656e00000001020000000d'::bytea
                      || convert_to('1000000 years', 'UTF8'))::icp_rule, 10);
DROP CAST (bytea AS icp_rule);
COMMIT;
-- weights and a bias beyond +-1e12 (their sums overflow to a NaN fit); the
-- 0.2 library's history trigger would refuse them, so triggers are off
SET session_replication_role = replica;
INSERT INTO icp_profiles (name, model, bias) VALUES ('huge', 'logistic', 1e13);
INSERT INTO icp_criteria (id, profile, rule, weight) VALUES
    (3, 'huge', 'employees > 10', 1e300), (4, 'huge', 'employees > 20', -1e300);
RESET session_replication_role;
SELECT id, profile, rule, weight FROM icp_criteria ORDER BY id;

-- the update stops and says what to fix
\set VERBOSITY default
\set SHOW_CONTEXT never
ALTER EXTENSION icp UPDATE TO '0.2';
SELECT extversion FROM pg_extension WHERE extname = 'icp';
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'icp_criteria_weight_check';

-- correct the profiles and criteria; the history trigger keeps recording
-- versions meanwhile, and those that hold an old value are listed next
UPDATE icp_criteria SET rule = 'seen WITHIN ''10 years''' WHERE id = 2;
UPDATE icp_criteria SET weight = sign(weight) * 3 WHERE profile = 'huge';
UPDATE icp_profiles SET bias = -2 WHERE name = 'huge';
ALTER EXTENSION icp UPDATE TO '0.2';
-- delete the listed versions; now the update goes through
DELETE FROM icp_profile_versions
 WHERE (profile, version) IN (('recent', 2), ('huge', 1), ('huge', 2));
SELECT profile, version, valid_to IS NULL AS current FROM icp_profile_versions ORDER BY 1, 2;
ALTER EXTENSION icp UPDATE TO '0.2';
SELECT extversion FROM pg_extension WHERE extname = 'icp';
SELECT round(icp_fit('{"seen": "2020-01-01", "employees": 60}'::jsonb, name)::numeric, 2) AS fit, name
  FROM icp_profiles ORDER BY name;
-- the constraints now hold the bound
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conname IN ('icp_criteria_weight_check', 'icp_profiles_bias_check') ORDER BY conname;
\set VERBOSITY terse
UPDATE icp_criteria SET weight = 1e13 WHERE id = 3;
UPDATE icp_profiles SET bias = 'NaN' WHERE name = 'huge';
\set VERBOSITY default

\c :regress_db
DROP DATABASE icp_upgrade_checks;
