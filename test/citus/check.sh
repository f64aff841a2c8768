#!/usr/bin/env bash
# make check-citus: icp on a real Citus cluster (a coordinator and two
# workers on loopback ports, in a temporary directory) against a single
# node.  The same leads (with big TOASTed values) are loaded into database
# "single" (no Citus) and into database "dist" (Citus, leads distributed by
# id, icp_citus_setup() done), and every icp function is run by name and by
# value in both; the answers must be equal.  Also: a profile edit made in
# one coordinator session is seen by the next statement of an older session
# (its cached worker connections included, trigger writes too), and a
# Citus database without icp_citus_setup() gives errors, never NULLs.
# Needs Citus installed in PG_CONFIG's server (test/citus/build.sh); exits
# 0 with a "skipped" line when it is not.  Last line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../lib/common.sh
source test/lib/common.sh
# shellcheck source=../lib/cluster.sh
source test/lib/cluster.sh
# shellcheck source=cluster.sh
source test/citus/cluster.sh

PG_CONFIG=${PG_CONFIG:-pg_config}
PG_BINDIR=$("$PG_CONFIG" --bindir)
if [[ ! -f $("$PG_CONFIG" --pkglibdir)/citus.so ]]; then
	echo "check-citus: SKIPPED: Citus is not installed in the server of $PG_CONFIG (test/citus/build.sh builds it)"
	exit 0
fi

PASSED=0
FAILED=0
WORK=$(mktemp -d)
chmod 755 "$WORK"
cleanup()
{
	[[ -n ${OLD_PID:-} ]] && kill "$OLD_PID" 2>/dev/null
	citus_cluster_stop
	rm -rf "$WORK"
}
trap cleanup EXIT

# psql on node $1 (0: coordinator) and database $2, statements on stdin
sqln()
{
	local node=$1 db=$2
	shift 2
	as_pg "$PG_BINDIR/psql" -X -q -A -t -h "$CITUS_DIR" -p "${CITUS_PORTS[$node]}" -U postgres \
		-d "$db" -v ON_ERROR_STOP=1 "$@"
}

ok()
{
	PASSED=$((PASSED + 1))
	echo "ok - $*"
}

not_ok()
{
	FAILED=$((FAILED + 1))
	echo "not ok - $*"
}

# same(name, query): the query's output is the same in "single" and "dist"
same()
{
	local name=$1 query=$2 a b
	a=$(sqln 0 single -c "$query" 2>&1) || true
	b=$(sqln 0 dist -c "$query" 2>&1) || true
	if [[ $a == "$b" && -n $a && $a != *ERROR* ]]; then
		ok "$name ($(wc -l <<<"$a") lines)"
	else
		not_ok "$name"
		diff <(echo "$a") <(echo "$b") | head -10 | sed 's/^/#   /'
	fi
}

# expect(name, wanted, query): the query gives wanted in "dist"
expect()
{
	local name=$1 want=$2 query=$3 got
	got=$(sqln 0 dist -c "$query" 2>&1) || true
	if [[ $got == "$want" ]]; then
		ok "$name"
	else
		not_ok "$name"
		echo "#   wanted: $want" && echo "#   got:    ${got:0:300}"
	fi
}

log "starting a coordinator and two workers"
citus_cluster_start dist
sqln 0 postgres -c "CREATE DATABASE single" >/dev/null

