package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

func (s *Store) PutSecret(ctx context.Context, tenantID, name string, sealed []byte, now time.Time) (bool, error) {
	var created bool
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// The tenant's lock makes puts of one tenant take turns, so that
		// exactly one of two racing first puts reports the secret new.
		if _, ok, err := lockTenant(ctx, tx, tenantID); err != nil || !ok {
			if err == nil {
				err = notFound("tenant", tenantID)
			}
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM secrets WHERE tenant_id = $1 AND name = $2)`, tenantID, name).Scan(&created); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO secrets (tenant_id, name, sealed, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (tenant_id, name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
			tenantID, name, bytesOrEmpty(sealed), ms(now))
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditSecretSet(tenantID, name, created))
	})
	return created, err
}

func (s *Store) DeleteSecret(ctx context.Context, tenantID, name string) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := deleteOne(ctx, tx, "secret", name, `DELETE FROM secrets WHERE tenant_id = $1 AND name = $2`, tenantID, name); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditSecretDeleted(tenantID, name))
	})
}

func (s *Store) ListSecrets(ctx context.Context, tenantID string) ([]*outlet.Secret, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if _, err := tenant(ctx, s.pool, tenantID, ""); err != nil {
		return nil, err
	}
	ss, err := collect(ctx, s.pool, `SELECT name, created_at, updated_at FROM secrets WHERE tenant_id = $1 ORDER BY name`, []any{tenantID},
		func(r pgx.Row) (*outlet.Secret, error) {
			var sec outlet.Secret
			var created, updated int64
			err := r.Scan(&sec.Name, &created, &updated)
			sec.CreatedAt, sec.UpdatedAt = fromMs(created), fromMs(updated)
			return &sec, err
		})
	return ss, dbErr(err)
}

func (s *Store) SealedSecrets(ctx context.Context, tenantID string) (map[string][]byte, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	out := map[string][]byte{}
	_, err := collect(ctx, s.pool, `SELECT name, sealed FROM secrets WHERE tenant_id = $1`, []any{tenantID}, func(r pgx.Row) (struct{}, error) {
		var name string
		var sealed []byte
		err := r.Scan(&name, &sealed)
		out[name] = sealed
		return struct{}{}, err
	})
	return out, dbErr(err)
}
