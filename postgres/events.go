package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

const eventCols = `seq, id, tenant_id, type, timestamp, data, idempotency_key, payload_hash, created_at, traceparent, tracestate`

// scanEvent reads eventCols, then the extra columns after them.
func scanEvent(row pgx.Row, extra ...any) (*outlet.Event, int64, error) {
	var ev outlet.Event
	var seq, ts, created int64
	var data []byte
	var key, parent, state *string
	if err := row.Scan(append([]any{&seq, &ev.ID, &ev.TenantID, &ev.Type, &ts, &data, &key, &ev.PayloadHash, &created, &parent, &state}, extra...)...); err != nil {
		return nil, 0, err
	}
	ev.Trace = outlet.TraceContext{Parent: deref(parent), State: deref(state)}
	if data != nil {
		ev.Data = json.RawMessage(data)
	}
	if key != nil {
		ev.IdempotencyKey = *key
	}
	ev.Timestamp, ev.CreatedAt = fromMs(ts), fromMs(created)
	return &ev, seq, nil
}

func (s *Store) Event(ctx context.Context, tenantID, id string) (*outlet.Event, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	ev, _, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventCols+` FROM events
		WHERE seq = (SELECT seq FROM event_keys WHERE tenant_id = $1 AND id = $2) AND tenant_id = $1`, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("event", id)
	}
	return ev, dbErr(err)
}

func (s *Store) ListEvents(ctx context.Context, tenantID string, f outlet.EventFilter) ([]*outlet.Event, string, error) {
	page, err := f.Page.Normalize()
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	if _, err := tenant(ctx, s.pool, tenantID, ""); err != nil {
		return nil, "", err
	}
	var p params
	conds := []string{"tenant_id = " + p.add(tenantID)}
	if f.Type != "" {
		conds = append(conds, "type = "+p.add(f.Type))
	}
	if !f.Since.IsZero() {
		conds = append(conds, "created_at >= "+p.add(ms(f.Since)), sinceSeq(&p, f.Since))
	}
	if !f.Before.IsZero() {
		conds = append(conds, "created_at < "+p.add(ms(f.Before)), beforeSeq(&p, f.Before))
	}
	return listPage(ctx, s.pool, `SELECT `+eventCols+` FROM events`, conds, "seq", page, p, func(r pgx.Row) (*outlet.Event, int64, error) {
		return scanEvent(r)
	})
}
