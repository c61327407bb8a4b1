package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet/internal/testwait"
)

type auditEntry struct {
	TenantID     *string         `json:"tenant_id"`
	ActorType    string          `json:"actor_type"`
	ActorID      string          `json:"actor_id"`
	Action       string          `json:"action"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	Summary      json.RawMessage `json:"summary"`
	Address      string          `json:"address"`
}

func (s *server) auditLog(key, path string) ([]auditEntry, []byte) {
	s.t.Helper()
	var raw json.RawMessage
	if status := s.call(key, "GET", path, nil, &raw); status != 200 {
		s.t.Fatalf("GET %s: %d %s", path, status, raw)
	}
	var page struct{ Data []auditEntry }
	if err := json.Unmarshal(raw, &page); err != nil {
		s.t.Fatal(err)
	}
	return page.Data, raw
}

func TestTheAuditLogRecordsWhoChangedWhatAndNeverASecret(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tenant := s.tenant("acme")
	var key struct{ ID, Key string }
	s.must(201, "POST", "/v1/tenants/acme/api-keys", map[string]any{"name": "ci"}, &key)

	// The tenant's own key changes things; a publish is not a change.
	var ep endpoint
	if status := s.call(key.Key, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": "http://127.0.0.1:9/hook",
		"headers": map[string]string{"Authorization": "Bearer header-credential"}}, &ep); status != 201 {
		t.Fatalf("creating an endpoint with the tenant's key answered %d", status)
	}
	var rotated struct{ Secret string }
	if status := s.call(key.Key, "POST", "/v1/tenants/acme/endpoints/"+ep.ID+"/rotate-secret", map[string]any{}, &rotated); status != 200 {
		t.Fatalf("rotating answered %d", status)
	}
	if status := s.call(key.Key, "PUT", "/v1/tenants/acme/secrets/STRIPE_KEY", map[string]any{"value": "sk_live_e2e_audit"}, nil); status != 204 {
		t.Fatalf("putting a secret answered %d", status)
	}
	s.publish(tenant, "invoice.paid", map[string]int{"amount": 1})

	entries, raw := s.auditLog(key.Key, "/v1/tenants/acme/audit-log")
	var got []string
	for _, e := range entries {
		got = append(got, e.Action+" "+e.ActorType)
		if e.TenantID == nil || *e.TenantID != "acme" || e.Address != "127.0.0.1" {
			t.Errorf("entry %+v; want acme's, from 127.0.0.1", e)
		}
	}
	want := []string{"secret.created api_key", "endpoint.secret_rotated api_key", "endpoint.created api_key",
		"api_key.created admin", "tenant.created admin"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("acme's audit log is %v; want %v", got, want)
	}
	if len(entries) == len(want) && (entries[0].ActorID != key.ID || entries[2].ResourceID != ep.ID || entries[0].ResourceID != "STRIPE_KEY") {
		t.Errorf("entries %+v; want the key's id %s as the actor and the endpoint %s and the secret named", entries, key.ID, ep.ID)
	}
	for what, secret := range map[string]string{"the tenant's key": key.Key, "the admin key": adminKey, "the endpoint's secret": ep.Secret,
		"the rotated secret": rotated.Secret, "the secret's value": "sk_live_e2e_audit", "a header's value": "header-credential"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the audit log holds %s: %s", what, raw)
		}
	}

	// The operator filters by actor; the tenant's key may not read the operator's log.
	byKey, _ := s.auditLog(adminKey, "/v1/audit-log?actor="+key.ID)
	if len(byKey) != 3 {
		t.Errorf("the admin sees %d entries by the key; want 3", len(byKey))
	}
	if status := s.call(key.Key, "GET", "/v1/audit-log", nil, nil); status != 403 {
		t.Errorf("the tenant's key on the operator's log answered %d; want 403", status)
	}

	// And the CLI shows the same.
	cli := exec.Command(binary, "audit", "list", "--tenant", "acme", "--action", "secret.created", "--url", s.url, "--key", key.Key)
	out, err := cli.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "secret.created") || !strings.Contains(string(out), key.ID) {
		t.Errorf("outlet audit list: %v\n%s", err, out)
	}
}

func TestAuditEntriesPastTheirRetentionAreDeleted(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--audit-retention", "1s")
	s.tenant("acme")
	// The node's log says it was retention that emptied the audit log.
	testwait.Within(t, 20*time.Second, "retention to delete the entry", func() bool {
		entries, _ := s.auditLog(adminKey, "/v1/audit-log")
		return len(entries) == 0 && strings.Contains(s.logs.String(), "deleted expired audit entries")
	})
}
