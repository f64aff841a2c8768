# test/lib/suites.sh: run pg_regress (make installcheck) and pgTAP (pg_prove)
# against the server in PGHOST/PGPORT/PGUSER, counting tests as they go.
# shellcheck shell=bash

PASSED=0    # tests and assertions that passed
FAILED=0    # ... and that failed (a suite that breaks counts at least one)

# Run the pg_regress suite (sql/*.sql) with `make installcheck`; count one
# test per file from pg_regress' "... ok" / "... FAILED" lines.
run_regress()
{
	local out ok bad rc=0
	if ! compgen -G "sql/*.sql" >/dev/null; then
		log "pg_regress: no sql/*.sql yet, skipping"
		return 0
	fi
	log "pg_regress (make installcheck)"
	out=$CLUSTER_DIR/installcheck.out
	rm -f regression.diffs regression.out
	make installcheck PG_CONFIG="$PG_CONFIG" 2>&1 | tee "$out" || rc=$?
	# 15 prints "test name ... ok  12 ms" (or "     name ... ok" inside a
	# parallel group); "failed (ignored)" does not fail the run.  16 and
	# later print TAP: "ok 1  - name  12 ms", "not ok 2  - name  15 ms".
	ok=$(grep -cE '\.\.\. (ok|failed \(ignored\))|^ok [0-9]+ +- ' "$out" || true)
	bad=$(grep -cE '\.\.\. FAILED|^not ok [0-9]+ +- ' "$out" || true)
	if ((rc != 0 && bad == 0)); then
		bad=1    # pg_regress itself failed (connection, missing file...)
	fi
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + bad))
	if ((rc != 0)) && [[ -s regression.diffs ]]; then
		echo "---- regression.diffs ----"
		cat regression.diffs
		echo "---- end of regression.diffs ----"
	fi
	return 0
}

# Create database $1 with pgTAP in it (plus icp: pgTAP files also say
# CREATE EXTENSION IF NOT EXISTS icp themselves, so either way works).
create_tap_database()
{
	local db=$1
	psql -X -q -d postgres -v ON_ERROR_STOP=1 \
		-c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
	psql -X -q -d "$db" -v ON_ERROR_STOP=1 \
		-c "SET client_min_messages = warning" \
		-c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION icp" >/dev/null
}

