-- Differential test: random profiles over random typed data, scored by icp
-- and by plain SQL computing the scoring formulas (README, Scoring) from the same
-- conditions written as SQL.  Every rule is generated twice: in the rule
-- language and as the SQL condition it means.  A second part does the same
-- on real-sized values (texts, arrays and jsonb stored compressed or out of
-- line) through every scoring path.  A third part adds decay (a criterion's
-- points times 0.5 ^ (age / half_life)) on every kind of time attribute,
-- on the small and on the big rows.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;
SET LOCAL extra_float_digits = 3;

SELECT plan(35);
SELECT setseed(0.4242);

CREATE SCHEMA icp_diff;
SET LOCAL search_path = icp_diff, public;
CREATE TYPE icp_diff.tier AS ENUM ('low', 'mid', 'high');

CREATE TABLE icp_diff.acc (
    id int PRIMARY KEY,
    i2 int2, i4 int4, i8 int8, num numeric, f4 real, f8 float8,
    t text, vc varchar(12), bp char(4), e icp_diff.tier, b boolean,
    d date, ts timestamp, tz timestamptz,
    arr text[], iarr int[], j jsonb
);

-- 400 rows, each column NULL about one time in five
INSERT INTO acc
SELECT g,
    CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 200 - 100)::int2 END,
    CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 2000)::int END,
    CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 1e10)::int8 END,
    CASE WHEN random() < 0.2 THEN NULL ELSE round((random() * 1000)::numeric, 2) END,
    CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 10)::real END,
    CASE WHEN random() < 0.2 THEN NULL ELSE random() * 10 - 5 END,
    CASE WHEN random() < 0.2 THEN NULL ELSE (ARRAY['alpha', 'beta', 'Gamma', 'delta', 'epsilon', ''])[1 + (random() * 5)::int] END,
    CASE WHEN random() < 0.2 THEN NULL ELSE (ARRAY['DE', 'AT', 'CH', 'FR', 'us'])[1 + (random() * 4)::int] END,
    CASE WHEN random() < 0.2 THEN NULL ELSE (ARRAY['a', 'ab ', 'abc', 'b'])[1 + (random() * 3)::int] END,
    CASE WHEN random() < 0.2 THEN NULL ELSE (ARRAY['low', 'mid', 'high'])[1 + (random() * 2)::int]::icp_diff.tier END,
    CASE WHEN random() < 0.2 THEN NULL ELSE random() < 0.5 END,
    CASE WHEN random() < 0.2 THEN NULL ELSE current_date - (random() * 120)::int END,
    CASE WHEN random() < 0.2 THEN NULL ELSE localtimestamp - random() * interval '120 days' END,
    CASE WHEN random() < 0.2 THEN NULL ELSE now() - random() * interval '120 days' END,
    CASE WHEN random() < 0.2 THEN NULL
         ELSE (SELECT coalesce(array_agg(x), '{}') FROM unnest(ARRAY['sf', 'hs', 'slack', 'jira', NULL]) x WHERE random() < 0.4) END,
    CASE WHEN random() < 0.2 THEN NULL
         ELSE (SELECT coalesce(array_agg(x), '{}') FROM generate_series(1, 6) x WHERE random() < 0.4) END,
    CASE WHEN random() < 0.2 THEN NULL
         ELSE jsonb_strip_nulls(jsonb_build_object(
             'score', CASE WHEN random() < 0.2 THEN NULL ELSE round((random() * 100)::numeric, 1) END,
             'plan', CASE WHEN random() < 0.2 THEN NULL ELSE (ARRAY['free', 'pro', 'team'])[1 + (random() * 2)::int] END,
             'tags', CASE WHEN random() < 0.2 THEN NULL
                          ELSE to_jsonb((SELECT coalesce(array_agg(x), '{}') FROM unnest(ARRAY['x', 'y', 'z']) x WHERE random() < 0.5)) END))
    END
FROM generate_series(1, 400) g;

-- a random literal of a column's kind: (rule text, SQL text)
CREATE FUNCTION pg_temp.lit(kind text, OUT r text, OUT s text) LANGUAGE plpgsql AS $$
DECLARE
    x numeric;
BEGIN
    CASE kind
    WHEN 'int' THEN
        x := CASE WHEN random() < 0.3 THEN round((random() * 2000 - 100)::numeric, 1)
                  ELSE round((random() * 2000 - 100)::numeric) END;
        r := x::text; s := x::text;
    WHEN 'big' THEN
        x := round((random() * 1e10)::numeric); r := x::text; s := x::text;
    WHEN 'num' THEN
        x := round((random() * 1000)::numeric, 2); r := x::text; s := x::text;
    WHEN 'f8' THEN
        x := round((random() * 10 - 5)::numeric, 3); r := x::text; s := x::text || '::float8';
    WHEN 'f4' THEN
        x := round((random() * 10)::numeric, 3); r := x::text; s := x::text || '::float8';
    WHEN 'text' THEN
        r := quote_literal((ARRAY['alpha', 'beta', 'gamma', 'delta', 'm', ''])[1 + (random() * 5)::int]); s := r;
    WHEN 'vc' THEN
        r := quote_literal((ARRAY['DE', 'AT', 'CH', 'FR', 'US'])[1 + (random() * 4)::int]); s := r;
    WHEN 'bp' THEN
        r := quote_literal((ARRAY['a', 'ab', 'abc', 'b  '])[1 + (random() * 3)::int]); s := r || '::bpchar';
    WHEN 'enum' THEN
        r := quote_literal((ARRAY['low', 'mid', 'high'])[1 + (random() * 2)::int]); s := r;
    WHEN 'date' THEN
        r := quote_literal((current_date - (random() * 120)::int)::text); s := r || '::date';
    WHEN 'ts' THEN
        r := quote_literal(date_trunc('second', localtimestamp - random() * interval '120 days')::text); s := r || '::timestamp';
    WHEN 'tz' THEN
        r := quote_literal(date_trunc('second', now() - random() * interval '120 days')::text); s := r || '::timestamptz';
    END CASE;
END $$;

