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
