-- icp_learn: learn a logistic profile from won/lost history (README,
-- Learning).  The data is generated with a fixed seed from a known
-- logistic model, so the learned profile can be checked against the truth.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

-- 30,000 historical leads; won follows a known logistic model.
SELECT setseed(0.5);
CREATE TABLE learn_history AS
SELECT g AS id,
       (ARRAY['software', 'fintech', 'retail', 'manufacturing', 'healthcare'])[1 + floor(random() * 5)::int] AS industry,
       (5 + floor(exp(random() * 7)))::int AS employees,
       (ARRAY['DE', 'AT', 'CH', 'FR', 'US', 'GB'])[1 + floor(random() * 6)::int] AS country,
       ARRAY(SELECT t FROM unnest(ARRAY['salesforce', 'hubspot', 'slack', 'sap']) AS t
              WHERE random() < 0.3 + 0 * g) AS tech_stack,
       CASE WHEN random() < 0.3 THEN NULL ELSE round((random() * 1e7)::numeric, 2) END AS funding,
       random() < 0.5 AS partner,
       random() AS u
  FROM generate_series(1, 30000) AS g;
-- the true model's linear predictor, kept to compare with
ALTER TABLE learn_history ADD COLUMN true_eta float8;
UPDATE learn_history SET true_eta = -1.5
    + CASE industry WHEN 'software' THEN 1.2 WHEN 'retail' THEN -0.8 ELSE 0 END
    + CASE WHEN employees BETWEEN 50 AND 499 THEN 0.9 ELSE 0 END
    + CASE WHEN country IN ('DE', 'AT', 'CH') THEN 0.6 ELSE 0 END
    + CASE WHEN 'salesforce' = ANY (tech_stack) THEN 0.7 ELSE 0 END
    + CASE WHEN funding IS NULL THEN -0.5 ELSE 0 END
    + CASE WHEN partner THEN 0.4 ELSE 0 END;
