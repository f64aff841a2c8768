
-- ---------------------------------------------------------------------------
-- Scaling out with Citus (README).  icp_citus_setup() makes the profile
-- tables reference tables, once, on the coordinator: every node then holds
-- a placement (a plain table such as icp_profiles_102008) kept equal to
-- the coordinator's in the same transaction, and icp reads profiles by name
-- from the local placement, on workers inside shard queries too.  The
-- tables' triggers go to every placement (citus.enable_unsafe_triggers is
-- set for the call only): each node checks weights, keeps updated_at,
-- records its own copy of the history in its local icp_profile_versions
-- and invalidates its own sessions' compiled profiles.  Citus refuses to
-- distribute a table in a foreign key with a local table, and the workers'
-- copies of icp_criteria (made by CREATE EXTENSION there) already carry
-- the foreign key Citus would add to them: so the key is dropped on every
-- node, both tables are distributed, and the key is added back (Citus adds
-- it to every placement).  Nothing changes on a single node.
-- ---------------------------------------------------------------------------

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
