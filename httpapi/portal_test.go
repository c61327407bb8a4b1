package httpapi

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// cookieSession is a portal session opened as the portal opens it: minted
// by the admin, its token exchanged in the store for a cookie secret.
type cookieSession struct {
	id     string
	secret string
	csrf   string
}

// openSession mints a session with body at path (the operator's, or a
// tenant's) and opens it at now.
func (b *bundle) openSession(t *testing.T, path, body string, now time.Time) cookieSession {
	t.Helper()
	var minted struct{ ID, Token, URL string }
	b.must(t, 201, req{method: "POST", path: path, auth: "Bearer " + adminKey, body: body}, &minted)
	secret := outlet.NewPortalCookieSecret()
	if _, err := b.store.ExchangePortalSession(context.Background(), outlet.HashPortalSecret(minted.Token), outlet.HashPortalSecret(secret), now); err != nil {
		t.Fatalf("exchange the token of %s: %v", minted.ID, err)
	}
	return cookieSession{id: minted.ID, secret: secret, csrf: outlet.PortalCSRFToken(secret)}
}

// as is r sent with the session's cookie, and its CSRF token when withCSRF.
func (s cookieSession) as(r req, withCSRF bool) req {
	h := map[string]string{"Cookie": outlet.PortalCookieName + "=" + s.secret}
	for k, v := range r.header {
		h[k] = v
	}
	if withCSRF {
		h[outlet.PortalCSRFHeader] = s.csrf
	}
	r.header = h
	return r
}

const newEndpointBody = `{"url":"http://127.0.0.1:9/portal"}`

func TestAPortalSessionIsItsTenantAndNoOneElse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.openSession(t, "/v1/tenants/acme/portal-sessions", `{}`, time.Now())
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/acme/endpoints"}, false), nil)
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/acme"}, false), nil)
	for _, r := range []req{
		{method: "GET", path: "/v1/tenants/globex/endpoints"},
		{method: "GET", path: "/v1/tenants/globex"},
		{method: "POST", path: "/v1/tenants/globex/endpoints", body: newEndpointBody},
		{method: "GET", path: "/v1/tenants"},
		{method: "POST", path: "/v1/event-types", body: `{"name":"order.created"}`},
		{method: "POST", path: "/v1/tenants/acme/api-keys", body: `{}`},
		{method: "DELETE", path: "/v1/tenants/acme"},
		{method: "POST", path: "/v1/tenants/acme/portal-sessions", body: `{}`},
		{method: "GET", path: "/v1/portal-sessions"},
	} {
		refused(t, "acme's session: "+r.method+" "+r.path, b.do(t, s.as(r, true)), 403)
	}
}

func TestAPortalSessionsWritesNeedItsCSRFToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.openSession(t, "/v1/tenants/acme/portal-sessions", `{}`, time.Now())
	other := b.openSession(t, "/v1/tenants/acme/portal-sessions", `{}`, time.Now())
	before := b.snapshot(t)
	for what, header := range map[string]map[string]string{
		"no token":                       nil,
		"an empty token":                 {outlet.PortalCSRFHeader: ""},
		"another session's token":        {outlet.PortalCSRFHeader: other.csrf},
		"the cookie's secret as a token": {outlet.PortalCSRFHeader: s.secret},
		"the token with a byte changed":  {outlet.PortalCSRFHeader: s.csrf[:len(s.csrf)-1] + "x"},
	} {
		for _, r := range []req{
			{method: "POST", path: "/v1/tenants/acme/endpoints", body: newEndpointBody},
			{method: "DELETE", path: "/v1/tenants/acme/endpoints/" + b.endpoint},
			{method: "PUT", path: "/v1/tenants/acme/secrets/NEW", body: `{"value":"v"}`},
			{method: "PATCH", path: "/v1/tenants/acme/endpoints/" + b.endpoint, body: `{"description":"x"}`},
		} {
			r.header = header
			e := refused(t, what+": "+r.method+" "+r.path, b.do(t, s.as(r, false)), 403)
			if e.Code != outlet.EFORBIDDEN || !strings.Contains(e.Message, "CSRF token is") || !strings.Contains(e.Message, outlet.PortalCSRFHeader) {
				t.Errorf("%s: %s %s refused with %q (%s); want forbidden, saying the CSRF token is missing or wrong", what, r.method, r.path, e.Message, e.Code)
			}
		}
	}
	if after := b.snapshot(t); after != before {
		t.Errorf("writes without the CSRF token changed the store: %s", diff(before, after))
	}
	b.must(t, 201, s.as(req{method: "POST", path: "/v1/tenants/acme/endpoints", body: newEndpointBody}, true), nil)
	b.must(t, 204, s.as(req{method: "DELETE", path: "/v1/tenants/acme/endpoints/" + b.endpoint}, true), nil)
	// Reads need no token.
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/acme/endpoints"}, false), nil)
}

func TestAReadOnlySessionReadsAndWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.openSession(t, "/v1/tenants/acme/portal-sessions", `{"read_only":true}`, time.Now())
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/acme/deliveries"}, false), nil)
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/acme/secrets"}, false), nil)
	before := b.snapshot(t)
	for _, r := range []req{
		{method: "POST", path: "/v1/tenants/acme/endpoints", body: newEndpointBody},
		{method: "POST", path: "/v1/tenants/acme/deliveries/" + b.delivery + "/retry", body: `{}`},
		{method: "PUT", path: "/v1/tenants/acme/settings", body: `{"allowed_hosts":[]}`},
		{method: "DELETE", path: "/v1/tenants/acme/secrets/" + b.secret},
	} {
		e := refused(t, "read-only: "+r.method+" "+r.path, b.do(t, s.as(r, true)), 403)
		if !strings.Contains(e.Message, "read-only") {
			t.Errorf("%s %s refused with %q; want it to say the session is read-only", r.method, r.path, e.Message)
		}
	}
	if after := b.snapshot(t); after != before {
		t.Errorf("a read-only session's writes changed the store: %s", diff(before, after))
	}
}

func TestAFeatureSwitchedOffTakesNoWritesFromTheSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.openSession(t, "/v1/tenants/acme/portal-sessions", `{"features":{"functions":false,"secrets":false,"hooks":false,"endpoints":false}}`, time.Now())
	for _, r := range []req{
		{method: "PUT", path: "/v1/tenants/acme/functions/other", body: deployJS},
		{method: "POST", path: "/v1/tenants/acme/functions/" + b.function + "/rollback", body: `{"version":1}`},
		{method: "PUT", path: "/v1/tenants/acme/secrets/NEW", body: `{"value":"v"}`},
		{method: "DELETE", path: "/v1/tenants/acme/hooks/login.post/endpoint"},
		{method: "POST", path: "/v1/tenants/acme/endpoints", body: newEndpointBody},
	} {
		e := refused(t, r.method+" "+r.path, b.do(t, s.as(r, true)), 403)
		if !strings.Contains(e.Message, "feature switched off") {
			t.Errorf("%s %s refused with %q; want it to name the feature switched off", r.method, r.path, e.Message)
		}
	}
	// Reads of those parts, and writes elsewhere, still work.
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/acme/functions"}, false), nil)
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/acme/secrets"}, false), nil)
	b.must(t, 202, s.as(req{method: "POST", path: "/v1/tenants/acme/events", body: `{"type":"invoice.paid","data":{"amount":1}}`}, true), nil)
}

func TestARevokedSessionIsRefusedAtOnceOnTheNodeThatRevokedIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, mint, revoke string
	}{
		{"a tenant's session", "/v1/tenants/acme/portal-sessions", "/v1/tenants/acme/portal-sessions/"},
		{"the operator's session", "/v1/portal-sessions", "/v1/portal-sessions/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A cache that would keep the session for an hour.
			b := setup(t, func(c *Config) { c.CacheTTL = time.Hour })
			s := b.openSession(t, tc.mint, `{}`, time.Now())
			b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/acme/endpoints"}, false), nil)
			b.must(t, 204, req{method: "DELETE", path: tc.revoke + s.id, auth: "Bearer " + adminKey}, nil)
			e := refused(t, "a revoked session", b.do(t, s.as(req{method: "GET", path: "/v1/tenants/acme/endpoints"}, false)), 401)
			if !strings.Contains(e.Message, "revoked") {
				t.Errorf("a revoked session refused with %q; want it to say so", e.Message)
			}
			// The list shows when.
			var l struct {
				Data []map[string]any `json:"data"`
			}
			b.must(t, 200, req{method: "GET", path: strings.TrimSuffix(tc.revoke, "/"), auth: "Bearer " + adminKey}, &l)
			for _, ps := range l.Data {
				if ps["id"] == s.id && ps["revoked_at"] == nil {
					t.Errorf("the listed session has no revoked_at: %v", ps)
				}
			}
		})
	}
}

func TestDeletingATenantEndsItsSessionsAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.CacheTTL = time.Hour })
	s := b.openSession(t, "/v1/tenants/globex/portal-sessions", `{}`, time.Now())
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/globex"}, false), nil)
	b.must(t, 204, req{method: "DELETE", path: "/v1/tenants/globex", auth: "Bearer " + adminKey}, nil)
	b.must(t, 201, req{method: "POST", path: "/v1/tenants", auth: "Bearer " + adminKey, body: `{"id":"globex"}`}, nil)
	refused(t, "a session of a deleted tenant, on the tenant made again", b.do(t, s.as(req{method: "GET", path: "/v1/tenants/globex"}, false)), 401)
}

func TestAnExpiredSessionIsRefusedEvenFromTheCache(t *testing.T) {
	t.Parallel()
	b, _, clk := authSetup(t, func(c *Config) { c.CacheTTL = 24 * time.Hour })
	s := b.openSession(t, "/v1/tenants/acme/portal-sessions", `{"expires_in":600}`, clk.now())
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/acme/endpoints"}, false), nil)
	clk.advance(599 * time.Second)
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/acme/endpoints"}, false), nil)
	clk.advance(time.Second)
	e := refused(t, "an expired session", b.do(t, s.as(req{method: "GET", path: "/v1/tenants/acme/endpoints"}, false)), 401)
	if !strings.Contains(e.Message, "expired") {
		t.Errorf("an expired session refused with %q; want it to say so", e.Message)
	}
}

func TestAnAuthorizationHeaderDecidesOverTheCookie(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.openSession(t, "/v1/portal-sessions", `{}`, time.Now())
	// The operator's cookie with globex's key is globex.
	refused(t, "globex's key beside the operator's cookie", b.do(t, s.as(req{method: "GET", path: "/v1/tenants/acme", auth: "Bearer " + b.otherKey}, false)), 403)
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/globex", auth: "Bearer " + b.otherKey}, false), nil)
	refused(t, "a wrong key beside the operator's cookie", b.do(t, s.as(req{method: "GET", path: "/v1/tenants", auth: "Bearer olk_wrong"}, false)), 401)
	// And a key's writes need no CSRF token, cookie or not.
	b.must(t, 201, s.as(req{method: "POST", path: "/v1/tenants/globex/endpoints", auth: "Bearer " + b.otherKey, body: newEndpointBody}, false), nil)
}

func TestAnOperatorSessionHasTheAdminsRightsButMintsNoSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.openSession(t, "/v1/portal-sessions", `{"theme":{"name":"Console"}}`, time.Now())
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants"}, false), nil)
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/globex/endpoints"}, false), nil)
	b.must(t, 201, s.as(req{method: "POST", path: "/v1/event-types", body: `{"name":"order.created"}`}, true), nil)
	refused(t, "an operator session's write without the CSRF token", b.do(t, s.as(req{method: "POST", path: "/v1/tenants", body: `{"id":"newco"}`}, false)), 403)
	for _, r := range []req{
		{method: "POST", path: "/v1/portal-sessions", body: `{}`},
		{method: "POST", path: "/v1/tenants/acme/portal-sessions", body: `{}`},
		{method: "DELETE", path: "/v1/portal-sessions/" + s.id},
		{method: "GET", path: "/v1/portal-sessions"},
	} {
		e := refused(t, "an operator session: "+r.method+" "+r.path, b.do(t, s.as(r, true)), 403)
		if !strings.Contains(e.Message, "admin key") {
			t.Errorf("%s %s refused with %q; want it to say sessions need the admin key", r.method, r.path, e.Message)
		}
	}
}

func TestUnknownCookiesCountAsFailedAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.AuthFailureRate, c.AuthFailureBurst = 0.001, 3 })
	for range 3 {
		s := cookieSession{secret: outlet.NewPortalCookieSecret()}
		refused(t, "an unknown cookie", b.do(t, s.as(req{method: "GET", path: "/v1/tenants/acme"}, false)), 401)
	}
	s := cookieSession{secret: outlet.NewPortalCookieSecret()}
	a := b.do(t, s.as(req{method: "GET", path: "/v1/tenants/acme"}, false))
	refused(t, "an unknown cookie past the limit", a, 429)
	if a.header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	// A key the node knows still works from that address.
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/acme", auth: "Bearer " + b.key}, nil)
}

func TestMintingASessionAnswersItsLinkOnceAndListsItWithoutSecrets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		publicURL, prefix string
	}{
		{"", "/portal/?token=olpt_"},
		{"https://outlet.example.com/", "https://outlet.example.com/portal/?token=olpt_"},
	} {
		b := setup(t, func(c *Config) { c.PublicURL = tc.publicURL })
		a := b.do(t, req{method: "POST", path: "/v1/tenants/acme/portal-sessions", auth: "Bearer " + adminKey,
			body: `{"expires_in":120,"read_only":true,"features":{"usage":false},"theme":{"brand_color":"#4F46E5","mode":"light"}}`})
		var minted struct {
			ID        string                `json:"id"`
			TenantID  *string               `json:"tenant_id"`
			URL       string                `json:"url"`
			Token     string                `json:"token"`
			ReadOnly  bool                  `json:"read_only"`
			Features  outlet.PortalFeatures `json:"features"`
			Theme     outlet.PortalTheme    `json:"theme"`
			ExpiresAt time.Time             `json:"expires_at"`
			CreatedAt time.Time             `json:"created_at"`
		}
		if err := json.Unmarshal(a.body, &minted); err != nil || a.status != 201 {
			t.Fatalf("mint: %d %s", a.status, a.body)
		}
		if !strings.HasPrefix(minted.URL, tc.prefix) || minted.URL != strings.TrimSuffix(tc.prefix, "olpt_")+minted.Token {
			t.Errorf("with public URL %q the link is %q (token %q); want %s…", tc.publicURL, minted.URL, minted.Token, tc.prefix)
		}
		if !strings.HasPrefix(minted.ID, "ps_") || minted.TenantID == nil || *minted.TenantID != "acme" || !minted.ReadOnly ||
			minted.Features != (outlet.PortalFeatures{Functions: true, Endpoints: true, Hooks: true, Secrets: true}) ||
			minted.Theme != (outlet.PortalTheme{BrandColor: "#4F46E5", Mode: "light"}) || minted.ExpiresAt.Sub(minted.CreatedAt) != 2*time.Minute {
			t.Errorf("minted %s; want acme's read-only session without usage, light, for 2 minutes", a.body)
		}
		l := b.do(t, req{method: "GET", path: "/v1/tenants/acme/portal-sessions", auth: "Bearer " + adminKey})
		if l.status != 200 || !strings.Contains(string(l.body), minted.ID) || strings.Contains(string(l.body), minted.Token) ||
			strings.Contains(string(l.body), `"token"`) || strings.Contains(string(l.body), "hash") {
			t.Errorf("the list is %d %s; want the session, without its token", l.status, l.body)
		}
		var op struct {
			TenantID *string `json:"tenant_id"`
			Theme    outlet.PortalTheme
		}
		b.must(t, 201, req{method: "POST", path: "/v1/portal-sessions", auth: "Bearer " + adminKey}, &op)
		if op.TenantID != nil || op.Theme.Mode != "auto" {
			t.Errorf("an operator session has tenant %v and mode %q; want null and auto", op.TenantID, op.Theme.Mode)
		}
	}
}

