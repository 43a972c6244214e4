// Package lock keeps the lock files of git dbsync: a per-tag record of
// each apply and rollback, and a lock per environment.
//
// A lock file (.git/dbsync/locks/<env>/<tag>.lock) is created before an
// apply's transaction with state "applying", and rewritten atomically to
// "applied" after the commit: it is first the lock, then the record. A
// file still "applying" when no apply runs is a crash, which the caller
// resolves against the ledger (the ledger row is written in the same
// transaction as the data, so it says whether the transaction committed).
// An environment lock (.git/dbsync/locks/<env>.lock) lets one apply or
// rollback run per environment at a time; it names its holder.
package lock

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/steps"
	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
	"github.com/gitdbsync/git-dbsync/internal/proc"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Owner is who holds or held a lock.
type Owner struct {
	User string `json:"user"`
	Host string `json:"host"`
	PID  int    `json:"pid"`
}

func (o Owner) String() string { return fmt.Sprintf("%s@%s (pid %d)", o.User, o.Host, o.PID) }

// Me returns the owner for this process.
func Me() Owner {
	o := Owner{PID: os.Getpid(), User: os.Getenv("USER")}
	if u, err := user.Current(); err == nil {
		o.User = u.Username
	}
	o.Host, _ = os.Hostname()
	return o
}

// Alive reports whether the owner's process still runs. Only processes on
// this host can be checked; another host's owner is assumed alive.
func (o Owner) Alive() bool {
	if h, _ := os.Hostname(); h != o.Host {
		return true
	}
	return proc.Alive(o.PID)
}

// State is the state of a lock file.
type State string

const (
	Applying    State = "applying"
	Applied     State = "applied"
	RollingBack State = "rolling-back"
	RolledBack  State = "rolled-back"
)

// Counts summarizes what an apply or rollback did to one table.
type Counts struct {
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Deleted   int `json:"deleted"`
	Conflicts int `json:"conflicts_resolved"`
	// Untracked are the rows a first apply found only on the target and
	// kept: there before it, they are no drift of the target since.
	Untracked int `json:"untracked,omitempty"`
}

// Wrote reports whether the change wrote rows of the table, or settled
// conflicts in it: more than keep rows it found.
func (c Counts) Wrote() bool { return c.Inserted+c.Updated+c.Deleted+c.Conflicts > 0 }

// Record is one apply or rollback in a lock file.
type Record struct {
	ID       string            `json:"id"` // the ledger's apply id
	Owner    Owner             `json:"owner"`
	Started  time.Time         `json:"started"`
	Finished *time.Time        `json:"finished,omitempty"`
	Ledger   int64             `json:"ledger_seq,omitempty"`
	Tables   map[string]Counts `json:"tables,omitempty"`
	Note     string            `json:"note,omitempty"`
	Steps    []steps.Result    `json:"steps,omitempty"` // the deploy's steps around it
}

// File is a per-tag lock file.
type File struct {
	Format     int     `json:"format"`
	Env        string  `json:"env"`
	Target     string  `json:"target_identity,omitempty"`
	Revision   string  `json:"revision"`
	Commit     string  `json:"commit"`
	BaseCommit string  `json:"base_commit,omitempty"`
	State      State   `json:"state"`
	Apply      Record  `json:"apply"`
	Rollback   *Record `json:"rollback,omitempty"`
	History    []File  `json:"history,omitempty"` // earlier applies of the same revision
}

// Dir is where lock files live, under the repository's common git dir.
func Dir(gitDir string) string { return filepath.Join(gitDir, "dbsync", "locks") }

// Path returns the lock file of a revision applied to an environment; both
// names are escaped into portable file names.
func Path(gitDir, env, rev string) string {
	return filepath.Join(Dir(gitDir), serialize.FileName(env), serialize.FileName(rev)+".lock")
}

// Read reads a lock file; it returns nil, nil when there is none.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f := &File{}
	if err := json.Unmarshal(data, f); err != nil {
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	return f, nil
}

