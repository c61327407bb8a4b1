package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

const deliveryCols = `seq, tenant_id, event_id, event_type, target_type, target_id, status, attempts, next_attempt_at,
	last_attempt_at, trigger, single_attempt, created_at, updated_at, event_seq, lease_owner, ordered`

// deliveryRow is a delivery with the store's own columns beside it.
type deliveryRow struct {
	*outlet.Delivery
	seq, eventSeq int64
	leaseOwner    *string
	due           *time.Time // next_attempt_at as stored: the lease end while claimed
}

// scanDelivery reads deliveryCols, then the extra columns after them.
func (s *Store) scanDelivery(row pgx.Row, extra ...any) (deliveryRow, error) {
	d := &outlet.Delivery{}
	r := deliveryRow{Delivery: d}
	var next, last *int64
	var created, updated int64
	err := row.Scan(append([]any{&r.seq, &d.TenantID, &d.EventID, &d.EventType, &d.Target.Type, &d.Target.ID, &d.Status, &d.Attempts,
		&next, &last, &d.Trigger, &d.SingleAttempt, &created, &updated, &r.eventSeq, &r.leaseOwner, &d.Ordered}, extra...)...)
	if err != nil {
		return r, err
	}
	d.NextAttemptAt, d.LastAttemptAt, r.due = fromNullMs(next), fromNullMs(last), fromNullMs(next)
	// A claim stores its lease end in next_attempt_at; that is not when
	// anyone plans to attempt it.
	d.InFlight = d.Status == outlet.StatusPending && r.leaseOwner != nil
	if d.Status != outlet.StatusPending || d.InFlight {
		d.NextAttemptAt = nil
	}
	d.ID = s.ids.Encode(outlet.PrefixDelivery, r.seq)
	d.CreatedAt, d.UpdatedAt = fromMs(created), fromMs(updated)
	return r, nil
}

func (s *Store) Delivery(ctx context.Context, tenantID, id string) (*outlet.Delivery, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	r, err := s.delivery(ctx, s.pool, tenantID, id, "")
	return r.Delivery, err
}

