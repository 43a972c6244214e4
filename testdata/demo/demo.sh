#!/bin/sh
# The git dbsync demo: a small CMS on SQLite, its configuration tables
# exported into a throwaway git repository. Run through 'make demo'.
set -eu
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
PATH="$bin:$PATH"
export PATH GIT_CONFIG_NOSYSTEM=1
demo=$(mktemp -d "${TMPDIR:-/tmp}/dbsync-demo.XXXXXX")
cd "$demo"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "A fresh repository for a small CMS, with its development database (var/dev.db)"
run git init -q -b main .
git config user.name "Demo Developer"
git config user.email demo@example.org
printf 'var/\n' > .gitignore
mkdir -p var
run sqlexec var/dev.db "$here/cms.sql"

step "git dbsync init: inspect the database and suggest a class for every table"
run git dbsync init --url sqlite:var/dev.db
run cat .dbsync

step "git dbsync export: the config tables become canonical JSON files under db/"
run git dbsync export
run find db -name '*.json' -path '*settings*'
run cat db/settings/rows/theme_colors.json
run cat db/menu_items/table.json

step "Commit the configuration with the code"
run git add .gitignore .dbsync db
run git commit -q -m "Site configuration"
run git show --stat --format='%h %s' HEAD

step "An editor changes a setting through the admin UI; export shows exactly what changed"
run sqlexec var/dev.db -q "UPDATE settings SET value = 'Everything grows, faster' WHERE name = 'site_tagline'"
run git dbsync export --check || true
run git dbsync export
run git diff

echo
echo "The demo repository is $demo"
