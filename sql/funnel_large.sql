-- icp_funnel at scale: one pass over the source, cost rows x criteria, and
-- the same counts as plain SQL.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

-- A reference written in plain SQL over icp_outcomes: each row's first step
-- (in funnel order) that drops it, then counts per step.
CREATE FUNCTION fl_reference(p text, src regclass)
RETURNS TABLE (step bigint, criterion bigint, matching bigint, unknown bigint, pool bigint)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        WITH s AS (SELECT row_number() OVER (ORDER BY c.required DESC,
                                                      CASE WHEN c.required THEN 0 ELSE -c.weight END,
                                                      c."position") AS step, c.*
                     FROM icp_profile_criteria(icp_profile($1)) AS c),
        pen AS (SELECT missing = 'penalize' AS pen FROM icp_profiles WHERE name = $1),
        o AS (SELECT row_number() OVER () AS r, icp_outcomes(t, $1) AS o FROM %s AS t),
        x AS (SELECT o.r, s.step, o.o[s."position"] AS v,
                     CASE WHEN s.required AND pen.pen THEN o.o[s."position"] IS TRUE
                          WHEN s.required THEN o.o[s."position"] IS NOT FALSE
                          WHEN s.weight >= 0 THEN o.o[s."position"] IS TRUE
                          ELSE o.o[s."position"] IS NOT TRUE END AS keep
                FROM o CROSS JOIN s CROSS JOIN pen),
        d AS (SELECT o.r, coalesce(min(x.step) FILTER (WHERE NOT x.keep), 1e9) AS d
                FROM o LEFT JOIN x ON x.r = o.r GROUP BY o.r)
        SELECT s.step, s.criterion,
               count(x.r) FILTER (WHERE x.v), count(x.r) FILTER (WHERE x.v IS NULL),
               (SELECT count(*) FROM d WHERE d.d > s.step)
          FROM s LEFT JOIN x ON x.step = s.step
         GROUP BY s.step, s.criterion ORDER BY s.step$q$, src) USING p;
END
$$;

-- Profiles with knock-outs, negative, zero and tied weights, over data with
-- unknown values; each compared step by step with the reference.
CREATE TABLE fl_leads (id integer, industry text, employees integer, country text, revenue bigint,
                       churned boolean);
INSERT INTO fl_leads
SELECT g, (ARRAY['software', 'fintech', 'retail', NULL])[1 + g % 4],
       CASE WHEN g % 9 = 0 THEN NULL ELSE (g * 37) % 2000 END,
       (ARRAY['DE', 'AT', 'US', NULL, 'CH'])[1 + g % 5],
       CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 7919) % 5000000 END,
       CASE WHEN g % 11 = 0 THEN NULL ELSE g % 13 = 0 END
  FROM generate_series(1, 600) AS g;
INSERT INTO icp_profiles (name, missing) VALUES ('fl-ignore', 'ignore'), ('fl-penalize', 'penalize'),
                                               ('fl-ties', 'ignore'), ('fl-empty', 'ignore');
INSERT INTO icp_criteria (profile, rule, weight, required)
SELECT p, r::icp_rule, w, q
  FROM (VALUES ('industry IN (''software'', ''fintech'')', 30, false),
               ('employees BETWEEN 50 AND 1000', 25, true),
               ('country IN (''DE'', ''AT'', ''CH'')', 10, false),
               ('revenue > 1000000', 15, true),
               ('churned IS TRUE', -50, false),
               ('country = ''US''', 0, false),
               ('employees < 20', -5, true)) AS c(r, w, q),
       unnest(ARRAY['fl-ignore', 'fl-penalize']) AS p;
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('fl-ties', 'employees > 100', 10, false),
    ('fl-ties', 'revenue > 100000', 10, false),
    ('fl-ties', 'industry = ''retail''', -10, false),
    ('fl-ties', 'churned IS FALSE', -10, false),
    ('fl-ties', 'country IS NULL', 10, false);

SELECT p.name,
       (SELECT count(*) FROM icp_funnel(p.name, 'fl_leads')) AS steps,
       (SELECT count(*)
          FROM icp_funnel(p.name, 'fl_leads') AS f
          FULL JOIN fl_reference(p.name, 'fl_leads') AS r USING (step)
         WHERE (f.criterion, f.matching, f.unknown, f.pool) IS DISTINCT FROM
               (r.criterion, r.matching, r.unknown, r.pool)) AS differences
  FROM icp_profiles p WHERE p.name LIKE 'fl-%' ORDER BY p.name;
