package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// portalSession stores a session for tenantID ("" for the operator's),
// created at now and lasting an hour, and returns it with its token.
func (b *bundle) portalSession(t *testing.T, tenantID string, now time.Time) (*outlet.PortalSession, string) {
	t.Helper()
	ps, token, err := outlet.NewPortalSession(tenantID, outlet.PortalSessionOptions{
		ReadOnly: true,
		Features: outlet.PortalFeatures{Functions: true, Usage: true},
		Theme:    outlet.PortalTheme{BrandColor: "#4f46e5", LogoURL: "https://cdn.example.com/logo.svg", Name: "Acme Platform", Mode: "dark"},
	}, now)
	check(t, err)
	check(t, b.store.CreatePortalSession(b.ctx, ps))
	return ps, token
}

// exchange opens a session's link at now and returns the cookie secret.
func (b *bundle) exchange(t *testing.T, token string, now time.Time) (*outlet.PortalSession, string) {
	t.Helper()
	secret := outlet.NewPortalCookieSecret()
	ps, err := b.store.ExchangePortalSession(b.ctx, outlet.HashPortalSecret(token), outlet.HashPortalSecret(secret), now)
	check(t, err)
	return ps, secret
}

func (b *bundle) portalSessions(t *testing.T, tenantID string) []*outlet.PortalSession {
	t.Helper()
	pss, _, err := b.store.ListPortalSessions(b.ctx, tenantID, outlet.Page{Limit: outlet.MaxPageLimit})
	check(t, err)
	return pss
}

func portalSessionIDs(pss []*outlet.PortalSession) []string {
	out := []string{}
	for _, ps := range pss {
		out = append(out, ps.ID)
	}
	return out
}

func wantPortalSession(t *testing.T, got, want *outlet.PortalSession) {
	t.Helper()
	wantEqual(t, "session id", got.ID, want.ID)
	wantEqual(t, "session tenant", got.TenantID, want.TenantID)
	wantEqual(t, "session read_only", got.ReadOnly, want.ReadOnly)
	wantEqual(t, "session features", got.Features, want.Features)
	wantEqual(t, "session theme", got.Theme, want.Theme)
	wantTime(t, "session expires_at", got.ExpiresAt, want.ExpiresAt)
	wantTime(t, "session created_at", got.CreatedAt, want.CreatedAt)
	wantTimePtr(t, "session exchanged_at", got.ExchangedAt, want.ExchangedAt)
	wantTimePtr(t, "session revoked_at", got.RevokedAt, want.RevokedAt)
	if got.TokenHash != nil || got.SecretHash != nil {
		t.Errorf("session %s was read back with its hashes (token %x, secret %x); no read returns them", got.ID, got.TokenHash, got.SecretHash)
	}
}

