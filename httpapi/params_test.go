package httpapi

import (
	"strings"
	"testing"

	"github.com/outlethq/outlet/internal/metrics"
)

func TestEveryListRefusesALimitOutsideItsRange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := "Bearer " + adminKey
	lists := 0
	for _, route := range New(Config{Metrics: metrics.New()}).Routes() {
		if !specs[route.Pattern].list {
			continue
		}
		lists++
		_, pattern, _ := strings.Cut(route.Pattern, " ")
		for _, limit := range []string{"0", "-1", "251"} {
			e := refused(t, route.Pattern+"?limit="+limit, b.do(t, req{method: "GET", path: b.fill(pattern, nil) + "?limit=" + limit, auth: admin}), 422)
			if !strings.Contains(e.Message, "limit") || !strings.Contains(e.Message, "1 to 250") {
				t.Errorf("%s?limit=%s: message %q doesn't give the range", route.Pattern, limit, e.Message)
			}
		}
		for _, limit := range []string{"1", "250"} {
			b.must(t, 200, req{method: "GET", path: b.fill(pattern, nil) + "?limit=" + limit, auth: admin}, nil)
		}
	}
	if lists == 0 {
		t.Fatal("no list routes found in the sweep's specs")
	}
}

func TestEndpointURLsWithAPortNoConnectionCanUseAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := "Bearer " + adminKey
	for _, port := range []string{"99999", "65536", "0"} {
		url := "http://example.com:" + port + "/hook"
		for _, r := range []req{
			{method: "POST", path: "/v1/tenants/acme/endpoints", body: `{"url":"` + url + `"}`},
			{method: "PATCH", path: "/v1/tenants/acme/endpoints/" + b.endpoint, body: `{"url":"` + url + `"}`},
			{method: "PUT", path: "/v1/tenants/acme/hooks/login.post/endpoint", body: `{"url":"` + url + `"}`},
		} {
			r.auth = admin
			e := refused(t, r.method+" "+r.path+" with port "+port, b.do(t, r), 422)
			if !strings.Contains(e.Message, "1 to 65535") {
				t.Errorf("%s %s with port %s: message %q doesn't give the range", r.method, r.path, port, e.Message)
			}
		}
	}
}
