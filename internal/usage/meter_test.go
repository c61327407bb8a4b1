package usage

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/sqlite"
)

func TestTheMeterAddsUpRunsShorterThanAMillisecond(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "outlet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now().UTC()
	if err := store.CreateTenant(ctx, &outlet.Tenant{ID: "acme", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	m := New(store, slog.Default(), time.Hour, func() time.Time { return now }) // flushed by hand below
	for range 500 {
		m.Run("acme")
		m.ChargeCPU("acme", 41*time.Microsecond)
	}
	m.flush()
	m.Run("acme")
	m.ChargeCPU("acme", 600*time.Microsecond) // with the 500µs left over: one more millisecond
	m.Close()
	u, err := store.Usage(ctx, "acme", now, now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(u) != 1 || u[0].FunctionInvocations != 501 || u[0].FunctionCPUMs != 21 {
		t.Fatalf("usage %+v; want 501 runs and 21 ms (500 × 41µs + 600µs = 21.1 ms)", u)
	}
}
