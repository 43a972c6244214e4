package repo

import (
	"bytes"
	"container/list"
	"sync"
)

// blobs keeps the small blobs ReadBlobs read (row files), by hash, for
// the whole process: a hash names its content, so a page server that
// compares the same revisions again reads them from git once.
var blobs = &blobCache{max: 32 << 20, limit: 64 << 10, index: map[string]*list.Element{}}

// blobCache is a least-recently-used cache of blobs up to max bytes in
// all, of blobs up to limit bytes each.
type blobCache struct {
	mu         sync.Mutex
	max, limit int
	size       int
	order      list.List // most recent first; values are *cachedBlob
	index      map[string]*list.Element
}

type cachedBlob struct {
	hash string
	data []byte
}

// get returns a copy of a cached blob (callers may keep or change what
// they decode from it), nil when it is not cached.
func (c *blobCache) get(hash string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[hash]; ok {
		c.order.MoveToFront(e)
		return bytes.Clone(e.Value.(*cachedBlob).data)
	}
	return nil
}

func (c *blobCache) put(hash string, data []byte) {
	if len(data) > c.limit || data == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.index[hash]; ok {
		return
	}
	c.index[hash] = c.order.PushFront(&cachedBlob{hash, bytes.Clone(data)})
	c.size += len(data)
	for c.size > c.max {
		last := c.order.Back()
		b := c.order.Remove(last).(*cachedBlob)
		delete(c.index, b.hash)
		c.size -= len(b.data)
	}
}
