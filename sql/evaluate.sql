-- icp_evaluate and icp_lift: validate a profile (learned or hand-written) on
-- won/lost history.  The AUC is the Mann-Whitney statistic (ties count
-- half) and must equal the plain SQL rank computation.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

SELECT setseed(0.25);
CREATE TABLE eval_history AS
SELECT g AS id,
       (ARRAY['software', 'fintech', 'retail', 'media'])[1 + floor(random() * 4)::int] AS industry,
       (10 + floor(random() * 990))::int AS employees,
       (ARRAY['DE', 'FR', 'US'])[1 + floor(random() * 3)::int] AS country
  FROM generate_series(1, 4000) AS g;
ALTER TABLE eval_history ADD COLUMN won boolean;
UPDATE eval_history SET won = random() < 1 / (1 + exp(-(-1.2
    + CASE industry WHEN 'software' THEN 1.0 WHEN 'retail' THEN -0.7 ELSE 0 END
    + CASE WHEN employees BETWEEN 100 AND 500 THEN 0.8 ELSE 0 END
    + CASE WHEN country = 'DE' THEN 0.5 ELSE 0 END)));
-- some rows have no outcome yet
UPDATE eval_history SET won = NULL WHERE id % 50 = 0;

-- The team's hypothesis, written by hand ...
INSERT INTO icp_profiles (name, description) VALUES ('eval-hypothesis', 'software in DE, mid-sized');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('eval-hypothesis', 'industry IN (''software'', ''fintech'')', 40),
    ('eval-hypothesis', 'employees BETWEEN 50 AND 1000', 30),
    ('eval-hypothesis', 'country = ''DE''', 30);
-- ... and the profile learned from the same history.
SELECT rows_used, positives, criteria FROM icp_learn('eval-learned', 'eval_history', 'won');

-- Compare them on the same history (log_loss only for logistic profiles).
SELECT p AS profile, rows, positives, round(auc::numeric, 3) AS auc,
       round(log_loss::numeric, 3) AS log_loss, round(lift_top_decile::numeric, 2) AS lift_top_decile,
       round(precision_a::numeric, 3) AS precision_a, round(recall_a::numeric, 3) AS recall_a,
       round(precision_ab::numeric, 3) AS precision_ab, round(recall_ab::numeric, 3) AS recall_ab
  FROM unnest(ARRAY['eval-hypothesis', 'eval-learned']) AS p,
       icp_evaluate(p, 'eval_history', 'won');

-- The AUC equals the Mann-Whitney statistic from plain SQL ranks.
CREATE FUNCTION eval_sql_auc(profile text) RETURNS float8
LANGUAGE sql STABLE AS $$
    WITH s AS (SELECT icp_fit(h, profile) AS fit, won FROM eval_history h WHERE won IS NOT NULL),
         r AS (SELECT won, rank() OVER (ORDER BY fit) AS lo,
                      count(*) OVER (PARTITION BY fit) AS ties FROM s)
    SELECT ((sum(lo + (ties - 1) / 2.0) FILTER (WHERE won)
             - count(*) FILTER (WHERE won) * (count(*) FILTER (WHERE won) + 1) / 2.0)
            / (count(*) FILTER (WHERE won) * count(*) FILTER (WHERE NOT won)))::float8
      FROM r
$$;
SELECT p AS profile, abs(e.auc - eval_sql_auc(p)) < 1e-12 AS auc_matches_sql
  FROM unnest(ARRAY['eval-hypothesis', 'eval-learned']) AS p,
       icp_evaluate(p, 'eval_history', 'won') AS e;

-- A 0/1 integer outcome gives the same figures.
ALTER TABLE eval_history ADD COLUMN won_int int;
UPDATE eval_history SET won_int = won::int;
SELECT (SELECT auc FROM icp_evaluate('eval-learned', 'eval_history', 'won_int'))
     = (SELECT auc FROM icp_evaluate('eval-learned', 'eval_history', 'won')) AS same_auc;

-- Precision and recall of grade A against a plain count.
SELECT abs(e.precision_a - (SELECT avg(won::int) FROM eval_history h
                             WHERE won IS NOT NULL AND icp_grade(h, 'eval-learned') = 'A')) < 1e-12
       AS precision_a_matches
  FROM icp_evaluate('eval-learned', 'eval_history', 'won') AS e;

-- The lift table: best fits first; rows with the same fit stay together.
SELECT bucket, rows, positives, round(rate::numeric, 3) AS rate, round(lift::numeric, 2) AS lift,
       round(cumulative_share::numeric, 3) AS cumulative_share,
       round(cumulative_gain::numeric, 3) AS cumulative_gain
  FROM icp_lift('eval-learned', 'eval_history', 'won');
-- A hand-written profile has few distinct fits: fewer, uneven buckets.
SELECT bucket, min_fit, max_fit, rows, positives, round(lift::numeric, 2) AS lift
  FROM icp_lift('eval-hypothesis', 'eval_history', 'won', 4);
-- Every row lands in exactly one bucket.
SELECT sum(rows) AS rows, sum(positives) AS positives, max(cumulative_gain) AS gain
  FROM icp_lift('eval-learned', 'eval_history', 'won', 7);

-- Errors carry SQLSTATEs.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
CREATE TABLE eval_bad (industry text, employees int, country text, won boolean, score int, label text);
INSERT INTO eval_bad VALUES ('media', 20, 'US', false, 0, 'yes'), ('retail', 30, 'FR', false, 2, 'no');
SELECT pg_temp.try(q) FROM unnest(ARRAY[
    $$SELECT * FROM icp_evaluate('eval-learned', 'eval_history', 'lost')$$,
    $$SELECT * FROM icp_evaluate('eval-learned', 'eval_bad', 'label')$$,
    $$SELECT * FROM icp_evaluate('eval-learned', 'eval_bad', 'won')$$,
    $$SELECT * FROM icp_evaluate('eval-learned', 'eval_bad', 'score')$$,
    $$SELECT * FROM icp_evaluate('no-such-profile', 'eval_history', 'won')$$,
    $$SELECT * FROM icp_lift('eval-learned', 'eval_history', 'won', 0)$$,
    $$SELECT * FROM icp_lift('eval-learned', 'eval_bad', 'score')$$,
    $$SELECT * FROM icp_lift('eval-learned', 'eval_history', 'lost')$$]) AS q;
UPDATE eval_bad SET won = true;
SELECT pg_temp.try($$SELECT * FROM icp_evaluate('eval-learned', 'eval_bad', 'won')$$);
DELETE FROM eval_bad;
SELECT pg_temp.try($$SELECT * FROM icp_evaluate('eval-learned', 'eval_bad', 'won')$$);

DELETE FROM icp_profiles WHERE name IN ('eval-hypothesis', 'eval-learned');
DROP FUNCTION eval_sql_auc(text);
DROP TABLE eval_history, eval_bad;
