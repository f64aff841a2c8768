# test/lib/common.sh: logging, privilege and path helpers for test/run.sh.
# shellcheck shell=bash

# Print a progress line on stderr so stdout stays for results.
log()
{
	printf '==> %s\n' "$*" >&2
}

# Print a warning on stderr.
warn()
{
	printf 'warning: %s\n' "$*" >&2
}

# Print an error on stderr and exit non-zero.
die()
{
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# True when running as root.
is_root()
{
	[[ $(id -u) -eq 0 ]]
}

# Run a command as the `postgres` OS user (initdb and postgres refuse root);
# when we are not root we run it as ourselves.
as_pg()
{
	if is_root; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Name of the OS user that owns the throwaway cluster.
pg_os_user()
{
	if is_root; then
		echo postgres
	else
		id -un
	fi
}

# True if any environment variable names an existing server for us to use.
pg_env_names_server()
{
	[[ -n ${PGHOST-} || -n ${PGPORT-} || -n ${PGDATABASE-} ||
		-n ${PGUSER-} || -n ${PGSERVICE-} ]]
}

# The major version of the PostgreSQL that pg_config $1 belongs to: asked
# when it runs, else read from a Debian path (/usr/lib/postgresql/17/bin),
# else 15 (this harness's default, installed when missing).
pg_major()
{
	local v=""
	if [[ -x $1 ]]; then
		v=$("$1" --version 2>/dev/null | sed -n 's/^PostgreSQL \([0-9]\+\).*/\1/p')
	fi
	if [[ -z $v && $1 =~ /postgresql/([0-9]+)/bin/ ]]; then
		v=${BASH_REMATCH[1]}
	fi
	echo "${v:-15}"
}
