-- icp_learn does not depend on the order of its rows: the same rows in
-- another physical order, or as a UNION ALL of two halves, give exactly the
-- same profile (bias, grade thresholds, criteria with their weights, notes
-- and order), also with a holdout split and a sample below the row count.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
SELECT last_value AS criteria_id_last, is_called AS criteria_id_called FROM icp_criteria_id_seq \gset
SELECT setseed(0.25);
CREATE TABLE order_a AS
SELECT g AS id,
       (ARRAY['software', 'fintech', 'retail', 'manufacturing', 'healthcare'])[1 + floor(random() * 5)::int] AS industry,
       (5 + floor(exp(random() * 7)))::int AS employees,
       round((random() * 100)::numeric, 1) AS score,
       ARRAY(SELECT t FROM unnest(ARRAY['salesforce', 'hubspot', 'slack', 'sap']) AS t
              WHERE random() < 0.3 + 0 * g) AS tech_stack,
       CASE WHEN random() < 0.3 THEN NULL ELSE round((random() * 1e7)::numeric, 2) END AS funding,
       random() < 0.5 AS partner,
       random() AS u
  FROM generate_series(1, 12000) AS g;
-- an outcome that depends on the attributes, and duplicate rows
ALTER TABLE order_a ADD COLUMN won boolean;
UPDATE order_a SET won = u < 1 / (1 + exp(-(-1 + CASE industry WHEN 'software' THEN 1 ELSE 0 END
                                            + CASE WHEN employees BETWEEN 50 AND 499 THEN 0.8 ELSE 0 END
                                            + CASE WHEN partner THEN 0.4 ELSE 0 END)));
INSERT INTO order_a SELECT * FROM order_a WHERE id % 10 = 0;
-- the same rows in another physical order
CREATE TABLE order_b AS SELECT * FROM order_a ORDER BY md5(id::text || u::text);
SELECT (SELECT array_agg(id) FROM (SELECT id FROM order_a LIMIT 20) s)
    <> (SELECT array_agg(id) FROM (SELECT id FROM order_b LIMIT 20) s) AS order_differs;
-- the same rows as a UNION ALL of two halves, the second half first
CREATE VIEW order_c AS
SELECT * FROM order_a WHERE id % 2 = 1 UNION ALL SELECT * FROM order_a WHERE id % 2 = 0;

CREATE FUNCTION order_profile(p text) RETURNS TABLE (what text, value text)
LANGUAGE sql AS $$
    SELECT 'profile', format('%s %s %s', model, bias, grade_thresholds)
      FROM icp_profiles WHERE name = p
    UNION ALL
    SELECT 'criterion ' || row_number() OVER (ORDER BY id), format('%s | %s | %s', rule, weight, note)
      FROM icp_criteria WHERE profile = p
$$;
CREATE FUNCTION order_same(x text, y text) RETURNS boolean
LANGUAGE sql AS $$
    SELECT NOT EXISTS (SELECT * FROM order_profile(x) EXCEPT SELECT * FROM order_profile(y))
       AND NOT EXISTS (SELECT * FROM order_profile(y) EXCEPT SELECT * FROM order_profile(x))
$$;

-- plain, with a holdout, with a sample smaller than the table
CREATE TABLE order_runs AS
SELECT k, src, l.*
  FROM unnest(ARRAY['{}', '{"holdout": 0.25, "seed": 7}', '{"sample": 3000, "holdout": 0.2}'])
       WITH ORDINALITY AS o(opt, k),
       unnest(ARRAY['order_a', 'order_b', 'order_c']) AS src,
       LATERAL icp_learn(format('order-%s-%s', k, src), src::regclass, 'won',
                         ARRAY['industry', 'employees', 'score', 'tech_stack', 'funding', 'partner'],
                         opt::jsonb) AS l;
SELECT k, min(criteria) > 10 AS learned, bool_and(holdout_rows > 0) AS held_out,
       count(DISTINCT (rows_used, positives, holdout_rows, criteria, train_auc, holdout_auc)) AS summaries,
       order_same(format('order-%s-order_a', k), format('order-%s-order_b', k)) AS a_equals_b,
       order_same(format('order-%s-order_a', k), format('order-%s-order_c', k)) AS a_equals_union
  FROM order_runs GROUP BY k ORDER BY k;
-- the sample is smaller than the table
SELECT rows_used + holdout_rows < 13200 AS sampled FROM order_runs WHERE k = 3 AND src = 'order_a';

-- a different seed gives a different split (the seed is not ignored)
SELECT (SELECT holdout_auc FROM icp_learn('order-s1', 'order_a', 'won', NULL, '{"holdout": 0.25, "seed": 1}'))
    <> (SELECT holdout_auc FROM icp_learn('order-s2', 'order_a', 'won', NULL, '{"holdout": 0.25, "seed": 2}'))
       AS seed_matters;

DELETE FROM icp_profiles WHERE name LIKE 'order-%';
DROP VIEW order_c;
DROP TABLE order_a, order_b, order_runs;
DROP FUNCTION order_same(text, text);
DROP FUNCTION order_profile(text);
SELECT setval('icp_criteria_id_seq', :criteria_id_last, :'criteria_id_called'::boolean) IS NOT NULL AS sequence_restored;
