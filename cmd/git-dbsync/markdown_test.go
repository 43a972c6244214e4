package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// mdcheck stdout|FILE checks the structure of a Markdown comment as
// GitHub and GitLab render it: every table row has the header's number of
// cells (pipes in values escaped), the line under a header is its
// alignment row, each <details> closes after its Markdown with blank
// lines around it, code spans close on their line, and no HTML but
// details, summary and code comes from outside a code span.
func cmdMDCheck(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mdcheck stdout|FILE")
	}
	text := ts.ReadFile(args[0])
	if problems := checkMarkdown(text); len(problems) > 0 {
		ts.Fatalf("Markdown structure:\n%s", strings.Join(problems, "\n"))
	}
}

var (
	alignRow = regexp.MustCompile(`^\|( *:?-{3,}:? *\|)+$`)
	htmlTag  = regexp.MustCompile(`</?[a-zA-Z][^>]*>`)
	allowed  = map[string]bool{"<details>": true, "</details>": true, "<summary>": true, "</summary>": true, "<code>": true, "</code>": true}
)

func checkMarkdown(text string) []string {
	var problems []string
	bad := func(i int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("line %d: ", i+1)+fmt.Sprintf(format, args...))
	}
	lines := strings.Split(text, "\n")
	cells, open := 0, 0
	for i, line := range lines {
		outside, ok := outsideCode(line)
		if !ok {
			bad(i, "a code span does not close: %s", line)
		}
		for _, tag := range htmlTag.FindAllString(outside, -1) {
			if !allowed[tag] {
				bad(i, "HTML outside a code span: %s", tag)
			}
		}
		switch {
		case strings.HasPrefix(line, "|"):
			// GFM splits a row at every pipe not escaped, in code spans too.
			n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") - 1
			if cells == 0 {
				if i+1 >= len(lines) || !alignRow.MatchString(lines[i+1]) {
					bad(i, "a table header without its alignment row")
				}
				if i > 0 && lines[i-1] != "" {
					bad(i, "a table without a blank line before it")
				}
				cells = n
			} else if n != cells {
				bad(i, "%d cells, the header has %d: %s", n, cells, line)
			}
		default:
			cells = 0
		}
		if strings.HasPrefix(line, "<details>") {
			if open++; open > 1 {
				bad(i, "<details> inside <details>")
			}
			if !strings.HasSuffix(line, "</summary>") || i+1 >= len(lines) || lines[i+1] != "" {
				bad(i, "<details> needs its summary on its line and a blank line after it")
			}
		}
		if line == "</details>" {
			if open--; open < 0 {
				bad(i, "</details> without <details>")
			}
			if lines[i-1] != "" {
				bad(i, "</details> needs a blank line before it")
			}
		}
	}
	if open != 0 {
		problems = append(problems, "a <details> block does not close")
	}
	return problems
}

// outsideCode is a line without its code spans (a run of n backticks
// opens one that the next run of n closes); ok is false when one does not
// close. Escaped pipes count as text.
func outsideCode(line string) (string, bool) {
	var out strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '`' {
			if line[i] == '\\' && i+1 < len(line) && line[i+1] == '|' {
				i += 2
				continue
			}
			out.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		fence := strings.Repeat("`", n)
		rest := line[i+n:]
		end := -1
		for j := 0; j+n <= len(rest); j++ {
			if rest[j:j+n] == fence && (j+n == len(rest) || rest[j+n] != '`') && (j == 0 || rest[j-1] != '`') {
				end = j
				break
			}
		}
		if end < 0 {
			return out.String(), false
		}
		i += n + end + n
	}
	return out.String(), true
}

// TestCheckMarkdownFindsProblems: mdcheck fails what would render wrong.
func TestCheckMarkdownFindsProblems(t *testing.T) {
	for name, text := range map[string]string{
		"cells":         "\n| a | b |\n| --- | --- |\n| 1 | 2 | 3 |\n",
		"pipe in value": "\n| a | b |\n| --- | --- |\n| `x|y` | 2 |\n",
		"no align row":  "\n| a | b |\n| 1 | 2 |\n",
		"open details":  "<details><summary>x</summary>\n\n- a\n",
		"no blank line": "<details><summary>x</summary>\n- a\n\n</details>\n",
		"open code":     "- `a\n",
		"raw html":      "- <img src=x>\n",
	} {
		if len(checkMarkdown(text)) == 0 {
			t.Errorf("%s: no problem found in %q", name, text)
		}
	}
	if p := checkMarkdown("\n| a | b |\n| --- | ---: |\n| `x\\|y` | 2 |\n\n<details><summary><code>t</code></summary>\n\n- ``a `b` ``\n\n</details>\n"); len(p) > 0 {
		t.Errorf("good Markdown refused: %v", p)
	}
}
