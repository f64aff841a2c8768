-- The examples of docs/learn.md, run as written.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

SELECT setseed(0.75);
CREATE TABLE leads_history AS
SELECT g AS id,
       (ARRAY['software', 'fintech', 'retail', 'manufacturing', 'media'])[1 + floor(random() * 5)::int] AS industry,
       (5 + floor(exp(random() * 7)))::int AS employees,
       (ARRAY['DE', 'AT', 'CH', 'FR', 'US', 'GB'])[1 + floor(random() * 6)::int] AS country,
       ARRAY(SELECT t FROM unnest(ARRAY['salesforce', 'hubspot', 'slack']) AS t
              WHERE random() < 0.3 + 0 * g) AS tech_stack,
       CASE WHEN random() < 0.3 THEN NULL ELSE round((random() * 1e7)::numeric, 2) END AS funding
  FROM generate_series(1, 6000) AS g;
ALTER TABLE leads_history ADD COLUMN won boolean;
UPDATE leads_history SET won = random() < 1 / (1 + exp(-(-1.4
    + CASE industry WHEN 'software' THEN 1.1 WHEN 'retail' THEN -0.7 ELSE 0 END
    + CASE WHEN employees BETWEEN 50 AND 499 THEN 0.8 ELSE 0 END
    + CASE WHEN country IN ('DE', 'AT', 'CH') THEN 0.5 ELSE 0 END
    + CASE WHEN 'salesforce' = ANY (tech_stack) THEN 0.6 ELSE 0 END
    + CASE WHEN funding IS NULL THEN -0.4 ELSE 0 END)));
-- The holdout split follows the order icp_learn reads the rows in; where an
-- UPDATE puts new row versions differs between major versions: store the
-- rows in id order so that every version learns the same profile.
ALTER TABLE leads_history ADD PRIMARY KEY (id);
CLUSTER leads_history USING leads_history_pkey;
INSERT INTO icp_profiles (name, description) VALUES ('our-hypothesis', 'what sales believes');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('our-hypothesis', 'industry IN (''software'', ''fintech'')', 40),
    ('our-hypothesis', 'employees >= 200', 30),
    ('our-hypothesis', 'country IN (''DE'', ''AT'', ''CH'')', 30);

-- 1. Learn
SELECT rows_used, positives, holdout_rows, criteria,
       round(train_auc::numeric, 2) AS train_auc, round(holdout_auc::numeric, 2) AS holdout_auc
  FROM icp_learn('learned-2024', 'leads_history', 'won',
                 options => '{"holdout": 0.2}');

-- 2. Evaluate, and compare with your hypothesis
SELECT p AS profile, rows, positives, round(auc::numeric, 3) AS auc,
       round(log_loss::numeric, 3) AS log_loss,
       round(lift_top_decile::numeric, 2) AS lift_top_decile,
       round(precision_a::numeric, 2) AS precision_a, round(recall_a::numeric, 2) AS recall_a
  FROM unnest(ARRAY['our-hypothesis', 'learned-2024']) AS p,
       icp_evaluate(p, 'leads_history', 'won');

-- 3. The lift table
SELECT bucket, rows, positives, round(rate::numeric, 2) AS rate, round(lift::numeric, 2) AS lift,
       round(cumulative_gain::numeric, 2) AS cumulative_gain
  FROM icp_lift('learned-2024', 'leads_history', 'won', 5);

-- 4. Edit the learned profile
SELECT rule, weight, note FROM icp_criteria
 WHERE profile = 'learned-2024' ORDER BY abs(weight) DESC LIMIT 3;

-- keep what sales agrees with: drop a criterion, round a weight, add a rule
DELETE FROM icp_criteria WHERE profile = 'learned-2024' AND rule = 'country = ''US''';
UPDATE icp_criteria SET weight = 1.0
 WHERE profile = 'learned-2024' AND rule = 'tech_stack CONTAINS ''salesforce''';
INSERT INTO icp_criteria (profile, rule, weight, note)
VALUES ('learned-2024', 'industry = ''fintech'' AND employees >= 100', 0.3, 'sales: fintech scale-ups');
UPDATE icp_profiles SET grade_thresholds = '{60,45,30}' WHERE name = 'learned-2024';

-- and check the edit did not cost accuracy
SELECT round(auc::numeric, 2) AS auc FROM icp_evaluate('learned-2024', 'leads_history', 'won');

DELETE FROM icp_profiles WHERE name IN ('learned-2024', 'our-hypothesis');
DROP TABLE leads_history;
