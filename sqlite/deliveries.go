package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/outlethq/outlet"
)

const deliveryCols = `seq, tenant_id, event_id, event_type, target_type, target_id, status, attempts, next_attempt_at,
	last_attempt_at, trigger, single_attempt, created_at, updated_at, event_seq, lease_owner, ordered`

// deliveryRow is a delivery with the store's own columns beside it.
type deliveryRow struct {
	*outlet.Delivery
	seq, eventSeq int64
	leaseOwner    sql.NullString
	due           *time.Time // next_attempt_at as stored: the lease end while claimed
}

func (s *Store) scanDelivery(row scanner) (deliveryRow, error) {
	d := &outlet.Delivery{}
	r := deliveryRow{Delivery: d}
	var next, last sql.NullInt64
	var single, ordered int
	var created, updated int64
	err := row.Scan(&r.seq, &d.TenantID, &d.EventID, &d.EventType, &d.Target.Type, &d.Target.ID, &d.Status, &d.Attempts,
		&next, &last, &d.Trigger, &single, &created, &updated, &r.eventSeq, &r.leaseOwner, &ordered)
	if err != nil {
		return r, err
	}
	d.NextAttemptAt, d.LastAttemptAt, r.due = fromNullMs(next), fromNullMs(last), fromNullMs(next)
	// A claim stores its lease end in next_attempt_at; that is not when
	// anyone plans to attempt it.
	d.InFlight = d.Status == outlet.StatusPending && r.leaseOwner.Valid
	if d.Status != outlet.StatusPending || d.InFlight {
		d.NextAttemptAt = nil
	}
	d.ID = s.ids.Encode(outlet.PrefixDelivery, r.seq)
	d.SingleAttempt, d.Ordered = single == 1, ordered == 1
	d.CreatedAt, d.UpdatedAt = fromMs(created), fromMs(updated)
	return r, nil
}

func (s *Store) Delivery(ctx context.Context, tenantID, id string) (*outlet.Delivery, error) {
	r, err := s.delivery(ctx, s.r, tenantID, id)
	return r.Delivery, err
}

