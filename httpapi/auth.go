package httpapi

import (
	clist "container/list" // httpapi has a list() of its own
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/outlethq/outlet"
)

// caller is who made a request: the operator (admin key) or one tenant.
type caller struct {
	admin    bool
	tenantID string // set for tenant keys
	keyID    string // the tenant key's id
}

// access says who may call a route.
type access int

const (
	adminOnly   access = iota // the operator's routes
	tenantScope               // routes under /v1/tenants/{tenant}: the admin, or that tenant's keys
	public                    // health and metrics
)

type keyStore interface {
	APIKeyByHash(ctx context.Context, hash []byte) (*outlet.APIKey, error)
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

func (a access) String() string {
	switch a {
	case adminOnly:
		return "admin"
	case tenantScope:
		return "tenant"
	default:
		return "public"
	}
}

// authenticator checks bearer keys. Tenant keys are cached for ttl after a
// lookup, so a key revoked on another node stops working within ttl; one
// revoked through this node stops at once.
//
// Keys that aren't found are cached too, apart, so that a client repeating
// a wrong key costs one lookup per ttl, and so that a flood of random keys
// evicts other random keys, never a real one. Random keys are new each time,
// so what bounds their cost is the limit on failures per client address:
// past it, a key this node doesn't know is refused with 429 without a
// lookup, while keys it knows keep working.
type authenticator struct {
	adminHash []byte
	keys      keyStore
	ttl       time.Duration
	now       func() time.Time
	// failureRate is the failed authentications per second a client
	// address may make (0: no limit); failureBurst how many at once.
	failureRate  rate.Limit
	failureBurst int

	mu       sync.Mutex
	known    *lru[string, *keyEntry]     // by hash
	unknown  *lru[string, time.Time]     // hashes not found, by when they were looked up
	failures *lru[string, *rate.Limiter] // by client address (an IPv6 /64)
	// forgets counts revocations: a lookup that ran across one doesn't
	// cache what it read, which may predate it.
	forgets uint64
}

// The most entries each cache holds. A key entry is a few hundred bytes, a
// limiter about as much: at most some tens of MiB in all.
const (
	maxKnownKeys      = 100000
	maxUnknownKeys    = 100000
	maxFailingClients = 100000
)

func newAuthenticator(adminKey string, keys keyStore, ttl time.Duration, now func() time.Time, failureRate float64, failureBurst int) *authenticator {
	return &authenticator{adminHash: outlet.HashAPIKey(adminKey), keys: keys, ttl: ttl, now: now,
		failureRate: rate.Limit(failureRate), failureBurst: max(failureBurst, 1),
		known: newLRU[string, *keyEntry](maxKnownKeys), unknown: newLRU[string, time.Time](maxUnknownKeys),
		failures: newLRU[string, *rate.Limiter](maxFailingClients)}
}

type keyEntry struct {
	key       *outlet.APIKey
	loadedAt  time.Time
	touchedAt time.Time
}

func (a *authenticator) authenticate(r *http.Request) (caller, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return caller{}, outlet.Errorf(outlet.EUNAUTHORIZED, "missing API key: send the header Authorization: Bearer <key>")
	}
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return caller{}, outlet.Errorf(outlet.EUNAUTHORIZED, "the Authorization header must be \"Bearer <key>\"")
	}
	hash := outlet.HashAPIKey(strings.TrimSpace(key))
	if subtle.ConstantTimeCompare(hash, a.adminHash) == 1 {
		return caller{admin: true}, nil
	}
	k, err := a.lookup(r.Context(), hash, clientOf(r))
	if err != nil {
		return caller{}, err
	}
	return caller{tenantID: k.TenantID, keyID: k.ID}, nil
}

