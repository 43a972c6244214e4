#!/bin/sh
# Starts, if they are not running yet, the extra servers some tests need
# beside PostgreSQL on 127.0.0.1:5432 (which must run):
#
#   - PgBouncer on 127.0.0.1:6432 in front of it, in transaction pool mode,
#     Debian's default settings otherwise (auth_type trust for the users of
#     an auth_file instead of md5, and a pool of 2 server connections per
#     database so that a test's application connections meet the very
#     server connections git dbsync used);
#   - a hot standby of it on 127.0.0.1:5433 (pg_basebackup -R, pg_ctl);
#   - a 3-node MariaDB Galera cluster on 127.0.0.1:3311-3313 (galera-4,
#     node 1 bootstrapped with --wsrep-new-cluster, nodes 2 and 3 joining
#     by rsync SST), root without a password, database test.
#
# Arguments name the servers to start (pgbouncer, standby, galera); none
# starts them all. Idempotent: what already answers is left alone.
# Installs pgbouncer, galera-4 and rsync with apt-get when they are
# missing (as root). Servers run as user postgres when
# started by root (PostgreSQL and PgBouncer refuse root), else as the
# caller; the Galera nodes as user mysql. Their files live in $DBSYNC_SERVERS_DIR (default
# /tmp/git-dbsync-servers); stop.sh stops them.
#
# stdout is for eval: the URLs to export, and DBSYNC_SERVERS_STARTED, the
# servers this run started (for stop.sh, so that a caller stops only
# those). Messages, and how long starting took, go to stderr.
set -eu

dir=${DBSYNC_SERVERS_DIR:-/tmp/git-dbsync-servers}
primary_port=5432 bouncer_port=6432 standby_port=5433
start=$(date +%s)
started=""
[ $# -gt 0 ] || set -- pgbouncer standby galera
want() { case " $servers " in *" $1 "*) return 0 ;; esac; return 1; }
servers="$*"
say() { echo "servers: $*" >&2; }
die() { say "$*"; exit 1; }
for w in $servers; do
	case $w in pgbouncer | standby | galera) ;; *) die "unknown server $w (pgbouncer, standby, galera)" ;; esac
done
if [ "$(id -u)" = 0 ]; then
	as_server() { runuser -u postgres -- "$@"; }
	owner=postgres
else
	as_server() { "$@"; }
	owner=$(id -un)
fi

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$pgbin" ] || pgbin=$(dirname "$(command -v pg_ctl || echo /usr/bin/pg_ctl)")
psql_primary() { "$pgbin/psql" -X -q -At -h 127.0.0.1 -p $primary_port -U postgres -d postgres "$@"; }
if want pgbouncer || want standby; then
	[ -x "$pgbin/pg_ctl" ] || die "pg_ctl not found: install PostgreSQL's server package"
	"$pgbin/pg_isready" -q -h 127.0.0.1 -p $primary_port || die "PostgreSQL does not answer on 127.0.0.1:$primary_port (.ci/run starts it)"
fi

mkdir -p "$dir"
chown "$owner" "$dir" 2>/dev/null || true
chmod 0755 "$dir"

# PgBouncer.
if ! want pgbouncer; then
	:
elif "$pgbin/pg_isready" -q -h 127.0.0.1 -p $bouncer_port; then
	say "PgBouncer already answers on 127.0.0.1:$bouncer_port"
else
	if ! command -v pgbouncer >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || die "pgbouncer is not installed (apt-get install pgbouncer, as root)"
		say "installing pgbouncer"
		apt-get install -y -q pgbouncer >&2 || { apt-get update -q >&2 && apt-get install -y -q pgbouncer >&2; }
	fi
	# The package starts its own service on 6432 with md5 auth where
	# systemd runs; the image here has none, and the test needs trust.
	printf '"postgres" ""\n' > "$dir/userlist.txt"
	cat > "$dir/pgbouncer.ini" <<INI
; Debian's /etc/pgbouncer/pgbouncer.ini defaults, but for the lines below.
[databases]
* = host=127.0.0.1 port=$primary_port

[pgbouncer]
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 2
INI
	chown "$owner" "$dir/userlist.txt" "$dir/pgbouncer.ini" 2>/dev/null || true
	rm -f "$dir/pgbouncer.pid"
	as_server pgbouncer -d -q "$dir/pgbouncer.ini"
	for _ in $(seq 50); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p $bouncer_port && break; sleep 0.1; done
	"$pgbin/pg_isready" -q -h 127.0.0.1 -p $bouncer_port || die "PgBouncer did not start (see $dir/pgbouncer.log)"
	started="$started pgbouncer"
	say "PgBouncer started on 127.0.0.1:$bouncer_port (transaction pool mode)"
