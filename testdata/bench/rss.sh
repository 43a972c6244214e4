#!/bin/sh
# The peak memory of the real binary at 1,000,000 rows (issue #25: every
# command under 64 MB): builds git-dbsync, makes a table of ROWS rows
# (default 1000000) on each engine, and runs through the binary, each
# under /usr/bin/time -v:
#
#   export       the whole table, into an empty export directory;
#   apply        a small release (1% of the rows updated) to a copy of the
#                table, with the default backup (backup = tables);
#   first apply  the release into an empty table;
#   pull         a content table of ROWS rows from prod into dev.
#
#   rollback     the first apply, undone.
#
# Prints each command's time and "Maximum resident set size", PASS or
# OVER against 64 MiB. Exits non-zero when one is over only with --strict.
# The figure is the largest of the binary and the git commands it runs
# (time -v counts the children it waits for), so the git commands are
# measured too, through a git on PATH that runs the real one under
# /usr/bin/time: "git N MiB" is the largest of them. Where the two are
# equal, the peak is git's (git cat-file holds a blob whole, 115 MB for
# the lines file of 1M rows).
#
#   sh testdata/bench/rss.sh [--strict] [sqlite] [postgres] [mysql]
#
# Without engines: all three. The servers are those the tests use
# ($DBSYNC_TEST_POSTGRES, $DBSYNC_TEST_MYSQL, as the Makefile exports them).
set -eu
cd "$(dirname "$0")/../.."

strict=false
engines=""
for a in "$@"; do
	case $a in
	--strict) strict=true ;;
	sqlite | postgres | mysql) engines="$engines $a" ;;
	*) echo "usage: rss.sh [--strict] [sqlite] [postgres] [mysql]" >&2; exit 2 ;;
	esac
done
[ -n "$engines" ] || engines="sqlite postgres mysql"
rows=${ROWS:-1000000}
limit_kb=65536 # 64 MiB
pg_admin=${DBSYNC_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
my_admin=${DBSYNC_TEST_MYSQL:-mysql://root@127.0.0.1:3306/test}

if [ ! -x /usr/bin/time ]; then
	echo "rss.sh: /usr/bin/time is missing: install the Debian package time (make tools does)" >&2
	exit 1
fi

work=$(mktemp -d)
created="" # server databases to drop at the end
cleanup() {
	for db in $created; do
		case $db in
		pg:*) PGOPTIONS=--client-min-messages=warning psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS ${db#pg:} WITH (FORCE)" >/dev/null 2>&1 || true ;;
		my:*) my "" -e "DROP DATABASE IF EXISTS ${db#my:}" >/dev/null 2>&1 || true ;;
		esac
	done
	rm -rf "$work"
}
trap cleanup EXIT

echo "rss.sh: building git-dbsync and sqlexec"
CGO_ENABLED=0 go build -o "$work/bin/git-dbsync" ./cmd/git-dbsync
CGO_ENABLED=0 go build -o "$work/bin/sqlexec" ./internal/sqltool/sqlexec
dbsync=$work/bin/git-dbsync
# git, as the binary runs it, under /usr/bin/time: each run appends its
# peak RSS (KB) to $work/git-rss.txt.
real_git=$(command -v git)
mkdir -p "$work/shim"
printf '#!/bin/sh\nexec /usr/bin/time -a -o "%s" -f %%M "%s" "$@"\n' "$work/git-rss.txt" "$real_git" >"$work/shim/git"
chmod +x "$work/shim/git"

# with_db URL NAME: the URL with its database replaced by NAME.
with_db() { echo "$1" | sed "s#^\([a-z]*://[^/]*\)/[^?]*#\1/$2#"; }

# my DB ARGS...: the mariadb client on the MariaDB of $my_admin.
my() {
	hostport=$(echo "$my_admin" | sed 's#^[a-z]*://\([^/]*\)/.*#\1#')
	user=${hostport%@*}
	hostport=${hostport#*@}
	db=$1
	shift
	mariadb -u"$user" -h"${hostport%:*}" -P"${hostport#*:}" --protocol=tcp "$@" $db
}

# sql ENGINE NAME SCRIPT: runs SQL in database NAME of the engine.
sql() {
	case $1 in
	sqlite) printf '%s\n' "$3" >"$work/script.sql" && "$work/bin/sqlexec" "$work/$2.db" "$work/script.sql" ;;
	postgres) psql -q -v ON_ERROR_STOP=1 "$(with_db "$pg_admin" "$2")" -c "$3" >/dev/null ;;
	mysql) my "$2" -e "$3" ;;
	esac
}

# count ENGINE NAME TABLE: the number of rows of a table.
count() {
	case $1 in
	sqlite) "$work/bin/sqlexec" "$work/$2.db" -q "SELECT count(*) FROM $3" | tail -n 1 ;;
	postgres) psql -tA "$(with_db "$pg_admin" "$2")" -c "SELECT count(*) FROM $3" ;;
	mysql) my "$2" -N -e "SELECT count(*) FROM $3" ;;
	esac
}

# expect ENGINE NAME TABLE N: fails unless the table has N rows.
expect() {
	n=$(count "$1" "$2" "$3")
	if [ "$n" != "$4" ]; then
		echo "rss.sh: $1: $3 of $2 has $n rows, want $4" >&2
		exit 1
	fi
}

