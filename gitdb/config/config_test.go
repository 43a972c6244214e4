package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const sample = `# comment
[dbsync]
	dir = exported
[env "dev"]
	url = sqlite:var/dev.db
[tables]
	config = settings menu_* roles
	config = permissions
	content = posts comments
	cache = cache_*
	ignore = sessions
[table "settings"]
	key = name
	rows = site_* theme_*
	exclude-columns = updated_at
	layout = lines
`

func TestParse(t *testing.T) {
	c, err := Parse("/repo", ".dbsync", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != "exported" || c.Envs["dev"].URL != "sqlite:var/dev.db" || c.Envs["dev"].Pos.Line != 5 {
		t.Errorf("dir/env: %+v %+v", c.Dir, c.Envs["dev"])
	}
	s := c.Tables["settings"]
	if strings.Join(s.Key, ",") != "name" || s.Layout != "lines" || strings.Join(s.ExcludeColumns, ",") != "updated_at" {
		t.Errorf("table settings: %+v", s)
	}
	if !s.InScope([]string{"site_name"}) || s.InScope([]string{"admin_email"}) {
		t.Error("row scope")
	}
	for table, want := range map[string]Class{
		"settings": ClassConfig, "menu_links": ClassConfig, "permissions": ClassConfig,
		"posts": ClassContent, "cache_page": ClassCache, "sessions": ClassIgnore,
		"users": "", "dbsync_ledger": ClassIgnore,
	} {
		got, _, err := c.Classify(table)
		if err != nil || got != want {
			t.Errorf("Classify(%q) = %q, %v; want %q", table, got, err, want)
		}
	}
}

func TestErrorsNameFileLineAndKey(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"unknown class", "[tables]\n\tconfig = a\n\tsettings = b\n", ".dbsync:3: tables.settings: unknown class"},
		{"bad glob", "[tables]\n\tconfig = menu_[\n", ".dbsync:2: tables.config: bad glob"},
		{"unknown table key", "[table \"x\"]\n\tkey = id\n\tkeys = id\n", ".dbsync:3: table.x.keys: unknown key"},
		{"bad layout", "[table \"x\"]\n\tlayout = csv\n", ".dbsync:2: table.x.layout: unknown layout"},
		{"escaping dir", "[dbsync]\n\tdir = ../elsewhere\n", ".dbsync:2: dbsync.dir: export directory"},
		{"git dir", "[dbsync]\n\tdir = .git/db\n", ".dbsync:2: dbsync.dir: export directory"},
		{"unknown section", "[dbsync]\n\tdir = db\n[remote \"x\"]\n\turl = y\n", "unknown section [remote]"},
		{"empty key", "[table \"x\"]\n\tkey =\n", ".dbsync:2: table.x.key: key names no column"},
		{"bad codec", "[table \"x\"]\n\tcodec = data:toml\n", ".dbsync:2: table.x.codec: \"data:toml\": want <column>:json, <column>:php, <column>:php,json or <column>:yaml"},
		{"bad reference", "[table \"x\"]\n\treference = parent_id\n", ".dbsync:2: table.x.reference: want <column>[.<path>] <table> [text|number]"},
		{"second as", "[table \"x\"]\n\treference = v.a x text number\n", ".dbsync:2: table.x.reference: \"number\": want text or number"},
		{"bad none", "[table \"x\"]\n\treference = parent_id x nil=0\n", ".dbsync:2: table.x.reference: \"nil=0\": want text or number (how ids inside values are written) or none="},
		{"text column reference", "[table \"x\"]\n\treference = parent_id x text\n", ".dbsync:2: table.x.reference: \"text\": only ids inside values"},
		{"path-less exclude", "[table \"x\"]\n\texclude-paths = data\n", ".dbsync:2: table.x.exclude-paths: \"data\" names no path"},
	}
	for _, tt := range tests {
		_, err := Parse("/repo", ".dbsync", []byte(tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestTwoClassesIsAnError(t *testing.T) {
	c, err := Parse("/repo", ".dbsync", []byte("[tables]\n\tconfig = menu_*\n\tcontent = posts\n\tcache = *_cache\n\tconfig = menu_links\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Classify("menu_cache")
	if err == nil || !strings.Contains(err.Error(), `.dbsync:4: tables.cache: table "menu_cache" is matched by config "menu_*" and by cache "*_cache" (.dbsync:2`) {
		t.Errorf("got %v", err)
	}
	// The same class twice is fine.
	if class, _, err := c.Classify("menu_links"); err != nil || class != ClassConfig {
		t.Errorf("menu_links: %v %v", class, err)
	}
}

func TestURLPrecedence(t *testing.T) {
	c, _ := Parse(t.TempDir(), ".dbsync", []byte("[env \"prod-eu\"]\n\turl = sqlite:file.db\n"))
	url, src, err := c.URL("prod-eu")
	if err != nil || url != "sqlite:file.db" || src != ".dbsync:2: env.prod-eu.url" {
		t.Errorf("from file: %q %q %v", url, src, err)
	}
	t.Setenv("DBSYNC_ENV_PROD_EU_URL", "sqlite:other.db")
	url, src, _ = c.URL("prod-eu")
	if url != "sqlite:other.db" || src != "$DBSYNC_ENV_PROD_EU_URL" {
		t.Errorf("from environment: %q %q", url, src)
	}
	if _, _, err := c.URL("staging"); err == nil || !strings.Contains(err.Error(), "DBSYNC_ENV_STAGING_URL") {
		t.Errorf("missing env: %v", err)
	}
}

func TestValueOptions(t *testing.T) {
	c, err := Parse("/repo", ".dbsync", []byte("[table \"o\"]\n\tcodec = v:php s:json\n\tsecret = token v.api\\\\.key\n\texclude-paths = v.a.#.b\n"+
		"\treference = \"v.groups.# grp text none=0,-1\"\n\treference = parent_id o none=0 none=''\n\trows = a* !ab*\n\twhere = x > 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Tables["o"]
	if o.Codecs["v"] != "php" || o.Codecs["s"] != "json" {
		t.Errorf("codecs %v", o.Codecs)
	}
	if len(o.Secrets) != 2 || o.Secrets[0].String() != "token" || o.Secrets[1].Column != "v" || o.Secrets[1].Path != `api\.key` {
		t.Errorf("secrets %+v", o.Secrets)
	}
	if len(o.References) != 2 || o.References[0].Path != "groups.#" || o.References[0].Table != "grp" || o.References[0].As != "text" || o.References[1].Column != "parent_id" {
		t.Errorf("references %+v", o.References)
	}
	if !slices.Equal(o.References[0].None, []string{"0", "-1"}) || !slices.Equal(o.References[1].None, []string{"0", ""}) {
		t.Errorf("none= values %q, %q", o.References[0].None, o.References[1].None)
	}
	if o.Where != "x > 1" {
		t.Errorf("where %q", o.Where)
	}
	for key, in := range map[string]bool{"a": true, "abc": false, "b": false, "ax": true} {
		if o.InScope([]string{key}) != in {
			t.Errorf("InScope(%q) = %v", key, !in)
		}
	}
}

// Row globs match a composite key as plan spells it (main, About), a glob
// going on after a comma; the a/b spelling of existing .dbsync files
// matches as before.
func TestRowGlobsSpellKeysAsPlan(t *testing.T) {
	c, err := Parse("/repo", ".dbsync", []byte("[table \"menus\"]\n\trows = main, * footer/L* !main, Hidden !*/Old\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Tables["menus"]
	if !slices.Equal(m.Rows, []string{"main, *", "footer/L*", "!main, Hidden", "!*/Old"}) {
		t.Errorf("rows %q", m.Rows)
	}
	for key, in := range map[[2]string]bool{
		{"main", "About"}: true, {"main", "Hidden"}: false, {"main", "Old"}: false,
		{"footer", "Legal"}: true, {"footer", "About"}: false, {"mainly", "x"}: false,
	} {
		if m.InScope(key[:]) != in {
			t.Errorf("InScope(%q) = %v", key, !in)
		}
	}
}

func TestWhereIsOneExpression(t *testing.T) {
	for where, ok := range map[string]bool{
		"status = 'published'":              true,
		"name LIKE 'a;b%' AND (x > 1)":      true,
		`"odd;name" = 'it''s; fine'`:        true,
		"1=1; DROP TABLE users":             false,
		"1=1) OR (1=1":                      false,
		"x = 1 -- and the rest":             false,
		"x = 1 /* hidden */":                false,
		"name = 'unterminated":              false,
		"name = 'a' ; ":                     false,
		"(x IN (SELECT id FROM t WHERE y))": true,
	} {
		if err := checkWhere(where); (err == nil) != ok {
			t.Errorf("%q: %v", where, err)
		}
	}
}

// With dev's URL in the environment (or git config), a .dbsync naming only
// prod does not make prod the default.
func TestDefaultEnvPrefersDev(t *testing.T) {
	c, err := Parse(t.TempDir(), ".dbsync", []byte("[env \"prod\"]\n\turl = sqlite:prod.db\n\trequires = staging\n"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvVar("dev"), "")
	if env, err := c.DefaultEnv(); err != nil || env != "prod" {
		t.Errorf("without dev anywhere: %q, %v; want the only one, prod", env, err)
	}
	t.Setenv(EnvVar("dev"), "sqlite:dev.db")
	if env, err := c.DefaultEnv(); err != nil || env != "dev" {
		t.Errorf("with $%s: %q, %v; want dev", EnvVar("dev"), env, err)
	}
}

// TestPresetOptionsParse renders every option of every preset rule into a
// .dbsync and loads it: a preset never writes a file Load refuses.
func TestPresetOptionsParse(t *testing.T) {
	for _, name := range PresetNames() {
		p := Presets[name]
		var b strings.Builder
		for i := range p.rules {
			m := PresetMatch{rule: &p.rules[i], prefix: "x_"}
			if lines := m.OptionLines(); len(lines) > 0 {
				fmt.Fprintf(&b, "[table %q]\n%s\n", "x_"+strings.NewReplacer("*", "star", "?", "q").Replace(p.rules[i].base), strings.Join(lines, "\n"))
			}
		}
		if _, err := Parse("/repo", ".dbsync", []byte(b.String())); err != nil {
			t.Errorf("preset %s: %v\n%s", name, err, b.String())
		}
	}
}

// The environment the hooks sync takes no backup by default, unless it
// looks like production: the only [env] of a CI job's .dbsync is prod.
func TestBackupModeDefaults(t *testing.T) {
	t.Setenv("DBSYNC_ENV_DEV_URL", "")
	for _, tt := range []struct{ dbsync, env, want string }{
		{"[env \"dev\"]\n[env \"prod\"]\n", "dev", "none"},
		{"[env \"dev\"]\n[env \"prod\"]\n", "prod", "tables"},
		{"[env \"prod\"]\n\trequires = staging\n", "prod", "tables"},
		{"[env \"qa\"]\n", "qa", "none"},
		{"[env \"qa\"]\n\trequires = dev\n", "qa", "tables"},
		{"[env \"dev\"]\n\tbackup = database\n", "dev", "database"},
		{"[env \"dev\"]\n[env \"prod\"]\n\tbackup = none\n", "prod", "none"},
	} {
		c, err := Parse(t.TempDir(), ".dbsync", []byte(tt.dbsync))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.BackupMode(tt.env); got != tt.want {
			t.Errorf("%q: BackupMode(%s) = %s, want %s", tt.dbsync, tt.env, got, tt.want)
		}
	}
}
