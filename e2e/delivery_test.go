package e2e

import (
	"encoding/json"
	"regexp"
	"strconv"
	"testing"
	"time"
)

func TestPublishedEventArrivesSignedAsStandardWebhooksSays(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rcv := newReceiver(t)
	tenant := s.tenant("acme")
	ep := s.endpoint(tenant, map[string]any{"url": rcv.srv.URL + "/hooks", "event_types": []string{"invoice.paid"},
		"headers": map[string]string{"X-Customer": "acme"}})
	if !regexp.MustCompile(`^whsec_[A-Za-z0-9+/=]{40,}$`).MatchString(ep.Secret) {
		t.Fatalf("endpoint secret %q is not a whsec_ secret", ep.Secret)
	}

	before := time.Now().Add(-time.Second)
	id := s.publish(tenant, "invoice.paid", map[string]any{"amount": 4200, "currency": "eur"})
	rcv.waitCount(1, 10*time.Second)

	req, body := rcv.request(0)
	if err := rcv.verify(0, ep.Secret); err != nil {
		t.Fatalf("Standard Webhooks library rejects the signature: %v", err)
	}
	if req.Method != "POST" || req.URL.Path != "/hooks" {
		t.Errorf("got %s %s, want POST /hooks", req.Method, req.URL.Path)
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content-type %q, want application/json", ct)
	}
	if got := req.Header.Get("webhook-id"); got != id {
		t.Errorf("webhook-id %q, want the event id %q", got, id)
	}
	ts, err := strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64)
	if err != nil || time.Unix(ts, 0).Before(before.Truncate(time.Second)) || time.Unix(ts, 0).After(time.Now().Add(time.Second)) {
		t.Errorf("webhook-timestamp %q is not the Unix time of sending", req.Header.Get("webhook-timestamp"))
	}
	if req.Header.Get("X-Customer") != "acme" {
		t.Errorf("custom header not sent: %v", req.Header)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not JSON: %s", body)
	}
	if len(got) != 3 || string(got["type"]) != `"invoice.paid"` || string(got["data"]) != `{"amount":4200,"currency":"eur"}` {
		t.Errorf("body %s, want exactly type, timestamp and data", body)
	}
	var stamp string
	json.Unmarshal(got["timestamp"], &stamp)
	if _, err := time.Parse(time.RFC3339, stamp); err != nil {
		t.Errorf("timestamp %q is not RFC 3339", stamp)
	}

	d := s.waitDelivery(tenant, id, "succeeded", 5*time.Second)
	if d.Attempts != 1 || d.Target.Type != "endpoint" || d.Target.ID != ep.ID {
		t.Errorf("delivery %+v, want one attempt to endpoint %s", d, ep.ID)
	}
	as := s.attempts(tenant, d.ID)
	if len(as) != 1 || as[0].StatusCode != 200 || as[0].ResponseBody != `{"ok":true}` || !as[0].Succeeded || as[0].Number != 1 {
		t.Errorf("attempts %+v, want one successful attempt with the receiver's answer", as)
	}
}

func TestRepeatedPublishWithIdempotencyKeySendsOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rcv := newReceiver(t)
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	publish := func(data string) (int, map[string]any) {
		var out map[string]any
		req := `{"type":"order.created","data":` + data + `}`
		status := s.callWithHeaders(adminKey, "POST", "/v1/tenants/acme/events", req, map[string]string{"Idempotency-Key": "order-77"}, &out)
		return status, out
	}
	st1, first := publish(`{"order":77}`)
	st2, second := publish(`{ "order": 77 }`) // the same content, spelled differently
	if st1 != 202 || st2 != 202 || first["id"] != second["id"] {
		t.Fatalf("publishes answered %d %v and %d %v; want 202 with the same id", st1, first, st2, second)
	}
	if second["replayed"] != true {
		t.Errorf("the repeat is not marked replayed: %v", second)
	}
	st3, third := publish(`{"order":78}`)
	if st3 != 409 {
		t.Errorf("same key, different data answered %d %v; want 409", st3, third)
	}
	s.waitIdle(tenant, 10*time.Second)
	if ds := s.deliveries(tenant, "limit=100"); len(ds) != 1 {
		t.Errorf("three publishes with one key made %d deliveries; want 1", len(ds))
	}
	if n := rcv.count(); n != 1 {
		t.Errorf("receiver got %d requests; want 1", n)
	}

	// A caller-chosen event id works the same way.
	for range 2 {
		s.must(202, "POST", "/v1/tenants/acme/events", map[string]any{"id": "ord-78", "type": "order.created", "data": map[string]int{"order": 78}}, nil)
	}
	s.waitIdle(tenant, 10*time.Second)
	if n := rcv.count(); n != 2 {
		t.Errorf("receiver got %d requests after two publishes of event ord-78; want 2 in all", n)
	}
}

func TestEndpointsReceiveOnlyTheTypesTheyChose(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tenant := s.tenant("acme")
	cases := []struct {
		name    string
		filters []string
		want    []string
	}{
		{"exact name", []string{"invoice.paid"}, []string{"invoice.paid"}},
		{"prefix wildcard", []string{"invoice.*"}, []string{"invoice.paid", "invoice.line.added"}},
		{"star", []string{"*"}, []string{"invoice.paid", "invoice.line.added", "user.created", "invoicex"}},
		{"no filter means every type", nil, []string{"invoice.paid", "invoice.line.added", "user.created", "invoicex"}},
		{"two names", []string{"user.created", "invoicex"}, []string{"user.created", "invoicex"}},
	}
	rcvs := make([]*receiver, len(cases))
	for i, c := range cases {
		rcvs[i] = newReceiver(t)
		body := map[string]any{"url": rcvs[i].srv.URL}
		if c.filters != nil {
			body["event_types"] = c.filters
		}
		s.endpoint(tenant, body)
	}
	for _, typ := range []string{"invoice.paid", "invoice.line.added", "user.created", "invoicex"} {
		s.publish(tenant, typ, map[string]string{"t": typ})
	}
	s.waitIdle(tenant, 10*time.Second)
	for i, c := range cases {
		var got []string
		for j := range rcvs[i].count() {
			_, body := rcvs[i].request(j)
			var b struct{ Type string }
			json.Unmarshal(body, &b)
			got = append(got, b.Type)
		}
		if !sameSet(got, c.want) {
			t.Errorf("%s: endpoint with %v got %v; want %v", c.name, c.filters, got, c.want)
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}
