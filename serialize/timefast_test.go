package serialize

import (
	"fmt"
	"math/rand"
	"testing"
)

// canonicalTime, the fast path, writes what time.Format does; and the
// cells it leaves alone read back through fastValue as Value's parser
// would read them.
func TestCanonicalTimeIsFormat(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		s := fmt.Sprintf("%04d-%02d-%02d", r.Intn(10000), 1+r.Intn(12), 1+r.Intn(31))
		typ := Date
		if r.Intn(2) == 0 {
			typ = Timestamp
			sep := []string{" ", "T"}[r.Intn(2)]
			s += fmt.Sprintf("%s%02d:%02d:%02d", sep, r.Intn(24), r.Intn(60), r.Intn(60))
			if r.Intn(2) == 0 {
				s += "." + fmt.Sprintf("%06d", r.Intn(1000000))[:1+r.Intn(6)]
				if r.Intn(3) == 0 {
					s += "000"
				}
			}
		}
		fast, ok := canonicalTime(typ, s)
		tm, err := parseTimestamp(s)
		if err != nil || !ok {
			if ok { // parseISO accepted what time.Parse refuses
				t.Fatalf("%s: fast %q, slow %v", s, fast, err)
			}
			continue
		}
		layout := timestampLayout
		if typ == Date {
			layout = dateLayout
		}
		if slow := tm.Format(layout); fast != slow {
			t.Fatalf("%s %s: fast %q, time.Format %q", typ, s, fast, slow)
		}
		c := Column{Type: typ}
		cell := AppendString(nil, fast)
		n, _ := Parse(cell)
		want, err := nodeValue(&c, &n)
		got, ok := fastValue(&c, cell)
		if err != nil || !ok || got != want {
			t.Fatalf("%s: fastValue %v %v, nodeValue %v %v", cell, got, ok, want, err)
		}
	}
}
