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