// delivery reads a delivery; lock, if set, is a locking clause.
func (s *Store) delivery(ctx context.Context, q querier, tenantID, id, lock string) (deliveryRow, error) {
	seq, ok := s.ids.Decode(outlet.PrefixDelivery, id)
	if !ok {
		return deliveryRow{}, notFound("delivery", id)
	}
	r, err := s.scanDelivery(q.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE seq = $1 AND tenant_id = $2 `+lock, seq, tenantID))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, notFound("delivery", id)
	}
	return r, dbErr(err)
}

// seqs turns delivery ids into positions, leaving out any that isn't one.
func (s *Store) seqs(ids []string) []int64 {
	out := make([]int64, 0, len(ids))
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
	ctx, cancel := bound(ctx)
	defer cancel()
	if _, err := tenant(ctx, s.pool, tenantID, ""); err != nil {
		return nil, "", err
	}
	var p params
	conds := []string{"tenant_id = " + p.add(tenantID)}
	if f.EventID != "" {
		// An event's deliveries are written after it: only the partitions
		// from its day on are looked at.
		ev := "(SELECT seq FROM event_keys WHERE tenant_id = " + p.add(tenantID) + " AND id = " + p.add(f.EventID) + ")"
		conds = append(conds, "event_seq = "+ev, "seq >= "+ev+" - "+p.add(skewSlack))
	}
	if f.EndpointID != "" {
		conds = append(conds, "target_id = "+p.add(f.EndpointID)+" AND target_type = 'endpoint'")
	}
	if f.Function != "" {
		conds = append(conds, "target_id = "+p.add(f.Function)+" AND target_type = 'function'")
	}
	if f.Status != "" {
		conds = append(conds, "status = "+p.add(f.Status))
	}
	if !f.Since.IsZero() {
		conds = append(conds, "created_at >= "+p.add(ms(f.Since)), sinceSeq(&p, f.Since))
	}
	if !f.Before.IsZero() {
		conds = append(conds, "created_at < "+p.add(ms(f.Before)), beforeSeq(&p, f.Before))
	}
	return listPage(ctx, s.pool, `SELECT `+deliveryCols+` FROM deliveries`, conds, "seq", page, p, func(r pgx.Row) (*outlet.Delivery, int64, error) {
		d, err := s.scanDelivery(r)
		return d.Delivery, d.seq, err
	})
}

const attemptCols = `seq, number, trigger, url, started_at, duration_ms, succeeded, status_code, response_headers, response_body,
	response_truncated, error, function_version, logs`

func (s *Store) ListAttempts(ctx context.Context, tenantID, deliveryID string) ([]*outlet.Attempt, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	d, err := s.delivery(ctx, s.pool, tenantID, deliveryID, "")
	if err != nil {
		return nil, err
	}
	as, err := collect(ctx, s.pool, `SELECT `+attemptCols+` FROM attempts WHERE delivery_seq = $1 AND seq >= $2 ORDER BY number`,
		// A delivery's attempts are written after it.
		[]any{d.seq, d.seq - skewSlack},
		func(r pgx.Row) (*outlet.Attempt, error) {
			a := &outlet.Attempt{DeliveryID: deliveryID}
			var seq, started int64
			var headers *string
			var body, errText, logs []byte
			if err := r.Scan(&seq, &a.Number, &a.Trigger, &a.URL, &started, &a.DurationMs, &a.Succeeded, &a.StatusCode,
				&headers, &body, &a.ResponseTruncated, &errText, &a.FunctionVersion, &logs); err != nil {
				return nil, err
			}
			if headers != nil {
				if err := json.Unmarshal([]byte(*headers), &a.ResponseHeaders); err != nil {
					return nil, err
				}
			}
			a.ID = s.ids.Encode(outlet.PrefixAttempt, seq)
			a.StartedAt, a.ResponseBody, a.Error, a.Logs = fromMs(started), string(body), string(errText), string(logs)
			return a, nil
		})
	return as, dbErr(err)
}

// claimQuery leases the due deliveries that nobody holds, earliest due
// first, and returns them with when each was due. Rows another node is
// claiming at the same moment are skipped, not waited for, so nodes claim
// disjoint work. Of an ordered endpoint's pending deliveries only the first
// in its queue (lowest ordinal: publish order, see publish.go) that is not
// parked may be claimed: publishes and completions running at once may park
// a delivery behind one inserted after it, and it must not keep the one it
// waits for from going.
const claimQuery = `UPDATE deliveries SET lease_owner = $1, next_attempt_at = $2
	FROM (SELECT seq AS claim_seq, next_attempt_at AS was_due FROM deliveries d
		WHERE status = 'pending' AND next_attempt_at <= $3
			AND (NOT ordered OR ordinal = (SELECT min(ordinal) FROM deliveries o WHERE o.target_id = d.target_id AND o.status = 'pending' AND o.ordered
				AND o.next_attempt_at IS NOT NULL))
		ORDER BY next_attempt_at LIMIT $4
		FOR UPDATE SKIP LOCKED) c
	WHERE seq = c.claim_seq
	RETURNING ` + deliveryCols + `, c.was_due`

// claimParkedQuery leases an endpoint's parked deliveries (see ClaimParked),
// earliest due first, walking the due index as claimQuery does.
const claimParkedQuery = `UPDATE deliveries SET lease_owner = $1, next_attempt_at = $2
	FROM (SELECT seq AS claim_seq FROM deliveries
		WHERE status = 'pending' AND next_attempt_at <= $3
			AND target_id = $4 AND target_type = 'endpoint' AND lease_owner IS NULL AND attempts = 0 AND NOT ordered
		ORDER BY next_attempt_at LIMIT $5
		FOR UPDATE SKIP LOCKED) c
	WHERE seq = c.claim_seq
	RETURNING ` + deliveryCols

func (s *Store) ClaimParked(ctx context.Context, owner, endpointID string, before, leaseUntil time.Time, limit int) ([]*outlet.Claim, error) {
	var claims []*outlet.Claim
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, claimParkedQuery, owner, ms(leaseUntil), ms(before), endpointID, limit)
		if err != nil {
			return err
		}
		ds, err := scanAll(rows, func(r pgx.Row) (deliveryRow, error) { return s.scanDelivery(r) })
		if err != nil {
			return err
		}
		slices.SortFunc(ds, func(a, b deliveryRow) int { return cmp.Compare(a.seq, b.seq) })
		claims, err = loadClaims(ctx, tx, ds)
		return err
	})
	return claims, err
}

func (s *Store) ClaimDue(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*outlet.Claim, error) {
	var claims []*outlet.Claim
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, claimQuery, owner, ms(leaseUntil), ms(now), limit)
		if err != nil {
			return err
		}
		type claimed struct {
			deliveryRow
			wasDue int64
		}
		cs, err := scanAll(rows, func(r pgx.Row) (claimed, error) {
			var c claimed
			var err error
			c.deliveryRow, err = s.scanDelivery(r, &c.wasDue)
			return c, err
		})
		if err != nil {
			return err
		}
		slices.SortFunc(cs, func(a, b claimed) int { return cmp.Or(cmp.Compare(a.wasDue, b.wasDue), cmp.Compare(a.seq, b.seq)) })
		ds := make([]deliveryRow, len(cs))
		for i, c := range cs {
			ds[i] = c.deliveryRow
		}
		claims, err = loadClaims(ctx, tx, ds)
		return err
	})
	return claims, err
}

// loadClaims fetches the events and endpoints of claimed deliveries, each
// once however many deliveries share it, in one round trip.
func loadClaims(ctx context.Context, tx pgx.Tx, ds []deliveryRow) ([]*outlet.Claim, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	events, endpoints := map[int64]*outlet.Event{}, map[string]*outlet.Endpoint{}
	for _, d := range ds {
		events[d.eventSeq] = nil
		if d.Target.Type == outlet.TargetEndpoint {
			endpoints[d.Target.ID] = nil
		}
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT `+eventCols+` FROM events WHERE seq = ANY($1)`, slices.Collect(maps.Keys(events)))
	if len(endpoints) > 0 {
		b.Queue(`SELECT `+endpointCols+` FROM endpoints WHERE id = ANY($1)`, slices.Collect(maps.Keys(endpoints)))
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	if _, err := scanAll(rows, func(r pgx.Row) (*outlet.Event, error) {
		ev, seq, err := scanEvent(r)
		events[seq] = ev
		return ev, err
	}); err != nil {
		return nil, err
	}
	if len(endpoints) > 0 {
		rows, err := br.Query()
		if err != nil {
			return nil, err
		}
		if _, err := scanAll(rows, func(r pgx.Row) (*outlet.Endpoint, error) {
			ep, _, err := scanEndpoint(r)
			if err == nil {
				endpoints[ep.ID] = ep
			}
			return ep, err
		}); err != nil {
			return nil, err
		}
	}
	if err := br.Close(); err != nil {
		return nil, err
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

// completeQuery records one round of attempts: it moves each delivery on,
// releasing its lease, inserts its attempt numbered after the ones before,
// and counts the attempts towards their tenants' usage on the day of now. A
// delivery deleted while it was in flight is not there to update, and one
// claimed by another node since is not this node's to update, so their
// attempts are dropped.
//
// An ordered delivery that finished makes the next of its endpoint due, if
// it is parked. heads finds it by the endpoint in every partition's
// deliveries_ordered: no bound on seq holds, as a retried or recovered
// delivery is pending again in its own day's partition (and the statement's
// snapshot still shows the finished ones pending, hence NOT IN done).
// unparked updates it by its key, in its own partition, which the bounds on
// seq select (= ANY prunes none). Joined to the endpoints by id instead, the
// update was planned as a hash join that read every partition's index whole,
// the pending ordered deliveries of every endpoint, for any completion; so
// unparked holds no condition another index could serve, not even status: a
// head found parked can have finished since only if another completion made
// it due and a node sent it meanwhile, and then setting next_attempt_at,
// which nothing reads of a finished delivery, is harmless.
var completeQuery = `WITH o AS (
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::boolean[],
			$9::integer[], $10::text[], $11::bytea[], $12::boolean[], $13::bytea[], $14::integer[], $15::bytea[], $18::text[])
			AS o(delivery_seq, status, next_at, started_at, trigger, url, duration_ms, succeeded, status_code, headers, body, truncated,
				error, function_version, logs, owner)
	), done AS (
		UPDATE deliveries d SET status = o.status, attempts = d.attempts + 1, next_attempt_at = o.next_at, last_attempt_at = o.started_at,
			lease_owner = NULL, trigger = 'scheduled', single_attempt = false, updated_at = $16
		FROM o WHERE d.seq = o.delivery_seq AND (o.owner = '' OR d.lease_owner = o.owner)
		RETURNING d.seq, d.attempts, d.tenant_id, d.target_id, d.ordered, o.status
	), heads AS MATERIALIZED (
		SELECT (SELECT q.seq FROM deliveries q WHERE q.target_id = f.target_id AND q.status = 'pending' AND q.ordered
				AND q.seq NOT IN (SELECT seq FROM done) ORDER BY q.ordinal LIMIT 1) AS seq
		FROM (SELECT DISTINCT target_id FROM done WHERE ordered AND status <> 'pending') f
	), unparked AS (
		UPDATE deliveries p SET next_attempt_at = $16
		WHERE p.seq = ANY(ARRAY(SELECT seq FROM heads)) AND p.seq >= (SELECT min(seq) FROM heads) AND p.seq <= (SELECT max(seq) FROM heads)
			AND p.next_attempt_at IS NULL
	), counted AS (
		INSERT INTO usage (tenant_id, day, shard, attempts)
		SELECT tenant_id, $17, pg_backend_pid() % 16, count(*) FROM done GROUP BY tenant_id ORDER BY tenant_id
		ON CONFLICT (tenant_id, day, shard) DO UPDATE SET attempts = usage.attempts + excluded.attempts
	)
	INSERT INTO attempts (seq, delivery_seq, number, trigger, url, started_at, duration_ms, succeeded, status_code, response_headers,
		response_body, response_truncated, error, function_version, logs)
	SELECT ` + seqExpr("attempts", "o.started_at") + `, o.delivery_seq, done.attempts, o.trigger, o.url, o.started_at, o.duration_ms, o.succeeded, o.status_code, o.headers, o.body,
		o.truncated, o.error, o.function_version, o.logs
	FROM o JOIN done ON done.seq = o.delivery_seq
	RETURNING seq, delivery_seq, number`

// completion is an outcome of a CompleteAttempts call with its delivery's
// position.
type completion struct {
	*outlet.AttemptOutcome
	seq int64
}

func (s *Store) CompleteAttempts(ctx context.Context, outcomes []*outlet.AttemptOutcome, now, disableBefore time.Time) ([]string, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	// Attempts are partitioned by the time they started (see publishTx).
	started := make([]time.Time, len(outcomes))
	for i, o := range outcomes {
		started[i] = o.Attempt.StartedAt
	}
	days := writeDays(started...)
	if err := s.ensurePartitions(ctx, days...); err != nil {
		return nil, dbErr(err)
	}
	disabled, err := s.completeAttempts(ctx, s.pool, outcomes, now, disableBefore)
	if missingPartition(err) {
		s.parts.forget()
		if err := s.ensurePartitions(ctx, days...); err != nil {
			return nil, dbErr(err)
		}
		disabled, err = s.completeAttempts(ctx, s.pool, outcomes, now, disableBefore)
	}
	if seqTaken(err) {
		// Once more, with new seqs (see publishTx). The batch was one
		// transaction, undone whole.
		disabled, err = s.completeAttempts(ctx, s.pool, outcomes, now, disableBefore)
	}
	return disabled, dbErr(err)
}

// completeAttempts records outcomes in one batch sent by q: the pool, or, in
// tests, a transaction that they commit when they choose.
func (s *Store) completeAttempts(ctx context.Context, q batchSender, outcomes []*outlet.AttemptOutcome, now, disableBefore time.Time) ([]string, error) {
	// Each round holds a delivery at most once; a delivery attempted twice
	// in one batch has its second attempt in the next round, numbered after
	// the first.
	var rounds [][]completion
	for _, o := range outcomes {
		seq, ok := s.ids.Decode(outlet.PrefixDelivery, o.DeliveryID)
		if !ok {
			continue
		}
		i := 0
		for i < len(rounds) && slices.ContainsFunc(rounds[i], func(c completion) bool { return c.seq == seq }) {
			i++
		}
		if i == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[i] = append(rounds[i], completion{o, seq})
	}
	// completeQuery updates a round's deliveries in the order it lists them
	// (by their keys, one after another: see the plan in
	// TestHotQueriesUseIndexesAndReadOnlyThePartitionsTheyNeed), so each
	// round lists them in the order of their seqs, as deleteDeliveries locks
	// them. In the batch's order, a completion and a delete of their
	// function, or of an endpoint the batch doesn't hold (an outcome of an
	// attempt not sent names none), could each hold a delivery the other
	// waited for, and Postgres undid one as a deadlock. The first round holds
	// every delivery of the batch, so the later ones take no new locks.
	for _, round := range rounds {
		slices.SortFunc(round, func(a, b completion) int { return cmp.Compare(a.seq, b.seq) })
	}
	// One round trip and one implicit transaction, which locks rows in the
	// order that deletes and publishes do: a tenant, then its endpoints, then
	// their deliveries. Recording the rounds first, a completion held
	// deliveries that a delete of their endpoint or tenant waited for, and
	// waited itself for what the delete held first: the endpoint (to move
	// its failing streak), a usage row of the tenant, or another delivery of
	// the endpoint, which the delete and the batch lock in different orders.
	// Postgres undid one of the two as a deadlock: an operator's delete
	// failed, or the batch had to be recorded again. So the batch holds the tenants first; then moves each endpoint's
	// failing streak, in the order of their ids, as nodes completing attempts
	// to the same endpoints do, so that they can't deadlock each other; then
	// holds the endpoints whose streak had nothing to move (a success of a
	// healthy endpoint updates no row); and only then records the rounds.
	streaks := outlet.EndpointStreaks(outcomes)
	ids := slices.Sorted(maps.Keys(streaks))
	tenants := make([]string, 0, len(outcomes))
	for _, o := range outcomes {
		tenants = append(tenants, o.TenantID)
	}
	slices.Sort(tenants)
	tenants = slices.Compact(tenants)
	b := &pgx.Batch{}
	b.Queue(`SELECT FROM tenants WHERE id = ANY($1) ORDER BY id FOR KEY SHARE`, tenants)
	for _, id := range ids {
		st := streaks[id]
		switch {
		case st.FailingSince == nil:
			b.Queue(`UPDATE endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, id)
		case st.Restarted:
			b.Queue(`UPDATE endpoints SET failing_since = $1 WHERE id = $2`, ms(*st.FailingSince), id)
		default:
			b.Queue(`UPDATE endpoints SET failing_since = coalesce(failing_since, $1) WHERE id = $2`, ms(*st.FailingSince), id)
		}
		if st.FailingSince != nil {
			b.Queue(`UPDATE endpoints SET disabled = true, disabled_reason = $1, disabled_at = $2
				WHERE id = $3 AND NOT disabled AND failing_since <= $4 RETURNING id`, outlet.DisabledFailing, ms(now), id, ms(disableBefore))
		}
	}
	b.Queue(`SELECT FROM endpoints WHERE id = ANY($1) ORDER BY id FOR KEY SHARE`, ids)
	for _, round := range rounds {
		queueRound(b, round, now)
	}
	// An ordered delivery that finished lets the next one of its endpoint go.
	if slices.ContainsFunc(outcomes, func(o *outlet.AttemptOutcome) bool { return o.Ordered && o.Status != outlet.StatusPending }) {
		b.Queue(notifyQuery)
	}
	br := q.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	disabled := []string{}
	for _, id := range ids {
		if _, err := br.Exec(); err != nil {
			return nil, err
		}
		if streaks[id].FailingSince == nil {
			continue
		}
		var off string
		switch err := br.QueryRow().Scan(&off); {
		case err == nil:
			disabled = append(disabled, off)
		case !errors.Is(err, pgx.ErrNoRows):
			return nil, err
		}
	}
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	for _, round := range rounds {
		if err := readRound(br, round, s.ids); err != nil {
			return nil, err
		}
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	return disabled, nil
}

// queueRound adds a round of completeQuery to b.
func queueRound(b *pgx.Batch, round []completion, now time.Time) {
	n := len(round)
	seqs, started, durations := make([]int64, n), make([]int64, n), make([]int64, n)
	next := make([]*int64, n)
	statuses, triggers, urls := make([]string, n), make([]string, n), make([]string, n)
	succeeded, truncated := make([]bool, n), make([]bool, n)
	codes, versions := make([]int32, n), make([]int32, n)
	headers := make([]*string, n)
	bodies, errs, logs := make([][]byte, n), make([][]byte, n), make([][]byte, n)
	owners := make([]string, n)
	for i, c := range round {
		a := c.Attempt
		owners[i] = c.Owner
		seqs[i], statuses[i], next[i], started[i] = c.seq, string(c.Status), nullIfZero(c.NextAttemptAt), ms(a.StartedAt)
		triggers[i], urls[i], durations[i], succeeded[i], codes[i] = string(a.Trigger), a.URL, a.DurationMs, a.Succeeded, int32(a.StatusCode)
		if a.ResponseHeaders != nil {
			h := jsonText(a.ResponseHeaders)
			headers[i] = &h
		}
		bodies[i], truncated[i], errs[i], versions[i], logs[i] = nullBytes(a.ResponseBody), a.ResponseTruncated, bytesOf(a.Error),
			int32(a.FunctionVersion), nullBytes(a.Logs)
	}
	b.Queue(completeQuery, seqs, statuses, next, started, triggers, urls, durations, succeeded, codes, headers, bodies, truncated,
		errs, versions, logs, ms(now), outlet.UsageDay(now), owners)
}

// readRound fills in the attempts of a round that were recorded.
func readRound(br pgx.BatchResults, round []completion, ids *outlet.IDCipher) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	type recorded struct{ seq, number int64 }
	bySeq := map[int64]recorded{}
	if _, err := scanAll(rows, func(r pgx.Row) (struct{}, error) {
		var a recorded
		var delivery int64
		err := r.Scan(&a.seq, &delivery, &a.number)
		bySeq[delivery] = a
		return struct{}{}, err
	}); err != nil {
		return err
	}
	for _, c := range round {
		if a, ok := bySeq[c.seq]; ok {
			c.Attempt.ID, c.Attempt.DeliveryID, c.Attempt.Number = ids.Encode(outlet.PrefixAttempt, a.seq), c.DeliveryID, int(a.number)
		}
	}
	return nil
}

func (s *Store) ReleaseClaims(ctx context.Context, owner string, deliveryIDs []string, dueAt time.Time) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	if dueAt.After(time.Now()) {
		// Held back for later: other nodes find it when they next look for
		// due work, which is at the latest when it falls due.
		_, err := s.pool.Exec(ctx, `UPDATE deliveries SET next_attempt_at = $1, lease_owner = NULL
			WHERE status = 'pending' AND lease_owner = $2 AND seq = ANY($3)`, ms(dueAt), owner, s.seqs(deliveryIDs))
		return dbErr(err)
	}
	// Work given back is work no node holds: wake the others.
	_, err := s.pool.Exec(ctx, `WITH released AS (
			UPDATE deliveries SET next_attempt_at = $1, lease_owner = NULL WHERE status = 'pending' AND lease_owner = $2 AND seq = ANY($3)
			RETURNING 1
		)
		SELECT `+notifyCall+` WHERE EXISTS (SELECT 1 FROM released)`, ms(dueAt), owner, s.seqs(deliveryIDs))
	return dbErr(err)
}

func (s *Store) RenewClaims(ctx context.Context, owner string, deliveryIDs []string, leaseUntil time.Time) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `UPDATE deliveries SET next_attempt_at = $1 WHERE status = 'pending' AND lease_owner = $2 AND seq = ANY($3)`,
		ms(leaseUntil), owner, s.seqs(deliveryIDs))
	return dbErr(err)
}

func (s *Store) RetryDelivery(ctx context.Context, tenantID, id, owner string, now, leaseUntil time.Time) (*outlet.Claim, error) {
	var claims []*outlet.Claim
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// Locked, so that no node claims it meanwhile.
		d, err := s.delivery(ctx, tx, tenantID, id, "FOR UPDATE")
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
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_owner = $2, trigger = $3,
			single_attempt = $4, updated_at = $5 WHERE seq = $6`, ms(leaseUntil), owner, d.Trigger, d.SingleAttempt, ms(now), d.seq)
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
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		ep, err := endpoint(ctx, tx, tenantID, endpointID, "FOR KEY SHARE")
		if err != nil {
			return err
		}
		if ep.Disabled {
			return outlet.Errorf(outlet.ECONFLICT, "endpoint %s is disabled; enable it before recovering its failed deliveries", ep.ID)
		}
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_owner = NULL, trigger = $2,
			single_attempt = true, updated_at = $1
			WHERE target_id = $3 AND target_type = 'endpoint' AND tenant_id = $4 AND status = 'failed' AND created_at >= $5
			AND (seq >= $6 OR seq < $7)
			AND EXISTS (SELECT 1 FROM events e WHERE e.seq = deliveries.event_seq AND e.data IS NOT NULL)`,
			ms(now), outlet.TriggerRecover, endpointID, tenantID, ms(since), seqAt(ms(since)), int64(legacyBound))
		if err != nil {
			return err
		}
		if n = tag.RowsAffected(); n > 0 {
			if _, err := tx.Exec(ctx, notifyQuery); err != nil {
				return err
			}
		}
		return audit(ctx, tx, outlet.AuditEndpointRecovered(tenantID, endpointID, since, int(n)))
	})
	return int(n), err
}

func (s *Store) NextDue(ctx context.Context) (*time.Time, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var next *int64
	err := s.pool.QueryRow(ctx, `SELECT min(next_attempt_at) FROM deliveries WHERE status = 'pending'`).Scan(&next)
	return fromNullMs(next), dbErr(err)
}

func (s *Store) QueueStats(ctx context.Context) (outlet.QueueStats, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var st outlet.QueueStats
	var oldest *int64
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(next_attempt_at) FROM deliveries WHERE status = 'pending'`).Scan(&st.Pending, &oldest)
	st.OldestDue = fromNullMs(oldest)
	return st, dbErr(err)
}

// deleteDeliveries deletes the deliveries that meet where (a condition on
// deliveries, with parameters args) and their attempts. Attempts have no
// foreign key to cascade along (a partition dropped by retention couldn't
// honour one), so this deletes them, in a statement of its own after the
// deliveries'. A completion records an attempt in the statement that updates
// its delivery (completeQuery), and holds the delivery until it commits: the
// deliveries' statements wait for it, and the attempts', which sees what
// committed before it began, finds the attempt, where one statement, whose
// snapshot is older than that commit, would leave it behind. A completion
// that comes after waits for this transaction and then finds no delivery to
// update, so it records no attempt. Only the attempts' partitions from the
// oldest delivery's day on are looked at.
func deleteDeliveries(ctx context.Context, tx pgx.Tx, where string, args ...any) error {
	// The pending ones are locked first in the order of their seqs, the
	// order in which a completion updates them (see completeAttempts); the
	// DELETE alone locks them in the order its plan reads them, which for a
	// bitmap scan is where their rows happen to lie. Finished ones are left
	// to the DELETE: what changes a finished delivery (a retry) holds no
	// lock this transaction waits for, and locking a long history twice
	// would write each of its rows twice.
	if _, err := tx.Exec(ctx, `SELECT FROM deliveries WHERE `+where+` AND status = 'pending' ORDER BY seq FOR UPDATE`, args...); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `DELETE FROM deliveries WHERE `+where+` RETURNING seq`, args...)
	if err != nil {
		return err
	}
	seqs, err := scanAll(rows, func(r pgx.Row) (int64, error) {
		var seq int64
		err := r.Scan(&seq)
		return seq, err
	})
	if err != nil || len(seqs) == 0 {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM attempts WHERE delivery_seq = ANY($1) AND seq >= $2`, seqs, slices.Min(seqs)-skewSlack)
	return err
}
