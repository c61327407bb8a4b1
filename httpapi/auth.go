package httpapi

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/outlethq/outlet"
)

// caller is who made a request: the operator (admin key) or one tenant.
type caller struct {
	admin    bool
	tenantID string // set for tenant keys
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
type authenticator struct {
	adminHash []byte
	keys      keyStore
	ttl       time.Duration
	now       func() time.Time

	mu    sync.Mutex
	cache map[string]*keyEntry // by hash
}

type keyEntry struct {
	key       *outlet.APIKey // nil: no such key
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
	k, err := a.lookup(r.Context(), hash)
	if err != nil {
		return caller{}, err
	}
	if k == nil {
		return caller{}, outlet.Errorf(outlet.EUNAUTHORIZED, "unknown API key: it may have been revoked; ask the operator for a new one")
	}
	return caller{tenantID: k.TenantID}, nil
}

func (a *authenticator) lookup(ctx context.Context, hash []byte) (*outlet.APIKey, error) {
	now := a.now()
	a.mu.Lock()
	e, ok := a.cache[string(hash)]
	a.mu.Unlock()
	if !ok || now.Sub(e.loadedAt) >= a.ttl {
		k, err := a.keys.APIKeyByHash(ctx, hash)
		if err != nil && outlet.ErrorCode(err) != outlet.ENOTFOUND {
			return nil, err
		}
		e = &keyEntry{key: k, loadedAt: now}
		a.mu.Lock()
		if len(a.cache) > 100000 {
			clear(a.cache)
		}
		a.cache[string(hash)] = e
		a.mu.Unlock()
	}
	if e.key == nil {
		return nil, nil
	}
	a.mu.Lock()
	touch := now.Sub(e.touchedAt) > time.Minute
	if touch {
		e.touchedAt = now
	}
	a.mu.Unlock()
	if touch {
		// Last use is advisory; losing one write to it is harmless.
		go a.keys.TouchAPIKey(context.WithoutCancel(ctx), e.key.ID, now)
	}
	return e.key, nil
}

// forgetKey drops a revoked key from the cache.
func (a *authenticator) forgetKey(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, e := range a.cache {
		if e.key != nil && e.key.ID == id {
			delete(a.cache, h)
		}
	}
}

// authorize checks that c may call a route with the given access for the
// tenant named in its path.
func authorize(c caller, acc access, tenantID string) error {
	switch {
	case c.admin || acc == public:
		return nil
	case acc == adminOnly:
		return outlet.Errorf(outlet.EFORBIDDEN, "this route needs the admin key; a tenant key may only call routes under /v1/tenants/%s", c.tenantID)
	case tenantID != c.tenantID:
		return outlet.Errorf(outlet.EFORBIDDEN, "this key belongs to tenant %q; it can't access tenant %q", c.tenantID, tenantID)
	}
	return nil
}
