// Package storetest is the one test suite every outlet.Store must pass
// unchanged, so that the embedded SQLite store and the Postgres store behave as
// twins. A store package runs it from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) outlet.Store {
//			// open a fresh, empty store and close it in t.Cleanup
//		})
//	}
//
// Every subtest states one rule of the store. Times are fixed and passed in,
// never read from a clock; stores keep milliseconds, so times are compared
// truncated to the millisecond.
package storetest

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// Run runs the suite. Every subtest opens its own store with open and runs in
// parallel with the others, so open must return a fresh, empty store each
// time and close it in t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) outlet.Store) {
	s := suite{open: open}
	for _, g := range []struct {
		name string
		run  func(*testing.T, suite)
	}{
		{"store", storeTests},
		{"tenants", tenantTests},
		{"api keys", apiKeyTests},
		{"event types", eventTypeTests},
		{"endpoints", endpointTests},
		{"publish", publishTests},
		{"batch publish", batchTests},
		{"events", eventTests},
		{"claims", claimTests},
		{"attempts", attemptTests},
		{"retry", retryTests},
		{"recover", recoverTests},
		{"queue", queueTests},
		{"retention", retentionTests},
		{"deliveries", deliveryTests},
		{"pages", pageTests},
		{"hooks", hookTests},
		{"hook endpoints", hookEndpointTests},
		{"functions", functionTests},
		{"function fan-out", functionFanoutTests},
		{"function attempts", functionAttemptTests},
		{"invocations", invocationTests},
		{"secrets", secretTests},
		{"flow control", flowTests},
		{"ordered delivery", orderedTests},
		{"usage", usageTests},
		{"portal sessions", portalSessionTests},
		{"audit log", auditTests},
		{"operational events", operationalTests},
		{"text", textTests},
	} {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, s)
		})
	}
}

type suite struct {
	open func(t *testing.T) outlet.Store
}

// test runs fn as a parallel subtest with a fresh store.
func (s suite) test(t *testing.T, name string, fn func(t *testing.T, b *bundle)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		fn(t, &bundle{ctx: t.Context(), store: s.open(t)})
	})
}

// bundle is what one subtest works with. Its helpers fail the test on any
// error they don't expect.
type bundle struct {
	ctx   context.Context
	store outlet.Store
}

