-- Decay: behavioural points fade with age (README, Scoring, Decay)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO';
SET IntervalStyle = 'postgres';
-- criterion ids appear in the output: remember the sequence, restore it at the end
SELECT last_value AS dec_seq_last, is_called AS dec_seq_called FROM icp_criteria_id_seq \gset
SELECT FROM setval('icp_criteria_id_seq', 9000, false);

-- one transaction: now() is its start, so the ages below are exact
BEGIN;
CREATE TABLE leads_activity (
    id int PRIMARY KEY,
    name text,
    employees int,
    pricing_visits int,
    last_visit timestamptz,
    signup date,
    trial_end timestamp,
    events jsonb
);
INSERT INTO leads_activity VALUES
    (1, 'Fresh',   200, 5, now(),                     current_date,      localtimestamp,                     jsonb_build_object('demo', now())),
    (2, 'Week',    200, 5, now() - interval '7 days',  current_date - 7,  localtimestamp - interval '7 days',  jsonb_build_object('demo', now() - interval '7 days')),
    (3, 'Month',   200, 5, now() - interval '28 days', current_date - 28, localtimestamp - interval '28 days', jsonb_build_object('demo', now() - interval '28 days')),
    (4, 'Unknown', 200, 5, NULL,                       NULL,              NULL,                               '{}'),
    (5, 'Future',  200, 5, now() + interval '3 days',  current_date + 3,  localtimestamp + interval '3 days',  jsonb_build_object('demo', now() + interval '3 days')),
    (6, 'Cold',    200, 1, now() - interval '7 days',  current_date - 7,  localtimestamp - interval '7 days',  '{"demo": null}'),
    (7, 'Never',   200, 0, NULL,                       NULL,              NULL,                               '{}');

-- pricing-page visits count 40 points, halving every 14 days since the last visit
INSERT INTO icp_profiles (name) VALUES ('hot-leads');
INSERT INTO icp_criteria (profile, rule, weight, decay_on, half_life) VALUES
    ('hot-leads', 'pricing_visits >= 3', 40, 'last_visit', '14 days'),
    ('hot-leads', 'employees BETWEEN 50 AND 1000', 60, NULL, NULL);

SELECT name, round(icp_fit(l, 'hot-leads')::numeric, 6) AS fit, icp_grade(l, 'hot-leads') AS grade
FROM leads_activity l ORDER BY id;

-- the same in plain SQL: weight * 0.5 ^ (age / half_life), no decay for the future
SELECT name,
       round((100 * (40 * CASE WHEN last_visit < now()
                               THEN 0.5 ^ (extract(epoch FROM now() - last_visit) / extract(epoch FROM interval '14 days'))
                               ELSE 1 END + 60) / 100)::numeric, 6) AS fit
FROM leads_activity WHERE pricing_visits >= 3 AND last_visit IS NOT NULL ORDER BY id;

-- icp_explain shows the decayed points, the time and its age
-- (the time itself is masked here: it is now() minus the age)
SELECT l.name, x.criterion, x.outcome, round(x.points::numeric, 4) AS points,
       regexp_replace(x.value, 'last_visit=[0-9][^(]*', 'last_visit=... ') AS value
FROM leads_activity l, icp_explain(l, 'hot-leads') x WHERE x.criterion = 9000 ORDER BY l.id;

-- a true criterion whose time is unknown is unknown (Unknown: 5 visits, no
-- time); a false one stays false, known time (Cold) or not (Never)
SELECT name, icp_outcomes(l, 'hot-leads') FROM leads_activity l ORDER BY id;

-- the logistic model uses the decayed weight in its sum (log-odds 2 halving
-- every 14 days, 3 for the size, bias -4); penalize counts the unknown one
UPDATE icp_profiles SET model = 'logistic', bias = -4 WHERE name = 'hot-leads';
UPDATE icp_criteria SET weight = weight / 20 WHERE profile = 'hot-leads';
SELECT name, round(icp_fit(l, 'hot-leads')::numeric, 6) AS fit,
       round((100 / (1 + exp(-(-4 + CASE WHEN pricing_visits >= 3 AND last_visit IS NOT NULL
                                          THEN 2 * 0.5 ^ (greatest(extract(epoch FROM now() - last_visit), 0) / 1209600)
                                          ELSE 0 END
                                   + 3))))::numeric, 6) AS by_hand
FROM leads_activity l ORDER BY id;
UPDATE icp_criteria SET weight = weight * 20 WHERE profile = 'hot-leads';
UPDATE icp_profiles SET model = 'points', bias = 0, missing = 'penalize' WHERE name = 'hot-leads';
SELECT name, round(icp_fit(l, 'hot-leads')::numeric, 6) AS fit, (icp_score(l, 'hot-leads')).coverage
FROM leads_activity l ORDER BY id;
UPDATE icp_profiles SET missing = 'ignore' WHERE name = 'hot-leads';

-- date, timestamp and a jsonb string work as time attributes too
-- (a date is midnight: its age depends on the time of day, so compare with SQL)
UPDATE icp_criteria SET decay_on = 'signup' WHERE id = 9000;
SELECT name, abs(icp_fit(l, 'hot-leads') - CASE WHEN signup IS NULL AND pricing_visits >= 3 THEN 100 ELSE
           (40 * CASE WHEN signup < now() THEN 0.5 ^ (extract(epoch FROM now() - signup) / 1209600) ELSE 1 END
            * (pricing_visits >= 3)::int + 60) END) < 1e-9 AS matches_sql
