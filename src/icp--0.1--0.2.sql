-- icp 0.1 -> 0.2: soundness release.  Internal entry points are no longer
-- callable by PUBLIC, the history trigger functions run with the caller's
-- rights, and icp_rescore / icp_funnel are rewritten (see README, Upgrading).
-- Every object is schema-qualified; nothing is adopted from the search_path.

\echo Use "ALTER EXTENSION icp UPDATE TO '0.2'" to load this file. \quit

-- Internal entry points of the planner rewrite are no longer executable by
-- PUBLIC; the rewrite is only made for roles that may execute them.
REVOKE ALL ON FUNCTION @extschema@.icp_fit_columns("any") FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.icp_grade_columns("any") FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.icp_score_columns("any") FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.icp_segment_columns("any") FROM PUBLIC;
