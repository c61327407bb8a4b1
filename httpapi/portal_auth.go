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

type sessionStore interface {
	PortalSessionBySecret(ctx context.Context, secretHash []byte) (*outlet.PortalSession, error)
	ExchangePortalSession(ctx context.Context, tokenHash, secretHash []byte, now time.Time) (*outlet.PortalSession, error)
}

// sessionAuth authenticates the portal's cookie. Sessions are cached for
// ttl after a lookup, as keys are: one revoked through this node stops at
// once, one revoked on another node within ttl. Expiry is checked at every
// use against the clock, so a cached session ends on time.
//
// Cookies that aren't found count as failures of their client address, in
// the authenticator's limiter, as unknown keys do.
type sessionAuth struct {
	store sessionStore
	keys  *authenticator // its failure limiter
	ttl   time.Duration
	now   func() time.Time
	off   bool // the portal is switched off: cookies are ignored

	mu      sync.Mutex
	known   *lru[string, *sessionEntry] // by the hash of the cookie's secret
	unknown *lru[string, time.Time]
	// forgets counts revocations: a lookup that ran across one doesn't
	// cache what it read, which may predate it.
	forgets uint64
}

type sessionEntry struct {
	session  *outlet.PortalSession
	loadedAt time.Time
}

const (
	maxKnownSessions   = 100000
	maxUnknownSessions = 100000
)

func newSessionAuth(store sessionStore, keys *authenticator, ttl time.Duration, now func() time.Time, off bool) *sessionAuth {
	return &sessionAuth{store: store, keys: keys, ttl: ttl, now: now, off: off,
		known: newLRU[string, *sessionEntry](maxKnownSessions), unknown: newLRU[string, time.Time](maxUnknownSessions)}
}

// portalCaller is who a request authenticated with the portal's cookie is.
type portalCaller struct {
	session *outlet.PortalSession
	csrf    string // the token its writes must carry
}

// cookieOf is the portal's cookie secret r carries, if the portal is on and
// r has no Authorization header: a key, when sent, always decides.
func (sa *sessionAuth) cookieOf(r *http.Request) (string, bool) {
	if sa.off || r.Header.Get("Authorization") != "" {
		return "", false
	}
	c, err := r.Cookie(outlet.PortalCookieName)
	if err != nil || c.Value == "" {
		return "", false
	}
	return c.Value, true
}

// authenticate finds the live session of the cookie secret.
func (sa *sessionAuth) authenticate(r *http.Request, secret string) (caller, *portalCaller, error) {
	ps, err := sa.lookup(r.Context(), secret, clientOf(r))
	if err != nil {
		return caller{}, nil, err
	}
	pc := &portalCaller{session: ps, csrf: outlet.PortalCSRFToken(secret)}
	if ps.Admin() {
		return caller{admin: true}, pc, nil
	}
	return caller{tenantID: ps.TenantID}, pc, nil
}

// lookup finds the session of a cookie secret, from the cache when it can,
// and checks that it may be used now.
func (sa *sessionAuth) lookup(ctx context.Context, secret, client string) (*outlet.PortalSession, error) {
	now := sa.now()
	hash := outlet.HashPortalSecret(secret)
	h := string(hash)
	sa.mu.Lock()
	if e, ok := sa.known.get(h); ok && now.Sub(e.loadedAt) < sa.ttl {
		sa.mu.Unlock()
		return e.session, e.session.Usable(now)
	}
	at, unknown := sa.unknown.get(h)
	gen := sa.forgets
	sa.mu.Unlock()
	if unknown && now.Sub(at) < sa.ttl {
		return nil, sa.failed(client, now)
	}
	if wait := sa.blockedFor(client, now); wait > 0 {
		return nil, tooManyFailures(client, wait)
	}

	ps, err := sa.store.PortalSessionBySecret(ctx, hash)
	if err != nil && outlet.ErrorCode(err) != outlet.ENOTFOUND {
		return nil, err
	}
	sa.mu.Lock()
	switch {
	case ps == nil:
		sa.known.remove(h)
		sa.unknown.put(h, now)
	case sa.forgets == gen:
		sa.unknown.remove(h)
		sa.known.put(h, &sessionEntry{session: ps, loadedAt: now})
	}
	// Else a session was revoked while this lookup ran: what it read may
	// predate that, so it is not kept, and the next request reads again.
	sa.mu.Unlock()
	if ps == nil {
		return nil, sa.failed(client, now)
	}
	return ps, ps.Usable(now)
}

