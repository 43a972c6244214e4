package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/gobwas/glob"

	"github.com/gitdbsync/git-dbsync/gitdb/repo"
)

// EnvNames returns the names of the environments in .dbsync, sorted.
func (c *Config) EnvNames() []string {
	var names []string
	for n := range c.Envs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// EnvVar returns the environment variable that overrides an environment's
// URL: DBSYNC_ENV_<NAME>_URL, the name upper-cased, other characters "_".
func EnvVar(env string) string {
	return "DBSYNC_ENV_" + strings.ToUpper(nonAlnum.ReplaceAllString(env, "_")) + "_URL"
}

var nonAlnum = regexp.MustCompile(`[^A-Za-z0-9]`)

// URL returns the database URL of an environment and where it came from:
// the environment variable, then git config dbsync.env.<name>.url (local,
// global or system, as git reads it), then .dbsync.
func (c *Config) URL(env string) (url, source string, err error) {
	return ResolveURL(c.Root, env, c.Envs[env], c.File)
}

// ResolveURL resolves an environment's URL when a .dbsync entry may not
// exist yet (git dbsync init).
func ResolveURL(root, env string, fromFile *Env, file string) (url, source string, err error) {
	if v := os.Getenv(EnvVar(env)); v != "" {
		return v, "$" + EnvVar(env), nil
	}
	if out, err := (repo.Git{Dir: root}).Line("config", "--get", "dbsync.env."+env+".url"); err == nil && out != "" {
		return out, "git config dbsync.env." + env + ".url", nil
	}
	if fromFile != nil && fromFile.URL != "" {
		return fromFile.URL, fromFile.Pos.String(), nil
	}
	return "", "", fmt.Errorf("environment %q has no database URL: set [env %q] url in %s, git config dbsync.env.%s.url, or $%s",
		env, env, file, env, EnvVar(env))
}

// DefaultLockTimeout bounds how long a write waits for a lock another
// session holds, unless an environment sets lock-timeout.
const DefaultLockTimeout = 10 * time.Second

// LockTimeout returns how long writes to an environment wait for a lock.
func (c *Config) LockTimeout(env string) time.Duration {
	if e := c.Envs[env]; e != nil && e.LockTimeout > 0 {
		return e.LockTimeout
	}
	return DefaultLockTimeout
}

// DefaultEnv picks the environment when none is named: "dev" when it
// exists (in .dbsync, git config or $DBSYNC_ENV_DEV_URL), else the only
// one .dbsync names.
func (c *Config) DefaultEnv() (string, error) {
	if _, ok := c.Envs["dev"]; ok || len(c.Envs) == 0 {
		return "dev", nil
	}
	// dev given only by $DBSYNC_ENV_DEV_URL or git config is still dev: a
	// .dbsync whose one [env] section is prod's (to set requires, say)
	// must not make prod the default.
	if _, _, err := c.URL("dev"); err == nil {
		return "dev", nil
	}
	if len(c.Envs) == 1 {
		return c.EnvNames()[0], nil
	}
	return "", fmt.Errorf("%s defines several environments (%s): choose one with --env", c.File, strings.Join(c.EnvNames(), ", "))
}

// Deny returns the table globs an environment's local git config denies
// (git config dbsync.env.<name>.deny "users auth_*", any number of times):
// out of reach of any revision, such tables are never written to it.
//
// git config gives an environment its url and deny only: any other key
// there (backup, say, which belongs in .dbsync) is an error rather than
// a setting silently not applied to a write.
//
// Match the patterns against a lower-cased table name.
func (c *Config) Deny(env string) ([]*glob.Pattern, []string, error) {
	prefix := "dbsync.env." + env + "."
	out, err := (repo.Git{Dir: c.Root}).Output("config", "--get-regexp", "^"+regexp.QuoteMeta(prefix))
	var ge *repo.GitError
	if errors.As(err, &ge) && ge.ExitCode == 1 { // none set
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var denied []string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		name, value, _ := strings.Cut(line, " ")
		key := strings.TrimPrefix(name, prefix)
		switch {
		case key == "url" || strings.Contains(key, "."): // a.b: environment "<env>.a"'s
		case key == "deny":
			denied = append(denied, strings.Fields(value)...)
		default:
			return nil, nil, fmt.Errorf("git config %s: git dbsync takes only url and deny from git config, so this would not be used; an environment's other settings belong in [env %q] of %s. Remove it with 'git config --unset-all %s'",
				name, env, c.File, name)
		}
	}
	var globs []*glob.Pattern
	var texts []string
	for _, g := range denied {
		// Compared without case, as SQLite and MariaDB (on most systems)
		// compare table names: a table.json naming USERS is users there,
		// and deny wins whatever the spelling.
		compiled, err := glob.Compile(strings.ToLower(g))
		if err != nil {
			return nil, nil, fmt.Errorf("git config dbsync.env.%s.deny: bad glob %q: %v", env, g, err)
		}
		globs, texts = append(globs, compiled), append(texts, g)
	}
	return globs, texts, nil
}
