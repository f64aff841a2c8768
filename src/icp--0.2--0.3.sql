-- icp 0.2 -> 0.3.  Every object is schema-qualified; nothing is adopted
-- from the search_path.  Each change to src/sql/ since 0.2 is repeated here
-- so that an updated database equals a fresh 0.3 install (the upgrade check
-- in test/checks/upgrade.sh compares them object by object).

\echo Use "ALTER EXTENSION icp UPDATE TO '0.3'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- icp_learn: interaction rules and max_criteria (options interactions,
-- max_criteria); the comment lists the options.
-- ---------------------------------------------------------------------------
COMMENT ON FUNCTION @extschema@.icp_learn(pg_catalog.text, pg_catalog.regclass, pg_catalog.text,
    pg_catalog.text[], pg_catalog.jsonb) IS
    'Learns (or replaces) a logistic profile from won/lost history: one criterion per useful value, bin, element or IS NULL, and with interactions AND-rules of up to three conditions; options interactions, max_criteria, l2, min_support, bins, max_values, holdout, sample, seed';
