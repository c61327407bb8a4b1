package testwait

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	polls := 0
	Until(t, "the fifth poll", func() bool {
		polls++
		return polls == 5
	})
	if polls != 5 {
		t.Errorf("polled %d times; want to stop at the fifth, when the condition held", polls)
	}
}

// fatalTB records a Fatalf and ends the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestUntilFailsTheTestSayingWhatItWaitedFor(t *testing.T) {
	t.Parallel()
	f := &fatalTB{}
	polls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Within(f, 100*time.Millisecond, "the receiver to get requests", func() bool {
			polls++
			return false
		})
	}()
	<-done
	if want := "waited 100ms in vain: the receiver to get requests"; f.msg != want {
		t.Errorf("failed with %q; want %q", f.msg, want)
	}
	// Pauses of 1, 2, 4, … 64 ms, then the deadline: a handful of polls, not
	// the hundred a fixed 1 ms pause makes (fewer on a slow machine, whose
	// sleeps overrun, but never fewer than the first and the one after a
	// pause).
	if polls < 2 || polls > 12 {
		t.Errorf("polled %d times in 100 ms; want the pause to double from 1 ms", polls)
	}
}
