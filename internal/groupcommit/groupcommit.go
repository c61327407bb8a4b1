// Package groupcommit gathers work sent by many goroutines into batches for
// one flush function, so one commit serves everyone who arrived while the
// last commit ran.
package groupcommit

import "sync"

// Batcher hands items to its flush function in batches, one batch at a time.
// It never waits to fill a batch: under light load every item is flushed
// alone, at once; under heavy load batches grow by themselves up to max.
type Batcher[T any] struct {
	in     chan T
	max    int
	flush  func([]T)
	done   chan struct{}
	mu     sync.RWMutex
	closed bool
}

// New starts a batcher.
func New[T any](max int, flush func([]T)) *Batcher[T] {
	b := &Batcher[T]{in: make(chan T, max), max: max, flush: flush, done: make(chan struct{})}
	go b.run()
	return b
}

func (b *Batcher[T]) run() {
	defer close(b.done)
	batch := make([]T, 0, b.max)
	for first := range b.in {
		batch = append(batch[:0], first)
	gather:
		for len(batch) < b.max {
			select {
			case item, ok := <-b.in:
				if !ok {
					break gather
				}
				batch = append(batch, item)
			default:
				break gather
			}
		}
		b.flush(batch)
		clear(batch)
	}
}

// Add hands item to the next batch; false if the batcher has stopped.
func (b *Batcher[T]) Add(item T) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return false
	}
	b.in <- item
	return true
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
	}
	b.mu.Unlock()
	<-b.done
}
