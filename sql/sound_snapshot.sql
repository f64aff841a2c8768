-- Soundness: snapshots.  Scoring by name uses the profile as the statement's
-- snapshot sees it: in a REPEATABLE READ transaction the profile as of the
-- transaction's snapshot, until it ends, and the committed profile right
-- after; a change committed by another session while a statement runs is
-- used from the next statement on.  Never is a profile an old snapshot saw
-- kept as current.  A second session comes from dblink.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;

CREATE TABLE snp_leads (id int PRIMARY KEY, employees int, country text);
INSERT INTO snp_leads VALUES (1, 120, 'FR'), (2, 40, 'DE'), (3, 300, 'DE'), (4, 10, 'US');
INSERT INTO icp_profiles (name, is_default) VALUES ('snp', false), ('snp-d1', true), ('snp-d2', false);
INSERT INTO icp_criteria (profile, rule, weight, note) VALUES
    ('snp', 'employees >= 100', 10, 'emp'),
    ('snp', 'country = ''DE''', 10, 'de'),
    ('snp-d1', 'employees >= 100', 10, 'emp'),
    ('snp-d2', 'country = ''DE''', 10, 'de');

-- The fit by hand, from the criteria as this statement sees them.
CREATE FUNCTION pg_temp.want(l snp_leads, p text) RETURNS float8 LANGUAGE sql STABLE AS $$
    SELECT 100 * (coalesce(sum(c.weight) FILTER (WHERE c.met), 0) / sum(c.weight))
      FROM (SELECT weight, CASE note WHEN 'emp' THEN l.employees >= 100
                                     WHEN 'de' THEN l.country = 'DE' END AS met
              FROM icp_criteria WHERE profile = p) c
$$;
-- How many leads icp scores otherwise than by hand (0 is right).
CREATE FUNCTION pg_temp.wrong(p text) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(*) FILTER (WHERE abs(icp_fit(l, p) - pg_temp.want(l, p)) > 1e-9
                               OR abs(icp_fit(l, icp_profile(p)) - pg_temp.want(l, p)) > 1e-9
                               OR icp_grade(l, p) IS DISTINCT FROM icp_grade(l, icp_profile(p)))
      FROM snp_leads l
$$;
-- ... and with the default profile, whichever it is now.
CREATE FUNCTION pg_temp.wrong_default() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(*) FILTER (WHERE abs(icp_fit(l) - pg_temp.want(l, d.name)) > 1e-9)
      FROM snp_leads l, (SELECT name FROM icp_profiles WHERE is_default) d
$$;

SELECT dblink_connect('snp_other',
    format('dbname=%s host=%s port=%s', current_database(),
           split_part(current_setting('unix_socket_directories'), ',', 1),
           current_setting('port'))) AS connected;

-- (a) REPEATABLE READ: the other session changes a weight and commits while
-- this transaction runs; the transaction keeps the profile of its snapshot.
SELECT pg_temp.wrong('snp') AS wrong, pg_temp.wrong_default() AS wrong_default;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) AS leads FROM snp_leads;   -- takes the snapshot
SELECT pg_temp.wrong('snp') AS wrong;
SELECT dblink_exec('snp_other', $$UPDATE icp_criteria SET weight = 30
                                   WHERE profile = 'snp' AND note = 'emp'$$);
SELECT weight FROM icp_criteria WHERE profile = 'snp' AND note = 'emp';   -- the snapshot's
SELECT pg_temp.wrong('snp') AS wrong;
SELECT pg_temp.wrong('snp') AS wrong_again;
COMMIT;
-- after the commit: the new weight, now and later
SELECT weight FROM icp_criteria WHERE profile = 'snp' AND note = 'emp';
SELECT pg_temp.wrong('snp') AS wrong;
SELECT pg_temp.wrong('snp') AS wrong_again;
SELECT id, icp_fit(l, 'snp') = 100 * (CASE WHEN employees >= 100 THEN 30 ELSE 0 END
                                      + CASE WHEN country = 'DE' THEN 10 ELSE 0 END) / 40.0 AS new_weights
  FROM snp_leads l ORDER BY id;

-- ... the same when this transaction first compiles the profile after the
-- other session's commit
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) AS leads FROM snp_leads;
SELECT dblink_exec('snp_other', $$UPDATE icp_criteria SET weight = 5
                                   WHERE profile = 'snp' AND note = 'de'$$);
SELECT weight FROM icp_criteria WHERE profile = 'snp' AND note = 'de';
SELECT pg_temp.wrong('snp') AS wrong;
COMMIT;
SELECT weight FROM icp_criteria WHERE profile = 'snp' AND note = 'de';
SELECT pg_temp.wrong('snp') AS wrong;

