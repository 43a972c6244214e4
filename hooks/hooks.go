// Package hooks installs, upgrades, chains and uninstalls the git hooks of
// git dbsync: pre-commit re-exports the development database and stages
// the export directory; post-merge and post-checkout merge the incoming
// configuration into the development database.
//
// Contract: a hook git dbsync did not write is never clobbered — Install
// refuses with instructions, or with Chain keeps it (renamed) and calls it
// first, or with Force moves it aside — and Uninstall restores exactly the
// bytes that were there. Our own hooks, older or current, are upgraded in
// place. It imports nothing from the rest of the project.
package hooks

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
)

// Names are the hooks git dbsync installs.
var Names = []string{"pre-commit", "post-commit", "post-merge", "post-checkout", "post-rewrite", "post-applypatch"}

// Version is written into every hook; older ones are upgraded by Install.
const Version = 2

// Suffixes of a hook moved aside: chained (called first) or replaced.
const (
	ChainedSuffix  = ".dbsync-chained"
	ReplacedSuffix = ".dbsync-replaced"
)

var marker = regexp.MustCompile(`(?m)^# git-dbsync hook v(\d+)$`)

// Script returns the hook script. It does nothing when $DBSYNC_SKIP_HOOKS
// is 1 or when it runs inside another git dbsync hook, explains itself and
// fails when git-dbsync is not on PATH, calls a chained hook first, and
// then hands over to "git dbsync hook NAME".
func Script(name string) []byte {
	return []byte(`#!/bin/sh
# git-dbsync hook v` + strconv.Itoa(Version) + `
# Installed by 'git dbsync hooks install'; remove with 'git dbsync hooks uninstall'.
# ` + name + `: ` + map[string]string{
		"pre-commit":      "re-export the development database and stage the export directory.",
		"post-commit":     "record the commit, or merge what it concluded into the development database.",
		"post-merge":      "merge the configuration just merged into the development database.",
		"post-checkout":   "merge the configuration of the checked-out branch into the development database.",
		"post-rewrite":    "merge the configuration of a rebased branch into the development database.",
		"post-applypatch": "merge the configuration of an applied patch into the development database.",
	}[name] + `
# Set DBSYNC_SKIP_HOOKS=1 to skip it.
[ "${DBSYNC_SKIP_HOOKS:-}" = 1 ] && exit 0
[ -n "${DBSYNC_IN_HOOK:-}" ] && exit 0
if [ -x "$0` + ChainedSuffix + `" ]; then
	"$0` + ChainedSuffix + `" "$@" || exit $?
fi
if ! command -v git-dbsync >/dev/null 2>&1; then
	echo "git dbsync ` + name + ` hook: git-dbsync is not on PATH." >&2
	echo "hint: install it (make install), or skip this hook with DBSYNC_SKIP_HOOKS=1" >&2
	exit 1
fi
DBSYNC_IN_HOOK=1 DBSYNC_GIT_PID=$PPID exec git dbsync hook ` + name + ` "$@"
`)
}

// State is what stands at a hook's path.
type State string

const (
	Missing State = "missing"
	Ours    State = "installed"
	Old     State = "installed (older version)"
	Foreign State = "another hook"
)

// HookStatus describes one hook.
type HookStatus struct {
	Name     string
	State    State
	Version  int
	Chained  bool // our hook calls a hook that was there before
	Replaced bool // a hook that was there before is kept aside
}

// Status reports the state of every hook in dir.
func Status(dir string) ([]HookStatus, error) {
	var out []HookStatus
	for _, name := range Names {
		st, err := status(dir, name)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func status(dir, name string) (HookStatus, error) {
	st := HookStatus{Name: name, State: Missing}
	p := filepath.Join(dir, name)
	data, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return st, err
	default:
		st.State = Foreign
		if m := marker.FindSubmatch(data); m != nil {
			st.Version, _ = strconv.Atoi(string(m[1]))
			st.State = Ours
			if st.Version < Version {
				st.State = Old
			}
		}
	}
	st.Chained = exists(p + ChainedSuffix)
	st.Replaced = exists(p + ReplacedSuffix)
	return st, nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// Mode says what Install does with a hook it did not write.
type Mode int

const (
	Refuse Mode = iota // stop, naming the hook and the choices
	Chain              // keep it, renamed; our hook calls it first
	Force              // move it aside; Uninstall puts it back
)

// ForeignError is returned when a hook git dbsync did not write is in the way.
type ForeignError struct{ Paths []string }

func (e *ForeignError) Error() string {
	return fmt.Sprintf("hooks: %s: not written by git dbsync, left untouched\nhint: run again with --chain to keep it and call it first, or --force to move it aside (uninstall puts it back)",
		strings.Join(e.Paths, ", "))
}

// Install writes the hooks into dir and returns one line per hook saying
// what it did. With Refuse, nothing is written when any hook is foreign.
func Install(dir string, mode Mode) ([]string, error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	sts, err := Status(dir)
	if err != nil {
		return nil, err
	}
	var foreign []string
	for _, st := range sts {
		if st.State == Foreign && mode == Refuse {
			foreign = append(foreign, filepath.Join(dir, st.Name))
		}
	}
	if foreign != nil {
		return nil, &ForeignError{Paths: foreign}
	}
	var done []string
	for _, st := range sts {
		p := filepath.Join(dir, st.Name)
		what := "installed"
		switch st.State {
		case Foreign:
			suffix, verb := ChainedSuffix, "chained after the existing hook"
			if mode == Force {
				suffix, verb = ReplacedSuffix, "installed; the existing hook is kept as "+st.Name+ReplacedSuffix
			}
			if exists(p + suffix) {
				return done, fmt.Errorf("hooks: %s exists already: refusing to overwrite it", p+suffix)
			}
			if err := os.Rename(p, p+suffix); err != nil {
				return done, err
			}
			what = verb
		case Old:
			what = fmt.Sprintf("upgraded from v%d", st.Version)
		case Ours:
			what = "up to date"
		}
		if err := writeExecutable(p, Script(st.Name)); err != nil {
			return done, err
		}
		done = append(done, st.Name+": "+what)
	}
	return done, nil
}

// Uninstall removes our hooks from dir and puts back the hooks they
// chained or replaced, byte for byte. Foreign hooks are left alone.
func Uninstall(dir string) ([]string, error) {
	sts, err := Status(dir)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, st := range sts {
		p := filepath.Join(dir, st.Name)
		switch st.State {
		case Missing:
			continue
		case Foreign:
			done = append(done, st.Name+": not ours, left alone")
			continue
		}
		if err := os.Remove(p); err != nil {
			return done, err
		}
		what := "removed"
		for _, suffix := range []string{ChainedSuffix, ReplacedSuffix} {
			if exists(p + suffix) {
				if err := os.Rename(p+suffix, p); err != nil {
					return done, err
				}
				what = "removed; the earlier hook is back"
				break
			}
		}
		done = append(done, st.Name+": "+what)
	}
	return done, nil
}

func writeExecutable(p string, data []byte) error {
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return atomicfile.WriteFile(p, data, 0o777)
}
