package groupcommit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestItemsArrivingDuringAFlushShareTheNextBatch(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var mu sync.Mutex
	var batches [][]int
	b := New(100, func(batch []int) {
		mu.Lock()
		batches = append(batches, append([]int(nil), batch...))
		first := len(batches) == 1
		mu.Unlock()
		if first {
			<-release // hold the first flush while others queue
		}
	})
	b.Add(0)
	waitUntil(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(batches) == 1 })
	for i := 1; i <= 10; i++ {
		b.Add(i)
	}
	close(release)
	b.Stop()
	if len(batches) != 2 || len(batches[0]) != 1 || len(batches[1]) != 10 {
		t.Errorf("batches %v; want [0] then the ten that queued behind it together", batches)
	}
}

func TestBatchesNeverExceedTheirMaximum(t *testing.T) {
	t.Parallel()
	var largest, total atomic.Int64
	b := New(8, func(batch []int) {
		if n := int64(len(batch)); n > largest.Load() {
			largest.Store(n)
		}
		total.Add(int64(len(batch)))
		time.Sleep(time.Millisecond)
	})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for i := range 50 {
				b.Add(i)
			}
		})
	}
	wg.Wait()
	b.Stop()
	if total.Load() != 1000 || largest.Load() > 8 {
		t.Errorf("flushed %d items in batches up to %d; want all 1000 in batches of at most 8", total.Load(), largest.Load())
	}
}

func TestStopFlushesEverythingAddedAndRefusesMore(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	b := New(4, func(batch []int) { n.Add(int64(len(batch))) })
	for i := range 100 {
		if !b.Add(i) {
			t.Fatal("Add refused before Stop")
		}
	}
	b.Stop()
	if n.Load() != 100 {
		t.Errorf("flushed %d of 100 items by Stop", n.Load())
	}
	if b.Add(1) {
		t.Error("Add accepted an item after Stop")
	}
	b.Stop() // a second Stop is harmless
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
