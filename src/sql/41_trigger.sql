
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
