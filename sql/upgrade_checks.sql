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
SELECT id, profile, rule FROM icp_criteria ORDER BY id;

-- the update stops and says what to fix
\set VERBOSITY default
\set SHOW_CONTEXT never
ALTER EXTENSION icp UPDATE TO '0.2';
SELECT extversion FROM pg_extension WHERE extname = 'icp';

-- fix the criterion, drop the history versions that hold the old rule
UPDATE icp_criteria SET rule = 'seen WITHIN ''10 years''' WHERE id = 2;
DELETE FROM icp_profile_versions WHERE value::text LIKE '%1000000 years%';
ALTER EXTENSION icp UPDATE TO '0.2';
SELECT extversion FROM pg_extension WHERE extname = 'icp';
SELECT icp_fit('{"seen": "2020-01-01", "employees": 60}'::jsonb, name) AS fit, name
  FROM icp_profiles ORDER BY name;

\c :regress_db
DROP DATABASE icp_upgrade_checks;
