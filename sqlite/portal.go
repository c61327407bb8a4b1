package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/outlethq/outlet"
)

func (s *Store) CreatePortalSession(ctx context.Context, ps *outlet.PortalSession) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if ps.TenantID != "" {
			if _, err := tenant(ctx, tx, ps.TenantID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM portal_sessions WHERE expires_at <= ?`,
			ms(ps.CreatedAt.Add(-outlet.PortalSessionKept))); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO portal_sessions (id, tenant_id, read_only, features, theme, token_hash, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ps.ID, nullString(ps.TenantID), bool01(ps.ReadOnly), jsonText(ps.Features), jsonText(ps.Theme),
			ps.TokenHash, ms(ps.ExpiresAt), ms(ps.CreatedAt))
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditPortalSessionCreated(ps))
	})
}

const portalSessionCols = `rowid, id, tenant_id, read_only, features, theme, expires_at, created_at, exchanged_at, revoked_at`

func scanPortalSession(row scanner) (*outlet.PortalSession, int64, error) {
	var ps outlet.PortalSession
	var seq, expires, created int64
	var readOnly int
	var tenantID sql.NullString
	var features, theme string
	var exchanged, revoked sql.NullInt64
	if err := row.Scan(&seq, &ps.ID, &tenantID, &readOnly, &features, &theme, &expires, &created, &exchanged, &revoked); err != nil {
		return nil, 0, err
	}
	if err := errors.Join(json.Unmarshal([]byte(features), &ps.Features), json.Unmarshal([]byte(theme), &ps.Theme)); err != nil {
		return nil, 0, err
	}
	ps.TenantID, ps.ReadOnly = tenantID.String, readOnly != 0
	ps.ExpiresAt, ps.CreatedAt, ps.ExchangedAt, ps.RevokedAt = fromMs(expires), fromMs(created), fromNullMs(exchanged), fromNullMs(revoked)
	return &ps, seq, nil
}

func (s *Store) ExchangePortalSession(ctx context.Context, tokenHash, secretHash []byte, now time.Time) (*outlet.PortalSession, error) {
	var ps *outlet.PortalSession
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE portal_sessions SET secret_hash = ?, exchanged_at = ?
			WHERE token_hash = ? AND exchanged_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, secretHash, ms(now), tokenHash, ms(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return noPortalSessionForToken()
		}
		ps, _, err = scanPortalSession(tx.QueryRowContext(ctx, `SELECT `+portalSessionCols+` FROM portal_sessions WHERE token_hash = ?`, tokenHash))
		return err
	})
	return ps, err
}

func noPortalSessionForToken() error {
	return outlet.Errorf(outlet.ENOTFOUND, "no portal session waits for this link: it was opened already, has expired or was revoked")
}

func (s *Store) PortalSessionBySecret(ctx context.Context, secretHash []byte) (*outlet.PortalSession, error) {
	ps, _, err := scanPortalSession(s.r.QueryRowContext(ctx, `SELECT `+portalSessionCols+` FROM portal_sessions WHERE secret_hash = ?`, secretHash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outlet.Errorf(outlet.ENOTFOUND, "no such portal session")
	}
	return ps, dbErr(err)
}

func (s *Store) ListPortalSessions(ctx context.Context, tenantID string, page outlet.Page) ([]*outlet.PortalSession, string, error) {
	page, err := page.Normalize()
	if err != nil {
		return nil, "", err
	}
	if tenantID == "" {
		return listPage(ctx, s.r, `SELECT `+portalSessionCols+` FROM portal_sessions`, []string{"tenant_id IS NULL"}, "rowid", page, nil, scanPortalSession)
	}
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return nil, "", err
	}
	return listPage(ctx, s.r, `SELECT `+portalSessionCols+` FROM portal_sessions`, []string{"tenant_id = ?"}, "rowid", page, []any{tenantID}, scanPortalSession)
}

func (s *Store) RevokePortalSession(ctx context.Context, tenantID, id string, now time.Time) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// A second revocation keeps the first one's time.
		res, err := tx.ExecContext(ctx, `UPDATE portal_sessions SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND tenant_id IS ?`,
			ms(now), id, nullString(tenantID))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("portal session", id)
		}
		return audit(ctx, tx, outlet.AuditPortalSessionRevoked(tenantID, id))
	})
}

// nullString stores "" as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