func (s *Store) delivery(ctx context.Context, q querier, tenantID, id string) (deliveryRow, error) {
	seq, ok := s.ids.Decode(outlet.PrefixDelivery, id)
	if !ok {
		return deliveryRow{}, notFound("delivery", id)
	}
	r, err := s.scanDelivery(q.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE seq = ? AND tenant_id = ?`, seq, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("delivery", id)
	}
	return r, dbErr(err)
}

// seqs turns delivery ids into positions, leaving out any that isn't one.
func (s *Store) seqs(ids []string) []any {
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		if seq, ok := s.ids.Decode(outlet.PrefixDelivery, id); ok {
			out = append(out, seq)
		}
	}
	return out
}

func (s *Store) ListDeliveries(ctx context.Context, tenantID string, f outlet.DeliveryFilter) ([]*outlet.Delivery, string, error) {
	page, err := f.Page.Normalize()
	if err != nil {
		return nil, "", err
	}
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return nil, "", err
	}
	conds, args := []string{"tenant_id = ?"}, []any{tenantID}
	if f.EventID != "" {
		conds = append(conds, "event_seq = (SELECT seq FROM events WHERE tenant_id = ? AND id = ?)")
		args = append(args, tenantID, f.EventID)
	}
	if f.EndpointID != "" {
		conds, args = append(conds, "target_id = ? AND target_type = 'endpoint'"), append(args, f.EndpointID)
	}
	if f.Function != "" {
		conds, args = append(conds, "target_id = ? AND target_type = 'function'"), append(args, f.Function)
	}
	if f.Status != "" {
		conds, args = append(conds, "status = ?"), append(args, f.Status)
	}
	if !f.Since.IsZero() {
		conds, args = append(conds, "created_at >= ?"), append(args, ms(f.Since))
	}
	if !f.Before.IsZero() {
		conds, args = append(conds, "created_at < ?"), append(args, ms(f.Before))
	}
	return listPage(ctx, s.r, `SELECT `+deliveryCols+` FROM deliveries`, conds, "seq", page, args, func(r scanner) (*outlet.Delivery, int64, error) {
		d, err := s.scanDelivery(r)
		return d.Delivery, d.seq, err
	})
}

const attemptCols = `seq, number, trigger, url, started_at, duration_ms, succeeded, status_code, response_headers, response_body,
	response_truncated, error, function_version, logs`

func (s *Store) ListAttempts(ctx context.Context, tenantID, deliveryID string) ([]*outlet.Attempt, error) {
	d, err := s.delivery(ctx, s.r, tenantID, deliveryID)
	if err != nil {
		return nil, err
	}
	as, err := collect(ctx, s.r, `SELECT `+attemptCols+` FROM attempts WHERE delivery_seq = ? ORDER BY number`, []any{d.seq},
		func(r scanner) (*outlet.Attempt, error) {
			a := &outlet.Attempt{DeliveryID: deliveryID}
			var seq, started int64
			var succeeded, truncated int
			var headers, body, logs sql.NullString
			if err := r.Scan(&seq, &a.Number, &a.Trigger, &a.URL, &started, &a.DurationMs, &succeeded, &a.StatusCode,
				&headers, &body, &truncated, &a.Error, &a.FunctionVersion, &logs); err != nil {
				return nil, err
			}
			a.Logs = logs.String
			if headers.Valid {
				if err := json.Unmarshal([]byte(headers.String), &a.ResponseHeaders); err != nil {
					return nil, err
				}
			}
			a.ID = s.ids.Encode(outlet.PrefixAttempt, seq)
			a.StartedAt, a.Succeeded, a.ResponseBody, a.ResponseTruncated = fromMs(started), succeeded == 1, body.String, truncated == 1
			return a, nil
		})
	return as, dbErr(err)
}

const (
	// claimDueQuery leases the deliveries due first (deliveries_due), an
	// ordered endpoint's only when it is that endpoint's oldest pending
	// (deliveries_ordered).
	claimDueQuery = `UPDATE deliveries SET lease_owner = ?, next_attempt_at = ?
		WHERE seq IN (SELECT seq FROM deliveries d WHERE status = 'pending' AND next_attempt_at <= ?
			AND (ordered = 0 OR seq = (SELECT min(seq) FROM deliveries o WHERE o.target_id = d.target_id AND o.status = 'pending' AND o.ordered = 1))
			ORDER BY next_attempt_at LIMIT ?)
		RETURNING ` + deliveryCols
	// claimParkedQuery leases an endpoint's parked deliveries, oldest due
	// first; its conditions are deliveries_parked's, so it reads that index
	// alone, never the endpoint's history.
	claimParkedQuery = `UPDATE deliveries SET lease_owner = ?, next_attempt_at = ?
		WHERE seq IN (SELECT seq FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?
			AND target_id = ? AND target_type = 'endpoint' AND lease_owner IS NULL AND attempts = 0 AND ordered = 0
			ORDER BY next_attempt_at LIMIT ?)
		RETURNING ` + deliveryCols
)

func (s *Store) ClaimDue(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*outlet.Claim, error) {
	return s.claim(ctx, claimDueQuery, owner, ms(leaseUntil), ms(now), limit)
}

func (s *Store) ClaimParked(ctx context.Context, owner, endpointID string, before, leaseUntil time.Time, limit int) ([]*outlet.Claim, error) {
	return s.claim(ctx, claimParkedQuery, owner, ms(leaseUntil), ms(before), endpointID, limit)
}

// claim runs a statement that leases deliveries and returns them, and
// loads their events and endpoints.
func (s *Store) claim(ctx context.Context, query string, args ...any) ([]*outlet.Claim, error) {
	var claims []*outlet.Claim
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ds, err := collect(ctx, tx, query, args, s.scanDelivery)
		if err != nil {
			return err
		}
		claims, err = loadClaims(ctx, tx, ds)
		return err
	})
	return claims, err
}

// loadClaims fetches the events and endpoints of claimed deliveries, each
// once however many deliveries share it.
func loadClaims(ctx context.Context, tx *sql.Tx, ds []deliveryRow) ([]*outlet.Claim, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	events, endpoints := map[int64]*outlet.Event{}, map[string]*outlet.Endpoint{}
	var eventSeqs, endpointIDs []any
	for _, d := range ds {
		if _, ok := events[d.eventSeq]; !ok {
			events[d.eventSeq] = nil
			eventSeqs = append(eventSeqs, d.eventSeq)
		}
		if _, ok := endpoints[d.Target.ID]; !ok && d.Target.Type == outlet.TargetEndpoint {
			endpoints[d.Target.ID] = nil
			endpointIDs = append(endpointIDs, d.Target.ID)
		}
	}
	_, err := collect(ctx, tx, `SELECT `+eventCols+` FROM events WHERE seq IN (`+placeholders(len(eventSeqs))+`)`, eventSeqs,
		func(r scanner) (*outlet.Event, error) {
			ev, seq, err := scanEvent(r)
			events[seq] = ev
			return ev, err
		})
	if err != nil {
		return nil, err
	}
	if len(endpointIDs) > 0 {
		_, err := collect(ctx, tx, `SELECT `+endpointCols+` FROM endpoints WHERE id IN (`+placeholders(len(endpointIDs))+`)`, endpointIDs,
			func(r scanner) (*outlet.Endpoint, error) {
				ep, _, err := scanEndpoint(r)
				if err == nil {
					endpoints[ep.ID] = ep
				}
				return ep, err
			})
		if err != nil {
			return nil, err
		}
	}
	claims := make([]*outlet.Claim, len(ds))
	for i, d := range ds {
		claims[i] = &outlet.Claim{Delivery: d.Delivery, Event: events[d.eventSeq]}
		if d.Target.Type == outlet.TargetEndpoint {
			claims[i].Endpoint = endpoints[d.Target.ID]
		}
	}
	return claims, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

const (
	completeDeliveryQuery = `UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_attempt_at = ?,
			lease_owner = NULL, trigger = 'scheduled', single_attempt = 0, updated_at = ?
			WHERE seq = ? AND (?6 = '' OR lease_owner = ?6) RETURNING attempts, target_id, ordered`
	// unparkQuery makes the next pending delivery of an ordered endpoint due,
	// once none of the endpoint's is due or in flight.
	unparkQuery = `UPDATE deliveries SET next_attempt_at = ?
			WHERE seq = (SELECT min(seq) FROM deliveries WHERE target_id = ? AND status = 'pending' AND ordered = 1)
			AND next_attempt_at IS NULL`
	// endpointSucceededQuery ends an endpoint's run of failures, if it has one.
	endpointSucceededQuery = `UPDATE endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL`
	insertAttemptQuery     = `INSERT INTO attempts (delivery_seq, number, trigger, url, started_at, duration_ms, succeeded,
			status_code, response_headers, response_body, response_truncated, error, function_version, logs)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// lazyOutcomes is the size from which a batch of outcomes is committed at
// once, without waiting for a publish to share its commit.
const lazyOutcomes = 64

func (s *Store) CompleteAttempts(ctx context.Context, outcomes []*outlet.AttemptOutcome, now, disableBefore time.Time) ([]string, error) {
	var disabled []string
	// A few successes wait for company (see lazyTx); a batch with an
	// outcome that can't wait, or big enough to be worth its own commit
	// (outcomes are arriving fast: publishes, if any, are too), doesn't.
	run := s.lazyTx
	if len(outcomes) >= lazyOutcomes || slices.ContainsFunc(outcomes, (*outlet.AttemptOutcome).Urgent) {
		run = s.tx
	}
	err := run(ctx, func(ctx context.Context, tx *sql.Tx) error {
		upd, err := s.stmt(ctx, tx, completeDeliveryQuery)
		if err != nil {
			return err
		}
		ins, err := s.stmt(ctx, tx, insertAttemptQuery)
		if err != nil {
			return err
		}
		for _, o := range outcomes {
			a := o.Attempt
			seq, ok := s.ids.Decode(outlet.PrefixDelivery, o.DeliveryID)
			if !ok {
				continue
			}
			var target string
			var ordered int
			err := upd.QueryRowContext(ctx, o.Status, nullIfZero(o.NextAttemptAt), ms(a.StartedAt), ms(now), seq, o.Owner).
				Scan(&a.Number, &target, &ordered)
			if errors.Is(err, sql.ErrNoRows) {
				// Deleted with its endpoint or tenant while it was in flight,
				// or claimed by another node after this one's lease ran out:
				// that node's attempt is the one to record.
				continue
			}
			if err != nil {
				return err
			}
			if ordered == 1 && o.Status != outlet.StatusPending {
				if err := s.exec(ctx, tx, unparkQuery, ms(now), target); err != nil {
					return err
				}
			}
			countUsage(ctx, o.TenantID, now, &outlet.Usage{Attempts: 1})
			var headers, body, logs any
			if a.ResponseHeaders != nil {
				headers = jsonText(a.ResponseHeaders)
			}
			if a.ResponseBody != "" {
				body = a.ResponseBody
			}
			if a.Logs != "" {
				logs = a.Logs
			}
			res, err := ins.ExecContext(ctx, seq, a.Number, a.Trigger, a.URL, ms(a.StartedAt), a.DurationMs, bool01(a.Succeeded),
				a.StatusCode, headers, body, bool01(a.ResponseTruncated), a.Error, a.FunctionVersion, logs)
			if err != nil {
				return err
			}
			attemptSeq, err := res.LastInsertId()
			if err != nil {
				return err
			}
			a.ID, a.DeliveryID = s.ids.Encode(outlet.PrefixAttempt, attemptSeq), o.DeliveryID
		}
		for id, st := range outlet.EndpointStreaks(outcomes) {
			var err error
			switch {
			case st.FailingSince == nil:
				err = s.exec(ctx, tx, endpointSucceededQuery, id)
			case st.Restarted:
				_, err = tx.ExecContext(ctx, `UPDATE endpoints SET failing_since = ? WHERE id = ?`, ms(*st.FailingSince), id)
			default:
				_, err = tx.ExecContext(ctx, `UPDATE endpoints SET failing_since = coalesce(failing_since, ?) WHERE id = ?`, ms(*st.FailingSince), id)
			}
			if err != nil || st.FailingSince == nil {
				if err != nil {
					return err
				}
				continue
			}
			var off string
			err = tx.QueryRowContext(ctx, `UPDATE endpoints SET disabled = 1, disabled_reason = ?, disabled_at = ?
				WHERE id = ? AND disabled = 0 AND failing_since <= ? RETURNING id`,
				outlet.DisabledFailing, ms(now), id, ms(disableBefore)).Scan(&off)
			switch {
			case err == nil:
				disabled = append(disabled, off)
				s.fanout.drop(st.TenantID)
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		return nil
	})
	return disabled, err
}

func (s *Store) ReleaseClaims(ctx context.Context, owner string, deliveryIDs []string, now time.Time) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		seqs := s.seqs(deliveryIDs)
		_, err := tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = ?, lease_owner = NULL
			WHERE status = 'pending' AND lease_owner = ? AND seq IN (`+placeholders(len(seqs))+`)`, append([]any{ms(now), owner}, seqs...)...)
		return err
	})
}

func (s *Store) RenewClaims(ctx context.Context, owner string, deliveryIDs []string, leaseUntil time.Time) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		seqs := s.seqs(deliveryIDs)
		_, err := tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = ?
			WHERE status = 'pending' AND lease_owner = ? AND seq IN (`+placeholders(len(seqs))+`)`, append([]any{ms(leaseUntil), owner}, seqs...)...)
		return err
	})
}

