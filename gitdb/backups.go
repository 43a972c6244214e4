package gitdb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/backup"
	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Backup describes a backup of an environment's tables.
type Backup = backup.Manifest

// backupDir is where an environment's backups go: [env] backup-dir (per
// environment below it), else the repository's .git/dbsync/backups.
func (w *Workspace) backupDir(gitDir, env string) string {
	base := filepath.Join(gitDir, "dbsync", "backups")
	if e := w.Config.Envs[env]; e != nil && e.BackupDir != "" {
		base = e.BackupDir
		if !filepath.IsAbs(base) {
			base = filepath.Join(w.Root, base)
		}
	}
	return filepath.Join(base, serialize.FileName(env))
}

// taking is a backup to take at the start of a change's transaction.
type taking struct {
	ws       *Workspace
	env      string
	dir      string
	url      string
	manifest *backup.Manifest
}

// newBackup prepares the backup of a change of env ("apply v1.4"), or
// returns nil when the environment takes none.
func (s *session) newBackup(t *ledger.Target, change string) (*taking, error) {
	mode := s.ws.Config.BackupMode(s.env)
	if mode == "none" {
		return nil, nil
	}
	gitDir, err := s.gitDir()
	if err != nil {
		return nil, err
	}
	m := &backup.Manifest{Env: s.env, Before: change, Taken: time.Now().UTC()}
	// Ids sort as the backups were taken (the environment lock makes one
	// at a time), and start with the date a person types.
	m.ID = m.Taken.Format("20060102T150405.000000Z")
	if t.Ledger.Identity != nil {
		m.Identity = t.Ledger.Identity.ID
	}
	if cur := t.Ledger.Current(); cur != nil {
		m.Revision, m.Commit = cur.Revision, cur.Commit
	}
	b := &taking{ws: s.ws, env: s.env, dir: s.ws.backupDir(gitDir, s.env), manifest: m}
	if mode == "database" {
		if b.url, _, err = s.ws.Config.URL(s.env); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// take writes the backup, reading through the change's transaction: the
// config and sequence tables .dbsync names that the target has, and git
// dbsync's own. A backup that fails stops the change.
func (b *taking) take(ctx context.Context, tx dialect.Tx) error {
	names, err := tx.Tables(ctx)
	if err != nil {
		return err
	}
	// The identity stays as it is: a restore is of this very database.
	own := slices.DeleteFunc(slices.Clone(config.OwnTables), func(t string) bool { return t == config.ReservedPrefix+"identity" })
	var tables []string
	for _, name := range names {
		class, _, _ := b.ws.Config.Classify(name)
		if class == config.ClassConfig || class == config.ClassSequence || slices.Contains(own, name) {
			tables = append(tables, name)
		}
	}
	for _, name := range own {
		if !slices.Contains(names, name) { // the first change makes it: a restore empties it
			b.manifest.Tables = append(b.manifest.Tables, backup.Table{Name: name, Absent: true})
		}
	}
	// The ledger's row images are only ever added: where they stand is enough.
	appendOnly := map[string]string{config.ReservedPrefix + "ledger_rows": "seq"}
	if err := backup.Take(ctx, tx, b.dir, b.manifest, tables, appendOnly); err != nil {
		return fmt.Errorf("taking the backup before the change (in %s): %w: nothing written\nhint: fix it, or set backup = none in [env %q] of .dbsync to go without", b.dir, err, b.env)
	}
	if b.url != "" {
		if err := dumpDatabase(ctx, b.url, b.ws.Root, b.manifest.Dir); err != nil {
			return fmt.Errorf("taking the full dump before the change: %w: nothing written", err)
		}
	}
	return nil
}

// done keeps the backup of a change that committed (and the last
// backup-keep of them), or removes that of one that did not.
func (b *taking) done(committed bool, identity string) error {
	if b == nil || b.manifest.Dir == "" {
		return nil
	}
	if !committed {
		return os.RemoveAll(b.manifest.Dir)
	}
	if b.manifest.Identity == "" && identity != "" {
		if err := backup.SetIdentity(b.manifest, identity); err != nil {
			return err
		}
	}
	keep := config.DefaultBackupKeep
	if e := b.ws.Config.Envs[b.env]; e != nil && e.BackupKeep > 0 {
		keep = e.BackupKeep
	}
	return backup.Prune(b.dir, keep)
}

// dumpDatabase writes a full dump of the database with the engine's own
// tool next to the tables' backup: SQLite's VACUUM INTO, pg_dump,
// mariadb-dump or mysqldump.
func dumpDatabase(ctx context.Context, url, root, dir string) error {
	scheme, rest, _ := strings.Cut(url, ":")
	var cmd *exec.Cmd
	switch scheme {
	case "sqlite":
		db, err := dialect.Open(ctx, url, root)
		if err != nil {
			return err
		}
		defer db.Close()
		return db.Query(ctx, "VACUUM INTO ?", []any{filepath.Join(dir, "database.sqlite")}, func([]any) error { return nil })
	case "postgres", "postgresql":
		cmd = exec.CommandContext(ctx, "pg_dump", "--format=custom", "--file="+filepath.Join(dir, "database.pgdump"), url)
	case "mysql", "mariadb":
		tool := "mariadb-dump"
		if _, err := exec.LookPath(tool); err != nil {
			tool = "mysqldump"
		}
		args, err := mysqlDumpArgs(rest)
		if err != nil {
			return err
		}
		cmd = exec.CommandContext(ctx, tool, append(args, "--result-file="+filepath.Join(dir, "database.sql"))...)
	default:
		return fmt.Errorf("no dump tool for %s: URLs", scheme)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", cmd.Args[0], err, dialect.Redact(strings.TrimSpace(string(out))))
	}
	return nil
}

// restoreBlocked refuses a restore that deletes rows other tables, out of
// the backup (content, above all), still refer to through a foreign key
// or a reference .dbsync declares: the engine would refuse it, or cascade
// the delete into them, or leave them dangling.
func (w *Workspace) restoreBlocked(ctx context.Context, tx dialect.Tx, m *Backup, deleted map[string]backup.DeletedKeys) error {
	if len(deleted) == 0 {
		return nil
	}
	inBackup := map[string]bool{}
	for _, t := range m.Tables {
		inBackup[t.Name] = true
	}
	names, err := tx.Tables(ctx)
	if err != nil {
		return err
	}
	var blocked []string
	for _, name := range names {
		if inBackup[name] || config.Reserved(name) {
			continue
		}
		desc, err := tx.Describe(ctx, name)
		if err != nil {
			return err
		}
		refs := map[string]string{} // column → referenced table
		for _, fk := range desc.ForeignKeys {
			if d, ok := deleted[fk.RefTable]; ok && len(fk.Columns) == 1 && slices.Equal(fk.RefColumns, []string{d.Column}) {
				refs[fk.Columns[0]] = fk.RefTable
			}
		}
		if opts := w.Config.Tables[name]; opts != nil {
			for _, r := range opts.References {
				if _, ok := deleted[r.Table]; ok && r.Path == "" && desc.Column(r.Column) != nil {
					refs[r.Column] = r.Table
				}
			}
		}
		for _, col := range slices.Sorted(maps.Keys(refs)) {
			keys := map[string]string{}
			for _, k := range deleted[refs[col]].Keys {
				keys[string(k)] = deleted[refs[col]].Column + "=" + strings.Trim(string(k), `"`)
			}
			which, err := dbrows.Referring(ctx, tx, desc, col, keys)
			if err != nil {
				return err
			}
			if which != "" {
				blocked = append(blocked, fmt.Sprintf("table %q: column %q still refers to rows of %q that the restore deletes: %s", name, col, refs[col], which))
			}
		}
	}
	if len(blocked) > 0 {
		return fmt.Errorf("%s\nnothing written; change or delete those rows first, or restore a later backup", strings.Join(blocked, "\n"))
	}
	return nil
}

// mysqlDumpArgs are the client options that reach the database of a
// mysql: URL (//user:password@host:port/name), the database last.
func mysqlDumpArgs(rest string) ([]string, error) {
	u, err := neturl.Parse("mysql:" + rest)
	if err != nil {
		return nil, err
	}
	args := []string{"--single-transaction", "-u" + u.User.Username(), "-h" + u.Hostname(), "--protocol=tcp"}
	if p, ok := u.User.Password(); ok {
		args = append(args, "-p"+p)
	}
	if u.Port() != "" {
		args = append(args, "-P"+u.Port())
	}
	return append(args, strings.TrimPrefix(u.Path, "/")), nil
}

// Backups lists an environment's backups, newest first.
func (w *Workspace) Backups(env string) (string, []*Backup, error) {
	if env == "" {
		var err error
		if env, err = w.Config.DefaultEnv(); err != nil {
			return "", nil, err
		}
	}
	s, err := w.openRepoOnly()
	if err != nil {
		return env, nil, err
	}
	defer s.close()
	gitDir, err := s.gitDir()
	if err != nil {
		return env, nil, err
	}
	list, err := backup.List(w.backupDir(gitDir, env))
	return env, list, err
}

// RestoreOptions are the inputs of Restore.
type RestoreOptions struct {
	Env     string
	Backup  string // the backup's id, or the start of it; "" for the newest
	Confirm func(*Backup) (bool, error)
	Version string
}

// RestoreResult is what Restore did.
type RestoreResult struct {
	Env    string
	Backup *Backup
	Entry  *Entry
	Counts map[string]backup.Counts
	Notes  []string
}

// Restore puts an environment's tables back as a backup holds them, in
// one transaction recorded in the ledger (whose own tables go back too,
// then gain the restore's entry). It refuses a backup of another database,
// and takes a backup first, like any change.
func (w *Workspace) Restore(ctx context.Context, opts RestoreOptions) (*RestoreResult, error) {
	env, list, err := w.Backups(opts.Env)
	if err != nil {
		return nil, err
	}
	res := &RestoreResult{Env: env}
	for _, m := range list {
		if opts.Backup == "" || strings.HasPrefix(m.ID, opts.Backup) {
			res.Backup = m
			break
		}
	}
	if res.Backup == nil {
		if opts.Backup == "" {
			return res, fmt.Errorf("%q has no backups (see git dbsync backups --env %s)", env, env)
		}
		return res, fmt.Errorf("%q has no backup %q (see git dbsync backups --env %s)", env, opts.Backup, env)
	}
	m := res.Backup
	applied := &ApplyResult{}
	s, t, err := w.openChange(ctx, env, "restore", m.ID, applied)
	res.Notes = applied.Notes
	if err != nil {
		return res, err
	}
	defer s.close()
	defer t.Close()
	if id := t.Ledger.Identity; m.Identity != "" && (id == nil || id.ID != m.Identity) {
		have := "none"
		if id != nil {
			have = id.ID
		}
		return res, fmt.Errorf("backup %s was taken from the database with identity %s; %q has identity %s: it is another database, nothing written", m.ID, m.Identity, env, have)
	}
	path := t.LockPath("restore")
	prev, err := t.Recover(path)
	if err != nil {
		return res, err
	}
	if opts.Confirm != nil {
		if ok, err := opts.Confirm(m); err != nil || !ok {
			return res, errors.Join(ErrDeclined, err)
		}
	}
	bk, err := s.newBackup(t, "restore "+m.ID)
	if err != nil {
		return res, err
	}
	entry := &Entry{ID: lock.NewID(), Kind: KindRestore, Revision: m.Revision, Commit: m.Commit, Env: env,
		At: time.Now().UTC(), Owner: lock.Me(), Version: opts.Version, Note: fmt.Sprintf("restored backup %s, taken before %s", m.ID, m.Before)}
	lf := &lock.File{Env: env, Revision: "restore", Commit: m.Commit, State: lock.Applying,
		Apply: lock.Record{ID: entry.ID, Owner: entry.Owner, Started: entry.At, Note: entry.Note}}
	lf.Supersede(prev)
	err = t.Commit(ctx, &ledger.Change{Entry: entry, Path: path, Prev: prev, Lock: lf, Done: lock.Applied, Record: &lf.Apply,
		Write: func(ctx context.Context, tx dialect.Tx) ([]*merge.TablePlan, error) {
			if bk != nil {
				if err := bk.take(ctx, tx); err != nil {
					return nil, err
				}
			}
			plan, err := backup.PlanRestore(ctx, tx, m)
			if err != nil {
				return nil, err
			}
			if err := w.restoreBlocked(ctx, tx, m, plan.Deleted()); err != nil {
				return nil, err
			}
			res.Counts, err = plan.Write(ctx, tx)
			return nil, err
		}})
	if derr := bk.done(err == nil, entry.Target); err == nil {
		err = derr
	}
	if err != nil {
		return res, err
	}
	res.Entry = entry
	return res, nil
}
