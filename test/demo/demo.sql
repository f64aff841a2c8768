-- make demo: the ICP story in the terminal.  Each part is a readable SQL
-- file next to this one; copy from them.
\pset null '(null)'
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

\echo
\echo '== 1. The data: 50,000 accounts and two years of won/lost deals =='
\ir 01_data.sql
SELECT (SELECT count(*) FROM accounts) AS accounts,
       count(*) AS deals,
       round(100.0 * avg(won::int), 1) AS win_rate_pct
FROM deals;

\echo
\echo '== 2. A hand-written hypothesis, and "Startup Sam", an anti-profile =='
\set QUIET on
\ir 02_profiles.sql
\set QUIET off
SELECT profile, rule, weight, required, dimension
FROM icp_criteria ORDER BY profile, id;

\echo
\echo '== 3. The best leads by fit, and why the top one scores as it does =='
SELECT name, industry, employees, country, round(icp_fit(a)::numeric, 1) AS fit,
       icp_grade(a) AS grade, round((icp_score(a)).coverage::numeric, 2) AS coverage
FROM accounts a
ORDER BY icp_fit(a) DESC NULLS LAST, (icp_score(a)).coverage DESC, id
LIMIT 8;

SELECT criterion, rule, outcome, points, value
FROM icp_explain((SELECT a FROM accounts a WHERE id = 211), 'mid-market-saas');

SELECT icp_grade(a) AS grade, count(*) AS accounts,
       round(avg((icp_score(a)).coverage)::numeric, 2) AS avg_coverage
FROM accounts a GROUP BY 1 ORDER BY 1;

\echo
\echo '== 4. Segments: which profile each account belongs to, by grade =='
\echo '   (an account matching the "startup-sam" anti-profile is one sales should not chase)'
SELECT coalesce(s.segment, '(no match)') AS segment, icp_grade(a, s.segment) AS grade, count(*) AS accounts
FROM accounts a CROSS JOIN LATERAL (SELECT icp_segment(a) AS segment) s
GROUP BY 1, 2 ORDER BY 1, 2;

\echo
\echo '== 5. Sizing the pool: apply the knock-outs, then the other criteria, one by one =='
SELECT step, rule, required, matching, unknown, pool, round(100 * pool_share::numeric, 1) AS pool_pct
FROM icp_funnel('mid-market-saas', 'accounts');

\echo
\echo '== 6. Learn a profile from the deals of the first 18 months (icp_learn) =='
SELECT rows_used, positives, criteria, round(train_auc::numeric, 3) AS train_auc,
       round(seconds::numeric, 2) AS seconds
FROM icp_learn('learned', 'deals_train', 'won',
               ARRAY['industry', 'employees', 'revenue', 'country', 'funding_stage',
                     'tech_stack', 'web_visits_30d', 'growth']);
\echo 'The strongest learned criteria (readable rules you can edit like any other):'
SELECT rule, round(weight::numeric, 2) AS weight, note
FROM icp_criteria WHERE profile = 'learned'
ORDER BY abs(weight) DESC LIMIT 12;

\echo
\echo '== 7. Hypothesis vs learned, validated on the last six months of deals (icp_evaluate) =='
SELECT 'mid-market-saas (hypothesis)' AS profile, rows, positives, round(auc::numeric, 3) AS auc,
       round(lift_top_decile::numeric, 2) AS lift_top_10pct,
       round(precision_ab::numeric, 3) AS precision_a_b, round(recall_ab::numeric, 3) AS recall_a_b
FROM icp_evaluate('mid-market-saas', 'deals_recent', 'won')
UNION ALL
SELECT 'learned', rows, positives, round(auc::numeric, 3), round(lift_top_decile::numeric, 2),
       round(precision_ab::numeric, 3), round(recall_ab::numeric, 3)
FROM icp_evaluate('learned', 'deals_recent', 'won');

\echo 'Lift by score decile of the learned profile (icp_lift): won rate against the average'
SELECT bucket, rows, round(100 * rate::numeric, 1) AS won_pct, round(lift::numeric, 2) AS lift,
       rpad(repeat('#', greatest(round(lift * 20)::int, 0)), 60) || '|' AS chart
FROM icp_lift('learned', 'deals_recent', 'won', 10);

\echo
\echo '== 8. Scoring on insert: a trigger writes fit, grade and segment into new rows =='
ALTER TABLE accounts ADD COLUMN fit float8, ADD COLUMN grade text, ADD COLUMN segment text;
CREATE TRIGGER accounts_score BEFORE INSERT OR UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('learned', 'fit', 'grade', 'segment');
INSERT INTO accounts (id, name, industry, employees, revenue, country, funding_stage,
                      tech_stack, web_visits_30d, growth, last_activity)
VALUES (50001, 'Newco GmbH #50001', 'software', 240, 31000000, 'DE', 'series-b',
        '{salesforce,snowflake}', 55, 0.4, current_date),
       (50002, 'Tiny Seed UG #50002', 'software', 6, 400000, 'DE', 'seed',
        '{notion,slack}', 120, 0.9, current_date)
RETURNING name, round(fit::numeric, 1) AS fit, grade, segment;

\echo
\echo 'Done.  Every query above is in test/demo/*.sql; the README explains each function.'
