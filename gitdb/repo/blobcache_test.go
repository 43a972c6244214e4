package repo

import "testing"

// The cache keeps the most recently used values within its cost, and
// drops the least recently used first.
func TestLRUDropsTheLeastRecentlyUsed(t *testing.T) {
	c := newLRU(10, func(b []byte) int { return len(b) })
	c.put("a", []byte("aaaa"))
	c.put("b", []byte("bbbb"))
	c.get("a")                 // a is now the most recent
	c.put("c", []byte("cccc")) // 12 > 10: b goes
	if _, ok := c.get("b"); ok {
		t.Error("b, the least recently used, was kept")
	}
	for _, k := range []string{"a", "c"} {
		if v, ok := c.get(k); !ok || len(v) != 4 {
			t.Errorf("%s: %q %v", k, v, ok)
		}
	}
	if c.total != 8 || len(c.index) != 2 || c.order.Len() != 2 {
		t.Errorf("total %d, %d indexed, %d in order", c.total, len(c.index), c.order.Len())
	}
}
