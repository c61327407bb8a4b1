package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// keyLookups is the real store, counting the API key lookups made; answer,
// when set, answers them instead of the store.
type keyLookups struct {
	outlet.Store
	n      atomic.Int64
	answer atomic.Pointer[func(hash []byte) (*outlet.APIKey, error)]
}

func (s *keyLookups) APIKeyByHash(ctx context.Context, hash []byte) (*outlet.APIKey, error) {
	s.n.Add(1)
	if answer := s.answer.Load(); answer != nil {
		return (*answer)(hash)
	}
	return s.Store.APIKeyByHash(ctx, hash)
}

// clock is a time the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// authSetup is setup with a store that counts key lookups and a clock the
// test moves; configure may change the rest of the Config.
func authSetup(t *testing.T, configure ...func(*Config)) (*bundle, *keyLookups, *clock) {
	t.Helper()
	lookups := &keyLookups{}
	clk := &clock{t: time.Now()}
	b := setup(t, append([]func(*Config){func(c *Config) {
		lookups.Store = c.Store
		c.Store = lookups
		c.Now = clk.now
	}}, configure...)...)
	return b, lookups, clk
}

func randomKey() string {
	b := make([]byte, 24)
	rand.Read(b)
	return outlet.KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

func TestARepeatedUnknownKeyCostsOneLookupPerCacheTTL(t *testing.T) {
	t.Parallel()
	b, lookups, clk := authSetup(t)
	wrong := "Bearer " + randomKey()
	before := lookups.n.Load()
	for range 20 {
		refused(t, "an unknown key", b.do(t, req{method: "GET", path: "/v1/tenants/acme", auth: wrong}), 401)
	}
	if n := lookups.n.Load() - before; n != 1 {
		t.Errorf("20 requests with one unknown key made %d lookups; want 1", n)
	}
	clk.advance(5 * time.Second) // the default --cache-ttl
	refused(t, "an unknown key, after the cache TTL", b.do(t, req{method: "GET", path: "/v1/tenants/acme", auth: wrong}), 401)
	if n := lookups.n.Load() - before; n != 2 {
		t.Errorf("after the TTL, %d lookups in all; want a second one", n)
	}
}

func TestAFloodOfRandomKeysNeitherEvictsARealKeyNorGrowsTheCachesPastTheirBounds(t *testing.T) {
	t.Parallel()
	b, lookups, _ := authSetup(t, func(c *Config) { c.AuthFailureRate = 0 }) // no failure limit: every random key is looked up and cached
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/acme", auth: "Bearer " + b.key}, nil)
	a := b.api.auth
	// SQLite would answer "not found" to every random key; asking it 200,000
	// times under the race detector takes minutes and tells nothing more
	// about the caches. The real key is looked up in SQLite again after the
	// flood — if it has to be.
	notFound := func([]byte) (*outlet.APIKey, error) { return nil, outlet.Errorf(outlet.ENOTFOUND, "no such key") }
	lookups.answer.Store(&notFound)

	const flood = 200000
	deadline := time.Now().Add(3 * time.Minute)
	first, last := "0", strconv.Itoa(flood-1)
	var wg sync.WaitGroup
	var failures atomic.Int64
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			for i := w; i < flood; i += workers {
				if i%1000 == 0 && time.Now().After(deadline) {
					failures.Add(1)
					return
				}
				key := strconv.Itoa(i) // a key no one has
				r := httptest.NewRequest("GET", "/v1/tenants/acme", nil)
				r.Header.Set("Authorization", "Bearer "+key)
				if _, err := a.authenticate(r); outlet.ErrorCode(err) != outlet.EUNAUTHORIZED {
					failures.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatalf("the flood didn't finish in time, or a random key wasn't refused as unknown")
	}

	a.mu.Lock()
	known, unknown := a.known.len(), a.unknown.len()
	_, firstCached := a.unknown.get(string(outlet.HashAPIKey(first)))
	_, lastCached := a.unknown.get(string(outlet.HashAPIKey(last)))
	a.mu.Unlock()
	if unknown != maxUnknownKeys || known > 2 {
		t.Errorf("after %d random keys the caches hold %d unknown and %d known keys; want %d (the bound) and the real ones", flood, unknown, known, maxUnknownKeys)
	}
	if firstCached || !lastCached {
		t.Errorf("the first random key is cached: %v, the last: %v; want the least recently used evicted", firstCached, lastCached)
	}
	if n := lookups.n.Load(); n < flood {
		t.Fatalf("the flood made %d lookups; want one per random key", n)
	}
	lookups.answer.Store(nil)
	before := lookups.n.Load()
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/acme", auth: "Bearer " + b.key}, nil)
	if n := lookups.n.Load() - before; n != 0 {
		t.Errorf("the real key was looked up %d times after the flood; want it still cached", n)
	}
}

func TestAFloodOfBadKeysFromOneAddressIsRefusedWith429WhileItsGoodKeysWork(t *testing.T) {
	t.Parallel()
	// One failure per 100 s after a burst of 5: the clock never refills it
	// by accident.
	b, lookups, clk := authSetup(t, func(c *Config) { c.AuthFailureRate, c.AuthFailureBurst = 0.01, 5 })
	get := func(auth string) answer {
		return b.do(t, req{method: "GET", path: "/v1/tenants/acme/endpoints", auth: "Bearer " + auth})
	}
	for i := range 5 {
		refused(t, "bad key "+strconv.Itoa(i+1)+" of the burst", get(randomKey()), 401)
	}
	before := lookups.n.Load()
	for i := range 50 {
		a := get(randomKey())
		e := refused(t, "a bad key past the burst", a, 429)
		wait, err := strconv.Atoi(a.header.Get("Retry-After"))
		if e.Code != outlet.ERATELIMIT || err != nil || wait < 1 || wait > 100 {
			t.Fatalf("bad key %d past the burst: %s, Retry-After %q; want rate_limited and a wait of 1-100 s", i+1, a.body, a.header.Get("Retry-After"))
		}
	}
	if n := lookups.n.Load() - before; n != 0 {
		t.Errorf("50 bad keys past the limit made %d lookups; want none", n)
	}

	// Keys the node has seen keep working from the same address, even once
	// their cache entry is stale; so does the admin key.
	if a := get(b.key); a.status != 200 {
		t.Errorf("acme's key answered %d: %s; want 200", a.status, a.body)
	}
	clk.advance(6 * time.Second) // past the cache TTL, far from a refill
	if a := get(b.key); a.status != 200 {
		t.Errorf("acme's key, its cache entry stale, answered %d: %s; want 200", a.status, a.body)
	}
	if a := get(adminKey); a.status != 200 {
		t.Errorf("the admin key answered %d; want 200", a.status)
	}
	// A key the node hasn't seen can't be told from a random one without
	// the lookup the limit saves: it waits like one.
	var fresh struct{ Key string }
	b.must(t, 201, req{method: "POST", path: "/v1/tenants/acme/api-keys", auth: "Bearer " + adminKey, body: `{}`}, &fresh)
	refused(t, "an unseen key from the limited address", get(fresh.Key), 429)

	// Once the wait is over, the new key is looked up — a success costs
	// the allowance nothing — and a bad key is an ordinary 401 again.
	clk.advance(100 * time.Second)
	if a := get(fresh.Key); a.status != 200 {
		t.Errorf("the new key, after the wait, answered %d: %s; want 200", a.status, a.body)
	}
	refused(t, "a bad key after the wait", get(randomKey()), 401)
	refused(t, "the next bad key", get(randomKey()), 429)
}

func TestFailuresAreCountedPerAddressAndPerIPv6Slash64(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ remote, client string }{
		{"203.0.113.7:5123", "203.0.113.7"},
		{"[::ffff:203.0.113.7]:5123", "203.0.113.7"},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb:cccc:dddd:eeee]:80", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:80", "2001:db8:1:3::/64"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if got := clientOf(r); got != c.client {
			t.Errorf("a request from %s counts as %s; want %s", c.remote, got, c.client)
		}
	}
}

