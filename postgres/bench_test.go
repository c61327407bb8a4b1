package postgres

import (
	"testing"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/storetest"
)

// BenchmarkStore runs the store benchmarks every backend shares, each on a
// store in a fresh schema with the pool Open gives by default.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) outlet.Store {
		schema := "outlet_b_" + randomHex(8)
		exec(b, `CREATE SCHEMA `+schema)
		b.Cleanup(func() { exec(b, `DROP SCHEMA `+schema+` CASCADE`) })
		return openStore(b, withParams(testURL(b), map[string]string{"search_path": schema}))
	})
}
