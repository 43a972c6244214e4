package gitdb

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// A revision is trusted only as far as its configuration goes: whoever can
// push a tag must not get writes that .dbsync says never happen. Before
// anything is planned, every table directory of the revision is checked:
// it is the directory of the table its table.json names, it has one
// layout, its table is exported (class config) by the revision's .dbsync,
// is not git dbsync's own, is not denied by the target environment's local
// git config, and refers only to tables the revision exports.

// checkFiles proves the tables of a revision fit its .dbsync and the
// environment env.
func (w *Workspace) checkFiles(fs *fileSet, env string) error {
	deny, denyText, err := w.Config.Deny(env)
	if err != nil {
		return err
	}
	exported := map[string]string{} // table → its directory
	for _, tf := range fs.tables {
		exported[tf.Meta.Name] = tf.Dir
	}
	for _, tf := range fs.tables {
		meta, file := tf.Meta, tf.Dir+"/"+serialize.MetaFile
		where := func(format string, args ...any) error {
			return fmt.Errorf("%s at %s: %s", file, fs.name, fmt.Sprintf(format, args...))
		}
		if want := path.Join(fs.cfg.Dir, serialize.TableDir(meta.Name)); tf.Dir != want {
			return where("names table %q, whose files belong in %s/: a directory holds the table it is named for", meta.Name, want)
		}
		if tf.Lines != nil && len(tf.Rows) > 0 {
			return fmt.Errorf("%s at %s: holds both %s/ and %s: a table has one layout", tf.Dir, fs.name, serialize.RowsDir, serialize.LinesFile)
		}
		if config.Reserved(meta.Name) {
			return where("table %q is git dbsync's own: it is never written from files", meta.Name)
		}
		class, _, err := fs.cfg.Classify(meta.Name)
		if err != nil {
			return err
		}
		if class != config.ClassConfig && class != config.ClassSequence {
			if class == "" {
				class = "none"
			}
			return where("table %q is of class %s in %s at %s, not config: its files are never applied", meta.Name, class, config.FileName, fs.name)
		}
		for i, g := range deny {
			if g.Match(meta.Name) {
				return where("table %q is denied to %q by git config dbsync.env.%s.deny (%s): it is never written there", meta.Name, env, env, denyText[i])
			}
		}
		for _, r := range meta.References {
			if _, ok := exported[r.Table]; !ok {
				return where("column %s refers to table %q, which %s does not export", strings.Join(r.Columns, ", "), r.Table, fs.name)
			}
		}
	}
	return nil
}

// scopeChanges lists how the revision's .dbsync widens or moves what is
// written compared with the revision the target is at: a table newly of
// class config, a new or changed row scope (where, rows), a new key. An
// apply with any needs AllowScopeChange.
func scopeChanges(base, theirs *fileSet) []string {
	var out []string
	for _, tf := range theirs.tables {
		name := tf.Meta.Name
		was, _, _ := base.cfg.Classify(name)
		if was != config.ClassConfig && was != config.ClassSequence {
			if was == "" {
				was = "none"
			}
			out = append(out, fmt.Sprintf("table %q: class %s → config", name, was))
			continue
		}
		old, now := base.cfg.Tables[name], theirs.cfg.Tables[name]
		if o, n := tableWhere(old), tableWhere(now); o != n {
			out = append(out, fmt.Sprintf("table %q: where %s → %s", name, quoteOrNone(o), quoteOrNone(n)))
		}
		if o, n := tableRows(old), tableRows(now); !slices.Equal(o, n) {
			out = append(out, fmt.Sprintf("table %q: rows %s → %s", name, quoteOrNone(strings.Join(o, " ")), quoteOrNone(strings.Join(n, " "))))
		}
	}
	return out
}

func tableWhere(t *config.Table) string {
	if t == nil {
		return ""
	}
	return t.Where
}

func tableRows(t *config.Table) []string {
	if t == nil {
		return nil
	}
	return t.Rows
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", s)
}

// ScopeError refuses an apply whose revision changes what may be written.
type ScopeError struct {
	Env     string
	Changes []string
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("the revision changes what is written to %q:\n  %s\nnothing written\nhint: review the .dbsync change; apply with --allow-scope-change to accept it",
		e.Env, strings.Join(e.Changes, "\n  "))
}
