#!/usr/bin/env bash
# test/bench/learn.sh: icp_learn over 1,000,000 leads against the SQL a user
# would write instead, and scoring a big learned profile against the CASE
# sum of its rules.  Medians of alternating runs in one session.
#
#   - icp_learn over six scalar attributes (three text, three numeric)
#     against the per-attribute frequency tables written as ONE query: a
#     UNION ALL of six GROUP BYs with count(*) FILTER (WHERE won) (numbers
#     in 10 width_bucket bins); target <= 1.0
#   - icp_learn over ten attributes with the option interactions against
#     without; target <= 3.0; and the backend's peak private memory of the
#     one with interactions; target <= 256 MB
#   - icp_fit with a learned profile of (up to) 150 criteria, AND-rules
#     included, against a hand-written CASE sum of the same rules (generated
#     from the profile's criteria); target <= 1.0
#
# Runs against the database named by the PG* variables (`make bench` sets
# them to a throwaway cluster).  Uses the table leads if it exists (bench.sh
# creates it), else generates one; learn_bench is a copy with four more
# attributes (channel, seats, partner, last_visit) and a won outcome from a
# known model with two interactions.
#
#   LEARN_BENCH_ROWS  rows to generate when leads is missing (ICP_BENCH_ROWS, 1000000)
#   LEARN_BENCH_RUNS  timed runs of each side (ICP_BENCH_RUNS, 5)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/bench/lib.sh
source "$HERE/lib.sh"

ROWS=${LEARN_BENCH_ROWS:-${ICP_BENCH_ROWS:-1000000}}
RUNS=${LEARN_BENCH_RUNS:-${ICP_BENCH_RUNS:-5}}
export RUNS
BENCH_DIR=${BENCH_DIR:-$(mktemp -d)}
export BENCH_DIR
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -P pager=off)

"${PSQL[@]}" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS icp"

if [[ $("${PSQL[@]}" -tAc "SELECT to_regclass('leads') IS NOT NULL") != t ]]; then
	echo "learn bench: generating $ROWS leads"
	bench_load_leads "$ROWS"
fi

if [[ $("${PSQL[@]}" -tAc "SELECT to_regclass('learn_bench') IS NOT NULL") != t ]]; then
	echo "learn bench: learn_bench, leads with four more attributes and a won from a known model"
	"${PSQL[@]}" <<-'SQL'
		SELECT setseed(0.17) \g /dev/null
		CREATE TABLE learn_bench AS
		SELECT l.id, l.industry, l.employees, l.revenue, l.country, l.tech_stack, l.funding, l.growth,
		       (ARRAY['web', 'event', 'partner', 'outbound', 'referral', 'ads'])[1 + floor(random() * 6)::int] AS channel,
		       (1 + floor(exp(random() * 6)))::int AS seats,
		       random() < 0.3 AS partner,
		       CASE WHEN random() < 0.1 THEN NULL
		            ELSE current_date - floor(random() * 720)::int END AS last_visit,
		       random() AS u
		  FROM leads l;
		ALTER TABLE learn_bench ADD COLUMN won boolean;
		UPDATE learn_bench SET won = u < 1 / (1 + exp(-(-2.0
		         + CASE industry WHEN 'software' THEN 1.0 WHEN 'fintech' THEN 0.7
		                         WHEN 'retail' THEN -0.5 ELSE 0 END
		         + CASE WHEN employees BETWEEN 50 AND 500 THEN 0.8 ELSE 0 END
		         + CASE WHEN country IN ('DE', 'AT', 'CH') THEN 0.5 ELSE 0 END
		         + CASE WHEN 'salesforce' = ANY (tech_stack) THEN 0.6 ELSE 0 END
		         + CASE WHEN funding IS NULL THEN -0.4 ELSE 0 END
		         + CASE WHEN channel = 'referral' AND seats >= 20 THEN 0.9 ELSE 0 END
		         + CASE WHEN partner AND industry = 'fintech' THEN 0.8 ELSE 0 END)));
		ALTER TABLE learn_bench DROP COLUMN u;
		ALTER TABLE learn_bench ADD PRIMARY KEY (id);
		VACUUM ANALYZE learn_bench;
	SQL
fi

SIX="ARRAY['industry', 'country', 'channel', 'employees', 'revenue', 'funding']"
TEN="ARRAY['industry', 'country', 'channel', 'employees', 'revenue', 'funding', 'tech_stack', 'seats', 'partner', 'last_visit']"
# the frequency tables a user would write: one query, six GROUP BYs
read -r LO_EMP HI_EMP LO_REV HI_REV LO_FUN HI_FUN < <("${PSQL[@]}" -tA -F ' ' -c \
	"SELECT min(employees), max(employees) + 1, min(revenue), max(revenue) + 1, min(funding), max(funding) + 1 FROM learn_bench")
FREQ="SELECT 'industry' AS a, industry AS v, count(*), count(*) FILTER (WHERE won) FROM learn_bench GROUP BY 2
UNION ALL SELECT 'country', country, count(*), count(*) FILTER (WHERE won) FROM learn_bench GROUP BY 2
UNION ALL SELECT 'channel', channel, count(*), count(*) FILTER (WHERE won) FROM learn_bench GROUP BY 2
UNION ALL SELECT 'employees', width_bucket(employees, $LO_EMP, $HI_EMP, 10)::text, count(*), count(*) FILTER (WHERE won) FROM learn_bench GROUP BY 2
UNION ALL SELECT 'revenue', width_bucket(revenue, $LO_REV, $HI_REV, 10)::text, count(*), count(*) FILTER (WHERE won) FROM learn_bench GROUP BY 2
UNION ALL SELECT 'funding', width_bucket(funding, $LO_FUN, $HI_FUN, 10)::text, count(*), count(*) FILTER (WHERE won) FROM learn_bench GROUP BY 2"

