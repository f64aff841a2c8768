# test/lib/cluster.sh: a throwaway PostgreSQL cluster in a temporary directory,
# listening only on a Unix socket in that directory.  cluster_cleanup (called
# from the EXIT trap in run.sh) stops it and removes the directory.
# shellcheck shell=bash

CLUSTER_DIR=""        # temporary directory: data/, socket, logs
CLUSTER_PORT=""       # port number (names the socket file)
CLUSTER_PID=""        # postmaster pid once started
CLUSTER_LOG=""        # server log file

# Pick a locale for initdb: C.UTF-8 when the system has it.
cluster_locale()
{
	local l
	for l in C.UTF-8 C.utf8 en_US.UTF-8 en_US.utf8; do
		if locale -a 2>/dev/null | grep -qix -- "$l"; then
			echo "$l"
			return
		fi
	done
	echo C    # with -E UTF8 this still gives a UTF8 database
}

# True if something already uses port $1: a socket lock file in the usual
# directories, a server answering there, or a TCP listener on localhost.
port_in_use()
{
	local p=$1 dir rc
	for dir in /var/run/postgresql /run/postgresql /tmp; do
		[[ -e $dir/.s.PGSQL.$p.lock || -e $dir/.s.PGSQL.$p ]] && return 0
	done
	for dir in /var/run/postgresql /tmp localhost; do
		rc=0
		"$PG_BINDIR/pg_isready" -q -h "$dir" -p "$p" -t 1 -U postgres -d postgres >/dev/null 2>&1 || rc=$?
		((rc == 0 || rc == 1)) && return 0
	done
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
	return 1
}

# Print a free port, scanning up from a random base.
pick_port()
{
	local base p
	base=$((20000 + RANDOM % 30000))
	for ((p = base; p < base + 200; p++)); do
		if ! port_in_use "$p"; then
			echo "$p"
			return
		fi
	done
	die "no free port found in $base..$((base + 199))"
}

# Create the temporary directory and run initdb in it as the postgres user.
cluster_init()
{
	local loc
	CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/icp-test.XXXXXX")
	chmod 700 "$CLUSTER_DIR"
	is_root && chown postgres: "$CLUSTER_DIR"
	CLUSTER_LOG=$CLUSTER_DIR/server.log
	loc=$(cluster_locale)
	log "initdb in $CLUSTER_DIR (locale $loc)"
	as_pg "$PG_BINDIR/initdb" -D "$CLUSTER_DIR/data" -A trust -U postgres \
		--no-sync -E UTF8 --locale="$loc" >"$CLUSTER_DIR/initdb.log" 2>&1 || {
		cat "$CLUSTER_DIR/initdb.log" >&2
		die "initdb failed"
	}
}

# Append server settings ("name = value" lines on stdin) to postgresql.conf.
cluster_configure()
{
	as_pg tee -a "$CLUSTER_DIR/data/postgresql.conf" >/dev/null
}

# Settings every throwaway cluster gets; $1 is the mode (bench is bigger).
cluster_base_settings()
{
	cat <<-CONF
		# --- icp test harness ---
		listen_addresses = ''
		unix_socket_directories = '$CLUSTER_DIR'
		port = $CLUSTER_PORT
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_parallel_workers_per_gather = 2
		max_worker_processes = 8
		max_parallel_workers = 8
		log_min_messages = warning
		log_line_prefix = '%m [%p] %q%u@%d '
		lc_messages = 'C'
	CONF
	case $1 in
	bench)
		cat <<-CONF
			shared_buffers = 1GB
			work_mem = 64MB
			maintenance_work_mem = 256MB
			jit = off
			max_wal_size = 4GB
		CONF
		;;
	valgrind)
		cat <<-CONF
			shared_buffers = 32MB
			statement_timeout = 0
			jit = off
			autovacuum = off
		CONF
		;;
	*)
		echo "shared_buffers = 128MB"
		;;
	esac
}

