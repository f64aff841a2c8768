-- Soundness review: the profile cache is used at all.  A profile nobody
-- edited is compiled once per backend: statements after the first must not
-- read icp_profiles or icp_criteria again (README, "Profiles are compiled
-- once per backend").  Counted with the table statistics of this session.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

-- Criterion ids come from a sequence that later tests' messages show:
-- leave it as found.
SELECT pg_get_serial_sequence('icp_criteria', 'id') AS rvw_seq \gset
SELECT last_value AS rvw_last, is_called AS rvw_called FROM :rvw_seq \gset

CREATE TABLE rvw_leads (id int PRIMARY KEY, industry text, employees int);
INSERT INTO rvw_leads VALUES (1, 'software', 120), (2, 'retail', 40), (3, 'software', 10);
INSERT INTO icp_profiles (name) VALUES ('rvw-a'), ('rvw-b');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('rvw-a', 'industry = ''software''', 50),
    ('rvw-a', 'employees > 100', 50),
    ('rvw-b', 'employees < 50', 100);

-- Reads of the profile tables (scans of any kind) flushed so far.
CREATE FUNCTION pg_temp.profile_reads() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0))::bigint
      FROM pg_stat_user_tables
     WHERE relid IN ('icp_profiles'::regclass, 'icp_criteria'::regclass)
$$;

-- Warm the cache: the first statement reads both profiles.
SELECT id, icp_fit(l, 'rvw-a') AS a, icp_segment(l, ARRAY['rvw-a', 'rvw-b']) AS seg
  FROM rvw_leads l ORDER BY id;
SELECT pg_stat_force_next_flush();
SELECT pg_temp.profile_reads() AS reads_before \gset

-- Five more statements, nothing edited in between: no read is needed.
SELECT id, icp_fit(l, 'rvw-a') AS a, icp_segment(l, ARRAY['rvw-a', 'rvw-b']) AS seg
  FROM rvw_leads l ORDER BY id;
SELECT icp_fit(l, 'rvw-a') FROM rvw_leads l WHERE id = 1;
SELECT icp_grade(l, 'rvw-b') FROM rvw_leads l WHERE id = 2;
SELECT icp_fit('{"employees": 10}'::jsonb, 'rvw-b');
SELECT count(*) FROM rvw_leads l WHERE icp_profile('rvw-a') IS NOT NULL;
SELECT pg_stat_force_next_flush();
SELECT pg_temp.profile_reads() - :reads_before AS profile_reads_after_warm_up;

-- An edit is still seen by the next statement.
UPDATE icp_criteria SET weight = 150 WHERE profile = 'rvw-a' AND rule = 'employees > 100';
SELECT id, icp_fit(l, 'rvw-a') AS a FROM rvw_leads l ORDER BY id;

-- Leave no active profile behind for the tests that follow.
DELETE FROM icp_profiles WHERE name IN ('rvw-a', 'rvw-b');
SELECT setval(:'rvw_seq', :rvw_last, :'rvw_called'::boolean) IS NOT NULL AS sequence_restored;