-- a random predicate: (rule text, SQL text)
CREATE FUNCTION pg_temp.pred(OUT r text, OUT s text) LANGUAGE plpgsql AS $$
DECLARE
    cols text[] := ARRAY['i2', 'i4', 'i8', 'num', 'f4', 'f8', 't', 'vc', 'bp', 'e', 'b',
                         'd', 'ts', 'tz', 'arr', 'iarr', 'j'];
    kinds text[] := ARRAY['int', 'int', 'big', 'num', 'f4', 'f8', 'text', 'vc', 'bp', 'enum', 'bool',
                          'date', 'ts', 'tz', 'arr', 'iarr', 'json'];
    k int := 1 + floor(random() * array_length(cols, 1))::int;
    c text := cols[k];
    kind text := kinds[k];
    ops text[] := ARRAY['=', '<>', '<', '<=', '>', '>='];
    op text;
    a record;
    b2 record;
    n int;
    rl text[];
    sl text[];
    roll float8 := random();
BEGIN
    IF roll < 0.08 THEN
        IF random() < 0.5 THEN r := c || ' IS NULL'; ELSE r := c || ' IS NOT NULL'; END IF;
        s := r; RETURN;
    END IF;
    IF kind = 'bool' THEN
        op := (ARRAY['IS TRUE', 'IS NOT TRUE', 'IS FALSE', 'IS NOT FALSE', '= TRUE', '<> FALSE'])[1 + floor(random() * 6)::int];
        r := c || ' ' || op; s := r; RETURN;
    ELSIF kind = 'arr' THEN
        rl := ARRAY(SELECT quote_literal(x) FROM unnest(ARRAY['sf', 'hs', 'slack', 'jira', 'none']) x WHERE random() < 0.4);
        IF rl = '{}' THEN rl := ARRAY['''sf''']; END IF;
        IF roll < 0.4 THEN
            r := c || ' CONTAINS ' || rl[1]; s := c || ' @> ARRAY[' || rl[1] || ']';
        ELSIF roll < 0.7 THEN
            r := c || ' CONTAINS ANY (' || array_to_string(rl, ', ') || ')'; s := c || ' && ARRAY[' || array_to_string(rl, ', ') || ']';
        ELSE
            r := c || ' CONTAINS ALL (' || array_to_string(rl, ', ') || ')'; s := c || ' @> ARRAY[' || array_to_string(rl, ', ') || ']';
        END IF;
        RETURN;
    ELSIF kind = 'iarr' THEN
        n := 1 + floor(random() * 6)::int;
        r := c || ' CONTAINS ' || n; s := c || ' @> ARRAY[' || n || ']'; RETURN;
    ELSIF kind = 'json' THEN
        IF roll < 0.35 THEN
            a := pg_temp.lit('num');
            op := ops[1 + floor(random() * 6)::int];
            r := 'j.score ' || op || ' ' || (a.r::numeric / 10)::text;
            s := '(j->>''score'')::numeric ' || op || ' ' || (a.r::numeric / 10)::text;
        ELSIF roll < 0.6 THEN
            r := 'j.plan IN (''pro'', ''team'')'; s := '(j->>''plan'') IN (''pro'', ''team'')';
        ELSIF roll < 0.8 THEN
            r := 'j.tags CONTAINS ''x'''; s := '(j->''tags'') @> ''["x"]''';
        ELSE
            r := 'j.plan LIKE ''%r%'''; s := '(j->>''plan'') LIKE ''%r%''';
        END IF;
        RETURN;
    END IF;

    IF kind IN ('date', 'ts', 'tz') AND roll < 0.3 THEN
        n := 1 + floor(random() * 90)::int;
        r := c || ' WITHIN ''' || n || ' days''';
        s := '(' || c || ' BETWEEN now() - interval ''' || n || ' days'' AND now())';
        RETURN;
    END IF;
    IF kind IN ('text', 'vc') AND roll < 0.35 THEN
        op := (ARRAY['LIKE', 'NOT LIKE', 'ILIKE', '~', '~*'])[1 + floor(random() * 5)::int];
        a := pg_temp.lit('text');
        r := c || ' ' || op || ' ' || quote_literal((ARRAY['%a%', 'a%', '_e%', '^[a-d]', 'A', 'd'])[1 + floor(random() * 6)::int]);
        s := r; RETURN;
    END IF;
    IF roll < 0.55 THEN
        a := pg_temp.lit(kind);
        op := ops[1 + floor(random() * 6)::int];
        r := c || ' ' || op || ' ' || a.r; s := c || ' ' || op || ' ' || a.s;
    ELSIF roll < 0.75 THEN
        a := pg_temp.lit(kind); b2 := pg_temp.lit(kind);
        op := CASE WHEN random() < 0.3 THEN ' NOT BETWEEN ' ELSE ' BETWEEN ' END;
        r := c || op || a.r || ' AND ' || b2.r; s := c || op || a.s || ' AND ' || b2.s;
    ELSE
        n := 1 + floor(random() * 4)::int;
        rl := '{}'; sl := '{}';
        FOR i IN 1 .. n LOOP
            a := pg_temp.lit(kind); rl := rl || a.r; sl := sl || a.s;
        END LOOP;
        op := CASE WHEN random() < 0.3 THEN ' NOT IN (' ELSE ' IN (' END;
        r := c || op || array_to_string(rl, ', ') || ')'; s := c || op || array_to_string(sl, ', ') || ')';
    END IF;
END $$;

-- a random rule of AND/OR/NOT over predicates (of the big table when big,
-- see below): (rule text, SQL text)
CREATE FUNCTION pg_temp.rule(depth int, big boolean DEFAULT false, OUT r text, OUT s text) LANGUAGE plpgsql AS $$
DECLARE
    x record;
    y record;
    roll float8 := random();
BEGIN
    IF depth <= 0 OR roll < 0.55 THEN
        IF big THEN x := pg_temp.big_pred(); ELSE x := pg_temp.pred(); END IF;
        r := x.r; s := '(' || x.s || ')'; RETURN;
    END IF;
    IF roll < 0.65 THEN
        x := pg_temp.rule(depth - 1, big); r := 'NOT (' || x.r || ')'; s := '(NOT ' || x.s || ')'; RETURN;
    END IF;
    x := pg_temp.rule(depth - 1, big); y := pg_temp.rule(depth - 1, big);
    IF roll < 0.83 THEN
        r := '(' || x.r || ') AND (' || y.r || ')'; s := '(' || x.s || ' AND ' || y.s || ')';
    ELSE
        r := '(' || x.r || ') OR (' || y.r || ')'; s := '(' || x.s || ' OR ' || y.s || ')';
    END IF;
