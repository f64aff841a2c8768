-- Routing on grade change: icp_notify_trigger (README, Routing)
-- (NOTIFY itself is checked with a listening session in test/checks/notify.sh;
-- here the payloads are read from an outbox table)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;
SET extra_float_digits = 0;
-- this file adds criteria: put the id sequence back at the end
SELECT last_value AS ntf_seq_last, is_called AS ntf_seq_called FROM icp_criteria_id_seq \gset

CREATE TABLE crm_leads (id int PRIMARY KEY, name text, employees int, owner text,
                        fit float8, grade text);
INSERT INTO icp_profiles (name) VALUES ('crm-route');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('crm-route', 'employees BETWEEN 50 AND 1000', 60),
    ('crm-route', 'name LIKE ''A%''', 40);
CREATE TRIGGER crm_leads_score
    BEFORE INSERT OR UPDATE ON crm_leads
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('crm-route', 'fit', 'grade');

-- one NOTIFY on channel icp_grades per row whose grade changed
CREATE TRIGGER crm_leads_notify
    AFTER INSERT OR UPDATE ON crm_leads
    FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('icp_grades');

-- the outbox: the same payloads kept in a table, in the same transaction
CREATE TABLE grade_outbox (id bigserial PRIMARY KEY, payload jsonb NOT NULL,
                           created_at timestamptz NOT NULL DEFAULT now());
CREATE TRIGGER crm_leads_route
    AFTER INSERT OR UPDATE ON crm_leads
    FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('', 'grade', 'id', 'grade_outbox');

INSERT INTO crm_leads (id, name, employees) VALUES (1, 'Acme', 200), (2, 'Bolt', 20), (3, 'Cato', NULL);
UPDATE crm_leads SET owner = 'kim' WHERE id = 1;          -- grade unchanged: nothing
UPDATE crm_leads SET employees = 400 WHERE id = 2;        -- D -> B
BEGIN;
UPDATE crm_leads SET employees = 5 WHERE id = 1;          -- rolled back: nothing
ROLLBACK;

-- a worker drains the outbox: each change once, even with several workers
DELETE FROM grade_outbox
 WHERE id IN (SELECT id FROM grade_outbox ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED)
RETURNING payload;
SELECT count(*) AS left_over FROM grade_outbox;

-- grades written by icp_rescore notify too (here: Cato's size becomes known)
UPDATE crm_leads SET employees = 70 WHERE id = 3;
SELECT payload->'key' AS key, payload->>'old_grade' AS old, payload->>'new_grade' AS new
FROM grade_outbox ORDER BY id;
DELETE FROM grade_outbox;
UPDATE icp_criteria SET weight = 10 WHERE profile = 'crm-route' AND rule = 'name LIKE ''A%''';
CALL icp_rescore('crm_leads', 'crm-route', 'fit', 'grade');
SELECT payload->'key' AS key, payload->>'old_grade' AS old, payload->>'new_grade' AS new,
       round((payload->>'fit')::numeric, 4) AS fit, payload->>'profile' AS profile
FROM grade_outbox ORDER BY id;

-- setup errors name the trigger and the table
\set SHOW_CONTEXT never
CREATE TABLE crm_nokey (name text, grade text);
CREATE TRIGGER t BEFORE INSERT ON crm_nokey FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('c', 'grade', 'name');
INSERT INTO crm_nokey VALUES ('x', 'A');
DROP TRIGGER t ON crm_nokey;
CREATE TRIGGER t AFTER INSERT ON crm_nokey FOR EACH STATEMENT EXECUTE FUNCTION icp_notify_trigger('c', 'grade', 'name');
INSERT INTO crm_nokey VALUES ('x', 'A');
DROP TRIGGER t ON crm_nokey;
CREATE TRIGGER t AFTER INSERT ON crm_nokey FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('c', 'score', 'name');
INSERT INTO crm_nokey VALUES ('x', 'A');
DROP TRIGGER t ON crm_nokey;
CREATE TRIGGER t AFTER INSERT ON crm_nokey FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('c', 'grade', 'name, "Id"');
INSERT INTO crm_nokey VALUES ('x', 'A');
DROP TRIGGER t ON crm_nokey;
CREATE TRIGGER t AFTER INSERT ON crm_nokey FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger(
    'a_channel_name_that_is_much_longer_than_the_sixty_three_bytes_allowed', 'grade', 'name');
INSERT INTO crm_nokey VALUES ('x', 'A');
DROP TRIGGER t ON crm_nokey;
CREATE TRIGGER t AFTER INSERT ON crm_nokey FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('', 'grade', 'name');
INSERT INTO crm_nokey VALUES ('x', 'A');
DROP TRIGGER t ON crm_nokey;
CREATE TRIGGER t AFTER INSERT ON crm_nokey FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('c', 'grade', 'name', 'crm_leads');
INSERT INTO crm_nokey VALUES ('x', 'A');
DROP TRIGGER t ON crm_nokey;
SELECT icp_notify_trigger();
\set SHOW_CONTEXT errors

-- without a primary key: the column id, else the row's ctid
CREATE TABLE crm_noid (name text, grade text);
CREATE TRIGGER t AFTER INSERT ON crm_noid
    FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('', 'grade', '', 'grade_outbox');
ALTER TABLE crm_nokey ADD COLUMN id int;
CREATE TRIGGER t AFTER INSERT ON crm_nokey
    FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('', 'grade', '', 'grade_outbox');
DELETE FROM grade_outbox;
INSERT INTO crm_noid VALUES ('x', 'A');
INSERT INTO crm_nokey VALUES ('y', 'B', 7);
SELECT payload->>'table' AS tbl, payload->'key' AS key FROM grade_outbox ORDER BY id;
DROP TRIGGER t ON crm_nokey;
DROP TABLE crm_noid;

-- composite keys (also in the array form), and keys of every JSON kind
CREATE TABLE crm_keys (region text, n numeric, flag boolean, grade char(1));
CREATE TRIGGER t AFTER INSERT OR UPDATE ON crm_keys
    FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('', 'grade', '{region,n,flag}', 'grade_outbox');
DELETE FROM grade_outbox;
INSERT INTO crm_keys VALUES ('EU "west"', 1.50, true, 'A'), ('US', 'NaN', NULL, NULL);
UPDATE crm_keys SET grade = 'A';
SELECT payload->'key' AS key, payload->>'old_grade' AS old, payload->>'new_grade' AS new, payload->'fit' AS fit
FROM grade_outbox ORDER BY id;

DROP TABLE crm_leads, crm_nokey, crm_keys, grade_outbox;
DELETE FROM icp_profiles WHERE name = 'crm-route';
SELECT FROM setval('icp_criteria_id_seq', :ntf_seq_last, :'ntf_seq_called'::boolean);