fi

# The hot standby.
standby=$dir/standby
if ! want standby; then
	:
elif "$pgbin/pg_isready" -q -h 127.0.0.1 -p $standby_port; then
	say "a server already answers on 127.0.0.1:$standby_port"
else
	# pg_basebackup needs a replication connection, which the project's
	# pg_hba.conf (trust for "all" databases) does not cover.
	hba=$(psql_primary -c "SHOW hba_file")
	if ! grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+(all|postgres)[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
		say "allowing replication connections from 127.0.0.1 in $hba"
		printf 'host replication all 127.0.0.1/32 trust  # git dbsync tests: the hot standby\n' >> "$hba"
		psql_primary -c "SELECT pg_reload_conf()" >/dev/null
	fi
	# A fresh copy each time it is started: an old one may need WAL the
	# primary has recycled since (no replication slot), and would answer
	# with stale data, never seeing the tests' new databases.
	if [ -f "$standby/postmaster.pid" ]; then
		as_server "$pgbin/pg_ctl" -D "$standby" -m immediate stop >/dev/null 2>&1 || true
	fi
	rm -rf "$standby"
	say "copying the primary (pg_basebackup -R)"
	as_server "$pgbin/pg_basebackup" -h 127.0.0.1 -p $primary_port -U postgres -D "$standby" -R -X stream -c fast
	# Debian keeps these in /etc, outside the data directory.
	cat > "$standby/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $standby_port
unix_socket_directories = '$dir'
hot_standby = on
shared_buffers = 32MB
CONF
	# A standby needs at least the primary's figures of these.
	psql_primary -c "SELECT name || ' = ' || setting FROM pg_settings WHERE name IN
  ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')" >> "$standby/postgresql.conf"
	printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' > "$standby/pg_hba.conf"
	printf '' > "$standby/pg_ident.conf"
	chown "$owner" "$standby/postgresql.conf" "$standby/pg_hba.conf" "$standby/pg_ident.conf" 2>/dev/null || true
	as_server "$pgbin/pg_ctl" -D "$standby" -l "$dir/standby.log" -w -t 60 start >&2 || die "the standby did not start (see $dir/standby.log)"
	started="$started standby"
	say "hot standby started on 127.0.0.1:$standby_port"
fi
if want standby; then
	[ "$(psql_primary -p $standby_port -c 'SELECT pg_is_in_recovery()')" = t ] || die "the server on 127.0.0.1:$standby_port is not a standby"
fi

# A 3-node MariaDB Galera cluster: node N answers SQL on 127.0.0.1:331N,
# group communication on 4567N, IST on 4568N, SST (rsync) on 4569N; its
# files are in $dir/galeraN (owned by the user it runs as): data/,
# my.cnf, mariadbd.sock, .pid, .err. Node 1
# bootstraps the cluster (--wsrep-new-cluster) when no node answers; the
# others join it by rsync SST. root has no password, over TCP too.
if [ "$(id -u)" = 0 ]; then galera_user=mysql; else galera_user=$(id -un); fi
galera_port() { echo $((3310 + $1)); }
galera_answers() { mariadb-admin -uroot -h127.0.0.1 -P"$(galera_port "$1")" --protocol=tcp --connect-timeout=2 status >/dev/null 2>&1; }
galera_synced() {
	[ "$(mariadb -uroot -h127.0.0.1 -P"$(galera_port "$1")" --protocol=tcp -N -B \
		-e "SELECT variable_value FROM information_schema.global_status WHERE variable_name = 'wsrep_local_state_comment'" 2>/dev/null)" = Synced ]
}
galera_conf() {
	n=$1
	cat > "$dir/galera$n/my.cnf" <<CNF
# git dbsync tests: node $n of a Galera cluster (testdata/servers/start.sh)
[mariadbd]
user = $galera_user
datadir = $dir/galera$n/data
port = $(galera_port "$n")
bind-address = 127.0.0.1
socket = $dir/galera$n/mariadbd.sock
pid-file = $dir/galera$n/mariadbd.pid
log-error = $dir/galera$n/mariadbd.err
skip-name-resolve
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
innodb_buffer_pool_size = 64M
innodb_log_file_size = 48M
innodb_flush_log_at_trx_commit = 2
max_connections = 200
wsrep_on = ON
wsrep_provider = /usr/lib/galera/libgalera_smm.so
wsrep_cluster_name = git-dbsync-test
wsrep_cluster_address = gcomm://127.0.0.1:45671,127.0.0.1:45672,127.0.0.1:45673
wsrep_node_name = galera$n
wsrep_node_address = 127.0.0.1:4567$n
wsrep_node_incoming_address = 127.0.0.1:$(galera_port "$n")
wsrep_provider_options = "base_port=4567$n; ist.recv_addr=127.0.0.1:4568$n; gcache.size=64M"
wsrep_sst_method = rsync
wsrep_sst_receive_address = 127.0.0.1:4569$n
wsrep_slave_threads = 2
CNF
}
galera_start() { # n, extra flags: starts a node and waits until it is synced
	n=$1
	shift
	rm -f "$dir/galera$n/mariadbd.pid"
	# It reads only its own file (not /etc/mysql), and runs as the user
	# the file names; detached, its output in its error log.
	setsid /usr/sbin/mariadbd --defaults-file="$dir/galera$n/my.cnf" "$@" </dev/null >/dev/null 2>&1 &
	for _ in $(seq 300); do galera_synced "$n" && return 0; sleep 0.2; done
	die "Galera node $n did not become synced on 127.0.0.1:$(galera_port "$n") (see $dir/galera$n/mariadbd.err)"
}
if want galera; then
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
	die "mariadbd is not installed (apt-get install mariadb-server, as root)"
fi
for pkg in galera-4:/usr/lib/galera/libgalera_smm.so rsync:/usr/bin/rsync; do
	if [ ! -e "${pkg#*:}" ]; then
		[ "$(id -u)" = 0 ] || die "${pkg%%:*} is not installed (apt-get install ${pkg%%:*}, as root)"
		say "installing ${pkg%%:*}"
		apt-get install -y -q "${pkg%%:*}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${pkg%%:*}" >&2; }
	fi
