-- PLACEHOLDER: replace with the real ICP demo (test/demo/*.sql).
-- Run by `make demo` as: psql -X -v ON_ERROR_STOP=1 -f test/demo/demo.sql
-- in a scratch database; `\set ECHO queries` shows each statement.
CREATE EXTENSION icp;
SELECT 'icp demo' AS demo, extversion AS version
  FROM pg_catalog.pg_extension WHERE extname = 'icp';
