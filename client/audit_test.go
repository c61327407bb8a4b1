package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

func TestAuditLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.tenant(t, "acme")
	b.tenant(t, "globex")
	key, err := b.admin.APIKeys.Create(ctx, "acme", client.APIKeyCreate{})
	if err != nil {
		t.Fatal(err)
	}
	acme := client.New(b.url, key.Key)
	for _, name := range []string{"A", "B", "C"} {
		if err := acme.Secrets.Put(ctx, "acme", name, "v"); err != nil {
			t.Fatal(err)
		}
	}

	// The tenant's own log, two entries a page.
	var got []string
	for e, err := range acme.AuditLog.All(ctx, "acme", client.AuditFilter{Action: "secret.created", Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.ActorType != outlet.ActorAPIKey || e.ActorID != key.ID || e.TenantID != "acme" || e.CreatedAt.IsZero() {
			t.Errorf("entry %+v; want acme's, by key %s", e, key.ID)
		}
		got = append(got, e.ResourceID)
	}
	if len(got) != 3 || got[0] != "C" || got[2] != "A" {
		t.Errorf("acme's secret.created entries are of %v; want C, B, A", got)
	}

	// The operator's log, filtered by tenant.
	p, err := b.admin.AuditLog.List(ctx, "", client.AuditFilter{Tenant: "globex", Since: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Data) != 1 || p.Data[0].Action != "tenant.created" || p.Data[0].ActorID != outlet.AdminActorID || p.HasMore {
		t.Errorf("globex's entries: %+v; want its creation by the admin", p.Data)
	}
	// A tenant key may not read the operator's log.
	if _, err := acme.AuditLog.List(ctx, "", client.AuditFilter{}); outlet.ErrorCode(err) != outlet.EFORBIDDEN {
		t.Errorf("acme's key on the operator's log: %v; want forbidden", err)
	}
}
