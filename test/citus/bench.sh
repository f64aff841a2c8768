#!/usr/bin/env bash
# What icp costs on Citus against one node, on one machine: a throwaway
# coordinator and two workers (test/citus/cluster.sh), N leads (default
# 100,000) in a single-node database and in a table distributed over 32
# shards; each query's best of three runs, then icp_rescore and inserts
# through icp_score_trigger once.  Figures of one run, not a test:
#   N=100000 PG_CONFIG=/path/to/pg_config bash test/citus/bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/common.sh
source test/lib/cluster.sh
source test/citus/cluster.sh
PG_CONFIG=${PG_CONFIG:-pg_config}
PG_BINDIR=$("$PG_CONFIG" --bindir)
trap citus_cluster_stop EXIT
citus_cluster_start dist
q() { as_pg "$PG_BINDIR/psql" -X -q -A -t -h "$CITUS_DIR" -p "${CITUS_PORTS[0]}" -U postgres -d "$@"; }
q postgres -c "CREATE DATABASE single" >/dev/null
N=${N:-100000}
SETUP="SET client_min_messages = warning; CREATE EXTENSION icp;
CREATE TABLE leads (id integer PRIMARY KEY, industry text, employees integer, country text, tech_stack text[], fit float8, grade text, segment text);
INSERT INTO icp_profiles (name, is_default) VALUES ('mid', true), ('ent', false);
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
 ('mid', 'employees BETWEEN 50 AND 1000', 40, true), ('mid', 'industry IN (''software'', ''fintech'')', 30, false),
 ('mid', 'country IN (''DE'', ''AT'', ''CH'')', 20, false), ('mid', 'tech_stack CONTAINS ''salesforce''', 10, false),
 ('ent', 'employees > 1000', 60, true), ('ent', 'industry = ''software''', 40, false);"
q single >/dev/null <<<"$SETUP"
q dist >/dev/null <<<"$SETUP
SELECT icp_citus_setup(); SELECT create_distributed_table('leads', 'id');"
DATA="INSERT INTO leads (id, industry, employees, country, tech_stack) SELECT g, (ARRAY['software','fintech','retail','health'])[1 + g % 4], (g * 7919) % 3000, (ARRAY['DE','AT','US','FR'])[1 + g % 4], CASE WHEN g % 2 = 0 THEN ARRAY['salesforce'] ELSE ARRAY['pipedrive'] END FROM generate_series(1, $N) g"
for db in single dist; do q $db -c "$DATA" >/dev/null; q $db -c "VACUUM ANALYZE leads" >/dev/null; done
# t(db, label, sql): the best of three runs, in ms
t()
{
	local db=$1 label=$2 sql=$3 best=999999 i ms
	for i in 1 2 3; do
		ms=$(q $db -c '\timing on' -c "$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
		best=$(awk -v a="$best" -v b="$ms" 'BEGIN{print (b<a)?b:a}')
	done
	printf '%-8s %-55s %10.1f ms\n' "$db" "$label" "$best"
}
for db in single dist; do
	t $db "sum(icp_fit(l, 'mid')) by name" "SELECT sum(icp_fit(l, 'mid')) FROM leads l"
	t $db "sum(icp_fit(l, value)) by value" "SELECT sum(icp_fit(l, (SELECT icp_profile('mid')))) FROM leads l"
	t $db "count by icp_segment(l)" "SELECT icp_segment(l), count(*) FROM leads l GROUP BY 1"
	t $db "one row by id (router)" "SELECT icp_fit(l, 'mid') FROM leads l WHERE id = 4242"
	t $db "plain SQL count(*)" "SELECT count(*) FROM leads"
done
for db in single dist; do
	q $db -c "UPDATE leads SET fit = NULL, grade = NULL" >/dev/null
	s=$(date +%s.%N); q $db -c "CALL icp_rescore('leads', 'mid', 'fit', 'grade', 10000)" >/dev/null 2>&1; e=$(date +%s.%N)
	printf '%-8s %-55s %10.1f ms\n' "$db" "CALL icp_rescore (all $N rows stale)" "$(awk -v a=$s -v b=$e 'BEGIN{print (b-a)*1000}')"
done
SET_TRG="SET citus.enable_unsafe_triggers = on; CREATE TABLE tl (LIKE leads); ALTER TABLE tl ADD PRIMARY KEY (id);"
q single >/dev/null <<<"$SET_TRG CREATE TRIGGER s BEFORE INSERT OR UPDATE ON tl FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('mid', 'fit', 'grade', 'segment');"
q dist >/dev/null <<<"$SET_TRG SELECT create_distributed_table('tl', 'id'); CREATE TRIGGER s BEFORE INSERT OR UPDATE ON tl FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('mid', 'fit', 'grade', 'segment');"
for db in single dist; do
	s=$(date +%s.%N); q $db -c "INSERT INTO tl (id, industry, employees, country, tech_stack) SELECT id, industry, employees, country, tech_stack FROM leads" >/dev/null; e=$(date +%s.%N)
	printf '%-8s %-55s %10.1f ms\n' "$db" "INSERT ... SELECT $N rows through icp_score_trigger" "$(awk -v a=$s -v b=$e 'BEGIN{print (b-a)*1000}')"
done