echo "icp_learn over $("${PSQL[@]}" -tAc "SELECT count(*) FROM learn_bench") leads (learn_bench)"
bench_run_alternating \
	"learn_6|SET client_min_messages = warning; SET max_parallel_workers_per_gather = 0; SELECT criteria FROM icp_learn('learn_bench_6', 'learn_bench', 'won', $SIX)" \
	"union_all_6|SET max_parallel_workers_per_gather = 0; SELECT count(*) FROM ($FREQ) f" \
	"learn_10|SET client_min_messages = warning; SELECT criteria FROM icp_learn('learn_bench_10', 'learn_bench', 'won', $TEN)" \
	"learn_10_interactions|SET client_min_messages = warning; SELECT criteria FROM icp_learn('learn_bench_int', 'learn_bench', 'won', $TEN, '{\"interactions\": true}')"

"${PSQL[@]}" -c "SELECT p AS profile, count(*) AS criteria, count(*) FILTER (WHERE cardinality(icp_rule_attributes(c.rule)) >= 2) AS combining_attributes
	FROM unnest(ARRAY['learn_bench_6', 'learn_bench_10', 'learn_bench_int']) p JOIN icp_criteria c ON c.profile = p GROUP BY p ORDER BY p"
bench_ratio "icp_learn (3 text + 3 numeric) / UNION ALL of 6 GROUP BYs" learn_6 union_all_6 "target <= 1.0"
bench_ratio "icp_learn 10 attributes, interactions / without" learn_10_interactions learn_10 "target <= 3.0"

# Peak private memory of one icp_learn with interactions in a fresh backend:
# the peak resident size minus the shared memory it touched (needs
# superuser to read /proc of the backend through pg_read_file).
"${PSQL[@]}" -tA <<-SQL || echo "learn bench: peak memory not measured (needs superuser)"
	SET client_min_messages = warning;
	SELECT criteria FROM icp_learn('learn_bench_int', 'learn_bench', 'won', $TEN, '{"interactions": true}') \g /dev/null
	WITH s AS (
	    SELECT split_part(l, ':', 1) AS k,
	           (regexp_match(split_part(l, ':', 2), '(\d+)'))[1]::bigint AS kb
	      FROM regexp_split_to_table(pg_read_file('/proc/' || pg_backend_pid() || '/status'), E'\n') AS l)
	SELECT 'icp_learn with interactions, peak private memory: ' ||
	       round(((SELECT kb FROM s WHERE k = 'VmHWM') - (SELECT kb FROM s WHERE k = 'RssShmem')) / 1024.0)
	       || ' MB   target <= 256 MB (VmHWM ' || round((SELECT kb FROM s WHERE k = 'VmHWM') / 1024.0)
	       || ' MB, of which shared ' || round((SELECT kb FROM s WHERE k = 'RssShmem') / 1024.0) || ' MB)';
SQL

# Scoring a learned profile of up to 150 criteria against the CASE sum of
# the same rules: the rule language is SQL but for CONTAINS (array @>) and
# WITHIN (a range ending now), which the generator rewrites.
"${PSQL[@]}" -c "SET client_min_messages = warning" \
	-c "SELECT criteria FROM icp_learn('learn_bench_150', 'learn_bench', 'won', $TEN, '{\"interactions\": true, \"max_criteria\": 150, \"bins\": 20, \"min_support\": 200}')" >/dev/null
CASE_150=$("${PSQL[@]}" -tA <<-'SQL'
	SELECT 'SELECT sum(100.0 / (1 + exp(-(' || p.bias || ' + '
	       || string_agg(format('CASE WHEN %s THEN %s ELSE 0 END',
	              regexp_replace(regexp_replace(c.rule::text,
	                  '("?[a-z_]+"?) CONTAINS (''[^'']*'')', '\1 @> ARRAY[\2]', 'g'),
	                  '("?[a-z_]+"?) WITHIN (''[^'']*'')',
	                  '\1 BETWEEN now() - interval \2 AND now()', 'g'),
	              c.weight), ' + ' ORDER BY c.id)
	       || ')))) FROM learn_bench'
	  FROM icp_profiles p JOIN icp_criteria c ON c.profile = p.name
	 WHERE p.name = 'learn_bench_150'
	 GROUP BY p.bias
SQL
)
echo "scoring learn_bench with learn_bench_150: $("${PSQL[@]}" -tAc "SELECT count(*) FROM icp_criteria WHERE profile = 'learn_bench_150'") criteria"
bench_run_alternating \
	"icp_fit_150|SET max_parallel_workers_per_gather = 0; SELECT sum(icp_fit(l, 'learn_bench_150')) FROM learn_bench l" \
	"case_sum_150|SET max_parallel_workers_per_gather = 0; $CASE_150"
"${PSQL[@]}" -tA -c "SELECT 'same sums: ' || (abs((SELECT sum(icp_fit(l, 'learn_bench_150')) FROM learn_bench l) - ($CASE_150)) < 1e-6 * (SELECT count(*) FROM learn_bench))"
bench_ratio "icp_fit 150 learned criteria / CASE sum" icp_fit_150 case_sum_150 "target <= 1.0"
"${PSQL[@]}" -c "DELETE FROM icp_profiles WHERE name LIKE 'learn\_bench%'"
