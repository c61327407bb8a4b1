package outlet

import (
	"testing"
	"time"
)

func TestParseRetrySchedule(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    string
		invalid bool
	}{
		{"5s,5m,30m,2h,5h,10h,10h", "5s,5m,30m,2h,5h,10h,10h", false},
		{" 100ms , 1s ", "100ms,1s", false},
		{"", "", false},
		{"5s,,5m", "", true},
		{"5s,-1s", "", true},
		{"0s", "", true},
		{"200h", "", true},
		{"soon", "", true},
	}
	for _, c := range cases {
		got, err := ParseRetrySchedule(c.in)
		if c.invalid {
			if err == nil || ErrorCode(err) != EINVALID {
				t.Errorf("%q: err %v; want EINVALID", c.in, err)
			}
			continue
		}
		if err != nil || got.String() != c.want {
			t.Errorf("%q: %v, %v; want %s", c.in, got, err, c.want)
		}
	}
	if DefaultRetrySchedule.MaxAttempts() != 8 {
		t.Errorf("the default schedule allows %d attempts; want 8 (the first and 7 retries)", DefaultRetrySchedule.MaxAttempts())
	}
}

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fixed := func(r float64) func() float64 { return func() float64 { return r } }
	p := RetryPolicy{Schedule: RetrySchedule{10 * time.Second, time.Minute}, MaxRetryAfter: time.Hour, Rand: fixed(0.5)}
	pending := &Delivery{Status: StatusPending}
	cases := []struct {
		name       string
		p          RetryPolicy
		d          *Delivery
		attempt    int
		succeeded  bool
		retryAfter time.Duration
		status     DeliveryStatus
		wait       time.Duration
	}{
		{"success finishes the delivery", p, pending, 1, true, 0, StatusSucceeded, 0},
		{"a first failure waits the first step", p, pending, 1, false, 0, StatusPending, 10 * time.Second},
		{"a second failure waits the second step", p, pending, 2, false, 0, StatusPending, time.Minute},
		{"a failure after the last step fails the delivery", p, pending, 3, false, 0, StatusFailed, 0},
		{"jitter can shorten a wait by a fifth", RetryPolicy{Schedule: p.Schedule, Rand: fixed(0)}, pending, 1, false, 0, StatusPending, 8 * time.Second},
		{"jitter can lengthen a wait by a fifth", RetryPolicy{Schedule: p.Schedule, Rand: fixed(0.9999999999)}, pending, 1, false, 0, StatusPending, 12 * time.Second},
		{"retry after 503 waits at least the scheduled delay", p, pending, 1, false, time.Second, StatusPending, 10 * time.Second},
		{"a longer Retry-After is honoured", p, pending, 1, false, 10 * time.Minute, StatusPending, 10 * time.Minute},
		{"Retry-After is bounded by the maximum", p, pending, 1, false, 48 * time.Hour, StatusPending, time.Hour},
		{"a re-opened delivery gets one attempt only", p, &Delivery{Status: StatusPending, SingleAttempt: true}, 3, false, 0, StatusFailed, 0},
		{"no schedule means one attempt", RetryPolicy{Schedule: RetrySchedule{}, Rand: fixed(0.5)}, pending, 1, false, 0, StatusFailed, 0},
	}
	for _, c := range cases {
		status, next := c.p.Next(c.d, c.attempt, c.succeeded, c.retryAfter, now)
		if status != c.status {
			t.Errorf("%s: status %s; want %s", c.name, status, c.status)
			continue
		}
		if status == StatusPending {
			if got := next.Sub(now); got < c.wait-time.Millisecond || got > c.wait+time.Millisecond {
				t.Errorf("%s: waits %s; want %s", c.name, got, c.wait)
			}
		} else if !next.IsZero() {
			t.Errorf("%s: a finished delivery has a next attempt at %s", c.name, next)
		}
	}
}

func TestRetryPolicyWithoutRandStillJitters(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := RetryPolicy{Schedule: RetrySchedule{10 * time.Second}}
	status, next := p.Next(&Delivery{Status: StatusPending}, 1, false, 0, now)
	if wait := next.Sub(now); status != StatusPending || wait < 8*time.Second || wait > 12*time.Second {
		t.Errorf("a policy without Rand: %s, waits %s; want pending, 8s to 12s", status, wait)
	}
}
