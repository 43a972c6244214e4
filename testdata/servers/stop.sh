#!/bin/sh
# Stops the servers start.sh started: those named as arguments
# (pgbouncer, standby, galera1, galera2, galera3, or galera for the three
# nodes; .ci/run passes $DBSYNC_SERVERS_STARTED), or all of them. What is
# not running is skipped. The standby's copy stays for the next start,
# which is then quick; the Galera nodes' files stay until a start that
# finds no node running makes a new cluster.
set -u

dir=${DBSYNC_SERVERS_DIR:-/tmp/git-dbsync-servers}
[ $# -gt 0 ] || set -- pgbouncer standby galera
# The last Galera node stopped is the one a restart could bootstrap from:
# stop the joiners first.
args=""
for server in "$@"; do
	case $server in galera) args="$args galera3 galera2 galera1" ;; *) args="$args $server" ;; esac
done
set -- $args
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$pgbin" ] || pgbin=$(dirname "$(command -v pg_ctl || echo /usr/bin/pg_ctl)")
if [ "$(id -u)" = 0 ]; then as_server() { runuser -u postgres -- "$@"; }; else as_server() { "$@"; }; fi

for server in "$@"; do
	case $server in
	pgbouncer)
		if [ -s "$dir/pgbouncer.pid" ]; then
			kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null && echo "servers: PgBouncer stopped" >&2
			rm -f "$dir/pgbouncer.pid"
		fi ;;
	standby)
		if [ -f "$dir/standby/postmaster.pid" ]; then
			as_server "$pgbin/pg_ctl" -D "$dir/standby" -m fast -w stop >/dev/null && echo "servers: standby stopped" >&2
		fi ;;
	galera[123])
		pidfile=$dir/$server/mariadbd.pid
		if [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; then
			# Wait for it to leave the cluster and free its ports.
			for _ in $(seq 300); do kill -0 "$(cat "$pidfile" 2>/dev/null || echo 0)" 2>/dev/null || break; sleep 0.1; done
			echo "servers: Galera node ${server#galera} stopped" >&2
		fi ;;
	*) echo "servers: unknown server $server (pgbouncer, standby, galera)" >&2 ;;
	esac
done
exit 0