FROM leads_activity l ORDER BY id;
UPDATE icp_criteria SET decay_on = 'trial_end' WHERE id = 9000;
SELECT name, round(icp_fit(l, 'hot-leads')::numeric, 6) AS fit FROM leads_activity l ORDER BY id;
UPDATE icp_criteria SET decay_on = 'events.demo' WHERE id = 9000;
SELECT name, round(icp_fit(l, 'hot-leads')::numeric, 6) AS fit FROM leads_activity l ORDER BY id;
-- jsonb accounts: to_jsonb(row) scores like the row
UPDATE icp_criteria SET decay_on = 'last_visit' WHERE id = 9000;
SELECT count(*) AS differ FROM leads_activity l
WHERE icp_fit(to_jsonb(l), 'hot-leads') IS DISTINCT FROM icp_fit(l, 'hot-leads');

-- the profile value carries the decay (half_life in ISO 8601, which every IntervalStyle reads)
SELECT icp_profile('hot-leads');
SELECT count(*) AS differ FROM leads_activity l
WHERE icp_fit(l, icp_profile('hot-leads')::text::icp_profile) IS DISTINCT FROM icp_fit(l, 'hot-leads');
SELECT round(icp_fit('{"pricing_visits": 4, "seen": "2000-01-01"}'::jsonb,
                     '{"criteria": [{"rule": "pricing_visits > 3", "weight": 1, "decay_on": "seen", "half_life": "1 day"},
                                    {"rule": "pricing_visits > 0", "weight": 1}]}'::icp_profile)::numeric, 6) AS old_visit;
COMMIT;

-- a date is midnight in the session's time zone, as now() - date reads it:
-- the age, and so the fit, moves with TimeZone
UPDATE icp_criteria SET decay_on = 'signup' WHERE id = 9000;
CREATE TEMP TABLE dec_tz AS
SELECT current_setting('TimeZone') AS tz,
       icp_fit(l, 'hot-leads') AS fit,
       100 * (40 * 0.5 ^ (extract(epoch FROM now() - signup::timestamptz) / 1209600) + 60) / 100 AS by_hand
FROM leads_activity l WHERE id = 3;
SET TimeZone = 'Pacific/Auckland';
INSERT INTO dec_tz
SELECT current_setting('TimeZone'), icp_fit(l, 'hot-leads'),
       100 * (40 * 0.5 ^ (extract(epoch FROM now() - signup::timestamptz) / 1209600) + 60) / 100
FROM leads_activity l WHERE id = 3;
SET TimeZone = 'UTC';
SELECT tz, abs(fit - by_hand) < 1e-9 AS matches FROM dec_tz;
SELECT count(DISTINCT fit) AS distinct_fits FROM dec_tz;

-- errors name the profile, the criterion and the attribute
\set SHOW_CONTEXT never
INSERT INTO icp_criteria (profile, rule, weight, decay_on, half_life)
VALUES ('hot-leads', 'pricing_visits > 0', 1, 'last_vist', '1 day');
SELECT icp_fit(l, 'hot-leads') FROM leads_activity l;
UPDATE icp_criteria SET decay_on = 'employees' WHERE decay_on = 'last_vist';
SELECT icp_fit(l, 'hot-leads') FROM leads_activity l;
DELETE FROM icp_criteria WHERE decay_on = 'employees';
INSERT INTO icp_criteria (profile, rule, weight, decay_on, half_life)
VALUES ('hot-leads', 'pricing_visits > 0', 1, 'last visit', '1 day');
INSERT INTO icp_criteria (profile, rule, weight, decay_on, half_life)
VALUES ('hot-leads', 'pricing_visits > 0', 1, 'last_visit', '-1 day');
INSERT INTO icp_criteria (profile, rule, weight, decay_on, half_life)
VALUES ('hot-leads', 'pricing_visits > 0', 1, 'last_visit', '0');
INSERT INTO icp_criteria (profile, rule, weight, decay_on, half_life)
VALUES ('hot-leads', 'pricing_visits > 0', 1, 'last_visit', '1001 years');
\set VERBOSITY terse
INSERT INTO icp_criteria (profile, rule, weight, decay_on, half_life)
VALUES ('hot-leads', 'pricing_visits > 0', 1, 'last_visit', NULL);
\set VERBOSITY default
SELECT '{"criteria": [{"rule": "a > 1", "decay_on": "t"}]}'::icp_profile;
SELECT '{"criteria": [{"rule": "a > 1", "decay_on": "t", "half_life": "soon"}]}'::icp_profile;
SELECT '{"criteria": [{"rule": "a > 1", "decay_on": "t", "half_life": "-1 day 40 hours"}]}'::icp_profile;
SELECT '{"criteria": [{"rule": "a > 1", "decay_on": "t.", "half_life": "1 day"}]}'::icp_profile;
SELECT icp_fit('{"a": 2, "t": 5}'::jsonb,
               '{"criteria": [{"rule": "a > 1", "decay_on": "t", "half_life": "1 day"}]}'::icp_profile);
SELECT icp_fit('{"a": 2, "t": "yesterday-ish"}'::jsonb,
               '{"criteria": [{"rule": "a > 1", "decay_on": "t", "half_life": "1 day"}]}'::icp_profile);
\set SHOW_CONTEXT errors

-- the profile history keeps values with their decay
SELECT count(*) > 0 AS kept FROM icp_profile_versions
WHERE profile = 'hot-leads' AND value::text LIKE '%"half_life": "P14D"%';

DROP TABLE leads_activity, dec_tz;
DELETE FROM icp_profiles WHERE name = 'hot-leads';
SELECT FROM setval('icp_criteria_id_seq', :dec_seq_last, :'dec_seq_called'::boolean);
