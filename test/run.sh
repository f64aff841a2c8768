#!/usr/bin/env bash
# test/run.sh: the harness behind `make test|demo|bench|valgrind`.
#
#   bash test/run.sh test       packages, -Werror build, throwaway cluster,
#                               pg_regress + pgTAP + test/checks, then the
#                               same on PostgreSQL 17 and 18 in Debian chroots
#                               (test/versions.sh; ICP_TEST_VERSIONS=no skips
#                               them); last line "N passed, N failed", the
#                               total over all versions
#   bash test/run.sh demo       psql -f test/demo/demo.sql (on the server named
#                               by PG* variables if any, else a throwaway one)
#   bash test/run.sh bench      test/bench/bench.sh on a throwaway cluster
#                               with benchmark settings
#   bash test/run.sh learn-quality  test/bench/learn_quality.py on a throwaway
#                               cluster (icp_learn against scikit-learn)
#   bash test/run.sh valgrind   pg_regress with the server under memcheck
#
# Works from a clean clone on a fresh Debian 12 machine as root: missing
# packages are installed with apt-get.  Clusters are created in a mktemp -d
# directory, listen only on a Unix socket there, and are stopped and removed
# on any exit.  The Debian default cluster (15/main) is never used.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

# shellcheck source=test/lib/common.sh
source test/lib/common.sh
# shellcheck source=test/lib/packages.sh
source test/lib/packages.sh
# shellcheck source=test/lib/build.sh
source test/lib/build.sh
# shellcheck source=test/lib/cluster.sh
source test/lib/cluster.sh
# shellcheck source=test/lib/suites.sh
source test/lib/suites.sh
# shellcheck source=test/lib/valgrind.sh
source test/lib/valgrind.sh

MODE=${1:-test}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_MAJOR=$(pg_major "$PG_CONFIG")
PACKAGES=(make gcc libc6-dev "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR"
	"postgresql-$PG_MAJOR-pgtap" libtap-parser-sourcehandler-pgtap-perl)
PG_BINDIR=""        # set by prepare from PG_CONFIG
DEMO_DB=""          # scratch database on an existing server (demo mode)
DEMO_ADMIN_DB=""    # database we connect to to create and drop it

# EXIT trap: drop the demo database, stop and remove the throwaway cluster,
# and in test and valgrind mode print the closing count as the very last line.
on_exit()
{
	local status=$?
	trap - EXIT INT TERM HUP
	set +e
	if [[ -n $DEMO_DB ]]; then
		psql -X -q -d "$DEMO_ADMIN_DB" -c "DROP DATABASE IF EXISTS $DEMO_DB" \
			>/dev/null 2>&1 || warn "could not drop database $DEMO_DB"
	fi
	cluster_cleanup "$status"
	if [[ $MODE == test || $MODE == valgrind ]]; then
		# A setup failure (packages, build, server) is a failure too.
		if ((status != 0 && FAILED == 0)); then
			FAILED=1
		fi
		print_summary
		if ((FAILED > 0 && status == 0)); then
			status=1
		fi
	fi
	exit "$status"
}

# Everything shared by all modes: packages, build, PG_BINDIR.
prepare()
{
	local cflags=$1
	shift
	ensure_packages "${PACKAGES[@]}" "$@"
	[[ -x $PG_CONFIG ]] || die "PG_CONFIG=$PG_CONFIG is not executable"
	PG_BINDIR=$("$PG_CONFIG" --bindir)
	export PATH="$PG_BINDIR:$PATH"
	build_and_install "$cflags"
}

# make test: pg_regress and pgTAP on a throwaway cluster.
mode_test()
{
	prepare "$TEST_CFLAGS"
	cluster_setup test
	run_regress
	run_pgtap
	run_checks
	run_citus_check
	if ((PASSED + FAILED == 0)); then
		warn "no tests found (sql/*.sql, test/pgtap/*.sql)"
	fi
	run_versions
	((FAILED == 0))
}