# Start the cluster with pg_ctl and wait for it.
cluster_start()
{
	log "starting server on port $CLUSTER_PORT (socket in $CLUSTER_DIR)"
	as_pg "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_LOG" -w -t 120 \
		-o "-k $CLUSTER_DIR -p $CLUSTER_PORT" start >/dev/null ||
		die "server did not start"
	CLUSTER_PID=$(head -1 "$CLUSTER_DIR/data/postmaster.pid")
}

# Start the postmaster under valgrind in the background and wait for it.
cluster_start_valgrind()
{
	local i launcher
	log "starting server under valgrind on port $CLUSTER_PORT (slow)"
	as_pg bash -c 'exec "$@" >>"'"$CLUSTER_LOG"'" 2>&1 </dev/null' vg \
		valgrind --quiet --trace-children=yes --leak-check=no \
		--error-exitcode=1 --num-callers=40 --track-origins=yes \
		--fullpath-after= \
		--suppressions="$REPO_ROOT/test/valgrind.supp" \
		--log-file="$CLUSTER_DIR/vg.%p.log" \
		"$PG_BINDIR/postgres" -D "$CLUSTER_DIR/data" \
		-k "$CLUSTER_DIR" -p "$CLUSTER_PORT" &
	launcher=$!
	for ((i = 0; i < 600; i++)); do
		kill -0 "$launcher" 2>/dev/null ||
			die "the server under valgrind exited during startup"
		if "$PG_BINDIR/pg_isready" -q -h "$CLUSTER_DIR" -p "$CLUSTER_PORT" \
			-U postgres -d postgres; then
			CLUSTER_PID=$(head -1 "$CLUSTER_DIR/data/postmaster.pid")
			return 0
		fi
		sleep 1
	done
	die "server under valgrind did not become ready in 600 s"
}

# Set up a fresh cluster for mode $1 and start it.
cluster_setup()
{
	local mode=$1
	cluster_init
	CLUSTER_PORT=$(pick_port)
	cluster_base_settings "$mode" | cluster_configure
	if [[ $mode == valgrind ]]; then
		cluster_start_valgrind
	else
		cluster_start
	fi
	export PGHOST=$CLUSTER_DIR PGPORT=$CLUSTER_PORT PGUSER=postgres
	unset PGHOSTADDR PGSERVICE PGDATABASE PGPASSWORD
}

# Stop the cluster we started, if it is running.  Quiet.
cluster_stop()
{
	local i
	[[ -n $CLUSTER_DIR && -f $CLUSTER_DIR/data/postmaster.pid ]] || return 0
	as_pg "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m fast -w -t 600 \
		stop >/dev/null 2>&1 ||
		as_pg "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate \
			-w stop >/dev/null 2>&1 || true
	# The postmaster we started must be gone before its directory goes;
	# if it lingers, kill that one pid (and nothing else).
	if [[ -n $CLUSTER_PID ]]; then
		for ((i = 0; i < 150; i++)); do
			kill -0 "$CLUSTER_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$CLUSTER_PID" 2>/dev/null || true
	fi
	CLUSTER_PID=""
}

# Print the tail of the server log on stderr.
cluster_log_tail()
{
	[[ -n $CLUSTER_LOG && -s $CLUSTER_LOG ]] || return 0
	echo "---- tail of the server log ($CLUSTER_LOG) ----" >&2
	tail -n 40 "$CLUSTER_LOG" >&2
	echo "---- end of server log ----" >&2
}

# Stop the cluster and remove its directory; with a non-zero $1 print the
# tail of the server log first.
cluster_cleanup()
{
	local status=${1:-0}
	[[ -n $CLUSTER_DIR && -d $CLUSTER_DIR ]] || return 0
	if ((status != 0)); then cluster_log_tail; fi
	cluster_stop
	rm -rf "$CLUSTER_DIR"
	CLUSTER_DIR=""
}
