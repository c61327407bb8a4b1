package sandbox

import (
	"container/list"
	"sync"

	"github.com/outlethq/outlet"
)

// warmKey names the engines that can serve a call: one version of one
// function, made with the same limits. The version's internal identity (uid)
// is what makes two keys the same; the public names are there to find a
// tenant's or a function's engines when they are deleted. Outside the server
// (outlet dev, tests) a version may have no uid, and its code's hash and
// version number stand in.
type warmKey struct {
	tenant, tenantUID string
	name, uid, sha    string
	version           int
	runtime           string
	memoryMB, frames  int
}

func keyOf(fn Function, lim Limits) warmKey {
	return warmKey{tenant: fn.Tenant, tenantUID: fn.TenantUID, name: fn.Name, uid: fn.UID, sha: fn.SHA256,
		version: fn.Version, runtime: engineKind(fn.Runtime), memoryMB: lim.MemoryMB, frames: lim.MaxFrames}
}

// engineKind is the engine a runtime runs on: TypeScript is JavaScript by
// the time it runs.
func engineKind(runtime string) string {
	if runtime == outlet.RuntimeTypeScript {
		return outlet.RuntimeJavaScript
	}
	return runtime
}

// engine is a JavaScript VM or a Wasm instance that finished a call cleanly
// and may serve the next one of its key.
type engine interface {
	close()
}

// warmPerKey bounds the engines kept for one key: more only help a function
// called that often at once, and the pool's budget decides the rest.
const warmPerKey = 4

// WarmStats is what the warm pool holds, for /metrics.
type WarmStats struct {
	Engines map[string]int    // by runtime
	Bytes   map[string]uint64 // by runtime
}

// warmPool keeps engines between calls, within a node-wide budget of bytes
// and of count and a per-tenant share of the bytes, least recently used out
// first. An engine counts what its engine says it holds (the JavaScript
// heap; a Wasm instance's memory, tables and stack reserve).
//
// Engines of a tenant or a function that was deleted, or whose secrets
// changed, are discarded at once; one in use at that moment is closed when
// its call ends instead of coming back (see stale).
type warmPool struct {
	budget, tenantBudget uint64
	maxCount             int

	mu       sync.Mutex
	lru      *list.List // of *warmEntry, least recently used first
	byKey    map[warmKey][]*list.Element
	byTenant map[string]uint64 // bytes held, by tenant
	total    uint64
	stats    WarmStats

	// gen counts discards. An engine remembers the gen at which it left the
	// pool or was made (its born); a discard of its tenant or function after
	// that means it may hold what was discarded.
	gen       uint64
	discarded map[string]uint64 // by tenant, and by tenant + "\x00" + function
	floor     uint64            // every engine born before it is stale
	closed    bool
}

type warmEntry struct {
	key  warmKey
	eng  engine
	size uint64
	born uint64
}

func newWarmPool(budget, tenantBudget uint64, maxCount int) *warmPool {
	return &warmPool{budget: budget, tenantBudget: tenantBudget, maxCount: maxCount,
		lru: list.New(), byKey: map[warmKey][]*list.Element{}, byTenant: map[string]uint64{},
		stats:     WarmStats{Engines: map[string]int{}, Bytes: map[string]uint64{}},
		discarded: map[string]uint64{}}
}

// birth is the generation an engine made or taken now is born at.
func (p *warmPool) birth() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen
}

// take removes and returns the most recently kept engine for the key, with
// its birth, or nil.
func (p *warmPool) take(key warmKey) (engine, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	els := p.byKey[key]
	if len(els) == 0 {
		return nil, 0
	}
	e := p.remove(els[len(els)-1])
	return e.eng, p.gen
}

// has reports whether an engine for the key is kept.
func (p *warmPool) has(key warmKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byKey[key]) > 0
}

