#!/usr/bin/env bash
# test/bench/segment.sh: benchmarks of segmentation and the scoring
# trigger, run by test/bench/bench.sh on the throwaway bench cluster (PG*
# variables set).  Prints one "name: ratio" line per case: the median of
# alternating runs in one session, the icp variant divided by its baseline.
#
#   copy_trigger_vs_insert_username: COPY of 1,000,000 leads into a table
#                           with the icp_score_trigger (fit, grade) / into the
#                           same table with contrib's insert_username trigger
#                           setting one column, the cheapest row trigger:
#                           any BEFORE ROW trigger makes COPY insert row by
#                           row, so this is the floor (target <= 1.1)
#   copy_trigger_vs_insert_username_pk: the same on tables with a primary key
#   copy_trigger_vs_plain:  reference, icp_score_trigger / no trigger
#   copy_insert_username_vs_plain: reference, the floor / no trigger
#   copy_plpgsql_trigger_vs_insert_username: reference, a hand-written
#                           PL/pgSQL scoring trigger / the floor
#   segment3_vs_fit1:       icp_segment over 3 profiles / one icp_fit call
#
# Environment: ICP_BENCH_ROWS (default 1000000), ICP_BENCH_RUNS (default 5).
set -euo pipefail

ROWS=${ICP_BENCH_ROWS:-1000000}
RUNS=${ICP_BENCH_RUNS:-5}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

psql -X -q -v ON_ERROR_STOP=1 -v rows="$ROWS" -v runs="$RUNS" \
	-f "$HERE/segment.sql" 2>&1 | sed -n -e "s/^.*NOTICE:  *//p" -e "/ERROR/p"