END $$;

-- Score a profile with icp and with the SQL formulas over the same
-- conditions (conds, written in SQL over the columns of source, aliased a),
-- and keep every disagreement in mismatches, prefixed by label.  acct is
-- the account icp scores: a (the row) or to_jsonb(a).
-- facs, when given, are SQL expressions of what each criterion's weight is
-- multiplied by when it is true (its decay), else 1.
CREATE FUNCTION pg_temp.check_profile(pname text, source text, acct text, label text, conds text[],
                                      weights float8[], reqs boolean[], model text, missing text,
                                      bias float8, facs text[] DEFAULT NULL) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF facs IS NULL THEN
        facs := array_fill('1'::text, ARRAY[cardinality(conds)]);
    END IF;
    EXECUTE format($q$
            WITH o AS (
                SELECT a.id, ARRAY[%s]::boolean[] AS oc, ARRAY[%s]::float8[] AS f FROM %s a
            ), agg AS (
                SELECT o.id,
                    coalesce(sum(u.w * u.f) FILTER (WHERE u.oc), 0) AS earned,
                    coalesce(sum(greatest(u.w, 0)) FILTER (WHERE u.oc IS NOT NULL OR %L = 'penalize'), 0) AS possible,
                    count(*) FILTER (WHERE u.oc IS NOT NULL OR %L = 'penalize') AS counted,
                    coalesce(bool_or(u.req AND (u.oc = false OR (%L = 'penalize' AND u.oc IS NULL))), false) AS disq,
                    sum(abs(u.w)) FILTER (WHERE u.oc IS NOT NULL) / nullif(sum(abs(u.w)), 0) AS cov
                FROM o, unnest(o.oc, %L::float8[], %L::boolean[], o.f) AS u(oc, w, req, f)
                GROUP BY o.id
            ), want AS (
                SELECT id,
                    CASE WHEN disq THEN 0
                         WHEN %L = 'logistic' THEN 100 / (1 + exp(-(%s + earned)))
                         WHEN counted = 0 OR possible <= 0 THEN NULL
                         ELSE 100 * greatest(0, least(1, earned / possible)) END AS fit,
                    disq, coalesce(cov, 0) AS cov, (SELECT grade_thresholds FROM icp_profiles WHERE name = %L) AS th
                FROM agg
            ), got AS (
                SELECT a.id, icp_fit(%s, %L) AS fit, icp_grade(%s, %L) AS grade, (icp_score(%s, %L)).coverage AS cov,
                       (icp_score(%s, %L)).disqualified AS disq
                FROM %s a
            )
            INSERT INTO mismatches
            SELECT %L, w.id, %L || m.what, m.got, m.want
            FROM want w JOIN got g USING (id),
            LATERAL (VALUES
                ('fit', g.fit::text, w.fit::text,
                 (g.fit IS NULL) = (w.fit IS NULL) AND coalesce(abs(g.fit - w.fit) < 1e-9, true)),
                ('grade', g.grade, CASE WHEN w.fit IS NULL THEN NULL WHEN w.disq THEN 'D'
                                        WHEN w.fit >= w.th[1] THEN 'A' WHEN w.fit >= w.th[2] THEN 'B'
                                        WHEN w.fit >= w.th[3] THEN 'C' ELSE 'D' END, NULL),
                ('coverage', g.cov::text, w.cov::text, abs(coalesce(g.cov, 0) - w.cov) < 1e-9),
                ('disqualified', g.disq::text, w.disq::text, g.disq = w.disq)
            ) AS m(what, got, want, ok)
            WHERE CASE WHEN m.what = 'grade' THEN m.got IS DISTINCT FROM m.want ELSE NOT m.ok END
            $q$,
            array_to_string(conds, ', '), array_to_string(facs, ', '), source, missing, missing, missing, weights, reqs,
            model, bias, pname, acct, pname, acct, pname, acct, pname, acct, pname, source, pname, label);
END $$;

CREATE TEMP TABLE mismatches (profile text, id int, what text, icp text, expected text);
CREATE TEMP TABLE tested (profile text, rows int, jsonb_checked boolean);

-- build profiles, score them both ways, keep every disagreement
DO $$
DECLARE
    p int;
    n int;
    rr record;
    pname text;
    model text;
    missing text;
    bias float8;
    conds text[];
    weights float8[];
    reqs boolean[];
    w float8;
    json_ok boolean;
BEGIN
    FOR p IN 1 .. 60 LOOP
        pname := 'diff_' || p;
        model := CASE WHEN random() < 0.3 THEN 'logistic' ELSE 'points' END;
        missing := CASE WHEN random() < 0.4 THEN 'penalize' ELSE 'ignore' END;
        bias := round((random() * 4 - 2)::numeric, 2);
        INSERT INTO icp_profiles (name, model, missing, bias, grade_thresholds)
        VALUES (pname, model, missing, bias,
                CASE WHEN random() < 0.5 THEN '{80,60,40}'::float8[] ELSE '{70,50,20}' END);
        n := 1 + floor(random() * 6)::int;
        conds := '{}'; weights := '{}'; reqs := '{}';
        json_ok := true;
        FOR i IN 1 .. n LOOP
            rr := pg_temp.rule(2);
            w := CASE WHEN random() < 0.2 THEN -round((random() * 20)::numeric, 1)
                      ELSE round((random() * 30)::numeric, 1) END;
            INSERT INTO icp_criteria (profile, rule, weight, required)
            VALUES (pname, rr.r::icp_rule, w, random() < 0.15);
            conds := conds || rr.s;
            weights := weights || w;
            reqs := reqs || (SELECT required FROM icp_criteria WHERE profile = pname ORDER BY id DESC LIMIT 1);
            -- floats, char(n) and enums have no faithful JSON form (float8/text order)
            IF rr.r ~ '\m(f4|f8|bp|e)\M' THEN json_ok := false; END IF;
        END LOOP;

        PERFORM pg_temp.check_profile(pname, 'acc', 'a', '', conds, weights, reqs, model, missing, bias);

        -- jsonb accounts score as the rows they were made from
        IF json_ok THEN
            INSERT INTO mismatches
            SELECT pname, a.id, 'jsonb fit', icp_fit(to_jsonb(a), pname)::text, icp_fit(a, pname)::text
            FROM acc a
            WHERE icp_fit(to_jsonb(a), pname) IS DISTINCT FROM icp_fit(a, pname);
        END IF;
        -- a profile value scores as the stored profile
        INSERT INTO mismatches
        SELECT pname, a.id, 'value fit', icp_fit(a, v.p)::text, icp_fit(a, pname)::text
        FROM acc a, (SELECT icp_profile(pname)) AS v(p)
        WHERE icp_fit(a, v.p) IS DISTINCT FROM icp_fit(a, pname);
        INSERT INTO tested VALUES (pname, (SELECT count(*) FROM acc), json_ok);
    END LOOP;