SCHEMA=$(cat <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION icp;
CREATE TABLE leads (id integer PRIMARY KEY, industry text, employees integer, country text,
                    tech_stack text[], notes text, won boolean,
                    fit double precision, grade text, segment text);
CREATE TABLE tleads (LIKE leads);
ALTER TABLE tleads ADD PRIMARY KEY (id);
SQL
)
PROFILES=$(cat <<'SQL'
INSERT INTO icp_profiles (name, kind, is_default, active) VALUES
    ('mid', 'ideal', true, true), ('ent', 'ideal', false, true),
    ('sam', 'exclude', false, true), ('dormant', 'ideal', false, false);
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('mid', 'employees BETWEEN 50 AND 1000', 40, true),
    ('mid', 'industry IN (''software'', ''fintech'')', 30, false),
    ('mid', 'country IN (''DE'', ''AT'', ''CH'')', 20, false),
    ('mid', 'tech_stack CONTAINS ''salesforce''', 10, false),
    ('mid', 'notes LIKE ''%ab%''', 5, false),
    ('ent', 'employees > 1000', 60, true),
    ('ent', 'industry = ''software''', 40, false),
    ('sam', 'employees < 30', 50, true),
    ('sam', 'notes LIKE ''%seed%''', 50, false),
    ('dormant', 'country = ''FR''', 100, false);
SQL
)
MORE_PROFILES=$(cat <<'SQL'
INSERT INTO icp_profiles (name, kind) VALUES ('later', 'exclude');
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('later', 'employees > 2900', 10, true), ('later', 'country = ''US''', 10, false);
UPDATE icp_criteria SET weight = 12 WHERE profile = 'mid' AND rule = 'tech_stack CONTAINS ''salesforce''';
SQL
)
sqln 0 single >/dev/null <<<"$SCHEMA
$PROFILES"
# profiles made before the setup (copied into the new placements) and after
sqln 0 dist >/dev/null <<<"$SCHEMA
$PROFILES
SELECT icp_citus_setup();
SELECT create_distributed_table('leads', 'id');"
sqln 0 single >/dev/null <<<"$MORE_PROFILES"
sqln 0 dist >/dev/null <<<"$MORE_PROFILES"

# the data: made once in "single", copied as it is into "dist"
sqln 0 single >/dev/null <<'SQL'
SELECT setseed(0.25);
INSERT INTO leads (id, industry, employees, country, tech_stack, notes, won)
SELECT g,
       (ARRAY['software', 'fintech', 'retail', 'health', NULL])[1 + floor(random() * 5)::int],
       CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 3000)::int END,
       (ARRAY['DE', 'AT', 'US', 'FR', NULL])[1 + floor(random() * 5)::int],
       CASE WHEN random() < 0.5 THEN ARRAY['salesforce', 'hubspot'] ELSE ARRAY['pipedrive'] END,
       -- every 10th row a 20 kB incompressible note (TOASTed, out of line)
       CASE WHEN g % 10 = 0 THEN (SELECT string_agg(md5(random()::text || i || g), '') FROM generate_series(1, 640) i)
            WHEN random() < 0.2 THEN 'seed round' ELSE 'x' END,
       random() < 0.3
  FROM generate_series(1, 3000) g;
SQL
sqln 0 single -c "COPY leads TO STDOUT" | sqln 0 dist -c "COPY leads FROM STDIN" >/dev/null
same "the same rows in both" "SELECT count(*), sum(length(notes)), sum(employees) FROM leads"
expect "leads is distributed over 32 shards" "32" \
	"SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'leads'::regclass"
expect "a TOASTed note lives out of line on a worker" "t" \
	"SELECT bool_or(result::int > 0) FROM run_command_on_shards('leads', \$\$SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = '%s'::regclass\$\$)"

log "every function by name and by value"
same "icp_fit/icp_grade/icp_score by name (multi-shard)" \
	"SELECT id, icp_fit(l, 'mid'), icp_grade(l, 'mid'), icp_score(l, 'ent') FROM leads l ORDER BY id"
same "icp_fit/icp_grade/icp_score with the default profile" \
	"SELECT id, icp_fit(l), icp_grade(l), icp_score(l) FROM leads l ORDER BY id"
same "icp_fit/icp_score by value (scalar subquery, pushed-down call)" \
	"SELECT id, icp_fit(l, (SELECT icp_profile('mid'))), icp_score(l, icp_profile('sam')) FROM leads l ORDER BY id"
same "icp_fit/icp_grade on jsonb accounts by name and default" \
	"SELECT id, icp_fit(to_jsonb(l), 'mid'), icp_grade(to_jsonb(l)), icp_score(to_jsonb(l), 'sam') FROM leads l ORDER BY id"
same "icp_explain by name and by value" \
	"SELECT l.id, e.*, v.outcome FROM leads l, icp_explain(l, 'mid') e, icp_explain(l, icp_profile('mid')) v WHERE e.criterion = v.criterion ORDER BY 1, 2"