func (s *Store) RetryDelivery(ctx context.Context, tenantID, id, owner string, now, leaseUntil time.Time) (*outlet.Claim, error) {
	var claims []*outlet.Claim
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		d, err := s.delivery(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if err := outlet.CanRetry(d.Delivery, d.due, now); err != nil {
			return err
		}
		claims, err = loadClaims(ctx, tx, []deliveryRow{d})
		if err != nil {
			return err
		}
		if err := outlet.CanResend(claims[0]); err != nil {
			return err
		}
		d.Reopen(outlet.TriggerManual, now)
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_owner = ?, trigger = ?,
			single_attempt = ?, updated_at = ? WHERE seq = ?`, ms(leaseUntil), owner, d.Trigger, bool01(d.SingleAttempt), ms(now), d.seq)
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditDeliveryRetried(tenantID, id))
	})
	if err != nil {
		return nil, err
	}
	return claims[0], nil
}

func (s *Store) RecoverEndpoint(ctx context.Context, tenantID, endpointID string, since, now time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ep, err := endpoint(ctx, tx, tenantID, endpointID)
		if err != nil {
			return err
		}
		if ep.Disabled {
			return outlet.Errorf(outlet.ECONFLICT, "endpoint %s is disabled; enable it before recovering its failed deliveries", ep.ID)
		}
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_owner = NULL, trigger = ?,
			single_attempt = 1, updated_at = ?
			WHERE target_id = ? AND target_type = 'endpoint' AND tenant_id = ? AND status = 'failed' AND created_at >= ?
			AND EXISTS (SELECT 1 FROM events e WHERE e.seq = deliveries.event_seq AND e.data IS NOT NULL)`,
			ms(now), outlet.TriggerRecover, ms(now), endpointID, tenantID, ms(since))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditEndpointRecovered(tenantID, endpointID, since, int(n)))
	})
	return int(n), err
}