// lookup finds the key with the given hash, from the cache when it can. A
// key it doesn't find is a failure of client's.
func (a *authenticator) lookup(ctx context.Context, hash []byte, client string) (*outlet.APIKey, error) {
	now := a.now()
	h := string(hash)
	a.mu.Lock()
	e, known := a.known.get(h)
	switch {
	case known && now.Sub(e.loadedAt) < a.ttl:
		defer a.mu.Unlock()
		return a.touchLocked(ctx, e, now), nil
	case known:
		// A key that was good is looked up again whoever sends it: a
		// client over its failure limit may still use its own keys.
	default:
		if at, ok := a.unknown.get(h); ok && now.Sub(at) < a.ttl {
			err := a.failed(client, now)
			a.mu.Unlock()
			return nil, err
		}
		if wait := a.blockedFor(client, now); wait > 0 {
			a.mu.Unlock()
			return nil, tooManyFailures(client, wait)
		}
	}
	gen := a.forgets
	a.mu.Unlock()

	k, err := a.keys.APIKeyByHash(ctx, hash)
	if err != nil && outlet.ErrorCode(err) != outlet.ENOTFOUND {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if k != nil && a.forgets != gen {
		// A key or tenant was forgotten while this lookup ran: what it read
		// may predate the revocation, so it answers from a new read.
		a.mu.Unlock()
		k, err = a.keys.APIKeyByHash(ctx, hash)
		a.mu.Lock()
		if err != nil && outlet.ErrorCode(err) != outlet.ENOTFOUND {
			return nil, err
		}
		if k != nil {
			return k, nil // not cached: another revocation may be on its way
		}
	}
	if k == nil {
		a.known.remove(h)
		a.unknown.put(h, now)
		return nil, a.failed(client, now)
	}
	a.unknown.remove(h)
	fresh := &keyEntry{key: k, loadedAt: now}
	if known {
		fresh.touchedAt = e.touchedAt
	}
	a.known.put(h, fresh)
	return a.touchLocked(ctx, fresh, now), nil
}

// touchLocked records, at most once a minute, that the key was used; a.mu
// is held.
func (a *authenticator) touchLocked(ctx context.Context, e *keyEntry, now time.Time) *outlet.APIKey {
	if now.Sub(e.touchedAt) > time.Minute {
		e.touchedAt = now
		// Last use is advisory; losing one write to it is harmless.
		go a.keys.TouchAPIKey(context.WithoutCancel(ctx), e.key.ID, now)
	}
	return e.key
}

// failed counts a failed authentication of client's, with a.mu held, and
// returns the error to answer it with: 401, or 429 once the client is over
// its limit.
func (a *authenticator) failed(client string, now time.Time) error {
	unknown := outlet.Errorf(outlet.EUNAUTHORIZED, "unknown API key: it may have been revoked; ask the operator for a new one")
	if a.failureRate <= 0 {
		return unknown
	}
	lim, ok := a.failures.get(client)
	if !ok {
		lim = rate.NewLimiter(a.failureRate, a.failureBurst)
		a.failures.put(client, lim)
	}
	if lim.AllowN(now, 1) {
		return unknown
	}
	return tooManyFailures(client, waitFor(lim, now))
}

// blockedFor says how long client must wait before its next failure is
// allowed, with a.mu held: 0 if it may fail now.
func (a *authenticator) blockedFor(client string, now time.Time) time.Duration {
	if a.failureRate <= 0 {
		return 0
	}
	lim, ok := a.failures.get(client)
	if !ok || lim.TokensAt(now) >= 1 {
		return 0
	}
	return waitFor(lim, now)
}

// waitFor is how long until lim allows one more.
func waitFor(lim *rate.Limiter, now time.Time) time.Duration {
	missing := 1 - lim.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(lim.Limit()) * float64(time.Second))
}

// throttled is a refusal of a client over its failure limit: 429, with
// the wait in Retry-After.
type throttled struct {
	err  *outlet.Error
	wait time.Duration
}

func (t *throttled) Error() string { return t.err.Error() }
func (t *throttled) Unwrap() error { return t.err }

func tooManyFailures(client string, wait time.Duration) error {
	return &throttled{wait: wait, err: outlet.Errorf(outlet.ERATELIMIT,
		"too many requests with unknown API keys from %s; check the key, and retry after the time in Retry-After "+
			"(keys this node has seen are still accepted meanwhile)", client)}
}

// retryAfter is how long a throttled caller must wait; 0 for any other error.
func retryAfter(err error) time.Duration {
	var t *throttled
	if errors.As(err, &t) {
		return t.wait
	}
	return 0
}

// clientOf names the client whose failures are counted together: its IP
// address, or for IPv6 its /64, since one host commonly holds a whole /64.
func clientOf(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	ip := ap.Addr().Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// forgetKey drops a revoked key from the cache.
func (a *authenticator) forgetKey(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.forgets++
	a.known.removeIf(func(_ string, e *keyEntry) bool { return e.key.ID == id })
}

// forgetTenant drops every cached key of a deleted tenant, so that none of
// them works on this node a moment longer (nor, were the id reused, for
// the new tenant of that id).
func (a *authenticator) forgetTenant(tenantID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.forgets++
	a.known.removeIf(func(_ string, e *keyEntry) bool { return e.key.TenantID == tenantID })
}

// lru is a map bounded in entries that drops the least recently used one
// to make room. It is not safe for concurrent use.
type lru[K comparable, V any] struct {
	max   int
	items map[K]*clist.Element
	order *clist.List // of *lruItem[K, V], the most recently used first
}

type lruItem[K comparable, V any] struct {
	key K
	val V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, items: map[K]*clist.Element{}, order: clist.New()}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	el, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruItem[K, V]).val, true
}

func (c *lru[K, V]) put(k K, v V) {
	if el, ok := c.items[k]; ok {
		el.Value.(*lruItem[K, V]).val = v
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&lruItem[K, V]{key: k, val: v})
	if c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*lruItem[K, V]).key)
	}
}

func (c *lru[K, V]) remove(k K) {
	if el, ok := c.items[k]; ok {
		c.order.Remove(el)
		delete(c.items, k)
	}
}

func (c *lru[K, V]) removeIf(drop func(K, V) bool) {
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if it := el.Value.(*lruItem[K, V]); drop(it.key, it.val) {
			c.order.Remove(el)
			delete(c.items, it.key)
		}
		el = next
	}
}

func (c *lru[K, V]) len() int { return c.order.Len() }

// authorize checks that c may call the route of r, whose access is acc.
func authorize(c caller, acc access, r *http.Request) error {
	tenantID := r.PathValue("tenant")
	switch {
	case c.admin || acc == public:
		return nil
	case acc == adminOnly:
		// Some of the operator's routes sit under /v1/tenants/{tenant}
		// (changing or deleting the tenant, its keys): say whose route it
		// is, not where a tenant key may go.
		return outlet.Errorf(outlet.EFORBIDDEN, "%s %s is the operator's route: it needs the admin key "+
			"(a tenant key can call its tenant's own routes; see docs/api.md)", r.Method, r.URL.Path)
	case tenantID != c.tenantID:
		return outlet.Errorf(outlet.EFORBIDDEN, "this key belongs to tenant %q; it can't access tenant %q", c.tenantID, tenantID)
	}
	return nil
}
