#!/usr/bin/env bash
# test/bench/bench.sh: `make bench`.  Speed targets are ratios against the SQL
# a user would write instead, measured in one session on the same data as
# medians of alternating runs.  Runs against PGHOST/PGPORT/PGDATABASE (make
# bench points them at a throwaway cluster).
#
#   ROWS=200000 RUNS=5 bash test/bench/bench.sh     smaller, quicker run
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/bench/lib.sh
source "$HERE/lib.sh"

ROWS=${ROWS:-1000000}
RUNS=${RUNS:-7}
export ROWS RUNS

echo "== icp bench: $ROWS leads, $RUNS alternating runs per query, medians =="
bench_load_leads "$ROWS"

# the hand-written equivalents of the 7-criterion profile
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE OR REPLACE FUNCTION bench_plpgsql_fit(l leads) RETURNS float8
LANGUAGE plpgsql STABLE AS $$
DECLARE
    earned float8 := 0;
BEGIN
    IF l.industry IN ('software', 'fintech') THEN earned := earned + 30; END IF;
    IF l.employees BETWEEN 50 AND 1000 THEN earned := earned + 25; END IF;
    IF l.revenue >= 1000000 THEN earned := earned + 15; END IF;
    IF l.country IN ('DE', 'AT', 'CH') THEN earned := earned + 10; END IF;
    IF l.tech_stack @> ARRAY['salesforce'] THEN earned := earned + 10; END IF;
    IF l.funding > 5000000 THEN earned := earned + 5; END IF;
    IF l.growth > 0.2 THEN earned := earned + 5; END IF;
    RETURN earned;
END $$;
SQL

CASE_SUM="SELECT sum(CASE WHEN industry IN ('software', 'fintech') THEN 30 ELSE 0 END
 + CASE WHEN employees BETWEEN 50 AND 1000 THEN 25 ELSE 0 END
 + CASE WHEN revenue >= 1000000 THEN 15 ELSE 0 END
 + CASE WHEN country IN ('DE', 'AT', 'CH') THEN 10 ELSE 0 END
 + CASE WHEN tech_stack @> ARRAY['salesforce'] THEN 10 ELSE 0 END
 + CASE WHEN funding > 5000000 THEN 5 ELSE 0 END
 + CASE WHEN growth > 0.2 THEN 5 ELSE 0 END) FROM leads"

# a role that may read the profile tables and leads but not execute the
# internal icp_*_columns functions: the planner keeps the whole-row call
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'icp_bench_reader') THEN
        CREATE ROLE icp_bench_reader;
    END IF;
END $$;
GRANT SELECT ON leads, icp_profiles, icp_criteria TO icp_bench_reader;
SQL

bench_run_alternating \
	"icp_fit|RESET ROLE; SET max_parallel_workers_per_gather = 0; SELECT sum(icp_fit(l, 'bench')) FROM leads l" \
	"case_sum|SET max_parallel_workers_per_gather = 0; $CASE_SUM" \
	"plpgsql|SET max_parallel_workers_per_gather = 0; SELECT sum(bench_plpgsql_fit(l)) FROM leads l" \
	"count_row|SET max_parallel_workers_per_gather = 0; SELECT count(l) FROM leads l" \
	"icp_fit_value|SET max_parallel_workers_per_gather = 0; SELECT sum(icp_fit(l, p)) FROM leads l, (SELECT icp_profile('bench')) v(p)" \
	"icp_fit_parallel|SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SELECT sum(icp_fit(l, 'bench')) FROM leads l" \
	"icp_fit_whole_row|SET max_parallel_workers_per_gather = 0; SET ROLE icp_bench_reader; SELECT sum(icp_fit(l, 'bench')) FROM leads l"

echo
echo "== scoring =="
bench_ratio "icp_fit / hand-written CASE sum" icp_fit case_sum "target <= 1.0"
bench_ratio "icp_fit / PL/pgSQL function" icp_fit plpgsql "target <= 0.25 (4x faster)"
bench_ratio "icp_fit / count(whole row)" icp_fit count_row "target <= 1.5"
bench_ratio "icp_fit(profile value) / CASE sum" icp_fit_value case_sum ""
bench_ratio "icp_fit without EXECUTE on icp_fit_columns (whole row) / CASE sum" icp_fit_whole_row case_sum ""
bench_speedup "parallel speed-up, 2 workers" icp_fit icp_fit_parallel
bench_memory_growth "memory growth during icp_fit scan" \
	"SET max_parallel_workers_per_gather = 0; SELECT sum(icp_fit(l, 'bench')) FROM leads l" \
	"target < 32 MB"

# cases added by later features
for extra in "$HERE"/segment.sh "$HERE"/learn.sh; do
	if [[ -f $extra ]]; then
		echo
		ICP_BENCH_ROWS=$ROWS ICP_BENCH_RUNS=$((RUNS < 5 ? RUNS : 5)) bash "$extra"
	fi
done
