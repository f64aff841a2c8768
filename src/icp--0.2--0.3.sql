-- icp 0.2 -> 0.3.  Every object is schema-qualified; nothing is adopted
-- from the search_path.  Each change to src/sql/ since 0.2 is repeated here
-- so that an updated database equals a fresh 0.3 install (the upgrade check
-- in test/checks/upgrade.sh compares them object by object).

\echo Use "ALTER EXTENSION icp UPDATE TO '0.3'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- issue 13: decay (icp_criteria.decay_on, icp_criteria.half_life)
-- ---------------------------------------------------------------------------

ALTER TABLE @extschema@.icp_criteria
    ADD COLUMN decay_on text,
    ADD COLUMN half_life interval,
    ADD CONSTRAINT icp_criteria_decay_check
        CHECK ((decay_on IS NULL) OPERATOR(pg_catalog.=) (half_life IS NULL));

COMMENT ON COLUMN @extschema@.icp_criteria.decay_on IS
    'Time attribute (date, timestamp, timestamptz, or a jsonb string) whose age makes the points of a true rule decay; NULL: no decay';
COMMENT ON COLUMN @extschema@.icp_criteria.half_life IS
    'Age at which the points of a true rule count half: points = weight * 0.5 ^ (age / half_life)';

-- ---------------------------------------------------------------------------
-- issue 13: routing on grade change (icp_notify_trigger)
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_notify_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'icp_notify_trigger'
LANGUAGE C;

COMMENT ON FUNCTION @extschema@.icp_notify_trigger() IS
    'Trigger function (AFTER INSERT OR UPDATE, FOR EACH ROW): one NOTIFY with a JSON payload per row whose grade changed; arguments: channel [, grade_column (default grade) [, key_columns (default: the primary key) [, outbox_table]]]';

