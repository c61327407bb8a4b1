// Package groupcommit gathers work sent by many goroutines into batches for
// one flush function, so one commit serves everyone who arrived while the
// last commit ran.
package groupcommit

import (
	"sync"
	"sync/atomic"
	"time"
)

// Batcher hands items to its flush function in batches, one batch at a time.
// Made by New, it never waits to fill a batch: under light load every item
// is flushed alone, at once; under heavy load batches grow by themselves up
// to max. Made by NewLingering, it waits a little for company.
type Batcher[T any] struct {
	in     chan T
	max    int
	flush  func([]T)
	done   chan struct{}
	mu     sync.RWMutex
	closed bool

	linger    time.Duration
	urgent    func(T) bool
	kick      chan struct{} // ends a linger early
	lingering atomic.Bool   // a batch is being held open: Add may kick
}

// New starts a batcher.
func New[T any](max int, flush func([]T)) *Batcher[T] {
	b := &Batcher[T]{in: make(chan T, max), max: max, flush: flush, done: make(chan struct{})}
	go b.run()
	return b
}

// NewLingering starts a batcher that holds a batch open for up to linger
// after its first item, so that under light load many items share a flush
// rather than each paying for its own: for work nobody waits on. A batch
// is flushed before then when it is full, when an item for which urgent
// reports true joins it, or when the batcher stops.
func NewLingering[T any](max int, linger time.Duration, urgent func(T) bool, flush func([]T)) *Batcher[T] {
	b := &Batcher[T]{in: make(chan T, max), max: max, flush: flush, done: make(chan struct{}), linger: linger, urgent: urgent,
		kick: make(chan struct{}, 1)}
	go b.run()
	return b
}

func (b *Batcher[T]) run() {
	defer close(b.done)
	batch := make([]T, 0, b.max)
	var timer *time.Timer
	if b.linger > 0 {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
	}
	for first := range b.in {
		batch, _ = b.gather(append(batch[:0], first))
		if timer != nil {
			batch = b.hold(batch, timer)
		}
		b.flush(batch)
		clear(batch)
	}
}

// gather adds to batch the items queued now, up to max, without waiting. It
// reports false if the batcher has stopped.
func (b *Batcher[T]) gather(batch []T) ([]T, bool) {
	for len(batch) < b.max {
		select {
		case item, ok := <-b.in:
			if !ok {
				return batch, false
			}
			batch = append(batch, item)
		default:
			return batch, true
		}
	}
	return batch, true
}

// hold keeps batch open until the linger runs out or flushing can't wait:
// an urgent item joins, the batch fills, or the batcher stops. It doesn't
// take items as they come: while it holds, Add wakes it only for an urgent
// item, a queue half full, or the end.
func (b *Batcher[T]) hold(batch []T, timer *time.Timer) []T {
	// A kick sent while no batch was held is stale: its item was flushed
	// already, or is in the queue, which is read below.
	select {
	case <-b.kick:
	default:
	}
	b.lingering.Store(true)
	defer b.lingering.Store(false)
	// Items added before lingering was set kicked nobody.
	batch, open := b.gather(batch)
	if !open || len(batch) >= b.max || b.anyUrgent(batch) {
		return batch
	}
	timer.Reset(b.linger)
	select {
	case <-timer.C:
	case <-b.kick:
		timer.Stop()
	}
	batch, _ = b.gather(batch)
	return batch
}

func (b *Batcher[T]) anyUrgent(batch []T) bool {
	for _, item := range batch {
		if b.urgent(item) {
			return true
		}
	}
	return false
}

// Add hands item to the next batch; false if the batcher has stopped.
func (b *Batcher[T]) Add(item T) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return false
	}
	b.in <- item
	b.maybeKick(item)
	return true
}

// maybeKick ends a lingering batch early when item or a filling queue says
// it can't wait.
func (b *Batcher[T]) maybeKick(item T) {
	if b.kick != nil && b.lingering.Load() && (b.urgent(item) || len(b.in) >= b.max/2) {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

// TryAdd hands item to the next batch unless the batcher is full or has
// stopped, without waiting; it reports whether it did.
func (b *Batcher[T]) TryAdd(item T) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return false
	}
	select {
	case b.in <- item:
		b.maybeKick(item)
		return true
	default:
		return false
	}
}

// Stop flushes what was added and ends the batcher.
func (b *Batcher[T]) Stop() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.in)
		if b.kick != nil {
			select {
			case b.kick <- struct{}{}:
			default:
			}
		}
	}
	b.mu.Unlock()
	<-b.done
}