END $$;

SELECT is((SELECT count(*)::int FROM tested), 60, '60 random profiles were scored');
SELECT cmp_ok((SELECT count(*)::int FROM tested WHERE jsonb_checked), '>=', 10,
              'at least 10 profiles were also checked on jsonb accounts');
SELECT cmp_ok((SELECT count(DISTINCT fit) FROM (SELECT icp_fit(a, t.profile) AS fit FROM acc a, tested t) x)::int,
              '>', 100, 'the fits are varied (the test is not trivially all NULL or 0)');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what = 'fit'), 0, 'icp_fit equals the SQL formula');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what = 'grade'), 0, 'icp_grade equals the SQL thresholds');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what = 'coverage'), 0, 'coverage equals the SQL formula');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what = 'disqualified'), 0, 'knock-outs equal the SQL rule');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what = 'jsonb fit'), 0, 'jsonb accounts score like rows');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what = 'value fit'), 0, 'profile values score like stored profiles');

-- show the first few disagreements when there are any
SELECT diag(format('%s row %s %s: icp %s, expected %s', profile, id, what, icp, expected))
FROM (SELECT * FROM mismatches LIMIT 5) m;

-- parallel plans give the same answers as serial ones
CREATE TEMP TABLE serial AS
SELECT t.profile, sum(icp_fit(a, t.profile)) AS s, count(icp_grade(a, t.profile)) AS c
FROM tested t, acc a GROUP BY t.profile;
CREATE TABLE icp_diff.bigacc AS SELECT acc.* FROM acc, generate_series(1, 25);
ANALYZE icp_diff.bigacc;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    result text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN ' || q LOOP
        result := result || line || E'\n';
    END LOOP;
    RETURN result;
END $$;
SELECT matches(pg_temp.plan_of($$SELECT sum(icp_fit(a, 'diff_1')) FROM icp_diff.bigacc a$$),
               'Parallel Seq Scan', 'scoring by name runs in parallel workers');
SELECT matches(pg_temp.plan_of($$SELECT sum(icp_fit(a, v.p)) FROM icp_diff.bigacc a,
                                 (SELECT icp_profile('diff_1')) v(p)$$),
               'Parallel Seq Scan', 'scoring with a profile value runs in parallel workers');
SELECT ok((SELECT bool_and(abs(coalesce(x.s, 0) - 25 * coalesce(s.s, 0)) <= 1e-6 * greatest(1, abs(s.s)) AND x.c = 25 * s.c)
           FROM serial s,
                LATERAL (SELECT sum(icp_fit(a, s.profile)) AS s, count(icp_grade(a, s.profile)) AS c
                         FROM icp_diff.bigacc a) x),
          'parallel icp_fit and icp_grade agree with the serial ones');
SELECT ok((SELECT bool_and(abs(coalesce(x.s, 0) - 25 * coalesce(s.s, 0)) <= 1e-6 * greatest(1, abs(s.s)))
           FROM serial s,
                LATERAL (SELECT sum(icp_fit(a, v.p)) AS s FROM icp_diff.bigacc a,
                         (SELECT icp_profile(s.profile)) v(p)) x),
          'parallel scoring with profile values agrees too');
-- Real-sized values: texts of 5-50 kB (compressible and not), text[] of
-- 500-2,000 elements and jsonb documents over 8 kB, stored compressed or out
-- of line (TOAST), scored by rules on those columns and on small ones.
-- Every path is compared with the same formulas in SQL: the table row (which
-- the planner rewrites into icp_fit_columns), a whole-row record from a
-- subquery, jsonb, icp_outcomes, icp_explain, profile values and icp_segment.
SET LOCAL max_parallel_workers_per_gather = 0;    -- serial here, parallel workers at the end
CREATE TABLE icp_diff.big (id int PRIMARY KEY, i4 int, t text, note text, tags text[], doc jsonb);
CREATE FUNCTION pg_temp.vocab() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['salesforce', 'hubspot', 'slack', 'jira', 'zoom', 'notion', 'figma', 'okta']
           || ARRAY(SELECT 'tool' || g FROM generate_series(1, 40) g)