# newdb ENGINE NAME: an empty database, dropped at the end.
newdb() {
	case $1 in
	sqlite) rm -f "$work/$2.db" ;;
	postgres)
		PGOPTIONS=--client-min-messages=warning psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2" >/dev/null
		created="$created pg:$2"
		;;
	mysql)
		my "" -e "DROP DATABASE IF EXISTS $2; CREATE DATABASE $2"
		created="$created my:$2"
		;;
	esac
}

# dburl ENGINE NAME: the URL of database NAME, for .dbsync.
dburl() {
	case $1 in
	sqlite) echo "sqlite:$work/$2.db" ;;
	postgres) with_db "$pg_admin" "$2" ;;
	mysql) with_db "$my_admin" "$2" ;;
	esac
}

# series ENGINE: a query giving i = 1..rows.
series() {
	case $1 in
	sqlite) echo "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $rows) SELECT i FROM s)" ;;
	postgres) echo "(SELECT i FROM generate_series(1, $rows) i)" ;;
	mysql) echo "(SELECT seq AS i FROM seq_1_to_$rows)" ;;
	esac
}

schema="CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, label VARCHAR(100), weight INTEGER, price DECIMAL(10,2), enabled BOOLEAN);
CREATE TABLE orders (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, status VARCHAR(20) NOT NULL, total DECIMAL(10,2), note VARCHAR(200));"

items() { echo "INSERT INTO items SELECT i, concat('item_', i), concat('Label for item number ', i), i % 100, (i % 10000) / 100.0, i % 2 = 0 FROM $(series "$1") s;"; }
orders() { echo "INSERT INTO orders SELECT i, concat('customer', i, '@shop.example'), 'shipped', (i % 10000) / 100.0, concat('Leave at the door, ring twice ', i) FROM $(series "$1") s;"; }

over=0
# measure ENGINE WHAT ARGS...: runs the binary under /usr/bin/time -v and
# prints its time and peak RSS.
measure() {
	engine=$1 what=$2
	shift 2
	: >"$work/git-rss.txt"
	if ! PATH="$work/shim:$PATH" /usr/bin/time -v -o "$work/time.txt" "$dbsync" "$@" >"$work/out.txt" 2>&1; then
		echo "rss.sh: $engine: git dbsync $*: failed" >&2
		cat "$work/out.txt" "$work/time.txt" >&2
		exit 1
	fi
	kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$work/time.txt")
	wall=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt")
	verdict=PASS
	if [ "$kb" -ge "$limit_kb" ]; then
		verdict=OVER
		over=$((over + 1))
	fi
	git_kb=$(sort -n "$work/git-rss.txt" | tail -n 1)
	printf '%-9s %-12s %8s   max RSS %5d MiB (git %4d MiB)   %s\n' "$engine" "$what" "$wall" $((kb / 1024)) $((${git_kb:-0} / 1024)) "$verdict"
}

# quiet ARGS...: runs the binary, showing its output only when it fails.
quiet() {
	"$dbsync" "$@" >"$work/out.txt" 2>&1 || {
		echo "rss.sh: git dbsync $*: failed" >&2
		cat "$work/out.txt" >&2
		exit 1
	}
}

git_() { git -C "$repo" -c user.name=bench -c user.email=bench@example.org "$@"; }

echo "rss.sh: peak RSS of git-dbsync at $rows rows (limit 64 MiB), $(nproc) cores"
for engine in $engines; do
	d=rss_dev_$$ p=rss_prod_$$ f=rss_first_$$
	for db in $d $p $f; do newdb "$engine" $db; done
	dev=$(dburl "$engine" $d) prod=$(dburl "$engine" $p) first=$(dburl "$engine" $f)
	sql "$engine" $d "$schema $(items "$engine")"
	sql "$engine" $p "$schema $(items "$engine") $(orders "$engine")"
	sql "$engine" $f "$schema"
	repo=$work/repo-$engine
	git init -q "$repo"
	printf '[env "dev"]\n\turl = %s\n[env "prod"]\n\turl = %s\n[env "first"]\n\turl = %s\n[tables]\n\tconfig = items\n\tcontent = orders\n[table "orders"]\n\tredact = email email\n' \
		"$dev" "$prod" "$first" >"$repo/.dbsync"
	cd "$repo"
	measure "$engine" export export
	git_ add -A && git_ commit -q -m v1 && git_ tag v1
	quiet apply v1 --env prod --baseline --yes
	sql "$engine" $d "UPDATE items SET label = concat(label, ' (v2)') WHERE id % 100 = 0;"
	quiet export
	git_ commit -q -am v2 && git_ tag v2
	# As a repository is after git gc: git reads a packed blob whole (a
	# loose one it streams), so what apply costs depends on it.
	git_ repack -adq
	measure "$engine" apply apply v2 --env prod --yes
	measure "$engine" "first apply" apply v2 --env first --yes
	expect "$engine" $f items "$rows"
	measure "$engine" rollback rollback --env first --yes
	expect "$engine" $f items 0
	measure "$engine" pull pull --from prod --to dev --yes
	expect "$engine" $d orders "$rows"
	cd - >/dev/null
done

if [ "$over" -gt 0 ]; then
	echo "rss.sh: $over command(s) over 64 MiB"
	if $strict; then exit 1; fi
fi
