package gitdb

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/internal/dbtest"
)

// BenchmarkFirstApply measures figure (c) of BenchmarkEngines alone, a
// first apply of 200,000 rows ÷ the engine's bulk load, on each engine: a
// quicker round while working on the bulk writes (with -cpuprofile for one
// engine: -bench 'BenchmarkFirstApply/postgres').
func BenchmarkFirstApply(b *testing.B) {
	var lines []string
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			f := engineFigures{engine: engine}
			benchFirstApply(b, &f)
			lines = append(lines, fmt.Sprintf("%-9s %.2f (%v ÷ %v %s), peak heap %.0f MB", engine,
				f.first.Seconds()/f.load.Seconds(), f.first.Round(time.Millisecond), f.load.Round(time.Millisecond), f.loadTool, float64(f.firstPeak)/1e6))
		})
	}
	fmt.Printf("\nfirst apply of 200,000 rows ÷ the engine's bulk load (aim ≤ 2)\n%s\n", strings.Join(lines, "\n"))
}
