package dispatch

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/testwait"
)

// notes is a Notifier that writes down what it is told.
type notes struct {
	mu  sync.Mutex
	got []string
}

func (n *notes) add(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, fmt.Sprintf(format, args...))
}

func (n *notes) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

func (n *notes) CircuitOpened(c *outlet.Claim, failures int, probeAt time.Time) {
	n.add("opened %s/%s after %d failures, probe at %s", c.Delivery.TenantID, c.Endpoint.ID, failures, probeAt.Format(time.TimeOnly))
}

func (n *notes) CircuitClosed(c *outlet.Claim) {
	n.add("closed %s/%s", c.Delivery.TenantID, c.Endpoint.ID)
}

func (n *notes) EndpointDisabled(c *outlet.Claim, at time.Time) {
	n.add("disabled %s/%s at %s", c.Delivery.TenantID, c.Endpoint.ID, at.Format(time.TimeOnly))
}

func (n *notes) DeliveryExhausted(c *outlet.Claim, last *outlet.Attempt) {
	n.add("exhausted %s after %d attempts, the last answered %d", c.Delivery.ID, c.Delivery.Attempts+1, last.StatusCode)
}

func TestACircuitsOpeningAndClosingAreToldOnceEach(t *testing.T) {
	t.Parallel()
	n := &notes{}
	b := setup(t, func(c *Config) {
		c.Workers = 1
		c.Flow = FlowConfig{BreakerFailures: 2, BreakerCooldown: 10 * time.Second}
		c.Retry.Schedule = outlet.RetrySchedule{time.Hour}
		c.Notifier = n
	})
	b.tenant("acme")
	ep := b.endpoint("acme")
	g := b.recv.hold(3)
	b.publishOne("acme")
	b.publishOne("acme")
	third := b.publishOne("acme")
	b.recv.wait(t, 1)
	g.release(503)
	opened := fmt.Sprintf("opened acme/%s after 2 failures, probe at 12:00:10", ep.ID)
	testwait.Until(t, "the opening to be told", func() bool { return len(n.all()) > 0 })

	// The probe fails: the circuit stays open, and nothing new is told.
	b.clock.Advance(10 * time.Second)
	b.d.Wake()
	testwait.Until(t, "the failed probe to be recorded", func() bool { return b.delivery("acme", third).Attempts == 1 })
	testwait.Until(t, "the scheduler to hear of the failed probe", func() bool {
		b.d.sched.mu.Lock()
		defer b.d.sched.mu.Unlock()
		tf := b.d.sched.targets[targetKey{"acme", outlet.Target{Type: outlet.TargetEndpoint, ID: ep.ID}}]
		return tf != nil && tf.inFlight == 0
	})
	// The next probe, when the retries fall due, succeeds.
	b.clock.Advance(2 * time.Hour)
	b.d.Wake()
	testwait.Until(t, "the closing to be told", func() bool { return len(n.all()) > 1 })
	check(t, b.shutdown(b.d))
	if got, want := n.all(), []string{opened, "closed acme/" + ep.ID}; !slices.Equal(got, want) {
		t.Errorf("the notifier was told %q; want %q", got, want)
	}
}

func TestADeliveryThatFailsItsLastScheduledAttemptIsToldOnce(t *testing.T) {
	t.Parallel()
	n := &notes{}
	b := setup(t, func(c *Config) {
		c.Retry.Schedule = outlet.RetrySchedule{} // the first attempt is the last
		c.Notifier = n
	})
	b.tenant("acme")
	b.endpoint("acme")
	b.recv.hold(1).release(500)
	id := b.publishOne("acme")
	b.waitStatus("acme", outlet.StatusFailed, id)

	// One more attempt that a caller asks for doesn't exhaust a schedule.
	b.recv.hold(1).release(500)
	_, err := b.d.Retry(b.ctx, "acme", id)
	check(t, err)
	testwait.Until(t, "the retry to be recorded", func() bool { return len(b.attempts("acme", id)) == 2 })
	check(t, b.shutdown(b.d)) // every outcome recorded, and told
	if got, want := n.all(), []string{"exhausted " + id + " after 1 attempts, the last answered 500"}; !slices.Equal(got, want) {
		t.Errorf("the notifier was told %q; want %q", got, want)
	}
}

func TestAnEndpointDisabledByAnAttemptIsTold(t *testing.T) {
	t.Parallel()
	n := &notes{}
	b := setup(t, func(c *Config) {
		c.Retry.Schedule = outlet.RetrySchedule{time.Minute, time.Minute}
		c.DisableAfter = time.Hour
		c.Flow.BreakerOff = true
		c.Notifier = n
	})
	b.tenant("acme")
	ep := b.endpoint("acme")
	b.recv.hold(1).release(503)
	id := b.publishOne("acme")
	testwait.Until(t, "the first attempt to be recorded", func() bool { return b.delivery("acme", id).Attempts == 1 })

	b.recv.hold(1).release(503)
	b.clock.Advance(2 * time.Hour)
	b.d.Wake()
	testwait.Until(t, "the second attempt to be recorded", func() bool { return b.delivery("acme", id).Attempts == 2 })
	check(t, b.shutdown(b.d))
	if got, want := n.all(), []string{"disabled acme/" + ep.ID + " at 14:00:00"}; !slices.Equal(got, want) {
		t.Errorf("the notifier was told %q; want %q", got, want)
	}
	if got, err := b.store.Endpoint(b.ctx, "acme", ep.ID); err != nil || !got.Disabled {
		t.Errorf("the endpoint: %+v, %v; want it disabled", got, err)
	}
}
