package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/sqlite"
	"github.com/outlethq/outlet/storetest"
)

// BenchmarkStore runs the store benchmarks every backend shares.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) outlet.Store {
		s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
