package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

func (s *Store) CreateTenant(ctx context.Context, t *outlet.Tenant) error {
	if t.UID == "" {
		t.UID = outlet.NewUID()
	}
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tenants (id, uid, name, metadata, allowed_hosts, publish_rate_limit, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, t.ID, t.UID, t.Name, jsonText(t.Metadata), jsonText(orEmpty(t.AllowedHosts)),
			t.PublishRateLimit, ms(t.CreatedAt), ms(t.UpdatedAt))
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditTenantCreated(t))
	})
	if outlet.ErrorCode(err) == outlet.ECONFLICT {
		return outlet.Errorf(outlet.ECONFLICT, "tenant %q already exists", t.ID)
	}
	return err
}

const tenantCols = `seq, id, uid, name, metadata, allowed_hosts, publish_rate_limit, created_at, updated_at`

func scanTenant(row pgx.Row) (*outlet.Tenant, int64, error) {
	var t outlet.Tenant
	var seq, created, updated int64
	var meta, hosts string
	if err := row.Scan(&seq, &t.ID, &t.UID, &t.Name, &meta, &hosts, &t.PublishRateLimit, &created, &updated); err != nil {
		return nil, 0, err
	}
	if err := errors.Join(json.Unmarshal([]byte(meta), &t.Metadata), json.Unmarshal([]byte(hosts), &t.AllowedHosts)); err != nil {
		return nil, 0, err
	}
	t.CreatedAt, t.UpdatedAt = fromMs(created), fromMs(updated)
	return &t, seq, nil
}

func (s *Store) Tenant(ctx context.Context, id string) (*outlet.Tenant, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return tenant(ctx, s.pool, id, "")
}

// tenant reads a tenant; lock, if set, is a locking clause such as FOR
// UPDATE.
func tenant(ctx context.Context, q querier, id, lock string) (*outlet.Tenant, error) {
	t, _, err := scanTenant(q.QueryRow(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = $1 `+lock, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("tenant", id)
	}
	return t, dbErr(err)
}

func (s *Store) ListTenants(ctx context.Context, page outlet.Page) ([]*outlet.Tenant, string, error) {
	page, err := page.Normalize()
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	return listPage(ctx, s.pool, `SELECT `+tenantCols+` FROM tenants`, nil, "seq", page, nil, scanTenant)
}

func (s *Store) UpdateTenant(ctx context.Context, id string, u outlet.TenantUpdate, now time.Time) (*outlet.Tenant, error) {
	var t *outlet.Tenant
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if t, err = tenant(ctx, tx, id, "FOR NO KEY UPDATE"); err != nil {
			return err
		}
		t.Apply(u, now)
		if err := t.Validate(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE tenants SET name = $1, metadata = $2, allowed_hosts = $3, publish_rate_limit = $4, updated_at = $5
			WHERE id = $6`, t.Name, jsonText(t.Metadata), jsonText(orEmpty(t.AllowedHosts)), t.PublishRateLimit, ms(now), id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditTenantUpdated(id, u))
	})
	return t, err
}

func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error { return deleteTenant(ctx, tx, id) })
}

func deleteTenant(ctx context.Context, tx pgx.Tx, id string) error {
	// Deleting the tenant waits for the publishes and completions that hold
	// it and keeps any other from starting; what it owns by foreign key goes
	// with it.
	if err := deleteOne(ctx, tx, "tenant", id, `DELETE FROM tenants WHERE id = $1`, id); err != nil {
		return err
	}
	// Then its deliveries with their attempts, its events and their keys, in
	// statements of their own, which see what those publishes made.
	if err := deleteDeliveries(ctx, tx, `tenant_id = $1`, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM events WHERE tenant_id = $1`, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM event_keys WHERE tenant_id = $1`, id); err != nil {
		return err
	}
	return audit(ctx, tx, outlet.AuditTenantDeleted(id))
}

func (s *Store) CreateAPIKey(ctx context.Context, k *outlet.APIKey) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO api_keys (id, tenant_id, name, prefix, hash, created_at)
			SELECT $1, id, $3, $4, $5, $6 FROM tenants WHERE id = $2`, k.ID, k.TenantID, k.Name, k.Prefix, k.Hash, ms(k.CreatedAt))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("tenant", k.TenantID)
		}
		return audit(ctx, tx, outlet.AuditAPIKeyCreated(k))
	})
}

const apiKeyCols = `id, tenant_id, name, prefix, hash, created_at, last_used_at`

func scanAPIKey(row pgx.Row) (*outlet.APIKey, error) {
	var k outlet.APIKey
	var created int64
	var used *int64
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &k.Hash, &created, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt = fromMs(created), fromNullMs(used)
	return &k, nil
}

func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (*outlet.APIKey, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, outlet.Errorf(outlet.ENOTFOUND, "no such API key")
	}
	return k, dbErr(err)
}

func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]*outlet.APIKey, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if _, err := tenant(ctx, s.pool, tenantID, ""); err != nil {
		return nil, err
	}
	ks, err := collect(ctx, s.pool, `SELECT `+apiKeyCols+` FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC`,
		[]any{tenantID}, scanAPIKey)
	return ks, dbErr(err)
}

func (s *Store) DeleteAPIKey(ctx context.Context, tenantID, id string) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := deleteOne(ctx, tx, "API key", id, `DELETE FROM api_keys WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditAPIKeyDeleted(tenantID, id))
	})
}

func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, ms(at), id)
	return dbErr(err)
}
