
-- ---------------------------------------------------------------------------
-- Profile history: every change to a profile keeps the previous value with
-- its validity period.
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.icp_profile_versions (
    profile text NOT NULL,
    version integer NOT NULL,
    value @extschema@.icp_profile NOT NULL,
    valid_from timestamp with time zone NOT NULL,
    valid_to timestamp with time zone,
    CONSTRAINT icp_profile_versions_pkey PRIMARY KEY (profile, version),
    CONSTRAINT icp_profile_versions_period_check
        CHECK (valid_to IS NULL OR valid_to OPERATOR(pg_catalog.>=) valid_from)
);

-- at most one current version per profile
CREATE UNIQUE INDEX icp_profile_versions_current
    ON @extschema@.icp_profile_versions (profile) WHERE valid_to IS NULL;

COMMENT ON TABLE @extschema@.icp_profile_versions IS
    'Profile history: each value a profile has had, with the period it was in force; written by triggers on icp_profiles and icp_criteria';
COMMENT ON COLUMN @extschema@.icp_profile_versions.profile IS
    'The profile''s name (renames carry along; the rows of a deleted profile stay)';
COMMENT ON COLUMN @extschema@.icp_profile_versions.version IS
    'Version number, 1 for the first value of the profile';
COMMENT ON COLUMN @extschema@.icp_profile_versions.value IS
    'The profile''s value in this period: score with it as icp_fit(account, value)';
COMMENT ON COLUMN @extschema@.icp_profile_versions.valid_from IS
    'Start of the transaction that made this value';
COMMENT ON COLUMN @extschema@.icp_profile_versions.valid_to IS
    'Start of the transaction that replaced it (or deleted the profile); NULL for the current value';

-- The history is written with the rights of the role that changes a
-- profile (no function here is SECURITY DEFINER): such a role needs SELECT,
-- INSERT and UPDATE on icp_profile_versions, as it needs INSERT, UPDATE and
-- DELETE on the profile tables.
CREATE FUNCTION @extschema@.icp_profiles_history()
RETURNS trigger
AS 'MODULE_PATHNAME', 'icp_profiles_history'
LANGUAGE C
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION @extschema@.icp_profiles_history() IS
    'Trigger function: records in icp_profile_versions every profile whose value a statement changed';

-- One trigger per event: transition tables name the profiles a statement
-- touched (a trigger with transition tables takes a single event, and
-- TRUNCATE has none: it looks at every profile).
CREATE TRIGGER icp_profiles_history_insert
    AFTER INSERT ON @extschema@.icp_profiles
    REFERENCING NEW TABLE AS icp_new
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_profiles_history_update
    AFTER UPDATE ON @extschema@.icp_profiles
    REFERENCING OLD TABLE AS icp_old NEW TABLE AS icp_new
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_profiles_history_delete
    AFTER DELETE ON @extschema@.icp_profiles
    REFERENCING OLD TABLE AS icp_old
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_profiles_history_truncate
    AFTER TRUNCATE ON @extschema@.icp_profiles
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_criteria_history_insert
    AFTER INSERT ON @extschema@.icp_criteria
    REFERENCING NEW TABLE AS icp_new
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_criteria_history_update
    AFTER UPDATE ON @extschema@.icp_criteria
    REFERENCING OLD TABLE AS icp_old NEW TABLE AS icp_new
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_criteria_history_delete
    AFTER DELETE ON @extschema@.icp_criteria
    REFERENCING OLD TABLE AS icp_old
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

CREATE TRIGGER icp_criteria_history_truncate
    AFTER TRUNCATE ON @extschema@.icp_criteria
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.icp_profiles_history();

-- A rename moves the profile's history along, before the criteria follow it
-- (ON UPDATE CASCADE) and before the statement trigger compares values.  A
-- new name that already has history (of a deleted profile) keeps it, and
-- the renamed profile's versions are numbered after it.
CREATE FUNCTION @extschema@.icp_profiles_history_rename()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT (has_table_privilege('@extschema@.icp_profile_versions', 'SELECT')
            AND has_table_privilege('@extschema@.icp_profile_versions', 'UPDATE')) THEN
        RAISE EXCEPTION 'permission denied for table icp_profile_versions'
            USING ERRCODE = '42501',
                  DETAIL = 'Renaming a profile renames its history in icp_profile_versions, with the rights of the role making the change.',
                  HINT = 'Grant SELECT, INSERT and UPDATE on icp_profile_versions to the roles that edit profiles.';
    END IF;
    -- (a new name taken by another profile fails on the primary key anyway)
    IF NEW.name IS DISTINCT FROM OLD.name AND NOT EXISTS
        (SELECT FROM @extschema@.icp_profiles AS p WHERE p.name = NEW.name) THEN
        UPDATE @extschema@.icp_profile_versions AS v
           SET profile = NEW.name,
               version = v.version + COALESCE(
                   (SELECT max(w.version) FROM @extschema@.icp_profile_versions AS w
                     WHERE w.profile = NEW.name), 0)
         WHERE v.profile = OLD.name;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION @extschema@.icp_profiles_history_rename() IS
    'Trigger function: carries a profile''s history in icp_profile_versions along when the profile is renamed';

CREATE TRIGGER icp_profiles_history_rename
    BEFORE UPDATE OF name ON @extschema@.icp_profiles
    FOR EACH ROW EXECUTE FUNCTION @extschema@.icp_profiles_history_rename();

-- Like the profile tables: nothing for PUBLIC, everything (with grant
-- option) for the role installing the extension.
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
    ON @extschema@.icp_profile_versions TO @extowner@ WITH GRANT OPTION;

SELECT pg_catalog.pg_extension_config_dump('@extschema@.icp_profile_versions', '');
