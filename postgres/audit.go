package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

// audit records a change in the audit log, in the transaction that makes
// it, when ctx says who made it (outlet.WithActor). Every write that is a
// change calls it last, so the entry commits, or rolls back, with the
// change.
func audit(ctx context.Context, tx pgx.Tx, change outlet.AuditEntry) error {
	e, ok := change.By(ctx)
	if !ok {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (id, tenant_id, tenant_uid, actor_type, actor_id, action, resource_type, resource_id,
		summary, address, created_at) VALUES ($1, $2, (SELECT uid FROM tenants WHERE id = $2), $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.ID, e.TenantID, string(e.ActorType), e.ActorID, e.Action, e.ResourceType, e.ResourceID, string(e.Summary), e.Address, ms(e.CreatedAt))
	return err
}

const auditCols = `seq, id, tenant_id, actor_type, actor_id, action, resource_type, resource_id, summary, address, created_at`

func scanAuditEntry(row pgx.Row) (*outlet.AuditEntry, int64, error) {
	var e outlet.AuditEntry
	var seq, created int64
	var actorType, summary string
	if err := row.Scan(&seq, &e.ID, &e.TenantID, &actorType, &e.ActorID, &e.Action, &e.ResourceType, &e.ResourceID,
		&summary, &e.Address, &created); err != nil {
		return nil, 0, err
	}
	e.ActorType, e.Summary, e.CreatedAt = outlet.ActorType(actorType), []byte(summary), fromMs(created)
	return &e, seq, nil
}

func (s *Store) ListAuditLog(ctx context.Context, f outlet.AuditFilter) ([]*outlet.AuditEntry, string, error) {
	page, err := f.Page.Normalize()
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	var p params
	var conds []string
	where := func(col string, v any) {
		conds = append(conds, col+p.add(v))
	}
	if f.TenantID != "" {
		where("tenant_id = ", f.TenantID)
	}
	if f.TenantUID != "" {
		where("tenant_uid = ", f.TenantUID)
	}
	if f.ActorID != "" {
		where("actor_id = ", f.ActorID)
	}
	if f.Action != "" {
		where("action = ", f.Action)
	}
	if f.ResourceType != "" {
		where("resource_type = ", f.ResourceType)
	}
	if f.ResourceID != "" {
		where("resource_id = ", f.ResourceID)
	}
	if !f.Since.IsZero() {
		where("created_at >= ", ms(f.Since))
	}
	if !f.Before.IsZero() {
		where("created_at < ", ms(f.Before))
	}
	return listPage(ctx, s.pool, `SELECT `+auditCols+` FROM audit_log`, conds, "seq", page, p, scanAuditEntry)
}

func (s *Store) PurgeAuditLog(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE created_at < $1 ORDER BY seq LIMIT $2)`,
		ms(cutoff), limit)
	if err != nil {
		return 0, dbErr(err)
	}
	return int(tag.RowsAffected()), nil
}