-- ---------------------------------------------------------------------------
-- review of issue 13: icp_rescore, icp_evaluate and icp_lift pass the source
-- row as t.* (not t), so that a column of the source named t cannot stand in
-- for the row (icp_funnel, in C, passes s.* for the same reason).
-- These three are replaced in place (OR REPLACE, the one exception to the
-- rule of this file): a DROP would fail for a database with a view over
-- icp_lift or icp_evaluate, and would reset privileges a DBA set on them.
-- They are members of the extension since 0.1, and PostgreSQL refuses OR
-- REPLACE on a function that is not a member, so nothing can be adopted.
-- icp_evaluate and icp_lift follow; icp_rescore is replaced once, in the
-- issue 12 section below, by its final body (this change included), because
-- that body calls icp_rescore_citus, created there.
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.icp_evaluate(profile pg_catalog.text, source pg_catalog.regclass,
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

CREATE OR REPLACE FUNCTION @extschema@.icp_lift(profile pg_catalog.text, source pg_catalog.regclass,
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

-- ---------------------------------------------------------------------------
-- icp_learn: interaction rules and max_criteria (options interactions,
-- max_criteria); the comment lists the options.
-- ---------------------------------------------------------------------------
COMMENT ON FUNCTION @extschema@.icp_learn(pg_catalog.text, pg_catalog.regclass, pg_catalog.text,
    pg_catalog.text[], pg_catalog.jsonb) IS
    'Learns (or replaces) a logistic profile from won/lost history: one criterion per useful value, bin, element or IS NULL, and with interactions AND-rules of up to three conditions; options interactions, max_criteria, l2, min_support, bins, max_values, holdout, sample, seed';

-- ---------------------------------------------------------------------------
-- Issue 12 (Citus): icp_segment over profile values; icp_citus_setup, the one
-- setup call on the coordinator; icp_rescore pushes a Citus table down to
-- its shards.  icp_rescore is replaced in place (OR REPLACE on a member of
-- the extension since 0.1, see the review section above): this is its only
-- replacement in this file, with the t.* change of that section included.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_segment(account record, profiles @extschema@.icp_profile[])
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_record_value'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_segment(record, @extschema@.icp_profile[]) IS
    'The segment of an account (record) among the given profile values: the best matching (grade A-C) exclude profile, else the best matching ideal one, else NULL; ties to the name that sorts first';

CREATE FUNCTION @extschema@.icp_segment(account pg_catalog.jsonb, profiles @extschema@.icp_profile[])
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_jsonb_value'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_segment(pg_catalog.jsonb, @extschema@.icp_profile[]) IS
    'The segment of an account (jsonb) among the given profile values: the best matching (grade A-C) exclude profile, else the best matching ideal one, else NULL; ties to the name that sorts first';

-- An untyped literal ('{a,b}' or NULL) would be ambiguous between the text[]
-- and the icp_profile[] variants.  PostgreSQL resolves an untyped argument
-- to a string-category parameter first, so these text overloads take it and
-- read it as an array literal of names, as before the icp_profile[] variant
-- existed.
CREATE FUNCTION @extschema@.icp_segment(account record, profiles pg_catalog.text)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_record_untyped'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_segment(record, pg_catalog.text) IS
    'icp_segment(account, profiles text[]) with the names written as one array literal, such as an untyped ''{a,b}''';

CREATE FUNCTION @extschema@.icp_segment(account pg_catalog.jsonb, profiles pg_catalog.text)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_jsonb_untyped'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_segment(pg_catalog.jsonb, pg_catalog.text) IS
    'icp_segment(account, profiles text[]) with the names written as one array literal, such as an untyped ''{a,b}''';

CREATE FUNCTION @extschema@.icp_citus_setup()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    nsp pg_catalog.text := (SELECT n.nspname FROM pg_catalog.pg_extension e
                              JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                             WHERE e.extname OPERATOR(pg_catalog.=) 'icp');
    profiles pg_catalog.regclass := '@extschema@.icp_profiles'::pg_catalog.regclass;
    criteria pg_catalog.regclass := '@extschema@.icp_criteria'::pg_catalog.regclass;
    done integer;
    res record;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') THEN
        RAISE EXCEPTION 'icp_citus_setup needs the citus extension in this database'
            USING ERRCODE = '55000',
                  HINT = 'On a single node nothing needs setting up; on Citus run CREATE EXTENSION citus first.';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_dist_local_group WHERE groupid OPERATOR(pg_catalog.<>) 0) THEN
        RAISE EXCEPTION 'icp_citus_setup runs on the Citus coordinator, not on a worker'
            USING ERRCODE = '55000';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_node WHERE groupid OPERATOR(pg_catalog.=) 0) THEN
        RAISE WARNING 'the Citus coordinator is not in the Citus metadata, so it gets no placement of the profile tables'
            USING DETAIL = 'The coordinator then reads profiles through Citus, without caching them, and keeps no profile history of its own (the workers do).',
                  HINT = 'Run SELECT citus_set_coordinator_host(''<host>'', <port>); and then SELECT replicate_reference_tables();.';
    END IF;
    SELECT pg_catalog.count(*)::integer INTO done FROM pg_catalog.pg_dist_partition
     WHERE logicalrelid OPERATOR(pg_catalog.=) ANY (ARRAY[profiles, criteria])
       AND partmethod OPERATOR(pg_catalog.=) 'n' AND repmodel OPERATOR(pg_catalog.=) 't';
    IF done OPERATOR(pg_catalog.=) 2 THEN
        RAISE NOTICE 'the icp profile tables are already Citus reference tables';
        RETURN;
    ELSIF EXISTS (SELECT FROM pg_catalog.pg_dist_partition
                   WHERE logicalrelid OPERATOR(pg_catalog.=) ANY (ARRAY[profiles, criteria])) THEN
        RAISE EXCEPTION 'the icp profile tables are already Citus tables of another kind'
            USING ERRCODE = '55000',
                  HINT = 'Run SELECT undistribute_table(...) on them, then icp_citus_setup() again.';
    END IF;

    -- the workers' own copies of icp_criteria: drop the foreign key Citus adds back
    FOR res IN SELECT * FROM pg_catalog.run_command_on_workers(pg_catalog.format(
            'ALTER TABLE %I.icp_criteria DROP CONSTRAINT IF EXISTS icp_criteria_profile_fkey', nsp))
    LOOP
        IF NOT res.success THEN
            RAISE EXCEPTION 'icp_citus_setup could not prepare worker %:%', res.nodename, res.nodeport
                USING ERRCODE = '55000', DETAIL = res.result;
        END IF;
    END LOOP;

    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    EXECUTE pg_catalog.format('ALTER TABLE %I.icp_criteria DROP CONSTRAINT icp_criteria_profile_fkey', nsp);
    PERFORM pg_catalog.create_reference_table(profiles);
    PERFORM pg_catalog.create_reference_table(criteria);
    EXECUTE pg_catalog.format('ALTER TABLE %1$I.icp_criteria ADD CONSTRAINT icp_criteria_profile_fkey '
                              'FOREIGN KEY (profile) REFERENCES %1$I.icp_profiles (name) '
                              'ON UPDATE CASCADE ON DELETE CASCADE', nsp);

    -- icp_learn reads the source (maybe distributed, in parallel) and then
    -- writes the profile tables in one transaction; with the foreign key
    -- between reference tables Citus allows that only over one connection
    -- per node
    FOR res IN SELECT p.oid::pg_catalog.regprocedure AS f FROM pg_catalog.pg_proc p
                WHERE p.proname OPERATOR(pg_catalog.=) 'icp_learn'
                  AND p.pronamespace OPERATOR(pg_catalog.=)
                      (SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) profiles)
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET citus.multi_shard_modify_mode = %L',
                                  res.f, 'sequential');
    END LOOP;
