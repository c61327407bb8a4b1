package httpapi

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/metrics"
)

// auditedRoutes are the routes that change something, each with the action
// the audit log records for it (the sweep calls each once, rightly, by the
// admin, and wants that one entry).
var auditedRoutes = map[string]string{
	"POST /v1/tenants":                                       "tenant.created",
	"PATCH /v1/tenants/{tenant}":                             "tenant.updated",
	"PUT /v1/tenants/{tenant}":                               "tenant.updated",
	"PUT /v1/tenants/{tenant}/settings":                      "tenant.updated",
	"DELETE /v1/tenants/{tenant}":                            "tenant.deleted",
	"POST /v1/tenants/{tenant}/api-keys":                     "api_key.created",
	"DELETE /v1/tenants/{tenant}/api-keys/{key}":             "api_key.deleted",
	"POST /v1/event-types":                                   "event_type.created",
	"PATCH /v1/event-types/{name}":                           "event_type.updated",
	"PUT /v1/event-types/{name}":                             "event_type.updated",
	"DELETE /v1/event-types/{name}":                          "event_type.deleted",
	"POST /v1/tenants/{tenant}/endpoints":                    "endpoint.created",
	"PATCH /v1/tenants/{tenant}/endpoints/{id}":              "endpoint.updated",
	"PUT /v1/tenants/{tenant}/endpoints/{id}":                "endpoint.updated",
	"DELETE /v1/tenants/{tenant}/endpoints/{id}":             "endpoint.deleted",
	"POST /v1/tenants/{tenant}/endpoints/{id}/rotate-secret": "endpoint.secret_rotated",
	"POST /v1/tenants/{tenant}/endpoints/{id}/recover":       "endpoint.recovered",
	"POST /v1/tenants/{tenant}/deliveries/{id}/retry":        "delivery.retried",
	"POST /v1/hooks":                                         "hook.created",
	"PATCH /v1/hooks/{hook}":                                 "hook.updated",
	"PUT /v1/hooks/{hook}":                                   "hook.updated",
	"DELETE /v1/hooks/{hook}":                                "hook.deleted",
	"PUT /v1/tenants/{tenant}/hooks/{hook}/endpoint":         "hook_endpoint.set",
	"DELETE /v1/tenants/{tenant}/hooks/{hook}/endpoint":      "hook_endpoint.deleted",
	"PUT /v1/tenants/{tenant}/functions/{name}":              "function.deployed",
	"POST /v1/tenants/{tenant}/functions/{name}/rollback":    "function.rolled_back",
	"DELETE /v1/tenants/{tenant}/functions/{name}":           "function.deleted",
	"PUT /v1/tenants/{tenant}/secrets/{name}":                "secret.updated", // the sweep replaces acme's secret; a new one is secret.created
	"DELETE /v1/tenants/{tenant}/secrets/{name}":             "secret.deleted",
	"POST /v1/tenants/{tenant}/portal-sessions":              "portal_session.created",
	"DELETE /v1/tenants/{tenant}/portal-sessions/{id}":       "portal_session.revoked",
	"POST /v1/portal-sessions":                               "portal_session.created",
	"DELETE /v1/portal-sessions/{id}":                        "portal_session.revoked",
}

// unauditedWrites are the routes other than GETs that change nothing the
// audit log records, and why.
var unauditedWrites = map[string]string{
	"POST /v1/tenants/{tenant}/events":                "a publish is the platform's data, not a change of configuration; the event itself is its record",
	"POST /v1/tenants/{tenant}/events/batch":          "a batch publish is the platform's data, as a publish is; each event is its own record",
	"POST /v1/tenants/{tenant}/hooks/{hook}/invoke":   "a hook's call is the platform's data, as a publish is; its functions' runs are in their logs",
	"POST /v1/tenants/{tenant}/functions/{name}/test": "a dry run: it changes nothing, and its run is in the function's logs",
}

func TestEveryWriteRouteIsAuditedOrSaysWhyNot(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range New(Config{Metrics: metrics.New()}).Routes() {
		seen[r.Pattern] = true
		method, _, _ := strings.Cut(r.Pattern, " ")
		_, audited := auditedRoutes[r.Pattern]
		_, unaudited := unauditedWrites[r.Pattern]
		switch {
		case method == "GET" && (audited || unaudited):
			t.Errorf("%s is a read; it records nothing", r.Pattern)
		case method != "GET" && !audited && !unaudited:
			t.Errorf("%s changes something: say which action the audit log records for it, or why it records none", r.Pattern)
		case audited && unaudited:
			t.Errorf("%s is in both lists", r.Pattern)
		}
	}
	for p := range auditedRoutes {
		if !seen[p] {
			t.Errorf("auditedRoutes names %s, which the API doesn't serve", p)
		}
	}
	for p := range unauditedWrites {
		if !seen[p] {
			t.Errorf("unauditedWrites names %s, which the API doesn't serve", p)
		}
	}
}