func TestForgettingATenantDropsEveryCachedKeyOfItAtOnce(t *testing.T) {
	t.Parallel()
	b, lookups, _ := authSetup(t)
	acme := req{method: "GET", path: "/v1/tenants/acme", auth: "Bearer " + b.key}
	globex := req{method: "GET", path: "/v1/tenants/globex", auth: "Bearer " + b.otherKey}
	b.must(t, 200, acme, nil)
	b.must(t, 200, globex, nil)
	// Deleted in the store behind the cache's back, as on another node:
	// the cached key would work until the cache TTL.
	if err := b.store.DeleteTenant(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}
	b.api.auth.forgetTenant("acme")
	refused(t, "a deleted tenant's key", b.do(t, acme), 401)
	before := lookups.n.Load()
	b.must(t, 200, globex, nil)
	if n := lookups.n.Load() - before; n != 0 {
		t.Errorf("another tenant's key was looked up %d times; want it still cached", n)
	}
}

func TestATenantKeyOnTheOperatorsRouteIsToldWhoseRouteItIs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range []req{
		{method: "PATCH", path: "/v1/tenants/acme", body: `{"name":"Acme Corp"}`},
		{method: "DELETE", path: "/v1/tenants/acme"},
		{method: "POST", path: "/v1/tenants/acme/api-keys", body: `{}`},
		{method: "POST", path: "/v1/tenants", body: `{"id":"newco","name":"New"}`},
	} {
		r.auth = "Bearer " + b.key
		e := refused(t, r.method+" "+r.path+" with a tenant key", b.do(t, r), 403)
		want := r.method + " " + r.path + " is the operator's route: it needs the admin key"
		if !strings.HasPrefix(e.Message, want) || strings.Contains(e.Message, "may only call routes under") {
			t.Errorf("%s %s: %q; want a message starting %q", r.method, r.path, e.Message, want)
		}
	}
}

func TestTheLRUDropsTheLeastRecentlyUsedEntry(t *testing.T) {
	t.Parallel()
	c := newLRU[string, int](2)
	c.put("a", 1)
	c.put("b", 2)
	c.get("a") // b is now the least recently used
	c.put("c", 3)
	if _, ok := c.get("b"); ok || c.len() != 2 {
		t.Errorf("b is still cached (%d entries); want it dropped for c", c.len())
	}
	if v, ok := c.get("a"); !ok || v != 1 {
		t.Errorf("a: %d %v; want 1, kept because it was used", v, ok)
	}
	c.removeIf(func(k string, _ int) bool { return k == "a" })
	if _, ok := c.get("a"); ok || c.len() != 1 {
		t.Errorf("a survived removeIf")
	}
}
