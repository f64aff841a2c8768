#!/usr/bin/env bash
# test/fuzz/account.sh: a fuzzer for the account path of the scoring engine
# (how row values reach the rules), against a running server.
#
#   PGHOST=... PGPORT=... PGDATABASE=... bash test/fuzz/account.sh [SECONDS]
#       fuzz for SECONDS (default 60), one iteration after another
#   SEED=0.123456 bash test/fuzz/account.sh
#       replay the one iteration a finding printed
#
# The server is the one the usual PG* variables name (nothing is started);
# the role must be allowed to create schemas and types in the database, and
# the icp extension must be installed in that server (it is created in the
# database if missing, and citext too when available).  Run one fuzzer per
# database at a time: it works in schemas icp_fuzz and icp_fuzz_data and on
# profiles named icp_fuzz_*, and removes them (and their history) at the end.
#
# Each iteration, under a seed it prints, builds a table with a random row
# type (2-12 columns of 19 types in random order, dropped columns, domains,
# an enum with a label added BEFORE another), random rows with NULLs and
# TOAST-sized values (3-60 kB texts, 300-3,000-element arrays, jsonb over
# 8 kB, some columns SET STORAGE EXTERNAL or MAIN), two random profiles
# over those columns and compares icp with the README's scoring formulas
# computed in plain SQL from the same rules written as SQL conditions:
# icp_fit/icp_grade/icp_score on the table row (planner rewrite), on a
# whole-row record, on to_jsonb(row) and with profile values, icp_outcomes,
# icp_explain, icp_segment over both profiles, the scoring trigger on
# INSERT ... SELECT and on UPDATE; sometimes a profile that cannot bind,
# which must fail with its SQLSTATE and name the profile (account.sql).
# A disagreement, any other error or a lost connection stops the run with
# the seed, the table, the profiles and the first disagreements, exit 1.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")" || exit 2
SECONDS_WANTED=${1:-60}
PSQL=(psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc)

# drop what an iteration made in the database (and the fuzzer's functions: all)
cleanup()
{
	"${PSQL[@]}" -c "CALL icp_fuzz.cleanup()" >/dev/null 2>&1 || true
	if [[ $1 == all ]]; then
		"${PSQL[@]}" -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS icp_fuzz CASCADE" >/dev/null 2>&1 || true
	fi
}

if ! "${PSQL[@]}" -c "SELECT 1" >/dev/null; then
	echo "account.sh: no server to fuzz (set PGHOST, PGPORT, PGDATABASE, PGUSER)" >&2
	exit 2
fi
"${PSQL[@]}" >/dev/null <<'SQL' || exit 2
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
DO $$ BEGIN
    IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'citext') THEN
        CREATE EXTENSION IF NOT EXISTS citext;
    END IF;
END $$;
SQL
"${PSQL[@]}" -f account.sql >/dev/null || exit 2
trap 'cleanup all' EXIT
cleanup iteration

# run one iteration; print a finding and return 1 when it fails
iteration()
{
	local seed=$1 out rc
	out=$("${PSQL[@]}" -c "CALL icp_fuzz.iteration($seed)" 2>&1)
	rc=$?
	if ((rc == 0)); then
		cleanup iteration
		return 0
	fi
	echo "FINDING at seed $seed (replay: SEED=$seed bash test/fuzz/account.sh)"
	if ((rc == 2)) || ! "${PSQL[@]}" -c "SELECT 1" >/dev/null 2>&1 || grep -q 'server closed the connection' <<<"$out"; then
		echo "the server connection was lost"
	fi
	echo "$out"
	return 1
}

if [[ -n ${SEED:-} ]]; then
	iteration "$SEED" && echo "seed $SEED: ok"
	exit $?
fi

start=$(date +%s)
n=0
while (($(date +%s) - start < SECONDS_WANTED)); do
	seed=0.$(printf '%06d%06d' $((RANDOM * 32768 + RANDOM)) $((RANDOM % 1000000)) | cut -c1-12)
	echo "iteration $((n + 1)) seed $seed"
	iteration "$seed" || exit 1
	n=$((n + 1))
done
echo "account fuzzer: $n iterations in $(($(date +%s) - start)) s, no findings"
