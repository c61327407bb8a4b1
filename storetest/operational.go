package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

func operationalTests(t *testing.T, s suite) {
	s.test(t, "an operational event reaches only the endpoints and functions that name it", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		every := b.endpoint(t, "acme")
		star := b.endpoint(t, "acme", "*")
		exact := b.endpoint(t, "acme", outlet.EventEndpointDisabled)
		wildcard := b.endpoint(t, "acme", "outlet.*")
		narrower := b.endpoint(t, "acme", "outlet.endpoint.*")
		b.endpoint(t, "acme", "outlet.function.*")
		b.deployFor(t, "acme", "everything", base, "*")
		b.deployFor(t, "acme", "watcher", base, "outlet.*")

		ev := b.publish(t, newEvent("acme", outlet.EventEndpointDisabled, `{"tenant_id":"acme"}`, base)).Event
		var got []string
		for _, d := range b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: ev.ID}) {
			got = append(got, d.Target.ID)
		}
		wantSameIDs(t, "targets of the operational event", got, []string{exact.ID, wildcard.ID, narrower.ID, "watcher"})

		// Every other event goes on reaching the endpoints that take every type.
		ev = b.publish(t, newEvent("acme", paid, `{}`, base)).Event
		got = nil
		for _, d := range b.deliveries(t, "acme", outlet.DeliveryFilter{EventID: ev.ID}) {
			got = append(got, d.Target.ID)
		}
		wantSameIDs(t, "targets of an ordinary event", got, []string{every.ID, star.ID, "everything"})
	})

	s.test(t, "the operator's tenant is a tenant like any other", func(t *testing.T, b *bundle) {
		b.tenant(t, outlet.OperatorTenant)
		ep := b.endpoint(t, outlet.OperatorTenant, "outlet.*")
		d := b.deliveryOf(t, ep, outlet.EventDeliveryExhausted, base)
		if d.TenantID != outlet.OperatorTenant {
			t.Errorf("the delivery is of tenant %q; want %q", d.TenantID, outlet.OperatorTenant)
		}
	})

	s.test(t, "a circuit's opening is recorded once, and the closing after it once", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		ep := b.endpoint(t, "acme")
		mark := func(open bool, now time.Time) bool {
			t.Helper()
			changed, err := b.store.MarkEndpointCircuit(b.ctx, "acme", ep.ID, open, now)
			check(t, err)
			return changed
		}
		steps := []struct {
			what    string
			open    bool
			changed bool
		}{
			{"a closing with no opening recorded", false, false},
			{"the first node's opening", true, true},
			{"a second node's opening", true, false},
			{"the first closing", false, true},
			{"the second node's closing", false, false},
			{"an opening after that", true, true},
		}
		for i, s := range steps {
			if got := mark(s.open, at(time.Duration(i)*time.Second)); got != s.changed {
				t.Errorf("%s: changed %v; want %v", s.what, got, s.changed)
			}
		}
		// The endpoint itself is as it was.
		wantEndpoint(t, b.getEndpoint(t, ep), ep)
	})

	s.test(t, "marking the circuit of an endpoint that is gone changes nothing", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		ep := b.endpoint(t, "acme")
		for _, c := range []struct{ tenant, id string }{{"acme", "ep_nothere"}, {"globex", ep.ID}, {"nobody", ep.ID}} {
			changed, err := b.store.MarkEndpointCircuit(b.ctx, c.tenant, c.id, true, base)
			check(t, err)
			if changed {
				t.Errorf("marking %s/%s changed something", c.tenant, c.id)
			}
		}
		// The endpoint's own record wasn't touched by the mark under another tenant.
		changed, err := b.store.MarkEndpointCircuit(b.ctx, "acme", ep.ID, true, base)
		check(t, err)
		if !changed {
			t.Error("the endpoint's first opening changed nothing")
		}
	})

	s.test(t, "usage over thresholds lists the day's tenants that reached one, by id, a page at a time", func(t *testing.T, b *bundle) {
		for _, id := range []string{"acme", "globex", "initech", "umbrella"} {
			b.tenant(t, id)
		}
		ep := b.endpoint(t, "acme")
		b.endpoint(t, "acme")
		for range 3 {
			b.deliveryTo(t, ep, base) // 3 events, 6 deliveries
		}
		b.publish(t, newEvent("globex", paid, `{}`, base)) // 1 event, no deliveries
		check(t, b.store.AddFunctionUsage(b.ctx, []outlet.FunctionUsage{
			{TenantID: "initech", At: base, Invocations: 5},
			{TenantID: "umbrella", At: at(-day), Invocations: 50}, // yesterday's
		}))

		over := func(th outlet.Usage, after string, limit int) []string {
			t.Helper()
			us, err := b.store.UsageOver(b.ctx, at(time.Hour), th, after, limit)
			check(t, err)
			var out []string
			for _, u := range us {
				if u.Day != "2026-01-02" {
					t.Errorf("%s's usage is of day %s; want 2026-01-02", u.TenantID, u.Day)
				}
				out = append(out, fmt.Sprintf("%s:%d/%d/%d", u.TenantID, u.Events, u.Deliveries, u.FunctionInvocations))
			}
			return out
		}
		cases := []struct {
			name  string
			over  outlet.Usage
			after string
			limit int
			want  []string
		}{
			{"events", outlet.Usage{Events: 3}, "", 0, []string{"acme:3/6/0"}},
			{"a threshold is reached at its count", outlet.Usage{Events: 1}, "", 0, []string{"acme:3/6/0", "globex:1/0/0"}},
			{"deliveries", outlet.Usage{Deliveries: 7}, "", 0, nil},
			{"function runs, today's only", outlet.Usage{FunctionInvocations: 5}, "", 0, []string{"initech:0/0/5"}},
			{"any of several", outlet.Usage{Events: 2, FunctionInvocations: 1}, "", 0, []string{"acme:3/6/0", "initech:0/0/5"}},
			{"a page", outlet.Usage{Events: 1, FunctionInvocations: 1}, "", 2, []string{"acme:3/6/0", "globex:1/0/0"}},
			{"the next page", outlet.Usage{Events: 1, FunctionInvocations: 1}, "globex", 2, []string{"initech:0/0/5"}},
			{"no threshold", outlet.Usage{}, "", 0, nil},
		}
		for _, c := range cases {
			if got := over(c.over, c.after, c.limit); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %v; want %v", c.name, got, c.want)
			}
		}
	})
}
