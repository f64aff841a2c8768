-- Compiled profiles are cached per session; a change committed by another
-- session is seen by the next statement, and a session's own uncommitted
-- edits are seen at once.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;

CREATE TABLE cache_leads (id int, employees int, country text);
INSERT INTO cache_leads VALUES (1, 120, 'FR'), (2, 40, 'DE');
INSERT INTO icp_profiles (name) VALUES ('cache-test');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('cache-test', 'employees >= 100', 10),
    ('cache-test', 'country = ''DE''', 10);

-- a second session on the same database
SELECT dblink_connect('other',
    format('dbname=%s host=%s port=%s', current_database(),
           split_part(current_setting('unix_socket_directories'), ',', 1),
           current_setting('port'))) AS connected;

SELECT id, icp_fit(l, 'cache-test') FROM cache_leads l ORDER BY id;

-- the other session changes a weight and commits
SELECT dblink_exec('other', $$UPDATE icp_criteria SET weight = 30
                              WHERE profile = 'cache-test' AND rule = 'employees >= 100'$$);
SELECT id, icp_fit(l, 'cache-test') FROM cache_leads l ORDER BY id;

-- inside a transaction (read committed) too, from the next statement on
BEGIN;
SELECT id, icp_fit(l, 'cache-test') FROM cache_leads l ORDER BY id;
SELECT dblink_exec('other', $$INSERT INTO icp_criteria (profile, rule, weight, required)
                              VALUES ('cache-test', 'employees > 50', 1, true)$$);
SELECT id, icp_fit(l, 'cache-test'), icp_grade(l, 'cache-test') FROM cache_leads l ORDER BY id;
COMMIT;

-- values are not affected by later edits: they are snapshots
CREATE TEMP TABLE kept AS SELECT icp_profile('cache-test') AS p;
DELETE FROM icp_criteria WHERE profile = 'cache-test' AND required;
SELECT id, icp_fit(l, 'cache-test') AS now, icp_fit(l, k.p) AS kept_value
FROM cache_leads l, kept k ORDER BY id;

-- renaming a profile in another session: the old name is gone at once
SELECT dblink_exec('other', $$UPDATE icp_profiles SET name = 'cache-test-2' WHERE name = 'cache-test'$$);
SELECT icp_fit(l, 'cache-test') FROM cache_leads l;
SELECT id, icp_fit(l, 'cache-test-2') FROM cache_leads l ORDER BY id;

-- a deleted profile is gone for everyone
SELECT dblink_exec('other', $$DELETE FROM icp_profiles WHERE name = 'cache-test-2'$$);
SELECT icp_fit(l, 'cache-test-2') FROM cache_leads l;

SELECT dblink_disconnect('other');
DROP TABLE cache_leads;
