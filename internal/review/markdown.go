package review

import (
	"fmt"
	"html"
	"io"
	"strings"
	"time"
)

// Markdown renderings: one self-contained comment for a merge request or
// a CI job summary, as GitHub and GitLab render Markdown (tables, and
// <details> blocks whose body is Markdown after a blank line). Every
// value and key is in a code span, so that nothing in the data is read as
// Markdown or HTML.

// MarkdownLimits are the bounds of a comment: 20 rows a table, and rows
// past 60,000 characters left out (GitHub refuses a comment over 65,536).
var MarkdownLimits = Limits{Rows: 20, Bytes: 60000, Value: 120}

// md writes Markdown, and counts what a bound left out.
type md struct {
	b        strings.Builder
	lim      Limits
	leftRows int
}

func (m *md) f(format string, args ...any) { fmt.Fprintf(&m.b, format, args...) }

// full reports that the comment reached its length bound.
func (m *md) full() bool { return m.lim.Bytes > 0 && m.b.Len() >= m.lim.Bytes }

// code is s as an inline code span: as many backticks around it as it
// needs, on one line.
func code(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	ticks := "`"
	for strings.Contains(s, ticks) {
		ticks += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || s == "" {
		s = " " + s + " "
	}
	return ticks + s + ticks
}

// tcode is a code span in a table's cell: its pipes escaped, which GFM
// reads as pipes of the value even inside the span.
func tcode(s string) string { return code(strings.ReplaceAll(s, "|", `\|`)) }

func (m *md) val(s string) string {
	if s == Absent {
		return "*absent*"
	}
	return code(Cut(s, m.lim.Value))
}

// WritePlanMarkdown writes a plan as a comment.
func WritePlanMarkdown(w io.Writer, p *Plan, lim Limits) error {
	m := &md{lim: lim}
	m.f("### git dbsync plan: %s → %s\n\n", code(p.Revision), code(p.Env))
	m.f("Revision %s (%s) on environment %s; %s.\n\n", code(p.Revision), code(ShortCommit(p.Commit)), code(p.Env), p.Base)
	if p.Applied {
		m.f("%s is at %s already: apply would do nothing.\n\n", code(p.Env), code(p.Revision))
	}
	for _, w := range p.Warnings {
		m.f("> **Warning:** %s\n\n", strings.ReplaceAll(w, "\n", " "))
	}
	s := p.Summary
	m.f("**%s, %s, %s", plural(s.Inserts, "insert"), plural(s.Updates, "update"), plural(s.Deletes, "delete"))
	if s.Unresolved > 0 {
		m.f("; %s", plural(s.Unresolved, "unresolved conflict"))
		if p.Blocked > 0 {
			m.f(" (%s)", plural(p.Blocked, "blocked delete"))
		}
	}
	if s.Untracked > 0 {
		m.f("; %s", plural(s.Untracked, "untracked row"))
	}
	m.f("**\n\n")
	if len(p.Tables) > 0 {
		m.f("| table | inserts | updates | deletes | conflicts |\n| --- | ---: | ---: | ---: | ---: |\n")
		for _, n := range p.Tables {
			m.f("| %s | %d | %d | %d | %s |\n", tcode(n.Table), n.Inserts, n.Updates, n.Deletes, conflictCount(n))
		}
		t := p.Total
		m.f("| **total** | %d | %d | %d | %s |\n\n", t.Inserts, t.Updates, t.Deletes, conflictCount(t))
	}
	if len(p.Conflicts) > 0 {
		m.f("#### Conflicts\n\n")
		for i, c := range p.Conflicts {
			if m.full() {
				m.f("- … and %s left out\n", plural(len(p.Conflicts)-i, "more conflict"))
				m.leftRows += len(p.Conflicts) - i
				break
			}
			m.conflict(&c)
		}
		m.f("\n")
	}
	if len(p.Changes) > 0 {
		m.f("#### Changes\n\n")
		m.changes(p.Changes, func(r Rows) string {
			var n Count
			for _, t := range p.Tables {
				if t.Table == r.Table {
					n = t
				}
			}
			parts := []string{plural(n.Inserts, "insert"), plural(n.Updates, "update"), plural(n.Deletes, "delete")}
			if n.Untracked > 0 {
				parts = append(parts, plural(n.Untracked, "untracked row"))
			}
			return strings.Join(parts, ", ")
		})
	}
	m.footer(p.PlanCommand + " -v")
	m.f("To apply: %s\n", code(p.Apply))
	_, err := io.WriteString(w, m.b.String())
	return err
}

func conflictCount(n Count) string {
	if n.Conflicts == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%d unresolved)", n.Conflicts, n.Unresolved)
}

