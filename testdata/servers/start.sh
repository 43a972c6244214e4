#!/bin/sh
# Starts, if they are not running yet, the extra servers some tests need
# beside PostgreSQL on 127.0.0.1:5432 (which must run):
#
#   - PgBouncer on 127.0.0.1:6432 in front of it, in transaction pool mode,
#     Debian's default settings otherwise (auth_type trust for the users of
#     an auth_file instead of md5, and a pool of 2 server connections per
#     database so that a test's application connections meet the very
#     server connections git dbsync used);
#   - a hot standby of it on 127.0.0.1:5433 (pg_basebackup -R, pg_ctl).
#
# Idempotent: what already answers is left alone. Installs pgbouncer with
# apt-get when it is missing (as root). Servers run as user postgres when
# started by root (PostgreSQL and PgBouncer refuse root), else as the
# caller. Their files live in $DBSYNC_SERVERS_DIR (default
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

say() { echo "servers: $*" >&2; }
die() { say "$*"; exit 1; }
if [ "$(id -u)" = 0 ]; then
	as_server() { runuser -u postgres -- "$@"; }
	owner=postgres
else
	as_server() { "$@"; }
	owner=$(id -un)
fi

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$pgbin" ] || pgbin=$(dirname "$(command -v pg_ctl || echo /usr/bin/pg_ctl)")
[ -x "$pgbin/pg_ctl" ] || die "pg_ctl not found: install PostgreSQL's server package"
"$pgbin/pg_isready" -q -h 127.0.0.1 -p $primary_port || die "PostgreSQL does not answer on 127.0.0.1:$primary_port (.ci/run starts it)"
psql_primary() { "$pgbin/psql" -X -q -At -h 127.0.0.1 -p $primary_port -U postgres -d postgres "$@"; }

mkdir -p "$dir"
chown "$owner" "$dir" 2>/dev/null || true
chmod 0755 "$dir"

# PgBouncer.
if "$pgbin/pg_isready" -q -h 127.0.0.1 -p $bouncer_port; then
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
if "$pgbin/pg_isready" -q -h 127.0.0.1 -p $standby_port; then
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
[ "$(psql_primary -p $standby_port -c 'SELECT pg_is_in_recovery()')" = t ] || die "the server on 127.0.0.1:$standby_port is not a standby"

say "ready in $(( $(date +%s) - start ))s"
echo "export DBSYNC_TEST_PGBOUNCER='postgres://postgres@127.0.0.1:$bouncer_port/postgres?sslmode=disable'"
echo "export DBSYNC_TEST_PG_STANDBY='postgres://postgres@127.0.0.1:$standby_port/postgres?sslmode=disable'"
echo "export DBSYNC_SERVERS_STARTED='${started# }'"