ALTER TABLE learn_history ADD COLUMN won boolean;
-- (u, drawn with the row, not random() here: the order in which an UPDATE
-- meets the rows is the server's, and differs between major versions)
UPDATE learn_history SET won = u < 1 / (1 + exp(-true_eta));
-- train on two thirds, keep a third as the holdout; rows stored in id order,
-- as icp_learn reads them in storage order
CREATE TABLE learn_train AS SELECT * FROM learn_history WHERE id % 3 <> 0 ORDER BY id;
CREATE TABLE learn_test AS SELECT * FROM learn_history WHERE id % 3 = 0 ORDER BY id;
ALTER TABLE learn_train ADD PRIMARY KEY (id);

-- Learn from every column but the outcome, the key (id) and the helpers.
SELECT rows_used, positives, holdout_rows, criteria, round(train_auc::numeric, 2) AS train_auc
  FROM icp_learn('learned', 'learn_train', 'won',
                 ARRAY['industry', 'employees', 'country', 'tech_stack', 'funding', 'partner']);

-- A logistic profile: the intercept is the bias, grades cut at the top
-- 10 %, 30 % and 60 % of the training rows.
SELECT name, model, bias < 0 AS negative_bias, description,
       grade_thresholds[1] > grade_thresholds[2] AND grade_thresholds[2] > grade_thresholds[3] AS grades_descend
  FROM icp_profiles WHERE name = 'learned';

-- The criteria are readable rules, with their support in the note.
SELECT rule, weight > 0 AS positive, note LIKE 'learned: support %, won rate %' AS noted
  FROM icp_criteria WHERE profile = 'learned'
 ORDER BY id;

-- The recovered weights have the true signs.
SELECT rule, weight > 0 AS positive
  FROM icp_criteria
 WHERE profile = 'learned'
   AND rule::text IN ('industry = ''software''', 'industry = ''retail''',
                      'tech_stack CONTAINS ''salesforce''', 'funding IS NULL', 'partner IS TRUE')
 ORDER BY rule::text;
SELECT (SELECT avg(weight) FROM icp_criteria WHERE profile = 'learned'
         AND rule::text LIKE 'employees BETWEEN%' AND split_part(rule::text, ' ', 3)::int BETWEEN 50 AND 400)
     > (SELECT avg(weight) FROM icp_criteria WHERE profile = 'learned'
         AND rule::text LIKE 'employees%' AND rule::text NOT LIKE 'employees BETWEEN%')
       AS mid_sized_beats_the_extremes,
       (SELECT min(weight) FROM icp_criteria WHERE profile = 'learned' AND rule::text IN
          ('country = ''DE''', 'country = ''AT''', 'country = ''CH'''))
     > (SELECT max(weight) FROM icp_criteria WHERE profile = 'learned' AND rule::text IN
          ('country = ''FR''', 'country = ''US''', 'country = ''GB'''))
       AS dach_beats_the_rest;

-- Quality: on the holdout, the learned profile ranks within 0.01 AUC of the
-- true model on the same rows.
CREATE FUNCTION learn_auc(score float8[], y boolean[]) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$
    -- Mann-Whitney: average ranks, ties counted half
    WITH r AS (SELECT s, w, rank() OVER (ORDER BY s) AS lo, count(*) OVER (PARTITION BY s) AS ties
                 FROM unnest(score, y) AS u(s, w))
    SELECT (sum(lo + (ties - 1) / 2.0) FILTER (WHERE w)
            - count(*) FILTER (WHERE w) * (count(*) FILTER (WHERE w) + 1) / 2.0)
           / (count(*) FILTER (WHERE w) * count(*) FILTER (WHERE NOT w))
      FROM r
$$;
SELECT round(learned::numeric, 2) AS learned_auc, round(truth::numeric, 2) AS true_auc,
       abs(learned - truth) < 0.01 AS within_001
  FROM (SELECT (SELECT auc FROM icp_evaluate('learned', 'learn_test', 'won')) AS learned,
               learn_auc(array_agg(true_eta), array_agg(won)) AS truth
          FROM learn_test) AS q;

-- The holdout option keeps a share of the rows aside and reports its AUC.
SELECT rows_used + holdout_rows AS total, holdout_rows BETWEEN 4000 AND 5000 AS about_15_percent,
       abs(holdout_auc - train_auc) < 0.03 AS holdout_close_to_train
  FROM icp_learn('learned', 'learn_history', 'won',
                 ARRAY['industry', 'employees', 'country', 'tech_stack', 'funding', 'partner'],
                 '{"holdout": 0.15}');

-- Learning again replaces the criteria and keeps is_default and active.
UPDATE icp_profiles SET is_default = true, active = false WHERE name = 'learned';
SELECT criteria > 0 AS has_criteria
  FROM icp_learn('learned', 'learn_train', 'won', ARRAY['industry', 'partner']);
SELECT is_default, active, (SELECT count(*) FROM icp_criteria WHERE profile = 'learned') AS criteria
  FROM icp_profiles WHERE name = 'learned';
SELECT rule, weight > 0 AS positive FROM icp_criteria WHERE profile = 'learned' ORDER BY id;

-- Scoring with the learned profile: fit = 100 * sigmoid(bias + weights).
SELECT l.industry, l.partner, round(icp_fit(l, 'learned')::numeric, 1) AS fit
  FROM learn_test l WHERE l.id IN (3, 6, 9) ORDER BY l.id;

-- By default every usable column is an attribute except the outcome and
-- key-like columns (a unique index, or named id / ..._id); an integer 0/1
-- outcome works too; a column named "default" is quoted in its rules.
CREATE TABLE learn_odd (lead_id int, "default" text, "Size" int, won int, note jsonb);
INSERT INTO learn_odd
SELECT g, CASE WHEN g % 3 = 0 THEN 'yes' ELSE 'no' END, g % 7,
       CASE WHEN g % 3 = 0 AND g % 5 <> 0 OR g % 11 = 0 THEN 1 ELSE 0 END, '{}'
  FROM generate_series(1, 3000) AS g;
SELECT rows_used, positives, criteria > 0 AS has_criteria FROM icp_learn('odd', 'learn_odd', 'won');
SELECT rule FROM icp_criteria WHERE profile = 'odd' ORDER BY id;
SELECT rule::text::icp_rule = rule AS round_trips FROM icp_criteria WHERE profile = 'odd' LIMIT 1;
SELECT round(icp_fit(o, 'odd')::numeric) > 50 AS yes_scores_high FROM learn_odd o WHERE lead_id = 3;

-- Options tune the features; unknown options are refused.
SELECT criteria FROM icp_learn('odd', 'learn_odd', 'won', ARRAY['default'], '{"min_support": 2000}');
SELECT criteria FROM icp_learn('odd', 'learn_odd', 'won', ARRAY['Size'], '{"bins": 2}');
SELECT rule FROM icp_criteria WHERE profile = 'odd' ORDER BY id;
SELECT * FROM icp_learn('odd', 'learn_odd', 'won', NULL, '{"depth": 3}');
SELECT * FROM icp_learn('odd', 'learn_odd', 'won', NULL, '{"holdout": 1.5}');
SELECT * FROM icp_learn('odd', 'learn_odd', 'won', NULL, '[1]');

-- Missing arrays and numbers carry signal through IS NULL criteria.
CREATE TABLE learn_gaps AS
SELECT g AS lead_id,
       CASE WHEN g % 4 = 0 THEN NULL WHEN g % 3 = 0 THEN ARRAY['crm'] ELSE ARRAY['crm', 'erp'] END AS tags,
       CASE WHEN g % 5 = 0 THEN NULL ELSE g % 100 END AS size,
       (g % 4 = 0 AND g % 7 <> 0) OR g % 10 = 1 AS won
  FROM generate_series(1, 4000) AS g;
SELECT rows_used, criteria > 0 AS has_criteria FROM icp_learn('gaps', 'learn_gaps', 'won');
SELECT rule, weight > 0 AS positive FROM icp_criteria
 WHERE profile = 'gaps' AND rule::text LIKE '% IS NULL' ORDER BY id;
DELETE FROM icp_profiles WHERE name = 'gaps';
DROP TABLE learn_gaps;

-- Errors.
SELECT * FROM icp_learn('bad', 'learn_odd', 'lost');
SELECT * FROM icp_learn('bad', 'learn_odd', 'won', ARRAY['size']);
SELECT * FROM icp_learn('bad', 'learn_odd', 'won', ARRAY['note']);
SELECT * FROM icp_learn('bad', 'learn_odd', 'won', ARRAY['won']);
SELECT * FROM icp_learn('bad', 'learn_odd', 'default');
SELECT * FROM icp_learn('bad', 'learn_odd', 'won', ARRAY[]::text[]);
CREATE TABLE learn_empty (x text, won boolean);
SELECT * FROM icp_learn('bad', 'learn_empty', 'won');
INSERT INTO learn_empty VALUES ('a', NULL);
SELECT * FROM icp_learn('bad', 'learn_empty', 'won');
INSERT INTO learn_empty VALUES ('a', false), ('b', false);
SELECT * FROM icp_learn('bad', 'learn_empty', 'won');
UPDATE learn_empty SET won = true;
SELECT * FROM icp_learn('bad', 'learn_empty', 'won');
UPDATE learn_odd SET won = 2 WHERE lead_id = 5;
SELECT * FROM icp_learn('bad', 'learn_odd', 'won');
SELECT * FROM icp_learn(NULL, 'learn_odd', 'won');
SELECT * FROM icp_learn('bad', 'learn_odd_seq', 'won');
CREATE SEQUENCE learn_seq;
SELECT * FROM icp_learn('bad', 'learn_seq', 'won');
SELECT count(*) AS nothing_written FROM icp_profiles WHERE name = 'bad';

-- The scan runs as the caller: no SELECT privilege, no learning.
CREATE ROLE icp_learn_nobody;
SET ROLE icp_learn_nobody;
SELECT * FROM icp_learn('bad', 'learn_train', 'won', ARRAY['industry']);
RESET ROLE;
DROP ROLE icp_learn_nobody;

-- Many distinct values.  A column with 20,000 distinct names gives no
-- criteria (no value has the support), and learning still works from the
-- other columns; asked to keep every value, it keeps max_values of them.
CREATE TABLE learn_names AS
SELECT g AS lead_id, 'lead ' || g AS name, (ARRAY['saas', 'retail', 'media'])[1 + g % 3] AS segment,
       (g % 3 = 0) = ((g * 7919) % 10 < 8) AS won
  FROM generate_series(1, 20000) g;
SELECT rows_used, criteria FROM icp_learn('names', 'learn_names', 'won');
SELECT rule FROM icp_criteria WHERE profile = 'names' ORDER BY rule::text;
SELECT rows_used, criteria
  FROM icp_learn('names-all', 'learn_names', 'won', options => '{"max_values": 1000, "min_support": 1}');
SELECT count(*) AS name_criteria FROM icp_criteria
 WHERE profile = 'names-all' AND rule::text LIKE 'name =%';
-- More candidate features than the fit takes (2,000: its Hessian is dense):
-- the least supported are left out, with a NOTICE, and the fit goes on.
-- Here 400 values of b on 6 rows each, 800 of a on 3 rows and 1,000 of c
-- (max_values of its 1,200) on 2 rows: 2,200 candidates, and 200 values of c
-- are left out.
CREATE TABLE learn_wide AS
SELECT g AS lead_id, 'a' || (g % 800) AS a, 'b' || (g % 400) AS b, 'c' || (g % 1200) AS c,
       (g % 800) < 200 OR (g % 400) < 50 AS won
  FROM generate_series(1, 2400) g;
SET client_min_messages = notice;
SELECT rows_used, criteria <= 2000 AS within_cap, train_auc > 0.9 AS learned
  FROM icp_learn('wide', 'learn_wide', 'won', options => '{"max_values": 1000, "min_support": 2}');
RESET client_min_messages;
SELECT substr(rule::text, 1, 1) AS attribute, count(*) AS criteria
  FROM icp_criteria WHERE profile = 'wide' GROUP BY 1 ORDER BY 1;
SELECT count(*) AS fits_not_null FROM learn_wide l WHERE icp_fit(l, 'wide') IS NOT NULL;

DELETE FROM icp_profiles WHERE name IN ('learned', 'odd', 'names', 'names-all', 'wide');
DROP TABLE learn_names, learn_wide;
DROP FUNCTION learn_auc(float8[], boolean[]);
DROP TABLE learn_history, learn_train, learn_test, learn_odd, learn_empty;
DROP SEQUENCE learn_seq;