// auditLog reads the whole audit log from the store, newest first.
func (b *bundle) auditLog(t testing.TB) []*outlet.AuditEntry {
	t.Helper()
	var all []*outlet.AuditEntry
	f := outlet.AuditFilter{Page: outlet.Page{Limit: outlet.MaxPageLimit}}
	for range 100 {
		es, next, err := b.store.ListAuditLog(context.Background(), f)
		if err != nil {
			t.Fatalf("list the audit log: %v", err)
		}
		all = append(all, es...)
		if f.Cursor = next; next == "" {
			return all
		}
	}
	t.Fatalf("the audit log didn't end after 100 pages")
	return nil
}

// wantAudited checks what one request of the route, made rightly by the
// admin, added to the audit log, which held before entries: the route's
// action, or nothing.
func (b *bundle) wantAudited(t *testing.T, pattern string, before int) {
	t.Helper()
	log := b.auditLog(t)
	action, ok := auditedRoutes[pattern]
	if !ok {
		if len(log) != before {
			t.Errorf("%s added %d entries to the audit log; it changes nothing it records", pattern, len(log)-before)
		}
		return
	}
	if len(log) != before+1 {
		t.Errorf("%s added %d entries to the audit log; want 1 (%s)", pattern, len(log)-before, action)
		return
	}
	e := log[0]
	if e.Action != action || e.ActorType != outlet.ActorAdmin || e.ActorID != outlet.AdminActorID || e.Address != "127.0.0.1" {
		t.Errorf("%s recorded %s by %s %s from %s; want %s by the admin from 127.0.0.1", pattern, e.Action, e.ActorType, e.ActorID, e.Address, action)
	}
}

