package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outlethq/outlet/internal/testwait"
)

// These tests drive flow control through the real binary: per-endpoint
// order, in-flight and rate limits, the circuit breaker, tenants' turns,
// the publish rate limit, and the usage counters. They count and order
// what receivers see; they never assert how long anything took.

func TestAnOrderedEndpointGetsOneEventAtATimeInPublishOrder(t *testing.T) {
	t.Parallel()
	var (
		mu       sync.Mutex
		arrived  []string // webhook-id of every request, in arrival order
		distinct []string
		failed   int
		inFlight gauge
	)
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		inFlight.enter()
		defer inFlight.leave()
		id := r.Header.Get("webhook-id")
		mu.Lock()
		arrived = append(arrived, id)
		if !slices.Contains(distinct, id) {
			distinct = append(distinct, id)
		}
		// The second event fails twice, then succeeds.
		fail := len(distinct) >= 2 && id == distinct[1] && failed < 2
		if fail {
			failed++
		}
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // a window in which an overtaking request would overlap
		if fail {
			w.WriteHeader(500)
		}
	})
	s := startServer(t, "--retry-schedule", "50ms,50ms,50ms")
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": url, "ordered": true})

	var published []string
	for i := range 20 {
		published = append(published, s.publish(tenant, "order.updated", map[string]int{"n": i}))
	}
	testwait.Within(t, 20*time.Second, "all 20 ordered deliveries to succeed", func() bool {
		return len(s.deliveries(tenant, "status=succeeded&limit=100")) == 20
	})

	want := append([]string{published[0], published[1], published[1], published[1]}, published[2:]...)
	mu.Lock()
	got := slices.Clone(arrived)
	mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("the receiver got the events in this order:\n%s\nwant publish order, the second repeated in place through its two retries:\n%s",
			positions(got, published), positions(want, published))
	}
	if p := inFlight.most(); p != 1 {
		t.Errorf("an ordered endpoint had %d requests in flight at once; want 1", p)
	}
}

func TestMaxInFlightCapsTheAttemptsOutToAnEndpointAtOnce(t *testing.T) {
	t.Parallel()
	// Receivers hold every request until the test has seen each endpoint
	// reach its cap, then answer after a short pause, so requests overlap
	// for as long as the endpoint has work.
	gate := make(chan struct{})
	var own, byDefault gauge
	var ownN, byDefaultN atomic.Int32
	holding := func(g *gauge, n *atomic.Int32) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			g.enter()
			defer g.leave()
			n.Add(1)
			<-gate
			time.Sleep(10 * time.Millisecond)
		}
	}
	ownURL := serve(t, holding(&own, &ownN))
	defaultURL := serve(t, holding(&byDefault, &byDefaultN))
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)

	s := startServer(t, "--endpoint-max-in-flight", "3")
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": ownURL, "max_in_flight": 2})
	s.endpoint(tenant, map[string]any{"url": defaultURL})
	for i := range 20 {
		s.publish(tenant, "order.updated", map[string]int{"n": i})
	}
	testwait.Within(t, 10*time.Second, "both endpoints to have requests held", func() bool {
		return own.now() >= 2 && byDefault.now() >= 3
	})
	// A fixed wait, as the test must show that something does not happen: it
	// leaves room for an attempt beyond a cap to arrive.
	time.Sleep(100 * time.Millisecond)
	release()
	testwait.Within(t, 20*time.Second, "all 20 events at both endpoints", func() bool {
		return ownN.Load() >= 20 && byDefaultN.Load() >= 20
	})

	if p := own.most(); p != 2 {
		t.Errorf("the endpoint with max_in_flight 2 had %d requests in flight at once; want exactly 2", p)
	}
	if p := byDefault.most(); p != 3 {
		t.Errorf("the endpoint without max_in_flight had %d requests in flight at once; --endpoint-max-in-flight 3 wants exactly 3", p)
	}
}