END
$$;

COMMENT ON FUNCTION @extschema@.icp_citus_setup() IS
    'Citus coordinator only, once: makes icp_profiles and icp_criteria reference tables, so that profiles by name, the default profile, icp_segment and icp_score_trigger work on distributed tables';

-- icp_fit and icp_grade over a value, for the one UPDATE that icp_rescore
-- runs on a Citus table inside a transaction block (or on a reference
-- table).  Citus pushes an UPDATE down to the shards only when the
-- functions it calls on the row are IMMUTABLE, so these are marked so.  They
-- are not, quite: a WITHIN rule reads the clock and literals are read under
-- the session's settings.  Within the one statement icp_rescore builds
-- (row arguments, never constants) nothing is folded or cached across
-- statements, so the answer is icp_fit's; do not use them elsewhere.
CREATE FUNCTION @extschema@.icp_rescore_fit(account record, profile @extschema@.icp_profile)
RETURNS double precision
AS 'MODULE_PATHNAME', 'icp_fit_record_value'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_rescore_fit(record, @extschema@.icp_profile) IS
    'Internal: icp_fit(account, profile) marked IMMUTABLE for the UPDATE icp_rescore pushes down to Citus shards; not for other use';

CREATE FUNCTION @extschema@.icp_rescore_grade(account record, profile @extschema@.icp_profile)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_grade_record_value'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_rescore_grade(record, @extschema@.icp_profile) IS
    'Internal: icp_grade(account, profile) marked IMMUTABLE for the UPDATE icp_rescore pushes down to Citus shards; not for other use';

-- On Citus a distributed table is rescored where its rows live: each shard
-- placement runs icp_rescore on its own shard, through a connection of its
-- own (so its batches commit there), one shard after the other; no row
-- passes through the coordinator.  Inside a transaction block, and for
-- reference tables, it is one UPDATE that Citus pushes down to every shard
-- in the caller's transaction.  Returns false (nothing done) for a table
-- Citus does not manage, which icp_rescore then walks itself.
-- Called by icp_rescore, with the caller's rights, after its checks.
CREATE FUNCTION @extschema@.icp_rescore_citus(
    tbl pg_catalog.regclass,
    profile pg_catalog.text,
    fit_column pg_catalog.text,
    grade_column pg_catalog.text,
    batch_size integer,
    can_commit boolean)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    nsp pg_catalog.text := (SELECT n.nspname FROM pg_catalog.pg_extension e
                              JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                             WHERE e.extname OPERATOR(pg_catalog.=) 'icp');
    method "char";
    fit_type pg_catalog.text;
    grade_type pg_catalog.text;
    changed bigint;
    stmt pg_catalog.text;
    shard record;
    res record;
    nshards integer;
    done integer := 0;