func (m *md) conflict(c *Conflict) {
	state := "**CONFLICT**"
	if c.Resolution != "" {
		state = "resolved by " + c.Resolution
	}
	m.f("- %s %s %s: %s (%s)\n", state, code(c.Table), code(c.Key), c.What, c.Kind)
	for _, cell := range c.Cells {
		m.f("  - %s: base %s, target %s, revision %s\n", code(cell.Name), m.val(cell.Base), m.val(cell.Ours), m.val(cell.Theirs))
	}
	for _, by := range c.ReferredBy {
		m.f("  - referred to by %s\n", code(by))
	}
	if c.Blocked && c.Keep != "" {
		m.f("  - keep the row: %s, or first change the rows that refer to it\n", code(c.Keep))
		return
	}
	if c.Keep != "" {
		m.f("  - keep the target's: %s\n  - take the revision's: %s\n", code(c.Keep), code(c.Take))
	}
}

// changes writes each table's rows in a <details> block, until the
// length bound; summary says what a table's block holds.
func (m *md) changes(tables []Rows, summary func(Rows) string) {
	for ti, t := range tables {
		if m.full() {
			for _, rest := range tables[ti:] {
				m.leftRows += len(rest.Rows) + rest.More
			}
			m.f("*%s of %s left out to keep this comment short.*\n\n", plural(m.leftRows, "row"), plural(len(tables)-ti, "more table"))
			return
		}
		m.f("<details><summary><code>%s</code>: %s</summary>\n\n", html.EscapeString(t.Table), summary(t))
		for i, r := range t.Rows {
			if m.full() {
				left := len(t.Rows) - i + t.More
				m.leftRows += left
				m.f("- … %s left out\n", plural(left, "more row"))
				break
			}
			m.row(r)
			if i == len(t.Rows)-1 && t.More > 0 {
				m.f("- … and %s\n", plural(t.More, "more row"))
				m.leftRows += t.More
			}
		}
		m.f("\n</details>\n\n")
	}
}

func (m *md) row(r Row) {
	// The change as a word: a sign (+, -) would start a nested list.
	if r.Value != "" {
		m.f("- %s %s: %s\n", r.Change, code(r.Key), m.val(r.Value))
	} else {
		m.f("- %s %s\n", r.Change, code(r.Key))
	}
	for _, c := range r.Cells {
		if c.Set {
			var parts []string
			for _, a := range c.Added {
				parts = append(parts, "+ "+m.val(a))
			}
			for _, a := range c.Removed {
				parts = append(parts, "− "+m.val(a))
			}
			m.f("  - %s: %s\n", code(c.Name), strings.Join(parts, ", "))
			continue
		}
		m.f("  - %s: %s → %s\n", code(c.Name), m.val(c.Old), m.val(c.New))
	}
}

func (m *md) footer(every string) {
	if m.leftRows > 0 {
		m.f("%s left out in all; %s lists every one.\n\n", plural(m.leftRows, "row"), code(every))
	}
}