func TestAnEndpointsRateLimitSpacesItsRequests(t *testing.T) {
	t.Parallel()
	const rate, burst = 5, 1 // burst is max(rate/10, 1)
	var (
		mu sync.Mutex
		at []time.Time
	)
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
	})
	s := startServer(t)
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": url, "rate_limit": rate})
	for i := range 15 {
		s.publish(tenant, "order.updated", map[string]int{"n": i})
	}
	testwait.Within(t, 20*time.Second, "15 requests", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(at) >= 15
	})

	mu.Lock()
	defer mu.Unlock()
	first := at[0]
	inFirstSecond := 0
	for k, a := range at {
		// The limiter lets request k go k/rate after the first; one token of
		// slack absorbs the network's jitter between the two.
		earliest := first.Add(time.Duration(k-burst) * time.Second / rate)
		if a.Before(earliest) {
			t.Errorf("request %d arrived %s after the first; a limit of %d/s with a burst of %d allows it no sooner than %s",
				k, a.Sub(first), rate, burst, earliest.Sub(first))
		}
		if a.Sub(first) < time.Second {
			inFirstSecond++
		}
	}
	if inFirstSecond > rate+burst {
		t.Errorf("%d requests arrived within a second of the first; rate_limit %d allows at most %d", inFirstSecond, rate, rate+burst)
	}
}

func TestTheCircuitBreakerSparesADeadEndpointAndClosesWhenItRecovers(t *testing.T) {
	t.Parallel()
	// A port nothing listens on: connections are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()
	healthy := newReceiver(t)

	// The cooldown is capped at 1s so the probe after recovery comes soon
	// however long the endpoint was down.
	s := startServer(t, "--breaker-failures", "3", "--breaker-cooldown", "500ms", "--breaker-max-cooldown", "1s",
		"--retry-schedule", "100ms,100ms,100ms,100ms,100ms")
	tenant := s.tenant("acme")
	dead := s.endpoint(tenant, map[string]any{"url": "http://" + deadAddr + "/hook"})
	s.endpoint(tenant, map[string]any{"url": healthy.srv.URL})
	const events = 30
	for i := range events {
		s.publish(tenant, "order.updated", map[string]int{"n": i})
	}

	healthy.waitCount(events, 15*time.Second)
	testwait.Within(t, 5*time.Second, "the dead endpoint's circuit to open", func() bool {
		m := s.metrics()
		return metric(m, "outlet_endpoint_circuits_open") == 1 &&
			metric(m, `outlet_deliveries_deferred_total{reason="circuit_open"}`) > 0
	})
	deadQuery := "endpoint_id=" + dead.ID + "&limit=100"
	ds := s.deliveries(tenant, deadQuery)
	if len(ds) != events {
		t.Fatalf("the dead endpoint has %d deliveries; want %d", len(ds), events)
	}
	made := 0
	for _, d := range ds {
		made += len(s.attempts(tenant, d.ID))
	}
	t.Logf("%d attempts to the dead endpoint for %d deliveries", made, events)
	if made >= events {
		t.Errorf("the dead endpoint got %d attempts for %d deliveries; an open circuit should leave most of them unsent", made, events)
	}
	if h := healthy.count(); h != events {
		t.Errorf("the healthy endpoint got %d requests; want %d, one per event", h, events)
	}

	// The endpoint comes back on the same port.
	ln, err = net.Listen("tcp", deadAddr)
	if err != nil {
		t.Skipf("can't bring the dead endpoint back: %s was taken meanwhile: %v", deadAddr, err)
	}
	var revived atomic.Int32
	back := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { revived.Add(1) })}
	go back.Serve(ln)
	t.Cleanup(func() { back.Close() })

	testwait.Within(t, 15*time.Second, "every delivery to the revived endpoint to succeed", func() bool {
		return len(s.deliveries(tenant, deadQuery+"&status=succeeded")) == events
	})
	testwait.Within(t, 5*time.Second, "the circuit to close", func() bool {
		return metric(s.metrics(), "outlet_endpoint_circuits_open") == 0
	})
	if n := revived.Load(); n != events {
		t.Errorf("the revived endpoint got %d requests; want %d, one per event", n, events)
	}
}

