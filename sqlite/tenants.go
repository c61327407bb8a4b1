package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/outlethq/outlet"
)

func (s *Store) CreateTenant(ctx context.Context, t *outlet.Tenant) error {
	if err := checkText(t.Name); err != nil {
		return err
	}
	if t.UID == "" {
		t.UID = outlet.NewUID()
	}
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, uid, name, metadata, allowed_hosts, publish_rate_limit, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.UID, t.Name, jsonText(t.Metadata), jsonText(orEmpty(t.AllowedHosts)), t.PublishRateLimit,
			ms(t.CreatedAt), ms(t.UpdatedAt))
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

const tenantCols = `rowid, id, uid, name, metadata, allowed_hosts, publish_rate_limit, created_at, updated_at`

func scanTenant(row scanner) (*outlet.Tenant, int64, error) {
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
	return tenant(ctx, s.r, id)
}

func tenant(ctx context.Context, q querier, id string) (*outlet.Tenant, error) {
	t, _, err := scanTenant(q.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("tenant", id)
	}
	return t, dbErr(err)
}

func (s *Store) ListTenants(ctx context.Context, page outlet.Page) ([]*outlet.Tenant, string, error) {
	page, err := page.Normalize()
	if err != nil {
		return nil, "", err
	}
	return listPage(ctx, s.r, `SELECT `+tenantCols+` FROM tenants`, nil, "rowid", page, nil, scanTenant)
}

func (s *Store) UpdateTenant(ctx context.Context, id string, u outlet.TenantUpdate, now time.Time) (*outlet.Tenant, error) {
	var t *outlet.Tenant
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if t, err = tenant(ctx, tx, id); err != nil {
			return err
		}
		t.Apply(u, now)
		if err := t.Validate(); err != nil {
			return err
		}
		if err := checkText(t.Name); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE tenants SET name = ?, metadata = ?, allowed_hosts = ?, publish_rate_limit = ?, updated_at = ? WHERE id = ?`,
			t.Name, jsonText(t.Metadata), jsonText(orEmpty(t.AllowedHosts)), t.PublishRateLimit, ms(now), id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditTenantUpdated(id, u))
	})
	return t, err
}

func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		s.fanout.drop(id)
		if err := deleteOne(ctx, tx, "tenant", id, `DELETE FROM tenants WHERE id = ?`, id); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditTenantDeleted(id))
	})
}

func (s *Store) CreateAPIKey(ctx context.Context, k *outlet.APIKey) error {
	if err := checkText(k.Name); err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tenant(ctx, tx, k.TenantID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, name, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			k.ID, k.TenantID, k.Name, k.Prefix, k.Hash, ms(k.CreatedAt))
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditAPIKeyCreated(k))
	})
}

const apiKeyCols = `id, tenant_id, name, prefix, hash, created_at, last_used_at`

func scanAPIKey(row scanner) (*outlet.APIKey, error) {
	var k outlet.APIKey
	var created int64
	var used sql.NullInt64
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &k.Hash, &created, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt = fromMs(created), fromNullMs(used)
	return &k, nil
}

func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (*outlet.APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outlet.Errorf(outlet.ENOTFOUND, "no such API key")
	}
	return k, dbErr(err)
}

func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]*outlet.APIKey, error) {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return nil, err
	}
	ks, err := collect(ctx, s.r, `SELECT `+apiKeyCols+` FROM api_keys WHERE tenant_id = ? ORDER BY created_at DESC, id DESC`,
		[]any{tenantID}, scanAPIKey)
	return ks, dbErr(err)
}

func (s *Store) DeleteAPIKey(ctx context.Context, tenantID, id string) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := deleteOne(ctx, tx, "API key", id, `DELETE FROM api_keys WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditAPIKeyDeleted(tenantID, id))
	})
}

func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, ms(at), id)
		return err
	})
}
