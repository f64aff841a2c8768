# test/lib/build.sh: clean build of the extension and install into PG_CONFIG.
# shellcheck shell=bash

# Flags for the test build: warnings are errors.
# shellcheck disable=SC2034 # used by run.sh
TEST_CFLAGS="-Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers"

# make clean, make (with the given PG_CFLAGS), make install.
build_and_install()
{
	local cflags=$1

	log "building icp (PG_CFLAGS=$cflags)"
	make -s clean PG_CONFIG="$PG_CONFIG" >/dev/null
	make PG_CONFIG="$PG_CONFIG" PG_CFLAGS="$cflags" ||
		die "build failed"
	log "installing icp into $("$PG_CONFIG" --pkglibdir)"
	make -s install PG_CONFIG="$PG_CONFIG" >/dev/null ||
		die "make install failed (are you allowed to write to $("$PG_CONFIG" --sharedir)?)"
}
