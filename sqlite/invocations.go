package sqlite

import (
	"context"
	"database/sql"

	"github.com/outlethq/outlet"
)

func (s *Store) RecordInvocations(ctx context.Context, invs []*outlet.Invocation) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, inv := range invs {
			// A log of a function deleted meanwhile has nowhere to go.
			res, err := tx.ExecContext(ctx, `INSERT INTO invocations (tenant_id, function, version, trigger, trigger_ref, started_at,
				duration_ms, outcome, error, logs, logs_truncated)
				SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM functions WHERE tenant_id = ? AND name = ?)`,
				inv.TenantID, inv.Function, inv.Version, inv.Trigger, inv.TriggerRef, ms(inv.StartedAt), inv.DurationMs, inv.Outcome,
				inv.Error, inv.Logs, bool01(inv.Truncated), inv.TenantID, inv.Function)
			if err != nil {
				return err
			}
			// LastInsertId is stale when nothing was inserted.
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				continue
			}
			seq, err := res.LastInsertId()
			if err != nil {
				return err
			}
			inv.ID = s.ids.Encode(outlet.PrefixInvocation, seq)
		}
		return nil
	})
}

func (s *Store) ListInvocations(ctx context.Context, tenantID, function string, f outlet.InvocationFilter) ([]*outlet.Invocation, string, error) {
	page, err := f.Page.Normalize()
	if err != nil {
		return nil, "", err
	}
	if _, err := s.Function(ctx, tenantID, function); err != nil {
		return nil, "", err
	}
	scan := func(r scanner) (*outlet.Invocation, int64, error) {
		var inv outlet.Invocation
		var seq, started int64
		var truncated int
		err := r.Scan(&seq, &inv.TenantID, &inv.Function, &inv.Version, &inv.Trigger, &inv.TriggerRef, &started, &inv.DurationMs,
			&inv.Outcome, &inv.Error, &inv.Logs, &truncated)
		inv.ID, inv.StartedAt, inv.Truncated = s.ids.Encode(outlet.PrefixInvocation, seq), fromMs(started), truncated == 1
		return &inv, seq, err
	}
	const cols = `SELECT seq, tenant_id, function, version, trigger, trigger_ref, started_at, duration_ms, outcome, error, logs, logs_truncated
		FROM invocations`
	conds, args := []string{"tenant_id = ?", "function = ?"}, []any{tenantID, function}
	if f.After == "" {
		return listPage(ctx, s.r, cols, conds, "seq", page, args, scan)
	}
	after, ok := s.ids.Decode(outlet.PrefixInvocation, f.After)
	if !ok {
		return nil, "", outlet.Errorf(outlet.EINVALID, "after %q is not an invocation id of this function", f.After)
	}
	invs, err := collect(ctx, s.r, cols+` WHERE tenant_id = ? AND function = ? AND seq > ? ORDER BY seq LIMIT ?`,
		[]any{tenantID, function, after, page.Limit}, func(r scanner) (*outlet.Invocation, error) {
			inv, _, err := scan(r)
			return inv, err
		})
	return invs, "", dbErr(err)
}
