-- Security: privileges, hostile objects on the search_path, and installing
-- icp as a database owner who is not a superuser (the extension is trusted).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
DROP ROLE IF EXISTS regress_icp_reader;
DROP ROLE IF EXISTS regress_icp_nobody;
DROP ROLE IF EXISTS regress_icp_dbowner;
RESET client_min_messages;

CREATE TABLE sec_leads (id int, industry text, employees int);
INSERT INTO sec_leads VALUES (1, 'software', 200), (2, 'retail', 20);
INSERT INTO icp_profiles (name) VALUES ('sec-a'), ('sec-b');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('sec-a', 'industry = ''software''', 10),
    ('sec-b', 'employees < 100', 10);

-- nothing is granted to PUBLIC
SELECT relname,
       NOT EXISTS (SELECT FROM aclexplode(coalesce(relacl, acldefault('r', relowner))) a
                   WHERE a.grantee = 0) AS no_public_grant
FROM pg_class WHERE relname IN ('icp_profiles', 'icp_criteria', 'icp_criteria_id_seq') ORDER BY relname;

-- a role without rights gets a permission error
CREATE ROLE regress_icp_nobody;
CREATE ROLE regress_icp_reader;
GRANT SELECT ON sec_leads TO regress_icp_nobody, regress_icp_reader;
GRANT SELECT ON icp_profiles, icp_criteria TO regress_icp_reader;
SET ROLE regress_icp_nobody;
SELECT icp_fit(l, 'sec-a') FROM sec_leads l;
SELECT icp_profile('sec-a');
RESET ROLE;

-- SELECT on the profile tables is enough to score, not to change profiles
SET ROLE regress_icp_reader;
SELECT id, icp_fit(l, 'sec-a') AS a, icp_fit(l, 'sec-b') AS b FROM sec_leads l ORDER BY id;
INSERT INTO icp_profiles (name) VALUES ('sec-c');
UPDATE icp_criteria SET weight = 0;
RESET ROLE;

-- hostile objects on the search_path change nothing: an "=" that is always
-- true, a now() in the past and look-alike profile tables
CREATE SCHEMA evil;
CREATE FUNCTION evil.always(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.always);
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$SELECT '2000-01-01'::timestamptz$$;
CREATE TABLE evil.icp_profiles (LIKE icp_profiles INCLUDING DEFAULTS);
CREATE TABLE evil.icp_criteria (LIKE icp_criteria);
INSERT INTO evil.icp_profiles (name, kind, model, bias, grade_thresholds, missing, is_default, active)
VALUES ('sec-a', 'ideal', 'logistic', 5, '{80,60,40}', 'ignore', false, true);
SET search_path = evil, pg_catalog, public;
SELECT 'x'::text = 'y'::text AS hostile_equals;
SELECT id, icp_fit(l, 'sec-a') AS a, icp_fit(l, 'sec-b') AS b FROM sec_leads l ORDER BY id;
SELECT icp_profile('sec-b')::text LIKE '%employees < 100%' AS right_profile;
UPDATE public.icp_profiles SET description = 'touched' WHERE name OPERATOR(pg_catalog.=) 'sec-b';
SELECT updated_at > '2001-01-01' AS real_now FROM public.icp_profiles
WHERE name OPERATOR(pg_catalog.=) 'sec-b';
RESET search_path;

-- a database owner who is not a superuser can install icp (trusted), and
-- may then manage profiles; a table planted under one of icp's names makes
-- the install fail rather than being adopted
CREATE ROLE regress_icp_dbowner;
CREATE DATABASE regress_icp_trusted OWNER regress_icp_dbowner;
\set testdb :DBNAME
\c regress_icp_trusted
ALTER SCHEMA public OWNER TO regress_icp_dbowner;
SET ROLE regress_icp_dbowner;
CREATE TABLE public.icp_criteria (id int);
-- (the context, which 18 gives the statement of the script, is not shown)
\set SHOW_CONTEXT never
CREATE EXTENSION icp;
\set SHOW_CONTEXT errors
DROP TABLE public.icp_criteria;
CREATE EXTENSION icp;
SELECT extname, extowner::regrole FROM pg_extension WHERE extname = 'icp';
INSERT INTO icp_profiles (name, kind) VALUES ('mine', 'ideal');
\set VERBOSITY terse
INSERT INTO icp_profiles (name, kind) VALUES ('bad', 'nonsense');
\set VERBOSITY default
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('mine', 'employees > 10', 1);
SELECT icp_fit('{"employees": 50}'::jsonb, 'mine');
RESET ROLE;
\c :testdb
DROP DATABASE regress_icp_trusted;

DROP SCHEMA evil CASCADE;
DROP TABLE sec_leads;
DELETE FROM icp_profiles WHERE name LIKE 'sec-%';
REVOKE ALL ON icp_profiles, icp_criteria FROM regress_icp_reader;
DROP ROLE regress_icp_nobody;
DROP ROLE regress_icp_reader;
DROP ROLE regress_icp_dbowner;
