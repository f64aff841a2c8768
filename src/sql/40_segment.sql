
-- ---------------------------------------------------------------------------
-- Segmentation: which profile an account belongs to.  A profile matches when
-- its grade is A, B or C; the best matching exclude profile wins, else the
-- best matching ideal one, else NULL (ties: the name that sorts first).
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.icp_segment_columns(VARIADIC "any")
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_columns'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_segment_columns("any") IS
    'Internal: icp_segment on the columns of a table row, as the planner rewrites it';

REVOKE ALL ON FUNCTION @extschema@.icp_segment_columns("any") FROM PUBLIC;

CREATE FUNCTION @extschema@.icp_segment(account record)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_segment(record) IS
    'The segment of an account (record) among the active profiles: the best matching (grade A-C) exclude profile, else the best matching ideal one, else NULL; ties to the name that sorts first';

CREATE FUNCTION @extschema@.icp_segment(account record, profiles pg_catalog.text[])
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_record'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.icp_support;

COMMENT ON FUNCTION @extschema@.icp_segment(record, pg_catalog.text[]) IS
    'The segment of an account (record) among the named profiles (active or not): the best matching (grade A-C) exclude profile, else the best matching ideal one, else NULL; ties to the name that sorts first';

CREATE FUNCTION @extschema@.icp_segment(account pg_catalog.jsonb)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_segment(pg_catalog.jsonb) IS
    'The segment of an account (jsonb) among the active profiles: the best matching (grade A-C) exclude profile, else the best matching ideal one, else NULL; ties to the name that sorts first';

CREATE FUNCTION @extschema@.icp_segment(account pg_catalog.jsonb, profiles pg_catalog.text[])
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'icp_segment_jsonb'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_segment(pg_catalog.jsonb, pg_catalog.text[]) IS
    'The segment of an account (jsonb) among the named profiles (active or not): the best matching (grade A-C) exclude profile, else the best matching ideal one, else NULL; ties to the name that sorts first';

-- Over profile values: no table is read, so it runs anywhere (Citus
-- workers, parallel workers) on what the caller ships, e.g.
-- icp_segment(l, (SELECT array_agg(icp_profile(name)) FROM icp_profiles WHERE active)).
-- No planner support: the values are read from the array, not from a table.
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