// maxHistory bounds the earlier records a lock file keeps; the ledger in
// the target keeps them all.
const maxHistory = 20

// Supersede makes f the record after prev, an earlier record of the same
// revision, which moves into f's history.
func (f *File) Supersede(prev *File) {
	if prev == nil {
		return
	}
	f.History = append(prev.History, *prev)
	f.History[len(f.History)-1].History = nil
	if len(f.History) > maxHistory {
		f.History = f.History[len(f.History)-maxHistory:]
	}
}

// Create writes a new lock file exclusively: it fails if one exists.
func Create(path string, f *File) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	data, err := marshal(f)
	if err != nil {
		return err
	}
	return atomicfile.CreateExclusive(path, data, filePerm, atomicfile.Durable)
}

// Write replaces a lock file atomically and durably.
func Write(path string, f *File) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	data, err := marshal(f)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, filePerm, atomicfile.Durable)
}

// filePerm: lock files name users and hosts; they stay private.
const filePerm = 0o600

func marshal(f *File) ([]byte, error) {
	f.Format = 1
	data, err := json.MarshalIndent(f, "", "  ")
	return append(data, '\n'), err
}

// LockedError reports that another process holds the environment lock.
type LockedError struct {
	Env    string
	Holder Holder
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("environment %q is locked: %s of %s by %s since %s", e.Env, e.Holder.Op, e.Holder.Revision,
		e.Holder.Owner, e.Holder.Since.Format(time.RFC3339))
}

// Holder is the content of an environment lock.
type Holder struct {
	Op       string    `json:"op"` // apply, rollback
	Revision string    `json:"revision"`
	Owner    Owner     `json:"owner"`
	Since    time.Time `json:"since"`
}

// Env is a held environment lock.
type Env struct {
	path string
	// Stale is set when a lock left by a process that died was removed.
	Stale *Holder
}

// LockEnv takes the environment lock, or fails at once with a
// *LockedError naming the holder. A lock whose holder died (same host,
// process gone) is removed and reported in Stale.
func LockEnv(gitDir, env string, h Holder) (*Env, error) {
	path := envPath(gitDir, env)
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return nil, err
	}
	// A run killed while it wrote a lock file left its temporary file.
	atomicfile.Clean(filepath.Dir(path))
	atomicfile.Clean(filepath.Dir(Path(gitDir, env, "")))
	data, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return nil, err
	}
	l := &Env{path: path}
	for attempt := 0; attempt < 2; attempt++ {
		err := atomicfile.CreateExclusive(path, append(data, '\n'), filePerm, atomicfile.Durable)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		var other Holder
		raw, rerr := os.ReadFile(path)
		if rerr == nil && json.Unmarshal(raw, &other) == nil && other.Owner.Alive() {
			return nil, &LockedError{Env: env, Holder: other}
		}
		if rerr != nil && errors.Is(rerr, fs.ErrNotExist) {
			continue // released meanwhile
		}
		l.Stale = &other
		os.Remove(path)
	}
	return nil, fmt.Errorf("could not take the lock %s", path)
}

func envPath(gitDir, env string) string {
	return filepath.Join(Dir(gitDir), serialize.FileName(env)+".lock")
}

// Holding returns who holds an environment's lock, when a process that
// still runs holds it; nil when it is free or its holder died.
func Holding(gitDir, env string) *Holder {
	raw, err := os.ReadFile(envPath(gitDir, env))
	if err != nil {
		return nil
	}
	var h Holder
	if json.Unmarshal(raw, &h) != nil || !h.Owner.Alive() {
		return nil
	}
	return &h
}

// EnvLocked reports whether an environment's lock is held.
func EnvLocked(gitDir, env string) bool {
	_, err := os.Stat(envPath(gitDir, env))
	return err == nil
}

// Release drops the environment lock.
func (l *Env) Release() error { return os.Remove(l.path) }

// NewID returns a fresh random id for an apply, a rollback or a target.
func NewID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