BEGIN
    IF tbl IS NULL OR profile IS NULL OR fit_column IS NULL OR batch_size IS NULL
       OR NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') THEN
        RETURN false;
    END IF;
    SELECT p.partmethod INTO method FROM pg_catalog.pg_dist_partition p
     WHERE p.logicalrelid OPERATOR(pg_catalog.=) tbl;
    IF method IS NULL THEN
        RETURN false;
    END IF;

    -- Inside a transaction block nothing may commit, and a reference (or
    -- Citus local) table has no shards of its own: one UPDATE in the
    -- caller's transaction, which Citus pushes down to every shard or
    -- placement (hence the IMMUTABLE helpers: Citus refuses to push down
    -- a STABLE function called on the row).
    IF NOT can_commit OR method OPERATOR(pg_catalog.<>) ALL (ARRAY['h', 'r', 'a']::"char"[]) THEN
        SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) INTO fit_type FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) fit_column;
        SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) INTO grade_type FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) grade_column;
        IF grade_column IS NULL THEN
            stmt := pg_catalog.format(
                'UPDATE %1$s AS t SET %2$I = CAST(%3$I.icp_rescore_fit(t.*, $1) AS %4$s) '
                'WHERE t.%2$I IS DISTINCT FROM CAST(%3$I.icp_rescore_fit(t.*, $1) AS %4$s)',
                tbl, fit_column, nsp, fit_type);
        ELSE
            stmt := pg_catalog.format(
                'UPDATE %1$s AS t SET %2$I = CAST(%3$I.icp_rescore_fit(t.*, $1) AS %4$s), '
                '%5$I = CAST(%3$I.icp_rescore_grade(t.*, $1) AS %6$s) '
                'WHERE t.%2$I IS DISTINCT FROM CAST(%3$I.icp_rescore_fit(t.*, $1) AS %4$s) '
                'OR t.%5$I IS DISTINCT FROM CAST(%3$I.icp_rescore_grade(t.*, $1) AS %6$s)',
                tbl, fit_column, nsp, fit_type, grade_column, grade_type);
        END IF;
        EXECUTE stmt USING @extschema@.icp_profile(profile);
        GET DIAGNOSTICS changed = ROW_COUNT;
        RAISE NOTICE '%', pg_catalog.format('icp_rescore: %s rows of %s updated with profile %L in one statement on its shards',
                                            changed, tbl, profile);
        RETURN true;
    END IF;

    SELECT pg_catalog.count(*)::integer INTO nshards FROM pg_catalog.pg_dist_shard s
     WHERE s.logicalrelid OPERATOR(pg_catalog.=) tbl;
    FOR shard IN
        SELECT s.shardid, p.nodename, p.nodeport,
               pg_catalog.format('%I.%I', n.nspname, c.relname OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) s.shardid) AS name
          FROM pg_catalog.pg_dist_shard s
          JOIN pg_catalog.pg_dist_shard_placement p ON p.shardid OPERATOR(pg_catalog.=) s.shardid
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.logicalrelid
          JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
         WHERE s.logicalrelid OPERATOR(pg_catalog.=) tbl AND p.shardstate OPERATOR(pg_catalog.=) 1
         ORDER BY s.shardid, p.nodename, p.nodeport
    LOOP
        stmt := pg_catalog.format('CALL %I.icp_rescore(%L::pg_catalog.regclass, %L, %L, %L, %s)',
                                  nsp, shard.name, profile, fit_column, grade_column, batch_size);
        SELECT * INTO res FROM pg_catalog.master_run_on_worker(ARRAY[shard.nodename], ARRAY[shard.nodeport],
                                                               ARRAY[stmt], false);
        IF NOT res.success THEN
            RAISE EXCEPTION 'icp_rescore failed on shard % of % (node %:%): %', shard.shardid, tbl,
                            shard.nodename, shard.nodeport, res.result
                USING ERRCODE = '58000',
                      HINT = 'The shards done before this one keep their new scores; CALL icp_rescore again to finish.';
        END IF;
        done := done OPERATOR(pg_catalog.+) 1;
        RAISE NOTICE 'icp_rescore: shard % of % done on %:% (% of %)', shard.shardid, tbl,
                     shard.nodename, shard.nodeport, done, nshards;
    END LOOP;
    RETURN true;
END
$$;

COMMENT ON FUNCTION @extschema@.icp_rescore_citus(pg_catalog.regclass, pg_catalog.text, pg_catalog.text, pg_catalog.text, integer, boolean) IS
    'Internal: icp_rescore on a Citus table, shard by shard on the workers (one pushed-down UPDATE inside a transaction block or on a reference table); false for other tables';

