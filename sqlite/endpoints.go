package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/outlethq/outlet"
)

const endpointCols = `rowid, id, tenant_id, url, description, event_types, headers, metadata, disabled, disabled_reason, disabled_at,
	failing_since, secret, previous_secret, previous_secret_expires_at, max_in_flight, rate_limit, ordered, created_at, updated_at`

func scanEndpoint(row scanner) (*outlet.Endpoint, int64, error) {
	var ep outlet.Endpoint
	var seq, created, updated int64
	var types, headers, meta string
	var disabled, ordered int
	var disabledAt, failingSince, prevExpires sql.NullInt64
	err := row.Scan(&seq, &ep.ID, &ep.TenantID, &ep.URL, &ep.Description, &types, &headers, &meta, &disabled, &ep.DisabledReason,
		&disabledAt, &failingSince, &ep.Secret, &ep.PreviousSecret, &prevExpires, &ep.MaxInFlight, &ep.RateLimit, &ordered, &created, &updated)
	if err != nil {
		return nil, 0, err
	}
	if err := errors.Join(json.Unmarshal([]byte(types), &ep.EventTypes), json.Unmarshal([]byte(headers), &ep.Headers),
		json.Unmarshal([]byte(meta), &ep.Metadata)); err != nil {
		return nil, 0, err
	}
	ep.Disabled, ep.Ordered = disabled == 1, ordered == 1
	ep.DisabledAt, ep.FailingSince, ep.PreviousSecretExpiresAt = fromNullMs(disabledAt), fromNullMs(failingSince), fromNullMs(prevExpires)
	ep.CreatedAt, ep.UpdatedAt = fromMs(created), fromMs(updated)
	return &ep, seq, nil
}

func (s *Store) CreateEndpoint(ctx context.Context, ep *outlet.Endpoint) error {
	if err := checkText(ep.URL, ep.Description); err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tenant(ctx, tx, ep.TenantID); err != nil {
			return err
		}
		s.fanout.drop(ep.TenantID)
		_, err := tx.ExecContext(ctx, `INSERT INTO endpoints (id, tenant_id, url, description, event_types, headers, metadata, disabled, disabled_reason,
			disabled_at, secret, max_in_flight, rate_limit, ordered, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ep.ID, ep.TenantID, ep.URL, ep.Description, jsonText(ep.EventTypes), jsonText(ep.Headers), jsonText(ep.Metadata),
			bool01(ep.Disabled), ep.DisabledReason, msPtr(ep.DisabledAt), ep.Secret, ep.MaxInFlight, ep.RateLimit, bool01(ep.Ordered),
			ms(ep.CreatedAt), ms(ep.UpdatedAt))
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditEndpointCreated(ep))
	})
}

func (s *Store) Endpoint(ctx context.Context, tenantID, id string) (*outlet.Endpoint, error) {
	return endpoint(ctx, s.r, tenantID, id)
}

func endpoint(ctx context.Context, q querier, tenantID, id string) (*outlet.Endpoint, error) {
	ep, _, err := scanEndpoint(q.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("endpoint", id)
	}
	return ep, dbErr(err)
}

func (s *Store) ListEndpoints(ctx context.Context, tenantID string, page outlet.Page) ([]*outlet.Endpoint, string, error) {
	page, err := page.Normalize()
	if err != nil {
		return nil, "", err
	}
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return nil, "", err
	}
	return listPage(ctx, s.r, `SELECT `+endpointCols+` FROM endpoints`, []string{"tenant_id = ?"}, "rowid", page, []any{tenantID}, scanEndpoint)
}

func (s *Store) UpdateEndpoint(ctx context.Context, tenantID, id string, u outlet.EndpointUpdate, now time.Time) (*outlet.Endpoint, error) {
	var ep *outlet.Endpoint
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if ep, err = endpoint(ctx, tx, tenantID, id); err != nil {
			return err
		}
		ep.Apply(u, now)
		if err := ep.Validate(); err != nil {
			return err
		}
		if err := checkText(ep.URL, ep.Description); err != nil {
			return err
		}
		s.fanout.drop(tenantID)
		_, err = tx.ExecContext(ctx, `UPDATE endpoints SET url = ?, description = ?, event_types = ?, headers = ?, metadata = ?,
			disabled = ?, disabled_reason = ?, disabled_at = ?, failing_since = ?, max_in_flight = ?, rate_limit = ?, ordered = ?,
			updated_at = ? WHERE id = ?`,
			ep.URL, ep.Description, jsonText(ep.EventTypes), jsonText(ep.Headers), jsonText(ep.Metadata),
			bool01(ep.Disabled), ep.DisabledReason, msPtr(ep.DisabledAt), msPtr(ep.FailingSince), ep.MaxInFlight, ep.RateLimit,
			bool01(ep.Ordered), ms(ep.UpdatedAt), id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditEndpointUpdated(tenantID, id, u))
	})
	return ep, err
}

func (s *Store) DeleteEndpoint(ctx context.Context, tenantID, id string) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		s.fanout.drop(tenantID)
		if err := deleteOne(ctx, tx, "endpoint", id, `DELETE FROM endpoints WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
			return err
		}
		// Its deliveries go with it; their attempts follow by cascade.
		if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE target_id = ? AND target_type = ?`, id, outlet.TargetEndpoint); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditEndpointDeleted(tenantID, id))
	})
}

func (s *Store) RotateEndpointSecret(ctx context.Context, tenantID, id, secret string, overlapUntil, now time.Time) (*outlet.Endpoint, error) {
	var ep *outlet.Endpoint
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if ep, err = endpoint(ctx, tx, tenantID, id); err != nil {
			return err
		}
		ep.Rotate(secret, overlapUntil, now)
		s.fanout.drop(tenantID)
		_, err = tx.ExecContext(ctx, `UPDATE endpoints SET secret = ?, previous_secret = ?, previous_secret_expires_at = ?, updated_at = ? WHERE id = ?`,
			ep.Secret, ep.PreviousSecret, msPtr(ep.PreviousSecretExpiresAt), ms(now), id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditEndpointSecretRotated(ep))
	})
	return ep, err
}

func (s *Store) MarkEndpointCircuit(ctx context.Context, tenantID, id string, open bool, now time.Time) (bool, error) {
	query := `UPDATE endpoints SET circuit_opened_at = ? WHERE tenant_id = ? AND id = ? AND circuit_opened_at IS NULL`
	var opened any = ms(now)
	if !open {
		query = `UPDATE endpoints SET circuit_opened_at = ? WHERE tenant_id = ? AND id = ? AND circuit_opened_at IS NOT NULL`
		opened = nil
	}
	var changed bool
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, opened, tenantID, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		changed = n > 0
		return err
	})
	return changed, err
}
