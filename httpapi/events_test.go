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

func TestAPublishTimestampMustStayWithinFourDigitYearsInUTC(t *testing.T) {
	t.Parallel()
	b := setup(t)
	auth := "Bearer " + b.key
	for _, ts := range []string{"0000-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"} {
		e := refused(t, "timestamp "+ts, b.do(t, req{method: "POST", path: "/v1/tenants/acme/events", auth: auth,
			body: `{"type":"order.placed","data":{},"timestamp":"` + ts + `"}`}), 422)
		if !strings.Contains(e.Message, "timestamp") || !strings.Contains(e.Message, "9999-12-31T23:59:59Z") {
			t.Errorf("timestamp %s: message %q doesn't give the range", ts, e.Message)
		}
	}
	for ts, want := range map[string]string{
		"0000-01-01T00:00:00Z":          "0000-01-01T00:00:00.000Z",
		"9999-12-31T23:59:59.999+00:00": "9999-12-31T23:59:59.999Z",
		"2026-03-01T08:00:00.64+01:00":  "2026-03-01T07:00:00.640Z",
	} {
		var out struct{ Timestamp string }
		b.must(t, 202, req{method: "POST", path: "/v1/tenants/acme/events", auth: auth,
			body: `{"type":"order.placed","data":{},"timestamp":"` + ts + `"}`}, &out)
		if out.Timestamp != want {
			t.Errorf("timestamp %s answered as %s, want %s", ts, out.Timestamp, want)
		}
	}
}
