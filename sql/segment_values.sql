-- icp_segment(account, icp_profile[]): segmentation over profile values
-- (README, Scaling out with Citus).  Same answers as the by-name variant.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;
SELECT last_value AS sv_seq_last, is_called AS sv_seq_called FROM icp_criteria_id_seq \gset

INSERT INTO icp_profiles (name, kind, active) VALUES
    ('sv-mid-market', 'ideal', true),
    ('sv-enterprise', 'ideal', true),
    ('sv-startup-sam', 'exclude', true),
    ('sv-dormant', 'ideal', false);
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('sv-mid-market', 'employees BETWEEN 50 AND 1000', 40, true),
    ('sv-mid-market', 'industry IN (''software'', ''fintech'')', 40, false),
    ('sv-mid-market', 'country IN (''DE'', ''AT'', ''CH'')', 20, false),
    ('sv-enterprise', 'employees > 1000', 60, true),
    ('sv-enterprise', 'industry = ''software''', 40, false),
    ('sv-startup-sam', 'employees < 20', 50, true),
    ('sv-startup-sam', 'funding = ''seed''', 50, false),
    ('sv-dormant', 'country = ''FR''', 100, false);

CREATE TABLE sv_leads (
    id integer PRIMARY KEY,
    industry text,
    employees integer,
    country text,
    funding text,
    notes text
);
SELECT setseed(0.17);
INSERT INTO sv_leads
SELECT g,
       (ARRAY['software', 'fintech', 'retail', NULL])[1 + floor(random() * 4)::int],
       CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 3000)::int END,
       (ARRAY['DE', 'AT', 'US', 'FR', NULL])[1 + floor(random() * 5)::int],
       (ARRAY['seed', 'series-a', NULL])[1 + floor(random() * 3)::int],
       -- a big TOASTed column the rules do not read
       CASE WHEN g % 50 = 0 THEN repeat(md5(g::text), 700) END
  FROM generate_series(1, 400) g;

-- By value equals by name, for every row: the active set, and named sets
-- with an inactive profile and an anti-profile.
SELECT count(*) AS rows,
       count(*) FILTER (WHERE icp_segment(l) IS DISTINCT FROM
           icp_segment(l, (SELECT array_agg(icp_profile(p.name)) FROM icp_profiles p
                            WHERE p.active))) AS active_differs,
       count(*) FILTER (WHERE icp_segment(l, ARRAY['sv-dormant', 'sv-enterprise', 'sv-startup-sam'])
           IS DISTINCT FROM icp_segment(l, ARRAY[icp_profile('sv-startup-sam'),
                                                  icp_profile('sv-dormant'),
                                                  icp_profile('sv-enterprise')])) AS named_differs,
       count(*) FILTER (WHERE icp_segment(to_jsonb(l), ARRAY['sv-mid-market', 'sv-startup-sam'])
           IS DISTINCT FROM icp_segment(to_jsonb(l), ARRAY[icp_profile('sv-mid-market'),
                                                            icp_profile('sv-startup-sam')])) AS jsonb_differs
  FROM sv_leads l;

-- ... and equals the rule written in plain SQL: a matching (A-C) exclude
-- profile wins, else the best matching ideal one, ties to the first name.
WITH cand AS (
    SELECT l.id, p.name, p.kind, icp_fit(l, icp_profile(p.name)) AS fit,
           icp_grade(l, icp_profile(p.name)) AS grade
      FROM sv_leads l CROSS JOIN icp_profiles p
     WHERE p.name IN ('sv-mid-market', 'sv-enterprise', 'sv-startup-sam', 'sv-dormant')
), best AS (
    SELECT DISTINCT ON (id) id, name
      FROM cand WHERE grade IN ('A', 'B', 'C')
     ORDER BY id, kind = 'exclude' DESC, fit DESC, name COLLATE "C"
)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE b.name IS DISTINCT FROM
           icp_segment(l, ARRAY[icp_profile('sv-mid-market'), icp_profile('sv-enterprise'),
                                icp_profile('sv-startup-sam'), icp_profile('sv-dormant')])) AS differs,
       count(DISTINCT b.name) AS segments_seen
  FROM sv_leads l LEFT JOIN best b USING (id);

-- An edit is seen at the next statement: values taken afresh follow it.
UPDATE icp_criteria SET weight = 5 WHERE profile = 'sv-mid-market' AND rule = 'country IN (''DE'', ''AT'', ''CH'')';
SELECT count(*) FILTER (WHERE icp_segment(l) IS DISTINCT FROM
           icp_segment(l, (SELECT array_agg(icp_profile(p.name)) FROM icp_profiles p
                            WHERE p.active))) AS differs_after_edit
  FROM sv_leads l;

-- A value without a stored profile behind it works too (what-if).
SELECT icp_segment('{"employees": 12, "funding": "seed"}'::jsonb,
                   ARRAY['{"name": "what-if", "criteria": [{"rule": "employees < 100", "weight": 1}]}'::icp_profile]) AS what_if;

