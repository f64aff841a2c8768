-- icp_profile_versions: how a profile evolved.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

-- Each statement that changes a profile's value closes the current version
-- and opens a new one.
INSERT INTO icp_profiles (name) VALUES ('ver-mid-market');
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('ver-mid-market', 'employees BETWEEN 50 AND 1000', 40, true),
    ('ver-mid-market', 'industry = ''software''', 40, false);
UPDATE icp_criteria SET weight = 60 WHERE profile = 'ver-mid-market' AND rule = 'industry = ''software''';
-- a description is not part of the value: no new version
UPDATE icp_profiles SET description = 'EU SaaS' WHERE name = 'ver-mid-market';
-- a change that leaves the value as it was: no new version either
UPDATE icp_criteria SET weight = weight WHERE profile = 'ver-mid-market';

SELECT profile, version, valid_to IS NULL AS current, valid_from <= coalesce(valid_to, valid_from) AS ordered,
       jsonb_path_query_array(value::text::jsonb, '$.criteria[*].weight') AS weights
  FROM icp_profile_versions WHERE profile LIKE 'ver-%' ORDER BY profile, version;

-- Score old data with the version that was in force, and compare versions.
CREATE TABLE ver_leads (id integer, employees integer, industry text);
INSERT INTO ver_leads VALUES (1, 100, 'software'), (2, 100, 'retail'), (3, 10, 'software');
SELECT l.id, v.version, icp_fit(l, v.value) AS fit
  FROM ver_leads l CROSS JOIN icp_profile_versions v
 WHERE v.profile = 'ver-mid-market'
 ORDER BY l.id, v.version;

-- A rename carries the history along; the old values keep their old name.
UPDATE icp_profiles SET name = 'ver-saas' WHERE name = 'ver-mid-market';
SELECT profile, version, valid_to IS NULL AS current, value::text::jsonb ->> 'name' AS name_in_value
  FROM icp_profile_versions WHERE profile LIKE 'ver-%' ORDER BY profile, version;

-- Deleting the profile ends its last version; the history stays.
DELETE FROM icp_profiles WHERE name = 'ver-saas';
SELECT profile, version, valid_to IS NULL AS current
  FROM icp_profile_versions WHERE profile LIKE 'ver-%' ORDER BY profile, version;

-- A new profile of the same name continues the numbering.
INSERT INTO icp_profiles (name) VALUES ('ver-saas');
SELECT profile, version, valid_to IS NULL AS current
  FROM icp_profile_versions WHERE profile LIKE 'ver-%' ORDER BY profile, version;

-- pg_dump keeps the history.
SELECT c::regclass AS config_table
  FROM pg_extension e, unnest(e.extconfig) AS c
 WHERE e.extname = 'icp' ORDER BY c::regclass::text;

-- Only the profiles a statement touches are looked at: a history row edited
-- by hand for another profile stays as it is ...
INSERT INTO icp_profiles (name) VALUES ('ver-a'), ('ver-b');
UPDATE icp_profile_versions SET value = icp_profile('ver-saas') WHERE profile = 'ver-b';
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('ver-a', 'employees > 10', 1);
SELECT profile, version, valid_to IS NULL AS current, value::text::jsonb ->> 'name' AS name_in_value
  FROM icp_profile_versions WHERE profile IN ('ver-a', 'ver-b') ORDER BY profile, version;
-- ... until a statement touches that profile.
UPDATE icp_profiles SET bias = 0 WHERE name IN ('ver-a', 'ver-b');
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('ver-b', 'employees > 10', 1);
SELECT profile, version, valid_to IS NULL AS current, value::text::jsonb ->> 'name' AS name_in_value
  FROM icp_profile_versions WHERE profile IN ('ver-a', 'ver-b') ORDER BY profile, version;

-- One statement touching several profiles records each of them once.
UPDATE icp_criteria SET weight = weight * 2 WHERE profile IN ('ver-a', 'ver-b');
SELECT profile, count(*) AS versions, count(*) FILTER (WHERE valid_to IS NULL) AS current
  FROM icp_profile_versions WHERE profile IN ('ver-a', 'ver-b') GROUP BY profile ORDER BY profile;

-- A profile that COPY created has no version (COPY records nothing); it
-- gets its first one at the next change of any profile.
COPY icp_profiles (name) FROM STDIN;
ver-copied
\.
SELECT count(*) AS copied_versions FROM icp_profile_versions WHERE profile = 'ver-copied';
UPDATE icp_profiles SET description = 'touched' WHERE name = 'ver-a';
SELECT profile, version, valid_to IS NULL AS current FROM icp_profile_versions
 WHERE profile = 'ver-copied';

-- TRUNCATE has no transition table: every profile is looked at.
BEGIN;
TRUNCATE icp_profiles CASCADE;
SELECT count(*) AS current_versions_left FROM icp_profile_versions WHERE valid_to IS NULL;
ROLLBACK;
BEGIN;
TRUNCATE icp_criteria;
SELECT count(*) FILTER (WHERE v.value::text::jsonb -> 'criteria' = '[]')
           = (SELECT count(*) FROM icp_profiles) AS every_profile_recorded_without_criteria
  FROM icp_profile_versions v WHERE v.valid_to IS NULL;
ROLLBACK;

-- The history is written with the rights of the role changing a profile:
-- it needs SELECT, INSERT and UPDATE on icp_profile_versions.
CREATE ROLE ver_editor;
GRANT SELECT, INSERT, UPDATE, DELETE ON icp_profiles, icp_criteria TO ver_editor;
GRANT USAGE ON SEQUENCE icp_criteria_id_seq TO ver_editor;
SET ROLE ver_editor;
\set SHOW_CONTEXT never
INSERT INTO icp_profiles (name) VALUES ('ver-editor');
UPDATE icp_profiles SET name = 'ver-a2' WHERE name = 'ver-a';
\set SHOW_CONTEXT errors
RESET ROLE;
GRANT SELECT, INSERT, UPDATE ON icp_profile_versions TO ver_editor;
SET ROLE ver_editor;
INSERT INTO icp_profiles (name) VALUES ('ver-editor');
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('ver-editor', 'employees > 10', 1);
UPDATE icp_profiles SET name = 'ver-editor-2' WHERE name = 'ver-editor';
DELETE FROM icp_profiles WHERE name = 'ver-editor-2';
RESET ROLE;
SELECT profile, version, valid_to IS NULL AS current, value::text::jsonb ->> 'name' AS name_in_value
  FROM icp_profile_versions WHERE profile LIKE 'ver-editor%' ORDER BY profile, version;
REVOKE ALL ON icp_profiles, icp_criteria, icp_profile_versions FROM ver_editor;
REVOKE ALL ON SEQUENCE icp_criteria_id_seq FROM ver_editor;
DROP ROLE ver_editor;

DROP TABLE ver_leads;
DELETE FROM icp_profiles WHERE name LIKE 'ver-%';
DELETE FROM icp_profile_versions WHERE profile LIKE 'ver-%';
