package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/outlethq/outlet"
)

const (
	insertEventQuery = `INSERT INTO events (tenant_id, id, type, timestamp, data, idempotency_key, payload_hash, created_at, traceparent, tracestate)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq`
	insertDeliveryQuery = `INSERT INTO deliveries (tenant_id, event_seq, event_id, event_type, target_type, target_id,
		status, next_attempt_at, lease_owner, ordered, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`
)

const eventCols = `seq, id, tenant_id, type, timestamp, data, idempotency_key, payload_hash, created_at, traceparent, tracestate`

func scanEvent(row scanner) (*outlet.Event, int64, error) {
	var ev outlet.Event
	var seq, ts, created int64
	var data, key, parent, state sql.NullString
	if err := row.Scan(&seq, &ev.ID, &ev.TenantID, &ev.Type, &ts, &data, &key, &ev.PayloadHash, &created, &parent, &state); err != nil {
		return nil, 0, err
	}
	if data.Valid {
		ev.Data = json.RawMessage(data.String)
	}
	ev.IdempotencyKey = key.String
	ev.Trace = outlet.TraceContext{Parent: parent.String, State: state.String}
	ev.Timestamp, ev.CreatedAt = fromMs(ts), fromMs(created)
	return &ev, seq, nil
}

func (s *Store) PublishEvents(ctx context.Context, reqs []*outlet.PublishRequest, now time.Time) ([]outlet.PublishOutcome, error) {
	results := make([]outlet.PublishOutcome, len(reqs))
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		p, err := s.newPublishTx(ctx, tx, now)
		if err != nil {
			return err
		}
		for i, r := range reqs {
			res, err := p.publish(r)
			if outlet.ErrorCode(err) == outlet.EINTERNAL {
				return err
			}
			res.Err = err
			results[i] = res
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// publishTx stores one batch of events inside one transaction.
type publishTx struct {
	s           *Store
	ctx         context.Context
	tx          *sql.Tx
	now         time.Time
	insertEvent *sql.Stmt
	insertDlv   *sql.Stmt
}

func (s *Store) newPublishTx(ctx context.Context, tx *sql.Tx, now time.Time) (*publishTx, error) {
	ins, err := s.stmt(ctx, tx, insertEventQuery)
	if err != nil {
		return nil, err
	}
	dlv, err := s.stmt(ctx, tx, insertDeliveryQuery)
	if err != nil {
		return nil, err
	}
	return &publishTx{s: s, ctx: ctx, tx: tx, now: now, insertEvent: ins, insertDlv: dlv}, nil
}

func (p *publishTx) publish(r *outlet.PublishRequest) (outlet.PublishOutcome, error) {
	ev := r.Event
	t, err := p.tenantTargets(ev.TenantID)
	if err != nil {
		return outlet.PublishOutcome{}, err
	}
	var seq int64
	err = p.insertEvent.QueryRowContext(p.ctx, ev.TenantID, ev.ID, ev.Type, ms(ev.Timestamp), string(ev.Data), nullString(ev.IdempotencyKey), ev.PayloadHash,
		ms(ev.CreatedAt), nullString(ev.Trace.Parent), nullString(ev.Trace.State)).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return p.replay(ev)
	}
	if err != nil {
		return outlet.PublishOutcome{}, err
	}
	res := outlet.PublishOutcome{Event: ev}
	for _, ep := range t.endpoints {
		if ep.Accepts(ev.Type) {
			if err := p.deliver(r, seq, &res, outlet.Target{Type: outlet.TargetEndpoint, ID: ep.ID}, ep); err != nil {
				return outlet.PublishOutcome{}, err
			}
		}
	}
	for _, fn := range t.functions {
		if outlet.MatchEventType(fn.events, ev.Type) {
			if err := p.deliver(r, seq, &res, outlet.Target{Type: outlet.TargetFunction, ID: fn.name}, nil); err != nil {
				return outlet.PublishOutcome{}, err
			}
		}
	}
	countUsage(p.ctx, ev.TenantID, p.now, &outlet.Usage{Events: 1, Deliveries: int64(res.Deliveries)})
	return res, nil
}

// deliver creates one delivery of the event stored at seq, claimed for the
// request's lease owner if it has one.
func (p *publishTx) deliver(r *outlet.PublishRequest, seq int64, res *outlet.PublishOutcome, target outlet.Target, ep *outlet.Endpoint) error {
	ev := r.Event
	d := &outlet.Delivery{
		TenantID: ev.TenantID, EventID: ev.ID, EventType: ev.Type, Target: target, Status: outlet.StatusPending,
		Trigger: outlet.TriggerScheduled, CreatedAt: p.now, UpdatedAt: p.now,
	}
	d.Ordered = ep != nil && ep.Ordered
	// An ordered delivery waits its turn in the store: one before it may
	// still be pending.
	claim := r.LeaseOwner != "" && !d.Ordered
	due, owner := p.now, any(nil)
	if ep != nil {
		if until, ok := r.Hold[ep.ID]; ok {
			claim, due = false, until
		}
	}
	var dueAt any = ms(due)
	switch {
	case claim:
		due, owner = r.LeaseUntil, r.LeaseOwner
		dueAt = ms(due)
		d.InFlight = true
	case d.Ordered:
		// Behind another pending delivery of the endpoint it is parked, due
		// at no time, until the one before it finishes.
		var n int
		err := p.tx.QueryRowContext(p.ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE target_id = ? AND status = 'pending' AND ordered = 1)`,
			ep.ID).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			dueAt = nil
		} else {
			d.NextAttemptAt = &due
		}
	default:
		d.NextAttemptAt = &due
	}
	ins, err := p.insertDlv.ExecContext(p.ctx, d.TenantID, seq, d.EventID, d.EventType, d.Target.Type, d.Target.ID,
		dueAt, owner, bool01(d.Ordered), ms(p.now), ms(p.now))
	if err != nil {
		return err
	}
	dseq, err := ins.LastInsertId()
	if err != nil {
		return err
	}
	d.ID = p.s.ids.Encode(outlet.PrefixDelivery, dseq)
	res.Deliveries++
	switch {
	case claim:
		res.Claims = append(res.Claims, &outlet.Claim{Delivery: d, Event: ev, Endpoint: ep})
	case dueAt != nil && !due.After(p.now):
		res.DueNow++
	}
	return nil
}

// replay answers a publish whose id or idempotency key is already taken: the
// stored event if the content is the same, a conflict if not.
func (p *publishTx) replay(ev *outlet.Event) (outlet.PublishOutcome, error) {
	var seqs []int64
	found, err := collect(p.ctx, p.tx, `SELECT `+eventCols+` FROM events WHERE tenant_id = ? AND (id = ? OR idempotency_key = ?)`,
		[]any{ev.TenantID, ev.ID, ev.IdempotencyKey}, func(r scanner) (*outlet.Event, error) {
			old, seq, err := scanEvent(r)
			seqs = append(seqs, seq)
			return old, err
		})
	if err != nil {
		return outlet.PublishOutcome{}, err
	}
	if len(found) == 1 && bytes.Equal(found[0].PayloadHash, ev.PayloadHash) {
		res := outlet.PublishOutcome{Event: found[0], Replayed: true}
		err := p.tx.QueryRowContext(p.ctx, `SELECT count(*) FROM deliveries WHERE event_seq = ?`, seqs[0]).Scan(&res.Deliveries)
		return res, err
	}
	return outlet.PublishOutcome{}, outlet.ReplayConflict(ev, found)
}

// tenantTargets returns what the tenant's events fan out to; ENOTFOUND if
// there is no such tenant. Only a miss of the fan-out cache reads the
// database.
func (p *publishTx) tenantTargets(tenantID string) (*targets, error) {
	if t, ok := p.s.fanout.get(tenantID); ok {
		return t, nil
	}
	var n int
	if err := p.tx.QueryRowContext(p.ctx, `SELECT count(*) FROM tenants WHERE id = ?`, tenantID).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, notFound("tenant", tenantID)
	}
	t := &targets{}
	var err error
	t.endpoints, err = collect(p.ctx, p.tx, `SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = ? AND disabled = 0 ORDER BY rowid`,
		[]any{tenantID}, func(r scanner) (*outlet.Endpoint, error) {
			ep, _, err := scanEndpoint(r)
			return ep, err
		})
	if err != nil {
		return nil, err
	}
	t.functions, err = collect(p.ctx, p.tx, `SELECT f.name, v.events FROM functions f
		JOIN function_versions v ON v.tenant_id = f.tenant_id AND v.function = f.name AND v.version = f.active_version
		WHERE f.tenant_id = ? AND v.events != '[]' ORDER BY f.created_at, f.rowid`,
		[]any{tenantID}, func(r scanner) (eventFunction, error) {
			var fn eventFunction
			var events string
			if err := r.Scan(&fn.name, &events); err != nil {
				return fn, err
			}
			return fn, json.Unmarshal([]byte(events), &fn.events)
		})
	if err != nil {
		return nil, err
	}
	p.s.fanout.put(tenantID, t)
	return t, nil
}

func (s *Store) Event(ctx context.Context, tenantID, id string) (*outlet.Event, error) {
	ev, _, err := scanEvent(s.r.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("event", id)
	}
	return ev, dbErr(err)
}

func (s *Store) ListEvents(ctx context.Context, tenantID string, f outlet.EventFilter) ([]*outlet.Event, string, error) {
	page, err := f.Page.Normalize()
	if err != nil {
		return nil, "", err
	}
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return nil, "", err
	}
	conds, args := []string{"tenant_id = ?"}, []any{tenantID}
	if f.Type != "" {
		conds, args = append(conds, "type = ?"), append(args, f.Type)
	}
	if !f.Since.IsZero() {
		conds, args = append(conds, "created_at >= ?"), append(args, ms(f.Since))
	}
	if !f.Before.IsZero() {
		conds, args = append(conds, "created_at < ?"), append(args, ms(f.Before))
	}
	return listPage(ctx, s.r, `SELECT `+eventCols+` FROM events`, conds, "seq", page, args, scanEvent)
}
