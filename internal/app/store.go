package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/postgres"
	"github.com/outlethq/outlet/sqlite"
)

// openStore opens, and brings up to date, the store database names: the
// embedded SQLite database under data when it is empty, or the Postgres
// database at its URL.
func openStore(ctx context.Context, data, database string) (outlet.Store, error) {
	if database == "" {
		s, err := sqlite.Open(ctx, sqlitePath(data))
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return s, nil
	}
	// The data directory keeps the admin key, the secret key and compiled
	// Wasm whichever store holds the rest.
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	s, err := postgres.Open(ctx, database)
	if err != nil {
		return nil, fmt.Errorf("open the Postgres database: %w", err)
	}
	return s, nil
}

// Migrate brings the schema of the store cfg names up to date and returns
// its version.
func Migrate(ctx context.Context, cfg Config) (int64, error) {
	if cfg.Database == "" {
		return sqlite.Migrate(ctx, sqlitePath(cfg.Data))
	}
	v, err := postgres.Migrate(ctx, cfg.Database)
	if err != nil {
		return 0, fmt.Errorf("migrate the Postgres database: %w", err)
	}
	return v, nil
}

func sqlitePath(data string) string { return filepath.Join(data, "outlet.db") }
