package outlet

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// RetrySchedule lists the waits between attempts: after the first attempt
// fails the delivery waits s[0], after the second s[1], and so on. After the
// last wait's attempt fails, the delivery has failed.
type RetrySchedule []time.Duration

// DefaultRetrySchedule is the schedule Svix and most receivers know.
var DefaultRetrySchedule = RetrySchedule{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// ParseRetrySchedule reads a comma-separated list of Go durations such as
// "5s,5m,30m". An empty list means a single attempt and no retries.
func ParseRetrySchedule(s string) (RetrySchedule, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return RetrySchedule{}, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > 50 {
		return nil, Errorf(EINVALID, "retry schedule has %d entries; the limit is 50", len(parts))
	}
	out := make(RetrySchedule, 0, len(parts))
	for _, p := range parts {
		d, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil || d <= 0 || d > 7*24*time.Hour {
			return nil, Errorf(EINVALID, "retry schedule entry %q is not valid: use positive Go durations up to 168h, comma-separated, e.g. 5s,5m,30m", p)
		}
		out = append(out, d)
	}
	return out, nil
}

func (s RetrySchedule) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = shortDuration(d)
	}
	return strings.Join(parts, ",")
}

// MaxAttempts is how many attempts a delivery gets before it has failed.
func (s RetrySchedule) MaxAttempts() int { return len(s) + 1 }

// Jitter is the spread applied to every scheduled wait, so that deliveries
// that failed together don't all retry in the same instant.
const Jitter = 0.2

// RetryPolicy decides what becomes of a delivery after an attempt.
type RetryPolicy struct {
	Schedule RetrySchedule
	// MaxRetryAfter bounds how long a receiver's Retry-After can push the next
	// attempt out.
	MaxRetryAfter time.Duration
	// Rand returns a number in [0,1); it drives the jitter. Nil takes
	// math/rand/v2's.
	Rand func() float64
}

// Next returns the delivery's new status after attempt number n (1-based)
// ended at now, and when to try again if it stays pending. retryAfter is the
// wait the receiver asked for (0 for none); it is honoured when it is longer
// than the scheduled wait, up to MaxRetryAfter, and never shortens it.
func (p RetryPolicy) Next(d *Delivery, n int, succeeded bool, retryAfter time.Duration, now time.Time) (DeliveryStatus, time.Time) {
	if succeeded {
		return StatusSucceeded, time.Time{}
	}
	if d.SingleAttempt || n > len(p.Schedule) {
		return StatusFailed, time.Time{}
	}
	random := p.Rand
	if random == nil {
		// A zero policy with a schedule must not crash the worker that
		// calls it on the first failure.
		random = rand.Float64
	}
	wait := p.Schedule[n-1]
	wait += time.Duration((random()*2 - 1) * Jitter * float64(wait))
	if retryAfter > wait {
		wait = min(retryAfter, max(p.MaxRetryAfter, wait))
	}
	return StatusPending, now.Add(wait)
}

func shortDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	default:
		return d.String()
	}
}
