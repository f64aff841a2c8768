-- icp_learn on hostile values: NaN and infinite numbers, infinite and BC
-- dates and timestamps.  Scoring orders them as PostgreSQL does (NaN above
-- every number, -infinity/+infinity before/after every date), so they are
-- not missing values: every learned criterion's support and won rate in its
-- note must be what scoring the rule finds on the same rows, and no
-- "IS NULL" criterion may be learned for a column without NULLs.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;
SELECT last_value AS criteria_id_last, is_called AS criteria_id_called FROM icp_criteria_id_seq \gset

SELECT setseed(0.42);
CREATE TABLE sound_learn_src AS
SELECT g AS id,
       CASE WHEN g % 40 = 0 THEN 'NaN'::float8 WHEN g % 61 = 0 THEN 'Infinity'::float8
            WHEN g % 67 = 0 THEN '-Infinity'::float8 ELSE random() * 50 END AS fl,
       CASE WHEN g % 50 = 0 THEN 'NaN'::numeric WHEN g % 77 = 0 THEN 'Infinity'::numeric
            WHEN g % 91 = 0 THEN '-Infinity'::numeric ELSE round((random() * 100)::numeric, 3) END AS num,
       CASE WHEN g % 97 = 0 THEN 'infinity'::date WHEN g % 89 = 0 THEN '-infinity'::date
            WHEN g % 83 = 0 THEN '0044-03-15 BC'::date ELSE date '2020-01-01' + g % 900 END AS d,
       CASE WHEN g % 97 = 0 THEN 'infinity'::timestamp
            ELSE timestamp '2019-06-01 12:30' + g * interval '7 hours' END AS ts,
       CASE WHEN g % 89 = 0 THEN '-infinity'::timestamptz
            ELSE timestamptz '2021-03-28 01:30+01' + g * interval '3 hours' END AS tstz,
       random() AS u
  FROM generate_series(1, 3000) AS g;
ALTER TABLE sound_learn_src ADD COLUMN won boolean;
-- the special values lean towards winning, so a learner that took them for
-- missing would write "IS NULL" criteria
UPDATE sound_learn_src SET won = u < 0.25
    + CASE WHEN fl = 'NaN' OR fl >= 45 OR fl = '-Infinity' THEN 0.35 ELSE 0 END
    + CASE WHEN num >= 90 THEN 0.2 ELSE 0 END
    + CASE WHEN d > '2021-06-01' OR d = '-infinity' THEN 0.2 ELSE 0 END;

-- Per profile p learned from src: its criteria, how many notes give the
-- support and won rate scoring finds on src, how many are IS NULL rules, and
-- how many distinct rule texts
CREATE FUNCTION sound_learn_notes(p text, src regclass) RETURNS TABLE (criteria bigint,
    support_matches bigint, won_rate_matches bigint, null_criteria bigint, distinct_rules bigint)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT count(*),
               count(*) FILTER (WHERE s.matched = substring(c.note FROM 'support ([0-9]+)')::bigint),
               count(*) FILTER (WHERE abs(s.rate - substring(c.note FROM 'won rate ([0-9.]+)')::float8) <= 0.0005),
               count(*) FILTER (WHERE c.rule::text LIKE '%%IS NULL%%'),
               count(DISTINCT c.rule::text)
          FROM icp_criteria c
          LEFT JOIN (SELECT e.criterion, count(*) FILTER (WHERE e.outcome = 'match') AS matched,
                            avg(r.won::int) FILTER (WHERE e.outcome = 'match') AS rate
                       FROM %s r, icp_explain(r.*, %L) AS e
                      GROUP BY e.criterion) s ON s.criterion = c.id
         WHERE c.profile = %L$q$, src, p, p);
END
$$;

SELECT criteria > 10 AS learned
  FROM icp_learn('sound-learn-single', 'sound_learn_src', 'won', ARRAY['fl', 'num', 'd', 'ts', 'tstz']);
SELECT criteria > 10 AS checked, support_matches = criteria AS supports_match,
       won_rate_matches = criteria AS won_rates_match, null_criteria = 0 AS no_null_criteria
  FROM sound_learn_notes('sound-learn-single', 'sound_learn_src');
SELECT criteria > 10 AS learned
  FROM icp_learn('sound-learn-int', 'sound_learn_src', 'won', ARRAY['fl', 'num', 'd', 'ts', 'tstz'],
                 '{"interactions": true}');
SELECT criteria > 10 AS checked, support_matches = criteria AS supports_match,
       won_rate_matches = criteria AS won_rates_match, null_criteria = 0 AS no_null_criteria
  FROM sound_learn_notes('sound-learn-int', 'sound_learn_src');
-- bounds are finite numbers and dates
SELECT bool_and(rule::text NOT ILIKE '%infinity%' AND rule::text NOT ILIKE '%nan%') AS finite_bounds
  FROM icp_criteria WHERE profile IN ('sound-learn-single', 'sound-learn-int');
-- a column of nothing but infinities and NaN learns no bins (and no error)
CREATE TABLE sound_learn_inf AS
SELECT (ARRAY['Infinity', '-Infinity', 'NaN']::float8[])[1 + g % 3] AS x, g % 3 = 0 AS won
  FROM generate_series(1, 300) AS g;
SELECT rows_used, criteria FROM icp_learn('sound-learn-inf', 'sound_learn_inf', 'won', ARRAY['x']);

