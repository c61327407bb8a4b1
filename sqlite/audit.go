package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/outlethq/outlet"
)

// audit records a change in the audit log, in the transaction that makes
// it, when ctx says who made it (outlet.WithActor). Every write that is a
// change calls it last, so the entry commits, or rolls back, with the
// change.
func audit(ctx context.Context, tx *sql.Tx, change outlet.AuditEntry) error {
	e, ok := change.By(ctx)
	if !ok {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (id, tenant_id, tenant_uid, actor_type, actor_id, action, resource_type, resource_id,
		summary, address, created_at) VALUES (?, ?, (SELECT uid FROM tenants WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.TenantID, e.TenantID, e.ActorType, e.ActorID, e.Action, e.ResourceType, e.ResourceID, string(e.Summary), e.Address, ms(e.CreatedAt))
	return err
}

const auditCols = `seq, id, tenant_id, actor_type, actor_id, action, resource_type, resource_id, summary, address, created_at`

func scanAuditEntry(row scanner) (*outlet.AuditEntry, int64, error) {
	var e outlet.AuditEntry
	var seq, created int64
	var summary string
	if err := row.Scan(&seq, &e.ID, &e.TenantID, &e.ActorType, &e.ActorID, &e.Action, &e.ResourceType, &e.ResourceID,
		&summary, &e.Address, &created); err != nil {
		return nil, 0, err
	}
	e.Summary, e.CreatedAt = []byte(summary), fromMs(created)
	return &e, seq, nil
}

func (s *Store) ListAuditLog(ctx context.Context, f outlet.AuditFilter) ([]*outlet.AuditEntry, string, error) {
	page, err := f.Page.Normalize()
	if err != nil {
		return nil, "", err
	}
	var conds []string
	var args []any
	where := func(cond string, v any) {
		conds, args = append(conds, cond), append(args, v)
	}
	if f.TenantID != "" {
		where("tenant_id = ?", f.TenantID)
	}
	if f.TenantUID != "" {
		where("tenant_uid = ?", f.TenantUID)
	}
	if f.ActorID != "" {
		where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		where("action = ?", f.Action)
	}
	if f.ResourceType != "" {
		where("resource_type = ?", f.ResourceType)
	}
	if f.ResourceID != "" {
		where("resource_id = ?", f.ResourceID)
	}
	if !f.Since.IsZero() {
		where("created_at >= ?", ms(f.Since))
	}
	if !f.Before.IsZero() {
		where("created_at < ?", ms(f.Before))
	}
	return listPage(ctx, s.r, `SELECT `+auditCols+` FROM audit_log`, conds, "seq", page, args, scanAuditEntry)
}

func (s *Store) PurgeAuditLog(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	var n int64
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE created_at < ? ORDER BY seq LIMIT ?)`,
			ms(cutoff), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