// WriteDiffMarkdown writes a diff as a comment.
func WriteDiffMarkdown(w io.Writer, d *Diff, lim Limits) error {
	m := &md{lim: lim}
	m.f("### git dbsync diff: %s → %s\n\n", code(d.From), code(d.To))
	if len(d.Tables) == 0 {
		m.f("No differences.\n\n")
	} else {
		s := d.Summary
		m.f("**%d added, %d changed, %d removed**\n\n", s.Added, s.Changed, s.Removed)
		m.f("| table | added | changed | removed | unchanged |\n| --- | ---: | ---: | ---: | ---: |\n")
		for _, n := range d.Tables {
			m.f("| %s | %d | %d | %d | %d |\n", tcode(n.Table), n.Added, n.Changed, n.Removed, n.Unchanged)
		}
		t := d.Total
		m.f("| **total** | %d | %d | %d | %d |\n\n", t.Added, t.Changed, t.Removed, t.Unchanged)
		m.f("#### Changes\n\n")
		m.changes(d.Changes, func(r Rows) string {
			for _, n := range d.Tables {
				if n.Table == r.Table {
					return fmt.Sprintf("%d added, %d changed, %d removed", n.Added, n.Changed, n.Removed)
				}
			}
			return ""
		})
	}
	m.footer(d.Command + " -v")
	m.f("To compare again: %s\n", code(d.Command))
	_, err := io.WriteString(w, m.b.String())
	return err
}

// WriteStatusMarkdown writes where environments stand: one line each in a
// table (spec is the --env the reader gave), then per environment its
// drift, pending releases and, for one environment, its history.
func WriteStatusMarkdown(w io.Writer, spec string, envs []*Env, lim Limits) error {
	m := &md{lim: lim}
	m.f("### git dbsync status: %s\n\n", code(spec))
	m.f("| environment | at | last change | by | drift | pending | run |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, e := range envs {
		if e.Err != "" {
			m.f("| %s | cannot be read: %s | | | | | |\n", tcode(e.Name), tcode(e.Err))
			continue
		}
		at, when, by := "nothing applied", "", ""
		if e.At != "" {
			at = tcode(e.At) + " " + tcode(ShortCommit(e.Commit))
		}
		if e.Kind != "" {
			when, by = e.Kind+" "+e.When.UTC().Format(time.RFC3339), tcode(e.By)
		}
		pending := ""
		for i, p := range e.Pending {
			if i > 0 {
				pending += " "
			}
			pending += tcode(p)
		}
		m.f("| %s | %s | %s | %s | %s | %s | %s |\n", tcode(e.Name), at, when, by, plural(len(e.Drift), "table"), pending, e.Checks())
	}
	m.f("\n")
	for _, e := range envs {
		if e.Err != "" || len(e.Drift)+len(e.Crashed) == 0 && e.Running == "" && !e.Unchecked && (len(envs) > 1 || len(e.History) == 0) {
			continue
		}
		m.f("<details><summary><code>%s</code></summary>\n\n", html.EscapeString(e.Name))
		for _, d := range e.Drift {
			m.f("- drift: %s: %d added, %d changed, %d removed on the target since %s%s\n", code(d.Table), d.Added, d.Changed, d.Removed, code(e.At), html.EscapeString(d.KeptNote()))
		}
		if e.Running != "" {
			m.f("- running: %s\n", e.Running)
		}
		if e.Unchecked {
			m.f("- unchecked: the checks of %s never passed; %s runs them\n", code(e.At), code(Command("apply", e.At, "--env", e.Name)))
		}
		for _, c := range e.Crashed {
			m.f("- unfinished: %s\n", c)
		}
		if len(envs) == 1 {
			for _, h := range e.History {
				m.f("- #%d %s %s %s: %d inserted, %d updated, %d deleted, by %s", h.Seq, h.At.UTC().Format(time.RFC3339), h.Kind, code(h.Revision),
					h.Inserted, h.Updated, h.Deleted, code(h.By))
				if h.Note != "" {
					m.f(" (%s)", h.Note)
				}
				m.f("\n")
			}
		}
		m.f("\n</details>\n\n")
	}
	if len(envs) > 1 { // how to see one of several in full
		m.f("To see one: %s\n", code(Command("status", "--env", envs[0].Name)))
	}
	_, err := io.WriteString(w, m.b.String())
	return err
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
