package functions

import (
	"sync"
	"time"
)

// ttlCache keeps values for a while after loading them. A load error is not
// kept: the next get tries again. A load that was under way when entries
// were dropped doesn't store what it read, which may predate the change.
type ttlCache[K comparable, V any] struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[K]ttlEntry[V]
	gen uint64 // counts drops
}

type ttlEntry[V any] struct {
	v  V
	at time.Time
}

// maxEntries bounds a cache; past it, it starts afresh.
const maxEntries = 100000

func newTTLCache[K comparable, V any](ttl time.Duration) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, m: map[K]ttlEntry[V]{}}
}

func (c *ttlCache[K, V]) get(k K, load func() (V, error)) (V, error) {
	c.mu.Lock()
	e, ok := c.m[k]
	gen := c.gen
	c.mu.Unlock()
	if ok && time.Since(e.at) < c.ttl {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.m) >= maxEntries {
			clear(c.m)
		}
		c.m[k] = ttlEntry[V]{v: v, at: time.Now()}
	}
	c.mu.Unlock()
	return v, nil
}

// peek returns what is kept for k, however old, without loading it.
func (c *ttlCache[K, V]) peek(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	return e.v, ok
}

func (c *ttlCache[K, V]) drop(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.gen++
	c.mu.Unlock()
}

func (c *ttlCache[K, V]) dropWhere(match func(K) bool) {
	c.mu.Lock()
	for k := range c.m {
		if match(k) {
			delete(c.m, k)
		}
	}
	c.gen++
	c.mu.Unlock()
}