same "icp_outcomes by name and by value" \
	"SELECT id, icp_outcomes(l, 'mid'), icp_outcomes(l, icp_profile('sam')) FROM leads l ORDER BY id"
same "icp_explain on jsonb with the default profile" \
	"SELECT l.id, e.criterion, e.outcome, e.points FROM leads l, icp_explain(to_jsonb(l)) e ORDER BY 1, 2"
same "icp_segment over the active profiles" \
	"SELECT id, icp_segment(l), icp_segment(to_jsonb(l)) FROM leads l ORDER BY id"
same "icp_segment over named profiles (inactive and anti-profile)" \
	"SELECT id, icp_segment(l, ARRAY['dormant', 'ent', 'sam']) FROM leads l ORDER BY id"
same "icp_segment over profile values" \
	"SELECT id, icp_segment(l, (SELECT array_agg(icp_profile(name)) FROM icp_profiles WHERE active)), icp_segment(l, ARRAY[icp_profile('dormant'), icp_profile('sam')]) FROM leads l ORDER BY id"
expect "icp_segment by name equals icp_segment over the same values" "0" \
	"SELECT count(*) FROM leads l WHERE icp_segment(l) IS DISTINCT FROM icp_segment(l, (SELECT array_agg(icp_profile(name)) FROM icp_profiles WHERE active))"
expect "icp_segment on Citus sees every segment (no NULL-for-all)" "5" \
	"SELECT count(DISTINCT coalesce(icp_segment(l), '-')) FROM leads l"
same "router queries (one shard) by name, default and segment" \
	"SELECT id, icp_fit(l, 'mid'), icp_grade(l), icp_segment(l) FROM leads l WHERE id IN (7) UNION ALL SELECT id, icp_fit(l, 'ent'), icp_grade(l), icp_segment(l) FROM leads l WHERE id = 1000 ORDER BY 1"
same "grades grouped on the workers" \
	"SELECT icp_grade(l, 'ent'), icp_segment(l), count(*) FROM leads l GROUP BY 1, 2 ORDER BY 1, 2"
# (slow start 0: Citus opens its extra connections at once, the case where
# a shard would be read over a connection that does not see the edit)
same "an edit seen by the rest of its own transaction (then rolled back)" \
	"BEGIN; SET LOCAL citus.executor_slow_start_interval = 0; UPDATE icp_criteria SET weight = weight * 2 WHERE profile = 'ent' AND required; SELECT id, icp_fit(l, 'ent'), icp_segment(l) FROM leads l ORDER BY id; ROLLBACK;"
same "the rolled-back edit is gone" "SELECT id, icp_fit(l, 'ent') FROM leads l ORDER BY id"
same "icp_profile(name) read on the coordinator" \
	"SELECT name, icp_profile(name)::text FROM icp_profiles ORDER BY name"
same "the coordinator's profile history is one node's" \
	"SELECT profile, version, value, valid_to IS NULL FROM icp_profile_versions ORDER BY 1, 2"
expect "every worker holds the profiles (its placement)" "2" \
	"SELECT count(*) FROM run_command_on_workers(\$\$SELECT count(*) FROM icp_profiles\$\$) WHERE result = '5'"
same "icp_funnel on the distributed table" "SELECT * FROM icp_funnel('mid', 'leads')"
same "icp_evaluate on the distributed table" "SELECT * FROM icp_evaluate('mid', 'leads', 'won')"
same "icp_lift on the distributed table" "SELECT * FROM icp_lift('mid', 'leads', 'won', 5)"

log "roles: a reader of the profile tables, and one without"
sqln 0 dist >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE ROLE icp_reader LOGIN;   -- Citus connects to the workers as the role
CREATE ROLE icp_outsider LOGIN;
-- one table per statement: a GRANT touching the shards of leads and then
-- the reference tables in one transaction needs sequential mode (README)
GRANT SELECT ON leads TO icp_reader;
GRANT SELECT ON icp_profiles, icp_criteria TO icp_reader;
GRANT SELECT ON leads TO icp_outsider;
SQL
sqln 0 single >/dev/null <<'SQL'
GRANT SELECT ON leads, icp_profiles, icp_criteria TO icp_reader;
GRANT SELECT ON leads TO icp_outsider;
SQL
same "a role with SELECT on the profile tables scores by name" \
	"SET ROLE icp_reader; SELECT id, icp_fit(l, 'mid'), icp_segment(l), icp_grade(l) FROM leads l ORDER BY id"
