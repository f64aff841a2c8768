# test/citus/cluster.sh: a throwaway Citus cluster (a coordinator and two
# workers on loopback ports) in a temporary directory, for check.sh.
# shellcheck shell=bash

CITUS_DIR=""
CITUS_PORTS=()

# Start three nodes with citus preloaded and join them in database $1.
citus_cluster_start()
{
	local db=$1 p i base
	CITUS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/icp-citus.XXXXXX")
	chmod 755 "$CITUS_DIR"
	is_root && chown postgres "$CITUS_DIR"
	base=${CITUS_PORT_BASE:-$(pick_port)}
	CITUS_PORTS=()
	for ((p = base; ${#CITUS_PORTS[@]} < 3 && p < base + 50; p++)); do
		port_in_use "$p" || CITUS_PORTS+=("$p")
	done
	((${#CITUS_PORTS[@]} == 3)) || die "no three free ports from $base"
	for i in 0 1 2; do
		p=${CITUS_PORTS[$i]}
		as_pg "$PG_BINDIR/initdb" -D "$CITUS_DIR/n$p" -A trust -U postgres -E UTF8 \
			--locale="$(cluster_locale)" >/dev/null
		as_pg "$PG_BINDIR/pg_ctl" -D "$CITUS_DIR/n$p" -w -l "$CITUS_DIR/n$p.log" \
			-o "-p $p -k $CITUS_DIR -c listen_addresses=127.0.0.1 -c shared_preload_libraries=citus -c max_prepared_transactions=50 -c fsync=off" \
			start >/dev/null
	done
	for i in 0 1 2; do
		as_pg "$PG_BINDIR/psql" -X -q -h "$CITUS_DIR" -p "${CITUS_PORTS[$i]}" -U postgres -d postgres \
			-v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >/dev/null
		as_pg "$PG_BINDIR/psql" -X -q -h "$CITUS_DIR" -p "${CITUS_PORTS[$i]}" -U postgres -d "$db" \
			-v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION citus" >/dev/null
	done
	as_pg "$PG_BINDIR/psql" -X -q -h "$CITUS_DIR" -p "${CITUS_PORTS[0]}" -U postgres -d "$db" \
		-v ON_ERROR_STOP=1 >/dev/null <<-SQL
		SELECT citus_set_coordinator_host('127.0.0.1', ${CITUS_PORTS[0]});
		SELECT citus_add_node('127.0.0.1', ${CITUS_PORTS[1]});
		SELECT citus_add_node('127.0.0.1', ${CITUS_PORTS[2]});
	SQL
}

# Stop the nodes and remove the directory (unless CITUS_KEEP is set).
citus_cluster_stop()
{
	local p
	[[ -n $CITUS_DIR ]] || return 0
	if [[ -n ${CITUS_KEEP:-} ]]; then
		echo "kept: $CITUS_DIR ports ${CITUS_PORTS[*]}" >&2
		return 0
	fi
	for p in "${CITUS_PORTS[@]}"; do
		[[ -d $CITUS_DIR/n$p ]] &&
			as_pg "$PG_BINDIR/pg_ctl" -D "$CITUS_DIR/n$p" -m immediate stop >/dev/null 2>&1
	done
	rm -rf "$CITUS_DIR"
	CITUS_DIR=""
}
