package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPublishTakesAnyJSONValueAsData(t *testing.T) {
	t.Parallel()
	b := setup(t)
	auth := "Bearer " + b.key
	for _, data := range []string{`null`, `"a string"`, `[1,"two",null]`, `42`, `true`, `{"amount":1}`} {
		t.Run(data, func(t *testing.T) {
			var published struct{ ID string }
			// order.placed has no schema in the catalog: any value goes.
			b.must(t, 202, req{method: "POST", path: "/v1/tenants/acme/events", auth: auth, body: `{"type":"order.placed","data":` + data + `}`}, &published)
			var got struct {
				Data json.RawMessage `json:"data"`
			}
			b.must(t, 200, req{method: "GET", path: "/v1/tenants/acme/events/" + published.ID, auth: auth}, &got)
			if string(got.Data) != data {
				t.Errorf("published data %s reads back as %s", data, got.Data)
			}
		})
	}

	// A type's schema still decides what its data may be.
	e := refused(t, "null data for a type whose schema wants an object",
		b.do(t, req{method: "POST", path: "/v1/tenants/acme/events", auth: auth, body: `{"type":"invoice.paid","data":null}`}), 422)
	if !strings.Contains(e.Message, "schema") {
		t.Errorf("null data against an object schema: message %q doesn't say the schema refused it", e.Message)
	}
	e = refused(t, "no data", b.do(t, req{method: "POST", path: "/v1/tenants/acme/events", auth: auth, body: `{"type":"order.placed"}`}), 422)
	if !strings.Contains(e.Message, "data is required") || !strings.Contains(e.Message, "null included") {
		t.Errorf("no data: message %q doesn't ask for data and say null is data", e.Message)
	}
}

func TestARefusedReplayNamesTheStoredEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	auth := "Bearer " + b.key
	// The setup published b.event with Idempotency-Key setup-1.
	a := b.do(t, req{method: "POST", path: "/v1/tenants/acme/events", auth: auth,
		body: `{"type":"invoice.paid","data":{"amount":999}}`, header: map[string]string{"Idempotency-Key": "setup-1"}})
	e := refused(t, "a replay with other content", a, 409)
	if !strings.Contains(e.Message, `"`+b.event+`"`) || !strings.Contains(e.Message, `"setup-1"`) {
		t.Errorf("409 message %q doesn't name the key and the stored event %s", e.Message, b.event)
	}
	if strings.Contains(strings.ReplaceAll(e.Message, b.event, ""), "evt_") {
		t.Errorf("409 message %q names an event id besides the stored one", e.Message)
	}
	// The event it names is there.
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/acme/events/" + b.event, auth: auth}, nil)
}
