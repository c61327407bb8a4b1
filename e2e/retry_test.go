package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet/internal/testwait"
)

func TestFailingDeliveryIsRetriedOnTheScheduleUntilItSucceeds(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--retry-schedule", "100ms,200ms,300ms")
	rcv := newReceiver(t)
	rcv.respond(reply{status: 500, body: "boom"}, reply{status: 404}, reply{status: 200})
	tenant := s.tenant("acme")
	ep := s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	id := s.publish(tenant, "invoice.paid", map[string]int{"n": 1})

	rcv.waitCount(3, 10*time.Second)
	d := s.waitDelivery(tenant, id, "succeeded", 5*time.Second)
	as := s.attempts(tenant, d.ID)
	if len(as) != 3 || as[0].StatusCode != 500 || as[0].ResponseBody != "boom" || as[1].StatusCode != 404 || as[2].StatusCode != 200 {
		t.Fatalf("attempts %+v; want 500, 404, 200", as)
	}
	if as[0].Error == "" || as[2].Error != "" {
		t.Errorf("failed attempts must say why and successful ones not: %+v", as)
	}
	// Every retry carries the same webhook-id, and each is signed afresh.
	for i := range 3 {
		req, _ := rcv.request(i)
		if req.Header.Get("webhook-id") != id {
			t.Errorf("attempt %d has webhook-id %q; want %q", i+1, req.Header.Get("webhook-id"), id)
		}
		if err := rcv.verify(i, ep.Secret); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
	}
	// The waits grow with the schedule (jitter is ±20%).
	rcv.mu.Lock()
	gap1, gap2 := rcv.at[1].Sub(rcv.at[0]), rcv.at[2].Sub(rcv.at[1])
	rcv.mu.Unlock()
	if gap1 < 75*time.Millisecond || gap2 < 150*time.Millisecond {
		t.Errorf("retries came after %s and %s; the schedule says 100ms and 200ms (±20%%)", gap1, gap2)
	}
}

func TestDeliveryFailsAfterTheLastScheduledAttempt(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--retry-schedule", "50ms,50ms")
	rcv := newReceiver(t)
	for range 5 {
		rcv.respond(reply{status: 503})
	}
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	id := s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	// Failed is final, and recorded only after the receiver answered the
	// last attempt: the count can't change from here.
	s.waitDelivery(tenant, id, "failed", 10*time.Second)
	if n := rcv.count(); n != 3 {
		t.Errorf("receiver got %d attempts; a schedule of two waits allows 3", n)
	}
	if ds := s.deliveries(tenant, "status=failed"); len(ds) != 1 || ds[0].Attempts != 3 {
		t.Errorf("failed deliveries %+v; want one with 3 attempts", ds)
	}
}

func TestUnreachableEndpointIsRetried(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--retry-schedule", "50ms")
	rcv := newReceiver(t)
	url := rcv.srv.URL
	rcv.srv.Close() // connection refused
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": url})
	id := s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	d := s.waitDelivery(tenant, id, "failed", 10*time.Second)
	as := s.attempts(tenant, d.ID)
	if len(as) != 2 || as[0].StatusCode != 0 || as[0].Error == "" {
		t.Errorf("attempts %+v; want two with no status and a connection error", as)
	}
}

func TestRetryAfterPostponesTheNextAttemptButNeverHastensIt(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--retry-schedule", "100ms,100ms", "--max-retry-after", "5s")
	rcv := newReceiver(t)
	rcv.respond(
		reply{status: 429, headers: map[string]string{"Retry-After": "1"}},
		reply{status: 503, headers: map[string]string{"Retry-After": "0"}},
	)
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	rcv.waitCount(3, 10*time.Second)
	rcv.mu.Lock()
	gap1, gap2 := rcv.at[1].Sub(rcv.at[0]), rcv.at[2].Sub(rcv.at[1])
	rcv.mu.Unlock()
	if gap1 < 950*time.Millisecond {
		t.Errorf("after a 429 with Retry-After: 1 the next attempt came after %s; want at least 1s", gap1)
	}
	if gap2 < 75*time.Millisecond {
		t.Errorf("Retry-After: 0 made the next attempt come after %s, sooner than the schedule's 100ms (±20%%)", gap2)
	}
	if gap2 > 2500*time.Millisecond {
		t.Errorf("after Retry-After: 0 the next attempt came after %s; the schedule says 100ms", gap2)
	}
}

func TestManualRetryMakesOneMoreAttemptNow(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--retry-schedule", "50ms")
	rcv := newReceiver(t)
	rcv.respond(reply{status: 500}, reply{status: 500})
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	id := s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	d := s.waitDelivery(tenant, id, "failed", 10*time.Second)

	s.must(202, "POST", "/v1/tenants/acme/deliveries/"+d.ID+"/retry", map[string]any{}, nil)
	rcv.waitCount(3, 10*time.Second)
	testwait.Within(t, 5*time.Second, "the retried delivery to succeed", func() bool {
		ds := s.deliveries(tenant, "event_id="+id)
		return ds[0].Status == "succeeded"
	})
	as := s.attempts(tenant, d.ID)
	if len(as) != 3 || as[2].Trigger != "manual" || as[2].StatusCode != 200 {
		t.Errorf("attempts %+v; want a third, manual, successful attempt", as)
	}
	if status := s.call(adminKey, "POST", "/v1/tenants/acme/deliveries/dlv_nope/retry", "{}", nil); status != 404 {
		t.Errorf("retry of an unknown delivery answered %d; want 404", status)
	}
}