$$;
INSERT INTO icp_diff.big
SELECT g,
    CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 1000)::int END,
    CASE WHEN random() < 0.2 THEN NULL ELSE (ARRAY['software', 'retail', 'fintech', 'media'])[1 + (random() * 3)::int] END,
    CASE WHEN r1 < 0.1 THEN NULL
         WHEN r1 < 0.25 THEN (ARRAY['alpha', 'abc', 'Lorem', 'zeta'])[1 + (random() * 3)::int]
         WHEN r1 < 0.55 THEN repeat((ARRAY['abc', 'lorem ipsum ', 'xyz-'])[1 + (random() * 2)::int],
                                    (ARRAY[2000, 4000])[1 + (random())::int])
         ELSE (SELECT string_agg(md5(random()::text || x), '') FROM generate_series(1, 160 + (random() * 1340)::int + 0 * g) x) END,
    CASE WHEN r2 < 0.1 THEN NULL
         WHEN r2 < 0.2 THEN ARRAY(SELECT v FROM unnest(pg_temp.vocab()) v WHERE random() < 0.05 + 0 * g)
         WHEN r2 < 0.6 THEN ARRAY(SELECT (pg_temp.vocab())[1 + (random() * 47)::int]
                                    FROM generate_series(1, 500 + (random() * 1500)::int + 0 * g))
         ELSE ARRAY(SELECT md5(random()::text || x) FROM generate_series(1, 500 + (random() * 1500)::int + 0 * g) x)
              || ARRAY(SELECT v FROM unnest(pg_temp.vocab()) v WHERE random() < 0.1 + 0 * g) END,
    CASE WHEN r3 < 0.1 THEN NULL
         WHEN r3 < 0.3 THEN jsonb_build_object('plan', (ARRAY['free', 'pro', 'team'])[1 + (random() * 2)::int],
                                               'tags', to_jsonb(ARRAY(SELECT v FROM unnest(pg_temp.vocab()) v
                                                                       WHERE random() < 0.1 + 0 * g)))
         ELSE jsonb_build_object('plan', (ARRAY['free', 'pro', 'team'])[1 + (random() * 2)::int],
                                 'tags', to_jsonb(ARRAY(SELECT (pg_temp.vocab())[1 + (random() * 47)::int]
                                                          FROM generate_series(1, 500 + 0 * g))),
                                 'blob', (SELECT string_agg(md5(random()::text || x), '')
                                            FROM generate_series(1, 300 + 0 * g) x)) END
FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3 FROM generate_series(1, 60) g) AS gen;

-- a random predicate on the big table: (rule text, SQL text)
CREATE FUNCTION pg_temp.big_pred(OUT r text, OUT s text) LANGUAGE plpgsql AS $$
DECLARE
    roll float8 := random();
    pick float8 := random();
    v text;
    v2 text;
    w text[];
    op text;
BEGIN
    IF roll < 0.35 THEN
        -- note: equality and order with small and big literals, patterns
        SELECT note INTO v FROM icp_diff.big WHERE note IS NOT NULL ORDER BY random() LIMIT 1;
        SELECT note INTO v2 FROM icp_diff.big WHERE note IS NOT NULL ORDER BY random() LIMIT 1;
        IF pick < 0.25 THEN
            op := (ARRAY['=', '<>', '<', '>='])[1 + floor(random() * 4)::int];
            r := format('note %s %L', op, v);
        ELSIF pick < 0.45 THEN
            op := CASE WHEN random() < 0.3 THEN 'NOT IN' ELSE 'IN' END;
            r := format('note %s (%L, %L, ''abc'')', op, v, v2);
        ELSIF pick < 0.7 THEN
            op := (ARRAY['LIKE', 'NOT LIKE', 'ILIKE', 'NOT ILIKE'])[1 + floor(random() * 4)::int];
            r := format('note %s %L', op, (ARRAY['abc%', '%ipsum%', 'LOREM%', '%a1%', '%-xyz', '%CABC%'])[1 + floor(random() * 6)::int]);
        ELSIF pick < 0.92 THEN
            op := (ARRAY['~', '~*'])[1 + floor(random() * 2)::int];
            r := format('note %s %L', op, (ARRAY['^[0-9a-f]+$', '^LOREM', 'abc$', '(xyz-){3}', '^a'])[1 + floor(random() * 5)::int]);
        ELSE
            r := 'note IS NULL';
        END IF;
        s := r;
    ELSIF roll < 0.6 THEN
        -- tags: CONTAINS, ANY, ALL over 500-2,000 elements
        w := ARRAY(SELECT quote_literal(x) FROM unnest(pg_temp.vocab()) x ORDER BY random() LIMIT 1 + floor(random() * 3)::int);
        IF pick < 0.4 THEN
            r := 'tags CONTAINS ' || w[1]; s := 'tags @> ARRAY[' || w[1] || ']';
        ELSIF pick < 0.7 THEN
            r := 'tags CONTAINS ANY (' || array_to_string(w, ', ') || ')'; s := 'tags && ARRAY[' || array_to_string(w, ', ') || ']';
        ELSE
            r := 'tags CONTAINS ALL (' || array_to_string(w, ', ') || ')'; s := 'tags @> ARRAY[' || array_to_string(w, ', ') || ']';
        END IF;
    ELSIF roll < 0.8 THEN
        -- doc: keys of a jsonb document over 8 kB
        IF pick < 0.3 THEN
            r := 'doc.plan = ''pro'''; s := '(doc->>''plan'') = ''pro''';
        ELSIF pick < 0.5 THEN
            r := 'doc.plan IN (''team'', ''free'')'; s := '(doc->>''plan'') IN (''team'', ''free'')';
        ELSIF pick < 0.8 THEN
            v := (pg_temp.vocab())[1 + floor(random() * 48)::int];
            r := format('doc.tags CONTAINS %L', v); s := format('(doc->''tags'') @> %L', to_jsonb(ARRAY[v]));
        ELSE
            r := 'doc.blob LIKE ''%ab%'''; s := '(doc->>''blob'') LIKE ''%ab%''';
        END IF;
    ELSE
        -- small columns
        IF pick < 0.5 THEN
            r := 'i4 > ' || (random() * 1000)::int; s := r;
        ELSE
            r := 't IN (''software'', ''fintech'')'; s := r;
        END IF;
    END IF;
END $$;

CREATE TEMP TABLE tested_big (profile text);
DO $$
DECLARE
    pname text;
    model text;
    missing text;
    bias float8;
    rr record;
    conds text[];
    weights float8[];
    reqs boolean[];
    w float8;
    req boolean;