func TestTenantsTakeFairTurnsSoOnesFloodDoesNotHoldUpAnother(t *testing.T) {
	t.Parallel()
	const flood = 3000
	// A's receiver holds its requests until the whole flood is published,
	// so the flood is queued in the dispatcher, not drained as it comes.
	gate := make(chan struct{})
	var aGot, bGot, aGotAtBsLast atomic.Int32
	aURL := serve(t, func(w http.ResponseWriter, r *http.Request) {
		aGot.Add(1)
		<-gate
		time.Sleep(20 * time.Millisecond)
	})
	bURL := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if bGot.Add(1) == 10 {
			aGotAtBsLast.Store(aGot.Load())
		}
	})
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)

	s := startServer(t, "--workers", "8", "--endpoint-max-in-flight", "8")
	s.tenant("a")
	s.tenant("b")
	s.endpoint("a", map[string]any{"url": aURL})
	s.endpoint("b", map[string]any{"url": bURL})

	work := make(chan int)
	errs := make(chan error, flood)
	var publishers sync.WaitGroup
	for range 8 {
		publishers.Add(1)
		go func() {
			defer publishers.Done()
			for i := range work {
				a := s.send(adminKey, "POST", "/v1/tenants/a/events", map[string]any{"type": "order.updated", "data": map[string]int{"n": i}}, nil)
				if a.err != nil || a.status != 202 {
					errs <- fmt.Errorf("publish %d of tenant a: %d %v %s", i, a.status, a.err, a.body)
				}
			}
		}()
	}
	for i := range flood {
		work <- i
	}
	close(work)
	publishers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	release()
	for i := range 10 {
		s.publish("b", "order.updated", map[string]int{"n": i})
	}
	testwait.Within(t, 15*time.Second, "tenant b's 10 events", func() bool { return bGot.Load() >= 10 })
	aThen := aGotAtBsLast.Load()
	t.Logf("tenant a's receiver had %d of its %d requests when tenant b's 10th arrived", aThen, flood)
	if aThen >= flood/2 {
		t.Errorf("tenant b's 10th event arrived only after tenant a's receiver got %d of a's %d: b waited behind a's flood", aThen, flood)
	}
}

func TestOneTenantsFunctionsWaitingForTheSandboxDontDelayAnotherTenantsWebhooks(t *testing.T) {
	t.Parallel()
	// The slow functions fetch this gate, which holds them until the test
	// lets go: they are provably still running until then.
	gate := make(chan struct{})
	var fetching gauge
	gateURL := serve(t, func(w http.ResponseWriter, r *http.Request) {
		fetching.enter()
		defer fetching.leave()
		<-gate
	})
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	hooks := newReceiver(t)

	// Each tenant may run one function at a time; runs held for 30s would
	// time out neither at the gate nor while waiting for the sandbox.
	s := startServer(t, "--workers", "8", "--function-concurrency", "1", "--function-fetch-timeout", "30s")
	const perTenant = 10
	slow := []string{"slow-a", "slow-b"}
	for _, tenant := range slow {
		s.tenant(tenant)
		s.deploy(tenant, "slow", map[string]any{"runtime": "javascript", "events": []string{"*"}, "timeout_ms": 30000, "code": `
			export default async (event) => {
				await fetch(event.data.gate)
				return { done: event.data.n }
			}`})
	}
	s.tenant("plain")
	s.endpoint("plain", map[string]any{"url": hooks.srv.URL})
	for i := range perTenant {
		for _, tenant := range slow {
			s.publish(tenant, "job.started", map[string]any{"n": i, "gate": gateURL})
		}
	}
	testwait.Within(t, 15*time.Second, "both tenants' first function runs to be at the gate", func() bool { return fetching.now() == 2 })

	s.publish("plain", "order.updated", map[string]int{"n": 1})
	testwait.Within(t, 15*time.Second, "the plain tenant's webhook while both tenants' functions still run", func() bool { return hooks.count() == 1 })

	release()
	for _, tenant := range slow {
		testwait.Within(t, 30*time.Second, tenant+"'s function deliveries to succeed", func() bool {
			return len(s.deliveries(tenant, "status=succeeded&limit=100")) == perTenant
		})
		for _, d := range s.deliveries(tenant, "limit=100") {
			if d.Attempts != 1 {
				t.Errorf("%s's delivery %s took %d attempts; want 1: waiting for the sandbox must not cost an attempt", tenant, d.ID, d.Attempts)
			}
		}
	}
	if p := fetching.most(); p > len(slow) {
		t.Errorf("%d function runs were at the gate at once; --function-concurrency 1 allows one per tenant", p)
	}
}

