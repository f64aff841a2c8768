# test/lib/valgrind.sh: read the memcheck logs of a cluster run under valgrind
# and sort the errors into those that involve icp and the others.
# shellcheck shell=bash

VG_ICP_ERRORS=0      # error reports whose stack mentions icp
VG_OTHER_ERRORS=0    # error reports elsewhere (PostgreSQL, libc...)
VG_KEEP=""           # directory where the logs with errors are kept

# Split valgrind logs ($@) into error reports, one per blank-line-separated
# block that has a stack ("at 0x"/"by 0x"); print each icp report in full
# and the first line of the others, then set the two counters.
scan_valgrind_logs()
{
	local report
	report=$CLUSTER_DIR/valgrind-report.txt
	# An icp frame: in icp.so, a function named icp_*, or a source file under
	# this repository's src/ (valgrind runs with --fullpath-after=).
	awk -v srcdir="$REPO_ROOT/src/" -v report="$report" '
		function flush(   is_icp, first) {
			if (nlines > 0 && has_stack) {
				is_icp = (block ~ /icp\.so/ || block ~ /: icp_[A-Za-z0-9_]+ \(/ ||
					index(block, srcdir) > 0)
				first = lines[1]
				if (is_icp) {
					icp++
					n = split(FILENAME_OF_BLOCK, parts, "/")
					printf "---- %s (icp) ----\n%s\n", parts[n], block > report
				} else {
					other++
					printf "other: %s\n", first > report
				}
			}
			nlines = 0; has_stack = 0; block = ""
		}
		FNR == 1 { flush() }
		# Only memcheck output (==pid==); skip valgrind messages (--pid--).
		!/^==[0-9]+==/ { next }
		{
			line = $0
			sub(/^==[0-9]+== ?/, "", line)
			if (line ~ /^[[:space:]]*$/) { flush(); next }
			# Banner and summary lines are not error reports.
			if (line ~ /^(Memcheck|Copyright|Using Valgrind|Command:|Parent PID|HEAP SUMMARY|ERROR SUMMARY|For lists|For counts|rerun with|Use --|Warning: )/) next
			if (line ~ /^[[:space:]]+(at|by) 0x/) has_stack = 1
			lines[++nlines] = line
			block = block "  " line "\n"
			FILENAME_OF_BLOCK = FILENAME
		}
		END { flush(); printf "%d %d\n", icp + 0, other + 0 }
	' "$@" >"$CLUSTER_DIR/vg-counts" || die "could not read the valgrind logs"
	# shellcheck disable=SC2034 # read by run.sh
	read -r VG_ICP_ERRORS VG_OTHER_ERRORS <"$CLUSTER_DIR/vg-counts"
	if [[ -s $report ]]; then
		# icp reports in full first, then one line per other report.
		grep -v '^other: ' "$report" || true
		if ((VG_OTHER_ERRORS > 0)); then
			echo "---- $VG_OTHER_ERRORS error report(s) outside icp (first lines) ----"
			grep '^other: ' "$report" | sort | uniq -c | sort -rn | head -20
		fi
	fi
	# Keep the full logs of the processes that reported errors for a closer look.
	((VG_ICP_ERRORS + VG_OTHER_ERRORS > 0)) || return 0
	VG_KEEP=$(mktemp -d "${TMPDIR:-/tmp}/icp-valgrind.XXXXXX")
	cp "$report" "$VG_KEEP/" 2>/dev/null || true
	grep -l -E '^==[0-9]+== +(at|by) 0x' "$@" | xargs -r cp -t "$VG_KEEP/" || true
	echo "valgrind logs with errors kept in $VG_KEEP"
}
