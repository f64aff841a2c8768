-- Review of issue 13 (decay, icp_notify_trigger): cases a hostile or
-- careless user hits, each compared with plain SQL.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

-- Criterion ids come from a sequence that later tests' messages show:
-- leave it as found.
SELECT last_value AS sdc_seq_last, is_called AS sdc_seq_called FROM icp_criteria_id_seq \gset

-- 1. A source whose columns are named like the aliases the set functions
-- use internally (t, s): the whole row is scored, never the column.  Here
-- the columns t and s are jsonb accounts that would fail every criterion.
INSERT INTO icp_profiles (name) VALUES ('sdc-alias');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('sdc-alias', 'visits > 1', 40),
    ('sdc-alias', 'employees > 10', 60);
CREATE TABLE sdc_alias (id int PRIMARY KEY, visits int, employees int,
                        s jsonb, t jsonb, fit float8, grade text, won bool);
INSERT INTO sdc_alias
SELECT g, g % 4, 5 * g, '{"visits": 0, "employees": 0}', '{"visits": 0, "employees": 0}',
       NULL, NULL, g % 3 = 0
  FROM generate_series(1, 12) g;
-- the expected fits, in plain SQL
CREATE TEMP VIEW sdc_alias_sql AS
SELECT id, (CASE WHEN visits > 1 THEN 40 ELSE 0 END +
            CASE WHEN employees > 10 THEN 60 ELSE 0 END)::float8 AS fit, won
  FROM sdc_alias;
-- icp_funnel counts what the rows match
SELECT step, rule, matching,
       CASE rule::text WHEN 'visits > 1' THEN (SELECT count(*) FROM sdc_alias WHERE visits > 1)
            ELSE (SELECT count(*) FROM sdc_alias WHERE employees > 10) END AS matching_sql
  FROM icp_funnel('sdc-alias', 'sdc_alias') ORDER BY step;
-- icp_rescore writes the rows' fits
CALL icp_rescore('sdc_alias', 'sdc-alias', 'fit', 'grade');
SELECT count(*) AS rows, count(*) FILTER (WHERE a.fit = s.fit) AS equal_to_sql
  FROM sdc_alias a JOIN sdc_alias_sql s USING (id);
-- icp_evaluate and icp_lift see the same fits as SQL
SELECT e.rows, e.positives,
       e.auc = (SELECT (sum(CASE WHEN p.fit > n.fit THEN 1 WHEN p.fit = n.fit THEN 0.5 ELSE 0 END)
                        / count(*))::float8
                  FROM sdc_alias_sql p, sdc_alias_sql n WHERE p.won AND NOT n.won) AS auc_as_sql
  FROM icp_evaluate('sdc-alias', 'sdc_alias', 'won') e;
SELECT bucket, min_fit, max_fit, rows FROM icp_lift('sdc-alias', 'sdc_alias', 'won', 2);
SELECT max(fit) AS max_fit_sql, min(fit) AS min_fit_sql, count(*) AS rows_sql FROM sdc_alias_sql;
DROP VIEW sdc_alias_sql;
DROP TABLE sdc_alias;
DELETE FROM icp_profiles WHERE name = 'sdc-alias';

-- 2. icp_notify_trigger: an outbox table that is misnamed, missing or has a
-- payload of another type is a setup error naming the trigger and table.
CREATE TABLE sdc_route (id int PRIMARY KEY, grade text);
CREATE TABLE sdc_bad_outbox (id int, payload int);
CREATE FUNCTION pg_temp.sdc_try(outbox text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER sdc_n AFTER INSERT OR UPDATE ON sdc_route '
                   'FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger(%L, %L, %L, %L)',
                   '', 'grade', 'id', outbox);
    BEGIN
        INSERT INTO sdc_route VALUES (1, 'A');
    EXCEPTION WHEN OTHERS THEN
        DROP TRIGGER sdc_n ON sdc_route;
        RETURN SQLSTATE || ': ' || SQLERRM;
    END;
    DROP TRIGGER sdc_n ON sdc_route;
    RETURN 'no error';