func TestPublishesOverATenantsRateLimitAreThrottled(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--publish-rate-limit", "5", "--cache-ttl", "200ms")
	s.tenant("capped")
	s.must(201, "POST", "/v1/tenants", map[string]any{"id": "roomy", "name": "roomy", "publish_rate_limit": 1000}, nil)
	burst := func(tenant string) (accepted int, refused []answer) {
		for i := range 20 {
			a := s.send(adminKey, "POST", "/v1/tenants/"+tenant+"/events", map[string]any{"type": "order.updated", "data": map[string]int{"n": i}}, nil)
			switch {
			case a.err != nil:
				t.Fatalf("publish %d of %s: %v", i, tenant, a.err)
			case a.status == 202:
				accepted++
			case a.status == 429:
				refused = append(refused, a)
			default:
				t.Fatalf("publish %d of %s answered %d: %s", i, tenant, a.status, a.body)
			}
		}
		return accepted, refused
	}

	start := time.Now()
	accepted, refused := burst("capped")
	elapsed := time.Since(start)
	if len(refused) == 0 {
		t.Errorf("20 publishes back to back under --publish-rate-limit 5 were all accepted (in %s)", elapsed)
	}
	// A second's worth at once, then 5 a second.
	if most := 5 + int(elapsed.Seconds()*5) + 1; accepted > most {
		t.Errorf("%d of 20 publishes accepted in %s; a limit of 5/s allows at most %d", accepted, elapsed, most)
	}
	for _, a := range refused {
		var e errorAnswer
		json.Unmarshal(a.body, &e)
		if secs, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || secs < 1 {
			t.Errorf("a 429 has Retry-After %q; want a whole number of seconds, at least 1", a.header.Get("Retry-After"))
		}
		if e.Error.Code != "rate_limited" || e.Error.Message == "" {
			t.Errorf("a 429 says %s; want code rate_limited and a message", a.body)
		}
	}

	if accepted, _ := burst("roomy"); accepted != 20 {
		t.Errorf("a tenant with publish_rate_limit 1000 had %d of 20 publishes accepted; want all", accepted)
	}

	s.must(200, "PATCH", "/v1/tenants/capped", map[string]any{"publish_rate_limit": 1000}, nil)
	// The node reads the new limit once its cached tenant is older than --cache-ttl.
	testwait.Within(t, 5*time.Second, "a burst of 20 to be accepted whole under the raised publish_rate_limit", func() bool {
		accepted, _ := burst("capped")
		return accepted == 20
	})

	if n := metric(s.metrics(), "outlet_publish_throttled_total"); n < float64(len(refused)) {
		t.Errorf("outlet_publish_throttled_total is %v; %d publishes were refused", n, len(refused))
	}
}

func TestUsageCountsEventsDeliveriesAttemptsAndFunctionRuns(t *testing.T) {
	t.Parallel()
	ok := newReceiver(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	flakyURL := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := !seen[r.Header.Get("webhook-id")]
		seen[r.Header.Get("webhook-id")] = true
		mu.Unlock()
		if first {
			w.WriteHeader(400) // retried, but not counted against the endpoint's circuit
		}
	})
	s := startServer(t, "--retry-schedule", "50ms,50ms")
	tenant := s.tenant("acme")
	s.tenant("other")
	s.endpoint(tenant, map[string]any{"url": ok.srv.URL})
	s.endpoint(tenant, map[string]any{"url": flakyURL})

	const n = 5
	publish := func(i int) map[string]any {
		var out map[string]any
		body := map[string]any{"type": "order.updated", "data": map[string]int{"n": i}}
		if st := s.callWithHeaders(adminKey, "POST", "/v1/tenants/acme/events", body, map[string]string{"Idempotency-Key": fmt.Sprint("order-", i)}, &out); st != 202 {
			t.Fatalf("publish %d answered %d: %v", i, st, out)
		}
		return out
	}
	for i := range n {
		publish(i)
	}
	if again := publish(0); again["replayed"] != true {
		t.Fatalf("the repeated publish was not replayed: %v", again)
	}
	testwait.Within(t, 15*time.Second, "every delivery to succeed", func() bool {
		return len(s.deliveries(tenant, "status=succeeded&limit=100")) == 2*n
	})
	attempts := 0
	for _, d := range s.deliveries(tenant, "limit=100") {
		attempts += len(s.attempts(tenant, d.ID))
	}
	if attempts != 3*n {
		t.Errorf("the attempts API lists %d attempts; one per delivery and one retry per event at the flaky endpoint make %d", attempts, 3*n)
	}

	today := time.Now().UTC().Format(time.DateOnly)
	var u usageAnswer
	s.must(200, "GET", "/v1/tenants/acme/usage", nil, &u)
	want := usage{Events: n, Deliveries: 2 * n, Attempts: int64(attempts)}
	if got := u.Total.counts(); got != want {
		t.Errorf("total usage %+v; want %+v", got, want)
	}
	if i := slices.IndexFunc(u.Days, func(d usage) bool { return d.Day == today }); i < 0 {
		t.Errorf("usage has no row for today (%s): %+v", today, u.Days)
	} else if got := u.Days[i].counts(); got != want {
		t.Errorf("today's usage %+v; want %+v", got, want)
	}

	var key, otherKey struct{ Key string }
	s.must(201, "POST", "/v1/tenants/acme/api-keys", map[string]any{}, &key)
	s.must(201, "POST", "/v1/tenants/other/api-keys", map[string]any{}, &otherKey)
	var own usageAnswer
	if st := s.call(key.Key, "GET", "/v1/tenants/acme/usage", nil, &own); st != 200 || own.Total.counts() != want {
		t.Errorf("the tenant's own key read its usage as %d %+v; want 200 %+v", st, own.Total, want)
	}
	if st := s.call(otherKey.Key, "GET", "/v1/tenants/acme/usage", nil, nil); st != 403 && st != 404 {
		t.Errorf("another tenant's key read acme's usage: %d; want 403 or 404", st)
	}

	for _, c := range []struct{ query, names string }{
		{"since=yesterday", "since"},
		{"before=tomorrow", "before"},
		{"since=2026-03-02&before=2026-03-02", "before"},
		{"since=2026-03-02&before=2026-03-01", "before"},
		{"since=2024-01-01&before=2025-03-01", "since"},
	} {
		var e errorAnswer
		st := s.call(adminKey, "GET", "/v1/tenants/acme/usage?"+c.query, nil, &e)
		if st != 422 || !strings.Contains(e.Error.Message, c.names) {
			t.Errorf("usage?%s answered %d %q; want 422 naming %s", c.query, st, e.Error.Message, c.names)
		}
	}

	t.Run("function invocations are counted", func(t *testing.T) {
		s.hook("cart.check", 2000, "fail_closed")
		s.deploy("acme", "check", map[string]any{"runtime": "javascript", "hooks": []string{"cart.check"},
			"code": `export default (cart) => ({ ...cart, checked: true })`})
		for i := range 3 {
			if r := s.invoke("acme", "cart.check", map[string]int{"n": i}); r.Error != nil {
				t.Fatalf("invoke %d: %+v", i, r.Error)
			}
		}
		// Function use is written every few seconds, not with each run.
		var u usageAnswer
		testwait.Within(t, 10*time.Second, "the three runs to be counted", func() bool {
			s.must(200, "GET", "/v1/tenants/acme/usage", nil, &u)
			return u.Total.FunctionInvocations >= 3
		})
		if u.Total.FunctionInvocations != 3 {
			t.Errorf("usage counts %d function invocations; the hook ran 3 times", u.Total.FunctionInvocations)
		}
		if u.Total.counts() != want {
			t.Errorf("running functions changed the delivery counts: %+v; want %+v", u.Total.counts(), want)
		}
	})
}