-- ... and the default profile: moved to another profile, then unset
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.wrong_default() AS wrong_default;
SELECT dblink_exec('snp_other', $$UPDATE icp_profiles SET is_default = false WHERE name = 'snp-d1';
                                   UPDATE icp_profiles SET is_default = true WHERE name = 'snp-d2'$$);
SELECT name FROM icp_profiles WHERE is_default;
SELECT pg_temp.wrong_default() AS wrong_default;
COMMIT;
SELECT name FROM icp_profiles WHERE is_default;
SELECT pg_temp.wrong_default() AS wrong_default;
SELECT bool_and(icp_fit(l) = icp_fit(l, 'snp-d2')) AS default_is_snp_d2 FROM snp_leads l;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT bool_and(icp_fit(l) = icp_fit(l, 'snp-d2')) AS default_is_snp_d2 FROM snp_leads l;
SELECT dblink_exec('snp_other', $$UPDATE icp_profiles SET is_default = false WHERE name = 'snp-d2'$$);
SELECT bool_and(icp_fit(l) = icp_fit(l, 'snp-d2')) AS default_is_still_snp_d2 FROM snp_leads l;
COMMIT;
-- three active profiles and no default: there is no default profile
\set VERBOSITY sqlstate
SELECT icp_fit(l) FROM snp_leads l;
\set VERBOSITY default

-- ... and the active profiles icp_segment uses
UPDATE icp_profiles SET is_default = true WHERE name = 'snp-d1';
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT l.id, icp_segment(l) AS segment FROM snp_leads l ORDER BY l.id;
SELECT dblink_exec('snp_other', $$UPDATE icp_profiles SET active = false WHERE name IN ('snp', 'snp-d1')$$);
SELECT l.id, icp_segment(l) AS segment FROM snp_leads l ORDER BY l.id;
COMMIT;
SELECT bool_and(icp_segment(l) IS NOT DISTINCT FROM CASE WHEN country = 'DE' THEN 'snp-d2' END)
       AS only_snp_d2_is_active
  FROM snp_leads l;
UPDATE icp_profiles SET active = true WHERE name LIKE 'snp%';

-- (b) A change committed by the other session in the middle of a statement
-- that then compiles the profile: the next statement uses the new profile.
UPDATE icp_criteria SET weight = 10 WHERE profile = 'snp';
SELECT pg_temp.wrong('snp') AS wrong;
SELECT count(edit) AS edits, count(fit) AS fits
  FROM (SELECT (SELECT dblink_exec('snp_other', $$UPDATE icp_criteria SET weight = 50
                                                  WHERE profile = 'snp' AND note = 'emp'$$)) AS edit,
               icp_fit(l, 'snp') AS fit
          FROM snp_leads l OFFSET 0) s;
SELECT pg_temp.wrong('snp') AS wrong;
SELECT id, icp_fit(l, 'snp') = 100 * (CASE WHEN employees >= 100 THEN 50 ELSE 0 END
                                      + CASE WHEN country = 'DE' THEN 10 ELSE 0 END) / 60.0 AS new_weights
  FROM snp_leads l ORDER BY id;

-- ... a change committed after the statement compiled the profile
SELECT count(edit) AS edits, count(fit) AS fits
  FROM (SELECT icp_fit(l, 'snp') AS fit,
               CASE WHEN l.id = 1 THEN dblink_exec('snp_other', $$UPDATE icp_criteria SET weight = 20
                                                                  WHERE profile = 'snp' AND note = 'emp'$$) END AS edit
          FROM snp_leads l ORDER BY l.id OFFSET 0) s;
SELECT pg_temp.wrong('snp') AS wrong;

-- ... the default profile and the active profiles, the same way
SELECT count(edit) AS edits, count(fit) AS fits, count(seg) AS segs
  FROM (SELECT (SELECT dblink_exec('snp_other', $$UPDATE icp_profiles SET is_default = false WHERE name = 'snp-d1';
                                                  UPDATE icp_profiles SET is_default = true WHERE name = 'snp-d2';
                                                  UPDATE icp_profiles SET active = false WHERE name = 'snp'$$)) AS edit,
               icp_fit(l) AS fit, icp_segment(l) AS seg
          FROM snp_leads l OFFSET 0) s;
SELECT pg_temp.wrong_default() AS wrong_default,
       bool_and(icp_fit(l) = icp_fit(l, 'snp-d2')) AS default_is_snp_d2
  FROM snp_leads l;
SELECT bool_and(icp_segment(l) IS NOT DISTINCT FROM
                CASE WHEN employees >= 100 THEN 'snp-d1'
                     WHEN country = 'DE' THEN 'snp-d2' END) AS segments_without_snp
  FROM snp_leads l;

SELECT dblink_disconnect('snp_other');
SET client_min_messages = warning;
DROP TABLE snp_leads CASCADE;  -- and the temporary function on its row type
RESET client_min_messages;
DELETE FROM icp_profiles WHERE name LIKE 'snp%';
