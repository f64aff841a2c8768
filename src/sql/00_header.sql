-- icp: Ideal Customer Profile scoring.  Generated into icp--<version>.sql by
-- the Makefile from the files in src/sql/, concatenated in name order.
-- Every object is schema-qualified with @extschema@ or pg_catalog so that
-- nothing planted on the search_path is picked up while installing.

\echo Use "CREATE EXTENSION icp" to load this file. \quit