done
any=""
for n in 1 2 3; do galera_answers "$n" && any="$any $n"; done
if [ "$any" = " 1 2 3" ]; then
	say "the Galera cluster already answers on 127.0.0.1:3311-3313"
else
	galera_t0=$(date +%s)
	for n in 1 2 3; do
		galera_answers "$n" && continue
		node_t0=$(date +%s)
		if [ -z "$any" ]; then
			# No node runs: a new cluster from scratch (the tests' data
			# is theirs; an old cluster's state would need recovery).
			rm -rf "$dir/galera$n"
		fi
		mkdir -p "$dir/galera$n/data"
		galera_conf "$n"
		chown -R "$galera_user" "$dir/galera$n"
		if [ -z "$any" ] && [ "$n" = 1 ]; then
			mariadb-install-db --no-defaults --user="$galera_user" --datadir="$dir/galera1/data" \
				--auth-root-authentication-method=normal --skip-test-db >/dev/null 2>&1 ||
				die "mariadb-install-db failed for Galera node 1"
		fi
		if [ -z "$any" ] && [ "$n" = 1 ]; then
			galera_start 1 --wsrep-new-cluster
			mariadb -uroot -h127.0.0.1 -P3311 --protocol=tcp -e "CREATE DATABASE IF NOT EXISTS test" ||
				die "Galera node 1 does not take root without a password"
			any=" 1"
		else
			galera_start "$n" # joins by SST (rsync) or IST
			any="$any $n"
		fi
		started="$started galera$n"
		say "Galera node $n started on 127.0.0.1:$(galera_port "$n") in $(( $(date +%s) - node_t0 ))s"
	done
	say "Galera cluster ready in $(( $(date +%s) - galera_t0 ))s"
fi
size=$(mariadb -uroot -h127.0.0.1 -P3311 --protocol=tcp -N -B \
	-e "SELECT variable_value FROM information_schema.global_status WHERE variable_name = 'wsrep_cluster_size'")
[ "$size" = 3 ] || die "the Galera cluster on 127.0.0.1:3311 has $size nodes, not 3"
fi

say "ready in $(( $(date +%s) - start ))s"
want pgbouncer && echo "export DBSYNC_TEST_PGBOUNCER='postgres://postgres@127.0.0.1:$bouncer_port/postgres?sslmode=disable'"
want standby && echo "export DBSYNC_TEST_PG_STANDBY='postgres://postgres@127.0.0.1:$standby_port/postgres?sslmode=disable'"
want galera && for n in 1 2 3; do echo "export DBSYNC_TEST_GALERA$n='mysql://root@127.0.0.1:$(galera_port "$n")/test'"; done
echo "export DBSYNC_SERVERS_STARTED='${started# }'"
