#!/usr/bin/env bash
# Check: bad data never loses data.  An icp_rescore cancelled mid-way leaves
# every row either as it was or correctly rescored, and a re-run finishes
# the job; a scoring trigger that fails on a row aborts only its statement.
set -euo pipefail

db=icp_bad_data
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
# shellcheck source=test/checks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
q()
{
	psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"
}

psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION icp;
CREATE TABLE leads (id int PRIMARY KEY, industry text, employees int, meta jsonb,
                    fit float8, grade text);
INSERT INTO leads (id, industry, employees, meta)
SELECT g, (ARRAY['software', 'retail'])[1 + g % 2], g % 2000, jsonb_build_object('score', g % 100)
FROM generate_series(1, 300000) g;
INSERT INTO icp_profiles (name) VALUES ('bad');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('bad', 'industry = ''software''', 10), ('bad', 'employees > 500', 10),
    ('bad', 'meta.score >= 50', 5);
SQL

# cancel a rescore part-way through (statement_timeout), then look at the rows
rc=0
PGOPTIONS="-c statement_timeout=700" psql -X -q -d "$db" \
	-c "CALL icp_rescore('leads', 'bad', 'fit', 'grade', 5000)" >/dev/null 2>&1 || rc=$?
done_rows=$(q "SELECT count(*) FROM leads WHERE fit IS NOT NULL")
echo "# cancelled run: exit status $rc, $done_rows of 300000 rows rescored before the cancel"
check "after a cancelled rescore every row is either untouched or correctly rescored" \
	"$(q "SELECT count(*) FROM leads l WHERE fit IS NOT NULL AND (fit IS DISTINCT FROM icp_fit(l, 'bad') OR grade IS DISTINCT FROM icp_grade(l, 'bad'))")" "0"
check "no row was lost" "$(q "SELECT count(*) FROM leads")" "300000"
psql -X -q -d "$db" -c "SET client_min_messages = warning" -c "CALL icp_rescore('leads', 'bad', 'fit', 'grade', 5000)" >/dev/null
check "a re-run finishes the job" \
	"$(q "SELECT count(*) FROM leads l WHERE fit IS DISTINCT FROM icp_fit(l, 'bad') OR grade IS DISTINCT FROM icp_grade(l, 'bad')")" "0"

# a trigger that fails on one row aborts that statement only
q "CREATE TRIGGER leads_score BEFORE INSERT OR UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('bad', 'fit', 'grade')" >/dev/null
err=$(psql -X -q -d "$db" -c "INSERT INTO leads (id, industry, employees, meta) VALUES
    (300001, 'software', 900, '{\"score\": 80}'), (300002, 'software', 900, '{\"score\": \"lots\"}')" 2>&1 || true)
check "a row the trigger cannot score fails its statement with a clear error" \
	"$(grep -c 'cannot be compared with a number' <<<"$err")" "1"
check "and nothing of that statement was written" "$(q "SELECT count(*) FROM leads WHERE id > 300000")" "0"
check "the next statement works" \
	"$(q "INSERT INTO leads (id, industry, employees, meta) VALUES (300003, 'software', 900, '{\"score\": 80}') RETURNING fit")" "100"