func TestThePortalSwitchedOffHasNoSessionsAndItsCookieIsNothing(t *testing.T) {
	t.Parallel()
	// Not setup, which mints sessions.
	url, _, store := StartServer(t, adminKey, func(c *Config) { c.NoPortal = true })
	off := &bundle{url: url, store: store}
	off.must(t, 201, req{method: "POST", path: "/v1/tenants", auth: "Bearer " + adminKey, body: `{"id":"acme"}`}, nil)
	for _, r := range []req{
		{method: "POST", path: "/v1/tenants/acme/portal-sessions", body: `{}`},
		{method: "GET", path: "/v1/tenants/acme/portal-sessions"},
		{method: "POST", path: "/v1/portal-sessions", body: `{}`},
		{method: "DELETE", path: "/v1/portal-sessions/ps_1"},
	} {
		r.auth = "Bearer " + adminKey
		e := refused(t, "portal off: "+r.method+" "+r.path, off.do(t, r), 404)
		if !strings.Contains(e.Message, "--portal=false") {
			t.Errorf("portal off: %s %s refused with %q; want it to say the portal is switched off", r.method, r.path, e.Message)
		}
	}
	// A cookie on a server with the portal off authenticates nothing, even
	// one whose session is in its store.
	secret := outlet.NewPortalCookieSecret()
	ps, token, err := outlet.NewPortalSession("acme", outlet.PortalSessionOptions{Features: outlet.AllPortalFeatures()}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := off.store.CreatePortalSession(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	if _, err := off.store.ExchangePortalSession(context.Background(), outlet.HashPortalSecret(token), outlet.HashPortalSecret(secret), time.Now()); err != nil {
		t.Fatal(err)
	}
	offSession := cookieSession{secret: secret}
	e := refused(t, "a cookie with the portal off", off.do(t, offSession.as(req{method: "GET", path: "/v1/tenants/acme"}, false)), 401)
	if !strings.Contains(e.Message, "Authorization") {
		t.Errorf("a cookie with the portal off refused with %q; want the missing key's message", e.Message)
	}
}

// gatedSessions is a session store whose first lookup reads the session,
// then waits for the test before answering: a revocation can commit
// meanwhile.
type gatedSessions struct {
	mu      sync.Mutex
	session *outlet.PortalSession
	read    chan struct{}
	proceed chan struct{}
	gated   bool
}

func (g *gatedSessions) PortalSessionBySecret(ctx context.Context, hash []byte) (*outlet.PortalSession, error) {
	g.mu.Lock()
	ps, gate := g.session, !g.gated
	g.gated = true
	g.mu.Unlock()
	if gate {
		g.read <- struct{}{}
		<-g.proceed
	}
	if ps == nil {
		return nil, outlet.Errorf(outlet.ENOTFOUND, "no such session")
	}
	return ps, nil
}

func (g *gatedSessions) ExchangePortalSession(context.Context, []byte, []byte, time.Time) (*outlet.PortalSession, error) {
	return nil, outlet.Errorf(outlet.ENOTFOUND, "no session waits for this link")
}

func TestASessionRevokedDuringItsLookupIsNotCached(t *testing.T) {
	t.Parallel()
	for _, forget := range []struct {
		name string
		do   func(sa *sessionAuth)
	}{
		{"the session revoked", func(sa *sessionAuth) { sa.forget("ps_1") }},
		{"its tenant deleted", func(sa *sessionAuth) { sa.forgetTenant("acme") }},
	} {
		now := time.Now()
		live := &outlet.PortalSession{ID: "ps_1", TenantID: "acme", ExpiresAt: now.Add(time.Hour), ExchangedAt: &now}
		gs := &gatedSessions{session: live, read: make(chan struct{}), proceed: make(chan struct{})}
		keys := newAuthenticator("olk_admin_0123456789abcdef", nil, time.Hour, time.Now, 0, 1)
		sa := newSessionAuth(gs, keys, time.Hour, time.Now, false)
		done := make(chan struct{})
		go func() {
			sa.lookup(context.Background(), "olps_secret", "127.0.0.1")
			close(done)
		}()
		<-gs.read // the lookup has read the session; now it is revoked and forgotten
		revoked := *live
		revoked.RevokedAt = &now
		gs.mu.Lock()
		gs.session = &revoked
		gs.mu.Unlock()
		forget.do(sa)
		close(gs.proceed)
		<-done
		if _, err := sa.lookup(context.Background(), "olps_secret", "127.0.0.1"); err == nil {
			t.Errorf("%s while it was being looked up: the session still authenticates, from the cache", forget.name)
		}
	}
}
