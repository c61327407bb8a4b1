package client_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

func TestPortalSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.tenant(t, "acme")

	ps, err := b.admin.PortalSessions.Create(ctx, "acme", client.PortalSessionCreate{ExpiresIn: 600, ReadOnly: true,
		Features: map[string]bool{"functions": false}, Theme: &outlet.PortalTheme{BrandColor: "#4f46e5", Name: "Acme Platform"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ps.ID, outlet.PrefixPortalSession) || ps.TenantID != "acme" || !ps.ReadOnly || ps.Features.Functions || !ps.Features.Usage ||
		ps.Theme != (outlet.PortalTheme{BrandColor: "#4f46e5", Name: "Acme Platform", Mode: "auto"}) || ps.ExpiresAt.Sub(ps.CreatedAt).Seconds() != 600 ||
		ps.URL != "/portal/?token="+ps.Token || ps.Token == "" {
		t.Errorf("create answered %+v", ps)
	}
	op, err := b.admin.PortalSessions.CreateOperator(ctx, client.PortalSessionCreate{})
	if err != nil {
		t.Fatal(err)
	}
	if op.TenantID != "" || op.Token == "" || op.ExpiresAt.Sub(op.CreatedAt).Hours() != 1 {
		t.Errorf("an operator session: %+v; want no tenant, an hour", op)
	}

	for tenant, want := range map[string]string{"acme": ps.ID, "": op.ID} {
		var ids []string
		for s, err := range b.admin.PortalSessions.All(ctx, tenant) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, s.ID)
		}
		if len(ids) != 1 || ids[0] != want {
			t.Errorf("the sessions of %q are %v; want %s", tenant, ids, want)
		}
	}

	if err := b.admin.PortalSessions.Revoke(ctx, "acme", ps.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.admin.PortalSessions.Revoke(ctx, "", op.ID); err != nil {
		t.Fatal(err)
	}
	p, err := b.admin.PortalSessions.List(ctx, "acme", client.ListOptions{})
	if err != nil || len(p.Data) != 1 || p.Data[0].RevokedAt == nil {
		t.Errorf("after revoking, the list is %+v, %v; want the session with revoked_at", p, err)
	}

	_, err = b.admin.PortalSessions.Create(ctx, "acme", client.PortalSessionCreate{ExpiresIn: 5})
	if e := asError(t, err); e.Status != http.StatusUnprocessableEntity || e.Code != outlet.EINVALID || !strings.Contains(e.Message, "expires_in") {
		t.Errorf("a 5-second session: %+v; want 422 naming expires_in", e)
	}
	err = b.admin.PortalSessions.Revoke(ctx, "acme", op.ID)
	if e := asError(t, err); e.Status != http.StatusNotFound {
		t.Errorf("revoking the operator's session as acme's: %+v; want 404", e)
	}
}