// errorAnswer is the body of a refusal.
type errorAnswer struct {
	Error struct{ Code, Message string }
}

type usageAnswer struct {
	Total usage   `json:"total"`
	Days  []usage `json:"days"`
}

type usage struct {
	Day                 string `json:"day"`
	Events              int64  `json:"events"`
	Deliveries          int64  `json:"deliveries"`
	Attempts            int64  `json:"attempts"`
	FunctionInvocations int64  `json:"function_invocations"`
	FunctionCPUMs       int64  `json:"function_cpu_ms"`
}

// counts is the event, delivery and attempt counts alone.
func (u usage) counts() usage {
	return usage{Events: u.Events, Deliveries: u.Deliveries, Attempts: u.Attempts}
}

// gauge counts the requests a receiver is handling, and the most at once.
type gauge struct {
	mu        sync.Mutex
	cur, peak int
}

func (g *gauge) enter() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cur++
	g.peak = max(g.peak, g.cur)
}

func (g *gauge) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cur--
}

func (g *gauge) now() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cur
}

func (g *gauge) most() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak
}

// serve runs a receiver with its own handler and returns its URL.
func serve(t *testing.T, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// positions writes webhook ids as their index in the publish order, which
// reads better than the ids: "0 1 1 1 2 3".
func positions(ids, published []string) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		if p := slices.Index(published, id); p >= 0 {
			fmt.Fprint(&b, p)
		} else {
			fmt.Fprintf(&b, "%q", id)
		}
	}
	return b.String()
}

// metric returns the value of one series in a Prometheus exposition, or -1
// if the series isn't there.
func metric(exposition, series string) float64 {
	for line := range strings.SplitSeq(exposition, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f
			}
		}
	}
	return -1
}

// answer is an API answer taken by send.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

var sendClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: time.Minute}

// send makes an API request and returns the whole answer. Unlike call it
// never ends the test, so other goroutines may use it.
func (s *server) send(key, method, path string, body any, headers map[string]string) answer {
	j, err := json.Marshal(body)
	if err != nil {
		return answer{err: err}
	}
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(j))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := sendClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: raw, err: err}
}
