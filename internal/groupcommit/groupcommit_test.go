package groupcommit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outlethq/outlet/internal/testwait"
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
	testwait.Within(t, 5*time.Second, "the first item to be flushed on its own", func() bool { mu.Lock(); defer mu.Unlock(); return len(batches) == 1 })
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

func TestALingeringBatcherGathersItemsThatTrickleIn(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var batches [][]int
	b := NewLingering(100, time.Hour, func(int) bool { return false }, func(batch []int) {
		mu.Lock()
		batches = append(batches, append([]int(nil), batch...))
		mu.Unlock()
	})
	for i := range 5 {
		b.Add(i)
		time.Sleep(2 * time.Millisecond) // each alone, were it not for the linger
	}
	b.Stop() // flushes the open batch rather than waiting out the hour
	if len(batches) != 1 || len(batches[0]) != 5 {
		t.Errorf("batches %v; want the five items in one", batches)
	}
}

func TestALingeringBatcherFlushesAtOnceForAnUrgentItemOrAFullBatch(t *testing.T) {
	t.Parallel()
	flushed := make(chan []int, 10)
	b := NewLingering(3, time.Hour, func(i int) bool { return i < 0 }, func(batch []int) {
		flushed <- append([]int(nil), batch...)
	})
	defer b.Stop()
	b.Add(1)
	b.Add(-1)
	if got := <-flushed; len(got) != 2 || got[1] != -1 {
		t.Errorf("flushed %v; want [1 -1], at once for the urgent -1", got)
	}
	b.Add(2)
	b.Add(3)
	b.Add(4)
	if got := <-flushed; len(got) != 3 {
		t.Errorf("flushed %v; want [2 3 4], at once when the batch is full", got)
	}
}

func TestALingeringBatcherFlushesWhenItsLingerRunsOut(t *testing.T) {
	t.Parallel()
	flushed := make(chan []int, 10)
	b := NewLingering(100, 20*time.Millisecond, func(int) bool { return false }, func(batch []int) {
		flushed <- append([]int(nil), batch...)
	})
	defer b.Stop()
	b.Add(7)
	select {
	case got := <-flushed:
		if len(got) != 1 || got[0] != 7 {
			t.Errorf("flushed %v; want [7]", got)
		}
	case <-time.After(time.Minute):
		t.Fatal("a lone item was never flushed")
	}
}

func TestALingeringItemWaitsForTheNextUrgentOneEvenAfterAnUrgentOneWasFlushed(t *testing.T) {
	t.Parallel()
	flushed := make(chan []int, 10)
	b := NewLingering(100, time.Hour, func(i int) bool { return i < 0 }, func(batch []int) {
		flushed <- append([]int(nil), batch...)
	})
	defer b.Stop()
	b.Add(-1) // urgent: flushed at once, and kicks nobody afterwards
	if got := <-flushed; len(got) != 1 || got[0] != -1 {
		t.Fatalf("first batch %v; want [-1]", got)
	}
	b.Add(1)
	select {
	case got := <-flushed:
		t.Fatalf("the item that can wait was flushed alone (%v): a kick left over from the urgent one ended its linger", got)
	case <-time.After(50 * time.Millisecond):
	}
	b.Add(-2)
	if got := <-flushed; len(got) != 2 || got[0] != 1 || got[1] != -2 {
		t.Errorf("second batch %v; want [1 -2]: the waiting item shares the urgent one's flush", got)
	}
}