// exchange opens the session a link's token names, recording secret as its
// cookie's. A token that opens nothing is a failure of client's, as an
// unknown key is: past its limit, client's tokens are refused without a
// write to the store.
func (sa *sessionAuth) exchange(ctx context.Context, token, secret, client string) (*outlet.PortalSession, error) {
	now := sa.now()
	if wait := sa.blockedFor(client, now); wait > 0 {
		return nil, tooManyFailures(client, wait)
	}
	ps, err := sa.store.ExchangePortalSession(ctx, outlet.HashPortalSecret(token), outlet.HashPortalSecret(secret), now)
	if outlet.ErrorCode(err) == outlet.ENOTFOUND {
		if f := sa.failed(client, now); retryAfter(f) > 0 {
			return nil, f
		}
	}
	return ps, err
}

// RetryAfter is how long a throttled client must wait, for callers outside
// this package: the portal's exchange answers with it.
func (t *throttled) RetryAfter() time.Duration { return t.wait }

// failed counts a cookie no session has as a failure of client's.
func (sa *sessionAuth) failed(client string, now time.Time) error {
	sa.keys.mu.Lock()
	err := sa.keys.failed(client, now)
	sa.keys.mu.Unlock()
	if retryAfter(err) > 0 {
		return err
	}
	return outlet.Errorf(outlet.EUNAUTHORIZED, "unknown portal session: it may have ended; open the portal again from your platform")
}

func (sa *sessionAuth) blockedFor(client string, now time.Time) time.Duration {
	sa.keys.mu.Lock()
	defer sa.keys.mu.Unlock()
	return sa.keys.blockedFor(client, now)
}

// forget drops a revoked session from the cache.
func (sa *sessionAuth) forget(id string) {
	sa.mu.Lock()
	defer sa.mu.Unlock()
	sa.forgets++
	sa.known.removeIf(func(_ string, e *sessionEntry) bool { return e.session.ID == id })
}

// forgetTenant drops the sessions of a deleted tenant.
func (sa *sessionAuth) forgetTenant(tenantID string) {
	sa.mu.Lock()
	defer sa.mu.Unlock()
	sa.forgets++
	sa.known.removeIf(func(_ string, e *sessionEntry) bool { return e.session.TenantID == tenantID })
}

// check applies what a session may do beyond its tenant's rights: writes
// carry the CSRF token, a read-only session writes nothing, and a feature
// switched off takes no writes.
func (pc *portalCaller) check(r *http.Request) error {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	if got := r.Header.Get(outlet.PortalCSRFHeader); subtle.ConstantTimeCompare([]byte(got), []byte(pc.csrf)) != 1 {
		what := "wrong"
		if got == "" {
			what = "missing"
		}
		return outlet.Errorf(outlet.EFORBIDDEN, "the CSRF token is %s: a write with the portal's session cookie must send header %s "+
			"with the csrf value of the page's outlet-session meta tag", what, outlet.PortalCSRFHeader)
	}
	if pc.session.ReadOnly {
		return outlet.Errorf(outlet.EFORBIDDEN, "this portal session is read-only: it may not %s %s", r.Method, r.URL.Path)
	}
	if name, on := featureOf(pc.session.Features, r.URL.Path); !on {
		return outlet.Errorf(outlet.EFORBIDDEN, "this portal session has the %s feature switched off: it may not change %s", name, name)
	}
	return nil
}

// featureOf names the portal feature a tenant's route belongs to, and
// whether f has it on; routes of no feature are always on.
func featureOf(f outlet.PortalFeatures, path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/v1/tenants/")
	if !ok {
		return "", true
	}
	_, rest, _ = strings.Cut(rest, "/")
	section, _, _ := strings.Cut(rest, "/")
	switch section {
	case "functions":
		return section, f.Functions
	case "endpoints":
		return section, f.Endpoints
	case "hooks":
		return section, f.Hooks
	case "secrets":
		return section, f.Secrets
	}
	return "", true
}

type portalCallerKey struct{}

// portalCallerOf is the portal session that made r, if one did.
func portalCallerOf(r *http.Request) *portalCaller {
	pc, _ := r.Context().Value(portalCallerKey{}).(*portalCaller)
	return pc
}