BEGIN
    FOR p IN 1 .. 10 LOOP
        pname := 'big_' || p;
        model := CASE WHEN random() < 0.3 THEN 'logistic' ELSE 'points' END;
        missing := CASE WHEN random() < 0.4 THEN 'penalize' ELSE 'ignore' END;
        bias := round((random() * 4 - 2)::numeric, 2);
        INSERT INTO icp_profiles (name, kind, model, missing, bias)
        VALUES (pname, CASE WHEN random() < 0.3 THEN 'exclude' ELSE 'ideal' END, model, missing, bias);
        conds := '{}'; weights := '{}'; reqs := '{}';
        FOR i IN 1 .. 2 + floor(random() * 5)::int LOOP
            rr := pg_temp.rule(2, true);
            w := CASE WHEN random() < 0.2 THEN -round((random() * 20)::numeric) ELSE round((random() * 30)::numeric) END;
            req := random() < 0.1;
            INSERT INTO icp_criteria (profile, rule, weight, required) VALUES (pname, rr.r::icp_rule, w, req);
            conds := conds || rr.s; weights := weights || w; reqs := reqs || req;
        END LOOP;
        INSERT INTO tested_big VALUES (pname);

        -- the table row, a whole-row record, and jsonb
        PERFORM pg_temp.check_profile(pname, 'icp_diff.big', 'a', 'big row ', conds, weights, reqs, model, missing, bias);
        PERFORM pg_temp.check_profile(pname, '(SELECT * FROM icp_diff.big OFFSET 0)', 'a', 'big whole-row ',
                                      conds, weights, reqs, model, missing, bias);
        PERFORM pg_temp.check_profile(pname, 'icp_diff.big', 'to_jsonb(a)', 'big jsonb ',
                                      conds, weights, reqs, model, missing, bias);

        -- each criterion's outcome (icp_outcomes, icp_explain) is the SQL condition's
        EXECUTE format($q$
            INSERT INTO mismatches
            SELECT %1$L, a.id, 'big outcomes', icp_outcomes(a, %1$L)::text, ARRAY[%2$s]::boolean[]::text
              FROM icp_diff.big a
             WHERE icp_outcomes(a, %1$L) IS DISTINCT FROM ARRAY[%2$s]::boolean[]$q$,
            pname, array_to_string(conds, ', '));
        EXECUTE format($q$
            INSERT INTO mismatches
            SELECT %1$L, a.id, 'big explain', e.outcome || ' ' || e.points, c.oc::text
              FROM icp_diff.big a,
                   LATERAL icp_explain(a, %1$L) WITH ORDINALITY AS e(criterion, rule, weight, required, outcome, points, value, n),
                   LATERAL (SELECT (ARRAY[%2$s]::boolean[])[e.n] AS oc) c
             WHERE e.outcome IS DISTINCT FROM CASE c.oc WHEN true THEN 'match' WHEN false THEN 'miss' ELSE 'unknown' END
                OR e.points IS DISTINCT FROM CASE WHEN c.oc THEN e.weight ELSE 0 END$q$,
            pname, array_to_string(conds, ', '));
        -- a profile value scores as the stored profile
        INSERT INTO mismatches
        SELECT pname, a.id, 'big value fit', icp_fit(a, v.p)::text, icp_fit(x, pname)::text
          FROM icp_diff.big a JOIN (SELECT * FROM icp_diff.big OFFSET 0) x USING (id),
               (SELECT icp_profile(pname)) AS v(p)
         WHERE icp_fit(a, v.p) IS DISTINCT FROM icp_fit(x, pname);
    END LOOP;
END $$;

-- icp_segment over the big profiles: the matching exclude profile with the
-- highest fit, else the matching ideal one, ties to the first name (C
-- collation), over the fits and grades of the whole-row records (which the
-- checks above compare with SQL).
CREATE TEMP TABLE big_segments AS
SELECT a.id, icp_segment(a, (SELECT array_agg(profile) FROM tested_big)) AS got,
       (SELECT f.profile
          FROM (SELECT t.profile, p.kind, icp_fit(x, t.profile) AS fit, icp_grade(x, t.profile) AS grade
                  FROM tested_big t JOIN icp_profiles p ON p.name = t.profile) f
         WHERE f.grade IN ('A', 'B', 'C')
         ORDER BY f.kind = 'exclude' DESC, f.fit DESC, f.profile COLLATE "C" LIMIT 1) AS want
  FROM icp_diff.big a JOIN (SELECT * FROM icp_diff.big OFFSET 0) x USING (id);
INSERT INTO mismatches
SELECT 'big segment', id, 'big segment', got, want FROM big_segments WHERE got IS DISTINCT FROM want;

SELECT ok((SELECT min(octet_length(note)) FILTER (WHERE octet_length(note) > 100) >= 5000
                  AND max(octet_length(note)) <= 50000
                  AND min(cardinality(tags)) FILTER (WHERE cardinality(tags) > 100) >= 500
                  AND bool_or(pg_column_size(note) < octet_length(note))
                  AND bool_or(pg_column_size(doc) > 8000)
             FROM icp_diff.big)
          AND (SELECT pg_relation_size(reltoastrelid) > 0 FROM pg_class WHERE oid = 'icp_diff.big'::regclass),
          'big values: texts of 5-50 kB, arrays of 500+ elements and jsonb over 8 kB, stored compressed and out of line');
SELECT is((SELECT count(*)::int FROM tested_big), 10, 'big values: 10 random profiles were scored');
SELECT cmp_ok((SELECT count(DISTINCT icp_fit(x, t.profile))::int FROM (SELECT * FROM icp_diff.big OFFSET 0) x, tested_big t),
              '>', 20, 'big values: the fits are varied');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what LIKE 'big row %'), 0,
          'big values: icp_fit, icp_grade and icp_score on table rows (planner-rewritten) equal the SQL formulas');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what LIKE 'big whole-row %'), 0,
          'big values: icp_fit, icp_grade and icp_score on whole-row records equal the SQL formulas');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what LIKE 'big jsonb %'), 0,
          'big values: icp_fit, icp_grade and icp_score on to_jsonb(row) equal the SQL formulas');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what IN ('big outcomes', 'big explain')), 0,
          'big values: icp_outcomes and icp_explain give each criterion the outcome of its SQL condition');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what = 'big value fit'), 0,
          'big values: profile values score like stored profiles');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what = 'big segment'), 0,
          'big values: icp_segment equals the segmentation rule over the fits');
SELECT cmp_ok((SELECT count(*)::int FROM big_segments WHERE want IS NOT NULL), '>', 10,
              'big values: many rows fall into a segment');

