-- test/fuzz/account.sql: the generator and checks of test/fuzz/account.sh,
-- a fuzzer of the account path (how row values reach the rules).  Loaded
-- into schema icp_fuzz; each iteration (CALL icp_fuzz.iteration(seed))
-- builds a random table in schema icp_fuzz_data, random profiles over it
-- (every rule written twice: in the rule language and as the SQL condition
-- it means), and compares icp with the scoring formulas of the README
-- computed in plain SQL on every scoring path.  A disagreement or an
-- unexpected error is raised as an error whose detail holds the table, the
-- profiles and the first disagreements.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS icp_fuzz CASCADE;
RESET client_min_messages;
CREATE SCHEMA icp_fuzz;

-- a generated profile: its settings and criteria, each criterion's rule
-- also written as an SQL condition (conds), jok: all rules mean the same
-- on to_jsonb(row)
CREATE TYPE icp_fuzz.profdesc AS (name text, kind text, model text, missing text, bias float8,
                                  th float8[], conds text[], weights float8[], reqs boolean[], jok boolean);

-- the words small texts, text arrays and literals are drawn from
CREATE FUNCTION icp_fuzz.vocab() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['alpha', 'Beta', 'gamma', 'DELTA', 'epsilon', '', 'abc', 'Zeta', 'ab ', 'lorem ipsum']
$$;

-- a random element of a
CREATE FUNCTION icp_fuzz.pick(a anyarray) RETURNS anyelement LANGUAGE sql VOLATILE AS $$
    SELECT a[1 + floor(random() * cardinality(a))::int]
$$;

-- a random text: small (a word) or 3-60 kB, compressible or not
CREATE FUNCTION icp_fuzz.rtext() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    roll float8 := random();
    len int := 3000 + floor(random() * 57000)::int;
BEGIN
    IF roll < 0.7 THEN
        RETURN icp_fuzz.pick(icp_fuzz.vocab());
    ELSIF roll < 0.85 THEN
        RETURN left(icp_fuzz.pick(ARRAY['abc', 'lorem ipsum ', 'xyz-', 'Beta ']) || repeat(icp_fuzz.pick(ARRAY['abc', 'lorem ipsum ', 'xyz-']), len / 3), len);
    ELSE
        RETURN left(icp_fuzz.pick(ARRAY['', 'abc', 'alpha']) || (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, len / 32 + 1)), len);
    END IF;
END $$;

-- a random text[]: a few words with NULLs, or 300-3,000 elements
CREATE FUNCTION icp_fuzz.rtextarr() RETURNS text[] LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n int := 300 + floor(random() * 2700)::int;
BEGIN
    IF random() < 0.75 THEN
        RETURN ARRAY(SELECT x FROM unnest(icp_fuzz.vocab() || ARRAY['sf', 'hs', NULL]) x WHERE random() < 0.3);
    ELSIF random() < 0.5 THEN
        RETURN ARRAY(SELECT icp_fuzz.pick(icp_fuzz.vocab() || ARRAY['sf', 'hs']) FROM generate_series(1, n));
    ELSE
        RETURN ARRAY(SELECT CASE WHEN random() < 0.01 THEN icp_fuzz.pick(icp_fuzz.vocab()) ELSE md5(random()::text) END
                       FROM generate_series(1, n));
    END IF;
END $$;

-- a random int4[]: a few of 1..8 with NULLs, or 300-3,000 elements of 1..5000
CREATE FUNCTION icp_fuzz.rintarr() RETURNS int4[] LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF random() < 0.75 THEN
        RETURN ARRAY(SELECT CASE WHEN random() < 0.1 THEN NULL ELSE x END FROM generate_series(1, 8) x WHERE random() < 0.35);
    END IF;
    RETURN ARRAY(SELECT 1 + floor(random() * 5000)::int FROM generate_series(1, 300 + floor(random() * 2700)::int));
END $$;

-- a random jsonb document: small, or over 8 kB (a long blob, 500 tags)
CREATE FUNCTION icp_fuzz.rjson() RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    d jsonb := '{}';
    big boolean := random() < 0.25;
BEGIN
    IF random() < 0.8 THEN
        d := d || jsonb_build_object('score',
            CASE WHEN random() < 0.1 THEN 'null'::jsonb
                 WHEN random() < 0.15 THEN to_jsonb(round((random() * 100)::numeric, 1)::text)
                 ELSE to_jsonb(round((random() * 100)::numeric, 1)) END);
    END IF;
    IF random() < 0.8 THEN
        d := d || jsonb_build_object('plan', CASE WHEN random() < 0.1 THEN 'null'::jsonb
                                                  ELSE to_jsonb(icp_fuzz.pick(ARRAY['free', 'pro', 'team', 'Pro'])) END);
    END IF;
    IF random() < 0.7 THEN
        d := d || jsonb_build_object('flag', random() < 0.5);
    END IF;
    IF big THEN
        d := d || jsonb_build_object(
            'tags', to_jsonb(ARRAY(SELECT icp_fuzz.pick(ARRAY['x', 'y', 'z', 'w', 'v', md5(random()::text)])
                                     FROM generate_series(1, 500 + floor(random() * 500)::int))),
            'blob', (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 260 + floor(random() * 300)::int)));
    ELSIF random() < 0.8 THEN
        d := d || jsonb_build_object('tags', to_jsonb(ARRAY(SELECT x FROM unnest(ARRAY['x', 'y', 'z']) x WHERE random() < 0.5)));
    END IF;
    RETURN d;
END $$;

