
-- ---------------------------------------------------------------------------
-- Learning and validating profiles from won/lost history: icp_learn (C,
-- src/learn.c) writes a logistic profile, icp_evaluate and icp_lift measure
-- any profile against the outcomes.
-- All run as the caller (privileges and row security of the source apply).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_learn(profile pg_catalog.text, source pg_catalog.regclass,
    outcome pg_catalog.text, attributes pg_catalog.text[] DEFAULT NULL,
    options pg_catalog.jsonb DEFAULT '{}'::pg_catalog.jsonb,
    OUT rows_used bigint, OUT positives bigint, OUT holdout_rows bigint, OUT criteria integer,
    OUT train_auc double precision, OUT holdout_auc double precision,
    OUT seconds double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'icp_learn'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.icp_learn(pg_catalog.text, pg_catalog.regclass, pg_catalog.text,
    pg_catalog.text[], pg_catalog.jsonb) IS
    'Learns (or replaces) a logistic profile from won/lost history: one criterion per useful value, bin, element or IS NULL; options l2, min_support, bins, max_values, holdout, sample, seed';

-- The SQL expression (on alias t) that reads a boolean or 0/1 outcome
-- column as boolean; errors name the column.
CREATE FUNCTION @extschema@.icp_outcome_expression(source pg_catalog.regclass,
    outcome pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    typ oid;
BEGIN
    IF source IS NULL OR outcome IS NULL THEN
        RAISE EXCEPTION 'a source and an outcome column are needed'
            USING ERRCODE = '22004';
    END IF;
    SELECT CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END
      INTO typ
      FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
     WHERE a.attrelid = source
       AND a.attname = outcome
       AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', outcome, source
            USING ERRCODE = '42703',
                  HINT = 'Column names are matched exactly, without case folding.';
    END IF;
    IF typ = 'pg_catalog.bool'::pg_catalog.regtype THEN
        RETURN pg_catalog.format('t.%I', outcome);
    ELSIF typ = ANY (ARRAY['pg_catalog.int2'::pg_catalog.regtype,
            'pg_catalog.int4'::pg_catalog.regtype, 'pg_catalog.int8'::pg_catalog.regtype]::oid[]) THEN
        RETURN pg_catalog.format('CASE t.%I WHEN 1 THEN true WHEN 0 THEN false END', outcome);
    END IF;
    RAISE EXCEPTION 'outcome column "%" is of type %, not boolean or integer',
        outcome, pg_catalog.format_type(typ, NULL)
        USING ERRCODE = '42804',
              HINT = 'Use a boolean column, or an integer column holding 1 for won and 0 for lost.';
END
$$;

COMMENT ON FUNCTION @extschema@.icp_outcome_expression(pg_catalog.regclass, pg_catalog.text) IS
    'Internal: the expression reading a boolean or 0/1 outcome column of a source as boolean';

CREATE FUNCTION @extschema@.icp_evaluate(profile pg_catalog.text, source pg_catalog.regclass,
    outcome pg_catalog.text,
    OUT rows bigint, OUT positives bigint, OUT auc double precision,
    OUT log_loss double precision, OUT lift_top_decile double precision,
    OUT precision_a double precision, OUT recall_a double precision,
    OUT precision_ab double precision, OUT recall_ab double precision)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    yexpr pg_catalog.text := @extschema@.icp_outcome_expression(source, outcome);
    logistic boolean;
    bad bigint;
BEGIN
    IF profile IS NULL THEN
        RAISE EXCEPTION 'a profile name is needed' USING ERRCODE = '22004';
    END IF;
    SELECT p.model = 'logistic' INTO logistic
      FROM @extschema@.icp_profiles p WHERE p.name = profile;
    -- Scores come from one profile value computed once.  Rows whose fit is
    -- NULL (nothing known) rank below every other row.
    EXECUTE pg_catalog.format($q$
        WITH pv AS MATERIALIZED (SELECT @extschema@.icp_profile($1) AS v),
        raw AS MATERIALIZED (
            SELECT @extschema@.icp_score(t.*, pv.v) AS sc, %1$s AS y, t.%2$I AS o
              FROM %3$s AS t, pv
             WHERE t.%2$I IS NOT NULL),
        s AS (SELECT (sc).fit AS fit, (sc).grade AS grade, y FROM raw WHERE y IS NOT NULL),
        g AS (SELECT COALESCE(fit, -1) AS f, count(*) AS n,
                     count(*) FILTER (WHERE y) AS pos
                FROM s GROUP BY 1),
        tot AS (SELECT sum(n)::bigint AS n, sum(pos)::bigint AS pos FROM g),
        r AS (SELECT f, n, pos,
                     COALESCE(sum(n - pos) OVER
                         (ORDER BY f ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS negbelow,
                     COALESCE(sum(n) OVER
                         (ORDER BY f DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS above
                FROM g)
        SELECT tot.n, tot.pos,
               (SELECT (sum(r.pos * (r.negbelow + (r.n - r.pos) / 2.0)) / NULLIF(tot.pos::numeric * (tot.n - tot.pos), 0))::double precision FROM r),
               CASE WHEN $2 THEN
                   (SELECT avg(CASE WHEN y
                        THEN - ln(GREATEST(fit / 100, 1e-15::double precision))
                        ELSE - ln(GREATEST(1 - fit / 100, 1e-15::double precision))
                        END) FROM s)
               END,
               -- top decile: the first n/10 rows by fit, a tied group at
               -- the cut counted in proportion
               (SELECT (sum(r.pos * LEAST(GREATEST(
                            (tot.n / 10.0 - r.above) / r.n, 0), 1)) / (tot.n / 10.0) / NULLIF(tot.pos::numeric / tot.n, 0))::double precision
                  FROM r),
               (SELECT (count(*) FILTER (WHERE y)::double precision / NULLIF(count(*), 0))
                  FROM s WHERE grade = 'A'),
               (SELECT count(*)::double precision / NULLIF(tot.pos, 0)
                  FROM s WHERE y AND grade = 'A'),
               (SELECT (count(*) FILTER (WHERE y)::double precision / NULLIF(count(*), 0))
                  FROM s WHERE grade = ANY (ARRAY['A', 'B'])),
               (SELECT count(*)::double precision / NULLIF(tot.pos, 0)
                  FROM s WHERE y AND grade = ANY (ARRAY['A', 'B'])),
               (SELECT count(*) FROM raw WHERE y IS NULL)
          FROM tot
        $q$, yexpr, outcome, source)
      INTO rows, positives, auc, log_loss, lift_top_decile,
           precision_a, recall_a, precision_ab, recall_ab, bad
     USING profile, COALESCE(logistic, false);
    IF bad > 0 THEN
        RAISE EXCEPTION 'outcome column "%" must be 0 or 1', outcome
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('%s rows hold another value.', bad);
    END IF;
    IF COALESCE(rows, 0) = 0 THEN
        RAISE EXCEPTION 'source % has no rows with a known outcome', source USING ERRCODE = '22023';
    ELSIF positives = 0 THEN
        RAISE EXCEPTION 'source % has no positive rows', source
            USING ERRCODE = '22023', HINT = 'A profile is validated on won and lost examples: both are needed.';
    ELSIF positives = rows THEN
        RAISE EXCEPTION 'source % has no negative rows', source
            USING ERRCODE = '22023', HINT = 'A profile is validated on won and lost examples: both are needed.';
    END IF;
END
$$;

COMMENT ON FUNCTION @extschema@.icp_evaluate(pg_catalog.text, pg_catalog.regclass, pg_catalog.text) IS
    'Validates a profile on won/lost history: rows, positives, AUC (Mann-Whitney, ties half), log loss (logistic profiles), lift of the top decile, precision and recall of grade A and of A+B';

CREATE FUNCTION @extschema@.icp_lift(profile pg_catalog.text, source pg_catalog.regclass,
    outcome pg_catalog.text, buckets integer DEFAULT 10)
RETURNS TABLE (bucket integer, min_fit double precision, max_fit double precision,
    rows bigint, positives bigint, rate double precision, lift double precision,
    cumulative_share double precision, cumulative_gain double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    yexpr pg_catalog.text := @extschema@.icp_outcome_expression(source, outcome);
    bad bigint;
BEGIN
    IF profile IS NULL THEN
        RAISE EXCEPTION 'a profile name is needed' USING ERRCODE = '22004';
    END IF;
    IF buckets IS NULL OR buckets < 1 OR buckets > 1000 THEN
        RAISE EXCEPTION 'buckets must be between 1 and 1000' USING ERRCODE = '22023';
    END IF;
    IF yexpr LIKE 'CASE%' THEN
        EXECUTE pg_catalog.format('SELECT count(*) FROM %s AS t WHERE t.%I IS NOT NULL AND (%s) IS NULL',
                                  source, outcome, yexpr) INTO bad;
        IF bad > 0 THEN
            RAISE EXCEPTION 'outcome column "%" must be 0 or 1', outcome
                USING ERRCODE = '22023', DETAIL = pg_catalog.format('%s rows hold another value.', bad);
        END IF;
    END IF;
    -- Rows are ordered by fit, best first, and cut into equal shares; rows
    -- with the same fit stay together in the bucket holding their middle.
    RETURN QUERY EXECUTE pg_catalog.format($q$
        WITH pv AS MATERIALIZED (SELECT @extschema@.icp_profile($1) AS v),
        s AS MATERIALIZED (
            SELECT @extschema@.icp_fit(t.*, pv.v) AS fit, %1$s AS y
              FROM %3$s AS t, pv
             WHERE t.%2$I IS NOT NULL),
        g AS (SELECT COALESCE(fit, -1) AS f, min(fit) AS lo,
                     max(fit) AS hi, count(*) AS n,
                     count(*) FILTER (WHERE y) AS pos
                FROM s WHERE y IS NOT NULL GROUP BY 1),
        tot AS (SELECT sum(n) AS n, sum(pos) AS pos FROM g),
        r AS (SELECT g.*, COALESCE(sum(g.n) OVER
                         (ORDER BY g.f DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS above
                FROM g),
        b AS (SELECT LEAST(floor((r.above + r.n / 2.0) * $2 / tot.n)::integer + 1, $2) AS bucket,
                     r.lo, r.hi, r.n, r.pos
                FROM r, tot),
        agg AS (SELECT b.bucket, min(b.lo) AS lo, max(b.hi) AS hi,
                       sum(b.n)::bigint AS n, sum(b.pos)::bigint AS pos
                  FROM b GROUP BY b.bucket)
        SELECT agg.bucket, agg.lo, agg.hi, agg.n, agg.pos,
               agg.pos::double precision / agg.n,
               (agg.pos::double precision / agg.n) / NULLIF(tot.pos::double precision / tot.n, 0),
               sum(agg.n) OVER w::double precision / tot.n,
               sum(agg.pos) OVER w::double precision / NULLIF(tot.pos, 0)
          FROM agg, tot
        WINDOW w AS (ORDER BY agg.bucket)
         ORDER BY agg.bucket
        $q$, yexpr, outcome, source)
    USING profile, buckets;
END
$$;

COMMENT ON FUNCTION @extschema@.icp_lift(pg_catalog.text, pg_catalog.regclass, pg_catalog.text, integer) IS
    'The lift/gain table of a profile on won/lost history: one row per fit bucket (best first) with rows, positives, rate, lift, cumulative share of rows and cumulative gain';
