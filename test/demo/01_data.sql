-- The demo's data: 50,000 accounts with firmographics, technographics and
-- behaviour, and two years of deals won or lost according to a hidden true
-- profile plus noise.  Deterministic (fixed seed).
\set QUIET on
SET client_min_messages = warning;
SELECT setseed(0.1234) \gset

CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    industry text,
    employees int,
    revenue numeric,
    country text,
    funding_stage text,
    growth float8,
    tech_stack text[],
    web_visits_30d int,
    last_activity date
);

INSERT INTO accounts
SELECT g,
       (ARRAY['Acme', 'Blue', 'Nord', 'Alpen', 'Data', 'Cloud', 'Fin', 'Hyper', 'Smart', 'Green',
              'Rhein', 'Helvet', 'Vienna', 'Bright', 'Quant'])[1 + floor(random() * 15)::int]
       || (ARRAY['soft', 'works', 'labs', 'logic', 'pay', 'ware', 'ly', 'io', 'hub', 'stack'])[1 + floor(random() * 10)::int]
       || ' ' || (ARRAY['GmbH', 'AG', 'Ltd', 'Inc', 'SAS', 'BV', 'AB'])[1 + floor(random() * 7)::int]
       || ' #' || g,
       (ARRAY['software', 'software', 'fintech', 'retail', 'manufacturing', 'healthcare',
              'media', 'logistics', 'education', 'insurance'])[1 + floor(random() * 10)::int],
       CASE WHEN random() < 0.04 THEN NULL ELSE greatest(1, floor(exp(random() * 9.2)))::int END,
       NULL,
       (ARRAY['DE', 'DE', 'AT', 'CH', 'FR', 'NL', 'GB', 'US', 'US', 'SE', 'ES', 'PL'])[1 + floor(random() * 12)::int],
       CASE WHEN random() < 0.15 THEN NULL
            ELSE (ARRAY['bootstrapped', 'pre-seed', 'seed', 'series-a', 'series-b', 'series-c', 'public'])[1 + floor(random() * 7)::int] END,
       round((random() * 1.2 - 0.2)::numeric, 2)::float8,
       CASE WHEN random() < 0.08 THEN NULL
            ELSE (SELECT coalesce(array_agg(t), '{}') FROM unnest(ARRAY['salesforce', 'hubspot', 'slack', 'jira',
                  'zendesk', 'stripe', 'snowflake', 'notion']) t WHERE random() < 0.25 + 0 * g) END,
       floor(random() * random() * 200)::int,
       CASE WHEN random() < 0.1 THEN NULL ELSE current_date - floor(random() * 365)::int END
FROM generate_series(1, 50000) g;
UPDATE accounts SET revenue = round((employees * (60000 + random() * 140000))::numeric, -3);

-- two years of deals: the hidden truth (that sales only half knows) decides
CREATE TABLE deals (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts,
    created date NOT NULL,
    won boolean NOT NULL
);
INSERT INTO deals (account_id, created, won)
SELECT a.id, current_date - 730 + floor(random() * 700)::int,
       random() < 1 / (1 + exp(-(-2.6
            + CASE WHEN a.industry IN ('software', 'fintech') THEN 1.1 ELSE 0 END
            + CASE WHEN a.employees BETWEEN 50 AND 2000 THEN 1.0 ELSE 0 END
            + CASE WHEN a.country IN ('DE', 'AT', 'CH') THEN 0.6 ELSE 0 END
            + CASE WHEN a.tech_stack @> '{salesforce}' THEN 0.8 ELSE 0 END
            + CASE WHEN a.tech_stack @> '{snowflake}' THEN 0.5 ELSE 0 END
            + CASE WHEN a.funding_stage IN ('pre-seed', 'seed') THEN -1.2 ELSE 0 END
            + CASE WHEN a.web_visits_30d > 40 THEN 0.4 ELSE 0 END)))
FROM accounts a
WHERE random() < 0.45;
ANALYZE accounts;
ANALYZE deals;

-- the history to learn from: one row per deal with the account's attributes
CREATE VIEW deal_history AS
SELECT d.id AS deal_id, d.created, d.won, a.industry, a.employees, a.revenue, a.country,
       a.funding_stage, a.tech_stack, a.web_visits_30d, a.growth, a.last_activity
FROM deals d JOIN accounts a ON a.id = d.account_id;
-- learn from the older deals, validate on the last six months
CREATE VIEW deals_train AS SELECT * FROM deal_history WHERE created < current_date - 180;
CREATE VIEW deals_recent AS SELECT * FROM deal_history WHERE created >= current_date - 180;
RESET client_min_messages;
\set QUIET off
