package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// invoiceSchema is the schema the tests below give invoice.created.
const invoiceSchema = `{
	"type": "object",
	"required": ["amount", "customer"],
	"additionalProperties": false,
	"properties": {
		"amount": {"type": "integer", "minimum": 0},
		"customer": {"type": "object", "properties": {"email": {"type": "string"}}},
		"items": {"type": "array", "items": {"type": "string"}},
		"currency": {"type": "string"}
	}
}`

func TestEventTypeSchemasAreCheckedThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := "Bearer " + adminKey
	create := func(body string) answer {
		return b.do(t, req{method: "POST", path: "/v1/event-types", auth: admin, body: body})
	}
	publish := func(data string) answer {
		// globex has no endpoints: publishes start no deliveries that would
		// change the store while the test compares it.
		return b.do(t, req{method: "POST", path: "/v1/tenants/globex/events", auth: "Bearer " + b.otherKey,
			body: `{"type":"invoice.created","data":` + data + `}`})
	}
	// fetched counts requests a schema makes Outlet send; there must be none.
	var fetched atomic.Int64
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"type":"string"}`))
	}))
	t.Cleanup(remote.Close)

	t.Run("a sample that doesn't match the schema is 422, and nothing is created", func(t *testing.T) {
		before := b.snapshot(t)
		e := refused(t, "create", create(`{"name":"invoice.created","schema":`+invoiceSchema+`,"sample":{"amount":"ten","customer":{}}}`), 422)
		for _, s := range []string{"sample", "/amount"} {
			if !strings.Contains(e.Message, s) {
				t.Errorf("message %q doesn't say %q", e.Message, s)
			}
		}
		if after := b.snapshot(t); after != before {
			t.Errorf("the refused create changed the store: %s", diff(before, after))
		}
	})

	t.Run("a schema that isn't a valid JSON Schema is 422", func(t *testing.T) {
		before := b.snapshot(t)
		for _, schema := range []string{
			`{"type":"nope"}`,
			`{"type":5}`,
			`{"minimum":"x"}`,
			`{"required":"amount"}`,
			`{"properties":[]}`,
			`{"pattern":"("}`,
			`{"items":{"type":"nope"}}`,
			`{"$ref":"#/$defs/missing"}`,
			`{"$ref":"#"}`,
			`{"$ref":"schema.json"}`,
			`{"$id":"urn:a","$ref":"b"}`,
			`{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`,
			`"object"`,
			`5`,
			`[]`,
		} {
			e := refused(t, "schema "+schema, create(`{"name":"invoice.created","schema":`+schema+`}`), 422)
			if !strings.Contains(e.Message, "schema") {
				t.Errorf("schema %s: message %q doesn't say the schema is what's wrong", schema, e.Message)
			}
		}
		if after := b.snapshot(t); after != before {
			t.Errorf("refused creates changed the store: %s", diff(before, after))
		}
	})

	t.Run("a schema that refers outside itself is refused and never fetched", func(t *testing.T) {
		before := b.snapshot(t)
		for _, schema := range []string{
			`{"$ref":"` + remote.URL + `/schema.json"}`,
			`{"properties":{"amount":{"$ref":"` + remote.URL + `/amount.json#/x"}}}`,
			`{"$schema":"` + remote.URL + `/meta.json","type":"object"}`,
			`{"$id":"` + remote.URL + `/root.json","$ref":"other.json"}`,
			`{"$defs":{"a":{"$id":"` + remote.URL + `/a.json"}},"$ref":"` + remote.URL + `/b.json"}`,
			`{"$dynamicRef":"` + remote.URL + `/dyn.json"}`,
			`{"$ref":"file:///etc/passwd"}`,
			`{"$ref":"file:///proc/self/environ#/x"}`,
			`{"$ref":"https://example.com/schema.json"}`,
			`{"$ref":"other.json"}`,
		} {
			refused(t, "schema "+schema, create(`{"name":"invoice.created","schema":`+schema+`}`), 422)
		}
		if n := fetched.Load(); n != 0 {
			t.Errorf("schemas made Outlet fetch %d URLs", n)
		}
		if after := b.snapshot(t); after != before {
			t.Errorf("refused creates changed the store: %s", diff(before, after))
		}
	})

	t.Run("references inside the schema and known drafts work", func(t *testing.T) {
		b.must(t, 201, req{method: "POST", path: "/v1/event-types", auth: admin,
			body: `{"name":"refs.local","schema":{"$defs":{"cents":{"type":"integer"}},"properties":{"amount":{"$ref":"#/$defs/cents"}}}}`}, nil)
		b.must(t, 201, req{method: "POST", path: "/v1/event-types", auth: admin,
			body: `{"name":"refs.draft7","schema":{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"c":{"type":"integer"}},"properties":{"amount":{"$ref":"#/definitions/c"}}}}`}, nil)
		b.must(t, 201, req{method: "POST", path: "/v1/event-types", auth: admin,
			body: `{"name":"refs.recursive","schema":{"type":"object","properties":{"children":{"type":"array","items":{"$ref":"#"}}}}}`}, nil)
		if n := fetched.Load(); n != 0 {
			t.Errorf("schemas made Outlet fetch %d URLs", n)
		}
	})

	b.must(t, 201, req{method: "POST", path: "/v1/event-types", auth: admin,
		body: `{"name":"invoice.created","schema":` + invoiceSchema + `,"sample":{"amount":100,"customer":{"email":"a@example.com"}}}`}, nil)

	t.Run("data that doesn't match is 422 with the path of the mismatch", func(t *testing.T) {
		before := b.snapshot(t)
		for _, c := range []struct{ data, path, says string }{
			{`{"amount":-1,"customer":{}}`, "at /amount:", "minimum"},
			{`{"amount":"ten","customer":{}}`, "at /amount:", "integer"},
			{`{"amount":1,"customer":{"email":5}}`, "at /customer/email:", "string"},
			{`{"amount":1,"customer":{},"items":["a",2]}`, "at /items/1:", "string"},
			{`{"customer":{}}`, "at /:", "amount"},
			{`{"amount":1,"customer":{},"extra":true}`, "at /:", "extra"},
			{`"an invoice"`, "at /:", "object"},
			{`[1,2]`, "at /:", "object"},
		} {
			e := refused(t, "data "+c.data, publish(c.data), 422)
			if !strings.Contains(e.Message, c.path) || !strings.Contains(e.Message, c.says) {
				t.Errorf("data %s: message %q should say %q and %q", c.data, e.Message, c.path, c.says)
			}
		}
		if after := b.snapshot(t); after != before {
			t.Errorf("refused publishes changed the store: %s", diff(before, after))
		}
	})

	t.Run("matching data is accepted", func(t *testing.T) {
		for _, data := range []string{`{"amount":0,"customer":{}}`, `{"amount":1,"customer":{"email":"a@example.com"},"items":["x"]}`} {
			if a := publish(data); a.status != 202 {
				t.Errorf("data %s answered %d, want 202: %s", data, a.status, a.body)
			}
		}
	})

	t.Run("an updated schema applies to the next publish", func(t *testing.T) {
		// Require a currency: what passed before no longer does.
		b.must(t, 200, req{method: "PATCH", path: "/v1/event-types/invoice.created", auth: admin,
			body: `{"schema":{"type":"object","required":["amount","currency"]},"sample":{"amount":1,"currency":"EUR"}}`}, nil)
		e := refused(t, "data without currency", publish(`{"amount":1,"customer":{}}`), 422)
		if !strings.Contains(e.Message, "currency") {
			t.Errorf("message %q doesn't name the missing property", e.Message)
		}
		if a := publish(`{"amount":"any","currency":"EUR","extra":1}`); a.status != 202 {
			t.Errorf("data matching the new schema answered %d: %s", a.status, a.body)
		}

		// An update that would leave the event type invalid changes nothing.
		before := b.snapshot(t)
		refused(t, "an invalid schema", b.do(t, req{method: "PATCH", path: "/v1/event-types/invoice.created", auth: admin,
			body: `{"schema":{"type":"nope"}}`}), 422)
		refused(t, "a schema the stored sample doesn't match", b.do(t, req{method: "PUT", path: "/v1/event-types/invoice.created", auth: admin,
			body: `{"schema":{"type":"object","required":["tax"]}}`}), 422)
		refused(t, "a sample the stored schema doesn't match", b.do(t, req{method: "PATCH", path: "/v1/event-types/invoice.created", auth: admin,
			body: `{"sample":{"amount":1}}`}), 422)
		refused(t, "a remote reference", b.do(t, req{method: "PATCH", path: "/v1/event-types/invoice.created", auth: admin,
			body: `{"schema":{"$ref":"` + remote.URL + `/s.json"}}`}), 422)
		if after := b.snapshot(t); after != before {
			t.Errorf("refused updates changed the store: %s", diff(before, after))
		}
		if a := publish(`{"amount":1,"currency":"EUR"}`); a.status != 202 {
			t.Errorf("after refused updates, data matching the schema answered %d: %s", a.status, a.body)
		}

		// A null schema removes it: any data goes.
		b.must(t, 200, req{method: "PATCH", path: "/v1/event-types/invoice.created", auth: admin, body: `{"schema":null}`}, nil)
		if a := publish(`"anything"`); a.status != 202 {
			t.Errorf("with the schema removed, data answered %d: %s", a.status, a.body)
		}
		if n := fetched.Load(); n != 0 {
			t.Errorf("schemas made Outlet fetch %d URLs", n)
		}
	})
}

func TestUnknownRoutesAndWrongMethodsAnswerJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, auth := range []string{"", "Bearer " + adminKey} {
		for _, path := range []string{"/", "/nope", "/v1", "/v1/", "/v1/tenants/", "/v1/tenants/acme/nope", "/v1/tenants/acme/endpoints/x/y/z",
			"/v2/tenants", "/v1/tenants/acme/events/" + b.event + "/", "/%00", "//v1/tenants"} {
			for _, method := range []string{"GET", "POST", "DELETE"} {
				e := refused(t, method+" "+path, b.do(t, req{method: method, path: path, auth: auth, body: `{}`}), 404)
				if e.Code != "not_found" || !strings.Contains(e.Message, "no route") {
					t.Errorf("%s %s: error %+v should be not_found and say there is no route", method, path, e)
				}
			}
		}
		for _, c := range []struct {
			method, path string
			allow        []string
		}{
			{"DELETE", "/v1/tenants", []string{"GET", "POST"}},
			{"PATCH", "/v1/tenants/acme/events", []string{"GET", "POST"}},
			{"PUT", "/v1/tenants/acme/deliveries/" + b.delivery + "/retry", []string{"POST"}},
			{"POST", "/v1/tenants/acme/endpoints/" + b.endpoint + "/secret", []string{"GET"}},
			{"POST", "/healthz", []string{"GET"}},
			{"DELETE", "/metrics", []string{"GET"}},
			{"POST", "/v1/event-types/invoice.paid", []string{"GET", "PATCH", "PUT", "DELETE"}},
			{"OPTIONS", "/v1/tenants", []string{"GET", "POST"}},
		} {
			what := c.method + " " + c.path
			a := b.do(t, req{method: c.method, path: c.path, auth: auth, body: `{}`})
			e := refused(t, what, a, 405)
			allow := a.header.Get("Allow")
			for _, m := range c.allow {
				if !strings.Contains(allow, m) {
					t.Errorf("%s: Allow %q doesn't list %s", what, allow, m)
				}
				if !strings.Contains(e.Message, m) {
					t.Errorf("%s: message %q doesn't list %s", what, e.Message, m)
				}
			}
			if e.Code != "method_not_allowed" {
				t.Errorf("%s: code %q, want method_not_allowed", what, e.Code)
			}
		}
	}
}