got=$(sqln 0 dist -c "SET ROLE icp_outsider; SELECT icp_fit(l, 'mid') FROM leads l" 2>&1) || true
[[ $got == "ERROR:  permission denied for table icp_profiles"* ]] &&
	ok "a role without SELECT on the profile tables gets an error on the workers" ||
	{ not_ok "a role without SELECT on the profile tables gets an error on the workers"; echo "#   got: ${got:0:200}"; }

log "scoring on write"
TRIGGER="CREATE TRIGGER tleads_score BEFORE INSERT OR UPDATE ON tleads
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('mid', 'fit', 'grade', 'segment');"
sqln 0 single -c "$TRIGGER" >/dev/null
sqln 0 dist >/dev/null <<<"SET citus.enable_unsafe_triggers = on;
SELECT create_distributed_table('tleads', 'id');
$TRIGGER"
INS="INSERT INTO tleads (id, industry, employees, country, tech_stack, notes, won) SELECT id, industry, employees, country, tech_stack, notes, won FROM leads WHERE id <= 1500"
sqln 0 single -c "$INS" >/dev/null
sqln 0 dist -c "$INS" >/dev/null
same "icp_score_trigger writes the same fit, grade and segment" "SELECT id, fit, grade, segment FROM tleads ORDER BY id"
expect "trigger columns equal icp_fit, icp_grade and icp_segment on Citus" "1500|0" \
	"SELECT count(*), count(*) FILTER (WHERE fit IS DISTINCT FROM icp_fit(t, 'mid') OR grade IS DISTINCT FROM icp_grade(t, 'mid') OR segment IS DISTINCT FROM icp_segment(t)) FROM tleads t"

log "a profile edit seen by an older session and its worker connections"
mkfifo "$WORK/in" "$WORK/out"
chown postgres "$WORK/in" "$WORK/out" 2>/dev/null || true
as_pg "$PG_BINDIR/psql" -X -q -A -t -h "$CITUS_DIR" -p "${CITUS_PORTS[0]}" -U postgres -d dist \
	<"$WORK/in" >"$WORK/out" 2>&1 &
OLD_PID=$!
exec 3>"$WORK/in" 4<"$WORK/out"
# old(query): run in the older session, print its output
old()
{
	local line out=""
	printf '%s\n\\echo __done__\n' "$1" >&3
	while IFS= read -r line <&4; do
		[[ $line == __done__ ]] && break
		out+="$line"$'\n'
	done
	printf '%s' "$out"
}
old "SET citus.max_cached_conns_per_worker = 4; SELECT sum(icp_fit(l, 'mid')), count(icp_segment(l)) FROM leads l;" >/dev/null
old "INSERT INTO tleads (id, employees) VALUES (-1, 100);" >/dev/null
COORD="SELECT icp_fit('{\"employees\": 100, \"country\": \"DE\"}'::jsonb, 'mid'), icp_grade('{\"employees\": 10}'::jsonb, 'sam'), icp_segment('{\"employees\": 100, \"country\": \"DE\"}'::jsonb);"
old "$COORD" >/dev/null
EDIT="UPDATE icp_criteria SET weight = weight + 25 WHERE profile = 'mid' AND rule = 'country IN (''DE'', ''AT'', ''CH'')';
UPDATE icp_profiles SET grade_thresholds = '{85,55,35}' WHERE name = 'sam';"
sqln 0 single -c "$EDIT" >/dev/null
sqln 0 dist -c "$EDIT" >/dev/null
a=$(sqln 0 single -c "SELECT id, icp_fit(l, 'mid'), icp_grade(l), icp_segment(l) FROM leads l ORDER BY id")
b=$(old "SELECT id, icp_fit(l, 'mid'), icp_grade(l), icp_segment(l) FROM leads l ORDER BY id;")
if [[ $a == "$b" ]]; then ok "the older session's next statement scores with the edit"; else
	not_ok "the older session's next statement scores with the edit"; diff <(echo "$a") <(echo "$b") | head -5; fi
