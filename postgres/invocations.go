package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

func (s *Store) RecordInvocations(ctx context.Context, invs []*outlet.Invocation) error {
	if len(invs) == 0 {
		return nil
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	// One round trip and one implicit transaction for the lot. A log of a
	// function deleted meanwhile has nowhere to go: its function row isn't
	// there to select (or to lock, if a delete is under way).
	b := &pgx.Batch{}
	for _, inv := range invs {
		b.Queue(`INSERT INTO invocations (tenant_id, function, version, trigger, trigger_ref, started_at, duration_ms, outcome, error,
			logs, logs_truncated)
			SELECT tenant_id, name, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM functions WHERE tenant_id = $1 AND name = $2 FOR KEY SHARE
			RETURNING seq`, inv.TenantID, inv.Function, inv.Version, inv.Trigger, inv.TriggerRef, ms(inv.StartedAt), inv.DurationMs,
			inv.Outcome, bytesOf(inv.Error), bytesOf(inv.Logs), inv.Truncated)
	}
	br := s.pool.SendBatch(ctx, b)
	for _, inv := range invs {
		var seq int64
		switch err := br.QueryRow().Scan(&seq); {
		case err == nil:
			inv.ID = s.ids.Encode(outlet.PrefixInvocation, seq)
		case !errors.Is(err, pgx.ErrNoRows):
			br.Close()
			return dbErr(err)
		}
	}
	return dbErr(br.Close())
}

func (s *Store) ListInvocations(ctx context.Context, tenantID, fn string, f outlet.InvocationFilter) ([]*outlet.Invocation, string, error) {
	page, err := f.Page.Normalize()
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	if _, err := function(ctx, s.pool, tenantID, fn); err != nil {
		return nil, "", err
	}
	scan := func(r pgx.Row) (*outlet.Invocation, int64, error) {
		var inv outlet.Invocation
		var seq, started int64
		var errText, logs []byte
		err := r.Scan(&seq, &inv.TenantID, &inv.Function, &inv.Version, &inv.Trigger, &inv.TriggerRef, &started, &inv.DurationMs,
			&inv.Outcome, &errText, &logs, &inv.Truncated)
		inv.ID, inv.StartedAt, inv.Error, inv.Logs = s.ids.Encode(outlet.PrefixInvocation, seq), fromMs(started), string(errText), string(logs)
		return &inv, seq, err
	}
	const cols = `SELECT seq, tenant_id, function, version, trigger, trigger_ref, started_at, duration_ms, outcome, error, logs, logs_truncated
		FROM invocations`
	var p params
	conds := []string{"tenant_id = " + p.add(tenantID), "function = " + p.add(fn)}
	if f.After == "" {
		return listPage(ctx, s.pool, cols, conds, "seq", page, p, scan)
	}
	after, ok := s.ids.Decode(outlet.PrefixInvocation, f.After)
	if !ok {
		return nil, "", outlet.Errorf(outlet.EINVALID, "after %q is not an invocation id of this function", f.After)
	}
	invs, err := collect(ctx, s.pool, cols+` WHERE tenant_id = $1 AND function = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
		[]any{tenantID, fn, after, page.Limit}, func(r pgx.Row) (*outlet.Invocation, error) {
			inv, _, err := scan(r)
			return inv, err
		})
	return invs, "", dbErr(err)
}
