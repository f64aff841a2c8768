-- icp 0.2 -> 0.3.  Every object is schema-qualified; nothing is adopted
-- from the search_path.  Each change to src/sql/ since 0.2 is repeated here
-- so that an updated database equals a fresh 0.3 install (the upgrade check
-- in test/checks/upgrade.sh compares them object by object).

\echo Use "ALTER EXTENSION icp UPDATE TO '0.3'" to load this file. \quit