-- Edge cases, as by name: an empty array gives NULL, the same value twice
-- takes part once, NULL elements and NULL arguments.
SELECT icp_segment(l, '{}'::icp_profile[]) AS no_profiles,
       icp_segment(l, ARRAY[icp_profile('sv-mid-market'), icp_profile('sv-mid-market')]) AS twice,
       icp_segment(l, ARRAY['sv-mid-market', 'sv-mid-market']) AS twice_by_name
  FROM sv_leads l WHERE l.employees BETWEEN 50 AND 1000 AND l.industry = 'software' LIMIT 1;
SELECT icp_segment(l, ARRAY[icp_profile('sv-mid-market'), NULL]) FROM sv_leads l;
SELECT icp_segment(NULL::sv_leads, ARRAY[icp_profile('sv-mid-market')]) IS NULL AS null_account,
       icp_segment('{}'::jsonb, NULL::icp_profile[]) IS NULL AS null_profiles;

-- Clear errors: two different values with one name, a value without a name,
-- a two-dimensional array.
SELECT icp_segment('{}'::jsonb, ARRAY[icp_profile('sv-mid-market'),
                                      '{"name": "sv-mid-market", "criteria": []}'::icp_profile]);
SELECT icp_segment('{}'::jsonb, ARRAY['{"criteria": [{"rule": "a = 1", "weight": 1}]}'::icp_profile]);
SELECT icp_segment('{}'::jsonb, ARRAY[[icp_profile('sv-mid-market')], [icp_profile('sv-enterprise')]]);

DROP TABLE sv_leads;
DELETE FROM icp_profiles WHERE name LIKE 'sv-%';
SELECT FROM setval('icp_criteria_id_seq', :sv_seq_last, :'sv_seq_called'::boolean);

-- An untyped literal of names ('{a,b}', NULL) still means text[] of names,
-- as before the icp_profile[] variant: it resolves, and equals the typed call.
INSERT INTO icp_profiles (name) VALUES ('sv-untyped-a'), ('sv-untyped-b');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('sv-untyped-a', 'employees < 100', 10), ('sv-untyped-b', 'employees >= 100', 10);
CREATE TABLE sv_untyped (id int, employees int, note text);
INSERT INTO sv_untyped
SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE g * 3 END, repeat(md5(g::text), 700)
  FROM generate_series(1, 200) g;
SELECT count(*) AS rows_,
       count(*) FILTER (WHERE icp_segment(u, '{sv-untyped-a,sv-untyped-b}')
                        IS DISTINCT FROM icp_segment(u, ARRAY['sv-untyped-a', 'sv-untyped-b'])) AS differs,
       count(*) FILTER (WHERE icp_segment(to_jsonb(u), '{sv-untyped-a,sv-untyped-b}')
                        IS DISTINCT FROM icp_segment(u, ARRAY['sv-untyped-a', 'sv-untyped-b'])) AS differs_jsonb,
       count(*) FILTER (WHERE icp_segment(u, '{sv-untyped-a,sv-untyped-b}') IS DISTINCT FROM
                        CASE WHEN u.employees < 100 THEN 'sv-untyped-a'
                             WHEN u.employees >= 100 THEN 'sv-untyped-b' END) AS differs_sql
  FROM sv_untyped u;
SELECT icp_segment(u, NULL) IS NULL AS null_names,
       icp_segment(to_jsonb(u), NULL) IS NULL AS null_names_jsonb,
       icp_segment(u, '{}') IS NULL AS no_names
  FROM sv_untyped u WHERE u.id = 1;
SELECT icp_segment(u, 'sv-untyped-a') FROM sv_untyped u WHERE u.id = 1;
-- On a table row the literal takes the planner's column path too (read once,
-- at plan time); a text expression that is not a constant is read per row.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT icp_segment(u, '{sv-untyped-a,sv-untyped-b}') FROM sv_untyped u;
ALTER TABLE sv_untyped ADD COLUMN names text;
UPDATE sv_untyped SET names = CASE WHEN id % 3 = 0 THEN '{sv-untyped-b}'
                                   WHEN id % 3 = 1 THEN '{sv-untyped-a,sv-untyped-b}' END;
SELECT count(*) FILTER (WHERE icp_segment(u, u.names)
                        IS DISTINCT FROM icp_segment(u, u.names::text[])) AS differs_expr,
       count(*) FILTER (WHERE icp_segment(u, u.names) IS NULL) AS nulls
  FROM sv_untyped u;
-- A role without EXECUTE on icp_segment_columns keeps the whole-row call:
-- a literal that changes from row to row is read afresh each time.
CREATE ROLE sv_reader;
GRANT SELECT ON sv_untyped, icp_profiles, icp_criteria TO sv_reader;
SET ROLE sv_reader;
SELECT count(*) FILTER (WHERE icp_segment(u, u.names)
                        IS DISTINCT FROM icp_segment(u, u.names::text[])) AS differs_whole_row
  FROM sv_untyped u;
RESET ROLE;
REVOKE ALL ON sv_untyped, icp_profiles, icp_criteria FROM sv_reader;
DROP ROLE sv_reader;
SELECT icp_segment('{}'::jsonb, '{sv-no-such}');
DROP TABLE sv_untyped;
DELETE FROM icp_profiles WHERE name LIKE 'sv-untyped-%';
SELECT FROM setval('icp_criteria_id_seq', :sv_seq_last, :'sv_seq_called'::boolean);
