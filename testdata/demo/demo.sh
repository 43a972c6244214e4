#!/bin/sh
# The git dbsync demo: a small CMS on SQLite. Its configuration tables are
# exported into a throwaway git repository, tagged, and applied to a second
# database standing for production, where an editor's change survives the
# next release, a conflict is shown and resolved, and a release is rolled
# back. Run through 'make demo'.
set -eu
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
PATH="$bin:$PATH"
export PATH GIT_CONFIG_NOSYSTEM=1
demo=$(mktemp -d "${TMPDIR:-/tmp}/dbsync-demo.XXXXXX")
cd "$demo"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
sql() { printf '$ sqlexec %s -q "%s"\n' "$1" "$2"; sqlexec "$1" -q "$2"; }

step "1. A repository for a small CMS, with its development database var/dev.db"
run git init -q -b main .
git config user.name "Demo Developer"
git config user.email demo@example.org
printf 'var/\n' > .gitignore
mkdir -p var
run sqlexec var/dev.db "$here/../fixtures/cms.sql"

step "2. git dbsync init inspects the database and suggests a class for every table"
run git dbsync init --url sqlite:var/dev.db
say "Production is a second database; its URL could also live in git config or \$DBSYNC_ENV_PROD_URL."
printf '[env "prod"]\n\turl = sqlite:var/prod.db\n[table "settings"]\n\texclude-columns = updated_at\n' >> .dbsync
run cat .dbsync

step "3. git dbsync export writes the config tables as canonical JSON files under db/"
run git dbsync export
run cat db/settings/rows/theme_colors.json

step "4. Commit and tag release v1.0; production starts as a copy of it"
run git add .gitignore .dbsync db
run git commit -q -m "Site configuration"
run git tag v1.0
run cp var/dev.db var/prod.db
say "The first apply records v1.0 in production's ledger (nothing differs, so no rows change):"
run git dbsync apply v1.0 --env prod --yes

step "5. Development goes on: a new tagline, a renamed menu item, a new role"
sql var/dev.db "UPDATE settings SET value = 'Everything grows, faster' WHERE name = 'site_tagline'"
sql var/dev.db "UPDATE menu_items SET title = 'Garden tools' WHERE id = 4"
sql var/dev.db "INSERT INTO roles VALUES (4, 'reviewer', 3)"
run git dbsync export
run git add db
run git commit -q -m "Tagline, menu, reviewer role"
run git tag v1.1

step "6. Meanwhile an editor changes production: the site name, and the order of that same menu item"
sql var/prod.db "UPDATE settings SET value = 'Acme Garden Supplies Ltd' WHERE name = 'site_name'"
sql var/prod.db "UPDATE menu_items SET weight = 9 WHERE id = 4"

step "7. git dbsync plan shows the three-way merge: base v1.0, theirs v1.1, ours = production now"
run git dbsync plan v1.1 --env prod
say "The editor's changes are not in the plan: they are kept."

step "8. git dbsync apply writes the plan in one transaction, with a ledger entry and a lock file"
run git dbsync apply v1.1 --env prod --yes
run sqlexec var/prod.db -q "SELECT title, weight FROM menu_items WHERE id = 4"
run sqlexec var/prod.db -q "SELECT value FROM settings WHERE name = 'site_name'"

step "9. A conflict: both sides change posts_per_page"
sql var/dev.db "UPDATE settings SET value = '20' WHERE name = 'posts_per_page'"
run git dbsync export
run git commit -q -am "Show more posts"
run git tag v1.2
sql var/prod.db "UPDATE settings SET value = '12' WHERE name = 'posts_per_page'"
run git dbsync apply v1.2 --env prod --yes || say "(exit status $?: nothing was written)"
say "Resolve it by taking the release's value:"
run git dbsync apply v1.2 --env prod --yes --theirs

step "10. Roll v1.2 back: the before-image returns, later edits elsewhere stay"
sql var/prod.db "UPDATE menus SET label = 'Footer links' WHERE name = 'footer'"
run git dbsync rollback v1.2 --env prod --yes
run sqlexec var/prod.db -q "SELECT name, value FROM settings WHERE name = 'posts_per_page'"
run sqlexec var/prod.db -q "SELECT label FROM menus WHERE name = 'footer'"

step "11. git dbsync status: identity, where production stands, drift, pending tags, history"
run git dbsync status --env prod

echo
echo "The demo repository is $demo"