END
$$;
SELECT o AS outbox, pg_temp.sdc_try(o) AS error
  FROM unnest(ARRAY['sdc_no_outbox', '"sdc_outbox', 'a.b.c.d', 'sdc_bad_outbox']) o;
DROP TABLE sdc_route, sdc_bad_outbox;

-- 3. On a partitioned table, a row that moves to another partition arrives
-- as an INSERT there (README, Routing): the outbox shows what a listener
-- gets, table = the partition.
CREATE TABLE sdc_outbox (id bigserial PRIMARY KEY, payload jsonb NOT NULL);
CREATE TABLE sdc_part (id int, region text, grade text, PRIMARY KEY (region, id))
    PARTITION BY LIST (region);
CREATE TABLE sdc_part_eu PARTITION OF sdc_part FOR VALUES IN ('eu');
CREATE TABLE sdc_part_us PARTITION OF sdc_part FOR VALUES IN ('us');
CREATE TRIGGER sdc_n AFTER INSERT OR UPDATE ON sdc_part
    FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('', 'grade', '', 'sdc_outbox');
INSERT INTO sdc_part VALUES (1, 'eu', 'A');
UPDATE sdc_part SET grade = 'A';
UPDATE sdc_part SET region = 'us';
SELECT payload->>'table' AS "table", payload->>'op' AS op, payload->'key' AS key,
       payload->>'old_grade' AS old_grade, payload->>'new_grade' AS new_grade
  FROM sdc_outbox ORDER BY id;
DROP TABLE sdc_part, sdc_outbox;

-- 4. A jsonb decay time that is not one: the error says that the decay
-- time was being read, and a JSON number is not "compared with" anything.
SELECT FROM setval('icp_criteria_id_seq', 9500, false);
INSERT INTO icp_profiles (name) VALUES ('sdc-decay');
INSERT INTO icp_criteria (profile, rule, weight, decay_on, half_life) VALUES
    ('sdc-decay', 'visits > 1', 40, 'seen', '14 days');
\set SHOW_CONTEXT always
SELECT icp_fit('{"visits": 2, "seen": 5}'::jsonb, 'sdc-decay');
SELECT icp_fit('{"visits": 2, "seen": "soon"}'::jsonb, 'sdc-decay');
-- an error in the rule itself is not about the decay
SELECT icp_fit('{"visits": "many", "seen": "2026-01-01"}'::jsonb, 'sdc-decay');
\set SHOW_CONTEXT errors
DELETE FROM icp_profiles WHERE name = 'sdc-decay';

-- 5. The update from 0.2 replaces icp_rescore, icp_evaluate and icp_lift in
-- place: a view over icp_lift does not block it, a privilege a DBA took away
-- stays away, and the updated functions score the row, not a column t.
SELECT current_database() AS sdc_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS icp_sound_decay;
RESET client_min_messages;
CREATE DATABASE icp_sound_decay;
\c icp_sound_decay
CREATE EXTENSION icp VERSION '0.2';
CREATE TABLE hist (id int PRIMARY KEY, employees int, t jsonb, won bool);
INSERT INTO hist SELECT g, 10 * g, '{"employees": 0}', g > 5 FROM generate_series(1, 10) g;
INSERT INTO icp_profiles (name) VALUES ('p');
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('p', 'employees > 50', 60);
CREATE VIEW lift_chart AS SELECT * FROM icp_lift('p', 'hist', 'won', 2);
REVOKE EXECUTE ON FUNCTION icp_evaluate(text, regclass, text) FROM PUBLIC;
ALTER EXTENSION icp UPDATE TO '0.3';
SELECT extversion FROM pg_extension WHERE extname = 'icp';
SELECT bucket, min_fit, max_fit, rows, positives FROM lift_chart;
SELECT rows, positives, auc FROM icp_evaluate('p', 'hist', 'won');
SELECT has_function_privilege('public', 'icp_evaluate(text, regclass, text)', 'EXECUTE') AS public_may_evaluate;
\c :sdc_db
DROP DATABASE icp_sound_decay;

SELECT FROM setval('icp_criteria_id_seq', :sdc_seq_last, :'sdc_seq_called'::boolean);
