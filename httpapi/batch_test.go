package httpapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// batchAnswer is a batch publish's answer as a client reads it.
type batchAnswer struct {
	Results []struct {
		ID         string    `json:"id"`
		Type       string    `json:"type"`
		Timestamp  string    `json:"timestamp"`
		Deliveries int       `json:"deliveries"`
		Replayed   bool      `json:"replayed"`
		Error      *apiError `json:"error"`
	} `json:"results"`
	Accepted, Replayed, Failed int
}

func TestABatchAnswersEachEventInOrderAndStoresTheValidOnes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	auth := "Bearer " + b.key
	big := `"` + strings.Repeat("a", 256<<10) + `"`
	events := []struct {
		body string
		code string // of the refusal; "" if stored or replayed
		says string // what its message must say
	}{
		{`{"type":"invoice.paid","data":{"amount":1},"idempotency_key":"b-1"}`, "", ""},
		{`{"type":"invoice.paid","data":{"amount":"one"}}`, "invalid", "amount"},
		{`{"type":"invoice.paid","data":{"amount":1},"idempotency_key":"b-1"}`, "", ""}, // the first again
		{`{"type":"invoice.paid","data":{"amount":100},"idempotency_key":"setup-1"}`, "", ""},
		{`{"type":"invoice.paid","data":{"amount":2},"idempotency_key":"setup-1"}`, "conflict", b.event},
		{`5`, "malformed", "event must be a JSON object"},
		{`{"type":"order.placed","data":{},"extra":1}`, "malformed", `event has unknown field "extra"`},
		{`{"type":"order.placed","data":` + big + `}`, "too_large", "--max-event-size"},
		{`{"type":"Invoice Paid!","data":{}}`, "invalid", `"Invoice Paid!"`},
		{`{"type":"order.placed"}`, "invalid", "data is required"},
		{`{"type":"order.placed","data":null,"id":"order-9.placed","timestamp":"2026-03-01T08:00:00.64+01:00"}`, "", ""},
		{`{"type":"order.placed","data":{},"idempotency_key":"\u0001"}`, "invalid", "idempotency_key"},
		{`{"type":"order.placed","data":{},"idempotency_key":7}`, "malformed", `"idempotency_key"`},
	}
	var body []string
	for _, e := range events {
		body = append(body, e.body)
	}
	var got batchAnswer
	b.must(t, 200, req{method: "POST", path: "/v1/tenants/acme/events/batch", auth: auth, body: `{"events":[` + strings.Join(body, ",") + `]}`}, &got)
	if len(got.Results) != len(events) {
		t.Fatalf("%d results for %d events", len(got.Results), len(events))
	}
	for i, e := range events {
		r := got.Results[i]
		switch {
		case e.code == "" && r.Error != nil:
			t.Errorf("event %d %.60s was refused: %+v", i, e.body, r.Error)
		case e.code != "" && r.Error == nil:
			t.Errorf("event %d %.60s was answered %+v; want refused with %s", i, e.body, r, e.code)
		case e.code != "" && (r.Error.Code != e.code || !strings.Contains(r.Error.Message, e.says)):
			t.Errorf("event %d %.60s refused with %s %q; want %s, saying %q", i, e.body, r.Error.Code, r.Error.Message, e.code, e.says)
		case e.code != "" && r.ID != "":
			t.Errorf("event %d was refused, yet its result has id %q", i, r.ID)
		}
	}
	first, replay, setupReplay, chosen := got.Results[0], got.Results[2], got.Results[3], got.Results[10]
	if first.Replayed || first.Deliveries != 1 || !strings.HasPrefix(first.ID, "evt_") {
		t.Errorf("the first event answered %+v; want a new evt_ with one delivery", first)
	}
	if !replay.Replayed || replay.ID != first.ID || replay.Deliveries != 1 {
		t.Errorf("the same key again in the batch answered %+v; want a replay of %s", replay, first.ID)
	}
	if !setupReplay.Replayed || setupReplay.ID != b.event {
		t.Errorf("a key of a single publish answered %+v; want a replay of %s", setupReplay, b.event)
	}
	if chosen.ID != "order-9.placed" || chosen.Timestamp != "2026-03-01T07:00:00.640Z" {
		t.Errorf("an event with its own id and timestamp answered %+v", chosen)
	}
	if got.Accepted != 2 || got.Replayed != 2 || got.Failed != 9 {
		t.Errorf("counts accepted %d, replayed %d, failed %d; want 2, 2, 9", got.Accepted, got.Replayed, got.Failed)
	}

	// What was stored is the two new events, with their deliveries.
	evs, _, err := b.store.ListEvents(context.Background(), "acme", outlet.EventFilter{Page: outlet.Page{Limit: 50}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range evs {
		ids = append(ids, ev.ID)
	}
	if len(ids) != 3 || !strings.Contains(strings.Join(ids, " "), first.ID) || !strings.Contains(strings.Join(ids, " "), chosen.ID) {
		t.Errorf("the tenant's events are %v; want the setup's, %s and %s", ids, first.ID, chosen.ID)
	}
	ev, err := b.store.Event(context.Background(), "acme", first.ID)
	if err != nil || ev.IdempotencyKey != "b-1" || string(ev.Data) != `{"amount":1}` {
		t.Errorf("the first event reads back as %+v, %v", ev, err)
	}
	ds, _, err := b.store.ListDeliveries(context.Background(), "acme", outlet.DeliveryFilter{EventID: first.ID})
	if err != nil || len(ds) != 1 || ds[0].Target.ID != b.endpoint {
		t.Errorf("the first event's deliveries are %v, %v; want one to %s", ds, err, b.endpoint)
	}
}

func TestABatchIsRefusedWholeOnlyWhenItCantBeTakenAsABatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	auth := "Bearer " + b.key
	before := b.snapshot(t)
	one := `{"type":"order.placed","data":{}}`
	for _, tc := range []struct {
		what   string
		r      req
		status int
		says   string
	}{
		{"an Idempotency-Key header", req{body: `{"events":[` + one + `]}`, header: map[string]string{"Idempotency-Key": "k"}}, 422, `"idempotency_key"`},
		{"1,001 events", req{body: `{"events":[` + strings.Repeat(one+",", 1000) + one + `]}`}, 413, "1000"},
		{"no events", req{body: `{}`}, 422, "events is required"},
		{"events null", req{body: `{"events":null}`}, 422, "events is required"},
		{"an empty batch", req{body: `{"events":[]}`}, 422, "1 to 1000"},
		{"events as an object", req{body: `{"events":` + one + `}`}, 400, `"events"`},
		{"an unknown field beside events", req{body: `{"events":[` + one + `],"tenant":"acme"}`}, 400, `"tenant"`},
	} {
		tc.r.method, tc.r.path, tc.r.auth = "POST", "/v1/tenants/acme/events/batch", auth
		e := refused(t, tc.what, b.do(t, tc.r), tc.status)
		if !strings.Contains(e.Message, tc.says) {
			t.Errorf("%s: message %q doesn't say %q", tc.what, e.Message, tc.says)
		}
	}
	if after := b.snapshot(t); after != before {
		t.Errorf("a refused batch changed the store: %s", diff(before, after))
	}
	// 1,000 events are a batch.
	var got batchAnswer
	b.must(t, 200, req{method: "POST", path: "/v1/tenants/acme/events/batch", auth: auth, body: `{"events":[` + strings.Repeat(one+",", 999) + one + `]}`}, &got)
	if got.Accepted != 1000 || len(got.Results) != 1000 {
		t.Errorf("a batch of 1,000 answered %d results, %d accepted", len(got.Results), got.Accepted)
	}
}