CREATE OR REPLACE PROCEDURE @extschema@.icp_rescore(
    tbl pg_catalog.regclass,
    profile pg_catalog.text,
    fit_column pg_catalog.text,
    grade_column pg_catalog.text DEFAULT NULL,
    batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
AS $$
DECLARE
    can_commit boolean := @extschema@.icp_rescore_can_commit();
    kind "char";
    value @extschema@.icp_profile;
    fit_type pg_catalog.text;
    grade_type pg_catalog.text;
    generated "char";
    typ pg_catalog.oid;
    parts pg_catalog.oid[];
    part pg_catalog.oid;
    partname pg_catalog.text;
    stmt pg_catalog.text;
    scored pg_catalog.text;
    writes pg_catalog.text;
    writes_end pg_catalog.text;
    stmt_end pg_catalog.text;
    walk record;
    res record;
    last_key record;
    first_stmt pg_catalog.text;
    after pg_catalog.text;
    bound pg_catalog.text;
    i integer;
    started boolean;
    total bigint := 0;
    total_blocks bigint := 0;
    done bigint := 0;
    changed bigint := 0;
    nblocks bigint;
    blk bigint;
    step bigint;
    seen bigint;
    upd bigint;
    block_size integer := pg_catalog.current_setting('block_size')::integer;
BEGIN
    IF tbl IS NULL OR profile IS NULL OR fit_column IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22004',
            MESSAGE = 'icp_rescore: tbl, profile and fit_column must not be NULL';
    END IF;
    IF batch_size IS NULL OR batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = pg_catalog.format('icp_rescore: batch_size must be at least 1, not %s', batch_size);
    END IF;

    SELECT c.relkind INTO kind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) tbl;
    IF kind IS NULL OR kind OPERATOR(pg_catalog.<>) ALL (ARRAY['r', 'p']::"char"[]) THEN
        RAISE EXCEPTION USING ERRCODE = '42809',
            MESSAGE = pg_catalog.format('icp_rescore: %s is not a table', tbl),
            HINT = 'icp_rescore writes into a plain or partitioned table.';
    END IF;

    SELECT a.atttypid, a.attgenerated, pg_catalog.format_type(a.atttypid, a.atttypmod)
      INTO typ, generated, fit_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) fit_column
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '42703',
            MESSAGE = pg_catalog.format('icp_rescore: column %I of table %s does not exist', fit_column, tbl);
    END IF;
    IF typ OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog.float8'::pg_catalog.regtype,
                                        'pg_catalog.float4'::pg_catalog.regtype,
                                        'pg_catalog.numeric'::pg_catalog.regtype]::pg_catalog.oid[]) THEN
        RAISE EXCEPTION USING ERRCODE = '42804',
            MESSAGE = pg_catalog.format('icp_rescore: fit column %I of table %s is of type %s, but must be double precision, real or numeric',
                                        fit_column, tbl, fit_type);
    END IF;
    IF generated OPERATOR(pg_catalog.<>) '' THEN
        RAISE EXCEPTION USING ERRCODE = '428C9',
            MESSAGE = pg_catalog.format('icp_rescore: column %I of table %s is a generated column', fit_column, tbl);
    END IF;

    IF grade_column IS NOT NULL THEN
        IF grade_column OPERATOR(pg_catalog.=) fit_column THEN
            RAISE EXCEPTION USING ERRCODE = '22023',
                MESSAGE = 'icp_rescore: the fit and grade columns must be different columns';
        END IF;
        SELECT a.atttypid, a.attgenerated, pg_catalog.format_type(a.atttypid, a.atttypmod)
          INTO typ, generated, grade_type
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) grade_column
           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = '42703',
                MESSAGE = pg_catalog.format('icp_rescore: column %I of table %s does not exist', grade_column, tbl);
        END IF;
        IF typ OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog.text'::pg_catalog.regtype,
                                            'pg_catalog.varchar'::pg_catalog.regtype,
                                            'pg_catalog.bpchar'::pg_catalog.regtype]::pg_catalog.oid[]) THEN
            RAISE EXCEPTION USING ERRCODE = '42804',
                MESSAGE = pg_catalog.format('icp_rescore: grade column %I of table %s is of type %s, but must be text, varchar or char',
                                            grade_column, tbl, grade_type);
        END IF;
        IF generated OPERATOR(pg_catalog.<>) '' THEN
            RAISE EXCEPTION USING ERRCODE = '428C9',
                MESSAGE = pg_catalog.format('icp_rescore: column %I of table %s is a generated column', grade_column, tbl);
        END IF;
    END IF;

    -- one value for the whole run: every batch scores with the same version
    value := @extschema@.icp_profile(profile);

    -- a Citus table is rescored on its shards, where its rows live
    IF @extschema@.icp_rescore_citus(tbl, profile, fit_column, grade_column, batch_size, can_commit) THEN
        RETURN;
    END IF;

    IF kind OPERATOR(pg_catalog.=) 'p' THEN
        parts := ARRAY(SELECT t.relid FROM pg_catalog.pg_partition_tree(tbl) t
                        WHERE t.isleaf ORDER BY t.relid::pg_catalog.oid);
    ELSE
        parts := ARRAY[tbl::pg_catalog.oid];
    END IF;
    EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %s', tbl) INTO total;
    FOREACH part IN ARRAY parts LOOP
        total_blocks := total_blocks OPERATOR(pg_catalog.+)
            pg_catalog.pg_relation_size(part) OPERATOR(pg_catalog./) block_size;
    END LOOP;

    IF NOT can_commit THEN
        RAISE NOTICE 'icp_rescore: called inside a transaction block or a function, so all batches run in this one transaction'
            USING HINT = 'CALL it on its own (autocommit) to commit after each batch.';
    END IF;

    -- blocks per batch, from the average rows per block, adjusted as we go
    step := GREATEST(1, pg_catalog.ceil(batch_size::numeric OPERATOR(pg_catalog.*)
                total_blocks OPERATOR(pg_catalog./) GREATEST(total, 1))::bigint);

    FOREACH part IN ARRAY parts LOOP
        SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) INTO partname
          FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
         WHERE c.oid OPERATOR(pg_catalog.=) part;
        -- A primary key is walked in key order, in batches of exactly
        -- batch_size rows, with the operators of the key's own btree operator
        -- classes and the index's collations (so citext, uuid, numeric, a
        -- non-C collation or a composite key sort as the index does).  The
        -- last key of a batch comes back as a record and goes into the next
        -- batch as a typed parameter, unpacked by a column definition list:
        -- key values are never turned into text.  Without a primary key the
        -- table is walked by ctid ranges (see below).
        SELECT pg_catalog.count(*) AS n,
               pg_catalog.string_agg(pg_catalog.format('t.%I AS k%s', k.attname, k.n), ', ' ORDER BY k.n) AS sel,
               pg_catalog.string_agg(pg_catalog.format('t.%I%s USING %s', k.attname, k.coll, k.lt), ', ' ORDER BY k.n) AS ord,
               pg_catalog.string_agg(pg_catalog.format('cur.k%s%s USING %s', k.n, k.coll, k.gt), ', ' ORDER BY k.n) AS ord_desc,
               pg_catalog.string_agg(pg_catalog.format('cur.k%s', k.n), ', ' ORDER BY k.n) AS last,
               pg_catalog.string_agg(pg_catalog.format('t.%I%s', k.attname, k.coll), ', ' ORDER BY k.n) AS cols,
               pg_catalog.string_agg(pg_catalog.format('b.k%s', k.n), ', ' ORDER BY k.n) AS vals,
               pg_catalog.string_agg(pg_catalog.format('k%s %s', k.n, k.typ), ', ' ORDER BY k.n) AS defs,
               pg_catalog.string_agg(pg_catalog.format('t.%I%s %s cur.k%s', k.attname, k.coll, k.eq, k.n),
                                     ' AND ' ORDER BY k.n) AS eqs,
               pg_catalog.count(DISTINCT k.gt_schema) AS gt_schemas,
               pg_catalog.min(k.gt) AS gt,
               pg_catalog.array_agg(pg_catalog.format('t.%I%s', k.attname, k.coll) ORDER BY k.n) AS col_list,
               pg_catalog.array_agg(k.gt ORDER BY k.n) AS gt_list,
               pg_catalog.array_agg(k.ge ORDER BY k.n) AS ge_list,
               pg_catalog.array_agg(k.eq ORDER BY k.n) AS eq_list
          INTO walk
          FROM (SELECT u.n, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS typ,
                       CASE WHEN u.coll OPERATOR(pg_catalog.=) 0 THEN ''
                            ELSE pg_catalog.format(' COLLATE %I.%I', cn.nspname, co.collname) END AS coll,
                       ops.lt, ops.eq, ops.ge, ops.gt, ops.gt_schema
                  FROM pg_catalog.pg_index i
                 CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(i.indkey::pg_catalog.int2[]),
                                               pg_catalog.unnest(i.indclass::pg_catalog.oid[]),
                                               pg_catalog.unnest(i.indcollation::pg_catalog.oid[]))
                       WITH ORDINALITY AS u(attnum, opclass, coll, n)
                  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid
                                                AND a.attnum OPERATOR(pg_catalog.=) u.attnum
                  JOIN pg_catalog.pg_opclass oc ON oc.oid OPERATOR(pg_catalog.=) u.opclass
                  LEFT JOIN pg_catalog.pg_collation co ON co.oid OPERATOR(pg_catalog.=) u.coll
                  LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid OPERATOR(pg_catalog.=) co.collnamespace
                 -- the operators <, =, >= and > of the key column's btree operator class
                 CROSS JOIN LATERAL (
                       SELECT pg_catalog.max(pg_catalog.format('OPERATOR(%I.%s)', n.nspname, o.oprname))
                                  FILTER (WHERE m.amopstrategy OPERATOR(pg_catalog.=) 1) AS lt,
                              pg_catalog.max(pg_catalog.format('OPERATOR(%I.%s)', n.nspname, o.oprname))
                                  FILTER (WHERE m.amopstrategy OPERATOR(pg_catalog.=) 3) AS eq,
                              pg_catalog.max(pg_catalog.format('OPERATOR(%I.%s)', n.nspname, o.oprname))
                                  FILTER (WHERE m.amopstrategy OPERATOR(pg_catalog.=) 4) AS ge,
                              pg_catalog.max(pg_catalog.format('OPERATOR(%I.%s)', n.nspname, o.oprname))
                                  FILTER (WHERE m.amopstrategy OPERATOR(pg_catalog.=) 5) AS gt,
                              pg_catalog.max(n.nspname) FILTER (WHERE m.amopstrategy OPERATOR(pg_catalog.=) 5) AS gt_schema
                         FROM pg_catalog.pg_amop m
                         JOIN pg_catalog.pg_operator o ON o.oid OPERATOR(pg_catalog.=) m.amopopr
                         JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) o.oprnamespace
                        WHERE m.amopfamily OPERATOR(pg_catalog.=) oc.opcfamily
                          AND m.amoplefttype OPERATOR(pg_catalog.=) oc.opcintype
                          AND m.amoprighttype OPERATOR(pg_catalog.=) oc.opcintype) AS ops
                 WHERE i.indrelid OPERATOR(pg_catalog.=) part AND i.indisprimary
                   AND u.n OPERATOR(pg_catalog.<=) i.indnkeyatts) AS k;
        scored := pg_catalog.format(
            't.%1$I AS old_fit, CAST(%2$s.icp_fit(t.*, $1) AS %3$s) AS new_fit, %4$s',
            fit_column, '@extschema@', fit_type,
            CASE WHEN grade_column IS NULL THEN 'NULL::pg_catalog.text AS old_grade, NULL::pg_catalog.text AS new_grade'
                 ELSE pg_catalog.format('t.%I AS old_grade, CAST(%s.icp_grade(t.*, $1) AS %s) AS new_grade',
                                        grade_column, '@extschema@', grade_type) END);
        -- the UPDATE of a batch is writes || (which rows) || writes_end;
        -- generated text is joined, never fed to format() again
        writes := pg_catalog.format(
            'UPDATE ONLY %1$s AS t SET %2$I = cur.new_fit %3$s FROM cur WHERE ',
            partname, fit_column,
            CASE WHEN grade_column IS NULL THEN ''
                 ELSE pg_catalog.format(', %I = cur.new_grade', grade_column) END);
        writes_end := pg_catalog.format(
            ' AND (cur.old_fit IS DISTINCT FROM cur.new_fit %s) RETURNING 1',
            CASE WHEN grade_column IS NULL THEN ''
                 ELSE 'OR cur.old_grade IS DISTINCT FROM cur.new_grade' END);
        IF walk.n OPERATOR(pg_catalog.>) 0 THEN
            -- the rows after the last key of the previous batch ($2, a record
            -- of the key's types): one row comparison when every > lives in
            -- one schema (an index range), else spelled out column by column
            IF walk.gt_schemas OPERATOR(pg_catalog.=) 1 THEN
                after := pg_catalog.format('ROW(%s) %s (SELECT %s FROM pg_catalog.unnest(ARRAY[$2]) AS b(%s))',
                                           walk.cols, walk.gt, walk.vals, walk.defs);
            ELSE
                after := NULL;
                FOR i IN REVERSE walk.n .. 1 LOOP
                    bound := pg_catalog.format('(SELECT b.k%s FROM pg_catalog.unnest(ARRAY[$2]) AS b(%s))',
                                               i, walk.defs);
                    after := CASE WHEN after IS NULL
                        THEN pg_catalog.format('%s %s %s', walk.col_list[i], walk.gt_list[i], bound)
                        ELSE pg_catalog.format('(%1$s %2$s %3$s OR (%1$s %4$s %3$s AND %5$s))',
                                               walk.col_list[i], walk.gt_list[i], bound, walk.eq_list[i], after) END;
                END LOOP;
                after := pg_catalog.format('%s %s (SELECT b.k1 FROM pg_catalog.unnest(ARRAY[$2]) AS b(%s)) AND %s',
                                           walk.col_list[1], walk.ge_list[1], walk.defs, after);
            END IF;
            -- the update joins on the key and on the ctid read: a row that a
            -- concurrent transaction changed in between is left to it
            stmt := pg_catalog.format(
                'WITH cur AS MATERIALIZED (SELECT t.ctid AS tid, %s, %s FROM ONLY %s AS t WHERE ',
                walk.sel, scored, partname);
            stmt_end := pg_catalog.format(
                ' ORDER BY %s LIMIT $3), upd AS (%s) '
                'SELECT (SELECT pg_catalog.count(*) FROM cur) AS seen, (SELECT pg_catalog.count(*) FROM upd) AS upd,'
                ' (SELECT ROW(%s) FROM cur ORDER BY %s LIMIT 1) AS last',
                walk.ord,
                writes || walk.eqs || ' AND t.ctid OPERATOR(pg_catalog.=) cur.tid' || writes_end,
                walk.last, walk.ord_desc);
            first_stmt := stmt || 'true' || stmt_end;
            stmt := stmt || after || stmt_end;
            started := false;
            LOOP
                IF NOT started THEN
                    EXECUTE first_stmt INTO res USING value, NULL::pg_catalog.int4, batch_size;
                ELSE
                    EXECUTE stmt INTO res USING value, last_key, batch_size;
                END IF;
                seen := res.seen;
                EXIT WHEN seen OPERATOR(pg_catalog.=) 0;
                last_key := res.last;
                started := true;
                done := done OPERATOR(pg_catalog.+) seen;
                changed := changed OPERATOR(pg_catalog.+) res.upd;
                RAISE NOTICE '%', pg_catalog.format('rescored %s of %s rows (%s%%)', done, total,
                    LEAST(100, done OPERATOR(pg_catalog.*) 100 OPERATOR(pg_catalog./) GREATEST(total, 1)));
                IF can_commit THEN
                    COMMIT;
                END IF;
                EXIT WHEN seen OPERATOR(pg_catalog.<) batch_size;
            END LOOP;
            CONTINUE;
        END IF;

        -- blocks added after the start hold rows this run already wrote
        nblocks := pg_catalog.pg_relation_size(part) OPERATOR(pg_catalog./) block_size;
        stmt := pg_catalog.format(
            'WITH cur AS MATERIALIZED (SELECT t.ctid AS tid, %1$s FROM ONLY %2$s AS t'
            ' WHERE t.ctid OPERATOR(pg_catalog.>=) $2 AND t.ctid OPERATOR(pg_catalog.<) $3), '
            'upd AS (%3$s) '
            'SELECT (SELECT pg_catalog.count(*) FROM cur), (SELECT pg_catalog.count(*) FROM upd)',
            scored, partname,
            writes || 't.ctid OPERATOR(pg_catalog.>=) $2 AND t.ctid OPERATOR(pg_catalog.<) $3'
                      ' AND t.ctid OPERATOR(pg_catalog.=) cur.tid' || writes_end);
        blk := 0;
        WHILE blk OPERATOR(pg_catalog.<) nblocks LOOP
            EXECUTE stmt INTO seen, upd
              USING value,
                    pg_catalog.format('(%s,0)', blk)::pg_catalog.tid,
                    pg_catalog.format('(%s,0)', blk OPERATOR(pg_catalog.+) step)::pg_catalog.tid;
            done := done OPERATOR(pg_catalog.+) seen;
            changed := changed OPERATOR(pg_catalog.+) upd;
            blk := blk OPERATOR(pg_catalog.+) step;
            RAISE NOTICE '%', pg_catalog.format('rescored %s of %s rows (%s%%)',
                LEAST(done, total), total,
                LEAST(100, done OPERATOR(pg_catalog.*) 100 OPERATOR(pg_catalog./) GREATEST(total, 1)));
            IF can_commit THEN
                COMMIT;
            END IF;
            IF seen OPERATOR(pg_catalog.>) 0 THEN
                step := GREATEST(1, LEAST(step OPERATOR(pg_catalog.*) 4,
                            (step::numeric OPERATOR(pg_catalog.*) batch_size OPERATOR(pg_catalog./) seen)::bigint));
            END IF;
        END LOOP;
    END LOOP;
    RAISE NOTICE '%', pg_catalog.format('icp_rescore: %s rows scored with profile %L, %s updated',
                                        LEAST(done, total), profile, changed);
END
$$;

COMMENT ON PROCEDURE @extschema@.icp_rescore(pg_catalog.regclass, pg_catalog.text, pg_catalog.text, pg_catalog.text, integer) IS
    'Rescores a table after a profile changed: writes fit (and grade) only where they differ, commits after each batch of about batch_size rows, reports progress as NOTICEs; safe to interrupt and run again';