-- pool_share is pool over the rows of the source
SELECT count(*) FILTER (WHERE pool_share IS DISTINCT FROM pool::double precision / 600) AS wrong_shares
  FROM icp_funnel('fl-penalize', 'fl_leads');

-- 400 criteria over 10,000 rows: one pass.  Criterion i reads one of four
-- columns; knock-outs, negative weights and unknown values included.
CREATE TABLE fl_wide (a integer, b integer, c integer, d integer);
INSERT INTO fl_wide
SELECT CASE WHEN g % 17 = 0 THEN NULL ELSE (g * 7) % 1000 END, (g * 13) % 1000,
       (g * 31) % 1000, CASE WHEN g % 23 = 0 THEN NULL ELSE (g * 101) % 1000 END
  FROM generate_series(1, 10000) AS g;
INSERT INTO icp_profiles (name) VALUES ('fl-400');
INSERT INTO icp_criteria (profile, rule, weight, required)
SELECT 'fl-400', format('%s >= %s', (ARRAY['a', 'b', 'c', 'd'])[1 + i % 4], (i * 3) % 50)::icp_rule,
       CASE WHEN i % 10 = 0 THEN -i ELSE 1000 - i END, i % 50 = 1
  FROM generate_series(1, 400) AS i;

CREATE TEMP TABLE fl_result AS SELECT * FROM icp_funnel('fl-400', 'fl_wide');
SELECT count(*) AS steps, count(DISTINCT criterion) AS criteria,
       min(pool) AS smallest_pool, max(pool) AS largest_pool
  FROM fl_result;

-- Plain SQL on the columns themselves (a rule here is also an SQL
-- predicate): the matching and unknown rows of a few criteria, and the pool
-- after steps 1, 2, 9, 10, 50 and 400, built from the criteria in funnel
-- order.
CREATE FUNCTION fl_plain(k integer, OUT matching bigint, OUT unknown bigint, OUT pool bigint)
LANGUAGE plpgsql AS $$
DECLARE
    steps text[];
    conds text[];
BEGIN
    SELECT array_agg(c.rule::text ORDER BY c.required DESC, CASE WHEN c.required THEN 0 ELSE -c.weight END, c.id),
           array_agg(CASE WHEN c.required THEN format('(%s) IS NOT FALSE', c.rule)
                          WHEN c.weight >= 0 THEN format('(%s) IS TRUE', c.rule)
                          ELSE format('(%s) IS NOT TRUE', c.rule) END
                     ORDER BY c.required DESC, CASE WHEN c.required THEN 0 ELSE -c.weight END, c.id)
      INTO steps, conds
      FROM icp_criteria c WHERE c.profile = 'fl-400';
    EXECUTE format('SELECT count(*) FILTER (WHERE %1$s), count(*) FILTER (WHERE (%1$s) IS NULL),'
                   ' count(*) FILTER (WHERE %2$s) FROM fl_wide',
                   steps[k], array_to_string(conds[1:k], ' AND '))
       INTO matching, unknown, pool;
END
$$;
SELECT f.step, f.rule, f.required, f.weight, f.matching, f.unknown, f.pool,
       (f.matching, f.unknown, f.pool) = (SELECT p.matching, p.unknown, p.pool FROM fl_plain(f.step) AS p)
           AS same_as_plain_sql
  FROM fl_result f WHERE f.step IN (1, 2, 9, 10, 50, 400) ORDER BY f.step;

-- A statement timeout cancels a funnel over an endless source.
CREATE VIEW fl_endless AS SELECT generate_series(1, 1000000000) % 1000 AS a, 1 AS b, 2 AS c, 3 AS d;
SET statement_timeout = '300ms';
SELECT count(*) FROM icp_funnel('fl-400', 'fl_endless');
RESET statement_timeout;

DROP VIEW fl_endless;
DROP TABLE fl_leads, fl_wide, fl_result;
DROP FUNCTION fl_reference(text, regclass), fl_plain(integer);
DELETE FROM icp_profiles WHERE name LIKE 'fl-%';
