package openapicheck_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/outlethq/outlet/internal/openapicheck"
)

const tenant = `{"id":"acme","name":"Acme Inc","metadata":{},"allowed_hosts":[],"publish_rate_limit":0,` +
	`"created_at":"2026-11-23T19:05:34.120Z","updated_at":"2026-11-23T19:05:34.120Z"}`

func TestCheckFindsWhatDepartsFromTheDocument(t *testing.T) {
	t.Parallel()
	c, err := openapicheck.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		method, path string
		reqBody      string
		status       int
		respBody     string
		problem      string // a word of the problem; "" for none
	}{
		{"an answer as described is fine", "POST", "/v1/tenants", `{"id":"acme","name":"Acme Inc"}`, 201, tenant, ""},
		{"an answer with a field the document lacks is a problem", "GET", "/v1/tenants/acme", "", 200,
			strings.Replace(tenant, `"name"`, `"plan":"pro","name"`, 1), "plan"},
		{"an answer without a required field is a problem", "GET", "/v1/tenants/acme", "", 200,
			strings.Replace(tenant, `"name":"Acme Inc",`, "", 1), "name"},
		{"a status the operation doesn't declare is a problem", "GET", "/v1/tenants/acme", "", 409,
			`{"error":{"code":"conflict","message":"x"}}`, "409"},
		{"an error of another shape is a problem", "GET", "/v1/tenants/acme", "", 404, `{"message":"not found"}`, "error"},
		{"a request the document calls wrong, accepted, is a problem", "POST", "/v1/tenants", `{"id":"acme","nmae":"Acme"}`, 201, tenant, "accepted"},
		{"a request the document calls wrong, refused, is fine", "POST", "/v1/tenants", `{"id":"acme","nmae":"Acme"}`, 400,
			`{"error":{"code":"malformed","message":"unknown field nmae"}}`, ""},
		{"a path without an operation, refused, is fine", "GET", "/v1/tenants/", "", 404, `{"error":{"code":"not_found","message":"no route"}}`, ""},
		{"a path without an operation, answered, is a problem", "GET", "/v1/nothing", "", 200, `{}`, "no such operation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, "http://127.0.0.1:8080"+tc.path, strings.NewReader(tc.reqBody))
			r.Header.Set("Authorization", "Bearer olk_admin_0123456789abcdef")
			if tc.reqBody != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {"application/json"}}}
			got := c.Check(r, []byte(tc.reqBody), resp, []byte(tc.respBody))
			switch {
			case tc.problem == "" && got != "":
				t.Errorf("want no problem, got %s", got)
			case tc.problem != "" && !strings.Contains(got, tc.problem):
				t.Errorf("want a problem naming %q, got %q", tc.problem, got)
			}
		})
	}
}
