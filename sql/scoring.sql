-- Scoring: icp_fit, icp_grade, icp_score, icp_explain (README, Scoring)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;
SET extra_float_digits = 0;
-- criterion ids appear in the output: start them at a known value
SELECT FROM setval('icp_criteria_id_seq', 1, false);

CREATE TABLE leads (
    id int PRIMARY KEY,
    name text,
    industry text,
    employees int,
    country text,
    tech_stack text[]
);
INSERT INTO leads VALUES
    (1, 'Acme GmbH',   'software', 120,  'DE', '{salesforce,slack}'),
    (2, 'Bolt SARL',   'retail',   300,  'FR', NULL),
    (3, 'Tiny AG',     'software', 8,    'CH', '{hubspot}'),
    (4, 'Ghost Ltd',   NULL,       NULL, NULL, NULL),
    (5, 'Fin Corp',    'fintech',  900,  'AT', '{salesforce}');

-- a mid-market SaaS profile: software and fintech companies of 50-1000 staff,
-- preferably in DE, AT or CH and on Salesforce; the staff range is a knock-out
INSERT INTO icp_profiles (name, description) VALUES ('mid-market-saas', 'EU SaaS, 50-1000 staff');
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('mid-market-saas', 'industry IN (''software'', ''fintech'')', 30, false),
    ('mid-market-saas', 'employees BETWEEN 50 AND 1000',         25, true),
    ('mid-market-saas', 'country IN (''DE'', ''AT'', ''CH'')',      10, false),
    ('mid-market-saas', 'tech_stack CONTAINS ''salesforce''',      10, false);

-- the only active profile is the default one
SELECT name, icp_fit(l) AS fit, icp_grade(l) AS grade
FROM leads l ORDER BY fit DESC NULLS LAST, id;

-- everything at once; Tiny AG fails the required size criterion
SELECT name, (icp_score(l, 'mid-market-saas')).* FROM leads l ORDER BY id;

-- why Bolt SARL scores 38.5: unknown tech stack does not count (missing = ignore)
SELECT criterion, rule, weight, required, outcome, points, value
FROM icp_explain((SELECT l FROM leads l WHERE id = 2), 'mid-market-saas');

-- with missing = penalize the unknown criterion counts as not met
UPDATE icp_profiles SET missing = 'penalize' WHERE name = 'mid-market-saas';
SELECT name, icp_fit(l, 'mid-market-saas') AS fit, icp_grade(l, 'mid-market-saas') AS grade
FROM leads l ORDER BY id;
UPDATE icp_profiles SET missing = 'ignore' WHERE name = 'mid-market-saas';

-- grade thresholds are per profile
UPDATE icp_profiles SET grade_thresholds = '{90,70,30}' WHERE name = 'mid-market-saas';
SELECT name, icp_grade(l, 'mid-market-saas') FROM leads l ORDER BY id;
UPDATE icp_profiles SET grade_thresholds = DEFAULT WHERE name = 'mid-market-saas';

-- negative weights lower the fit, clamped at 0
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('mid-market-saas', 'country = ''FR''', -50);
SELECT name, icp_fit(l, 'mid-market-saas') FROM leads l ORDER BY id;
DELETE FROM icp_criteria WHERE profile = 'mid-market-saas' AND weight < 0;

-- jsonb accounts score like rows
SELECT l.name, icp_fit(to_jsonb(l), 'mid-market-saas') AS fit_jsonb,
       icp_fit(l, 'mid-market-saas') AS fit_row
FROM leads l ORDER BY id;
SELECT icp_fit('{"industry": "software", "employees": 75, "country": "DE"}'::jsonb, 'mid-market-saas');
SELECT * FROM icp_explain('{"industry": "fintech", "employees": "200", "tech_stack": ["salesforce"]}'::jsonb,
                          'mid-market-saas');

-- a logistic profile: fit = 100 * sigmoid(bias + weights of true criteria)
INSERT INTO icp_profiles (name, model, bias) VALUES ('learned', 'logistic', -2);
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('learned', 'industry = ''software''', 1.5),
    ('learned', 'employees >= 100', 1.0),
    ('learned', 'tech_stack CONTAINS ''hubspot''', -0.5);
SELECT name, round(icp_fit(l, 'learned')::numeric, 4) AS fit,
       round((100 / (1 + exp(-(-2 + CASE WHEN industry = 'software' THEN 1.5 ELSE 0 END
                                   + CASE WHEN employees >= 100 THEN 1.0 ELSE 0 END
                                   + CASE WHEN tech_stack @> '{hubspot}' THEN -0.5 ELSE 0 END))))::numeric, 4) AS by_hand
FROM leads l ORDER BY id;

-- profile values: the whole profile as one value, scored without table access
SELECT icp_profile('learned');
SELECT name, icp_fit(l, p) AS fit
FROM leads l, (SELECT icp_profile('mid-market-saas')) AS v(p) ORDER BY id;
SELECT icp_profile('learned')::text = icp_profile('learned')::text::icp_profile::text AS round_trip;
SELECT icp_fit('{"employees": 500}'::jsonb,
               '{"model": "points", "criteria": [{"rule": "employees > 100", "weight": 2},
                                                  {"rule": "country = ''DE''", "weight": 1}]}'::icp_profile);

-- a session sees its own profile edits at once
BEGIN;
UPDATE icp_criteria SET weight = 100 WHERE profile = 'mid-market-saas' AND rule = 'country IN (''DE'', ''AT'', ''CH'')';
SELECT name, icp_fit(l, 'mid-market-saas') FROM leads l WHERE id = 2;
ROLLBACK;
SELECT name, icp_fit(l, 'mid-market-saas') FROM leads l WHERE id = 2;

-- without a default and with several active profiles a name is needed
SELECT icp_fit(l) FROM leads l WHERE id = 1;
UPDATE icp_profiles SET is_default = true WHERE name = 'mid-market-saas';
SELECT icp_fit(l) FROM leads l WHERE id = 1;

-- errors
\set VERBOSITY default
SELECT icp_fit(l, 'no-such-profile') FROM leads l;
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('learned', 'employes > 10', 1);
SELECT icp_fit(l, 'learned') FROM leads l;
DELETE FROM icp_criteria WHERE rule = 'employes > 10';
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('learned', 'employees > ''many''', 1);
SELECT icp_fit(l, 'learned') FROM leads l;
DELETE FROM icp_criteria WHERE rule = 'employees > ''many''';
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('learned', 'employees LIKE ''1%''', 1);
SELECT icp_fit(l, 'learned') FROM leads l;
DELETE FROM icp_criteria WHERE rule = 'employees LIKE ''1%''';
SELECT icp_fit('[1, 2]'::jsonb, 'learned');
SELECT icp_fit('{"employees": "lots"}'::jsonb, 'learned');
\set VERBOSITY terse
SELECT icp_fit(l, 'learned') IS NOT NULL AS works_again FROM leads l WHERE id = 1;

-- NULL in, NULL out
SELECT icp_fit(NULL::leads, 'learned'), icp_fit(l, NULL::text) FROM leads l WHERE id = 1;

DROP TABLE leads;
DELETE FROM icp_profiles WHERE name IN ('mid-market-saas', 'learned');