# Run each test/pgtap/*.sql with `pg_prove --verbose`; count assertions from
# the "ok N" / "not ok N" lines.  A file that dies, has a bad plan or fails
# without a "not ok" line counts as at least one failure.
run_pgtap()
{
	local db=icp_tap file out rc ok bad planned ran
	local files=()
	shopt -s nullglob
	files=(test/pgtap/*.sql)
	shopt -u nullglob
	if ((${#files[@]} == 0)); then
		log "pgTAP: no test/pgtap/*.sql yet, skipping"
		return 0
	fi
	log "pgTAP (pg_prove) on ${#files[@]} file(s)"
	if ! create_tap_database "$db"; then
		warn "could not create the pgTAP database (is icp installable?)"
		FAILED=$((FAILED + ${#files[@]}))
		return 0
	fi
	out=$CLUSTER_DIR/pg_prove.out
	for file in "${files[@]}"; do
		rc=0
		PGOPTIONS="${PGOPTIONS-} -c client_min_messages=warning" \
			pg_prove --verbose --failures -d "$db" "$file" >"$out" 2>&1 || rc=$?
		# Show everything but the passing assertions (those are counted).
		grep -vE '^ok [0-9]+' "$out" || true
		# TAP lines: "ok 3 - name", "not ok 4 - name", maybe "# TODO" or
		# "# SKIP" (TODO failures do not fail the file, so count them ok).
		ok=$(grep -cE '^ok [0-9]+|^not ok [0-9]+.*# *TODO' "$out" || true)
		bad=$(grep -E '^not ok [0-9]+' "$out" | grep -cvE '# *TODO' || true)
		planned=$(sed -n 's/^1\.\.\([0-9]\+\).*/\1/p' "$out" | head -1)
		ran=$((ok + bad))
		if [[ -n $planned ]] && ((planned > ran)); then
			bad=$((bad + planned - ran))    # died part-way
		fi
		if ((rc != 0 && bad == 0)); then
			bad=1    # bad plan, SQL error, no plan at all...
		fi
		PASSED=$((PASSED + ok))
		FAILED=$((FAILED + bad))
	done
	return 0
}

# Run each test/checks/*.sh (checks that need more than one database or
# session: dump/restore, upgrades, concurrency); they print TAP-style
# "ok N - ..." / "not ok N - ..." lines, which are counted.
run_checks()
{
	local file out rc ok bad
	local files=()
	shopt -s nullglob
	files=(test/checks/*.sh)
	shopt -u nullglob
	files=("${files[@]/test\/checks\/lib.sh/}")
	((${#files[@]} == 0)) && return 0
	log "checks on ${#files[@]} file(s)"
	for file in "${files[@]}"; do
		[[ -n $file ]] || continue
		out=$CLUSTER_DIR/check.out
		rc=0
		echo "$file"
		bash "$file" >"$out" 2>&1 || rc=$?
		grep -vE '^ok [0-9]+' "$out" || true
		ok=$(grep -cE '^ok [0-9]+' "$out" || true)
		bad=$(grep -cE '^not ok [0-9]+' "$out" || true)
		if ((rc != 0 && bad == 0)); then
			bad=1
		fi
		echo "  $ok passed, $bad failed"
		PASSED=$((PASSED + ok))
		FAILED=$((FAILED + bad))
	done
	return 0
}

# The suite on the other PostgreSQL major versions (test/versions.sh, each
# in a Debian chroot), after this machine's, whose server is stopped first;
# their counts join the total.  ICP_TEST_VERSIONS=no skips them and says
# so (test/versions.sh itself runs the suite in each chroot with "inside").
run_versions()
{
	local out line
	case ${ICP_TEST_VERSIONS:-yes} in
	inside) return 0 ;;
	no)
		echo "# PostgreSQL ${ICP_VERSIONS:-17 18}: SKIPPED (ICP_TEST_VERSIONS=no); make test-versions runs them"
		return 0
		;;
	esac
	echo "PostgreSQL $PG_MAJOR (this machine): $PASSED passed, $FAILED failed"
	cluster_cleanup "$((FAILED > 0))"    # the server log's tail after failures
	out=$(mktemp)
	bash test/versions.sh | tee "$out" || true
	line=$(tail -n 1 "$out")
	rm -f "$out"
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		PASSED=$((PASSED + BASH_REMATCH[1]))
		FAILED=$((FAILED + BASH_REMATCH[2]))
	else
		FAILED=$((FAILED + 1))    # test/versions.sh could not run
	fi
	return 0
}

# Print the one closing line CI reads.
print_summary()
{
	echo "$PASSED passed, $FAILED failed"
}

# The Citus check (test/citus/check.sh: its own coordinator and two workers)
# when Citus is installed in PG_CONFIG's server; otherwise say it skipped.
run_citus_check()
{
	local out rc=0 ok bad
	if [[ ! -f $("$PG_CONFIG" --pkglibdir)/citus.so ]]; then
		log "check-citus SKIPPED: Citus is not installed in the server of $PG_CONFIG (test/citus/build.sh builds it; then make check-citus)"
		return 0
	fi
	log "check-citus: a coordinator and two workers"
	out=$CLUSTER_DIR/citus.out
	PG_CONFIG=$PG_CONFIG bash test/citus/check.sh >"$out" 2>&1 || rc=$?
	grep -vE '^ok - ' "$out" || true
	ok=$(grep -cE '^ok - ' "$out" || true)
	bad=$(grep -cE '^not ok - ' "$out" || true)
	if ((rc != 0 && bad == 0)); then
		bad=1
	fi
	echo "  $ok passed, $bad failed"
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + bad))
}
