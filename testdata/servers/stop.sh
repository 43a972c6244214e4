#!/bin/sh
# Stops the servers start.sh started: those named as arguments
# (pgbouncer, standby; .ci/run passes $DBSYNC_SERVERS_STARTED), or both.
# What is not running is skipped. The standby's copy stays for the next
# start, which is then quick.
set -u

dir=${DBSYNC_SERVERS_DIR:-/tmp/git-dbsync-servers}
[ $# -gt 0 ] || set -- pgbouncer standby
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
	*) echo "servers: unknown server $server (pgbouncer, standby)" >&2 ;;
	esac
done
exit 0
