#!/bin/sh
# Installs the hook managers the end-to-end tests drive through real git:
# the pre-commit framework from Debian's packages, husky and lefthook from
# the npm registry (versions pinned here) into $DBSYNC_TOOLS (default
# ~/.cache/git-dbsync-tools); bash-completion and zsh, for the
# completion test; GNU time, for make bench; Ruby, for the yaml codec's; headless Chromium and its
# WebDriver, for the browser tests of git dbsync web. Does nothing for
# what is there already.
set -eu
tools=${DBSYNC_TOOLS:-$HOME/.cache/git-dbsync-tools}
husky=9.1.7
lefthook=2.2.1

# debian PACKAGE FILE: installs a Debian package unless FILE (a command
# or a path) is there.
debian() {
	if command -v "$2" >/dev/null 2>&1 || [ -e "$2" ]; then
		return
	fi
	echo "install: $1 (Debian package)"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y -q "$1" >/dev/null 2>&1 ||
		{ $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$1" >/dev/null; }
}
debian pre-commit pre-commit
debian npm npm
# The shells the completion test drives.
debian bash-completion /usr/share/bash-completion/bash_completion
debian zsh zsh
# GNU time, whose -v gives the peak RSS make bench's rss.sh checks.
debian time /usr/bin/time
# man, for the help test (git dbsync --help opens a man page).
debian man-db man
# Ruby, whose Psych the yaml codec's tests compare with.
debian ruby ruby
# Chromium and chromedriver, which the web tests drive (TestWebInBrowser).
debian chromium /usr/bin/chromium
debian chromium-driver /usr/bin/chromedriver
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