-- the SQL expression that gives a random value of a column kind
CREATE FUNCTION icp_fuzz.value_sql(kind text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT 'CASE WHEN random() < 0.15 THEN NULL ELSE ' || CASE kind
        WHEN 'int2' THEN 'CASE WHEN random() < 0.05 THEN icp_fuzz.pick(ARRAY[-32768, 32767, 0])::int2 ELSE (random() * 200 - 100)::int2 END'
        WHEN 'int4' THEN '(random() * 2000 - 1000)::int4'
        WHEN 'dint' THEN '(random() * 2000 - 1000)::int4::icp_fuzz_data.dint'
        WHEN 'int8' THEN '(random() * 1e12 - 5e11)::int8'
        WHEN 'numeric' THEN 'round((random() * 1000 - 500)::numeric, 3)'
        WHEN 'float4' THEN '(random() * 10 - 5)::float4'
        WHEN 'float8' THEN 'random() * 10 - 5'
        WHEN 'text' THEN 'icp_fuzz.rtext()'
        WHEN 'varchar' THEN 'icp_fuzz.rtext()::varchar'
        WHEN 'citext' THEN 'icp_fuzz.rtext()::citext'
        WHEN 'dtext' THEN 'icp_fuzz.rtext()::icp_fuzz_data.dtext'
        WHEN 'bool' THEN 'random() < 0.5'
        WHEN 'date' THEN 'current_date - (random() * 200 - 20)::int'
        WHEN 'timestamp' THEN 'localtimestamp - random() * interval ''200 days'' + interval ''10 days'''
        WHEN 'timestamptz' THEN 'now() - random() * interval ''200 days'' + interval ''10 days'''
        WHEN 'enum' THEN 'icp_fuzz.pick(enum_range(NULL::icp_fuzz_data.tier))'
        WHEN 'text[]' THEN 'icp_fuzz.rtextarr()'
        WHEN 'int4[]' THEN 'icp_fuzz.rintarr()'
        WHEN 'jsonb' THEN 'icp_fuzz.rjson()'
    END || ' END'
$$;

-- the SQL type of a column kind
CREATE FUNCTION icp_fuzz.type_sql(kind text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE kind WHEN 'enum' THEN 'icp_fuzz_data.tier' WHEN 'dint' THEN 'icp_fuzz_data.dint'
                     WHEN 'dtext' THEN 'icp_fuzz_data.dtext' ELSE kind END
$$;

-- a random literal for a column kind: (rule text, SQL text); col names the
-- column, whose stored values small text literals are sometimes taken from
CREATE FUNCTION icp_fuzz.lit(kind text, col text, OUT r text, OUT s text) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    x numeric;
    v text;
BEGIN
    CASE
    WHEN kind IN ('int2', 'int4', 'int8', 'numeric', 'dint') THEN
        x := CASE WHEN random() < 0.08 THEN icp_fuzz.pick(ARRAY[40000, -40000, 1e20, -1e20, 2.5, 32767, -32768]::numeric[])
                  WHEN kind = 'int8' THEN round((random() * 1e12 - 5e11)::numeric, CASE WHEN random() < 0.2 THEN 1 ELSE 0 END)
                  WHEN kind = 'int2' THEN round((random() * 220 - 110)::numeric, CASE WHEN random() < 0.2 THEN 1 ELSE 0 END)
                  ELSE round((random() * 2200 - 1100)::numeric, CASE WHEN random() < 0.3 THEN 2 ELSE 0 END) END;
        r := x::text; s := x::text;
    WHEN kind IN ('float4', 'float8') THEN
        x := round((random() * 10 - 5)::numeric, 3); r := x::text; s := x::text || '::float8';
    WHEN kind IN ('text', 'varchar', 'citext', 'dtext') THEN
        IF random() < 0.3 THEN
            EXECUTE format('SELECT %I::text FROM icp_fuzz_data.acc WHERE %I IS NOT NULL AND octet_length(%I) < 20000 ORDER BY random() LIMIT 1',
                           col, col, col) INTO v;
        END IF;
        v := coalesce(v, icp_fuzz.pick(icp_fuzz.vocab() || ARRAY['ALPHA', 'beta', 'm', 'zzz']));
        r := quote_literal(v); s := r;
    WHEN kind = 'enum' THEN
        r := quote_literal(icp_fuzz.pick(enum_range(NULL::icp_fuzz_data.tier))::text); s := r;
    WHEN kind = 'date' THEN
        r := quote_literal((current_date - (random() * 200 - 20)::int)::text); s := r || '::date';
    WHEN kind = 'timestamp' THEN
        r := quote_literal(date_trunc('second', localtimestamp - random() * interval '200 days' + interval '10 days')::text);
        s := r || '::timestamp';
    WHEN kind = 'timestamptz' THEN
        r := quote_literal(date_trunc('second', now() - random() * interval '200 days' + interval '10 days')::text);
        s := r || '::timestamptz';
    END CASE;
END $$;

-- a random predicate over one of the columns (names, kinds):
-- (rule text, SQL text, jok: the rule means the same on to_jsonb(row))
CREATE FUNCTION icp_fuzz.pred(names text[], kinds text[], OUT r text, OUT s text, OUT jok boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k int := 1 + floor(random() * cardinality(names))::int;
    c text := quote_ident(names[k]);
    kind text := kinds[k];
    op text;
    a record;
    b record;
    n int;
    rl text[];
    sl text[];
    num numeric;
    roll float8 := random();
BEGIN
    jok := kind NOT IN ('float4', 'float8', 'citext', 'enum');
    IF roll < 0.07 THEN
        r := c || CASE WHEN random() < 0.5 THEN ' IS NULL' ELSE ' IS NOT NULL' END; s := r; RETURN;
    END IF;
    IF kind = 'bool' THEN
        r := c || ' ' || icp_fuzz.pick(ARRAY['IS TRUE', 'IS NOT TRUE', 'IS FALSE', 'IS NOT FALSE', '= TRUE', '<> FALSE', '= FALSE']);
        s := r; RETURN;
    ELSIF kind = 'text[]' THEN
        rl := ARRAY(SELECT quote_literal(x) FROM unnest(icp_fuzz.vocab() || ARRAY['sf', 'hs', 'none']) x WHERE random() < 0.25);
        IF rl = '{}' THEN rl := ARRAY['''sf''']; END IF;
        IF roll < 0.4 THEN
            r := c || ' CONTAINS ' || rl[1]; s := c || ' @> ARRAY[' || rl[1] || ']';
        ELSIF roll < 0.7 THEN
            r := c || ' CONTAINS ANY (' || array_to_string(rl, ', ') || ')'; s := c || ' && ARRAY[' || array_to_string(rl, ', ') || ']';
        ELSE
            r := c || ' CONTAINS ALL (' || array_to_string(rl, ', ') || ')'; s := c || ' @> ARRAY[' || array_to_string(rl, ', ') || ']';
        END IF;
        RETURN;
    ELSIF kind = 'int4[]' THEN
        rl := ARRAY(SELECT CASE WHEN random() < 0.5 THEN 1 + floor(random() * 8)::int ELSE 1 + floor(random() * 5000)::int END::text
                      FROM generate_series(1, 1 + floor(random() * 3)::int));
        IF roll < 0.4 THEN
            r := c || ' CONTAINS ' || rl[1]; s := c || ' @> ARRAY[' || rl[1] || ']';
        ELSIF roll < 0.7 THEN
            r := c || ' CONTAINS ANY (' || array_to_string(rl, ', ') || ')'; s := c || ' && ARRAY[' || array_to_string(rl, ', ') || ']::int4[]';
        ELSE
            r := c || ' CONTAINS ALL (' || array_to_string(rl, ', ') || ')'; s := c || ' @> ARRAY[' || array_to_string(rl, ', ') || ']::int4[]';
        END IF;
        RETURN;
    ELSIF kind = 'jsonb' THEN
        IF roll < 0.3 THEN
            op := icp_fuzz.pick(ARRAY['=', '<>', '<', '<=', '>', '>=']);
            num := round((random() * 100)::numeric, 1);
            r := c || '.score ' || op || ' ' || num; s := '(' || c || '->>''score'')::numeric ' || op || ' ' || num;
        ELSIF roll < 0.38 THEN
            r := c || '.score BETWEEN 20 AND 70.5'; s := '(' || c || '->>''score'')::numeric BETWEEN 20 AND 70.5';
        ELSIF roll < 0.55 THEN
            op := icp_fuzz.pick(ARRAY['=', '<>']);
            r := c || '.plan ' || op || ' ''pro'''; s := '(' || c || '->>''plan'') ' || op || ' ''pro''';
        ELSIF roll < 0.62 THEN
            op := icp_fuzz.pick(ARRAY[' IN ', ' NOT IN ']);
            r := c || '.plan' || op || '(''pro'', ''team'')'; s := '(' || c || '->>''plan'')' || op || '(''pro'', ''team'')';
        ELSIF roll < 0.68 THEN
            r := c || '.plan LIKE ''%r%'''; s := '(' || c || '->>''plan'') LIKE ''%r%''';
        ELSIF roll < 0.76 THEN
            op := icp_fuzz.pick(ARRAY['x', 'y', 'v']);
            r := c || '.tags CONTAINS ' || quote_literal(op); s := '(' || c || '->''tags'') @> ''["' || op || '"]''';
        ELSIF roll < 0.82 THEN
            r := c || '.tags CONTAINS ANY (''z'', ''w'')'; s := '((' || c || '->''tags'') @> ''["z"]'' OR (' || c || '->''tags'') @> ''["w"]'')';
        ELSIF roll < 0.86 THEN
            r := c || '.tags CONTAINS ALL (''x'', ''y'')'; s := '(' || c || '->''tags'') @> ''["x", "y"]''';
        ELSIF roll < 0.92 THEN
            op := icp_fuzz.pick(ARRAY['TRUE', 'FALSE']);
            r := c || '.flag = ' || op; s := '(' || c || '->>''flag'')::boolean = ' || op;
        ELSIF roll < 0.96 THEN
            r := c || '.blob LIKE ''%ab%'''; s := '(' || c || '->>''blob'') LIKE ''%ab%''';
        ELSE
            r := c || '.plan IS NULL'; s := '(' || c || '->>''plan'') IS NULL';
        END IF;
        RETURN;
    END IF;

    IF kind IN ('date', 'timestamp', 'timestamptz') AND roll < 0.3 THEN
        n := 1 + floor(random() * 150)::int;
        r := c || ' WITHIN ''' || n || ' days''';
        s := '(' || c || ' BETWEEN now() - interval ''' || n || ' days'' AND now())';
        jok := false;
        RETURN;
    END IF;
    IF kind IN ('text', 'varchar', 'citext', 'dtext') AND roll < 0.4 THEN
        IF random() < 0.6 THEN
            op := icp_fuzz.pick(ARRAY['LIKE', 'NOT LIKE', 'ILIKE', 'NOT ILIKE']);
            r := c || ' ' || op || ' ' || quote_literal(icp_fuzz.pick(ARRAY['%a%', 'a%', '_e%', '%ab%', 'A%', '%abc', 'abc%', '%ipsum%', 'LOREM%', '%-xyz', '', '%']));
        ELSE
            op := icp_fuzz.pick(ARRAY['~', '~*']);
            r := c || ' ' || op || ' ' || quote_literal(icp_fuzz.pick(ARRAY['^[a-d]', 'abc$', '(xyz-){3}', '^[0-9a-f]+$', 'A', 'ta$', '^$']));
        END IF;
        s := r; RETURN;
    END IF;
    IF roll < 0.6 THEN
        a := icp_fuzz.lit(kind, names[k]);
        op := icp_fuzz.pick(ARRAY['=', '<>', '!=', '<', '<=', '>', '>=']);
        r := c || ' ' || op || ' ' || a.r; s := c || ' ' || op || ' ' || a.s;
    ELSIF roll < 0.78 THEN
        a := icp_fuzz.lit(kind, names[k]); b := icp_fuzz.lit(kind, names[k]);
        op := CASE WHEN random() < 0.3 THEN ' NOT BETWEEN ' ELSE ' BETWEEN ' END;
        r := c || op || a.r || ' AND ' || b.r; s := c || op || a.s || ' AND ' || b.s;
    ELSE
        rl := '{}'; sl := '{}';
        FOR i IN 1 .. 1 + floor(random() * 5)::int LOOP
            a := icp_fuzz.lit(kind, names[k]); rl := rl || a.r; sl := sl || a.s;
        END LOOP;
        op := CASE WHEN random() < 0.3 THEN ' NOT IN (' ELSE ' IN (' END;
        r := c || op || array_to_string(rl, ', ') || ')'; s := c || op || array_to_string(sl, ', ') || ')';
    END IF;
END $$;

-- a random rule of AND/OR/NOT over predicates: (rule, SQL, jok)
CREATE FUNCTION icp_fuzz.rule(depth int, names text[], kinds text[], OUT r text, OUT s text, OUT jok boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    x record;
    y record;
    roll float8 := random();
BEGIN
    IF depth <= 0 OR roll < 0.55 THEN
        x := icp_fuzz.pred(names, kinds);
        r := x.r; s := '(' || x.s || ')'; jok := x.jok; RETURN;
    END IF;
    IF roll < 0.65 THEN
        x := icp_fuzz.rule(depth - 1, names, kinds);
        r := 'NOT (' || x.r || ')'; s := '(NOT ' || x.s || ')'; jok := x.jok; RETURN;
    END IF;
    x := icp_fuzz.rule(depth - 1, names, kinds); y := icp_fuzz.rule(depth - 1, names, kinds);
    jok := x.jok AND y.jok;
    IF roll < 0.83 THEN
        r := '(' || x.r || ') AND (' || y.r || ')'; s := '(' || x.s || ' AND ' || y.s || ')';
    ELSE
        r := '(' || x.r || ') OR (' || y.r || ')'; s := '(' || x.s || ' OR ' || y.s || ')';
    END IF;
END $$;

-- The query giving, for each row of source (aliased a), the fit, grade,
-- coverage and knock-out the README's formulas give for the profile whose
-- criteria mean conds (coverage is NULL when every weight is 0: a share of
-- nothing, which is what icp returns; the README does not say), and edge: the fit lies within 1e-9 of a grade
-- threshold (where float rounding may decide the grade either way).
CREATE FUNCTION icp_fuzz.expected_sql(source text, p icp_fuzz.profdesc) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT format($q$
        WITH o AS (
            SELECT a.id, ARRAY[%s]::boolean[] AS oc FROM %s a
        ), agg AS (
            SELECT o.id,
                coalesce(sum(u.w) FILTER (WHERE u.oc), 0) AS earned,
                coalesce(sum(greatest(u.w, 0)) FILTER (WHERE u.oc IS NOT NULL OR %L = 'penalize'), 0) AS possible,
                count(*) FILTER (WHERE u.oc IS NOT NULL OR %L = 'penalize') AS counted,
                coalesce(bool_or(u.req AND (u.oc = false OR (%L = 'penalize' AND u.oc IS NULL))), false) AS disq,
                sum(abs(u.w)) FILTER (WHERE u.oc IS NOT NULL) / nullif(sum(abs(u.w)), 0) AS cov,
                sum(abs(u.w)) AS total
            FROM o, unnest(o.oc, %L::float8[], %L::boolean[]) AS u(oc, w, req)
            GROUP BY o.id
        ), f AS (
            SELECT id, disq, CASE WHEN total > 0 THEN coalesce(cov, 0) END AS cov,
                CASE WHEN disq THEN 0::float8
                     WHEN %L = 'logistic' THEN 100 / (1 + exp(-(%s::float8 + earned)))
                     WHEN counted = 0 OR possible <= 0 THEN NULL
                     ELSE 100 * greatest(0, least(1, earned / possible)) END AS fit
            FROM agg
        )
        SELECT id, fit, disq, cov,
            CASE WHEN fit IS NULL THEN NULL WHEN disq THEN 'D' WHEN fit >= %s THEN 'A'
                 WHEN fit >= %s THEN 'B' WHEN fit >= %s THEN 'C' ELSE 'D' END AS grade,
            coalesce(NOT disq AND least(abs(fit - %s), abs(fit - %s), abs(fit - %s)) < 1e-9, false) AS edge
        FROM f$q$,
        array_to_string(p.conds, ', '), source, p.missing, p.missing, p.missing, p.weights, p.reqs,
        p.model, p.bias, p.th[1], p.th[2], p.th[3], p.th[1], p.th[2], p.th[3])
$$;

-- Compare icp_fit, icp_grade and icp_score (acct, prof: SQL expressions
-- over source aliased a) with the formulas; disagreements go to mismatch.
CREATE FUNCTION icp_fuzz.check(label text, source text, acct text, prof text, p icp_fuzz.profdesc) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO icp_fuzz_data.mismatch
        SELECT %L, w.id, m.what, m.got, m.want
          FROM (%s) w
          JOIN (SELECT a.id, icp_fit(%s, %s) AS fit, icp_grade(%s, %s) AS grade, icp_score(%s, %s) AS sc FROM %s a) g USING (id),
          LATERAL (VALUES
              ('fit', g.fit::text, w.fit::text,
               (g.fit IS NULL) = (w.fit IS NULL) AND coalesce(abs(g.fit - w.fit) <= 1e-9 * greatest(1, abs(w.fit)), true)),
              ('grade', g.grade, w.grade, g.grade IS NOT DISTINCT FROM w.grade OR w.edge),
              ('score.fit', (g.sc).fit::text, g.fit::text, (g.sc).fit IS NOT DISTINCT FROM g.fit),
              ('score.grade', (g.sc).grade, g.grade, (g.sc).grade IS NOT DISTINCT FROM g.grade),
              ('coverage', (g.sc).coverage::text, w.cov::text,
               CASE WHEN w.cov IS NULL THEN (g.sc).coverage IS NULL ELSE abs(coalesce((g.sc).coverage, -1) - w.cov) < 1e-9 END),
              ('disqualified', (g.sc).disqualified::text, w.disq::text, (g.sc).disqualified IS NOT DISTINCT FROM w.disq)
          ) AS m(what, got, want, ok)
         WHERE NOT m.ok$q$,
        label || ' ' || p.name, icp_fuzz.expected_sql(source, p), acct, prof, acct, prof, acct, prof, source);
END $$;

-- icp_outcomes and icp_explain give each criterion its SQL condition's outcome
CREATE FUNCTION icp_fuzz.check_outcomes(label text, source text, p icp_fuzz.profdesc) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO icp_fuzz_data.mismatch
        SELECT %1$L, a.id, 'outcomes', icp_outcomes(a, %2$L)::text, ARRAY[%3$s]::boolean[]::text
          FROM %4$s a
         WHERE icp_outcomes(a, %2$L) IS DISTINCT FROM ARRAY[%3$s]::boolean[]$q$,
        label || ' ' || p.name, p.name, array_to_string(p.conds, ', '), source);
    EXECUTE format($q$
        INSERT INTO icp_fuzz_data.mismatch
        SELECT %1$L, a.id, 'explain #' || e.n, e.outcome || ' ' || e.points || ' ' || e.weight, coalesce(c.oc::text, 'NULL') || ' ' || (%5$L::float8[])[e.n]
          FROM %4$s a,
               LATERAL icp_explain(a, %2$L) WITH ORDINALITY AS e(criterion, rule, weight, required, outcome, points, value, n),
               LATERAL (SELECT (ARRAY[%3$s]::boolean[])[e.n] AS oc) c
         WHERE e.outcome IS DISTINCT FROM CASE c.oc WHEN true THEN 'match' WHEN false THEN 'miss' ELSE 'unknown' END
            OR e.points IS DISTINCT FROM CASE WHEN c.oc THEN e.weight ELSE 0 END
            OR e.weight IS DISTINCT FROM (%5$L::float8[])[e.n]$q$,
        label || ' ' || p.name, p.name, array_to_string(p.conds, ', '), source, p.weights);
    EXECUTE format($q$
        INSERT INTO icp_fuzz_data.mismatch
        SELECT %1$L, a.id, 'explain rows', count(e.*)::text, %3$s::text
          FROM %2$s a LEFT JOIN LATERAL icp_explain(a, %4$L) e ON true
         GROUP BY a.id HAVING count(e.*) <> %3$s$q$,
        label || ' ' || p.name, source, cardinality(p.conds), p.name);
END $$;

-- Make a random profile over the columns and store it; returns its description
CREATE FUNCTION icp_fuzz.make_profile(pname text, names text[], kinds text[]) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    model text := CASE WHEN random() < 0.3 THEN 'logistic' ELSE 'points' END;
    missing text := CASE WHEN random() < 0.4 THEN 'penalize' ELSE 'ignore' END;
    bias float8 := round((random() * 4 - 2)::numeric, 2);
    th float8[] := icp_fuzz.pick(ARRAY['{80,60,40}', '{70,50,20}', '{90,89.5,10}', '{60,60,30}']::text[])::float8[];
    kind text := CASE WHEN random() < 0.35 THEN 'exclude' ELSE 'ideal' END;
    rr record;
    w float8;
    req boolean;
    rules text[] := '{}';
    conds text[] := '{}';
    weights float8[] := '{}';
    reqs boolean[] := '{}';
    jok boolean := true;
BEGIN
    INSERT INTO icp_profiles (name, kind, model, missing, bias, grade_thresholds)
    VALUES (pname, kind, model, missing, bias, th);
    FOR i IN 1 .. 1 + floor(random() * 6)::int LOOP
        rr := icp_fuzz.rule(2, names, kinds);
        w := CASE WHEN random() < 0.2 THEN -round((random() * 20)::numeric, 1) ELSE round((random() * 30)::numeric, 1) END;
        req := random() < 0.15;
        INSERT INTO icp_criteria (profile, rule, weight, required) VALUES (pname, rr.r::icp_rule, w, req);
        rules := rules || rr.r; conds := conds || rr.s; weights := weights || w; reqs := reqs || req;
        jok := jok AND rr.jok;
    END LOOP;
    RETURN jsonb_build_object('name', pname, 'kind', kind, 'model', model, 'missing', missing, 'bias', bias,
                              'th', th, 'rules', rules, 'conds', conds, 'weights', weights, 'reqs', reqs, 'jok', jok);
END $$;

-- the description of make_profile as a value for the checks
CREATE FUNCTION icp_fuzz.prof(d jsonb) RETURNS icp_fuzz.profdesc LANGUAGE sql IMMUTABLE AS $$
    SELECT d->>'name', d->>'kind', d->>'model', d->>'missing', (d->>'bias')::float8,
           ARRAY(SELECT jsonb_array_elements_text(d->'th'))::float8[],
           ARRAY(SELECT jsonb_array_elements_text(d->'conds')),
           ARRAY(SELECT jsonb_array_elements_text(d->'weights'))::float8[],
           ARRAY(SELECT jsonb_array_elements_text(d->'reqs'))::boolean[],
           (d->>'jok')::boolean
$$;

-- a profile that cannot bind to the table: (rule, the SQLSTATEs it may raise)
CREATE FUNCTION icp_fuzz.bad_rule(names text[], kinds text[], dropped text[], OUT r text, OUT states text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k int := 1 + floor(random() * cardinality(names))::int;
    c text := quote_ident(names[k]);
    roll float8 := random();
BEGIN
    IF roll < 0.4 THEN
        r := quote_ident(coalesce(icp_fuzz.pick(dropped), 'no_such_column')) || ' = 1';
        states := ARRAY['42703'];
    ELSIF kinds[k] IN ('int2', 'int4', 'int8', 'numeric', 'dint', 'float4', 'float8', 'bool', 'enum', 'int4[]') THEN
        r := c || ' = ''not a value''';
        states := ARRAY['22P02'];
    ELSIF kinds[k] IN ('date', 'timestamp', 'timestamptz') THEN
        r := c || ' > ''not a date''';
        states := ARRAY['22007', '22008'];
    ELSE
        r := quote_ident(names[k] || '_typo') || ' IS NULL';
        states := ARRAY['42703'];
    END IF;
END $$;

-- scores account acct with profile pname (twice: table row and whole-row
-- record) and says what went wrong, if anything, when an error among
-- states was expected
CREATE FUNCTION icp_fuzz.expect_error(pname text, query text, states text[]) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    st text;
    msg text;
    det text;
    hin text;
BEGIN
    EXECUTE query;
    RETURN 'no error from ' || query;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hin = PG_EXCEPTION_HINT;
    IF NOT st = ANY (states) THEN
        RETURN format('error %s (%s) instead of %s from %s', st, msg, states, query);
    END IF;
    IF strpos(concat_ws(' ', msg, det, hin), pname) = 0 THEN
        RETURN format('error %s does not name profile %s: %s / %s', st, pname, msg, det);
    END IF;
    RETURN NULL;
END $$;

-- One iteration of the fuzzer under setseed(seed).
CREATE PROCEDURE icp_fuzz.iteration(seed float8) LANGUAGE plpgsql AS $$
DECLARE
    all_kinds text[] := ARRAY['int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'text', 'varchar', 'bool',
                              'date', 'timestamp', 'timestamptz', 'enum', 'text[]', 'int4[]', 'jsonb', 'dint', 'dtext'];
    names text[] := '{}';
    kinds text[] := '{}';
    dropped text[] := '{}';
    coldefs text[] := '{}';
    ddl text[] := '{}';
    kind text;
    nm text;
    ncols int;
    nrows int;
    labels text[];
    tbl text;
    descs jsonb[] := '{}';
    p1 icp_fuzz.profdesc;
    p2 icp_fuzz.profdesc;
    p icp_fuzz.profdesc;
    br record;
    bad_name text;
    err text;
    errs text[] := '{}';
    nmis int;
    report text;
    collist text;
    v text;
BEGIN
    PERFORM setseed(seed);
    IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'citext' AND installed_version IS NOT NULL) THEN
        all_kinds := all_kinds || ARRAY['citext'];
    END IF;

    -- types: an enum with its labels in random order, one added BEFORE
    -- another (an odd OID, so order comes from the sort order), domains
    CREATE SCHEMA icp_fuzz_data;
    labels := ARRAY(SELECT x FROM unnest(ARRAY['low', 'mid', 'high', 'x y', 'Top']) x ORDER BY random());
    EXECUTE format('CREATE TYPE icp_fuzz_data.tier AS ENUM (%s)', (SELECT string_agg(quote_literal(x), ', ') FROM unnest(labels[2:]) x));
    COMMIT;
    EXECUTE format('ALTER TYPE icp_fuzz_data.tier ADD VALUE %L BEFORE %L', labels[1], icp_fuzz.pick(labels[2:]));
    CREATE DOMAIN icp_fuzz_data.dint AS int4 CHECK (VALUE > -5000);
    CREATE DOMAIN icp_fuzz_data.dtext AS text CHECK (VALUE <> 'forbidden');
    COMMIT;

    -- the row type: 2-12 columns of random kinds and names, some of them
    -- dropped again, one perhaps added after the drops
    ncols := 2 + floor(random() * 11)::int;
    FOR i IN 1 .. ncols + floor(random() * 4)::int LOOP
        kind := icp_fuzz.pick(all_kinds);
        nm := CASE WHEN random() < 0.2 THEN 'C' || i || ' ' || initcap(replace(kind, '[]', 's'))
                   ELSE 'c' || i || '_' || replace(kind, '[]', 's') END;
        IF i > ncols THEN
            dropped := dropped || nm;
        ELSE
            names := names || nm; kinds := kinds || kind;
        END IF;
        coldefs := coldefs || format('%I %s', nm, icp_fuzz.type_sql(kind));
    END LOOP;
    SELECT array_agg(x ORDER BY random()) INTO coldefs FROM unnest(coldefs) x;
    ddl := ddl || format('CREATE TABLE %%s (id int PRIMARY KEY, %s)', array_to_string(coldefs, ', '));
    FOREACH nm IN ARRAY dropped LOOP
        ddl := ddl || format('ALTER TABLE %%s DROP COLUMN %I', nm);
    END LOOP;
    IF random() < 0.4 THEN
        kind := icp_fuzz.pick(all_kinds);
        nm := 'late_' || replace(kind, '[]', 's');
        names := names || nm; kinds := kinds || kind;
        ddl := ddl || format('ALTER TABLE %%s ADD COLUMN %I %s', nm, icp_fuzz.type_sql(kind));
    END IF;
    FOR i IN 1 .. cardinality(names) LOOP
        IF kinds[i] IN ('text', 'varchar', 'citext', 'dtext', 'text[]', 'int4[]', 'jsonb') AND random() < 0.5 THEN
            ddl := ddl || format('ALTER TABLE %%s ALTER COLUMN %I SET STORAGE %s', names[i],
                                 icp_fuzz.pick(ARRAY['EXTERNAL', 'EXTERNAL', 'MAIN']));
        END IF;
    END LOOP;
    FOREACH v IN ARRAY ddl LOOP
        EXECUTE format(v, 'icp_fuzz_data.acc');
        EXECUTE format(v, 'icp_fuzz_data.trg');
    END LOOP;
    ALTER TABLE icp_fuzz_data.trg ADD COLUMN fit float8, ADD COLUMN grade text, ADD COLUMN other int DEFAULT 0;
    CREATE TABLE icp_fuzz_data.mismatch (label text, id int, what text, got text, want text);
    collist := (SELECT string_agg(quote_ident(x), ', ') FROM unnest(names) x);

    -- rows
    nrows := 20 + floor(random() * 80)::int;
    FOR i IN 1 .. nrows LOOP
        EXECUTE format('INSERT INTO icp_fuzz_data.acc (id, %s) SELECT %s, %s', collist, i,
                       (SELECT string_agg(icp_fuzz.value_sql(k), ', ' ORDER BY o) FROM unnest(kinds) WITH ORDINALITY AS u(k, o)));
    END LOOP;
    ANALYZE icp_fuzz_data.acc;

    -- profiles
    descs := descs || icp_fuzz.make_profile('icp_fuzz_1', names, kinds);
    descs := descs || icp_fuzz.make_profile('icp_fuzz_2', names, kinds);
    COMMIT;
    p1 := icp_fuzz.prof(descs[1]);
    p2 := icp_fuzz.prof(descs[2]);
    report := format(E'seed %s\ntable (id, %s) kinds %s, dropped %s, %s rows\nddl: %s\n', seed,
                     collist, kinds, dropped, nrows, array_to_string(ddl, '; '));
    FOR i IN 1 .. 2 LOOP
        report := report || format(E'profile %s %s %s missing=%s bias=%s th=%s\n', descs[i]->>'name', descs[i]->>'kind',
                                   descs[i]->>'model', descs[i]->>'missing', descs[i]->>'bias', descs[i]->>'th');
        FOR j IN 0 .. jsonb_array_length(descs[i]->'rules') - 1 LOOP
            report := report || format(E'  [%s] w=%s req=%s rule: %s\n      sql: %s\n', j + 1, descs[i]->'weights'->>j,
                                       descs[i]->'reqs'->>j, descs[i]->'rules'->>j, descs[i]->'conds'->>j);
        END LOOP;
    END LOOP;

    BEGIN
        FOREACH p IN ARRAY ARRAY[p1, p2]::icp_fuzz.profdesc[] LOOP
            -- the table row (rewritten by the planner), a whole-row record, jsonb, a profile value
            PERFORM icp_fuzz.check('row', 'icp_fuzz_data.acc', 'a', quote_literal(p.name), p);
            PERFORM icp_fuzz.check('whole-row', '(SELECT * FROM icp_fuzz_data.acc OFFSET 0)', 'a', quote_literal(p.name), p);
            IF p.jok THEN
                PERFORM icp_fuzz.check('jsonb', 'icp_fuzz_data.acc', 'to_jsonb(a)', quote_literal(p.name), p);
            END IF;
            PERFORM icp_fuzz.check('value', format('(SELECT a.*, v.p AS icp_fuzz_pv FROM icp_fuzz_data.acc a, (SELECT icp_profile(%L)) v(p) OFFSET 0)', p.name),
                                   'a', 'a.icp_fuzz_pv', p);
            PERFORM icp_fuzz.check('row value', 'icp_fuzz_data.acc', 'a', format('(SELECT icp_profile(%L))', p.name), p);
            PERFORM icp_fuzz.check_outcomes('row', 'icp_fuzz_data.acc', p);
            PERFORM icp_fuzz.check_outcomes('whole-row', '(SELECT * FROM icp_fuzz_data.acc OFFSET 0)', p);
        END LOOP;

        -- the planner rewrite really happened on the table row
        EXECUTE format('EXPLAIN (VERBOSE, FORMAT JSON) SELECT icp_fit(a, %L) FROM icp_fuzz_data.acc a', p1.name) INTO v;
        IF strpos(v, 'icp_fit_columns') = 0 THEN
            INSERT INTO icp_fuzz_data.mismatch VALUES ('row', NULL, 'no planner rewrite', v, 'icp_fit_columns');
        END IF;

        -- icp_segment with both profiles: the matching exclude profile with
        -- the highest fit, else the matching ideal one, ties to the first
        -- name; fits within 1e-9 of each other or of a threshold may go either way
        EXECUTE format($q$
            CREATE TABLE icp_fuzz_data.seg_want AS
            SELECT %L::text AS profile, %L::text AS kind, w.* FROM (%s) w
            UNION ALL
            SELECT %L, %L, w.* FROM (%s) w$q$,
            p1.name, p1.kind, icp_fuzz.expected_sql('icp_fuzz_data.acc', p1),
            p2.name, p2.kind, icp_fuzz.expected_sql('icp_fuzz_data.acc', p2));
        FOREACH v IN ARRAY ARRAY['icp_fuzz_data.acc', '(SELECT * FROM icp_fuzz_data.acc OFFSET 0)'] LOOP
            EXECUTE format($q$
                INSERT INTO icp_fuzz_data.mismatch
                SELECT %L, g.id, 'segment', g.seg, (SELECT string_agg(format('%%s %%s fit=%%s grade=%%s', profile, kind, fit, grade), '; ')
                                                     FROM icp_fuzz_data.seg_want s WHERE s.id = g.id)
                  FROM (SELECT a.id, icp_segment(a, ARRAY[%L, %L]) AS seg FROM %s a) g
                 WHERE g.seg IS DISTINCT FROM (
                         SELECT s.profile FROM icp_fuzz_data.seg_want s
                          WHERE s.id = g.id AND s.grade IN ('A', 'B', 'C')
                          ORDER BY s.kind = 'exclude' DESC, s.fit DESC, s.profile COLLATE "C" LIMIT 1)
                   AND NOT EXISTS (SELECT FROM icp_fuzz_data.seg_want s WHERE s.id = g.id AND s.edge)
                   AND (SELECT count(DISTINCT round(s.fit::numeric, 6)) < 2 OR count(*) < 2
                          FROM icp_fuzz_data.seg_want s WHERE s.id = g.id AND s.grade IN ('A', 'B', 'C')) IS NOT TRUE$q$,
                'segment ' || v, p1.name, p2.name, v);
        END LOOP;

        -- the scoring trigger: INSERT ... SELECT, an UPDATE of an unrelated
        -- column (half the result columns set to NULL, to be filled again),
        -- and an UPDATE of a column the profile may read
        EXECUTE format('CREATE TRIGGER score BEFORE INSERT OR UPDATE ON icp_fuzz_data.trg FOR EACH ROW EXECUTE FUNCTION icp_score_trigger(%L, ''fit'', ''grade'')', p1.name);
        EXECUTE format('INSERT INTO icp_fuzz_data.trg (id, %s) SELECT id, %s FROM icp_fuzz_data.acc', collist, collist);
        FOREACH v IN ARRAY ARRAY['trigger insert', 'trigger update unrelated', 'trigger update read column'] LOOP
            IF v = 'trigger update unrelated' THEN
                UPDATE icp_fuzz_data.trg SET other = other + 1,
                       fit = CASE WHEN id % 2 = 0 THEN NULL ELSE fit END,
                       grade = CASE WHEN id % 3 = 0 THEN NULL ELSE grade END;
            ELSIF v = 'trigger update read column' THEN
                nm := icp_fuzz.pick(names);
                EXECUTE format('UPDATE icp_fuzz_data.trg t SET %1$I = s.%1$I FROM icp_fuzz_data.acc s WHERE s.id = t.id %% %2$s + 1 AND t.id %% 3 = 1',
                               nm, nrows);
            END IF;
            EXECUTE format($q$
                INSERT INTO icp_fuzz_data.mismatch
                SELECT %L, w.id, m.what, m.got, m.want
                  FROM (%s) w JOIN icp_fuzz_data.trg t USING (id),
                  LATERAL (VALUES
                      ('fit', t.fit::text, w.fit::text,
                       (t.fit IS NULL) = (w.fit IS NULL) AND coalesce(abs(t.fit - w.fit) <= 1e-9 * greatest(1, abs(w.fit)), true)),
                      ('grade', t.grade, w.grade, t.grade IS NOT DISTINCT FROM w.grade OR w.edge)
                  ) AS m(what, got, want, ok)
                 WHERE NOT m.ok$q$,
                v || ' ' || p1.name, icp_fuzz.expected_sql('icp_fuzz_data.trg', p1));
        END LOOP;

        -- a profile that cannot bind: an error with an expected SQLSTATE
        -- naming the profile, on each path
        IF random() < 0.3 THEN
            bad_name := 'icp_fuzz_bad';
            br := icp_fuzz.bad_rule(names, kinds, dropped);
            INSERT INTO icp_profiles (name) VALUES (bad_name);
            INSERT INTO icp_criteria (profile, rule, weight) VALUES (bad_name, (descs[1]->'rules'->>0)::icp_rule, 1);
            INSERT INTO icp_criteria (profile, rule, weight) VALUES (bad_name, br.r::icp_rule, 2);
            report := report || format(E'profile %s: %s then %s (expects %s)\n', bad_name, descs[1]->'rules'->>0, br.r, br.states);
            FOREACH v IN ARRAY ARRAY[
                format('SELECT sum(icp_fit(a, %L)) FROM icp_fuzz_data.acc a', bad_name),
                format('SELECT sum(icp_fit(a, %L)) FROM (SELECT * FROM icp_fuzz_data.acc OFFSET 0) a', bad_name),
                format('SELECT count(icp_grade(a, %L)) FROM icp_fuzz_data.acc a', bad_name),
                format('SELECT count(*) FROM icp_fuzz_data.acc a, icp_explain(a, %L)', bad_name),
                format('SELECT count(icp_segment(a, ARRAY[%L, %L])) FROM icp_fuzz_data.acc a', p1.name, bad_name)] LOOP
                err := icp_fuzz.expect_error(bad_name, v, br.states);
                IF err IS NOT NULL THEN
                    INSERT INTO icp_fuzz_data.mismatch VALUES ('binding error', NULL, 'error', err, array_to_string(br.states, ','));
                END IF;
            END LOOP;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v = PG_EXCEPTION_CONTEXT;
        RAISE EXCEPTION 'icp fuzz: unexpected error %: %', SQLSTATE, SQLERRM
            USING DETAIL = report || 'context: ' || v;
    END;

    SELECT count(*) INTO nmis FROM icp_fuzz_data.mismatch;
    IF nmis > 0 THEN
        RAISE EXCEPTION 'icp fuzz: % mismatches', nmis
            USING DETAIL = report || (SELECT string_agg(format('%s row %s %s: icp %s, expected %s', label, id, what,
                                                                left(got, 300), left(want, 300)), E'\n')
                                        FROM (SELECT * FROM icp_fuzz_data.mismatch ORDER BY label, id LIMIT 10) m);
    END IF;
    RAISE NOTICE 'ok: % rows, % columns, % + % criteria, jsonb % %', nrows, cardinality(names),
        cardinality(p1.conds), cardinality(p2.conds), p1.jok, p2.jok;
END $$;

-- remove what an iteration left (tables, types, profiles and their history)
CREATE PROCEDURE icp_fuzz.cleanup() LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL client_min_messages = warning;
    DROP SCHEMA IF EXISTS icp_fuzz_data CASCADE;
    DELETE FROM icp_profiles WHERE name LIKE 'icp\_fuzz\_%';
    DELETE FROM icp_profile_versions WHERE profile LIKE 'icp\_fuzz\_%';
END $$;