func TestRecoverResendsEveryFailedDeliveryOfAnEndpointSinceATime(t *testing.T) {
	t.Parallel()
	// Six failures in a row open the endpoint's circuit; a short cooldown
	// keeps the test quick.
	s := startServer(t, "--retry-schedule", "30ms", "--breaker-cooldown", "50ms")
	rcv := newReceiver(t)
	for range 6 {
		rcv.respond(reply{status: 500})
	}
	tenant := s.tenant("acme")
	ep := s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	start := time.Now().Add(-time.Second).UTC()
	for i := range 3 {
		s.publish(tenant, "invoice.paid", map[string]int{"n": i})
	}
	testwait.Within(t, 10*time.Second, "three failed deliveries", func() bool { return len(s.deliveries(tenant, "status=failed")) == 3 })

	var out struct{ Recovered int }
	s.must(202, "POST", "/v1/tenants/acme/endpoints/"+ep.ID+"/recover", map[string]any{"since": start.Format(time.RFC3339)}, &out)
	if out.Recovered != 3 {
		t.Errorf("recovered %d; want 3", out.Recovered)
	}
	testwait.Within(t, 10*time.Second, "three succeeded deliveries", func() bool { return len(s.deliveries(tenant, "status=succeeded")) == 3 })
	for _, d := range s.deliveries(tenant, "") {
		as := s.attempts(tenant, d.ID)
		if last := as[len(as)-1]; last.Trigger != "recover" || !last.Succeeded {
			t.Errorf("delivery %s: last attempt %+v; want a successful recover attempt", d.ID, last)
		}
	}

	// A time after the failures recovers nothing.
	s.must(202, "POST", "/v1/tenants/acme/endpoints/"+ep.ID+"/recover", map[string]any{"since": time.Now().UTC().Format(time.RFC3339)}, &out)
	if out.Recovered != 0 {
		t.Errorf("recover since now re-sent %d deliveries; want 0", out.Recovered)
	}
}

func TestRotatedSecretSignsBesideTheOldOneDuringTheOverlap(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rcv := newReceiver(t)
	tenant := s.tenant("acme")
	ep := s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	oldSecret := ep.Secret

	var rotated struct {
		Secret                  string    `json:"secret"`
		PreviousSecret          string    `json:"previous_secret"`
		PreviousSecretExpiresAt time.Time `json:"previous_secret_expires_at"`
	}
	s.must(200, "POST", "/v1/tenants/acme/endpoints/"+ep.ID+"/rotate-secret", map[string]any{}, &rotated)
	if rotated.Secret == oldSecret || rotated.PreviousSecret != oldSecret {
		t.Fatalf("rotation answered %+v; want a new secret and the old one as previous", rotated)
	}
	if d := time.Until(rotated.PreviousSecretExpiresAt); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("old secret expires in %s; the default overlap is 24h", d)
	}
	s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	rcv.waitCount(1, 10*time.Second)
	for _, secret := range []string{oldSecret, rotated.Secret} {
		if err := rcv.verify(0, secret); err != nil {
			t.Errorf("during the overlap, a receiver holding %s… can't verify: %v", secret[:10], err)
		}
	}

	// With no overlap the old secret stops signing at once.
	var again struct{ Secret string }
	s.must(200, "POST", "/v1/tenants/acme/endpoints/"+ep.ID+"/rotate-secret", map[string]any{"overlap_seconds": 0}, &again)
	s.publish(tenant, "invoice.paid", map[string]int{"n": 2})
	rcv.waitCount(2, 10*time.Second)
	if err := rcv.verify(1, again.Secret); err != nil {
		t.Errorf("the new secret doesn't verify: %v", err)
	}
	if err := rcv.verify(1, rotated.Secret); err == nil {
		t.Errorf("the replaced secret still verifies after a rotation without overlap")
	}
	req, _ := rcv.request(1)
	if n := len(strings.Fields(req.Header.Get("webhook-signature"))); n != 1 {
		t.Errorf("webhook-signature has %d signatures after a rotation without overlap; want 1", n)
	}
}

func TestAttemptsKeepTheReceiversAnswerUpTo16KiB(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--retry-schedule", "")
	rcv := newReceiver(t)
	big := strings.Repeat("x", 20<<10)
	rcv.respond(reply{status: 200, body: big, headers: map[string]string{"X-Request-Id": "r-42"}})
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	id := s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	d := s.waitDelivery(tenant, id, "succeeded", 10*time.Second)
	var l struct {
		Data []struct {
			ResponseBody      string            `json:"response_body"`
			ResponseTruncated bool              `json:"response_truncated"`
			ResponseHeaders   map[string]string `json:"response_headers"`
		}
	}
	s.must(200, "GET", "/v1/tenants/acme/deliveries/"+d.ID+"/attempts", nil, &l)
	a := l.Data[0]
	if len(a.ResponseBody) != 16<<10 || !a.ResponseTruncated || a.ResponseBody != big[:16<<10] {
		t.Errorf("kept %d bytes, truncated %v; want the first 16 KiB and truncated", len(a.ResponseBody), a.ResponseTruncated)
	}
	if a.ResponseHeaders["x-request-id"] != "r-42" {
		t.Errorf("response headers %v; want x-request-id kept", a.ResponseHeaders)
	}
}
