
-- ---------------------------------------------------------------------------
-- Scoring trigger: BEFORE INSERT OR UPDATE ... FOR EACH ROW EXECUTE FUNCTION
-- icp_score_trigger('profile' [, 'fit' [, 'grade' [, 'segment']]]).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_score_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'icp_score_trigger'
LANGUAGE C;

COMMENT ON FUNCTION @extschema@.icp_score_trigger() IS
    'Trigger function (BEFORE INSERT OR UPDATE, FOR EACH ROW): writes the fit, grade and segment of the new row into its columns; arguments: profile [, fit_column (default fit) [, grade_column [, segment_column]]]';

-- ---------------------------------------------------------------------------
-- Routing trigger: AFTER INSERT OR UPDATE ... FOR EACH ROW EXECUTE FUNCTION
-- icp_notify_trigger('channel' [, 'grade' [, 'key columns' [, 'outbox']]]).
-- Executable by PUBLIC like icp_score_trigger: it does nothing its user
-- could not do with pg_notify() and an INSERT of their own (the outbox
-- insert runs with the rights of the role whose statement fires it).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_notify_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'icp_notify_trigger'
LANGUAGE C;

COMMENT ON FUNCTION @extschema@.icp_notify_trigger() IS
    'Trigger function (AFTER INSERT OR UPDATE, FOR EACH ROW): one NOTIFY with a JSON payload per row whose grade changed; arguments: channel [, grade_column (default grade) [, key_columns (default: the primary key) [, outbox_table]]]';
