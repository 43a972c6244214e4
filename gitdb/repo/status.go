package repo

import (
	"bytes"
	"fmt"
	"strings"
)

// Status is what one "git status" saw: HEAD's commit, and every path
// whose work tree, index and HEAD do not all agree, untracked files
// included. The hooks ask it every question they used to ask git one
// process at a time (is anything staged, is the export directory clean,
// is a file unmerged, which files to stage), and the export trusts a
// table's files that it reports unchanged from HEAD.
type Status struct {
	Head    string        // HEAD's commit; "" on a branch with no commit yet
	Entries []StatusEntry // in git's order (by path)
}

// StatusEntry is one path git status reports.
type StatusEntry struct {
	Path string
	// Staged and Worktree are git's XY: how the index differs from HEAD
	// and the work tree from the index ('.' for not at all; 'M', 'A',
	// 'D', 'T', 'U' …); '?' for both when the file is untracked.
	Staged, Worktree byte
	Unmerged         bool
}

// StatusArgs are the arguments of the git status that ParseStatus reads:
// porcelain v2 with the branch header (HEAD's commit), NUL-terminated,
// every untracked file listed, renames as a deletion and an addition.
var StatusArgs = []string{"status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all", "--no-renames"}

// ReadStatus runs git status in the work tree at root. It honours
// GIT_INDEX_FILE, which git commit sets for hooks.
func ReadStatus(root string) (*Status, error) {
	out, err := Git{Dir: root}.Output(StatusArgs...)
	if err != nil {
		return nil, err
	}
	return ParseStatus(out)
}

// PendingStatus is a git status running while the caller does other work.
type PendingStatus struct {
	done chan struct{}
	st   *Status
	err  error
}

// StartStatus starts git status in the work tree at root.
func StartStatus(root string) *PendingStatus {
	p := &PendingStatus{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.st, p.err = ReadStatus(root)
	}()
	return p
}

// Ready reports whether git has given the status already.
func (p *PendingStatus) Ready() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait returns the status once git has given it.
func (p *PendingStatus) Wait() (*Status, error) {
	<-p.done
	return p.st, p.err
}

// ParseStatus reads the output of git status with StatusArgs.
func ParseStatus(out []byte) (*Status, error) {
	st := &Status{}
	for len(out) > 0 {
		rec, rest, _ := bytes.Cut(out, []byte{0})
		out = rest
		if len(rec) == 0 {
			continue
		}
		line := string(rec)
		bad := fmt.Errorf("git status: unexpected %q", line)
		switch line[0] {
		case '#':
			if oid, ok := strings.CutPrefix(line, "# branch.oid "); ok && oid != "(initial)" {
				st.Head = oid
			}
		case '1', '2', 'u':
			// 1 XY sub mH mI mW hH hI path
			// 2 XY sub mH mI mW hH hI Xscore path NUL origPath
			// u XY sub m1 m2 m3 mW h1 h2 h3 path
			fields := map[byte]int{'1': 8, '2': 9, 'u': 10}[line[0]]
			parts := strings.SplitN(line, " ", fields+1)
			if len(parts) != fields+1 || len(parts[1]) != 2 {
				return nil, bad
			}
			e := StatusEntry{Path: parts[fields], Staged: parts[1][0], Worktree: parts[1][1], Unmerged: line[0] == 'u'}
			st.Entries = append(st.Entries, e)
			if line[0] == '2' { // the path it was renamed or copied from
				orig, rest, _ := bytes.Cut(out, []byte{0})
				out = rest
				st.Entries = append(st.Entries, StatusEntry{Path: string(orig), Staged: 'D', Worktree: '.'})
			}
		case '?':
			if len(line) < 3 {
				return nil, bad
			}
			st.Entries = append(st.Entries, StatusEntry{Path: line[2:], Staged: '?', Worktree: '?'})
		case '!': // ignored files: only listed when asked for
		default:
			return nil, bad
		}
	}
	return st, nil
}

// under reports whether path is dir or inside it.
func under(path, dir string) bool {
	dir = strings.TrimSuffix(dir, "/")
	return dir == "" || dir == "." || path == dir || strings.HasPrefix(path, dir+"/")
}

// Staged reports whether the index differs from HEAD anywhere: what git
// commit would commit.
func (s *Status) Staged() bool {
	for _, e := range s.Entries {
		if e.Unmerged || e.Staged != '.' && e.Staged != '?' {
			return true
		}
	}
	return false
}

// Clean reports whether the work tree and the index hold dir (a
// directory or a file, relative to the root) exactly as HEAD does, with
// no untracked file in it.
func (s *Status) Clean(dir string) bool {
	for _, e := range s.Entries {
		if under(e.Path, dir) {
			return false
		}
	}
	return true
}

// Unmerged lists the files under dir that the index holds in conflict.
func (s *Status) Unmerged(dir string) []string {
	var out []string
	for _, e := range s.Entries {
		if e.Unmerged && under(e.Path, dir) {
			out = append(out, e.Path)
		}
	}
	return out
}

// Untracked reports whether dir holds a file git does not track (and does
// not ignore).
func (s *Status) Untracked(dir string) bool {
	for _, e := range s.Entries {
		if e.Staged == '?' && under(e.Path, dir) {
			return true
		}
	}
	return false
}

// Unstaged lists the files under dir whose work tree differs from the
// index (changed, removed, untracked): what staging dir would add.
func (s *Status) Unstaged(dir string) []string {
	var out []string
	for _, e := range s.Entries {
		if e.Worktree != '.' && under(e.Path, dir) {
			out = append(out, e.Path)
		}
	}
	return out
}
