package review

import (
	"fmt"
	"strings"
	"testing"
)

// A long plan is cut: rows past a table's limit are counted, and past the
// length bound whole tables' rows are left out, with the count and the
// command that lists them all.
func TestLongPlanIsCut(t *testing.T) {
	p := &Plan{Env: "prod", Revision: "v2", PlanCommand: "git dbsync plan v2 --env prod", Apply: "git dbsync apply v2 --env prod"}
	for i := range 30 {
		rows := Rows{Table: fmt.Sprintf("t%02d", i)}
		for j := range 20 { // PlanOf keeps 20 of the 25 rows
			rows.Rows = append(rows.Rows, Row{Change: "insert", Key: fmt.Sprintf("k%02d", j), Value: strings.Repeat("x", 100)})
		}
		rows.More = 5
		p.Changes = append(p.Changes, rows)
		p.Tables = append(p.Tables, Count{Table: rows.Table, Inserts: 25})
	}
	var b strings.Builder
	lim := Limits{Rows: 20, Bytes: 20000, Value: 40}
	if err := WritePlanMarkdown(&b, p, lim); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "- … and 5 more rows\n") {
		t.Errorf("no count of a table's rows left out:\n%s", out)
	}
	if !strings.Contains(out, "more tables left out to keep this comment short.*") {
		t.Errorf("no count of the tables left out:\n%s", out)
	}
	if !strings.Contains(out, "left out in all; `git dbsync plan v2 --env prod -v` lists every one.") {
		t.Errorf("no total left out:\n%s", out)
	}
	if len(out) > 25000 {
		t.Errorf("%d characters: the bound is 20,000 and a table's block", len(out))
	}
	if strings.Contains(out, strings.Repeat("x", 41)) {
		t.Errorf("a value longer than the limit is shown whole")
	}
}
