package repo

import (
	"container/list"
	"sync"
)

// What a process read from git, kept by what names it for good: a blob by
// its hash, a directory by its commit and path. A long-running reader (git
// dbsync web) then reads a revision from git once, and a plan that reads
// base and revision reads their common files once.
var (
	blobs = newLRU(32<<20, func(b []byte) int { return len(b) })
	dirs  = newLRU(16<<20, func(es []Entry) int { return 64 * (len(es) + 1) })
)

// smallBlob is the largest blob kept: row files and table.json, not a big
// lines file.
const smallBlob = 64 << 10

// lru is a least-recently-used cache of values up to max in cost.
type lru[V any] struct {
	mu         sync.Mutex
	max, total int
	cost       func(V) int
	order      list.List // most recent first; values are *entry[V]
	index      map[string]*list.Element
}

type entry[V any] struct {
	key   string
	value V
	cost  int
}

func newLRU[V any](max int, cost func(V) int) *lru[V] {
	return &lru[V]{max: max, cost: cost, index: map[string]*list.Element{}}
}

// get returns a cached value; the caller must not change it.
func (c *lru[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*entry[V]).value, true
	}
	var zero V
	return zero, false
}

// put keeps a value the caller no longer changes.
func (c *lru[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.index[key]; ok {
		return
	}
	n := c.cost(v)
	c.index[key] = c.order.PushFront(&entry[V]{key, v, n})
	c.total += n
	for c.total > c.max {
		e := c.order.Remove(c.order.Back()).(*entry[V])
		delete(c.index, e.key)
		c.total -= e.cost
	}
}
