package main

import (
	"strings"
	"testing"

	"github.com/outlethq/outlet"
)

func TestCLIAuditListShowsWhoChangedWhat(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.must(t, "tenants", "create", "acme")
	s.must(t, "tenants", "create", "globex")
	s.must(t, "secrets", "set", "STRIPE_KEY", "--tenant", "acme", "--value", "sk_live_cli_audit")

	out := s.must(t, "audit", "list")
	if !hasRow(out, "WHEN", "TENANT", "ACTOR", "ACTION", "RESOURCE") || !hasRow(out, "*", "acme", "admin admin", "secret.created", "STRIPE_KEY") ||
		!hasRow(out, "*", "globex", "admin admin", "tenant.created", "globex") {
		t.Errorf("audit list printed:\n%s", out)
	}
	if strings.Contains(out, "sk_live_cli_audit") {
		t.Errorf("audit list shows the secret's value:\n%s", out)
	}
	mine := s.must(t, "audit", "list", "--tenant", "acme", "--action", "tenant.created", "--wide")
	if rows := column(t, mine, "ACTION"); len(rows) != 1 || !hasRow(mine, "*", "acme", "admin admin", "tenant.created", "acme", "127.0.0.1") {
		t.Errorf("audit list --tenant acme --action tenant.created --wide printed:\n%s", mine)
	}
	if rows := column(t, s.must(t, "audit", "list", "--of-tenant", "globex"), "ACTION"); len(rows) != 1 {
		t.Errorf("audit list --of-tenant globex shows %v; want globex's creation alone", rows)
	}

	var page struct{ Data []outlet.AuditEntry }
	s.mustJSON(t, &page, "audit", "list", "--resource-type", "secret", "--since", "1h")
	if len(page.Data) != 1 || page.Data[0].ResourceID != "STRIPE_KEY" || page.Data[0].ActorID != outlet.AdminActorID {
		t.Errorf("audit list --json printed %+v", page.Data)
	}
	if _, errOut, err := s.outlet(t, "audit", "list", "--action", "secret.set"); err == nil || !strings.Contains(err.Error()+errOut, "secret.created") {
		t.Errorf("audit list --action secret.set: %v, %q; want refused, naming the actions there are", err, errOut)
	}
}
