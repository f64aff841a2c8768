-- Account roll-up: contact (persona) fits rolled up to their accounts in
-- plain SQL, and segmentation by account (README, Account roll-up)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;
SET extra_float_digits = 0;
-- this file adds criteria: put the id sequence back at the end
SELECT last_value AS rup_seq_last, is_called AS rup_seq_called FROM icp_criteria_id_seq \gset

CREATE TABLE accounts (id int PRIMARY KEY, name text, industry text, employees int, country text);
CREATE TABLE contacts (id int PRIMARY KEY, account_id int REFERENCES accounts, name text,
                       title text, department text, seniority text, email_opt_in boolean);
INSERT INTO accounts VALUES
    (1, 'Acme GmbH', 'software', 300,  'DE'),
    (2, 'Bolt SARL', 'retail',   80,   'FR'),
    (3, 'Fin Corp',  'fintech',  900,  'AT'),
    (4, 'Ghost Ltd', 'software', 2000, 'US');
INSERT INTO contacts VALUES
    (1, 1, 'Ana',  'VP Sales',            'sales',       'vp',      true),
    (2, 1, 'Ben',  'Sales Rep',           'sales',       'staff',   true),
    (3, 1, 'Cleo', 'Head of RevOps',      'revops',      'head',    NULL),
    (4, 2, 'Dan',  'Store Manager',       'operations',  'manager', false),
    (5, 2, 'Eve',  'CFO',                 'finance',     'cxo',     true),
    (6, 3, 'Finn', 'Director of Sales',   'sales',       'director', NULL),
    (7, 3, 'Gia',  NULL,                  NULL,          NULL,      NULL);
-- (Ghost Ltd has no contacts)

-- the company profile and the buyer persona
INSERT INTO icp_profiles (name) VALUES ('rollup-company'), ('rollup-buyer');
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('rollup-company', 'industry IN (''software'', ''fintech'')', 40, false),
    ('rollup-company', 'employees BETWEEN 50 AND 1000', 40, true),
    ('rollup-company', 'country IN (''DE'', ''AT'', ''CH'')', 20, false),
    ('rollup-buyer', 'department IN (''sales'', ''revops'')', 40, false),
    ('rollup-buyer', 'seniority IN (''vp'', ''head'', ''director'', ''cxo'')', 40, false),
    ('rollup-buyer', 'email_opt_in IS TRUE', 20, false);

-- each contact's persona score, once
SELECT c.account_id, c.name, s.fit, s.grade, s.coverage
FROM contacts c, icp_score(c, 'rollup-buyer') s ORDER BY c.id;

-- roll-up per account: the best contact, the coverage-weighted average, and
-- whether the account has at least one A contact (score each contact once)
WITH scored AS (
    SELECT c.account_id, s.fit, s.grade, s.coverage
    FROM contacts c, icp_score(c, 'rollup-buyer') s
)
SELECT a.name,
       icp_fit(a, 'rollup-company') AS account_fit,
       max(s.fit) AS best_contact_fit,
       round((sum(s.fit * s.coverage) / nullif(sum(s.coverage) FILTER (WHERE s.fit IS NOT NULL), 0))::numeric, 2)
           AS weighted_contact_fit,
       count(s.fit) AS scored_contacts,
       coalesce(bool_or(s.grade = 'A'), false) AS has_a_contact
FROM accounts a LEFT JOIN scored s ON s.account_id = a.id
GROUP BY a.id ORDER BY a.id;

-- the same roll-up by hand for one account, from the contacts' own fits
SELECT max(icp_fit(c, 'rollup-buyer')) AS best,
       count(*) FILTER (WHERE icp_grade(c, 'rollup-buyer') = 'A') AS a_contacts
FROM contacts c WHERE c.account_id = 1;

-- accounts to work now: a good company fit and a buyer to call
SELECT a.name, icp_grade(a, 'rollup-company') AS account_grade, b.name AS call_first, b.fit
FROM accounts a
JOIN LATERAL (
    SELECT c.name, icp_fit(c, 'rollup-buyer') AS fit
    FROM contacts c WHERE c.account_id = a.id
    ORDER BY fit DESC NULLS LAST, c.id LIMIT 1
) b ON true
WHERE icp_grade(a, 'rollup-company') IN ('A', 'B') AND b.fit IS NOT NULL
ORDER BY b.fit DESC;

-- segmentation by account: every account's segment, with its contacts counted
SELECT coalesce(icp_segment(a, ARRAY['rollup-company']), '(none)') AS segment,
       count(DISTINCT a.id) AS accounts,
       count(c.id) AS contacts,
       count(c.id) FILTER (WHERE icp_grade(c, 'rollup-buyer') = 'A') AS a_contacts
FROM accounts a LEFT JOIN contacts c ON c.account_id = a.id
GROUP BY 1 ORDER BY 1;

DROP TABLE contacts, accounts;
DELETE FROM icp_profiles WHERE name LIKE 'rollup-%';
SELECT FROM setval('icp_criteria_id_seq', :rup_seq_last, :'rup_seq_called'::boolean);