-- parallel workers score big values as the leader does
CREATE TEMP TABLE big_serial AS
SELECT g, sum(icp_fit(a, 'big_' || g)) AS s, count(icp_grade(a, 'big_' || g)) AS c
  FROM icp_diff.big a, generate_series(1, 10) g GROUP BY g;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;
SELECT matches(pg_temp.plan_of($$SELECT g, sum(icp_fit(a, 'big_' || g)) FROM icp_diff.big a, generate_series(1, 10) g GROUP BY g$$),
               'Parallel Seq Scan', 'big values: scoring runs in parallel workers');
SELECT ok((SELECT bool_and(abs(coalesce(p.s, 0) - coalesce(b.s, 0)) <= 1e-6 * greatest(1, abs(b.s)) AND p.c = b.c)
             FROM big_serial b
             JOIN (SELECT g, sum(icp_fit(a, 'big_' || g)) AS s, count(icp_grade(a, 'big_' || g)) AS c
                     FROM icp_diff.big a, generate_series(1, 10) g GROUP BY g) p USING (g)),
          'big values: parallel icp_fit and icp_grade agree with the serial ones');

SELECT diag(format('%s row %s %s: icp %s, expected %s', profile, id, what, left(icp, 80), left(expected, 80)))
FROM (SELECT * FROM mismatches WHERE what LIKE 'big%' LIMIT 5) m;

-- Decay: a criterion may name a time attribute and a half-life; when true it
-- earns weight * 0.5 ^ (age / half_life), age = now() - the time (no decay
-- for a time in the future), and a true one whose time is unknown is
-- unknown.  In SQL the criterion's condition becomes CASE WHEN cond THEN
-- (time IS NOT NULL or NULL) ELSE cond END and its factor
-- power(0.5, epoch(now() - time) / epoch(half_life)).
-- Times: date, timestamp and timestamptz columns (read in the session's
-- time zone, as now() - x reads them), times in the future, and a jsonb
-- string, on the small rows and on the big (TOASTed) ones.
SET LOCAL max_parallel_workers_per_gather = 0;
ALTER TABLE icp_diff.acc ADD COLUMN seen timestamptz;
UPDATE icp_diff.acc SET seen = CASE WHEN random() < 0.2 THEN NULL
                                    ELSE now() - random() * interval '200 days' + interval '10 days' END;
UPDATE icp_diff.acc SET j = j || jsonb_build_object('seen', seen) WHERE j IS NOT NULL AND random() < 0.8;
ALTER TABLE icp_diff.big ADD COLUMN seen timestamptz;
UPDATE icp_diff.big SET seen = CASE WHEN random() < 0.2 THEN NULL
                                    ELSE now() - random() * interval '400 days' + interval '5 days' END;
UPDATE icp_diff.big SET doc = doc || jsonb_build_object('seen', seen - interval '3 days')
 WHERE doc IS NOT NULL AND seen IS NOT NULL;

-- a random decay for a table: (decay_on, half_life, SQL time expression)
CREATE FUNCTION pg_temp.decay(big boolean, OUT d text, OUT hl text, OUT t text) LANGUAGE plpgsql AS $$
DECLARE
    k int;
BEGIN
    IF big THEN
        k := 1 + floor(random() * 2)::int;
        d := (ARRAY['seen', 'doc.seen'])[k];
        t := (ARRAY['a.seen', '(a.doc->>''seen'')::timestamptz'])[k];
    ELSE
        k := 1 + floor(random() * 5)::int;
        d := (ARRAY['d', 'ts', 'tz', 'seen', 'j.seen'])[k];
        t := (ARRAY['a.d::timestamptz', 'a.ts::timestamptz', 'a.tz', 'a.seen', '(a.j->>''seen'')::timestamptz'])[k];
    END IF;
    hl := (ARRAY['1 day', '7 days', '30 days', '45 days 12:30:00', '2 weeks 3 hours', '1 mon', '3 mons', '1 year'])
          [1 + floor(random() * 8)::int];
END $$;

CREATE TEMP TABLE tested_decay (profile text, big boolean, conds text[], facs text[], weights float8[]);
DO $$
DECLARE
    pname text;
    model text;
    missing text;
    bias float8;
    rr record;
    dd record;
    conds text[];
    facs text[];
    weights float8[];
    reqs boolean[];
    w float8;
    req boolean;
    big boolean;