func (s *Store) NextDue(ctx context.Context) (*time.Time, error) {
	var next sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT min(next_attempt_at) FROM deliveries WHERE status = 'pending'`).Scan(&next)
	return fromNullMs(next), dbErr(err)
}

func (s *Store) QueueStats(ctx context.Context) (outlet.QueueStats, error) {
	var st outlet.QueueStats
	var oldest sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT count(*), min(next_attempt_at) FROM deliveries WHERE status = 'pending'`).Scan(&st.Pending, &oldest)
	st.OldestDue = fromNullMs(oldest)
	return st, dbErr(err)
}

func (s *Store) PurgeExpired(ctx context.Context, cutoff time.Time, limit int) (outlet.Purged, error) {
	var p outlet.Purged
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// The oldest events that no pending delivery needs; their
		// deliveries and attempts go with them, by cascade, so they are
		// counted first. The list of seqs travels as a JSON array.
		var seqs string
		err := tx.QueryRowContext(ctx, `SELECT coalesce(json_group_array(seq), '[]') FROM (
			SELECT seq FROM events e WHERE created_at < ?
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.status = 'pending')
			ORDER BY created_at LIMIT ?)`, ms(cutoff), limit).Scan(&seqs)
		if err != nil {
			return err
		}
		const expired = `(SELECT value FROM json_each(?))`
		counts := []struct {
			n     *int
			query string
		}{
			{&p.Attempts, `SELECT count(*) FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE event_seq IN ` + expired + `)`},
			{&p.Deliveries, `SELECT count(*) FROM deliveries WHERE event_seq IN ` + expired},
		}
		for _, c := range counts {
			if err := tx.QueryRowContext(ctx, c.query, seqs).Scan(c.n); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE seq IN `+expired, seqs)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		p.Events = int(n)
		// Invocations are written in the order they start, so the oldest
		// are the first rows: look no further than limit of them.
		res, err = tx.ExecContext(ctx, `DELETE FROM invocations WHERE started_at < ? AND seq IN (SELECT seq FROM invocations ORDER BY seq LIMIT ?)`,
			ms(cutoff), limit)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		p.Invocations = int(n)
		p.More = p.Events == limit || p.Invocations == limit
		var held sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT min(d.seq) FROM deliveries d JOIN events e ON e.seq = d.event_seq
			WHERE d.status = 'pending' AND e.created_at < ?`, ms(cutoff)).Scan(&held); err != nil {
			return err
		}
		if held.Valid {
			p.HeldBy = s.ids.Encode(outlet.PrefixDelivery, held.Int64)
		}
		return nil
	})
	return p, err
}