# The placeholder demo, written only if nobody has written the real one yet.
write_placeholder_demo()
{
	mkdir -p test/demo
	cat >test/demo/demo.sql <<-'SQL'
		-- PLACEHOLDER: replace with the real ICP demo (test/demo/*.sql).
		-- Run by `make demo` as: psql -X -v ON_ERROR_STOP=1 -f test/demo/demo.sql
		-- in a scratch database; `\set ECHO queries` shows each statement.
		CREATE EXTENSION icp;
		SELECT 'icp demo' AS demo, extversion AS version
		  FROM pg_catalog.pg_extension WHERE extname = 'icp';
	SQL
}

# make demo: the demo script on the server named by PG* variables (in a
# scratch database dropped afterwards) or on a throwaway cluster.
mode_demo()
{
	local db
	prepare ""
	[[ -f test/demo/demo.sql ]] || write_placeholder_demo
	if pg_env_names_server; then
		db=icp_demo_$$
		DEMO_ADMIN_DB=${PGDATABASE:-postgres}
		log "using the server named by PG* variables; scratch database $db"
		psql -X -q -d "$DEMO_ADMIN_DB" -v ON_ERROR_STOP=1 \
			-c "CREATE DATABASE $db" >/dev/null ||
			die "could not create database $db"
		DEMO_DB=$db
	else
		cluster_setup demo
		db=icp_demo
		psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >/dev/null
	fi
	export PGDATABASE=$db
	PAGER='' psql -X -v ON_ERROR_STOP=1 -d "$db" -P pager=off \
		-P null='(null)' -f test/demo/demo.sql
}

# make bench: test/bench/bench.sh on a throwaway cluster with bench settings.
mode_bench()
{
	prepare ""
	if [[ ! -f test/bench/bench.sh ]]; then
		mkdir -p test/bench
		cat >test/bench/bench.sh <<-'SH'
			#!/usr/bin/env bash
			# PLACEHOLDER: replace with the real benchmarks.  `make bench` runs
			# this with PGHOST/PGPORT/PGDATABASE/PGUSER set to a throwaway
			# cluster (shared_buffers=1GB, work_mem=64MB, jit=off).
			set -euo pipefail
			echo "no benchmarks yet"
		SH
		chmod +x test/bench/bench.sh
	fi
	cluster_setup bench
	psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE icp_bench" >/dev/null
	export PGDATABASE=icp_bench
	bash test/bench/bench.sh
}

# make learn-quality: test/bench/learn_quality.py (icp_learn against
# scikit-learn's holdout AUC) on a throwaway cluster; needs Debian's
# python3-sklearn and python3-psycopg2.
mode_learn_quality()
{
	/usr/bin/python3 -c 'import sklearn, psycopg2' 2>/dev/null ||
		die "make learn-quality needs python3-sklearn and python3-psycopg2 (apt-get install python3-sklearn python3-psycopg2)"
	prepare ""
	cluster_setup bench
	psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE icp_learn_quality" >/dev/null
	export PGDATABASE=icp_learn_quality
	/usr/bin/python3 test/bench/learn_quality.py
}

# make valgrind: pg_regress (and pgTAP) with the postmaster under memcheck;
# fails if any valgrind error report involves icp.
mode_valgrind()
{
	local logs=()
	prepare "-g -O1 -fno-omit-frame-pointer" valgrind
	cluster_setup valgrind
	run_regress
	run_pgtap
	log "stopping the server and reading the valgrind logs"
	cluster_stop
	shopt -s nullglob
	logs=("$CLUSTER_DIR"/vg.*.log)
	shopt -u nullglob
	((${#logs[@]} > 0)) || die "no valgrind logs in $CLUSTER_DIR"
	scan_valgrind_logs "${logs[@]}"
	echo "valgrind: $VG_ICP_ERRORS error report(s) involving icp," \
		"$VG_OTHER_ERRORS elsewhere (${#logs[@]} processes)"
	# Each valgrind report involving icp counts as one more failure.
	FAILED=$((FAILED + VG_ICP_ERRORS))
	((FAILED == 0))
}

trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

case $MODE in
test) mode_test ;;
demo) mode_demo ;;
bench) mode_bench ;;
learn-quality) mode_learn_quality ;;
valgrind) mode_valgrind ;;
*) die "usage: $0 test|demo|bench|learn-quality|valgrind" ;;
esac
