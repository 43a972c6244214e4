package gitdb

import (
	"flag"
	"os"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb/merge"
)

// TestMain runs this package's tests with plans whose ops go to their
// temporary file past a few (merge.SpillAt): every reader of a plan (the
// writer, the ledger, the checks, the saved and shown plans) then reads
// them back from it. The binary's scripts run plans held in memory; the
// benchmarks run as the binary does.
func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() == "" {
		merge.SpillAt = 3
	}
	os.Exit(m.Run())
}
