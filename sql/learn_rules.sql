-- icp_learn with the option interactions: AND-rules of up to three
-- conditions, boosted on the residuals of the one-attribute fit (README,
-- Learning).  Every rule's support in its note must be what scoring the rule
-- gives on the same rows (SQL's NULL semantics included), and the training
-- AUC icp_learn reports must be the AUC icp_evaluate and a plain SQL
-- Mann-Whitney computation give for the written profile.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;
SELECT last_value AS criteria_id_last, is_called AS criteria_id_called FROM icp_criteria_id_seq \gset

SELECT setseed(0.75);
CREATE TABLE rules_history AS
SELECT g AS id,
       (ARRAY['software', 'fintech', 'retail', 'manufacturing', 'media', NULL])[1 + floor(random() * 6)::int] AS industry,
       (5 + floor(exp(random() * 7)))::int AS employees,
       CASE WHEN random() < 0.2 THEN NULL ELSE round((random() * 100)::numeric, 2) END AS engagement,
       ARRAY(SELECT t FROM unnest(ARRAY['salesforce', 'hubspot', 'slack', NULL]) AS t
              WHERE random() < 0.35 + 0 * g) AS tech_stack,
       CASE WHEN random() < 0.1 THEN NULL ELSE random() < 0.4 END AS pricing_visit,
       random() AS u,
       CASE WHEN random() < 0.1 THEN NULL ELSE current_date - floor(random() * 500)::int END AS last_visit,
       timestamptz '2005-01-01 00:00+00' + random() * interval '7000 days' AS founded
  FROM generate_series(1, 6000) AS g;
-- won depends on combinations: mid-sized software companies, engaged
-- visitors of the pricing page
ALTER TABLE rules_history ADD COLUMN won boolean;
UPDATE rules_history SET won = u < 1 / (1 + exp(-(-1.6
    + CASE WHEN industry = 'software' AND employees BETWEEN 50 AND 499 THEN 1.8 ELSE 0 END
    + CASE WHEN pricing_visit AND engagement >= 60 THEN 1.4 ELSE 0 END
    + CASE WHEN 'salesforce' = ANY (tech_stack) THEN 0.3 ELSE 0 END
    + CASE WHEN last_visit > current_date - 30 THEN 0.8 ELSE 0 END
    + CASE WHEN founded < '2010-01-01' THEN 0.4 ELSE 0 END)));
CREATE TABLE rules_train AS SELECT * FROM rules_history WHERE id % 5 <> 0;
CREATE TABLE rules_test AS SELECT * FROM rules_history WHERE id % 5 = 0;
\set attrs 'ARRAY[''industry'', ''employees'', ''engagement'', ''tech_stack'', ''pricing_visit'', ''last_visit'', ''founded'']'

SELECT criteria <= 200 AS within_default_max, criteria > 10 AS learned
  FROM icp_learn('rules-int', 'rules_train', 'won', :attrs, '{"interactions": true}');
SELECT criteria > 10 AS single_learned
  FROM icp_learn('rules-single', 'rules_train', 'won', :attrs);

-- Rules combine attributes; the planted combinations are found (software
-- by size: the small ones lose; engaged visitors of the pricing page win).
SELECT count(*) FILTER (WHERE cardinality(icp_rule_attributes(rule)) >= 2) > 0 AS has_combinations,
       bool_or(rule::text LIKE '%industry = ''software''%' AND rule::text LIKE '%employees%')
           AS software_by_size,
       bool_or(rule::text LIKE '%engagement >=%' AND rule::text LIKE '%pricing_visit IS TRUE%' AND weight > 0)
           AS engaged_pricing,
       bool_and(note ~ '^learned: support [0-9]+, won rate [0-9.]+$') AS noted
  FROM icp_criteria WHERE profile = 'rules-int';
-- Dates become bins by date and recency (WITHIN) features.
SELECT bool_or(rule::text LIKE 'last_visit WITHIN ''30 days''' AND weight > 0) AS recent_visit,
       bool_or(rule::text ~ '^founded < ''20[0-9][0-9]-[0-9][0-9]-01 00:00:00\+00''$') AS founded_before
  FROM icp_criteria WHERE profile = 'rules-single';

-- Each criterion's support is the number of training rows its rule matches
-- when scored, and its won rate theirs.
CREATE FUNCTION rules_notes_match(p text) RETURNS TABLE (criteria bigint, support_matches bigint,
    won_rate_matches bigint)
LANGUAGE sql AS $$
SELECT count(*),
       count(*) FILTER (WHERE s.matched = substring(c.note FROM 'support ([0-9]+)')::bigint),
       count(*) FILTER (WHERE abs(s.rate - substring(c.note FROM 'won rate ([0-9.]+)')::float8) <= 0.0005)
  FROM icp_criteria c
  JOIN (SELECT e.criterion, count(*) FILTER (WHERE e.outcome = 'match') AS matched,
               avg(t.won::int) FILTER (WHERE e.outcome = 'match') AS rate
          FROM rules_train t, icp_explain(t, p) AS e
         GROUP BY e.criterion) s ON s.criterion = c.id
 WHERE c.profile = p
$$;
SELECT criteria > 10 AS checked, support_matches = criteria AS supports_match,
       won_rate_matches = criteria AS won_rates_match
  FROM rules_notes_match('rules-int');

-- The training AUC icp_learn reports is the written profile's AUC on the
-- same rows (up to the rounding of fits to float8 percentages), and
-- icp_evaluate's AUC is exactly the plain SQL Mann-Whitney one (ties half).
CREATE FUNCTION rules_sql_auc(profile text, src regclass) RETURNS float8
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a float8;
BEGIN
    EXECUTE format($q$
        WITH s AS (SELECT icp_fit(h, %L) AS fit, won FROM %s h WHERE won IS NOT NULL),
             r AS (SELECT won, rank() OVER (ORDER BY fit) AS lo,
                          count(*) OVER (PARTITION BY fit) AS ties FROM s)
        SELECT ((sum(lo + (ties - 1) / 2.0) FILTER (WHERE won)
                 - count(*) FILTER (WHERE won) * (count(*) FILTER (WHERE won) + 1) / 2.0)
                / (count(*) FILTER (WHERE won) * count(*) FILTER (WHERE NOT won)))::float8
          FROM r$q$, profile, src) INTO a;
    RETURN a;
END
$$;
CREATE TABLE rules_learned AS
SELECT * FROM icp_learn('rules-int', 'rules_train', 'won', :attrs, '{"interactions": true}');
SELECT abs(l.train_auc - e.auc) < 1e-5 AS train_auc_is_evaluate_auc,
       abs(e.auc - rules_sql_auc('rules-int', 'rules_train')) < 1e-12 AS evaluate_auc_is_sql_auc,
       abs(t.auc - rules_sql_auc('rules-int', 'rules_test')) < 1e-12 AS holdout_auc_is_sql_auc
  FROM rules_learned l, icp_evaluate('rules-int', 'rules_train', 'won') e,
       icp_evaluate('rules-int', 'rules_test', 'won') t;
-- a points profile with many tied fits: still the SQL AUC
INSERT INTO icp_profiles (name) VALUES ('rules-ties');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('rules-ties', 'industry = ''software''', 10), ('rules-ties', 'pricing_visit IS TRUE', 10);
SELECT abs(auc - rules_sql_auc('rules-ties', 'rules_test')) < 1e-12 AS tied_auc_is_sql_auc
  FROM icp_evaluate('rules-ties', 'rules_test', 'won');

-- On new rows the combinations rank better than single attributes can.
SELECT (SELECT auc FROM icp_evaluate('rules-int', 'rules_test', 'won'))
     > (SELECT auc FROM icp_evaluate('rules-single', 'rules_test', 'won')) + 0.01 AS interactions_help;

-- max_criteria bounds the profile, with and without interactions.
SELECT criteria <= 12 AS at_most_12
  FROM icp_learn('rules-small', 'rules_train', 'won', :attrs, '{"interactions": true, "max_criteria": 12}');
SELECT count(*) <= 12 AS written_at_most_12 FROM icp_criteria WHERE profile = 'rules-small';
-- (the one-attribute criteria were pruned before rules were added: the
-- notes still match the rows)
SELECT criteria > 0 AS checked, support_matches = criteria AS supports_match,
       won_rate_matches = criteria AS won_rates_match
  FROM rules_notes_match('rules-small');
SELECT criteria <= 5 AS at_most_5
  FROM icp_learn('rules-small', 'rules_train', 'won', :attrs, '{"max_criteria": 5}');

-- The same rows in another order give the same rules and weights.
CREATE TABLE rules_shuffled AS SELECT * FROM rules_train ORDER BY md5(u::text);
SELECT criteria FROM icp_learn('rules-int-2', 'rules_shuffled', 'won', :attrs, '{"interactions": true}') \gset
SELECT NOT EXISTS (
         (SELECT rule::text, weight, note FROM icp_criteria WHERE profile = 'rules-int'
          EXCEPT SELECT rule::text, weight, note FROM icp_criteria WHERE profile = 'rules-int-2')
         UNION ALL
         (SELECT rule::text, weight, note FROM icp_criteria WHERE profile = 'rules-int-2'
          EXCEPT SELECT rule::text, weight, note FROM icp_criteria WHERE profile = 'rules-int'))
       AND (SELECT bias FROM icp_profiles WHERE name = 'rules-int')
         = (SELECT bias FROM icp_profiles WHERE name = 'rules-int-2') AS same_profile;

-- Dates before the common era and far ahead are written as the column type
-- reads them ('0040-01-01 BC'), and match the rows they counted.
CREATE TABLE rules_dates AS
SELECT g, date '0100-01-01 BC' + g * 37 AS d,
       timestamptz '0100-01-01 00:00+00 BC' + g * interval '37 days' AS ts,
       timestamp '9000-01-01' + g * interval '500 days' AS far,
       g % 3 = 0 OR g % 7 = 0 AS won
  FROM generate_series(1, 3000) AS g;
SELECT criteria > 5 AS learned
  FROM icp_learn('rules-dates', 'rules_dates', 'won', ARRAY['d', 'ts', 'far'], '{"interactions": true}');
SELECT bool_or(rule::text LIKE '% BC''%') AS has_bc_bounds,
       bool_or(rule::text ~ '''[0-9]{5}-') AS has_far_bounds
  FROM icp_criteria WHERE profile = 'rules-dates';
SELECT count(*) > 5 AS checked,
       count(*) FILTER (WHERE substring(c.note FROM 'support ([0-9]+)')::bigint = s.matched) = count(*)
           AS supports_match
  FROM icp_criteria c
  JOIN (SELECT e.criterion, count(*) FILTER (WHERE e.outcome = 'match') AS matched
          FROM rules_dates t, icp_explain(t, 'rules-dates') AS e
         GROUP BY e.criterion) s ON s.criterion = c.id
 WHERE c.profile = 'rules-dates';

-- Bad option values are errors.
SELECT * FROM icp_learn('rules-bad', 'rules_train', 'won', NULL, '{"interactions": "yes"}');
SELECT * FROM icp_learn('rules-bad', 'rules_train', 'won', NULL, '{"max_criteria": 0}');
SELECT * FROM icp_learn('rules-bad', 'rules_train', 'won', NULL, '{"max_criteria": 2.5}');

DELETE FROM icp_profiles WHERE name LIKE 'rules-%';
DROP TABLE rules_history, rules_train, rules_test, rules_learned, rules_shuffled, rules_dates;
DROP FUNCTION rules_sql_auc(text, regclass);
DROP FUNCTION rules_notes_match(text);
SELECT setval('icp_criteria_id_seq', :criteria_id_last, :'criteria_id_called'::boolean) IS NOT NULL AS sequence_restored;
