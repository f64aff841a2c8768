-- icp 0.1 -> 0.2: soundness release.  Internal entry points are no longer
-- callable by PUBLIC, the history trigger functions run with the caller's
-- rights, and icp_rescore / icp_funnel are rewritten (see README, Upgrading).
-- Every object is schema-qualified; nothing is adopted from the search_path.

\echo Use "ALTER EXTENSION icp UPDATE TO '0.2'" to load this file. \quit
