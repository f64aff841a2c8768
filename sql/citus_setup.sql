-- icp_citus_setup() (README, Scaling out with Citus) on a single node: it
-- needs Citus and changes nothing without it.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

SELECT icp_citus_setup();

-- nothing changed: the profile tables and their foreign key are as installed
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'icp_criteria'::regclass AND contype = 'f';
SELECT proconfig FROM pg_proc WHERE proname = 'icp_learn';

-- icp_rescore on a plain table is not a Citus table: its own walk, as before
SELECT icp_rescore_citus('pg_class', 'x', 'y', NULL, 10, true) AS citus_path;

-- The IMMUTABLE helpers of icp_rescore's pushed-down UPDATE answer as
-- icp_fit and icp_grade do.
SELECT last_value AS cs_seq_last, is_called AS cs_seq_called FROM icp_criteria_id_seq \gset
CREATE TABLE cs_leads (id integer, employees integer, joined date);
INSERT INTO cs_leads VALUES (1, 10, current_date), (2, 500, current_date - 400), (3, NULL, NULL);
INSERT INTO icp_profiles (name) VALUES ('cs-p');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('cs-p', 'employees > 100', 2), ('cs-p', 'joined WITHIN ''30 days''', 1);
SELECT l.id, icp_rescore_fit(l, icp_profile('cs-p')) AS fit,
       icp_rescore_fit(l, icp_profile('cs-p')) IS NOT DISTINCT FROM icp_fit(l, 'cs-p') AS same_fit,
       icp_rescore_grade(l, icp_profile('cs-p')) IS NOT DISTINCT FROM icp_grade(l, 'cs-p') AS same_grade
  FROM cs_leads l ORDER BY l.id;
DROP TABLE cs_leads;
DELETE FROM icp_profiles WHERE name = 'cs-p';
SELECT FROM setval('icp_criteria_id_seq', :cs_seq_last, :'cs_seq_called'::boolean);
