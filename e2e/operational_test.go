package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet/internal/testwait"
)

// opsWebhook is an operational event as a receiver gets it.
type opsWebhook struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// webhooks returns what the receiver got so far, each checked with the
// Standard Webhooks library against the endpoint's secret.
func (r *receiver) webhooks(secret string) []opsWebhook {
	r.t.Helper()
	var out []opsWebhook
	for i := range r.count() {
		if err := r.verify(i, secret); err != nil {
			r.t.Errorf("webhook %d doesn't verify: %v", i, err)
		}
		_, body := r.request(i)
		var w opsWebhook
		if err := json.Unmarshal(body, &w); err != nil {
			r.t.Fatalf("webhook %d: %v: %s", i, err, body)
		}
		out = append(out, w)
	}
	return out
}

func typesOf(ws []opsWebhook) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Type)
	}
	return out
}

// The operator subscribes to Outlet's operational events with an endpoint of
// the tenant _operator, and a tenant with an endpoint of its own; an
// endpoint's circuit opening, a delivery exhausting its retries, the circuit
// closing and a function failing reach them, signed, through the real binary.
func TestOperationalWebhooksReachTheOperatorAndTheTenantSigned(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--breaker-failures", "2", "--breaker-cooldown", "300ms", "--retry-schedule", "300ms",
		"--poll-interval", "50ms", "--function-failing-rate", "0.5", "--function-failing-min-runs", "2")

	// The catalog names them.
	var catalog struct {
		Data []struct{ Name, Description string }
	}
	s.must(200, "GET", "/v1/event-types", nil, &catalog)
	var names []string
	for _, et := range catalog.Data {
		names = append(names, et.Name)
	}
	for _, want := range []string{"outlet.endpoint.circuit_opened", "outlet.endpoint.circuit_closed", "outlet.endpoint.disabled",
		"outlet.delivery.exhausted", "outlet.function.failing", "outlet.tenant.usage_threshold"} {
		if !slices.Contains(names, want) {
			t.Errorf("the catalog lacks %s: %v", want, names)
		}
	}
	s.must(403, "DELETE", "/v1/event-types/outlet.delivery.exhausted", nil, nil)

	ops, tenantOps, failing := newReceiver(t), newReceiver(t), newReceiver(t)
	s.tenant("_operator")
	opsEP := s.endpoint("_operator", map[string]any{"url": ops.srv.URL, "event_types": []string{"outlet.*"}})
	s.tenant("acme")
	ep := s.endpoint("acme", map[string]any{"url": failing.srv.URL}) // every type: not Outlet's own
	watch := s.endpoint("acme", map[string]any{"url": tenantOps.srv.URL, "event_types": []string{"outlet.endpoint.*"}})

	// Two failures open the circuit; the first probe, one event's last
	// attempt, fails too; the second succeeds.
	failing.respond(reply{status: 503}, reply{status: 503}, reply{status: 503})
	events := []string{s.publish("acme", "invoice.paid", map[string]int{"amount": 1}), s.publish("acme", "invoice.paid", map[string]int{"amount": 2})}
	var exhausted delivery
	testwait.Within(t, 20*time.Second, "one delivery to fail and the other to succeed", func() bool {
		var status []string
		for _, ev := range events {
			ds := s.deliveries("acme", "event_id="+ev)
			if len(ds) != 1 {
				return false
			}
			if ds[0].Status == "failed" {
				exhausted = ds[0]
			}
			status = append(status, ds[0].Status)
		}
		slices.Sort(status)
		return slices.Equal(status, []string{"failed", "succeeded"})
	})

	ops.waitCount(3, 20*time.Second)
	got := map[string]opsWebhook{}
	for _, w := range ops.webhooks(opsEP.Secret) {
		got[w.Type] = w
	}
	if len(got) != 3 {
		t.Fatalf("the operator got %v; want circuit_opened, delivery.exhausted and circuit_closed once each", typesOf(ops.webhooks(opsEP.Secret)))
	}
	if d := got["outlet.endpoint.circuit_opened"].Data; d["tenant_id"] != "acme" || d["endpoint_id"] != ep.ID || d["url"] != failing.srv.URL ||
		d["consecutive_failures"] != 2.0 {
		t.Errorf("circuit_opened: %v", d)
	}
	if d := got["outlet.delivery.exhausted"].Data; d["delivery_id"] != exhausted.ID || d["event_id"] != exhausted.EventID ||
		d["event_type"] != "invoice.paid" || d["attempts"] != 2.0 {
		t.Errorf("delivery.exhausted: %v; want it about %s of %s", d, exhausted.ID, exhausted.EventID)
	}
	if d := got["outlet.endpoint.circuit_closed"].Data; d["endpoint_id"] != ep.ID {
		t.Errorf("circuit_closed: %v", d)
	}

	// The tenant's own endpoint got what it subscribed to: its endpoints'.
	tenantOps.waitCount(2, 10*time.Second)
	if got := typesOf(tenantOps.webhooks(watch.Secret)); !slices.Equal(got, []string{"outlet.endpoint.circuit_opened", "outlet.endpoint.circuit_closed"}) {
		t.Errorf("acme's subscribed endpoint got %v", got)
	}

	// A function failing at a hook: half of two runs fail.
	s.hook("checkout.discount", 2000, "fail_open")
	s.deploy("acme", "pricing", map[string]any{"runtime": "javascript", "hooks": []string{"checkout.discount"},
		"code": `export default (i) => { if (i.fail) throw new Error("no price"); return i }`})
	s.invoke("acme", "checkout.discount", map[string]bool{"fail": false})
	s.invoke("acme", "checkout.discount", map[string]bool{"fail": true})
	ops.waitCount(4, 20*time.Second)
	fourth := ops.webhooks(opsEP.Secret)[3]
	if d := fourth.Data; fourth.Type != "outlet.function.failing" || d["function"] != "pricing" || d["runs"] != 2.0 || d["failures"] != 1.0 ||
		!strings.Contains(d["last_error"].(map[string]any)["message"].(string), "no price") {
		t.Errorf("the fourth operational event is %s %v; want function.failing of pricing", fourth.Type, d)
	}

	// They are ordinary events of the operator's tenant, delivered and logged.
	s.waitIdle("_operator", 10*time.Second)
	for _, d := range s.deliveries("_operator", "") {
		if d.Status != "succeeded" || d.Target.ID != opsEP.ID {
			t.Errorf("an operational delivery is %s to %s; want succeeded to %s", d.Status, d.Target.ID, opsEP.ID)
		}
	}
	// The endpoint that takes every type got only the events published.
	for i := range failing.count() {
		if _, body := failing.request(i); strings.Contains(string(body), `"type":"outlet.`) {
			t.Errorf("the endpoint taking every type got an operational event: %s", body)
		}
	}
}
