-- Soundness: DDL in the session that holds compiled profiles.  Renaming or
-- adding enum labels, adding, dropping and retyping columns, and dropping
-- and re-creating the extension all give the answer a fresh session would
-- give: the plain SQL answer, or a clear error naming the profile, the
-- criterion and the column.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

-- 'ok' or the SQLSTATE of a statement, and whether its message, detail and
-- context together name every word given.
CREATE FUNCTION pg_temp.error_of(q text, names text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    det text;
    ctx text;
    all_named boolean;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, ctx = PG_EXCEPTION_CONTEXT;
    SELECT bool_and(position(n IN concat_ws(' ', msg, det, ctx)) > 0) INTO all_named FROM unnest(names) n;
    RETURN SQLSTATE || CASE WHEN all_named THEN ', names ' ELSE ', does not name all of ' END
           || array_to_string(names, ', ');
END $$;

-- 1. Enums: a renamed label is not matched under its old name.
CREATE TYPE ddl_stage AS ENUM ('lead', 'trial', 'customer');
CREATE TABLE ddl_accounts (id int PRIMARY KEY, stage ddl_stage);
INSERT INTO ddl_accounts SELECT g, (ARRAY['lead', 'trial', 'customer'])[1 + g % 3]::ddl_stage FROM generate_series(1, 30) g;
INSERT INTO icp_profiles (name) VALUES ('ddl-trial'), ('ddl-pilot'), ('ddl-after-lead'), ('ddl-prospect');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('ddl-trial', 'stage = ''trial''', 10),
    ('ddl-pilot', 'stage = ''pilot''', 10),
    ('ddl-after-lead', 'stage > ''lead''', 10),
    ('ddl-prospect', 'stage = ''prospect''', 10);
SELECT count(*) FILTER (WHERE icp_fit(a, 'ddl-trial') = 100) AS icp_trial,
       count(*) FILTER (WHERE stage = 'trial') AS sql_trial,
       count(*) FILTER (WHERE (icp_fit(a, 'ddl-after-lead') = 100) IS DISTINCT FROM (stage > 'lead')) AS after_lead_wrong
  FROM ddl_accounts a;
SELECT pg_temp.error_of($$SELECT icp_fit(a, 'ddl-pilot') FROM ddl_accounts a$$, ARRAY['ddl-pilot', 'criterion', 'pilot']);

ALTER TYPE ddl_stage RENAME VALUE 'trial' TO 'pilot';
-- 'trial' is no label any more: binding the rule fails, by row and whole row
SELECT pg_temp.error_of($$SELECT icp_fit(a, 'ddl-trial') FROM ddl_accounts a$$, ARRAY['ddl-trial', 'criterion', 'trial']);
SELECT pg_temp.error_of($$SELECT icp_fit(x, 'ddl-trial') FROM (SELECT * FROM ddl_accounts OFFSET 0) x$$,
                        ARRAY['ddl-trial', 'criterion', 'trial']);
SELECT pg_temp.error_of($$SELECT icp_segment(a, ARRAY['ddl-trial']) FROM ddl_accounts a$$, ARRAY['ddl-trial', 'criterion']);
-- and 'pilot' is one now
SELECT count(*) FILTER (WHERE (icp_fit(a, 'ddl-pilot') = 100) IS DISTINCT FROM (stage = 'pilot')) AS pilot_wrong,
       count(*) FILTER (WHERE stage = 'pilot') AS sql_pilot,
       count(*) FILTER (WHERE (icp_fit(a, 'ddl-after-lead') = 100) IS DISTINCT FROM (stage > 'lead')) AS after_lead_wrong
  FROM ddl_accounts a;

-- A label added before 'lead' sorts first: 'stage > ''lead''' follows.
ALTER TYPE ddl_stage ADD VALUE 'prospect' BEFORE 'lead';
ALTER TYPE ddl_stage ADD VALUE 'churned' BEFORE 'pilot';
UPDATE ddl_accounts SET stage = 'prospect' WHERE id % 5 = 0;
UPDATE ddl_accounts SET stage = 'churned' WHERE id % 7 = 0;
SELECT count(*) FILTER (WHERE (icp_fit(a, 'ddl-after-lead') = 100) IS DISTINCT FROM (stage > 'lead')) AS after_lead_wrong,
       count(*) FILTER (WHERE (icp_fit(a, 'ddl-prospect') = 100) IS DISTINCT FROM (stage = 'prospect')) AS prospect_wrong,
       count(*) FILTER (WHERE stage > 'lead') AS sql_after_lead,
       count(*) FILTER (WHERE stage = 'prospect') AS sql_prospect
  FROM ddl_accounts a;
DELETE FROM icp_profiles WHERE name IN ('ddl-trial', 'ddl-pilot', 'ddl-after-lead', 'ddl-prospect');

-- 2. ALTER TABLE with the profile bound to the table's row type.
CREATE TABLE ddl_leads (id int PRIMARY KEY, industry text, employees int, country text);
INSERT INTO ddl_leads
SELECT g, (ARRAY['software', 'retail'])[1 + g % 2], (g * 53) % 700, (ARRAY['DE', 'FR', 'US'])[1 + g % 3]
  FROM generate_series(1, 30) g;
INSERT INTO icp_profiles (name) VALUES ('ddl-at'), ('ddl-revenue');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('ddl-at', 'industry = ''software''', 10),
    ('ddl-at', 'employees > 200', 20),
    ('ddl-at', 'country = ''DE''', 30),
    ('ddl-revenue', 'revenue >= 5000', 10);
-- leads scored by icp otherwise than by hand, on the table row (which the
-- planner rewrites), a whole-row record, jsonb and through PL/pgSQL
CREATE FUNCTION pg_temp.fit_of(r record) RETURNS float8 LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN icp_fit(r, 'ddl-at');
END $$;
CREATE FUNCTION pg_temp.at_wrong() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FILTER (WHERE NOT (abs(icp_fit(l, 'ddl-at') - want) < 1e-9
                                       AND abs(icp_fit(x, 'ddl-at') - want) < 1e-9
                                       AND abs(pg_temp.fit_of(l) - want) < 1e-9))
      FROM ddl_leads l
      JOIN (SELECT * FROM ddl_leads OFFSET 0) x USING (id),
      LATERAL (SELECT 100 * (CASE WHEN l.industry = 'software' THEN 10 ELSE 0 END
                           + CASE WHEN l.employees > 200 THEN 20 ELSE 0 END
                           + CASE WHEN l.country = 'DE' THEN 30 ELSE 0 END) / 60.0 AS want) w
$$;
SELECT pg_temp.at_wrong() AS wrong;
-- a column nobody reads
ALTER TABLE ddl_leads ADD COLUMN note text DEFAULT 'n';
SELECT pg_temp.at_wrong() AS wrong;
-- a column a rule was waiting for
SELECT pg_temp.error_of($$SELECT icp_fit(l, 'ddl-revenue') FROM ddl_leads l$$, ARRAY['ddl-revenue', 'criterion', 'revenue']);
ALTER TABLE ddl_leads ADD COLUMN revenue numeric;
UPDATE ddl_leads SET revenue = id * 300;
SELECT count(*) FILTER (WHERE (icp_fit(l, 'ddl-revenue') = 100) IS DISTINCT FROM (revenue >= 5000)) AS revenue_wrong,
       count(*) FILTER (WHERE revenue >= 5000) AS sql_revenue
  FROM ddl_leads l;
-- a column a rule reads is dropped: 42703 naming the profile and the column
ALTER TABLE ddl_leads DROP COLUMN country;
SELECT pg_temp.error_of($$SELECT icp_fit(l, 'ddl-at') FROM ddl_leads l$$, ARRAY['ddl-at', 'criterion', 'country']);
SELECT pg_temp.error_of($$SELECT icp_fit(x, 'ddl-at') FROM (SELECT * FROM ddl_leads OFFSET 0) x$$, ARRAY['ddl-at', 'country']);
SELECT pg_temp.error_of($$SELECT pg_temp.fit_of(l) FROM ddl_leads l$$, ARRAY['ddl-at', 'country']);
SELECT pg_temp.error_of($$SELECT icp_score(l, 'ddl-at') FROM ddl_leads l$$, ARRAY['ddl-at', 'country']);
-- ... and added again, with other values
ALTER TABLE ddl_leads ADD COLUMN country text;
UPDATE ddl_leads SET country = CASE WHEN id % 4 = 0 THEN 'DE' ELSE 'AT' END;
SELECT pg_temp.at_wrong() AS wrong;
-- a column's type changes: employees > 200 compares as the new type does
ALTER TABLE ddl_leads ALTER COLUMN employees TYPE text USING employees::text;
SELECT count(*) FILTER (WHERE NOT abs(icp_fit(l, 'ddl-at') - want) < 1e-9) AS wrong_as_text,
       count(*) FILTER (WHERE (employees > '200') <> (employees::int > 200)) > 0 AS text_order_differs
  FROM ddl_leads l,
       LATERAL (SELECT 100 * (CASE WHEN l.industry = 'software' THEN 10 ELSE 0 END
                            + CASE WHEN l.employees > '200' THEN 20 ELSE 0 END
                            + CASE WHEN l.country = 'DE' THEN 30 ELSE 0 END) / 60.0 AS want) w;
ALTER TABLE ddl_leads ALTER COLUMN employees TYPE bigint USING employees::bigint;
SELECT pg_temp.at_wrong() AS wrong;

-- ... the same inside one transaction, where PL/pgSQL keeps its call sites
-- from one statement to the next
BEGIN;
SELECT count(*) FILTER (WHERE NOT abs(pg_temp.fit_of(l) - icp_fit(l, icp_profile('ddl-at'))) < 1e-9) AS wrong
  FROM ddl_leads l;
ALTER TABLE ddl_leads ALTER COLUMN employees TYPE text USING employees::text;
SELECT count(*) FILTER (WHERE NOT abs(pg_temp.fit_of(l) - want) < 1e-9) AS plpgsql_wrong_as_text
  FROM ddl_leads l,
       LATERAL (SELECT 100 * (CASE WHEN l.industry = 'software' THEN 10 ELSE 0 END
                            + CASE WHEN l.employees > '200' THEN 20 ELSE 0 END
                            + CASE WHEN l.country = 'DE' THEN 30 ELSE 0 END) / 60.0 AS want) w;
SELECT count(*) FILTER (WHERE NOT (abs(icp_fit(l, 'ddl-at') - want) < 1e-9
                                   AND abs(pg_temp.fit_of(l) - want) < 1e-9)) AS wrong_as_text
  FROM ddl_leads l,
       LATERAL (SELECT 100 * (CASE WHEN l.industry = 'software' THEN 10 ELSE 0 END
                            + CASE WHEN l.employees > '200' THEN 20 ELSE 0 END
                            + CASE WHEN l.country = 'DE' THEN 30 ELSE 0 END) / 60.0 AS want) w;
ALTER TABLE ddl_leads ALTER COLUMN employees TYPE int USING employees::int;
SELECT pg_temp.at_wrong() AS wrong;
ALTER TABLE ddl_leads ALTER COLUMN employees TYPE numeric USING employees::numeric;
SELECT pg_temp.at_wrong() AS wrong;
ALTER TABLE ddl_leads ALTER COLUMN industry TYPE varchar(20);
SELECT pg_temp.at_wrong() AS wrong;
ALTER TABLE ddl_leads DROP COLUMN note, ADD COLUMN note2 int;
SELECT pg_temp.at_wrong() AS wrong;
ALTER TABLE ddl_leads DROP COLUMN country;
SELECT pg_temp.error_of($$SELECT pg_temp.fit_of(l) FROM ddl_leads l$$, ARRAY['ddl-at', 'country']);
ROLLBACK;
SELECT pg_temp.at_wrong() AS wrong;

-- 3. DROP EXTENSION and CREATE EXTENSION in this session: new profiles
-- under the old names are the ones used.
DELETE FROM icp_profiles WHERE name IN ('ddl-at', 'ddl-revenue');
INSERT INTO icp_profiles (name, is_default) VALUES ('ddl-ext', true);
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('ddl-ext', 'industry = ''software''', 10);
SELECT count(*) FILTER (WHERE icp_fit(l, 'ddl-ext') = 100) AS by_name, count(*) FILTER (WHERE icp_fit(l) = 100) AS by_default,
       count(*) FILTER (WHERE icp_segment(l) = 'ddl-ext') AS segment, count(*) FILTER (WHERE industry = 'software') AS sql
  FROM ddl_leads l;
DROP FUNCTION pg_temp.fit_of(record), pg_temp.at_wrong();
SET client_min_messages = warning;
DROP EXTENSION icp CASCADE;
CREATE EXTENSION icp;
RESET client_min_messages;
INSERT INTO icp_profiles (name, is_default) VALUES ('ddl-ext', true);
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('ddl-ext', 'employees > 300', 10);
SELECT count(*) FILTER (WHERE icp_fit(l, 'ddl-ext') = 100) AS by_name, count(*) FILTER (WHERE icp_fit(l) = 100) AS by_default,
       count(*) FILTER (WHERE icp_segment(l) = 'ddl-ext') AS segment, count(*) FILTER (WHERE employees > 300) AS sql
  FROM ddl_leads l;
-- ... and once more inside one transaction
BEGIN;
SELECT count(*) FILTER (WHERE icp_fit(l, 'ddl-ext') = 100) AS by_name FROM ddl_leads l;
SET client_min_messages = warning;
DROP EXTENSION icp;
CREATE EXTENSION icp;
RESET client_min_messages;
INSERT INTO icp_profiles (name, is_default) VALUES ('ddl-ext', true);
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('ddl-ext', 'industry = ''retail''', 10);
SELECT count(*) FILTER (WHERE icp_fit(l, 'ddl-ext') = 100) AS by_name, count(*) FILTER (WHERE icp_fit(l) = 100) AS by_default,
       count(*) FILTER (WHERE icp_segment(l) = 'ddl-ext') AS segment, count(*) FILTER (WHERE industry = 'retail') AS sql
  FROM ddl_leads l;
COMMIT;
SELECT count(*) FILTER (WHERE icp_fit(l, 'ddl-ext') = 100) AS by_name, count(*) FILTER (WHERE industry = 'retail') AS sql
  FROM ddl_leads l;

DROP TABLE ddl_accounts, ddl_leads;
DROP TYPE ddl_stage;
DELETE FROM icp_profiles WHERE name LIKE 'ddl-%';