func TestTheRateLimitCountsEachEventOfABatchAndTakesABatchWholeOrNotAtAll(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Now()}
	b := setup(t, func(cfg *Config) { cfg.Now = c.now })
	b.must(t, 200, req{method: "PATCH", path: "/v1/tenants/acme", auth: "Bearer " + adminKey, body: `{"publish_rate_limit":10}`}, nil)
	auth := "Bearer " + b.key
	batch := func(n int) req {
		evs := make([]string, n)
		for i := range evs {
			evs[i] = `{"type":"order.placed","data":{}}`
		}
		return req{method: "POST", path: "/v1/tenants/acme/events/batch", auth: auth, body: `{"events":[` + strings.Join(evs, ",") + `]}`}
	}
	stored := func() int {
		evs, _, err := b.store.ListEvents(context.Background(), "acme", outlet.EventFilter{Type: "order.placed", Page: outlet.Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}

	e := refused(t, "a batch larger than a second of the limit", b.do(t, batch(11)), 413)
	if !strings.Contains(e.Message, "at most 10") {
		t.Errorf("a batch of 11 under a limit of 10/s: message %q doesn't say how many fit", e.Message)
	}
	b.must(t, 200, batch(7), nil)
	a := b.do(t, batch(4))
	e = refused(t, "a batch of 4 with 3 left", a, 429)
	if a.header.Get("Retry-After") == "" || !strings.Contains(e.Message, "nothing of it was stored") {
		t.Errorf("429 with Retry-After %q, message %q", a.header.Get("Retry-After"), e.Message)
	}
	if n := stored(); n != 7 {
		t.Errorf("%d events stored; want the first batch's 7 and nothing of the refused one", n)
	}
	b.must(t, 200, batch(3), nil) // what was left
	refused(t, "a single publish with none left", b.do(t, req{method: "POST", path: "/v1/tenants/acme/events", auth: auth, body: `{"type":"order.placed","data":{}}`}), 429)
	c.advance(time.Second)
	b.must(t, 200, batch(10), nil)
	if n := stored(); n != 20 {
		t.Errorf("%d events stored; want 20", n)
	}
}

func TestABatchsTraceparentIsTheParentOfEveryEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	var got batchAnswer
	b.must(t, 200, req{method: "POST", path: "/v1/tenants/acme/events/batch", auth: "Bearer " + b.key,
		body:   `{"events":[{"type":"order.placed","data":1},{"type":"invoice.paid","data":{"amount":2}}]}`,
		header: map[string]string{"traceparent": parent, "tracestate": "vendor=1"}}, &got)
	for _, r := range got.Results {
		ev, err := b.store.Event(context.Background(), "acme", r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Trace != (outlet.TraceContext{Parent: parent, State: "vendor=1"}) {
			t.Errorf("event %s keeps trace context %+v; want the batch request's", r.ID, ev.Trace)
		}
	}
}

// A batch answer's items read back into the SDK's types, a refusal as an
// *outlet.Error.
func TestABatchAnswerReadsBackIntoTheSharedTypes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.do(t, req{method: "POST", path: "/v1/tenants/acme/events/batch", auth: "Bearer " + b.key,
		body: `{"events":[{"type":"order.placed","data":1},{"type":"order.placed"}]}`})
	var res outlet.PublishBatchResult
	if err := json.Unmarshal(a.body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 2 || res.Results[0].PublishResult == nil || res.Results[0].Error != nil ||
		res.Results[1].PublishResult != nil || outlet.ErrorCode(res.Results[1].Error) != outlet.EINVALID {
		t.Errorf("answer %s reads back as %+v", a.body, res)
	}
	again, _ := json.Marshal(res)
	var x, y any
	json.Unmarshal(a.body, &x)
	json.Unmarshal(again, &y)
	if xb, _ := json.Marshal(x); string(xb) != string(mustJSON(y)) {
		t.Errorf("the answer written again is %s; want %s", again, a.body)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
