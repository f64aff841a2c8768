-- Soundness: session settings.  A rule's literal means what it means in SQL
-- under the session's current settings: after SET TimeZone or SET DateStyle
-- a warm profile gives the answer of the same condition written in SQL now,
-- not the one it gave when it was compiled.  WITHIN follows the time zone
-- too (a date is midnight in the session's time zone, as in SQL).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, MDY';

CREATE TABLE set_leads (id int PRIMARY KEY, seen_at timestamptz, d date);
INSERT INTO set_leads
SELECT g, '2024-03-09 00:00+00'::timestamptz + g * interval '1 hour', '2024-02-20'::date + g
  FROM generate_series(1, 72) g;
INSERT INTO icp_profiles (name) VALUES ('set-ts'), ('set-ts-mdy'), ('set-d');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('set-ts', 'seen_at > ''2024-03-10 12:00''', 10),
    ('set-ts-mdy', 'seen_at >= ''03/10/2024 12:00''', 10),
    ('set-d', 'd = ''03/04/2024''', 10);

-- For each rule: leads where icp disagrees with the SQL condition (0 is
-- right; rows, jsonb accounts and profile values), and leads the SQL
-- condition matches under the current settings.  (A function, not a view:
-- a view would keep the literals as they were read when it was created.)
CREATE FUNCTION set_check() RETURNS TABLE (rule text, wrong bigint, sql_matches bigint)
LANGUAGE sql STABLE AS $$
SELECT 'seen_at > ''2024-03-10 12:00''' AS rule,
       count(*) FILTER (WHERE (icp_fit(l, 'set-ts') = 100) IS DISTINCT FROM (seen_at > '2024-03-10 12:00')
                           OR (icp_fit(to_jsonb(l), 'set-ts') = 100) IS DISTINCT FROM (seen_at > '2024-03-10 12:00')
                           OR (icp_fit(l, icp_profile('set-ts')) = 100) IS DISTINCT FROM (seen_at > '2024-03-10 12:00')) AS wrong,
       count(*) FILTER (WHERE seen_at > '2024-03-10 12:00') AS sql_matches
  FROM set_leads l
UNION ALL
SELECT 'seen_at >= ''03/10/2024 12:00''',
       count(*) FILTER (WHERE (icp_fit(l, 'set-ts-mdy') = 100) IS DISTINCT FROM (seen_at >= '03/10/2024 12:00')
                           OR (icp_fit(l, icp_profile('set-ts-mdy')) = 100) IS DISTINCT FROM (seen_at >= '03/10/2024 12:00')),
       count(*) FILTER (WHERE seen_at >= '03/10/2024 12:00')
  FROM set_leads l
UNION ALL
SELECT 'd = ''03/04/2024''',
       count(*) FILTER (WHERE (icp_fit(l, 'set-d') = 100) IS DISTINCT FROM (d = '03/04/2024')
                           OR (icp_fit(l, icp_profile('set-d')) = 100) IS DISTINCT FROM (d = '03/04/2024')),
       count(*) FILTER (WHERE d = '03/04/2024')
  FROM set_leads l
$$;

SELECT * FROM set_check();
SET TimeZone = 'America/New_York';
SELECT * FROM set_check();
SET TimeZone = 'Asia/Tokyo';
SELECT * FROM set_check();
SET DateStyle = 'ISO, DMY';
SELECT * FROM set_check();
-- the matching lead, by hand: March 4 under MDY, April 3 under DMY
SELECT id, d FROM set_leads l WHERE icp_fit(l, 'set-d') = 100;
SET DateStyle = 'SQL, MDY';
SELECT * FROM set_check();
SELECT id, d FROM set_leads l WHERE icp_fit(l, 'set-d') = 100;
SET TimeZone = 'UTC';
SELECT * FROM set_check();

-- the same inside a transaction, SET LOCAL included
BEGIN;
SELECT * FROM set_check();
SET LOCAL TimeZone = 'Pacific/Auckland';
SET LOCAL DateStyle = 'ISO, DMY';
SELECT * FROM set_check();
COMMIT;
SELECT * FROM set_check();

-- WITHIN on timestamptz and date columns: x BETWEEN now() - interval AND now()
CREATE TABLE set_recent (id int PRIMARY KEY, seen_at timestamptz, d date);
INSERT INTO set_recent
SELECT g, now() - (g * 37) * interval '1 minute', current_date - (g / 60)
  FROM generate_series(-20, 400) g;
INSERT INTO icp_profiles (name) VALUES ('set-within');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('set-within', 'seen_at WITHIN ''5 hours''', 10),
    ('set-within', 'd WITHIN ''2 days''', 20);
CREATE FUNCTION set_within_check() RETURNS TABLE (wrong bigint, some_dates_match boolean, some_dates_do_not boolean)
LANGUAGE sql STABLE AS $$
SELECT count(*) FILTER (WHERE NOT abs(icp_fit(l, 'set-within')
                                  - 100 * (CASE WHEN seen_at BETWEEN now() - interval '5 hours' AND now() THEN 10 ELSE 0 END
                                         + CASE WHEN d BETWEEN now() - interval '2 days' AND now() THEN 20 ELSE 0 END) / 30.0) < 1e-9)
       AS wrong,
       count(*) FILTER (WHERE d BETWEEN now() - interval '2 days' AND now()) > 0 AS some_dates_match,
       count(*) FILTER (WHERE NOT d BETWEEN now() - interval '2 days' AND now()) > 0 AS some_dates_do_not
  FROM set_recent l
$$;
SET TimeZone = 'UTC';
SELECT * FROM set_within_check();
SET TimeZone = 'Pacific/Kiritimati';
SELECT * FROM set_within_check();
SET TimeZone = 'Pacific/Pago_Pago';
SELECT * FROM set_within_check();

DROP FUNCTION set_check(), set_within_check();
DROP TABLE set_leads, set_recent;
DELETE FROM icp_profiles WHERE name LIKE 'set-%';
RESET TimeZone;
RESET DateStyle;

-- search_path: a regclass literal names the table the search_path finds now
-- (criterion ids come from a sequence later tests' messages show: leave it
-- as found)
SELECT pg_get_serial_sequence('icp_criteria', 'id') AS set_seq \gset
SELECT last_value AS set_last, is_called AS set_called FROM :set_seq \gset
CREATE SCHEMA set_s1;
CREATE SCHEMA set_s2;
CREATE TABLE set_s1.set_target ();
CREATE TABLE set_s2.set_target ();
CREATE TABLE set_rel (r regclass);
INSERT INTO set_rel VALUES ('set_s1.set_target'), ('set_s2.set_target');
INSERT INTO icp_profiles (name) VALUES ('set-rel');
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('set-rel', 'r = ''set_target''', 1);
SET search_path = set_s1, public;
SELECT count(*) FILTER (WHERE (icp_fit(x, 'set-rel') = 100) IS DISTINCT FROM (r = 'set_target'::regclass)) AS wrong,
       count(*) FILTER (WHERE icp_fit(x, 'set-rel') = 100) AS matches
  FROM set_rel x;
SET search_path = set_s2, public;
SELECT count(*) FILTER (WHERE (icp_fit(x, 'set-rel') = 100) IS DISTINCT FROM (r = 'set_target'::regclass)) AS wrong,
       count(*) FILTER (WHERE icp_fit(x, 'set-rel') = 100) AS matches
  FROM set_rel x;
RESET search_path;
DROP TABLE set_rel;
DROP SCHEMA set_s1, set_s2 CASCADE;
DELETE FROM icp_profiles WHERE name = 'set-rel';
SELECT setval(:'set_seq', :set_last, :'set_called'::boolean) IS NOT NULL AS sequence_restored;
