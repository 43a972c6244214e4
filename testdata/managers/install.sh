#!/bin/sh
# Installs the hook managers the end-to-end tests drive through real git:
# the pre-commit framework from Debian's packages, husky and lefthook from
# the npm registry (versions pinned here) into $DBSYNC_TOOLS (default
# ~/.cache/git-dbsync-tools). Does nothing for what is there already.
set -eu
tools=${DBSYNC_TOOLS:-$HOME/.cache/git-dbsync-tools}
husky=9.1.7
lefthook=2.2.1

if ! command -v pre-commit >/dev/null 2>&1; then
	echo "install: pre-commit (Debian package)"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y -q pre-commit >/dev/null 2>&1 ||
		{ $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q pre-commit >/dev/null; }
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "install: npm (Debian package)"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y -q npm >/dev/null 2>&1 ||
		{ $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q npm >/dev/null; }
fi
bin=$tools/node_modules/.bin
version() { sed -n 's/^[[:space:]]*"version": "\(.*\)",*$/\1/p' "$tools/node_modules/$1/package.json" 2>/dev/null | head -n1; }
if [ "$(version husky)" != "$husky" ] ||
	! "$bin/lefthook" version 2>/dev/null | grep -qx "$lefthook"; then
	echo "install: husky@$husky and lefthook@$lefthook into $tools"
	mkdir -p "$tools"
	(cd "$tools" && npm install --no-audit --no-fund --silent -E "husky@$husky" "lefthook@$lefthook")
fi
"$bin/lefthook" version >/dev/null
command -v pre-commit >/dev/null
