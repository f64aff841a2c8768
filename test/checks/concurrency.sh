#!/usr/bin/env bash
# Check: many clients insert leads through the scoring trigger while another
# client keeps editing (and re-learning) profiles.  Zero errors; after a
# final icp_rescore every stored fit and grade equals icp_fit/icp_grade.
# Prints TAP-style lines and the insert throughput.  CONC_SECONDS (default
# 8) sets the length of the run.
set -euo pipefail

db=icp_concurrency
secs=${CONC_SECONDS:-8}
work=$(mktemp -d)
trap 'rm -rf "$work"; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1

psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION icp;
CREATE TABLE leads (id bigserial PRIMARY KEY, industry text, employees int, country text,
                    tech_stack text[], won boolean, fit float8, grade text);
INSERT INTO icp_profiles (name) VALUES ('conc');
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('conc', 'industry IN (''software'', ''fintech'')', 30, false),
    ('conc', 'employees BETWEEN 50 AND 1000', 25, true),
    ('conc', 'country IN (''DE'', ''AT'', ''CH'')', 10, false),
    ('conc', 'tech_stack CONTAINS ''salesforce''', 10, false);
CREATE TRIGGER leads_score BEFORE INSERT OR UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('conc', 'fit', 'grade');
-- some history before the clients start, so icp_learn never sees an empty
-- table (an empty source is an error by design)
INSERT INTO leads (industry, employees, country, tech_stack, won)
SELECT (ARRAY['software', 'fintech', 'retail', 'media'])[1 + g % 4], 1 + g * 7 % 3000,
       (ARRAY['DE', 'AT', 'CH', 'FR', 'US'])[1 + g % 5], ARRAY['salesforce'], g % 3 = 0
  FROM generate_series(1, 300) AS g;
SQL

cat >"$work/insert.sql" <<'SQL'
\set e random(1, 3000)
\set i random(1, 4)
\set c random(1, 5)
INSERT INTO leads (industry, employees, country, tech_stack, won)
VALUES ((ARRAY['software', 'fintech', 'retail', 'media'])[:i], :e,
        (ARRAY['DE', 'AT', 'CH', 'FR', 'US'])[:c],
        CASE WHEN :e % 2 = 0 THEN ARRAY['salesforce'] ELSE ARRAY['hubspot'] END,
        :e % 3 = 0);
SQL
cat >"$work/edit.sql" <<'SQL'
\set w random(1, 40)
UPDATE icp_criteria SET weight = :w WHERE profile = 'conc' AND rule = 'country IN (''DE'', ''AT'', ''CH'')';
UPDATE icp_profiles SET grade_thresholds = CASE WHEN :w % 2 = 0 THEN '{80,60,40}'::float8[] ELSE '{70,50,30}' END
WHERE name = 'conc';
SQL
learn=0
if psql -X -qAt -d "$db" -c "SELECT 1 FROM pg_proc WHERE proname = 'icp_learn'" | grep -q 1; then
	learn=1
	cat >"$work/learn.sql" <<'SQL'
SELECT rows_used FROM icp_learn('conc-learned', 'leads', 'won', ARRAY['industry', 'employees', 'country']);
SQL
fi

pgbench -n -c 4 -j 2 -T "$secs" -f "$work/insert.sql" "$db" >"$work/insert.out" 2>&1 &
ins=$!
pgbench -n -c 1 -j 1 -T "$secs" -f "$work/edit.sql" "$db" >"$work/edit.out" 2>&1 &
ed=$!
if ((learn)); then
	pgbench -n -c 1 -j 1 -T "$secs" -f "$work/learn.sql" "$db" >"$work/learn.out" 2>&1 &
	le=$!
fi
rc=0
wait "$ins" || rc=1
wait "$ed" || rc=1
if ((learn)); then wait "$le" || rc=1; fi

# shellcheck source=test/checks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
failed=$(cat "$work"/*.out | grep -cE 'aborted|ERROR' || true)
check "pgbench clients ran without errors" "$rc:$failed" "0:0"
[[ $failed == 0 ]] || grep -hE 'aborted|ERROR' "$work"/*.out | head -5
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/insert.out" | head -1)
edits=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/edit.out")
also=""
((learn)) && also=" and icp_learn re-learnt a profile $(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/learn.out") times"
echo "# inserts through the scoring trigger: $tps tps with 4 clients, while $edits profile edits ran$also"
rows=$(psql -X -qAt -d "$db" -c "SELECT count(*) FROM leads")
check "rows were inserted" "$((rows > 100))" "1"
check "every row has a fit or a NULL fit only where nothing counts" \
	"$(psql -X -qAt -d "$db" -c "SELECT count(*) FROM leads WHERE fit IS NULL AND employees IS NOT NULL")" "0"
psql -X -q -d "$db" -c "SET client_min_messages = warning" -c "CALL icp_rescore('leads', 'conc', 'fit', 'grade')" >/dev/null
check "after icp_rescore every stored fit and grade equals icp_fit and icp_grade" \
	"$(psql -X -qAt -d "$db" -c "SELECT count(*) FROM leads l WHERE fit IS DISTINCT FROM icp_fit(l, 'conc') OR grade IS DISTINCT FROM icp_grade(l, 'conc')")" "0"
