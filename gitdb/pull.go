package gitdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gobwas/glob"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dbrows"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/gitdb/ledger"
	"github.com/gitdbsync/git-dbsync/gitdb/lock"
	"github.com/gitdbsync/git-dbsync/gitdb/merge"
	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
)

// PullOptions are the inputs of Pull.
type PullOptions struct {
	From, To string   // the environments copied from and into ("" To: the one the hooks sync)
	Config   bool     // also the config tables (else the content ones only)
	Tables   []string // globs narrowing the tables
	// Confirm, when set, is asked before anything is written, with the
	// tables about to be replaced; false stops the pull.
	Confirm func(*PullResult) (bool, error)
	Version string // recorded in the ledger
	DeployOptions
}

// PullResult is what Pull copied, or would copy when not confirmed.
type PullResult struct {
	From, To string
	Tables   []PulledTable
	Notes    []string     // what was settled on the way (a stale lock)
	Declined bool         // Confirm said no: nothing written
	Steps    []StepResult // the target environment's deploy steps as they went
	Backup   *Backup      // the backup of the target's tables taken first
	Entry    *Entry       // the target's ledger entry of the pull
}

// PulledTable is one table a pull replaced.
type PulledTable struct {
	Table    string
	Class    config.Class
	Where    string   // the rows replaced: those that meet this SQL condition ("" for all)
	Rows     []string // and, for a config table scoped by key, whose key matches these globs
	Limit    int64
	Redacted []string // the columns (and paths) a rule rewrote
	Kept     []string // columns the target has and the source does not: left to their defaults
	// KeptValues are a config table's excluded columns: the target keeps
	// its values of them in the rows it has too.
	KeptValues []string
	Deleted    int64 // the target's rows in scope before
	Copied     int64
}

// Pull copies the rows of one environment's content tables (with Config,
// its config tables too) into another, replacing the target's rows in
// scope: every row, or those [pull "table"] where selects. Values go
// through the redact rules before they reach the target, and a column that
// looks like it holds addresses, password hashes or tokens without a rule
// stops the pull. The target keeps its own tables of the other classes,
// its ledger and identity. Everything is written in one transaction, in
// which foreign keys are checked before COMMIT; sequences end past the
// copied ids.
func (w *Workspace) Pull(ctx context.Context, opts PullOptions) (*PullResult, error) {
	if opts.From == "" {
		return nil, errors.New("name the environment to pull from: --from NAME")
	}
	if opts.To == "" {
		to, err := w.Config.DefaultEnv()
		if err != nil {
			return nil, err
		}
		opts.To = to
	}
	if opts.From == opts.To {
		return nil, fmt.Errorf("--from and --to both name %q: pull copies between two environments", opts.From)
	}
	if err := w.checkPullTarget(opts.To); err != nil {
		return nil, err
	}
	src, err := w.openRead(ctx, opts.From)
	if err != nil {
		return nil, err
	}
	defer src.close()
	// Before the target is opened for the change (whose identity check
	// would take the source for a copy of it, and hint at --adopt).
	dst, err := w.openRead(ctx, opts.To)
	if err != nil {
		return nil, err
	}
	err = sameDatabase(ctx, src.db, dst.db, opts)
	dst.close()
	if err != nil {
		return nil, err
	}
	res := &PullResult{From: opts.From, To: opts.To}
	var copies []*tableCopy
	c := &change{kind: KindPull, env: opts.To, name: opts.From, steps: true, deploy: opts.DeployOptions, backup: func(*Entry) string { return "pull from " + opts.From },
		writes: func() []string {
			names := make([]string, len(copies))
			for i, c := range copies {
				names[i] = c.result.Table
			}
			return names
		},
		prepare: func(ctx context.Context, s *session, t *ledger.Target, _ *lock.File, _ *ApplyResult) (*ledger.Change, error) {
			res.Notes = t.Notes
			var err error
			if copies, err = w.preparePull(ctx, src, s, opts, res); err != nil || res.Declined {
				return nil, err
			}
			entry := &Entry{ID: lock.NewID(), Kind: KindPull, Revision: "from " + opts.From, Env: s.env, At: time.Now().UTC(), Owner: lock.Me(), Version: opts.Version}
			return &ledger.Change{Entry: entry, Load: true, Write: func(ctx context.Context, tx dialect.Tx) ([]*merge.TablePlan, error) {
				repoints, err := w.planRepoints(ctx, tx, copies)
				if err != nil {
					return nil, err
				}
				if err := w.writeCopies(ctx, tx, copies); err != nil {
					return nil, err
				}
				for _, rp := range repoints {
					n, err := rp.apply(ctx, tx, w.Config)
					if err != nil {
						return nil, err
					}
					if n > 0 {
						res.Notes = append(res.Notes, fmt.Sprintf("re-pointed %d reference(s) of the configuration to the pulled rows of %q, by key", n, rp.table))
					}
				}
				entry.Summary = map[string]lock.Counts{}
				for i, c := range copies {
					res.Tables[i] = c.result
					entry.Summary[c.result.Table] = lock.Counts{Inserted: int(c.result.Copied), Deleted: int(c.result.Deleted)}
				}
				return nil, nil
			}}, nil
		}}
	applied := &ApplyResult{}
	err = w.runChange(ctx, c, applied)
	res.Steps, res.Backup, res.Entry = applied.Steps, applied.Backup, applied.Entry
	if err != nil {
		return nil, err
	}
	return res, nil
}

