// Package testwait is how Outlet's tests wait for something another
// goroutine, process or node makes happen.
package testwait

import (
	"testing"
	"time"
)

// Limit is how long Until waits before failing the test: a bound on a hang,
// not on speed, loose enough for a loaded CI machine running the race
// detector. A passing test never waits for it.
const Limit = 30 * time.Second

// Until polls cond until it holds, failing the test after Limit with what
// it waited for.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, Limit, what, cond)
}

// Within polls cond until it holds, failing the test after limit with what
// it waited for: for a wait whose bound depends on its work (a load of
// thousands of events), or on a timer of the code under test. It polls
// often at first and less as it goes on (every 50 ms at most), so a long
// wait leaves the machine to what it waits for.
func Within(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s in vain: %s", limit, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}
