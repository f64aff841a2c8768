#!/usr/bin/env bash
# test/versions.sh: the whole test suite on the other PostgreSQL major
# versions icp supports, each in a Debian chroot.  `make test-versions` runs
# it; `make test` runs it after the suite on this machine's PostgreSQL.
#
#   bash test/versions.sh                 PostgreSQL 17 and 18
#   ICP_VERSIONS=18 bash test/versions.sh only 18
#
#   version   Debian suite          packages
#   17        trixie (Debian 13)    postgresql-17 from the Debian archive
#   18        sid (unstable)        postgresql-18 from the Debian archive
#
# For each version: build the chroot with debootstrap (or reuse it), with
# postgresql-N, postgresql-server-dev-N, postgresql-N-pgtap, pg_prove,
# libicu-dev and a compiler; copy the source tree in (without .git and build
# products); run `test/run.sh test` there as root (the -Werror build, a
# throwaway cluster run by the chroot's postgres user, pg_regress, pgTAP and
# test/checks: upgrade walk, dump/restore...).  Prints one
# "PostgreSQL N: N passed, N failed" line per version, then the total
# "N passed, N failed" as the last line; exits non-zero on any failure.
#
# Chroots live in $ICP_VERSIONS_CACHE/<suite> (default
# /var/cache/icp-versions, outside the repository: about 1.7 GB each) and are
# reused while their package list is unchanged; remove the directory to
# rebuild one from today's archive.  $ICP_DEBIAN_MIRROR names the archive
# (default http://deb.debian.org/debian).  The archive's unstable Release
# file may be stale, so apt in the sid chroot ignores its Valid-Until.
#
# Nothing of the host is bind-mounted: each chroot gets a fresh proc and a
# tmpfs on /dev/shm (the server's shared memory), made in a private mount
# namespace when unshare(1) allows it, and unmounted on every exit,
# failures and interrupts included.  One run at a time per chroot (flock).
# Needs root (debootstrap, chroot, mount) and Debian's debootstrap, which is
# installed when missing.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

# shellcheck source=test/lib/common.sh
source test/lib/common.sh
# shellcheck source=test/lib/packages.sh
source test/lib/packages.sh

# Mounts made by this run live and die with a private mount namespace.
if [[ -z ${ICP_VERSIONS_NS-} ]] && is_root &&
	unshare --mount --propagation private true 2>/dev/null; then
	export ICP_VERSIONS_NS=1
	exec unshare --mount --propagation private bash "${BASH_SOURCE[0]}" "$@"
fi

VERSIONS=${ICP_VERSIONS:-17 18}
CACHE=${ICP_VERSIONS_CACHE:-/var/cache/icp-versions}
MIRROR=${ICP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

MOUNTS=()       # mount points of this run, in mount order
SRC_DIRS=()     # source copies inside chroots, removed on exit
ROOTS=()        # chroots this run has entered
TOTAL_PASSED=0
TOTAL_FAILED=0
SUMMARY=()      # one line per version

# The Debian suite that packages PostgreSQL $1.
suite_of()
{
	case $1 in
	17) echo trixie ;;
	18) echo sid ;;
	*) return 1 ;;
	esac
}

# The packages a chroot for PostgreSQL $1 needs.
chroot_packages()
{
	echo make gcc libc6-dev "postgresql-$1" "postgresql-server-dev-$1" \
		"postgresql-$1-pgtap" libtap-parser-sourcehandler-pgtap-perl libicu-dev \
		clang libclang-rt-dev
}

# Run a command inside chroot $1 with a clean environment.
in_chroot()
{
	local root=$1
	shift
	chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH="$CHROOT_PATH" DEBIAN_FRONTEND=noninteractive "$@"
}

# Mount a fresh proc and a tmpfs on /dev/shm in chroot $1.
chroot_mount()
{
	local root=$1
	mountpoint -q "$root/proc" || {
		mount -t proc proc "$root/proc"
		MOUNTS+=("$root/proc")
	}
	mkdir -p "$root/dev/shm"
	mountpoint -q "$root/dev/shm" || {
		mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
		MOUNTS+=("$root/dev/shm")
	}
}