// preparePull lists the tables to copy with their redaction, and asks.
func (w *Workspace) preparePull(ctx context.Context, src, dst *session, opts PullOptions, res *PullResult) ([]*tableCopy, error) {
	copies, err := w.pullScope(ctx, src.db, dst.db, opts)
	if err != nil {
		return nil, err
	}
	gitDir, err := dst.gitDir()
	if err != nil {
		return nil, err
	}
	key, err := redactKey(gitDir)
	if err != nil {
		return nil, err
	}
	for _, c := range copies {
		if err := c.prepare(ctx, w.Config, key); err != nil {
			return nil, err
		}
		res.Tables = append(res.Tables, c.result)
	}
	if err := w.translateIDs(ctx, copies); err != nil {
		return nil, err
	}
	if opts.Confirm != nil {
		ok, err := opts.Confirm(res)
		if err != nil {
			return nil, err
		}
		res.Declined = !ok
	}
	return copies, nil
}

// checkPullTarget refuses an environment pull may not write into: only
// those .dbsync marks pull-target = true, or the one the hooks sync when
// nothing about it says production (a name like prod or live, requires).
func (w *Workspace) checkPullTarget(env string) error {
	e := w.Config.Envs[env]
	mark := ""
	if e != nil {
		mark = e.PullTarget
	}
	hint := fmt.Sprintf("\nhint: if %q is yours to overwrite, set pull-target = true in [env %q] of %s", env, env, w.Config.File)
	switch mark {
	case "true":
		return nil
	case "false":
		return fmt.Errorf("environment %q is marked pull-target = false in %s: pull does not write into it", env, w.Config.File)
	}
	if hooks, _ := w.Config.DefaultEnv(); hooks != env {
		return fmt.Errorf("pull writes only into environments marked pull-target = true in %s, or the one the hooks sync (%q); %q is neither%s", w.Config.File, hooks, env, hint)
	}
	if why := w.Config.ProductionLike(env); why != "" {
		return fmt.Errorf("environment %q looks like production (%s): pull does not write into it unless .dbsync allows it%s", env, why, hint)
	}
	return nil
}

// sameDatabase refuses a pull whose two environments are one database:
// by what the databases are (the same file, the same server and
// database, a standby of it), not by their URLs' text; and by their
// identities, once both have one.
func sameDatabase(ctx context.Context, src, dst dialect.Dialect, opts PullOptions) error {
	same, err := dialect.SameDatabase(ctx, src, dst)
	if err != nil {
		return err
	}
	if same {
		return fmt.Errorf("%q and %q reach the same database (their URLs differ, the database is one): nothing to pull", opts.From, opts.To)
	}
	a, err := ledger.Read(ctx, src)
	if err != nil {
		return err
	}
	b, err := ledger.Read(ctx, dst)
	if err != nil {
		return err
	}
	if a.Identity != nil && b.Identity != nil && a.Identity.ID == b.Identity.ID {
		return fmt.Errorf("%q and %q are the same database (identity %s): nothing to pull", opts.From, opts.To, a.Identity.ID)
	}
	return nil
}

// pullScope lists the tables to copy: the source's content tables (and
// config ones with Config), narrowed by the globs, parents first.
func (w *Workspace) pullScope(ctx context.Context, src, dst dialect.Dialect, opts PullOptions) ([]*tableCopy, error) {
	globs := make([]*glob.Pattern, len(opts.Tables))
	for i, g := range opts.Tables {
		var err error
		if globs[i], err = glob.Compile(g); err != nil {
			return nil, fmt.Errorf("--table %q is not a glob: %v", g, err)
		}
	}
	names, err := src.Tables(ctx)
	if err != nil {
		return nil, err
	}
	matched := make([]bool, len(globs))
	var copies []*tableCopy
	for _, name := range names {
		class, _, err := w.Config.Classify(name)
		if err != nil {
			return nil, err
		}
		if class != config.ClassContent && (class != config.ClassConfig || !opts.Config) {
			continue
		}
		if len(globs) > 0 {
			hit := false
			for i, g := range globs {
				if g.Match(name) {
					hit, matched[i] = true, true
				}
			}
			if !hit {
				continue
			}
		}
		c := &tableCopy{src: src, dst: dst, from: opts.From, to: opts.To, result: PulledTable{Table: name, Class: class}}
		if c.srcDesc, err = src.Describe(ctx, name); err != nil {
			return nil, err
		}
		if c.dstDesc, err = dst.Describe(ctx, name); err != nil {
			return nil, fmt.Errorf("table %q is in %q but not in %q: bring %q's schema up to date first", name, opts.From, opts.To, opts.To)
		}
		copies = append(copies, c)
	}
	for i, ok := range matched {
		if !ok {
			return nil, fmt.Errorf("--table %q matches no %s table of %q", opts.Tables[i], pulledClasses(opts.Config), opts.From)
		}
	}
	if len(copies) == 0 {
		return nil, fmt.Errorf("%q has no %s tables to pull (.dbsync classes none of its tables so)", opts.From, pulledClasses(opts.Config))
	}
	for name, p := range w.Config.Pull {
		if class, _, _ := w.Config.Classify(name); class != config.ClassContent && class != config.ClassConfig || !slices.Contains(names, name) {
			for _, pos := range p.Pos {
				return nil, fmt.Errorf("%s: [pull %q] names no content or config table of %q", pos, name, opts.From)
			}
		}
	}
	return dialect.ReferenceOrder(copies, func(c *tableCopy) (string, []string) {
		var parents []string
		for _, fk := range c.dstDesc.ForeignKeys {
			parents = append(parents, fk.RefTable)
		}
		return c.result.Table, parents
	}), nil
}

