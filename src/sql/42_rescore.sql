
-- ---------------------------------------------------------------------------
-- Bulk rescoring in committed batches.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_rescore_can_commit()
RETURNS boolean
AS 'MODULE_PATHNAME', 'icp_rescore_can_commit'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.icp_rescore_can_commit() IS
    'Internal: whether the calling procedure may COMMIT (it was CALLed outside a transaction block and outside any function)';

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

-- A procedure cannot have a SET search_path clause and COMMIT, so every name
-- below is qualified, and every identifier built into SQL goes through
-- format('%I') or a regclass.
CREATE PROCEDURE @extschema@.icp_rescore(
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
