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
	tables   []string // the tables to save; nil: the config and sequence tables
}

// newBackup prepares the backup of a change of env ("apply v1.4"), or
// returns nil when the environment takes none, or the change is none
// ("").
func (s *session) newBackup(t *ledger.Target, change string) (*taking, error) {
	mode := s.ws.Config.BackupMode(s.env)
	if mode == "none" || change == "" {
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
	if n := len(t.Ledger.Entries); n > 0 {
		m.LedgerSeq = t.Ledger.Entries[n-1].Seq
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
// config and sequence tables .dbsync names that the target has. git
// dbsync's own tables are not in it: the ledger only grows, and a restore
// appends its own entry.
func (b *taking) take(ctx context.Context, tx dialect.Tx) error {
	names, err := tx.Tables(ctx)
	if err != nil {
		return err
	}
	tables := b.tables
	if tables == nil { // git dbsync's own are of no class
		tables = b.ws.Config.OfClass(names, config.ClassConfig, config.ClassSequence)
	}
	if err := backup.Take(ctx, tx, b.dir, b.manifest, tables); err != nil {
		if errors.As(err, new(*dialect.BusyError)) { // waited: nothing to fix
			return fmt.Errorf("taking the backup before the change: %w: nothing written", err)
		}
		return fmt.Errorf("taking the backup before the change (in %s): %w: nothing written\nhint: fix it, or set backup = none in [env %q] of .dbsync to go without", b.dir, err, b.env)
	}
	if b.url != "" {
		if err := dumpDatabase(ctx, b.url, b.ws.Root, b.manifest.Dir); err != nil {
			return fmt.Errorf("taking the full dump before the change: %w: nothing written", err)
		}
	}
	return nil
}

// backupPlanned takes the running change's backup (s.backup, nil for
// none) once its plan is made in its transaction: of the tables the plan
// writes, and the sequence tables .dbsync names that the target has
// (their counters move after the writes). A table the change leaves
// alone is not read: a restore takes it from the backup of the first
// later change that wrote it (restoreScope).
func (s *session) backupPlanned(ctx context.Context, tx dialect.Tx, plans []*merge.TablePlan) error {
	tables := []string{}
	for _, tp := range plans {
		if tp.Ops.Len() > 0 { // inserts, updates, deletes
			tables = append(tables, tp.Meta.Name)
		}
	}
	return s.backupTables(ctx, tx, tables)
}

// backupTables takes the running change's backup (s.backup, nil for
// none) of tables and of the sequence tables, in its transaction.
func (s *session) backupTables(ctx context.Context, tx dialect.Tx, tables []string) error {
	if s.backup == nil {
		return nil
	}
	names, err := tx.Tables(ctx)
	if err != nil {
		return err
	}
	tables = append([]string{}, tables...) // nil would mean every config table
	for _, name := range s.ws.Config.OfClass(names, config.ClassSequence) {
		if !slices.Contains(tables, name) {
			tables = append(tables, name)
		}
	}
	s.backup.tables = tables
	return s.backup.take(ctx, tx)
}

// done keeps the backup of a change that committed (and the last
// backup-keep of them, removing what killed runs left), or removes that
// of one that did not. It says how many leftovers it removed.
func (b *taking) done(committed bool, identity string) (int, error) {
	if b == nil || b.manifest.Dir == "" {
		return 0, nil
	}
	if !committed {
		return 0, os.RemoveAll(b.manifest.Dir)
	}
	if b.manifest.Identity == "" && identity != "" {
		if err := backup.SetIdentity(b.manifest, identity); err != nil {
			return 0, err
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
				if _, ok := deleted[r.Table]; ok && r.Path == "" && !r.InText() && desc.Column(r.Column) != nil {
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
	DeployOptions
}

// RestoreResult is what Restore did.
type RestoreResult struct {
	Env    string
	Backup *Backup
	Entry  *Entry
	Counts map[string]backup.Counts
	Notes  []string
	Steps  []StepResult // the environment's deploy steps as they went
}

// Restore puts an environment's tables back as a backup holds them, in
// one transaction with a ledger entry of its own that counts what it
// wrote. git dbsync's own tables are never put back: every earlier entry
// stays, and the applies recorded after the backup read as undone by the
// restore. It refuses a backup of another database, and is one kind of
// change (see change): a backup first, the environment's steps around it.
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
	c := &change{kind: "restore", env: env, name: m.ID, steps: true, deploy: opts.DeployOptions, backup: func(*Entry) string { return "restore " + m.ID },
		lockFile: func(*session, *ledger.Target) (string, error) { return "restore", nil },
		prepare: func(ctx context.Context, s *session, t *ledger.Target, prev *lock.File, _ *ApplyResult) (*ledger.Change, error) {
			return w.prepareRestore(t, m, list, opts, prev, res)
		}}
	applied := &ApplyResult{}
	err = w.runChange(ctx, c, applied)
	res.Notes, res.Entry, res.Steps = applied.Notes, applied.Entry, applied.Steps
	return res, err
}

// prepareRestore checks the backup is of this database (prev is the
// restores' lock file) and asks; the change it returns plans the restore
// inside its transaction.
func (w *Workspace) prepareRestore(t *ledger.Target, m *Backup, list []*Backup, opts RestoreOptions, prev *lock.File, res *RestoreResult) (*ledger.Change, error) {
	if id := t.Ledger.Identity; m.Identity != "" && (id == nil || id.ID != m.Identity) {
		have := "none"
		if id != nil {
			have = id.ID
		}
		return nil, fmt.Errorf("backup %s was taken from the database with identity %s; %q has identity %s: it is another database, nothing written", m.ID, m.Identity, t.Env, have)
	}
	since, err := backupLedgerSeq(m)
	if err != nil {
		return nil, err
	}
	scope, err := w.restoreScope(t.Ledger, m, list, since)
	if err != nil {
		return nil, err
	}
	if opts.Confirm != nil {
		if ok, err := opts.Confirm(m); err != nil || !ok {
			return nil, errors.Join(ErrDeclined, err)
		}
	}
	entry := &Entry{ID: lock.NewID(), Kind: KindRestore, Revision: m.Revision, Commit: m.Commit, Env: t.Env, Undoes: since,
		At: time.Now().UTC(), Owner: lock.Me(), Version: opts.Version, Note: fmt.Sprintf("restored backup %s, taken before %s", m.ID, m.Before)}
	lf := &lock.File{Env: t.Env, Revision: "restore", Commit: m.Commit, State: lock.Applying,
		Apply: lock.Record{ID: entry.ID, Owner: entry.Owner, Started: entry.At, Note: entry.Note}}
	lf.Supersede(prev)
	return &ledger.Change{Entry: entry, Prev: prev, Lock: lf, Done: lock.Applied, Record: &lf.Apply,
		Write: func(ctx context.Context, tx dialect.Tx) ([]*merge.TablePlan, error) {
			plan, err := backup.PlanRestore(ctx, tx, scope)
			if err != nil {
				return nil, err
			}
			if err := w.restoreBlocked(ctx, tx, scope, plan.Deleted()); err != nil {
				return nil, err
			}
			if res.Counts, err = plan.Write(ctx, tx); err != nil {
				return nil, err
			}
			entry.Summary = map[string]lock.Counts{}
			for table, c := range res.Counts {
				if c != (backup.Counts{}) {
					entry.Summary[table] = lock.Counts{Inserted: c.Inserted, Updated: c.Updated, Deleted: c.Deleted}
				}
			}
			return nil, nil
		}}, nil
}

// restoreScope is what a restore of a backup writes: the tables the
// changes since it wrote (as the ledger recorded them: an apply's, a
// pull's content tables), so that a table none of them touched keeps
// what editors did there since. A backup is data, not instructions: its
// manifest is a file anyone with the folder can edit, and one that names
// a table neither .dbsync's config and sequence tables nor one of those
// is refused. With no such record (a backup of an earlier version),
// every table of the backup in scope is written.
//
// An apply's backup holds only the tables it writes: a table a later
// change wrote first is taken from that change's backup (of list, the
// environment's backups), which holds it as it stood before any change
// since m wrote it. Without that backup (pruned, or taken with backup =
// none) the restore is refused.
func (w *Workspace) restoreScope(l *ledger.Ledger, m *Backup, list []*Backup, since int64) (*Backup, error) {
	wrote := map[string]bool{}
	first := map[string]*Entry{} // the first change since m that wrote rows of each table
	for i, e := range l.Entries {
		if e.Seq > since {
			for table, c := range e.Summary {
				if !c.Wrote() { // rows it only kept
					continue
				}
				wrote[table] = true
				if first[table] == nil && c.Inserted+c.Updated+c.Deleted > 0 {
					first[table] = &l.Entries[i]
				}
			}
		}
	}
	out := appTables(m)
	for _, t := range out.Tables {
		if !wrote[t.Name] && len(w.Config.OfClass([]string{t.Name}, config.ClassConfig, config.ClassSequence)) == 0 {
			return nil, fmt.Errorf("backup %s holds table %q, which is neither a config or sequence table of %s nor one the changes since it wrote (ledger): a restore does not write it; nothing written", m.ID, t.Name, w.Config.File)
		}
	}
	if len(wrote) == 0 {
		return out, nil
	}
	out.Tables = slices.DeleteFunc(out.Tables, func(t backup.Table) bool { return !wrote[t.Name] })
	for _, table := range slices.Sorted(maps.Keys(wrote)) {
		if first[table] == nil || config.Reserved(table) || slices.ContainsFunc(out.Tables, func(t backup.Table) bool { return t.Name == table }) {
			continue
		}
		t, err := laterBackupOf(table, first[table], m, list)
		if err != nil {
			return nil, err
		}
		out.Tables = append(out.Tables, *t)
	}
	return out, nil
}

// laterBackupOf finds table in the newest backup of list taken after m
// and before e, the first change since m that wrote it: there it stands
// as no change since m left it.
func laterBackupOf(table string, e *Entry, m *Backup, list []*Backup) (*backup.Table, error) {
	for _, b := range list { // newest first
		if b.LedgerSeq < e.Seq && b.Taken.After(m.Taken) && (b.Identity == "" || m.Identity == "" || b.Identity == m.Identity) {
			for _, t := range b.Tables {
				if t.Name == table {
					t.Dir = b.Dir
					return &t, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("backup %s does not hold table %q, which %s (ledger entry #%d) wrote since, and no later backup taken before that change holds it (pruned, or taken with backup = none): a restore cannot put it back; nothing written",
		m.ID, table, e.Kind+" "+e.Revision, e.Seq)
}

// appTables is the backup without git dbsync's own tables, which
// backups taken by earlier versions hold: a restore never puts them back.
func appTables(m *Backup) *Backup {
	out := *m
	out.Tables = slices.DeleteFunc(slices.Clone(m.Tables), func(t backup.Table) bool { return config.Reserved(t.Name) })
	return &out
}

// backupLedgerSeq is the last ledger entry when the backup was taken;
// for a backup of an earlier version, which did not record it, the last
// entry of the ledger table it holds.
func backupLedgerSeq(m *Backup) (int64, error) {
	if m.LedgerSeq > 0 {
		return m.LedgerSeq, nil
	}
	return backup.MaxOf(m, config.ReservedPrefix+"ledger", "seq")
}
