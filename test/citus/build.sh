#!/bin/bash
# Build Citus 13.2.2 from source and install it into the PostgreSQL that
# PG_CONFIG names, for `make check-citus`.  A recipe only: no Citus code is
# kept in this repository.  Steps already done are skipped (a Citus library
# present in PG_CONFIG's pkglibdir, an unpacked and configured source tree).
#
#   PG_CONFIG=/path/to/pg_config test/citus/build.sh
#
# Environment: CITUS_GIT_DIR, a bare git directory of citusdata/citus (for
# example what the team's search tool fetches, /work/.mirror/citusdata+citus/repo);
# otherwise the script clones from GitHub.  CITUS_SRC, where the tree is
# unpacked (default /tmp/citus-src-13.2.2).  CITUS_JOBS, make -j (default 2).
set -euo pipefail

: "${PG_CONFIG:?set PG_CONFIG to the pg_config of the server to install into}"
CITUS_TAG=v13.2.2
CITUS_SRC=${CITUS_SRC:-/tmp/citus-src-13.2.2}
CITUS_JOBS=${CITUS_JOBS:-2}
CITUS_GIT_DIR=${CITUS_GIT_DIR:-/work/.mirror/citusdata+citus/repo}

pkglibdir=$("$PG_CONFIG" --pkglibdir)
sharedir=$("$PG_CONFIG" --sharedir)
if [ -f "$pkglibdir/citus.so" ] && [ -f "$sharedir/extension/citus.control" ] &&
	[ -z "${CITUS_REBUILD:-}" ]; then
	echo "citus already installed in $pkglibdir"
	exit 0
fi

# Build dependencies (Debian names).  Only installs what is missing.
need=()
for p in liblz4-dev libzstd-dev libkrb5-dev libselinux1-dev libxslt1-dev \
	libpam0g-dev libreadline-dev libssl-dev zlib1g-dev; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	apt-get install -y --no-install-recommends "${need[@]}"
fi

if [ ! -f "$CITUS_SRC/configure" ]; then
	rm -rf "$CITUS_SRC"
	mkdir -p "$CITUS_SRC"
	if [ -d "$CITUS_GIT_DIR" ]; then
		git --git-dir="$CITUS_GIT_DIR" archive "$CITUS_TAG" | tar -x -C "$CITUS_SRC"
	else
		tmp=$(mktemp -d)
		git clone --bare --depth 1 --branch "$CITUS_TAG" \
			https://github.com/citusdata/citus.git "$tmp/citus.git"
		git --git-dir="$tmp/citus.git" archive "$CITUS_TAG" | tar -x -C "$CITUS_SRC"
		rm -rf "$tmp"
	fi
fi

cd "$CITUS_SRC"

# PostgreSQL 15.20 backported an extern have_createdb_privilege() into
# commands/dbcommands.h; Citus 13.2.2 defines its own static inline copy for
# PG < 16 in pg_version_compat.h.  Give Citus's copy its own name.
compat=src/include/pg_version_compat.h
if ! grep -q citus_have_createdb_privilege "$compat"; then
	# an object-like macro before Citus's static definition renames it and
	# every later use (and a later extern declaration, which then agrees)
	sed -i 's/^have_createdb_privilege(void)$/#define have_createdb_privilege citus_have_createdb_privilege\n&/' "$compat"
fi

if [ ! -f config.status ] || ! grep -q "$PG_CONFIG" config.status; then
	./configure --without-libcurl PG_CONFIG="$PG_CONFIG"
fi
make -j"$CITUS_JOBS"
make install
echo "citus $CITUS_TAG installed into $pkglibdir"