-- A text column of a non-deterministic collation: scoring finds 'Alpha' =
-- 'alpha', the learner tells values apart by their text, so the column is
-- refused (and skipped when the attributes are not named); a view giving it
-- a deterministic collation learns rules whose supports scoring matches.
CREATE COLLATION sound_learn_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE sound_learn_ci AS
SELECT g AS id, (ARRAY['Alpha', 'alpha', 'ALPHA', 'beta', 'Beta', 'gamma'])[1 + g % 6] COLLATE sound_learn_ci AS c,
       ARRAY[(ARRAY['X', 'x', 'y'])[1 + g % 3]]::text[] COLLATE sound_learn_ci AS tags,
       g % 5 = 0 OR g % 6 IN (0, 1) AS won, (g % 10)::int AS n
  FROM generate_series(1, 3000) AS g;
\set VERBOSITY default
SELECT criteria FROM icp_learn('sound-learn-ci', 'sound_learn_ci', 'won', ARRAY['c']);
SELECT criteria FROM icp_learn('sound-learn-ci', 'sound_learn_ci', 'won', ARRAY['tags']);
SELECT criteria > 0 AS learned FROM icp_learn('sound-learn-ci', 'sound_learn_ci', 'won');
\set VERBOSITY terse
SELECT count(*) = 0 AS no_text_rules FROM icp_criteria
 WHERE profile = 'sound-learn-ci' AND rule::text !~ '^n ';
CREATE VIEW sound_learn_c AS SELECT id, c COLLATE "C" AS c, won FROM sound_learn_ci;
SELECT criteria > 0 AS learned FROM icp_learn('sound-learn-c', 'sound_learn_c', 'won', ARRAY['c']);
SELECT criteria > 0 AS checked, support_matches = criteria AS supports_match
  FROM sound_learn_notes('sound-learn-c', 'sound_learn_c');
DROP VIEW sound_learn_c;
DROP TABLE sound_learn_ci;
DROP COLLATION sound_learn_ci;

-- character values compare without trailing spaces ('a  ' = 'a'), in a
-- column and in an array: one criterion per value, matching both spellings
CREATE TABLE sound_learn_bpchar AS
SELECT g AS id, (ARRAY['a', 'a  ', 'b', 'c '])[1 + g % 4]::bpchar AS b,
       ARRAY[(ARRAY['x', 'x ', 'y'])[1 + g % 3]]::bpchar[] AS tags,
       (ARRAY['a', 'a  ', 'b'])[1 + g % 3]::char(4) AS c4,
       g % 4 = 0 OR g % 3 = 0 OR g % 7 = 0 AS won
  FROM generate_series(1, 3000) AS g;
SELECT criteria > 0 AS learned
  FROM icp_learn('sound-learn-bpchar', 'sound_learn_bpchar', 'won', ARRAY['b', 'tags', 'c4'],
                 '{"interactions": true}');
SELECT criteria > 0 AS checked, support_matches = criteria AS supports_match,
       distinct_rules = criteria AS distinct_rules
  FROM sound_learn_notes('sound-learn-bpchar', 'sound_learn_bpchar');
DROP TABLE sound_learn_bpchar;

-- Numbers beyond 1e15 and 2^53: bounds are written with 15 significant
-- digits (the double of 12345678901234700000 printed in full is
-- 12345678901234700288, above the value), and integers past 2^53 get no
-- BETWEEN x AND bound - 1 (not exact in a double)
CREATE TABLE sound_learn_big AS
SELECT g AS id,
       (ARRAY[9223372036854775807, 9223372036854775000, 9223372036854774000, 9000000000000000001,
              9000000000000000000, 1234567890123456789])[1 + g % 6]::int8 AS i8,
       (12345678901234500000 + (g % 7) * 100000::numeric)::numeric(30, 5) AS n,
       (ARRAY[1e20::numeric + 1, 1e20::numeric, 1e20::numeric - 1, 5.5e20])[1 + g % 4] AS n20,
       g % 6 IN (0, 2) OR g % 7 < 3 OR g % 4 = 1 OR g % 11 = 0 AS won
  FROM generate_series(1, 3000) AS g;
SELECT criteria > 3 AS learned
  FROM icp_learn('sound-learn-big', 'sound_learn_big', 'won', ARRAY['i8', 'n', 'n20'],
                 '{"interactions": true}');
SELECT criteria > 3 AS checked, support_matches = criteria AS supports_match
  FROM sound_learn_notes('sound-learn-big', 'sound_learn_big');
DROP TABLE sound_learn_big;

-- Distinct values are remembered up to 64 MB over all columns (4,000
-- distinct TOASTed 20 kB texts are 80 MB; 100,000 of them would have been
-- 2 GB): past it, the NOTICE of a full column
CREATE TABLE sound_learn_wide_text AS
SELECT g AS id, repeat(md5(g::text), 640) AS t, g % 3 = 0 AS won
  FROM generate_series(1, 4000) AS g;
SELECT rows_used, criteria FROM icp_learn('sound-learn-wide-text', 'sound_learn_wide_text', 'won', ARRAY['t']);
DROP TABLE sound_learn_wide_text;

DELETE FROM icp_profiles WHERE name LIKE 'sound-learn-%';
DROP TABLE sound_learn_src, sound_learn_inf;
DROP FUNCTION sound_learn_notes(text, regclass);
SELECT setval('icp_criteria_id_seq', :criteria_id_last, :'criteria_id_called'::boolean) IS NOT NULL AS sequence_restored;
