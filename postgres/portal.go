package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

func (s *Store) CreatePortalSession(ctx context.Context, ps *outlet.PortalSession) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM portal_sessions WHERE expires_at <= $1`, ms(ps.CreatedAt.Add(-outlet.PortalSessionKept))); err != nil {
			return err
		}
		args := []any{ps.ID, nullString(ps.TenantID), ps.ReadOnly, jsonText(ps.Features), jsonText(ps.Theme), ps.TokenHash, ms(ps.ExpiresAt), ms(ps.CreatedAt)}
		if ps.TenantID == "" {
			if _, err := tx.Exec(ctx, `INSERT INTO portal_sessions (id, tenant_id, read_only, features, theme, token_hash, expires_at, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, args...); err != nil {
				return err
			}
			return audit(ctx, tx, outlet.AuditPortalSessionCreated(ps))
		}
		// Inserted only if the tenant is there, which a concurrent delete
		// of it waits for.
		tag, err := tx.Exec(ctx, `INSERT INTO portal_sessions (id, tenant_id, read_only, features, theme, token_hash, expires_at, created_at)
			SELECT $1, id, $3, $4, $5, $6, $7, $8 FROM tenants WHERE id = $2`, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("tenant", ps.TenantID)
		}
		return audit(ctx, tx, outlet.AuditPortalSessionCreated(ps))
	})
}

const portalSessionCols = `seq, id, tenant_id, read_only, features, theme, expires_at, created_at, exchanged_at, revoked_at`

func scanPortalSession(row pgx.Row) (*outlet.PortalSession, int64, error) {
	var ps outlet.PortalSession
	var seq, expires, created int64
	var tenantID *string
	var features, theme string
	var exchanged, revoked *int64
	if err := row.Scan(&seq, &ps.ID, &tenantID, &ps.ReadOnly, &features, &theme, &expires, &created, &exchanged, &revoked); err != nil {
		return nil, 0, err
	}
	if err := errors.Join(json.Unmarshal([]byte(features), &ps.Features), json.Unmarshal([]byte(theme), &ps.Theme)); err != nil {
		return nil, 0, err
	}
	ps.TenantID = deref(tenantID)
	ps.ExpiresAt, ps.CreatedAt, ps.ExchangedAt, ps.RevokedAt = fromMs(expires), fromMs(created), fromNullMs(exchanged), fromNullMs(revoked)
	return &ps, seq, nil
}

func (s *Store) ExchangePortalSession(ctx context.Context, tokenHash, secretHash []byte, now time.Time) (*outlet.PortalSession, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	// One statement: of two exchanges of one token at once, the second
	// waits for the first's row lock, then finds it exchanged.
	ps, _, err := scanPortalSession(s.pool.QueryRow(ctx, `UPDATE portal_sessions SET secret_hash = $1, exchanged_at = $2
		WHERE token_hash = $3 AND exchanged_at IS NULL AND revoked_at IS NULL AND expires_at > $2
		RETURNING `+portalSessionCols, secretHash, ms(now), tokenHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, outlet.Errorf(outlet.ENOTFOUND, "no portal session waits for this link: it was opened already, has expired or was revoked")
	}
	return ps, dbErr(err)
}

func (s *Store) PortalSessionBySecret(ctx context.Context, secretHash []byte) (*outlet.PortalSession, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	ps, _, err := scanPortalSession(s.pool.QueryRow(ctx, `SELECT `+portalSessionCols+` FROM portal_sessions WHERE secret_hash = $1`, secretHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, outlet.Errorf(outlet.ENOTFOUND, "no such portal session")
	}
	return ps, dbErr(err)
}

func (s *Store) ListPortalSessions(ctx context.Context, tenantID string, page outlet.Page) ([]*outlet.PortalSession, string, error) {
	page, err := page.Normalize()
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	if tenantID == "" {
		return listPage(ctx, s.pool, `SELECT `+portalSessionCols+` FROM portal_sessions`, []string{"tenant_id IS NULL"}, "seq", page, nil, scanPortalSession)
	}
	if _, err := tenant(ctx, s.pool, tenantID, ""); err != nil {
		return nil, "", err
	}
	var p params
	cond := "tenant_id = " + p.add(tenantID)
	return listPage(ctx, s.pool, `SELECT `+portalSessionCols+` FROM portal_sessions`, []string{cond}, "seq", page, p, scanPortalSession)
}

func (s *Store) RevokePortalSession(ctx context.Context, tenantID, id string, now time.Time) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// A second revocation keeps the first one's time.
		tag, err := tx.Exec(ctx, `UPDATE portal_sessions SET revoked_at = coalesce(revoked_at, $1)
			WHERE id = $2 AND tenant_id IS NOT DISTINCT FROM $3`, ms(now), id, nullString(tenantID))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("portal session", id)
		}
		return audit(ctx, tx, outlet.AuditPortalSessionRevoked(tenantID, id))
	})
}
