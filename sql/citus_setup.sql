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
