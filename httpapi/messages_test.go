package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestRefusalsSayWhatToChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := "Bearer " + adminKey
	endpoints := "/v1/tenants/acme/endpoints"
	events := "/v1/tenants/acme/events"
	functions := "/v1/tenants/acme/functions"
	for _, c := range []struct {
		name   string
		req    req
		status int
		code   string
		says   []string
	}{
		{"an unknown field is named",
			req{method: "POST", path: endpoints, body: `{"url":"http://127.0.0.1:9/","event_type":["invoice.paid"]}`},
			400, "malformed", []string{`unknown field "event_type"`}},
		{"a wrong type names the field and the type it must be",
			req{method: "POST", path: endpoints, body: `{"url":5}`},
			400, "malformed", []string{`"url"`, "must be a string", "not a number"}},
		{"a wrong type inside an array names the array and what it holds",
			req{method: "POST", path: endpoints, body: `{"url":"http://127.0.0.1:9/","event_types":["invoice.paid",7]}`},
			400, "malformed", []string{`"event_types"`, "an array of strings", "holds a number"}},
		{"a wrong type inside an object names the object and what it holds",
			req{method: "POST", path: "/v1/tenants", body: `{"id":"newco","metadata":{"tier":1}}`},
			400, "malformed", []string{`"metadata"`, "an object of strings", "holds a number"}},
		{"a fraction where a whole number goes says so",
			req{method: "POST", path: endpoints + "/" + b.endpoint + "/rotate-secret", body: `{"overlap_seconds":1.5}`},
			400, "malformed", []string{`"overlap_seconds"`, "a whole number", "1.5"}},
		{"a time that isn't RFC 3339 names the field and shows the format",
			req{method: "POST", path: endpoints + "/" + b.endpoint + "/recover", body: `{"since":"yesterday"}`},
			400, "malformed", []string{`"since"`, "RFC 3339", "2026-01-02T15:04:05Z", `"yesterday"`}},
		{"a publish timestamp that isn't RFC 3339 names the field",
			req{method: "POST", path: events, body: `{"type":"invoice.paid","data":{},"timestamp":1700000000}`},
			400, "malformed", []string{`"timestamp"`, "RFC 3339", "1700000000"}},
		{"malformed JSON says where",
			req{method: "POST", path: events, body: `{"type":"invoice.paid",}`},
			400, "malformed", []string{"not valid JSON", "at byte"}},
		{"a body that ends early says so",
			req{method: "POST", path: events, body: `{"type":"invoice.paid","data":{`},
			400, "malformed", []string{"not valid JSON"}},
		{"a body that isn't an object says what it is",
			req{method: "POST", path: events, body: `["invoice.paid"]`},
			400, "malformed", []string{"must be a JSON object", "not an array"}},
		{"null is not an object",
			req{method: "POST", path: events, body: `null`},
			400, "malformed", []string{"must be a JSON object", "not null"}},
		{"trailing data is refused",
			req{method: "POST", path: events, body: `{"type":"invoice.paid","data":{}} {}`},
			400, "malformed", []string{"exactly one object"}},
		{"bytes that aren't UTF-8 are refused",
			req{method: "POST", path: events, body: "{\"type\":\"invoice.paid\",\"data\":{\"name\":\"\xc3\x28\"}}"},
			400, "malformed", []string{"UTF-8"}},
		{"an empty body asks for an object",
			req{method: "POST", path: events},
			400, "malformed", []string{"empty", "JSON object"}},
		{"data that doesn't match the schema names the path of the first mismatch",
			req{method: "POST", path: events, body: `{"type":"invoice.paid","data":{"amount":"ten"}}`},
			422, "invalid", []string{"/amount", "schema", "integer"}},
		{"an invalid event type name explains the format",
			req{method: "POST", path: events, body: `{"type":"invoice paid!","data":{}}`},
			422, "invalid", []string{"dot-separated", "letters, digits", "invoice.paid"}},
		{"an invalid event type name in the catalog explains the format",
			req{method: "POST", path: "/v1/event-types", body: `{"name":"Invoice Paid!"}`},
			422, "invalid", []string{"dot-separated", "invoice.paid"}},
		{"an event type filter that isn't valid explains wildcards",
			req{method: "POST", path: endpoints, body: `{"url":"http://127.0.0.1:9/","event_types":["invoice*"]}`},
			422, "invalid", []string{"invoice*", "dot-separated"}},
		{"data absent is asked for",
			req{method: "POST", path: events, body: `{"type":"invoice.paid"}`},
			422, "invalid", []string{"data is required"}},
		{"a type absent is asked for",
			req{method: "POST", path: events, body: `{"data":{}}`},
			422, "invalid", []string{"type is required"}},
		{"an invalid tenant id explains the format",
			req{method: "POST", path: "/v1/tenants", body: `{"id":"-acme corp"}`},
			422, "invalid", []string{"tenant id", "letters, digits"}},
		{"an invalid URL says what a URL must be",
			req{method: "POST", path: endpoints, body: `{"url":"ftp://example.com/"}`},
			422, "invalid", []string{"http://", "https://"}},
		{"an invalid Idempotency-Key says what it must be",
			req{method: "POST", path: events, body: `{"type":"invoice.paid","data":{}}`, header: map[string]string{"Idempotency-Key": strings.Repeat("k", 300)}},
			422, "invalid", []string{"Idempotency-Key", "1 to 256"}},
		{"an invalid event id says what it must be",
			req{method: "POST", path: events, body: `{"id":"evt 1","type":"invoice.paid","data":{}}`},
			422, "invalid", []string{"event id", "1 to 128"}},
		{"an overlap beyond 30 days gives the range, however large",
			req{method: "POST", path: endpoints + "/" + b.endpoint + "/rotate-secret", body: `{"overlap_seconds":9223372036854775807}`},
			422, "invalid", []string{"overlap_seconds", "0 to 2592000"}},
		{"event data over the cap gives the limit",
			req{method: "POST", path: events, body: `{"type":"invoice.paid","data":"` + strings.Repeat("x", 256<<10) + `"}`},
			413, "too_large", []string{"limit", "262144"}},
		{"a body over the cap gives the limit",
			req{method: "POST", path: endpoints, body: `{"description":"` + strings.Repeat("x", 1<<20) + `"}`},
			413, "too_large", []string{"larger than 1048576 bytes"}},
		{"an unknown tenant is named",
			req{method: "POST", path: "/v1/tenants/nope/endpoints", body: `{"url":"http://127.0.0.1:9/"}`},
			404, "not_found", []string{"nope"}},
		{"a bad limit gives the range",
			req{method: "GET", path: events + "?limit=500"},
			422, "invalid", []string{"limit", "1 to 250"}},
		{"a bad cursor says to pass next_cursor unchanged",
			req{method: "GET", path: events + "?cursor=abc"},
			422, "invalid", []string{"cursor", "next_cursor"}},
		{"a bad time parameter shows the format",
			req{method: "GET", path: events + "?since=yesterday"},
			422, "invalid", []string{"since", "RFC 3339"}},
		{"a bad status lists the statuses",
			req{method: "GET", path: "/v1/tenants/acme/deliveries?status=done"},
			422, "invalid", []string{"pending, succeeded, failed"}},
		{"a retry with options it doesn't take names them",
			req{method: "POST", path: "/v1/tenants/acme/deliveries/" + b.delivery + "/retry", body: `{"force":true}`},
			400, "malformed", []string{`unknown field "force"`}},
		{"a path with dot segments is not followed",
			req{method: "GET", path: endpoints + "/../../acme"},
			404, "not_found", []string{`".."`, "percent-encode"}},

		{"a deploy with a syntax error gives its line and column",
			req{method: "PUT", path: functions + "/pricing", body: deploy("export default async (cart) => {\n  const total = cart.total *;\n  return { total };\n}", "")},
			422, "invalid", []string{"doesn't compile", "line 2, column 29"}},
		{"a TypeScript deploy with a syntax error gives its line and column",
			req{method: "PUT", path: functions + "/pricing", body: `{"runtime":"typescript","code":"interface Cart { total: number }\nexport default (cart: Cart) => cart.total +\n"}`},
			422, "invalid", []string{"doesn't compile", "line 3, column 1"}},
		{"a deploy naming an unknown hook names it and where to see the hooks",
			req{method: "PUT", path: functions + "/pricing", body: deploy("export default (e) => e", `"hooks":["checkout.tax"]`)},
			422, "invalid", []string{`"checkout.tax"`, "not declared", "GET /v1/tenants/acme/hooks"}},
		{"a deploy for a hook the tenant's endpoint serves is a conflict that says how to resolve it",
			req{method: "PUT", path: functions + "/pricing", body: deploy("export default (e) => e", `"hooks":["login.post"]`)},
			409, "conflict", []string{`"login.post"`, "served by your endpoint", "DELETE /v1/tenants/acme/hooks/login.post/endpoint"}},
		{"a sync endpoint for a hook a function serves is a conflict naming the function",
			req{method: "PUT", path: "/v1/tenants/acme/hooks/checkout.discount/endpoint", body: `{"url":"http://127.0.0.1:9/"}`},
			409, "conflict", []string{`"discount"`, `"checkout.discount"`}},
		{"a deploy of both code and wasm says which goes with the runtime",
			req{method: "PUT", path: functions + "/pricing", body: `{"runtime":"wasm","code":"x","wasm":"` + minimalWasm + `"}`},
			422, "invalid", []string{`"wasm"`, "base64", `no "code"`}},
		{"a deploy of wasm that isn't base64 says so",
			req{method: "PUT", path: functions + "/pricing", body: `{"runtime":"wasm","wasm":"AGFzbQ-_"}`},
			422, "invalid", []string{"wasm is not valid base64"}},
		{"a limit past the operator's maximum gives the range",
			req{method: "PUT", path: functions + "/pricing", body: deploy("export default (e) => e", `"memory_mb":1024`)},
			422, "invalid", []string{"memory_mb 1024", "1 to 256"}},
		{"invoking with the input under another name names the field",
			req{method: "POST", path: "/v1/tenants/acme/hooks/checkout.discount/invoke", body: `{"data":{"cart":{}}}`},
			400, "malformed", []string{`unknown field "data"`}},
		{"invoking with no input asks for it, with an example",
			req{method: "POST", path: "/v1/tenants/acme/hooks/checkout.discount/invoke", body: `{}`},
			422, "invalid", []string{"input is required", `{"input":`}},
		{"input that doesn't match the hook's schema names the place",
			req{method: "POST", path: "/v1/tenants/acme/hooks/checkout.discount/invoke", body: `{"input":{"cart":[]}}`},
			422, "invalid", []string{"input does not match", "/cart", "want object"}},
		{"invoking an unknown hook names it",
			req{method: "POST", path: "/v1/tenants/acme/hooks/checkout.tax/invoke", body: `{"input":{}}`},
			404, "not_found", []string{`"checkout.tax"`}},
		{"a secret name that isn't an identifier gives the rule and an example",
			req{method: "PUT", path: "/v1/tenants/acme/secrets/1abc", body: `{"value":"sk_test_1"}`},
			422, "invalid", []string{`"1abc"`, "letters, digits and '_'", "not starting with a digit", "STRIPE_KEY"}},
		{"a secret value over 32 KiB gives the limit",
			req{method: "PUT", path: "/v1/tenants/acme/secrets/BIG", body: `{"value":"` + strings.Repeat("v", 32<<10+1) + `"}`},
			413, "too_large", []string{"32769", "32768"}},
		{"a test run with neither event nor input says what to give",
			req{method: "POST", path: functions + "/discount/test", body: `{}`},
			422, "invalid", []string{`"event"`, `"input"`}},
		{"a test run for an unknown hook names it",
			req{method: "POST", path: functions + "/discount/test", body: `{"input":{},"hook":"checkout.tax"}`},
			422, "invalid", []string{`"checkout.tax"`, "not declared"}},
		{"a rollback without a version asks for one",
			req{method: "POST", path: functions + "/discount/rollback", body: `{}`},
			422, "invalid", []string{"version is required", "/versions"}},
		{"a rollback to a version that doesn't exist names it",
			req{method: "POST", path: functions + "/discount/rollback", body: `{"version":7}`},
			404, "not_found", []string{`"discount"`, "no version 7"}},
		{"a hook can't be renamed, and the message says what to do instead",
			req{method: "PATCH", path: "/v1/hooks/checkout.discount", body: `{"name":"checkout.rebate"}`},
			422, "invalid", []string{"can't be renamed", `create "checkout.rebate"`}},
		{"an invalid hook schema names the field and the place in the schema",
			req{method: "POST", path: "/v1/hooks", body: `{"name":"order.review","input_schema":{"properties":{"total":{"type":"int"}}}}`},
			422, "invalid", []string{"input_schema", "/properties/total/type", "'integer'"}},
		{"a hook timeout out of range gives the range",
			req{method: "POST", path: "/v1/hooks", body: `{"name":"order.review","timeout_ms":60000}`},
			422, "invalid", []string{"timeout_ms 60000", "1 to 30000"}},
		{"an allowed host with a scheme shows the forms a host takes",
			req{method: "PUT", path: "/v1/tenants/acme/settings", body: `{"allowed_hosts":["https://api.stripe.com"]}`},
			422, "invalid", []string{`"https://api.stripe.com"`, "api.example.com", "*.example.com"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.req
			r.auth = admin
			e := refused(t, c.name, b.do(t, r), c.status)
			if e.Code != c.code {
				t.Errorf("code %q, want %q", e.Code, c.code)
			}
			for _, s := range c.says {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message %q doesn't say %q", e.Message, s)
				}
			}
		})
	}

	for _, c := range []struct {
		name, auth string
		status     int
		says       string
	}{
		{"a missing key shows the header to send", "", 401, "Authorization: Bearer <key>"},
		{"a Basic header shows the scheme to use", "Basic dXNlcjpwYXNz", 401, `"Bearer <key>"`},
		{"a Bearer without a key shows the form", "Bearer", 401, `"Bearer <key>"`},
		{"an unknown key says it may be revoked", "Bearer olk_nope", 401, "revoked"},
		{"a tenant key on an admin route says the admin key is needed", "Bearer " + b.key, 403, "admin key"},
		{"another tenant's key names both tenants", "Bearer " + b.otherKey, 403, `"globex"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := "/v1/tenants/acme/api-keys"
			if c.status == 403 && c.auth != "Bearer "+b.key {
				path = endpoints
			}
			e := refused(t, c.name, b.do(t, req{method: "GET", path: path, auth: c.auth}), c.status)
			if !strings.Contains(e.Message, c.says) {
				t.Errorf("message %q doesn't say %q", e.Message, c.says)
			}
		})
	}
}

func TestEventDataCapIsConfigurable(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MaxEventSize = 1 << 10 })
	publish := func(data string) answer {
		return b.do(t, req{method: "POST", path: "/v1/tenants/acme/events", auth: "Bearer " + b.key,
			body: `{"type":"order.created","data":{"s":"` + data + `"}}`})
	}
	before := b.snapshot(t)
	e := refused(t, "2 KiB of data", publish(strings.Repeat("x", 2<<10)), 413)
	if !strings.Contains(e.Message, "1024") {
		t.Errorf("message %q doesn't give the configured limit", e.Message)
	}
	refused(t, "a 100 KiB body", publish(strings.Repeat("x", 100<<10)), 413)
	if after := b.snapshot(t); after != before {
		t.Errorf("refused publishes changed the store: %s", diff(before, after))
	}
	if a := publish(strings.Repeat("x", 512)); a.status != 202 {
		t.Errorf("512 B of data answered %d, want 202: %s", a.status, a.body)
	}
	// The limit is on the data as stored, compacted: whitespace around it doesn't count.
	if a := b.do(t, req{method: "POST", path: "/v1/tenants/acme/events", auth: "Bearer " + b.key,
		body: `{"type":"order.created","data":{"s":"` + strings.Repeat("x", 900) + `"` + strings.Repeat(" ", 2000) + `}}`}); a.status != 202 {
		t.Errorf("900 B of data padded with spaces answered %d, want 202: %s", a.status, a.body)
	}
}

func TestEventDataCapDefaultsTo256KiB(t *testing.T) {
	t.Parallel()
	b := setup(t)
	publish := func(n int) answer {
		// {"s":"…"} is 8 bytes around the string.
		return b.do(t, req{method: "POST", path: "/v1/tenants/acme/events", auth: "Bearer " + b.key,
			body: `{"type":"order.created","data":{"s":"` + strings.Repeat("x", n-8) + `"}}`})
	}
	if a := publish(256 << 10); a.status != 202 {
		t.Errorf("exactly 256 KiB of data answered %d, want 202: %.300s", a.status, a.body)
	}
	refused(t, "256 KiB and one byte of data", publish(256<<10+1), 413)
}

// With no Logger configured, an error that gets logged must still be
// answered, not crash the handler and drop the connection.
func TestErrorsThatAreLoggedAreAnsweredWithoutALogger(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Logger = nil
		c.Ready = func(context.Context) error { return errors.New("the store is down") }
	})
	a := b.do(t, req{method: "GET", path: "/readyz"})
	var e struct{ Error apiError }
	if a.status != 503 || json.Unmarshal(a.body, &e) != nil || e.Error.Code != "unavailable" || a.header.Get("Retry-After") == "" {
		t.Errorf("an unready node answered %d %s (Retry-After %q); want 503 unavailable with Retry-After", a.status, a.body, a.header.Get("Retry-After"))
	}
}
