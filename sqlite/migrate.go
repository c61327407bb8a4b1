package sqlite

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Migrate brings the database file at path up to date, as Open does, and
// returns its schema version.
func Migrate(ctx context.Context, path string) (version int64, err error) {
	s, err := Open(ctx, path)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	p, err := s.migrations()
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

// migrations reads the embedded migrations for the writer's connection.
func (s *Store) migrations() (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.w, fsys)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}
