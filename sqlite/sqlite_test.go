package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/sqlite"
	"github.com/outlethq/outlet/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) outlet.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "outlet.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		})
		return s
	})
}