// auditPage is a page of the audit log as the API answers it.
type auditPage struct {
	Data []struct {
		ID           string          `json:"id"`
		TenantID     *string         `json:"tenant_id"`
		ActorType    string          `json:"actor_type"`
		ActorID      string          `json:"actor_id"`
		Action       string          `json:"action"`
		ResourceType string          `json:"resource_type"`
		ResourceID   string          `json:"resource_id"`
		Summary      json.RawMessage `json:"summary"`
		Address      string          `json:"address"`
		CreatedAt    string          `json:"created_at"`
	} `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func (p auditPage) actions() []string {
	out := []string{}
	for _, e := range p.Data {
		out = append(out, e.Action+" "+e.ResourceID)
	}
	return out
}

func TestATenantReadsItsOwnAuditLogAndNoOneElses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := "Bearer " + b.key
	var own auditPage
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/acme/audit-log?limit=250", auth: key}, &own)
	if len(own.Data) == 0 {
		t.Fatalf("acme's audit log is empty; the setup made changes")
	}
	for _, e := range own.Data {
		if e.TenantID == nil || *e.TenantID != "acme" {
			t.Errorf("acme's log holds %s of tenant %v", e.Action, e.TenantID)
		}
	}
	refused(t, "acme's key on globex's log", b.do(t, req{method: "GET", path: "/v1/tenants/globex/audit-log", auth: key}), 403)
	refused(t, "acme's key on the operator's log", b.do(t, req{method: "GET", path: "/v1/audit-log", auth: key}), 403)
	refused(t, "acme's key asking for globex's entries", b.do(t, req{method: "GET", path: "/v1/audit-log?tenant=globex", auth: key}), 403)
	s := b.openSession(t, "/v1/tenants/acme/portal-sessions", `{"read_only":true}`, time.Now())
	b.must(t, 200, s.as(req{method: "GET", path: "/v1/tenants/acme/audit-log"}, false), nil)
	refused(t, "acme's session on globex's log", b.do(t, s.as(req{method: "GET", path: "/v1/tenants/globex/audit-log"}, false)), 403)
	refused(t, "acme's session on the operator's log", b.do(t, s.as(req{method: "GET", path: "/v1/audit-log"}, false)), 403)
	refused(t, "the log of a tenant that isn't there", b.do(t, req{method: "GET", path: "/v1/tenants/nope/audit-log", auth: "Bearer " + adminKey}), 404)
}

func TestAChangeIsRecordedAsTheKeyOrSessionThatMadeItNeverWithTheKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := "Bearer " + adminKey
	// The setup put acme's secret with acme's key.
	var p auditPage
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/acme/audit-log?action=secret.created", auth: admin}, &p)
	if len(p.Data) != 1 {
		t.Fatalf("secret.created entries = %v; want one", p.actions())
	}
	e := p.Data[0]
	if e.ActorType != "api_key" || e.ActorID != b.keyID || e.ResourceType != "secret" || e.ResourceID != "STRIPE_KEY" || e.Address != "127.0.0.1" {
		t.Errorf("the key's put of the secret recorded %+v; want api_key %s on secret STRIPE_KEY from 127.0.0.1", e, b.keyID)
	}
	if _, err := time.Parse(time.RFC3339, e.CreatedAt); err != nil || !strings.HasPrefix(e.ID, outlet.PrefixAuditEntry) {
		t.Errorf("entry id %q, created_at %q; want an aud_ id and an RFC 3339 time", e.ID, e.CreatedAt)
	}

	s := b.openSession(t, "/v1/tenants/acme/portal-sessions", `{}`, time.Now())
	var ep struct{ ID, Secret string }
	b.must(t, 201, s.as(req{method: "POST", path: "/v1/tenants/acme/endpoints", body: newEndpointBody}, true), &ep)
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/acme/audit-log?resource_id=" + ep.ID, auth: admin}, &p)
	if len(p.Data) != 1 || p.Data[0].Action != "endpoint.created" || p.Data[0].ActorType != "portal_session" || p.Data[0].ActorID != s.id {
		t.Errorf("the session's endpoint recorded %+v; want endpoint.created by portal_session %s", p.Data, s.id)
	}

	var opened struct{ Key string }
	b.must(t, 201, req{method: "POST", path: "/v1/tenants/acme/api-keys", auth: admin, body: `{"name":"deploy"}`}, &opened)
	a := b.do(t, req{method: "GET", path: "/v1/audit-log?limit=250", auth: admin})
	for what, secret := range map[string]string{"a key": b.key, "the new key": opened.Key, "the admin key": adminKey,
		"an endpoint's secret": ep.Secret, "a session's cookie": s.secret, "a session's CSRF token": s.csrf} {
		if strings.Contains(string(a.body), secret) {
			t.Errorf("the audit log holds %s: %s", what, a.body)
		}
	}
}

func TestTheAdminFiltersAndPagesTheAuditLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := "Bearer " + adminKey
	since := time.Now().UTC()
	for _, name := range []string{"A", "B", "C"} {
		b.must(t, 204, req{method: "PUT", path: "/v1/tenants/globex/secrets/" + name, auth: "Bearer " + b.otherKey, body: `{"value":"v"}`}, nil)
	}
	b.must(t, 204, req{method: "DELETE", path: "/v1/tenants/globex/secrets/B", auth: admin}, nil)

	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"tenant=globex&action=secret.created", []string{"secret.created C", "secret.created B", "secret.created A"}},
		{"tenant=globex&resource_type=secret&resource_id=B", []string{"secret.deleted B", "secret.created B"}},
		{"tenant=globex&actor=admin&since=" + url.QueryEscape(since.Format(time.RFC3339Nano)), []string{"secret.deleted B"}},
		{"tenant=globex&resource_type=secret&before=" + url.QueryEscape(since.Format(time.RFC3339Nano)), []string{}},
		{"tenant=acme&action=secret.deleted", []string{}},
	} {
		var p auditPage
		b.must(t, 200, req{method: "GET", path: "/v1/audit-log?" + tt.query, auth: admin}, &p)
		if got := p.actions(); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("?%s = %v; want %v", tt.query, got, tt.want)
		}
	}

	// The tenant's own route takes the same filters.
	var p auditPage
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/globex/audit-log?resource_type=secret", auth: "Bearer " + b.otherKey}, &p)
	if got := strings.Join(p.actions(), ","); got != "secret.deleted B,secret.created C,secret.created B,secret.created A" {
		t.Errorf("globex's secret entries = %s", got)
	}

	// Pages of two, newest first, end.
	var got []string
	path := "/v1/tenants/globex/audit-log?limit=2&resource_type=secret"
	for range 10 {
		var p auditPage
		b.must(t, 200, req{method: "GET", path: path, auth: admin}, &p)
		got = append(got, p.actions()...)
		if p.NextCursor == nil {
			break
		}
		path = "/v1/tenants/globex/audit-log?limit=2&resource_type=secret&cursor=" + *p.NextCursor
	}
	if strings.Join(got, ",") != "secret.deleted B,secret.created C,secret.created B,secret.created A" {
		t.Errorf("pages = %v", got)
	}
}

// auditJunk are filters the audit log's routes refuse, with more.
func auditJunk(more ...string) []string {
	return append([]string{"action=endpoint.create", "action=ENDPOINT.CREATED", "action=%00", "resource_type=endpoints",
		"resource_type=%FF", "actor=" + strings.Repeat("a", 201), "resource_id=" + strings.Repeat("r", 201)}, more...)
}
