package gitdb

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/exportdir"
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
			if g.Match(strings.ToLower(meta.Name)) {
				return where("table %q is denied to %q by git config dbsync.env.%s.deny (%s): it is never written there", meta.Name, env, env, denyText[i])
			}
		}
		for _, r := range meta.References {
			_, ok := exported[r.Table]
			if class, _, _ := fs.cfg.Classify(r.Table); !ok && (class == config.ClassConfig || fs.cfg.Tables[r.Table] == nil || len(fs.cfg.Tables[r.Table].Key) == 0) {
				return where("column %s refers to table %q, which %s neither exports nor declares a key of", strings.Join(r.Columns, ", "), r.Table, fs.name)
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
		out = append(out, widened(name, old, now)...)
	}
	return out
}

// widened lists what a table's options at the revision stop keeping out
// of the files or the target, compared with the base's: a secret or an
// excluded column or path dropped (the target's values would be printed
// and overwritten), a reference or a codec changed (values read and
// written otherwise).
func widened(name string, old, now *config.Table) []string {
	if old == nil {
		old = &config.Table{}
	}
	if now == nil {
		now = &config.Table{}
	}
	var out []string
	for _, x := range []struct {
		what     string
		old, now []string
	}{
		{"secret", paths(old.Secrets), paths(now.Secrets)},
		{"exclude-columns", old.ExcludeColumns, now.ExcludeColumns},
		{"exclude-paths", paths(old.ExcludePaths), paths(now.ExcludePaths)},
	} {
		for _, p := range x.old {
			if !slices.Contains(x.now, p) {
				out = append(out, fmt.Sprintf("table %q: %s %s dropped", name, x.what, p))
			}
		}
	}
	if o, n := referenceTexts(old.References), referenceTexts(now.References); !slices.Equal(o, n) {
		out = append(out, fmt.Sprintf("table %q: references %s → %s", name, quoteOrNone(strings.Join(o, ", ")), quoteOrNone(strings.Join(n, ", "))))
	}
	for _, col := range unionKeys(old.Codecs, now.Codecs) {
		if old.Codecs[col] != now.Codecs[col] {
			out = append(out, fmt.Sprintf("table %q: column %q: codec %s → %s", name, col, quoteOrNone(old.Codecs[col]), quoteOrNone(now.Codecs[col])))
		}
	}
	return out
}

func paths(cps []config.ColumnPath) []string {
	out := make([]string, len(cps))
	for i, c := range cps {
		out[i] = c.String()
	}
	return out
}

func referenceTexts(refs []config.Reference) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ColumnPath.String() + " " + r.Table + " " + strings.Join(r.Formats, " ")
		if r.WhereColumn != "" {
			out[i] += " where " + r.WhereColumn + " in " + strings.Join(r.WhereIn, ",")
		}
	}
	slices.Sort(out)
	return out
}

func unionKeys(a, b map[string]string) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
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

// unionSecrets returns cfg with the secrets of the other configurations
// too (the target's revision's, the working tree's), table by table.
func unionSecrets(cfg *config.Config, others ...*config.Config) *config.Config {
	out := *cfg
	out.Tables = maps.Clone(cfg.Tables)
	for _, o := range others {
		for name, t := range o.Tables {
			if len(t.Secrets) == 0 {
				continue
			}
			var opts config.Table
			if mine := out.Tables[name]; mine != nil {
				opts = *mine
			}
			have := paths(opts.Secrets)
			added := false
			for _, sec := range t.Secrets {
				if !slices.Contains(have, sec.String()) {
					opts.Secrets = append(slices.Clip(opts.Secrets), sec)
					have, added = append(have, sec.String()), true
				}
			}
			if added {
				opts.Name = name
				out.Tables[name] = &opts
			}
		}
	}
	return &out
}

// keepSecrets returns cfg with the secrets of the other configurations
// (the base's, the working tree's), and the revision's tables as the
// target is read: their metadata marks those whole-column secrets (the
// files' metadata stays the revision's).
func keepSecrets(cfg *config.Config, tables []exportdir.TableFiles, others ...*config.Config) (*config.Config, []exportdir.TableFiles) {
	out := unionSecrets(cfg, others...)
	read := slices.Clone(tables)
	for j, tf := range tables {
		opts := out.Tables[tf.Meta.Name]
		if opts == nil {
			continue
		}
		for _, sec := range opts.Secrets {
			i := tf.Meta.Index(sec.Column)
			if sec.Path != "" || i < 0 || tf.Meta.Columns[i].Secret {
				continue
			}
			if read[j].Meta == tf.Meta {
				m := *tf.Meta
				m.Columns = slices.Clone(tf.Meta.Columns)
				read[j].Meta = &m
			}
			read[j].Meta.Columns[i].Secret = true
		}
	}
	return out, read
}
