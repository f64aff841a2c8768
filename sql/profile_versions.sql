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

DROP TABLE ver_leads;
DELETE FROM icp_profiles WHERE name LIKE 'ver-%';
DELETE FROM icp_profile_versions WHERE profile LIKE 'ver-%';
