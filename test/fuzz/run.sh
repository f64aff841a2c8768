#!/usr/bin/env bash
# test/fuzz/run.sh: libFuzzer harnesses for the rule parser (text) and the
# binary rule decoder (what icp_rule_recv reads).  `make fuzz` runs this.
#
#   bash test/fuzz/run.sh [SECONDS]   build, then fuzz each target SECONDS
#                                     (default 60; FUZZ_JOBS=2 for two workers)
#   bash test/fuzz/run.sh replay      build, then run the committed seeds once
#                                     (what `make test` does)
#
# Seeds live in test/fuzz/corpus/{text,recv}; what the fuzzer learns goes to
# test/fuzz/corpus_work/ and crashes to test/fuzz/artifacts/ (both ignored by
# git: minimise a crash and commit it as a seed once fixed).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
MODE=${1:-60}
BUILD=test/fuzz/build
CLANG=${CLANG:-$(command -v clang || command -v clang-14 || true)}

# clang's fuzzer runtime ships in libclang-rt-dev (Debian's default clang's)
if [[ -z $CLANG ]] || ! "$CLANG" -fsanitize=fuzzer -x c - -o /dev/null <<<'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' 2>/dev/null; then
	if [[ $(id -u) == 0 ]]; then
		echo "installing clang's fuzzer runtime (clang libclang-rt-dev)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-dev >/dev/null
		CLANG=$(command -v clang)
	else
		echo "libFuzzer is missing: apt-get install clang libclang-rt-dev" >&2
		exit 1
	fi
fi

mkdir -p "$BUILD"
INC=$("$PG_CONFIG" --includedir-server)
LIB=$("$PG_CONFIG" --pkglibdir)
for target in text recv; do
	define=""
	[[ $target == recv ]] && define=-DFUZZ_RECV
	"$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		$define -Isrc -Itest/fuzz -I"$INC" -D_GNU_SOURCE -Wno-ignored-attributes \
		-o "$BUILD/fuzz_rule_$target" test/fuzz/fuzz_rule.c test/fuzz/pgstub.c \
		src/rule_parse.c src/rule_io.c "$LIB/libpgcommon.a" "$LIB/libpgport.a"
done

if [[ $MODE == replay ]]; then
	status=0
	for target in text recv; do
		if "$BUILD/fuzz_rule_$target" -runs=0 test/fuzz/corpus/$target >"$BUILD/replay_$target.log" 2>&1; then
			echo "ok - fuzz target $target replays $(find test/fuzz/corpus/$target -type f | wc -l) seeds"
		else
			echo "not ok - fuzz target $target replays its seeds"
			tail -30 "$BUILD/replay_$target.log"
			status=1
		fi
	done
	exit $status
fi

mkdir -p test/fuzz/corpus_work/text test/fuzz/corpus_work/recv test/fuzz/artifacts
for target in text recv; do
	echo "== fuzzing $target for $MODE s =="
	"$BUILD/fuzz_rule_$target" -max_total_time="$MODE" -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} \
		-artifact_prefix=test/fuzz/artifacts/ \
		test/fuzz/corpus_work/$target test/fuzz/corpus/$target 2>&1 | grep -E 'stat::|ERROR|SUMMARY|Done|crash' || true
done
if compgen -G "test/fuzz/artifacts/*" >/dev/null; then
	echo "crashes found:"
	ls test/fuzz/artifacts
	exit 1
fi
echo "no crashes"
