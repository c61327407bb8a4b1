package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/outlethq/outlet"
)

func (s *Store) PutSecret(ctx context.Context, tenantID, name string, sealed []byte, now time.Time) (bool, error) {
	var created bool
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tenant(ctx, tx, tenantID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM secrets WHERE tenant_id = ? AND name = ?`, tenantID, name).Scan(&n); err != nil {
			return err
		}
		created = n == 0
		_, err := tx.ExecContext(ctx, `INSERT INTO secrets (tenant_id, name, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
			tenantID, name, sealed, ms(now), ms(now))
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditSecretSet(tenantID, name, created))
	})
	return created, err
}

func (s *Store) DeleteSecret(ctx context.Context, tenantID, name string) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := deleteOne(ctx, tx, "secret", name, `DELETE FROM secrets WHERE tenant_id = ? AND name = ?`, tenantID, name); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditSecretDeleted(tenantID, name))
	})
}

func (s *Store) ListSecrets(ctx context.Context, tenantID string) ([]*outlet.Secret, error) {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return nil, err
	}
	ss, err := collect(ctx, s.r, `SELECT name, created_at, updated_at FROM secrets WHERE tenant_id = ? ORDER BY name`, []any{tenantID},
		func(r scanner) (*outlet.Secret, error) {
			var sec outlet.Secret
			var created, updated int64
			err := r.Scan(&sec.Name, &created, &updated)
			sec.CreatedAt, sec.UpdatedAt = fromMs(created), fromMs(updated)
			return &sec, err
		})
	return ss, dbErr(err)
}

func (s *Store) SealedSecrets(ctx context.Context, tenantID string) (map[string][]byte, error) {
	out := map[string][]byte{}
	_, err := collect(ctx, s.r, `SELECT name, sealed FROM secrets WHERE tenant_id = ?`, []any{tenantID}, func(r scanner) (struct{}, error) {
		var name string
		var sealed []byte
		err := r.Scan(&name, &sealed)
		out[name] = sealed
		return struct{}{}, err
	})
	return out, dbErr(err)
}