// base is the suite's "now". Its sub-millisecond part checks that stores
// truncate alike.
var base = time.Date(2026, 1, 2, 3, 4, 5, 6_000_789, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

const (
	day   = 24 * time.Hour
	lease = 30 * time.Second // how long the suite's claims are held
	paid  = "invoice.paid"   // the event type the suite publishes unless a test needs others
	hook  = "https://hooks.example.com/outlet"
)

// noDisable is a disable cutoff before any failing streak in the suite began,
// for calls to CompleteAttempts that are not about disabling.
var noDisable = at(-365 * day)

func ptr[T any](v T) *T { return &v }

// Fixtures.

func newTenant(id string, now time.Time) *outlet.Tenant {
	return &outlet.Tenant{ID: id, Name: "Tenant " + id, Metadata: map[string]string{"plan": "pro"}, CreatedAt: now, UpdatedAt: now}
}

func (b *bundle) tenant(t *testing.T, id string) *outlet.Tenant {
	t.Helper()
	tn := newTenant(id, base)
	check(t, b.store.CreateTenant(b.ctx, tn))
	return tn
}

func newEndpoint(tenantID string, eventTypes ...string) *outlet.Endpoint {
	return &outlet.Endpoint{
		ID:          outlet.NewID(outlet.PrefixEndpoint),
		TenantID:    tenantID,
		URL:         hook,
		Description: "billing service",
		EventTypes:  eventTypes,
		Headers:     map[string]string{"X-Team": "billing"},
		Metadata:    map[string]string{"env": "prod"},
		Secret:      outlet.NewEndpointSecret(),
		CreatedAt:   base,
		UpdatedAt:   base,
	}
}

// endpoint creates an enabled endpoint of the tenant that subscribes to
// eventTypes (every type if none).
func (b *bundle) endpoint(t *testing.T, tenantID string, eventTypes ...string) *outlet.Endpoint {
	t.Helper()
	ep := newEndpoint(tenantID, eventTypes...)
	check(t, b.store.CreateEndpoint(b.ctx, ep))
	return ep
}

func (b *bundle) getEndpoint(t *testing.T, ep *outlet.Endpoint) *outlet.Endpoint {
	t.Helper()
	got, err := b.store.Endpoint(b.ctx, ep.TenantID, ep.ID)
	check(t, err)
	return got
}

func (b *bundle) disable(t *testing.T, ep *outlet.Endpoint, now time.Time) {
	t.Helper()
	_, err := b.store.UpdateEndpoint(b.ctx, ep.TenantID, ep.ID, outlet.EndpointUpdate{Disabled: ptr(true)}, now)
	check(t, err)
}

// newEvent builds an event as the API would: data is compact JSON and the
// event is created at now.
func newEvent(tenantID, typ, data string, now time.Time) *outlet.Event {
	return &outlet.Event{
		ID:          outlet.NewID(outlet.PrefixEvent),
		TenantID:    tenantID,
		Type:        typ,
		Timestamp:   now,
		Data:        json.RawMessage(data),
		CreatedAt:   now,
		PayloadHash: outlet.ContentHash(typ, []byte(data)),
	}
}

// publish stores one event at its creation time, unclaimed.
func (b *bundle) publish(t *testing.T, ev *outlet.Event) outlet.PublishOutcome {
	t.Helper()
	res := b.publishBatch(t, ev.CreatedAt, &outlet.PublishRequest{Event: ev})[0]
	if res.Err != nil {
		t.Fatalf("publish %s: %v", ev.ID, res.Err)
	}
	return res
}

// publishBatch publishes reqs in one call; only an error for the whole batch
// fails the test.
func (b *bundle) publishBatch(t *testing.T, now time.Time, reqs ...*outlet.PublishRequest) []outlet.PublishOutcome {
	t.Helper()
	res, err := b.store.PublishEvents(b.ctx, reqs, now)
	check(t, err)
	if len(res) != len(reqs) {
		t.Fatalf("PublishEvents answered %d requests with %d results", len(reqs), len(res))
	}
	return res
}

// deliveryTo publishes an event of type paid for ep's tenant at now and
// returns the delivery it made to ep. Other endpoints of the tenant that
// match get deliveries too.
func (b *bundle) deliveryTo(t *testing.T, ep *outlet.Endpoint, now time.Time) *outlet.Delivery {
	t.Helper()
	return b.deliveryOf(t, ep, paid, now)
}

// deliveryOf is deliveryTo for an event of type typ.
func (b *bundle) deliveryOf(t *testing.T, ep *outlet.Endpoint, typ string, now time.Time) *outlet.Delivery {
	t.Helper()
	ev := b.publish(t, newEvent(ep.TenantID, typ, `{"amount":100}`, now)).Event
	for _, d := range b.deliveries(t, ep.TenantID, outlet.DeliveryFilter{EventID: ev.ID}) {
		if d.Target.ID == ep.ID {
			return d
		}
	}
	t.Fatalf("event %s made no delivery to endpoint %s", ev.ID, ep.ID)
	return nil
}

// deliveries lists one page of the tenant's deliveries, as large as a page
// can be.
func (b *bundle) deliveries(t *testing.T, tenantID string, f outlet.DeliveryFilter) []*outlet.Delivery {
	t.Helper()
	f.Limit = outlet.MaxPageLimit
	ds, _, err := b.store.ListDeliveries(b.ctx, tenantID, f)
	check(t, err)
	return ds
}

func (b *bundle) getDelivery(t *testing.T, d *outlet.Delivery) *outlet.Delivery {
	t.Helper()
	got, err := b.store.Delivery(b.ctx, d.TenantID, d.ID)
	check(t, err)
	return got
}

func (b *bundle) getEvent(t *testing.T, tenantID, id string) *outlet.Event {
	t.Helper()
	got, err := b.store.Event(b.ctx, tenantID, id)
	check(t, err)
	return got
}

func (b *bundle) attempts(t *testing.T, d *outlet.Delivery) []*outlet.Attempt {
	t.Helper()
	as, err := b.store.ListAttempts(b.ctx, d.TenantID, d.ID)
	check(t, err)
	return as
}

// claim claims up to limit due deliveries for owner at now, leased for lease.
func (b *bundle) claim(t *testing.T, owner string, now time.Time, limit int) []*outlet.Claim {
	t.Helper()
	cs, err := b.store.ClaimDue(b.ctx, owner, now, now.Add(lease), limit)
	check(t, err)
	wantClaimsFilled(t, cs)
	return cs
}

// mustClaimParked claims an endpoint's parked deliveries for node-a, due
// within a minute of base.
func (b *bundle) mustClaimParked(t *testing.T, endpointID string, limit int) []*outlet.Claim {
	t.Helper()
	cs, err := b.store.ClaimParked(b.ctx, "node-a", endpointID, at(time.Minute), at(lease), limit)
	check(t, err)
	return cs
}

// claimOne claims the one delivery due at now for owner.
func (b *bundle) claimOne(t *testing.T, owner string, now time.Time) *outlet.Claim {
	t.Helper()
	cs := b.claim(t, owner, now, 10)
	if len(cs) != 1 {
		t.Fatalf("claimed %v at %v; want one delivery", claimIDs(cs), now)
	}
	return cs[0]
}

// complete records outcomes and returns the endpoints that were disabled.
func (b *bundle) complete(t *testing.T, now, disableBefore time.Time, outcomes ...*outlet.AttemptOutcome) []string {
	t.Helper()
	disabled, err := b.store.CompleteAttempts(b.ctx, outcomes, now, disableBefore)
	check(t, err)
	return disabled
}

// attemptOutcome is an attempt of d that started at startedAt, leaving the
// delivery in status, due again at next while pending.
func attemptOutcome(d *outlet.Delivery, startedAt time.Time, status outlet.DeliveryStatus, next time.Time) *outlet.AttemptOutcome {
	a := &outlet.Attempt{
		ID:              outlet.NewID(outlet.PrefixAttempt),
		Trigger:         outlet.TriggerScheduled,
		URL:             hook,
		StartedAt:       startedAt,
		DurationMs:      42,
		Succeeded:       true,
		StatusCode:      200,
		ResponseHeaders: map[string]string{"Content-Type": "application/json"},
		ResponseBody:    `{"received":true}`,
	}
	if status != outlet.StatusSucceeded {
		a.Succeeded, a.StatusCode, a.ResponseBody, a.Error = false, 503, "try later", "the endpoint answered 503 Service Unavailable"
	}
	o := &outlet.AttemptOutcome{TenantID: d.TenantID, DeliveryID: d.ID, Attempt: a, Status: status, NextAttemptAt: next}
	if d.Target.Type == outlet.TargetEndpoint {
		o.EndpointID = d.Target.ID
	}
	return o
}

func succeeded(d *outlet.Delivery, startedAt time.Time) *outlet.AttemptOutcome {
	return attemptOutcome(d, startedAt, outlet.StatusSucceeded, time.Time{})
}

// failed is a failed attempt after which the delivery has failed for good.
func failed(d *outlet.Delivery, startedAt time.Time) *outlet.AttemptOutcome {
	return attemptOutcome(d, startedAt, outlet.StatusFailed, time.Time{})
}

// retrying is a failed attempt after which the delivery is due again at next.
func retrying(d *outlet.Delivery, startedAt, next time.Time) *outlet.AttemptOutcome {
	return attemptOutcome(d, startedAt, outlet.StatusPending, next)
}

// walk reads every page of a list, limit items at a time, and returns the
// pages. A page that ends with an empty cursor is the last one.
func walk[T any](t *testing.T, limit int, list func(outlet.Page) ([]T, string, error)) [][]T {
	t.Helper()
	var pages [][]T
	page := outlet.Page{Limit: limit}
	for {
		items, next, err := list(page)
		check(t, err)
		if len(items) > limit {
			t.Fatalf("page %d holds %d items; the limit is %d", len(pages)+1, len(items), limit)
		}
		pages = append(pages, items)
		if next == "" {
			return pages
		}
		if len(pages) == 100 {
			t.Fatalf("still not at the last page after 100 pages")
		}
		page.Cursor = next
	}
}

// Assertions.

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := outlet.ErrorCode(err); got != code {
		t.Fatalf("got error %v (code %q); want code %q", err, got, code)
	}
}

