
-- ---------------------------------------------------------------------------
-- Internal functions nobody calls by name: EXECUTE is revoked from PUBLIC.
-- The planner calls a support function, and a table fires its triggers,
-- without checking EXECUTE, so these keep working for every role; only
-- calling them directly, or attaching the trigger functions to another
-- table, needs the owner.
--
-- icp_rescore_can_commit and icp_outcome_expression stay executable by
-- PUBLIC on purpose: icp_rescore, icp_evaluate and icp_lift run with the
-- caller's rights and call them, so revoking them would break those for
-- every role but the owner.  Neither can do harm: the first takes no
-- argument and says whether the calling procedure may COMMIT, the second
-- reads the catalog (readable by all) and rejects a NULL or an unknown
-- column with an error.
-- ---------------------------------------------------------------------------

REVOKE EXECUTE ON FUNCTION @extschema@.icp_support(pg_catalog.internal) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.icp_touch_updated_at() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.icp_profiles_changed() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.icp_profiles_history() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.icp_profiles_history_rename() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.icp_check_weights() FROM PUBLIC;