a=$(sqln 0 single -c "$COORD")
b=$(old "$COORD")
if [[ $a == "$b" ]]; then ok "the older session's next statement on the coordinator itself scores with the edit"; else
	not_ok "the older session's next statement on the coordinator itself scores with the edit"; echo "#   $a / $b"; fi
INS2="INSERT INTO tleads (id, industry, employees, country, tech_stack, notes, won) SELECT id, industry, employees, country, tech_stack, notes, won FROM leads WHERE id > 1500;"
sqln 0 single -c "$INS2" >/dev/null
old "$INS2" >/dev/null
same "trigger writes of the older session use the edit" "SELECT id, fit, grade, segment FROM tleads WHERE id > 0 ORDER BY id"
old "\\q" >/dev/null || true
exec 3>&- 4<&-
wait "$OLD_PID" 2>/dev/null || true
OLD_PID=""

log "bulk work"
# stale scores in tleads: written with the trigger off, the same way in both
STALE="SET citus.enable_unsafe_triggers = on;
ALTER TABLE tleads DISABLE TRIGGER tleads_score;
UPDATE tleads SET fit = NULL, grade = NULL, segment = 'stale' WHERE id % 3 = 0;
ALTER TABLE tleads ENABLE TRIGGER tleads_score;"
sqln 0 single <<<"$STALE" >/dev/null
sqln 0 dist <<<"$STALE" >/dev/null
same "stale rows written with the trigger off" "SELECT count(*) FILTER (WHERE segment = 'stale'), count(*) FROM tleads WHERE id > 0"
sqln 0 single -c "CALL icp_rescore('leads', 'ent', 'fit', 'grade', 200)" >/dev/null 2>&1 || true
out=$(sqln 0 dist -c "CALL icp_rescore('leads', 'ent', 'fit', 'grade', 200)" 2>&1) || true
[[ $out == *"shard"*"(32 of 32)"* ]] && ok "icp_rescore ran on every shard" || { not_ok "icp_rescore ran on every shard"; echo "#   ${out:0:300}"; }
same "icp_rescore writes what one node writes" "SELECT id, fit, grade FROM leads ORDER BY id"
sqln 0 single -c "CALL icp_rescore('tleads', 'mid', 'fit', 'grade', 100)" >/dev/null 2>&1 || true
sqln 0 dist -c "CALL icp_rescore('tleads', 'mid', 'fit', 'grade', 100)" >/dev/null 2>&1 || true
same "icp_rescore on a table with icp_score_trigger" "SELECT id, fit, grade, segment FROM tleads WHERE id > 0 ORDER BY id"
expect "after icp_rescore fit and grade equal icp_fit and icp_grade" "3001|0" \
	"SELECT count(*), count(*) FILTER (WHERE fit IS DISTINCT FROM icp_fit(t, 'mid') OR grade IS DISTINCT FROM icp_grade(t, 'mid')) FROM tleads t"
INTX="BEGIN; CALL icp_rescore('leads', 'mid', 'fit', 'grade', 500); COMMIT;"
sqln 0 single -c "$INTX" >/dev/null 2>&1 || true
out=$(sqln 0 dist -c "$INTX" 2>&1) || true
[[ $out == *"updated with profile 'mid' in one statement on its shards"* ]] &&
	ok "icp_rescore inside a transaction block: one pushed-down UPDATE" ||
	{ not_ok "icp_rescore inside a transaction block: one pushed-down UPDATE"; echo "#   ${out:0:300}"; }
same "icp_rescore inside a transaction block writes what one node writes" "SELECT id, fit, grade FROM leads ORDER BY id"
LEARN="SELECT rows_used, positives, holdout_rows, criteria FROM icp_learn('learned', 'leads', 'won', ARRAY['industry', 'employees', 'country']);"
same "icp_learn uses the same rows" "$LEARN"
same "icp_learn learns the same profile" "SELECT icp_profile('learned')::text"
same "the learned profile scores the same by name" "SELECT id, icp_fit(l, 'learned') FROM leads l ORDER BY id"

