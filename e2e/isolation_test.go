package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/outlethq/outlet/httpapi"
	"github.com/outlethq/outlet/internal/metrics"
)

// allRoutes is every route the API serves, as it reports them.
func allRoutes() []httpapi.Route {
	return httpapi.New(httpapi.Config{Metrics: metrics.New()}).Routes()
}

func TestATenantKeyCanNeverReachAnotherTenantOrTheOperatorsRoutes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rcv := newReceiver(t)
	victim := s.tenant("victim")
	s.tenant("intruder")
	var key struct{ Key, ID string }
	s.must(201, "POST", "/v1/tenants/intruder/api-keys", map[string]any{"name": "ci"}, &key)
	var victimKey struct{ ID string }
	s.must(201, "POST", "/v1/tenants/victim/api-keys", map[string]any{}, &victimKey)
	ep := s.endpoint(victim, map[string]any{"url": rcv.srv.URL})
	s.must(201, "POST", "/v1/event-types", map[string]any{"name": "invoice.paid"}, nil)
	// The victim's function, hook and secret share the name the routes use.
	s.must(201, "POST", "/v1/hooks", map[string]any{"name": "invoice.paid", "timeout_ms": 1000}, nil)
	s.must(201, "PUT", "/v1/tenants/victim/functions/invoice.paid", map[string]any{"runtime": "javascript",
		"code": "export default (e, ctx) => ({ ...e, key: ctx.secrets.TOKEN })", "hooks": []string{"invoice.paid"}}, nil)
	s.must(204, "PUT", "/v1/tenants/victim/secrets/TOKEN", map[string]any{"value": "victim-secret-value-42"}, nil)
	evt := s.publish(victim, "invoice.paid", map[string]int{"n": 1})
	rcv.waitCount(1, 10e9)
	dlv := s.deliveries(victim, "")[0].ID

	params := strings.NewReplacer("{tenant}", "victim", "{id}", ep.ID, "{name}", "invoice.paid", "{key}", victimKey.ID,
		"{hook}", "invoice.paid", "{version}", "1")
	routes := allRoutes()
	if len(routes) < 30 {
		t.Fatalf("the API reports only %d routes", len(routes))
	}
	for _, r := range routes {
		if r.Access == "public" {
			continue
		}
		method, path, _ := strings.Cut(r.Pattern, " ")
		// {id} means the resource of that route's collection.
		switch {
		case strings.Contains(path, "/events/{id}"):
			path = strings.Replace(path, "{id}", evt, 1)
		case strings.Contains(path, "/deliveries/{id}"):
			path = strings.Replace(path, "{id}", dlv, 1)
		}
		path = params.Replace(path)
		body := `{"name":"x","url":"http://127.0.0.1:1/","type":"invoice.paid","data":{},"since":"2020-01-01T00:00:00Z","id":"x"}`
		var raw json.RawMessage
		status := s.call(key.Key, method, path, body, &raw)
		var e struct {
			Error struct{ Code, Message string }
		}
		json.Unmarshal(raw, &e)
		if strings.Contains(string(raw), "victim-secret-value-42") {
			t.Errorf("%s %s answered the victim's secret", method, path)
		}
		if status != 403 && status != 404 {
			t.Errorf("%s %s with another tenant's key answered %d; want 403 or 404", method, path, status)
		} else if e.Error.Message == "" {
			t.Errorf("%s %s answered %d without an error message", method, path, status)
		}
		if status := s.call("", method, path, body, nil); status != 401 {
			t.Errorf("%s %s without a key answered %d; want 401", method, path, status)
		}
		if status := s.call("olk_not-a-real-key", method, path, body, nil); status != 401 {
			t.Errorf("%s %s with an unknown key answered %d; want 401", method, path, status)
		}
	}
	// The victim's data is untouched.
	var got endpoint
	s.must(200, "GET", "/v1/tenants/victim/endpoints/"+ep.ID, nil, &got)
	if got.URL != rcv.srv.URL {
		t.Errorf("the victim's endpoint changed: %+v", got)
	}
	// And the intruder's key works on its own tenant.
	if status := s.call(key.Key, "GET", "/v1/tenants/intruder/endpoints", nil, nil); status != 200 {
		t.Errorf("a tenant key on its own endpoints answered %d", status)
	}
	if status := s.call(key.Key, "POST", "/v1/tenants/intruder/events", `{"type":"invoice.paid","data":{}}`, nil); status != 202 {
		t.Errorf("a tenant key publishing for itself answered %d", status)
	}
	// A revoked key stops working at once.
	s.must(204, "DELETE", "/v1/tenants/intruder/api-keys/"+key.ID, nil, nil)
	if status := s.call(key.Key, "GET", "/v1/tenants/intruder/endpoints", nil, nil); status != 401 {
		t.Errorf("a revoked key answered %d; want 401", status)
	}
}
