
-- ---------------------------------------------------------------------------
-- Bulk rescoring in committed batches (DESIGN.md section 5).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_rescore_can_commit()
RETURNS boolean
AS 'MODULE_PATHNAME', 'icp_rescore_can_commit'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.icp_rescore_can_commit() IS
    'Internal: whether the calling procedure may COMMIT (it was CALLed outside a transaction block and outside any function)';

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
    key pg_catalog.text;
    key_type pg_catalog.text;
    last_key pg_catalog.text;
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
        -- a one-column primary key: walk it in exact batches; otherwise walk
        -- ctid ranges (a row the run moved to a later block is seen twice)
        key := NULL;
        SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) INTO key, key_type
          FROM pg_catalog.pg_index i
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid
                                        AND a.attnum OPERATOR(pg_catalog.=) i.indkey[0]
         WHERE i.indrelid OPERATOR(pg_catalog.=) part AND i.indisprimary
           AND i.indnatts OPERATOR(pg_catalog.=) 1;
        scored := pg_catalog.format(
            't.%1$I AS old_fit, CAST(%2$s.icp_fit(t, $1) AS %3$s) AS new_fit, %4$s',
            fit_column, '@extschema@', fit_type,
            CASE WHEN grade_column IS NULL THEN 'NULL::pg_catalog.text AS old_grade, NULL::pg_catalog.text AS new_grade'
                 ELSE pg_catalog.format('t.%I AS old_grade, CAST(%s.icp_grade(t, $1) AS %s) AS new_grade',
                                        grade_column, '@extschema@', grade_type) END);
        writes := pg_catalog.format(
            'UPDATE ONLY %1$s AS t SET %2$I = cur.new_fit %3$s FROM cur WHERE %%s'
            ' AND (cur.old_fit IS DISTINCT FROM cur.new_fit %4$s) RETURNING 1',
            partname, fit_column,
            CASE WHEN grade_column IS NULL THEN ''
                 ELSE pg_catalog.format(', %I = cur.new_grade', grade_column) END,
            CASE WHEN grade_column IS NULL THEN ''
                 ELSE 'OR cur.old_grade IS DISTINCT FROM cur.new_grade' END);
        IF key IS NOT NULL THEN
            stmt := pg_catalog.format(
                'WITH cur AS MATERIALIZED (SELECT t.%1$I AS k, %2$s FROM ONLY %3$s AS t'
                ' WHERE $2 IS NULL OR t.%1$I OPERATOR(pg_catalog.>) CAST($2 AS %4$s)'
                ' ORDER BY t.%1$I LIMIT $3), upd AS (%5$s) '
                'SELECT (SELECT pg_catalog.count(*) FROM cur), (SELECT pg_catalog.count(*) FROM upd),'
                ' (SELECT CAST(pg_catalog.max(cur.k) AS pg_catalog.text) FROM cur)',
                key, scored, partname, key_type,
                pg_catalog.format(writes, pg_catalog.format('t.%I OPERATOR(pg_catalog.=) cur.k', key)));
            last_key := NULL;
            LOOP
                EXECUTE stmt INTO seen, upd, last_key USING value, last_key, batch_size;
                EXIT WHEN seen OPERATOR(pg_catalog.=) 0;
                done := done OPERATOR(pg_catalog.+) seen;
                changed := changed OPERATOR(pg_catalog.+) upd;
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
            pg_catalog.format(writes, 't.ctid OPERATOR(pg_catalog.>=) $2 AND t.ctid OPERATOR(pg_catalog.<) $3'
                                      ' AND t.ctid OPERATOR(pg_catalog.=) cur.tid'));
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