BEGIN
    FOR p IN 1 .. 40 LOOP
        big := p > 30;
        pname := 'decay_' || p;
        model := CASE WHEN p % 2 = 0 THEN 'logistic' ELSE 'points' END;
        missing := CASE WHEN p % 4 IN (0, 1) THEN 'penalize' ELSE 'ignore' END;
        bias := round((random() * 4 - 2)::numeric, 2);
        INSERT INTO icp_profiles (name, model, missing, bias) VALUES (pname, model, missing, bias);
        conds := '{}'; facs := '{}'; weights := '{}'; reqs := '{}';
        FOR i IN 1 .. 2 + floor(random() * 4)::int LOOP
            rr := pg_temp.rule(2, big);
            w := CASE WHEN random() < 0.2 THEN -round((random() * 20)::numeric, 1)
                      ELSE round((random() * 30)::numeric, 1) END;
            req := random() < 0.1;
            IF i = 1 OR random() < 0.6 THEN
                dd := pg_temp.decay(big);
                INSERT INTO icp_criteria (profile, rule, weight, required, decay_on, half_life)
                VALUES (pname, rr.r::icp_rule, w, req, dd.d, dd.hl::interval);
                conds := conds || format('CASE WHEN %2$s THEN CASE WHEN %1$s IS NULL THEN NULL ELSE true END ELSE %2$s END',
                                         dd.t, rr.s);
                facs := facs || format('CASE WHEN %1$s < now() THEN power(0.5::float8, extract(epoch FROM now() - %1$s)::float8 / extract(epoch FROM interval %2$L)::float8) ELSE 1 END',
                                       dd.t, dd.hl);
            ELSE
                INSERT INTO icp_criteria (profile, rule, weight, required) VALUES (pname, rr.r::icp_rule, w, req);
                conds := conds || rr.s;
                facs := facs || '1'::text;
            END IF;
            weights := weights || w; reqs := reqs || req;
        END LOOP;
        INSERT INTO tested_decay VALUES (pname, big, conds, facs, weights);
        IF big THEN
            PERFORM pg_temp.check_profile(pname, 'icp_diff.big', 'a', 'decay big row ', conds, weights, reqs, model, missing, bias, facs);
            PERFORM pg_temp.check_profile(pname, '(SELECT * FROM icp_diff.big OFFSET 0)', 'a', 'decay big whole-row ',
                                          conds, weights, reqs, model, missing, bias, facs);
            PERFORM pg_temp.check_profile(pname, 'icp_diff.big', 'to_jsonb(a)', 'decay big jsonb ',
                                          conds, weights, reqs, model, missing, bias, facs);
        ELSE
            PERFORM pg_temp.check_profile(pname, 'icp_diff.acc', 'a', 'decay row ', conds, weights, reqs, model, missing, bias, facs);
            PERFORM pg_temp.check_profile(pname, '(SELECT * FROM icp_diff.acc OFFSET 0)', 'a', 'decay whole-row ',
                                          conds, weights, reqs, model, missing, bias, facs);
        END IF;
        -- icp_explain: each criterion's outcome, and its points = weight * factor when true
        EXECUTE format($q$
            INSERT INTO mismatches
            SELECT %1$L, a.id, 'decay explain', e.outcome || ' ' || e.points, c.oc || ' ' || c.pts
              FROM %3$s a,
                   LATERAL icp_explain(a, %1$L) WITH ORDINALITY AS e(criterion, rule, weight, required, outcome, points, value, n),
                   LATERAL (SELECT (ARRAY[%2$s]::boolean[])[e.n] AS oc,
                                   CASE WHEN (ARRAY[%2$s]::boolean[])[e.n] THEN e.weight * (ARRAY[%4$s]::float8[])[e.n]
                                        ELSE 0 END AS pts) c
             WHERE e.outcome IS DISTINCT FROM CASE c.oc WHEN true THEN 'match' WHEN false THEN 'miss' ELSE 'unknown' END
                OR abs(e.points - c.pts) > 1e-9 * greatest(1, abs(c.pts))$q$,
            pname, array_to_string(conds, ', '), CASE WHEN big THEN 'icp_diff.big' ELSE 'icp_diff.acc' END,
            array_to_string(facs, ', '));
        -- a profile value (its JSON text read back) scores as the stored profile
        INSERT INTO mismatches
        SELECT pname, a.id, 'decay value fit', icp_fit(a, v.p)::text, icp_fit(a, pname)::text
          FROM icp_diff.acc a, (SELECT icp_profile(pname)::text::icp_profile) AS v(p)
         WHERE NOT big AND icp_fit(a, v.p) IS DISTINCT FROM icp_fit(a, pname);
    END LOOP;
END $$;

SELECT is((SELECT count(*)::int FROM tested_decay), 40, 'decay: 40 random profiles were scored');
SELECT ok((SELECT count(*) FROM icp_criteria WHERE decay_on IS NOT NULL AND profile LIKE 'decay%') >= 40
          AND (SELECT count(DISTINCT decay_on) FROM icp_criteria WHERE profile LIKE 'decay%') = 6
          AND (SELECT count(DISTINCT p.model || p.missing) FROM icp_profiles p WHERE name LIKE 'decay%') = 4,
          'decay: every kind of time attribute, both models and both missing policies were used');
SELECT ok((SELECT count(*) FROM icp_diff.acc WHERE seen > now()) > 5
          AND (SELECT count(*) FROM icp_diff.acc WHERE seen IS NULL) > 5,
          'decay: times in the future and unknown times were scored');
SELECT cmp_ok((SELECT count(DISTINCT round(icp_fit(a, t.profile)::numeric, 6))::int
                 FROM icp_diff.acc a, tested_decay t WHERE NOT t.big), '>', 200,
              'decay: the fits are varied');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what LIKE 'decay row %'), 0,
          'decay: icp_fit, icp_grade and icp_score on table rows equal the SQL formulas');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what LIKE 'decay whole-row %'), 0,
          'decay: icp_fit, icp_grade and icp_score on whole-row records equal the SQL formulas');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what LIKE 'decay big %'), 0,
          'decay: big (TOASTed) rows, whole-row records and their jsonb equal the SQL formulas');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what = 'decay explain'), 0,
          'decay: icp_explain shows each outcome and the decayed points');
SELECT is((SELECT count(*)::int FROM mismatches WHERE what = 'decay value fit'), 0,
          'decay: a profile value read back from its JSON text scores as the stored profile');
SELECT diag(format('%s row %s %s: icp %s, expected %s', profile, id, what, left(icp, 80), left(expected, 80)))
FROM (SELECT * FROM mismatches WHERE what LIKE 'decay%' LIMIT 5) m;

-- parallel workers decay as the leader does: same now(), same time zone
CREATE TEMP TABLE decay_serial AS
SELECT t.profile, sum(icp_fit(a, t.profile)) AS s, count(icp_grade(a, t.profile)) AS c
  FROM tested_decay t, icp_diff.acc a WHERE NOT t.big GROUP BY t.profile;
CREATE TABLE icp_diff.decayacc AS SELECT acc.* FROM icp_diff.acc, generate_series(1, 25);
ANALYZE icp_diff.decayacc;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT ok(pg_temp.plan_of($$SELECT sum(icp_fit(a, 'decay_1')) FROM icp_diff.decayacc a$$) ~ 'Parallel Seq Scan'
          AND (SELECT bool_and(abs(coalesce(x.s, 0) - 25 * coalesce(d.s, 0)) <= 1e-6 * greatest(1, abs(d.s)) AND x.c = 25 * d.c)
                 FROM decay_serial d,
                      LATERAL (SELECT sum(icp_fit(a, d.profile)) AS s, count(icp_grade(a, d.profile)) AS c
                                 FROM icp_diff.decayacc a) x),
          'decay: parallel icp_fit and icp_grade agree with the serial ones');

SELECT * FROM finish();
ROLLBACK;
