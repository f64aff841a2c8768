#!/usr/bin/env bash
# test/bench/lib.sh: shared pieces of the benchmark scripts: synthetic leads,
# alternating timed runs in one session, medians and ratios.
# Sourced by bench.sh and the per-feature bench scripts.

BENCH_DIR=${BENCH_DIR:-$(mktemp -d /tmp/icp-bench.XXXXXX)}
export BENCH_DIR

# Create (once) $1 synthetic leads with a hidden won/lost outcome, and the
# 7-criterion points profile "bench".
bench_load_leads()
{
	local rows=$1
	local have
	have=$(psql -X -qAt -c "SELECT count(*) FROM pg_class WHERE relname = 'leads' AND relkind = 'r'")
	if [[ $have == 1 ]]; then
		have=$(psql -X -qAt -c "SELECT count(*) FROM leads")
		[[ $have == "$rows" ]] && return 0
		psql -X -q -c "DROP TABLE leads CASCADE"
	fi
	echo "loading $rows synthetic leads ..."
	psql -X -q -v ON_ERROR_STOP=1 -v rows="$rows" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
\o /dev/null
SELECT setseed(0.2024);
\o
CREATE TABLE leads (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    industry text,
    employees int,
    revenue numeric,
    country text,
    tech_stack text[],
    funding bigint,
    growth float8,
    won boolean
);
INSERT INTO leads
SELECT g, 'Lead ' || g, i, e, r, c, t, f, gr,
       -- the hidden truth behind the won/lost history, plus noise
       random() < 1 / (1 + exp(-(-2.2
            + CASE WHEN i IN ('software', 'fintech') THEN 1.2 ELSE 0 END
            + CASE WHEN e BETWEEN 50 AND 1000 THEN 0.9 ELSE 0 END
            + CASE WHEN c IN ('DE', 'AT', 'CH') THEN 0.5 ELSE 0 END
            + CASE WHEN t @> ARRAY['salesforce'] THEN 0.7 ELSE 0 END
            - CASE WHEN f IS NULL THEN 0.4 ELSE 0 END)))
FROM (
    SELECT g,
        (ARRAY['software', 'fintech', 'retail', 'manufacturing', 'healthcare',
               'media', 'logistics', 'education'])[1 + floor(random() * 8)::int] AS i,
        CASE WHEN random() < 0.05 THEN NULL ELSE floor(exp(random() * 9))::int END AS e,
        round((random() * 5e7)::numeric, -3) AS r,
        (ARRAY['DE', 'AT', 'CH', 'FR', 'US', 'GB', 'NL', 'SE', 'ES', 'IT'])[1 + floor(random() * 10)::int] AS c,
        CASE WHEN random() < 0.1 THEN NULL
             ELSE (SELECT coalesce(array_agg(x), '{}') FROM unnest(ARRAY['salesforce', 'hubspot', 'slack',
                   'jira', 'zendesk', 'stripe']) x WHERE random() < 0.3 + g * 0) END AS t,
        CASE WHEN random() < 0.3 THEN NULL ELSE floor(random() * 5e7)::bigint END AS f,
        round((random() * 2 - 0.5)::numeric, 3)::float8 AS gr
    FROM generate_series(1, :rows) g
) s;
VACUUM ANALYZE leads;
DELETE FROM icp_profiles WHERE name = 'bench';
INSERT INTO icp_profiles (name, description) VALUES ('bench', 'make bench: 7 criteria');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('bench', 'industry IN (''software'', ''fintech'')', 30),
    ('bench', 'employees BETWEEN 50 AND 1000', 25),
    ('bench', 'revenue >= 1000000', 15),
    ('bench', 'country IN (''DE'', ''AT'', ''CH'')', 10),
    ('bench', 'tech_stack CONTAINS ''salesforce''', 10),
    ('bench', 'funding > 5000000', 5),
    ('bench', 'growth > 0.2', 5);
SQL
}

# Run "label|sql" queries RUNS times each, alternating, in one session, after
# one untimed warm-up round; the median of each goes to $BENCH_DIR/<label>.
bench_run_alternating()
{
	local script="$BENCH_DIR/alternating.sql"
	local out="$BENCH_DIR/alternating.out"
	local spec label sql run
	{
		for spec in "$@"; do
			echo "${spec#*|};"
		done
		echo '\timing on'
		for ((run = 1; run <= RUNS; run++)); do
			for spec in "$@"; do
				label=${spec%%|*}
				sql=${spec#*|}
				echo "\\echo @@$label"
				echo "$sql;"
			done
		done
		echo "\\echo @@end"
	} >"$script"
	psql -X -q -v ON_ERROR_STOP=1 -f "$script" >"$out"
	# the last "Time:" of each block is the query's (SETs before it time too)
	awk -v dir="$BENCH_DIR" '
		/^@@/ { if (label != "" && last != "") print last >> (dir "/" label ".times");
		        label = substr($0, 3); last = ""; next }
		/^Time: / { last = $2 }
	' "$out"
	for spec in "$@"; do
		label=${spec%%|*}
		sort -n "$BENCH_DIR/$label.times" |
			awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }' \
				>"$BENCH_DIR/$label"
		printf '  %-28s median %10.1f ms\n' "$label" "$(cat "$BENCH_DIR/$label")"
	done
}

# Print "name: a/b" from two medians, with a note
bench_ratio()
{
	local name=$1 a=$2 b=$3 note=$4
	printf '%-46s %6.2f   %s\n' "$name:" \
		"$(awk -v a="$(cat "$BENCH_DIR/$a")" -v b="$(cat "$BENCH_DIR/$b")" 'BEGIN { print a / b }')" "$note"
}

# Print "name: b/a x" (how many times faster b is than a)
bench_speedup()
{
	local name=$1 a=$2 b=$3
	printf '%-46s %6.2fx\n' "$name:" \
		"$(awk -v a="$(cat "$BENCH_DIR/$a")" -v b="$(cat "$BENCH_DIR/$b")" 'BEGIN { print a / b }')"
}

# Growth of a backend's private memory (RssAnon) while it runs a query: the
# peak during the query minus the value just before, sampled from /proc.
bench_memory_growth()
{
	local name=$1 sql=$2 note=$3
	local app="icp_bench_mem_$$"
	local pid="" base peak cur
	PGAPPNAME=$app psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL &
$sql;
SELECT pg_sleep(2);
$sql;
SQL
	local client=$!
	for _ in $(seq 1 200); do
		pid=$(psql -X -qAt -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app' AND wait_event = 'PgSleep'")
		[[ -n $pid ]] && break
		sleep 0.05
	done
	if [[ -z $pid || ! -r /proc/$pid/status ]]; then
		wait "$client" || true
		printf '%-46s %s\n' "$name:" "not measured (backend not visible)"
		return 0
	fi
	base=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status")
	peak=$base
	while kill -0 "$client" 2>/dev/null; do
		cur=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		[[ -n $cur ]] && ((cur > peak)) && peak=$cur
		sleep 0.02
	done
	wait "$client"
	printf '%-46s %6.1f MB (RssAnon %d -> %d kB)   %s\n' "$name:" \
		"$(awk -v a="$base" -v b="$peak" 'BEGIN { print (b - a) / 1024 }')" "$base" "$peak" "$note"
}
