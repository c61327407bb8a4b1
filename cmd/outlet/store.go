package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/postgres"
	"github.com/outlethq/outlet/sqlite"
)

// openStore opens the store --database names: the embedded SQLite database
// under --data when it is empty, or the Postgres database at its URL.
func openStore(ctx context.Context, cfg *serveConfig) (outlet.Store, error) {
	if cfg.Database == "" {
		s, err := sqlite.Open(ctx, sqlitePath(cfg))
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return s, nil
	}
	// The data directory keeps the admin key, the secret key and compiled
	// Wasm whichever store holds the rest.
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	s, err := postgres.Open(ctx, string(cfg.Database))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.Database.String(), err)
	}
	return s, nil
}

// migrateStore brings the schema of the store --database names up to date
// and returns its version.
func migrateStore(ctx context.Context, cfg *serveConfig) (int64, error) {
	if cfg.Database == "" {
		return sqlite.Migrate(ctx, sqlitePath(cfg))
	}
	v, err := postgres.Migrate(ctx, string(cfg.Database))
	if err != nil {
		return 0, fmt.Errorf("migrate database %s: %w", cfg.Database.String(), err)
	}
	return v, nil
}

func sqlitePath(cfg *serveConfig) string { return filepath.Join(cfg.Data, "outlet.db") }