func pulledClasses(withConfig bool) string {
	if withConfig {
		return "content or config"
	}
	return "content"
}

// writeCopies replaces the tables' rows in the change's load
// transaction: the target's rows in scope deleted children first, the
// source's copied parents first.
func (w *Workspace) writeCopies(ctx context.Context, tx dialect.Tx, copies []*tableCopy) error {
	var err error
	for i := len(copies) - 1; i >= 0; i-- {
		c := copies[i]
		if c.result.Deleted, err = c.deleteInScope(ctx, tx); err != nil {
			return fmt.Errorf("table %q: deleting the rows to replace: %w", c.result.Table, dialect.Explain(tx, err))
		}
	}
	var maxID int64
	for _, c := range copies {
		if err := c.copy(ctx, tx, w.Meter); err != nil {
			return err
		}
		maxID = max(maxID, c.maxID)
	}
	// The target's counters (sequence tables) end past the copied ids.
	names, err := tx.Tables(ctx)
	if err != nil {
		return err
	}
	return dbrows.RaiseCounters(ctx, tx, w.Config.OfClass(names, config.ClassSequence), maxID)
}

// redactKey is the key of the redact rules' hashes: $DBSYNC_REDACT_KEY,
// else one made for this clone on first use (.git/dbsync/redact-key), so
// that pulls run twice write the same values.
func redactKey(gitDir string) ([]byte, error) {
	if k := os.Getenv("DBSYNC_REDACT_KEY"); k != "" {
		return []byte(k), nil
	}
	file := filepath.Join(gitDir, "dbsync", "redact-key")
	if data, err := os.ReadFile(file); err == nil {
		return []byte(strings.TrimSpace(string(data))), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return nil, err
	}
	k := hex.EncodeToString(b)
	if err := atomicfile.CreateExclusive(file, []byte(k+"\n"), 0o600); err != nil {
		if data, rerr := os.ReadFile(file); rerr == nil { // another pull made it first
			return []byte(strings.TrimSpace(string(data))), nil
		}
		return nil, err
	}
	return []byte(k), nil
}

// translateIDs prepares, for each table copied, the columns whose ids
// must become the target's: those referring (by a foreign key, or a
// reference .dbsync declares) to a table the pull does not replace,
// whose rows have a natural key. A production user's role "translator"
// (id 6 there) is then the target's "translator", whatever its id, never
// the target's row 6.
func (w *Workspace) translateIDs(ctx context.Context, copies []*tableCopy) error {
	copied := map[string]bool{}
	for _, c := range copies {
		copied[c.result.Table] = true
	}
	type keys struct {
		byID  map[int64]string
		byKey map[string]int64
		ok    bool
	}
	cache := map[string][2]keys{}
	for _, c := range copies {
		refs := w.columnRefs(c.srcDesc)
		for col, r := range refs {
			i := slices.Index(c.names, col)
			if i < 0 || copied[r.Table] {
				continue // ids of a table copied too stay as they are
			}
			k, seen := cache[r.Table]
			if !seen {
				var err error
				if k[0].byID, k[0].byKey, k[0].ok, err = dbrows.KeyIDs(ctx, c.src, w.Config, r.Table); err != nil {
					return fmt.Errorf("table %q: %w", r.Table, err)
				}
				if k[0].ok {
					if k[1].byID, k[1].byKey, k[1].ok, err = dbrows.KeyIDs(ctx, c.dst, w.Config, r.Table); err != nil {
						return fmt.Errorf("table %q: %w", r.Table, err)
					}
				}
				cache[r.Table] = k
			}
			if k[0].ok && k[1].ok {
				c.ids = append(c.ids, idMap{col: i, table: r.Table, none: r.None, srcByID: k[0].byID, dstByKey: k[1].byKey})
			}
		}
		slices.SortFunc(c.ids, func(a, b idMap) int { return a.col - b.col })
	}
	return nil
}
