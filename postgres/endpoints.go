package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

const endpointCols = `seq, id, tenant_id, url, description, event_types, headers, metadata, disabled, disabled_reason, disabled_at,
	failing_since, secret, previous_secret, previous_secret_expires_at, max_in_flight, rate_limit, ordered, created_at, updated_at`

func scanEndpoint(row pgx.Row) (*outlet.Endpoint, int64, error) {
	var ep outlet.Endpoint
	var seq, created, updated int64
	var types, headers, meta string
	var disabledAt, failingSince, prevExpires *int64
	err := row.Scan(&seq, &ep.ID, &ep.TenantID, &ep.URL, &ep.Description, &types, &headers, &meta, &ep.Disabled, &ep.DisabledReason,
		&disabledAt, &failingSince, &ep.Secret, &ep.PreviousSecret, &prevExpires, &ep.MaxInFlight, &ep.RateLimit, &ep.Ordered,
		&created, &updated)
	if err != nil {
		return nil, 0, err
	}
	if err := errors.Join(json.Unmarshal([]byte(types), &ep.EventTypes), json.Unmarshal([]byte(headers), &ep.Headers),
		json.Unmarshal([]byte(meta), &ep.Metadata)); err != nil {
		return nil, 0, err
	}
	ep.DisabledAt, ep.FailingSince, ep.PreviousSecretExpiresAt = fromNullMs(disabledAt), fromNullMs(failingSince), fromNullMs(prevExpires)
	ep.CreatedAt, ep.UpdatedAt = fromMs(created), fromMs(updated)
	return &ep, seq, nil
}

func (s *Store) CreateEndpoint(ctx context.Context, ep *outlet.Endpoint) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO endpoints (id, tenant_id, url, description, event_types, headers, metadata, disabled,
			disabled_reason, disabled_at, secret, max_in_flight, rate_limit, ordered, created_at, updated_at)
			SELECT $1, id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 FROM tenants WHERE id = $2`,
			ep.ID, ep.TenantID, ep.URL, ep.Description, jsonText(ep.EventTypes), jsonText(ep.Headers), jsonText(ep.Metadata),
			ep.Disabled, ep.DisabledReason, msPtr(ep.DisabledAt), ep.Secret, ep.MaxInFlight, ep.RateLimit, ep.Ordered,
			ms(ep.CreatedAt), ms(ep.UpdatedAt))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("tenant", ep.TenantID)
		}
		return audit(ctx, tx, outlet.AuditEndpointCreated(ep))
	})
}

func (s *Store) Endpoint(ctx context.Context, tenantID, id string) (*outlet.Endpoint, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return endpoint(ctx, s.pool, tenantID, id, "")
}

// endpoint reads an endpoint; lock, if set, is a locking clause.
func endpoint(ctx context.Context, q querier, tenantID, id, lock string) (*outlet.Endpoint, error) {
	ep, _, err := scanEndpoint(q.QueryRow(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = $1 AND id = $2 `+lock, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("endpoint", id)
	}
	return ep, dbErr(err)
}

func (s *Store) ListEndpoints(ctx context.Context, tenantID string, page outlet.Page) ([]*outlet.Endpoint, string, error) {
	page, err := page.Normalize()
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	if _, err := tenant(ctx, s.pool, tenantID, ""); err != nil {
		return nil, "", err
	}
	var p params
	return listPage(ctx, s.pool, `SELECT `+endpointCols+` FROM endpoints`, []string{"tenant_id = " + p.add(tenantID)}, "seq", page, p, scanEndpoint)
}

func (s *Store) UpdateEndpoint(ctx context.Context, tenantID, id string, u outlet.EndpointUpdate, now time.Time) (*outlet.Endpoint, error) {
	var ep *outlet.Endpoint
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if ep, err = endpoint(ctx, tx, tenantID, id, "FOR NO KEY UPDATE"); err != nil {
			return err
		}
		ep.Apply(u, now)
		if err := ep.Validate(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE endpoints SET url = $1, description = $2, event_types = $3, headers = $4, metadata = $5,
			disabled = $6, disabled_reason = $7, disabled_at = $8, failing_since = $9, max_in_flight = $10, rate_limit = $11, ordered = $12,
			updated_at = $13 WHERE id = $14`,
			ep.URL, ep.Description, jsonText(ep.EventTypes), jsonText(ep.Headers), jsonText(ep.Metadata),
			ep.Disabled, ep.DisabledReason, msPtr(ep.DisabledAt), msPtr(ep.FailingSince), ep.MaxInFlight, ep.RateLimit, ep.Ordered,
			ms(ep.UpdatedAt), id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditEndpointUpdated(tenantID, id, u))
	})
	return ep, err
}

func (s *Store) DeleteEndpoint(ctx context.Context, tenantID, id string) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error { return deleteEndpoint(ctx, tx, tenantID, id) })
}

func deleteEndpoint(ctx context.Context, tx pgx.Tx, tenantID, id string) error {
	// The endpoint, then its deliveries: the order in which publishes and
	// completions lock them too (see completeAttempts), so that none of them
	// holds a delivery while waiting for the endpoint.
	if err := deleteOne(ctx, tx, "endpoint", id, `DELETE FROM endpoints WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
		return err
	}
	// Its deliveries go with it, and their attempts. This is a statement of
	// its own, not a part of the one above, so that it sees the deliveries
	// of a publish that committed while the DELETE above waited for it.
	if err := deleteDeliveries(ctx, tx, `target_id = $1 AND target_type = $2`, id, outlet.TargetEndpoint); err != nil {
		return err
	}
	return audit(ctx, tx, outlet.AuditEndpointDeleted(tenantID, id))
}

func (s *Store) RotateEndpointSecret(ctx context.Context, tenantID, id, secret string, overlapUntil, now time.Time) (*outlet.Endpoint, error) {
	var ep *outlet.Endpoint
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if ep, err = endpoint(ctx, tx, tenantID, id, "FOR NO KEY UPDATE"); err != nil {
			return err
		}
		ep.Rotate(secret, overlapUntil, now)
		_, err = tx.Exec(ctx, `UPDATE endpoints SET secret = $1, previous_secret = $2, previous_secret_expires_at = $3, updated_at = $4
			WHERE id = $5`, ep.Secret, ep.PreviousSecret, msPtr(ep.PreviousSecretExpiresAt), ms(now), id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditEndpointSecretRotated(ep))
	})
	return ep, err
}

func (s *Store) MarkEndpointCircuit(ctx context.Context, tenantID, id string, open bool, now time.Time) (bool, error) {
	query := `UPDATE endpoints SET circuit_opened_at = $1 WHERE tenant_id = $2 AND id = $3 AND circuit_opened_at IS NULL`
	var opened any = ms(now)
	if !open {
		query = `UPDATE endpoints SET circuit_opened_at = $1 WHERE tenant_id = $2 AND id = $3 AND circuit_opened_at IS NOT NULL`
		opened = nil
	}
	var changed bool
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, opened, tenantID, id)
		changed = tag.RowsAffected() > 0
		return err
	})
	return changed, err
}