// put keeps an engine that finished a call cleanly, or closes it when it may
// not stay: it is stale, too big for its tenant's share, or the key has all
// the engines it may. Keeping it may close others, least recently used
// first.
func (p *warmPool) put(key warmKey, eng engine, size, born uint64) {
	p.mu.Lock()
	var closing []engine
	defer func() {
		p.mu.Unlock()
		for _, e := range closing {
			e.close()
		}
	}()
	if p.closed || p.stale(key, born) || len(p.byKey[key]) >= warmPerKey || size > p.tenantBudget || size > p.budget {
		closing = append(closing, eng)
		return
	}
	e := &warmEntry{key: key, eng: eng, size: size, born: born}
	p.byKey[key] = append(p.byKey[key], p.lru.PushBack(e))
	p.byTenant[key.tenant] += size
	p.total += size
	p.stats.Engines[key.runtime]++
	p.stats.Bytes[key.runtime] += size
	// The tenant's own least recently used go first while it is over its
	// share; then everyone's, while the node is over its budget.
	for el := p.lru.Front(); el != nil && p.byTenant[key.tenant] > p.tenantBudget; {
		next := el.Next()
		if old := el.Value.(*warmEntry); old.key.tenant == key.tenant {
			closing = append(closing, p.remove(el).eng)
		}
		el = next
	}
	for p.lru.Len() > 0 && (p.total > p.budget || p.lru.Len() > p.maxCount) {
		closing = append(closing, p.remove(p.lru.Front()).eng)
	}
}

// stale reports whether an engine born at born may hold state of something
// discarded since. p.mu is held.
func (p *warmPool) stale(key warmKey, born uint64) bool {
	return born < p.floor || born < p.discarded[key.tenant] || born < p.discarded[key.tenant+"\x00"+key.name]
}

// remove takes an element out of the pool. p.mu is held.
func (p *warmPool) remove(el *list.Element) *warmEntry {
	e := p.lru.Remove(el).(*warmEntry)
	els := p.byKey[e.key]
	for i, x := range els {
		if x == el {
			els = append(els[:i], els[i+1:]...)
			break
		}
	}
	if len(els) == 0 {
		delete(p.byKey, e.key)
	} else {
		p.byKey[e.key] = els
	}
	p.byTenant[e.key.tenant] -= e.size
	if p.byTenant[e.key.tenant] == 0 {
		delete(p.byTenant, e.key.tenant)
	}
	p.total -= e.size
	p.stats.Engines[e.key.runtime]--
	p.stats.Bytes[e.key.runtime] -= e.size
	return e
}

// maxDiscarded bounds what the pool remembers of discards; past it, every
// engine out of the pool is treated as stale instead.
const maxDiscarded = 10000

// discard closes every kept engine of the tenant (of its function, when
// function is not empty), and makes those in use now stale.
func (p *warmPool) discard(tenant, function string) {
	p.mu.Lock()
	var closing []engine
	p.gen++
	if len(p.discarded) >= maxDiscarded {
		clear(p.discarded)
		p.floor = p.gen
	}
	if function == "" {
		p.discarded[tenant] = p.gen
	} else {
		p.discarded[tenant+"\x00"+function] = p.gen
	}
	for el := p.lru.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*warmEntry); e.key.tenant == tenant && (function == "" || e.key.name == function) {
			closing = append(closing, p.remove(el).eng)
		}
		el = next
	}
	p.mu.Unlock()
	for _, e := range closing {
		e.close()
	}
}

// snapshot reports what the pool holds.
func (p *warmPool) snapshot() WarmStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := WarmStats{Engines: map[string]int{}, Bytes: map[string]uint64{}}
	for k, v := range p.stats.Engines {
		s.Engines[k] = v
	}
	for k, v := range p.stats.Bytes {
		s.Bytes[k] = v
	}
	return s
}

// close discards everything and keeps nothing from now on.
func (p *warmPool) close() {
	p.mu.Lock()
	p.closed = true
	var closing []engine
	for p.lru.Len() > 0 {
		closing = append(closing, p.remove(p.lru.Front()).eng)
	}
	p.mu.Unlock()
	for _, e := range closing {
		e.close()
	}
}