log "no setup: errors, not NULLs"
for i in 0 1 2; do
	sqln "$i" postgres -c "CREATE DATABASE nosetup" >/dev/null
	sqln "$i" nosetup -c "SET client_min_messages = warning" -c "CREATE EXTENSION citus" >/dev/null
done
sqln 0 nosetup >/dev/null <<-SQL
	SET client_min_messages = warning;
	SELECT citus_set_coordinator_host('127.0.0.1', ${CITUS_PORTS[0]});
	SELECT citus_add_node('127.0.0.1', ${CITUS_PORTS[1]});
	SELECT citus_add_node('127.0.0.1', ${CITUS_PORTS[2]});
	CREATE EXTENSION icp;
	INSERT INTO icp_profiles (name) VALUES ('p');
	INSERT INTO icp_criteria (profile, rule) VALUES ('p', 'x > 1');
	CREATE TABLE t (id int, x int);
	SELECT create_distributed_table('t', 'id');
	INSERT INTO t SELECT g, g FROM generate_series(1, 10) g;
SQL
for q in "SELECT icp_fit(t, 'p') FROM t" "SELECT icp_segment(t) FROM t" "SELECT icp_grade(t) FROM t"; do
	got=$(sqln 0 nosetup -c "$q" 2>&1) || true
	if [[ $got == *"ERROR:  the icp profile tables are not replicated to this Citus worker"* ]]; then
		ok "without icp_citus_setup: $q is an error"
	else
		not_ok "without icp_citus_setup: $q is an error"
		echo "#   got: ${got:0:200}"
	fi
done

log "a coordinator outside the Citus metadata (no placement of its own)"
for i in 0 1 2; do
	sqln "$i" postgres -c "CREATE DATABASE nocoord" >/dev/null
	sqln "$i" nocoord -c "SET client_min_messages = warning" -c "CREATE EXTENSION citus" >/dev/null
done
sqln 0 nocoord >/dev/null <<<"SET client_min_messages = warning;
SELECT citus_add_node('127.0.0.1', ${CITUS_PORTS[1]});
SELECT citus_add_node('127.0.0.1', ${CITUS_PORTS[2]});
$SCHEMA
$PROFILES
SELECT icp_citus_setup();
SELECT create_distributed_table('leads', 'id');
$MORE_PROFILES"
sqln 0 dist -c "COPY leads (id, industry, employees, country, tech_stack, notes, won) TO STDOUT" |
	sqln 0 nocoord -c "COPY leads (id, industry, employees, country, tech_stack, notes, won) FROM STDIN" >/dev/null
# nocoord_expect(name, wanted, query): the query gives wanted in "nocoord"
nocoord_expect()
{
	local got
	got=$(sqln 0 nocoord -c "$3" 2>&1) || true
	if [[ $got == "$2" ]]; then ok "$1"; else not_ok "$1"; echo "#   got: ${got:0:200}"; fi
}
BYVALUE="SELECT count(*), count(*) FILTER (WHERE icp_fit(l, 'mid') IS DISTINCT FROM icp_fit(l, (SELECT icp_profile('mid')))
    OR icp_grade(l) IS DISTINCT FROM icp_grade(l, (SELECT icp_profile('mid')))
    OR icp_segment(l) IS DISTINCT FROM icp_segment(l, (SELECT array_agg(icp_profile(name)) FROM icp_profiles WHERE active))) FROM leads l"
nocoord_expect "without a coordinator placement: by name equals by value" "3000|0" "$BYVALUE"
sqln 0 nocoord -c "UPDATE icp_criteria SET weight = 1 WHERE profile = 'mid' AND rule = 'employees BETWEEN 50 AND 1000'" >/dev/null
nocoord_expect "without a coordinator placement: an edit is seen at the next statement" "3000|0" "$BYVALUE"
nocoord_expect "without a coordinator placement: the coordinator reads the edit too" "t" \
	"SELECT icp_fit('{\"employees\": 100}'::jsonb, 'mid') = icp_fit('{\"employees\": 100}'::jsonb, (SELECT icp_profile('mid')))"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
