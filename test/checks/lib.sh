#!/usr/bin/env bash
# test/checks/lib.sh: shared by the multi-session checks.  check DESC GOT WANT
# prints a TAP line "ok N - DESC" or "not ok N - DESC" with the difference.
n=0
check()
{
	local desc=$1 got=$2 want=$3
	n=$((n + 1))
	if [[ $got == "$want" ]]; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		diff <(echo "$want") <(echo "$got") | head -40 || true
	fi
}