# Stop what still runs inside chroot $1 (a server left by an interrupted
# run): processes whose root directory is the chroot, by pid.
chroot_kill()
{
	local root=$1 p pids=() i
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/root" 2>/dev/null) == "$root" ]] && pids+=("${p#/proc/}")
	done
	((${#pids[@]} > 0)) || return 0
	warn "stopping ${#pids[@]} process(es) left in $root"
	kill -TERM "${pids[@]}" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "${pids[@]}" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -KILL "${pids[@]}" 2>/dev/null || true
}

# Unmount everything this run mounted, newest first.
unmount_all()
{
	local i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null ||
			warn "could not unmount ${MOUNTS[i]}"
	done
	MOUNTS=()
}

# Unmount whatever is mounted below directory $1, deepest first.
unmount_under()
{
	local m
	awk -v dir="$1/" 'index($2, dir) == 1 { print $2 }' /proc/self/mounts |
		sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
}

# EXIT trap: processes, source copies, mounts.
on_exit()
{
	local status=$? root dir
	trap - EXIT INT TERM HUP
	set +e
	for root in "${ROOTS[@]}"; do
		chroot_kill "$root"
	done
	for dir in "${SRC_DIRS[@]}"; do
		rm -rf "$dir"
	done
	SRC_DIRS=()
	unmount_all
	exit "$status"
}

# Build chroot $CACHE/$2 for PostgreSQL $1, or reuse it.  A chroot is reused
# when its stamp names the same suite and packages; a half-built one (no
# stamp from debootstrap) is removed and built again.  Non-zero on failure.
chroot_prepare()
{
	local major=$1 suite=$2 root=$CACHE/$2 stamp want pkgs
	pkgs=$(chroot_packages "$major")
	want="suite=$suite packages=$pkgs"
	stamp=$root/.icp-chroot
	if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
		log "PostgreSQL $major: reusing the Debian $suite chroot $root"
		return 0
	fi
	if [[ ! -f $root/.icp-debootstrap ]]; then
		# an interrupted debootstrap may have left proc or sys mounted
		unmount_under "$root"
		unmount_under "$root.new"
		if grep -qsE " $root(\.new)?/" /proc/self/mounts; then
			warn "$root is half-built and has something mounted in it; unmount it first"
			return 1
		fi
		rm -rf "$root" "$root.new"
		log "PostgreSQL $major: debootstrap Debian $suite into $root (a few minutes)"
		debootstrap --variant=minbase "$suite" "$root.new" "$MIRROR" \
			>"$CACHE/$suite.debootstrap.log" 2>&1 || {
			tail -n 20 "$CACHE/$suite.debootstrap.log" >&2
			warn "debootstrap $suite failed (log: $CACHE/$suite.debootstrap.log)"
			return 1
		}
		touch "$root.new/.icp-debootstrap"
		mv "$root.new" "$root"
	fi
	# no daemons started by packages, no default cluster
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	mkdir -p "$root/etc/postgresql-common"
	echo "create_main_cluster = false" >"$root/etc/postgresql-common/createcluster.conf"
	if [[ $suite == sid ]]; then
		echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99icp-valid-until"
	fi
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
	chroot_mount "$root"
	log "PostgreSQL $major: installing packages in the $suite chroot"
	# shellcheck disable=SC2086 # a list of package names
	{ in_chroot "$root" apt-get update -qq &&
		in_chroot "$root" apt-get install -y -qq --no-install-recommends $pkgs; } \
		>"$CACHE/$suite.apt.log" 2>&1 || {
		tail -n 20 "$CACHE/$suite.apt.log" >&2
		warn "apt-get in the $suite chroot failed (log: $CACHE/$suite.apt.log)"
		return 1
	}
	in_chroot "$root" apt-get clean
	echo "$want" >"$stamp"
}

# Copy the source tree (no .git, no build products) into the new directory
# $1 under a chroot's /tmp.
copy_source()
{
	local dir=$1
	tar -C "$REPO_ROOT" --exclude=./.git --exclude='*.o' --exclude='*.so' \
		--exclude='*.bc' --exclude=./results --exclude=./regression.diffs \
		--exclude=./regression.out --exclude=./test/fuzz/build -cf - . |
		tar -C "$dir" -xf -
}

# Run the suite for PostgreSQL $1 and add its counts.
run_version()
{
	local major=$1 suite root src out line passed=0 failed=1 lock
	suite=$(suite_of "$major") || {
		warn "no Debian suite known for PostgreSQL $major (known: 17, 18)"
		SUMMARY+=("PostgreSQL $major: 0 passed, 1 failed (no chroot for this version)")
		TOTAL_FAILED=$((TOTAL_FAILED + 1))
		return 0
	}
	root=$CACHE/$suite
	mkdir -p "$CACHE"
	exec {lock}>"$CACHE/$suite.lock"
	if ! flock -n "$lock"; then
		log "PostgreSQL $major: waiting for another run in the $suite chroot"
		flock "$lock"
	fi
	ROOTS+=("$root")
	# preparation failures count as one failed test of this version
	if ! chroot_prepare "$major" "$suite"; then
		unmount_all
		SUMMARY+=("PostgreSQL $major: 0 passed, 1 failed (chroot not ready)")
		TOTAL_FAILED=$((TOTAL_FAILED + 1))
		exec {lock}>&-
		return 0
	fi
	chroot_mount "$root"
	src=$(mktemp -d "$root/tmp/icp-src.XXXXXX")
	out=$src.log
	SRC_DIRS+=("$src" "$out")
	copy_source "$src"
	log "PostgreSQL $major: test/run.sh test in the Debian $suite chroot"
	echo "### PostgreSQL $major (Debian $suite chroot $root)"
	# shellcheck disable=SC2016 # $1 is expanded by the shell in the chroot
	in_chroot "$root" PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" \
		ICP_TEST_VERSIONS=inside bash -c 'cd "$1" && exec bash test/run.sh test' \
		run "${src#"$root"}" 2>&1 | tee "$out" || true
	line=$(tail -n 1 "$out")
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=${BASH_REMATCH[1]}
		failed=${BASH_REMATCH[2]}
	fi
	chroot_kill "$root"
	rm -rf "$src" "$out"
	unmount_all
	exec {lock}>&-
	SUMMARY+=("PostgreSQL $major: $passed passed, $failed failed")
	TOTAL_PASSED=$((TOTAL_PASSED + passed))
	TOTAL_FAILED=$((TOTAL_FAILED + failed))
}

trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

is_root || die "test/versions.sh needs root (debootstrap, chroot, mount); ICP_TEST_VERSIONS=no make test skips it"
ensure_packages debootstrap
mkdir -p "$CACHE"
for major in $VERSIONS; do
	run_version "$major"
done
printf '%s\n' "${SUMMARY[@]}"
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
((TOTAL_FAILED == 0))
