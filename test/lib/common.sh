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