func portalSessionTests(t *testing.T, s suite) {
	for _, tenantID := range []string{"acme", ""} {
		whose := "a tenant's"
		if tenantID == "" {
			whose = "the operator's"
		}
		s.test(t, whose+" session opens once with its token, and then its cookie secret finds it with every field", func(t *testing.T, b *bundle) {
			b.tenant(t, "acme")
			ps, token := b.portalSession(t, tenantID, base)
			got, secret := b.exchange(t, token, at(time.Minute))
			want := *ps
			want.ExchangedAt = ptr(at(time.Minute))
			want.TokenHash = nil
			wantPortalSession(t, got, &want)
			found, err := b.store.PortalSessionBySecret(b.ctx, outlet.HashPortalSecret(secret))
			check(t, err)
			wantPortalSession(t, found, &want)
			check(t, found.Usable(at(2*time.Minute)))
		})
	}

	s.test(t, "a token opens its session once: a second exchange is ENOTFOUND and keeps the first cookie", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		_, token := b.portalSession(t, "acme", base)
		_, first := b.exchange(t, token, at(time.Minute))
		second := outlet.NewPortalCookieSecret()
		_, err := b.store.ExchangePortalSession(b.ctx, outlet.HashPortalSecret(token), outlet.HashPortalSecret(second), at(2*time.Minute))
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.PortalSessionBySecret(b.ctx, outlet.HashPortalSecret(second))
		wantCode(t, err, outlet.ENOTFOUND)
		got, err := b.store.PortalSessionBySecret(b.ctx, outlet.HashPortalSecret(first))
		check(t, err)
		wantTimePtr(t, "exchanged_at", got.ExchangedAt, ptr(at(time.Minute)))
	})

	s.test(t, "an unknown token or cookie secret is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.portalSession(t, "acme", base)
		_, err := b.store.ExchangePortalSession(b.ctx, outlet.HashPortalSecret("olpt_nope"), outlet.HashPortalSecret("olps_x"), base)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.PortalSessionBySecret(b.ctx, outlet.HashPortalSecret("olps_nope"))
		wantCode(t, err, outlet.ENOTFOUND)
	})

	s.test(t, "a session's link no longer opens once it expired", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ps, token := b.portalSession(t, "acme", base)
		_, err := b.store.ExchangePortalSession(b.ctx, outlet.HashPortalSecret(token), outlet.HashPortalSecret("olps_x"), ps.ExpiresAt)
		wantCode(t, err, outlet.ENOTFOUND)
		// Just before, it still does.
		b.exchange(t, token, ps.ExpiresAt.Add(-time.Millisecond))
	})

	s.test(t, "an opened session is usable until it expires, and not after", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ps, token := b.portalSession(t, "acme", base)
		_, secret := b.exchange(t, token, base)
		got, err := b.store.PortalSessionBySecret(b.ctx, outlet.HashPortalSecret(secret))
		check(t, err)
		check(t, got.Usable(ps.ExpiresAt.Add(-time.Millisecond)))
		wantCode(t, got.Usable(ps.ExpiresAt), outlet.EUNAUTHORIZED)
	})

	s.test(t, "a revoked session is found by its cookie with its revocation time, refuses its link, and revoking it again keeps that time", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		opened, token := b.portalSession(t, "acme", base)
		_, secret := b.exchange(t, token, base)
		unopened, unopenedToken := b.portalSession(t, "acme", base)
		for _, ps := range []*outlet.PortalSession{opened, unopened} {
			check(t, b.store.RevokePortalSession(b.ctx, "acme", ps.ID, at(time.Minute)))
			check(t, b.store.RevokePortalSession(b.ctx, "acme", ps.ID, at(2*time.Minute)))
		}
		got, err := b.store.PortalSessionBySecret(b.ctx, outlet.HashPortalSecret(secret))
		check(t, err)
		wantTimePtr(t, "revoked_at", got.RevokedAt, ptr(at(time.Minute)))
		wantCode(t, got.Usable(at(time.Minute)), outlet.EUNAUTHORIZED)
		_, err = b.store.ExchangePortalSession(b.ctx, outlet.HashPortalSecret(unopenedToken), outlet.HashPortalSecret("olps_x"), at(3*time.Minute))
		wantCode(t, err, outlet.ENOTFOUND)
	})

	s.test(t, "a session is revoked only under its own tenant: another tenant's id, the operator's, or an unknown id is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		acme, _ := b.portalSession(t, "acme", base)
		operator, _ := b.portalSession(t, "", base)
		wantCode(t, b.store.RevokePortalSession(b.ctx, "globex", acme.ID, base), outlet.ENOTFOUND)
		wantCode(t, b.store.RevokePortalSession(b.ctx, "", acme.ID, base), outlet.ENOTFOUND)
		wantCode(t, b.store.RevokePortalSession(b.ctx, "acme", operator.ID, base), outlet.ENOTFOUND)
		wantCode(t, b.store.RevokePortalSession(b.ctx, "acme", "ps_nope", base), outlet.ENOTFOUND)
		for _, ps := range append(b.portalSessions(t, "acme"), b.portalSessions(t, "")...) {
			if ps.RevokedAt != nil {
				t.Errorf("session %s was revoked by a call that named it wrongly", ps.ID)
			}
		}
	})

	s.test(t, "a session for an unknown tenant is ENOTFOUND, and so is listing that tenant's", func(t *testing.T, b *bundle) {
		ps, _, err := outlet.NewPortalSession("nobody", outlet.PortalSessionOptions{}, base)
		check(t, err)
		wantCode(t, b.store.CreatePortalSession(b.ctx, ps), outlet.ENOTFOUND)
		_, _, err = b.store.ListPortalSessions(b.ctx, "nobody", outlet.Page{})
		wantCode(t, err, outlet.ENOTFOUND)
	})

	s.test(t, "sessions list newest first, a tenant's apart from another's and from the operator's, without their hashes", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		var acme, operator []string
		for i := range 3 {
			ps, token := b.portalSession(t, "acme", at(time.Duration(i)*time.Minute))
			b.exchange(t, token, at(time.Duration(i)*time.Minute))
			acme = append([]string{ps.ID}, acme...)
			ps, _ = b.portalSession(t, "", at(time.Duration(i)*time.Minute))
			operator = append([]string{ps.ID}, operator...)
		}
		b.portalSession(t, "globex", base)
		wantIDs(t, "acme's sessions", portalSessionIDs(b.portalSessions(t, "acme")), acme)
		wantIDs(t, "the operator's sessions", portalSessionIDs(b.portalSessions(t, "")), operator)
		for _, ps := range append(b.portalSessions(t, "acme"), b.portalSessions(t, "")...) {
			if ps.TokenHash != nil || ps.SecretHash != nil {
				t.Errorf("listed session %s has its hashes", ps.ID)
			}
		}
		pages := walk(t, 2, func(p outlet.Page) ([]*outlet.PortalSession, string, error) {
			return b.store.ListPortalSessions(b.ctx, "acme", p)
		})
		var paged []string
		for _, p := range pages {
			paged = append(paged, portalSessionIDs(p)...)
		}
		wantEqual(t, "pages", len(pages), 2)
		wantIDs(t, "acme's sessions, two to a page", paged, acme)
	})

	s.test(t, "deleting a tenant deletes its sessions and no one else's", func(t *testing.T, b *bundle) {
		secrets := map[string]string{}
		for _, tenantID := range []string{"acme", "globex", ""} {
			if tenantID != "" {
				b.tenant(t, tenantID)
			}
			_, token := b.portalSession(t, tenantID, base)
			_, secrets[tenantID] = b.exchange(t, token, base)
		}
		check(t, b.store.DeleteTenant(b.ctx, "acme"))
		_, err := b.store.PortalSessionBySecret(b.ctx, outlet.HashPortalSecret(secrets["acme"]))
		wantCode(t, err, outlet.ENOTFOUND)
		for _, tenantID := range []string{"globex", ""} {
			_, err := b.store.PortalSessionBySecret(b.ctx, outlet.HashPortalSecret(secrets[tenantID]))
			check(t, err)
		}
		// A tenant made again under the id has none of the old sessions.
		b.tenant(t, "acme")
		wantIDs(t, "sessions of acme made again", portalSessionIDs(b.portalSessions(t, "acme")), []string{})
	})

	s.test(t, "creating a session deletes those expired a day or more before, and keeps the rest", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		old, _ := b.portalSession(t, "acme", base)        // expires at base+1h
		young, _ := b.portalSession(t, "", at(time.Hour)) // expires at base+2h
		now := old.ExpiresAt.Add(outlet.PortalSessionKept)
		fresh, _ := b.portalSession(t, "acme", now)
		wantIDs(t, "acme's sessions", portalSessionIDs(b.portalSessions(t, "acme")), []string{fresh.ID})
		wantIDs(t, "the operator's sessions", portalSessionIDs(b.portalSessions(t, "")), []string{young.ID})
	})

	for _, bad := range []struct {
		what string
		o    outlet.PortalSessionOptions
	}{
		{"expires_in under a minute", outlet.PortalSessionOptions{ExpiresIn: 59 * time.Second}},
		{"expires_in over a day", outlet.PortalSessionOptions{ExpiresIn: 24*time.Hour + time.Second}},
		{"a brand colour that isn't #rrggbb", outlet.PortalSessionOptions{Theme: outlet.PortalTheme{BrandColor: "red"}}},
	} {
		s.test(t, fmt.Sprintf("a session with %s is never made", bad.what), func(t *testing.T, b *bundle) {
			_, _, err := outlet.NewPortalSession("acme", bad.o, base)
			wantCode(t, err, outlet.EINVALID)
		})
	}
}
