package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/gitdbsync/git-dbsync/"

// allowed lists, for each package of the project (by path in the module),
// the packages of the project it may import; ARCHITECTURE.md explains
// why. A package missing here is an error: a new package states its place.
var allowed = map[string][]string{
	"serialize":              nil,
	"internal/atomicfile":    nil,
	"internal/fault":         nil,
	"internal/proc":          nil,
	"internal/progress":      nil,
	"internal/shard":         nil,
	"hooks":                  {"internal/atomicfile"},
	"gitdb/repo":             nil,
	"gitdb/merge":            {"serialize"},
	"gitdb/codec":            {"serialize"},
	"gitdb/dialect":          {"serialize"},
	"gitdb/dialect/sqlite":   {"gitdb/dialect", "serialize"},
	"gitdb/dialect/postgres": {"gitdb/dialect", "serialize"},
	"gitdb/dialect/mysql":    {"gitdb/dialect", "serialize"},
	"gitdb/lock":             {"gitdb/steps", "serialize", "internal/atomicfile", "internal/fault", "internal/proc"},
	"gitdb/steps":            nil,
	"gitdb/backup":           {"gitdb/dialect", "serialize"},
	"gitdb/config":           {"gitdb/codec", "gitdb/repo", "serialize"},
	"gitdb/exportdir":        {"gitdb/merge", "gitdb/repo", "serialize", "internal/atomicfile", "internal/fault", "internal/proc"},
	"gitdb/dbrows":           {"gitdb/codec", "gitdb/config", "gitdb/dialect", "gitdb/merge", "serialize", "internal/fault", "internal/progress"},
	"gitdb/ledger":           {"gitdb/config", "gitdb/dialect", "gitdb/lock", "gitdb/merge", "gitdb/steps", "serialize", "internal/fault"},
	"gitdb/redact":           {"gitdb/codec", "gitdb/config", "gitdb/dialect", "serialize"},
	"gitdb": {"gitdb/backup", "gitdb/codec", "gitdb/config", "gitdb/dbrows", "gitdb/dialect", "gitdb/dialect/mysql", "gitdb/dialect/postgres",
		"gitdb/dialect/sqlite", "gitdb/exportdir", "gitdb/ledger", "gitdb/lock", "gitdb/merge", "gitdb/redact", "gitdb/repo", "gitdb/steps", "hooks",
		"serialize", "internal/atomicfile", "internal/fault", "internal/proc", "internal/progress"},
	"cmd/git-dbsync":  {"gitdb", "internal/progress", "internal/review", "internal/shard", "internal/web"},
	"internal/review": {"gitdb"},
	"internal/web":    {"gitdb", "internal/review"},
	"schemas":         nil,
	// Test helpers: never imported by the product.
	"internal/archtest":         nil,
	"internal/dbtest":           {"gitdb/dialect", "internal/fixture", "internal/sqltool"},
	"internal/fixture":          nil,
	"internal/gittest":          nil,
	"internal/sqltool":          {"gitdb/dialect", "gitdb/dialect/sqlite", "internal/fixture"},
	"internal/sqltool/sqlexec":  {"internal/fixture", "internal/sqltool"},
	"gitdb/dialect/dialecttest": {"gitdb/dialect", "internal/dbtest", "serialize"},
}

// TestImportDirections fails when a package imports another of the
// project against the directions allowed (its tests may import more).
func TestImportDirections(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		may, known := allowed[pkg]
		if !known {
			t.Errorf("package %s has no place in the allowed imports (internal/archtest): add it, and to ARCHITECTURE.md", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			dep, ours := strings.CutPrefix(imp, module)
			if ours && !slices.Contains(may, dep) {
				t.Errorf("%s imports %s, against the direction ARCHITECTURE.md gives", pkg, dep)
			}
		}
	}
}
