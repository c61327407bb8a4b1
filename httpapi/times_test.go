package httpapi

import (
	"encoding/json"
	"mime"
	"regexp"
	"strings"
	"testing"

	"github.com/outlethq/outlet/internal/metrics"
)

var (
	// looksLikeTime is any RFC 3339 date and time.
	looksLikeTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$`)
	// apiTime is the one form the API writes times in.
	apiTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// viewFields are fields the API adds beside a record's own, by route: they
// must survive the record's JSON.
var viewFields = map[string][]string{
	"POST /v1/tenants/{tenant}/api-keys":                           {"id", "created_at", "key"},
	"POST /v1/tenants/{tenant}/endpoints":                          {"id", "url", "created_at", "secret"},
	"PUT /v1/tenants/{tenant}/functions/{name}":                    {"function", "version", "created_at", "name"},
	"GET /v1/tenants/{tenant}/functions/{name}/versions":           {"data.function", "data.created_at", "data.name"},
	"GET /v1/tenants/{tenant}/functions/{name}/versions/{version}": {"function", "created_at", "name", "source"},
	"GET /v1/tenants/{tenant}/hooks":                               {"data.name", "data.created_at", "data.served_by", "data.functions", "data.endpoint"},
	"GET /v1/tenants/{tenant}/hooks/{hook}":                        {"name", "created_at", "served_by", "functions", "endpoint"},
	"PUT /v1/tenants/{tenant}/hooks/{hook}/endpoint":               {"hook", "url", "created_at", "secret"},
	"GET /v1/tenants/{tenant}/hooks/{hook}/endpoint":               {"hook", "url", "created_at"},
	"POST /v1/tenants/{tenant}/functions/{name}/rollback":          {"name", "active_version", "created_at"},
	"POST /v1/tenants/{tenant}/events":                             {"id", "timestamp", "created_at", "deliveries"},
	"GET /v1/tenants/{tenant}/deliveries/{id}":                     {"id", "event_id", "created_at", "last_attempt_at"},
	"GET /v1/tenants/{tenant}/deliveries/{id}/attempts":            {"data.id", "data.started_at"},
	"GET /v1/tenants/{tenant}/functions/{name}/logs":               {"data.id", "data.started_at"},
	"GET /v1/tenants/{tenant}/endpoints/{id}/secret":               {"secret"},
	"POST /v1/tenants/{tenant}/endpoints/{id}/rotate-secret":       {"secret", "previous_secret", "previous_secret_expires_at"},
	"GET /v1/tenants/{tenant}/secrets":                             {"data.name", "data.created_at"},
}

// TestEveryAnswerWritesTimesWithMilliseconds calls every route that answers
// JSON, rightly, on the bundle's records, and wants every time in every
// answer as RFC 3339 in UTC with exactly three fractional digits — and the
// fields the API adds beside a record's own still there.
func TestEveryAnswerWritesTimesWithMilliseconds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := "Bearer " + adminKey
	checked := 0
	for _, route := range New(Config{Metrics: metrics.New()}).Routes() {
		method, pattern, _ := strings.Cut(route.Pattern, " ")
		spec, ok := specs[route.Pattern]
		if !ok || method == "DELETE" {
			continue // DELETE answers nothing, and would take the records the rest need
		}
		a := b.do(t, req{method: method, path: b.fill(pattern, nil), auth: admin, body: spec.body})
		if a.status != spec.ok {
			t.Errorf("%s answered %d, want %d: %.300s", route.Pattern, a.status, spec.ok, a.body)
			continue
		}
		if ct, _, _ := mime.ParseMediaType(a.header.Get("Content-Type")); ct != "application/json" || len(a.body) == 0 {
			continue
		}
		var v any
		if err := json.Unmarshal(a.body, &v); err != nil {
			t.Errorf("%s answered JSON that doesn't parse: %v", route.Pattern, err)
			continue
		}
		found := map[string]bool{}
		walkJSON(v, "", func(path string, s any) {
			found[path] = true
			str, ok := s.(string)
			if ok && looksLikeTime.MatchString(str) {
				checked++
				if !apiTime.MatchString(str) {
					t.Errorf("%s: %s is %q; want UTC with exactly three fractional digits, e.g. 2026-03-01T12:00:00.120Z", route.Pattern, path, str)
				}
			}
		})
		for _, f := range viewFields[route.Pattern] {
			if !found[f] {
				t.Errorf("%s answered without %q: %.500s", route.Pattern, f, a.body)
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d times seen in all the answers; the sweep isn't reaching the records", checked)
	}

	// Times that are null until something happens.
	b.must(t, 200, req{method: "PATCH", path: "/v1/tenants/acme/endpoints/" + b.endpoint, auth: admin, body: `{"disabled":true}`}, nil)
	var ep struct {
		DisabledAt string `json:"disabled_at"`
	}
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/acme/endpoints/" + b.endpoint, auth: admin}, &ep)
	if !apiTime.MatchString(ep.DisabledAt) {
		t.Errorf("a disabled endpoint's disabled_at is %q; want UTC with three fractional digits", ep.DisabledAt)
	}
}

// walkJSON calls f with every value in v and its path: object keys joined
// with dots, array elements under their array's path.
func walkJSON(v any, path string, f func(path string, v any)) {
	if path != "" {
		f(path, v)
	}
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			walkJSON(e, join(k), f)
		}
	case []any:
		for _, e := range v {
			walkJSON(e, path, f)
		}
	}
}