func ms(tm time.Time) time.Time { return tm.Truncate(time.Millisecond) }

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !ms(got).Equal(ms(want)) {
		t.Errorf("%s = %v; want %v", what, got, ms(want))
	}
}

func wantTimePtr(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil:
		t.Errorf("%s = nil; want %v", what, ms(*want))
	case want == nil:
		t.Errorf("%s = %v; want nil", what, *got)
	default:
		wantTime(t, what, *got, *want)
	}
}

func wantEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v; want %v", what, got, want)
	}
}

// wantIDs compares ids in order.
func wantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v; want %v", what, got, want)
	}
}

// wantSameIDs compares ids in any order.
func wantSameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	wantIDs(t, what, slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

// jsonEqual compares JSON by value: a store may keep JSON it only describes
// (schemas, samples) in any equivalent form. Absent and empty are equal.
func jsonEqual(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func wantTenant(t *testing.T, got, want *outlet.Tenant) {
	t.Helper()
	wantEqual(t, "tenant id", got.ID, want.ID)
	wantEqual(t, "tenant name", got.Name, want.Name)
	if !maps.Equal(got.Metadata, want.Metadata) {
		t.Errorf("tenant metadata = %v; want %v", got.Metadata, want.Metadata)
	}
	if !slices.Equal(got.AllowedHosts, want.AllowedHosts) {
		t.Errorf("tenant allowed hosts = %q; want %q", got.AllowedHosts, want.AllowedHosts)
	}
	wantEqual(t, "tenant publish_rate_limit", got.PublishRateLimit, want.PublishRateLimit)
	wantTime(t, "tenant created_at", got.CreatedAt, want.CreatedAt)
	wantTime(t, "tenant updated_at", got.UpdatedAt, want.UpdatedAt)
}

func wantEndpoint(t *testing.T, got, want *outlet.Endpoint) {
	t.Helper()
	wantEqual(t, "endpoint id", got.ID, want.ID)
	wantEqual(t, "endpoint tenant", got.TenantID, want.TenantID)
	wantEqual(t, "endpoint url", got.URL, want.URL)
	wantEqual(t, "endpoint description", got.Description, want.Description)
	if !slices.Equal(got.EventTypes, want.EventTypes) {
		t.Errorf("endpoint event types = %q; want %q", got.EventTypes, want.EventTypes)
	}
	if !maps.Equal(got.Headers, want.Headers) {
		t.Errorf("endpoint headers = %v; want %v", got.Headers, want.Headers)
	}
	if !maps.Equal(got.Metadata, want.Metadata) {
		t.Errorf("endpoint metadata = %v; want %v", got.Metadata, want.Metadata)
	}
	wantEqual(t, "endpoint disabled", got.Disabled, want.Disabled)
	wantEqual(t, "endpoint disabled reason", got.DisabledReason, want.DisabledReason)
	wantTimePtr(t, "endpoint disabled_at", got.DisabledAt, want.DisabledAt)
	wantTimePtr(t, "endpoint failing_since", got.FailingSince, want.FailingSince)
	wantTime(t, "endpoint created_at", got.CreatedAt, want.CreatedAt)
	wantTime(t, "endpoint updated_at", got.UpdatedAt, want.UpdatedAt)
	wantEqual(t, "endpoint secret", got.Secret, want.Secret)
	wantEqual(t, "endpoint max_in_flight", got.MaxInFlight, want.MaxInFlight)
	wantEqual(t, "endpoint rate_limit", got.RateLimit, want.RateLimit)
	wantEqual(t, "endpoint ordered", got.Ordered, want.Ordered)
	wantEqual(t, "endpoint previous secret", got.PreviousSecret, want.PreviousSecret)
	wantTimePtr(t, "endpoint previous secret expiry", got.PreviousSecretExpiresAt, want.PreviousSecretExpiresAt)
}

// wantEvent compares a stored event; its data must come back byte for byte,
// since signatures are computed over it.
func wantEvent(t *testing.T, got, want *outlet.Event) {
	t.Helper()
	wantEqual(t, "event id", got.ID, want.ID)
	wantEqual(t, "event tenant", got.TenantID, want.TenantID)
	wantEqual(t, "event type", got.Type, want.Type)
	wantTime(t, "event timestamp", got.Timestamp, want.Timestamp)
	wantEqual(t, "event data", string(got.Data), string(want.Data))
	wantEqual(t, "event idempotency key", got.IdempotencyKey, want.IdempotencyKey)
	wantTime(t, "event created_at", got.CreatedAt, want.CreatedAt)
	wantEqual(t, "event trace context", got.Trace, want.Trace)
	if !slices.Equal(got.PayloadHash, want.PayloadHash) {
		t.Errorf("event payload hash = %x; want %x", got.PayloadHash, want.PayloadHash)
	}
}

// wantClaimsFilled checks that every claim carries its event, and its
// endpoint unless it goes to a function.
func wantClaimsFilled(t *testing.T, cs []*outlet.Claim) {
	t.Helper()
	for _, c := range cs {
		if c.Delivery == nil {
			t.Fatalf("claim without a delivery")
		}
		if c.Event == nil || c.Event.ID != c.Delivery.EventID {
			t.Errorf("claim of delivery %s carries event %+v; want event %s", c.Delivery.ID, c.Event, c.Delivery.EventID)
		}
		if c.Delivery.Target.Type == outlet.TargetFunction {
			if c.Endpoint != nil {
				t.Errorf("claim of delivery %s to function %q carries endpoint %s; want none", c.Delivery.ID, c.Delivery.Target.ID, c.Endpoint.ID)
			}
			continue
		}
		if c.Endpoint == nil || c.Endpoint.ID != c.Delivery.Target.ID {
			t.Errorf("claim of delivery %s carries endpoint %+v; want endpoint %s", c.Delivery.ID, c.Endpoint, c.Delivery.Target.ID)
		}
	}
}

func tenantIDs(ts []*outlet.Tenant) []string {
	out := []string{}
	for _, x := range ts {
		out = append(out, x.ID)
	}
	return out
}

func endpointIDs(eps []*outlet.Endpoint) []string {
	out := []string{}
	for _, x := range eps {
		out = append(out, x.ID)
	}
	return out
}

func eventIDs(evs []*outlet.Event) []string {
	out := []string{}
	for _, x := range evs {
		out = append(out, x.ID)
	}
	return out
}

func deliveryIDs(ds []*outlet.Delivery) []string {
	out := []string{}
	for _, x := range ds {
		out = append(out, x.ID)
	}
	return out
}

func claimIDs(cs []*outlet.Claim) []string {
	out := []string{}
	for _, x := range cs {
		out = append(out, x.Delivery.ID)
	}
	return out
}
