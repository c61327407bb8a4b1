package dispatch

import (
	"time"

	"github.com/outlethq/outlet"
)

// Notifier hears of what the operator may want to know about the endpoints
// and deliveries this node serves, for Outlet's operational events. It is
// called on the dispatcher's own paths, some under its locks: its methods
// must return at once.
type Notifier interface {
	// CircuitOpened: after the claim's attempt, failures attempts in a row
	// to its endpoint failed, and this node stopped sending to it until a
	// probe at probeAt succeeds.
	CircuitOpened(c *outlet.Claim, failures int, probeAt time.Time)
	// CircuitClosed: the claim's attempt, a probe, was answered, and this
	// node sends to its endpoint again.
	CircuitClosed(c *outlet.Claim)
	// EndpointDisabled: recording the claim's attempt disabled its endpoint,
	// at at, for failing longer than the disable period.
	EndpointDisabled(c *outlet.Claim, at time.Time)
	// DeliveryExhausted: the claim's delivery failed last, the last attempt
	// of its retry schedule, and is failed.
	DeliveryExhausted(c *outlet.Claim, last *outlet.Attempt)
}

// breakerChanged is told when one of the node's circuits opens (open) or
// closes, after the claim's attempt.
func (d *Dispatcher) breakerChanged(c *outlet.Claim, open bool, probeAt time.Time) {
	n := d.cfg.Notifier
	if open {
		d.cfg.Metrics.CircuitsOpen.Inc()
		if n != nil {
			n.CircuitOpened(c, d.cfg.Flow.BreakerFailures, probeAt)
		}
		return
	}
	d.cfg.Metrics.CircuitsOpen.Dec()
	if n != nil {
		n.CircuitClosed(c)
	}
}

// notifyRecorded tells the notifier what a batch of outcomes, now
// recorded, did: the deliveries it exhausted and the endpoints it disabled.
func (d *Dispatcher) notifyRecorded(batch []outcome, disabled []string, now time.Time) {
	n := d.cfg.Notifier
	if n == nil {
		return
	}
	for _, o := range batch {
		if o.exhausted {
			n.DeliveryExhausted(o.claim, o.Attempt)
		}
	}
	for _, id := range disabled {
		// The batch's last attempt to the endpoint is the one that disabled it.
		for i := len(batch) - 1; i >= 0; i-- {
			if o := batch[i]; o.EndpointID == id && o.claim != nil {
				n.EndpointDisabled(o.claim, now)
				break
			}
		}
	}
}

// Wake has the dispatcher look for due work now, rather than at its next
// poll: for deliveries put in the store by others than Publish.
func (d *Dispatcher) Wake() { d.nudge() }
