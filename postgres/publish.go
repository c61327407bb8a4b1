package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/tracing"
)

// Publishing is the store's hot path: one call per HTTP publish, from many
// callers at once. A transaction of its own for each would cost each a
// commit, and with it a flush of Postgres's log. So calls queue for one
// publisher, which stores everything that queued while it was committing in
// one transaction, in a few statements whatever their number: one round
// trip begins the transaction, reads the tenants' targets and inserts the
// events; a second inserts the deliveries, counts usage and answers
// replays; a third commits.

// publishCall is one caller's PublishEvents, waiting for the transaction it
// shares with the calls that came at the same time.
type publishCall struct {
	ctx     context.Context
	reqs    []*outlet.PublishRequest
	now     time.Time
	results []outlet.PublishOutcome
	done    chan error
}

func (s *Store) PublishEvents(ctx context.Context, reqs []*outlet.PublishRequest, now time.Time) ([]outlet.PublishOutcome, error) {
	c := &publishCall{ctx: ctx, reqs: reqs, now: now, done: make(chan error, 1)}
	if !s.publishes.Add(c) {
		return nil, errClosed
	}
	select {
	case err := <-c.done:
		if err != nil {
			return nil, err
		}
		return c.results, nil
	case <-ctx.Done():
		// The batch may still commit the events; a publisher that tries
		// again with the same ids or idempotency keys gets them back. The
		// deliveries it claimed for the caller, who is gone, are given back
		// so any node sends them now rather than when the leases run out.
		go s.giveBackOrphans(c)
		return nil, dbErr(ctx.Err())
	}
}

// giveBackOrphans releases the claims a publish made for a caller that
// stopped waiting for it.
func (s *Store) giveBackOrphans(c *publishCall) {
	if err := <-c.done; err != nil {
		return
	}
	byOwner := map[string][]string{}
	for i, r := range c.results {
		for _, cl := range r.Claims {
			owner := c.reqs[i].LeaseOwner
			byOwner[owner] = append(byOwner[owner], cl.Delivery.ID)
		}
	}
	for owner, ids := range byOwner {
		// If this fails too, the leases run out and the work is due then.
		_ = s.ReleaseClaims(context.Background(), owner, ids, c.now)
	}
}

// flushPublishes runs a batch of calls in one transaction. A request that
// breaks the rules fails alone, in its result, without breaking the
// transaction; but if the transaction fails all the same, and not because
// the database is unavailable, one call may be to blame, so each call runs
// again in a transaction of its own and only the guilty one fails.
func (s *Store) flushPublishes(calls []*publishCall) {
	live := make([]*publishCall, 0, len(calls))
	for _, c := range calls {
		if err := c.ctx.Err(); err != nil {
			c.done <- dbErr(err) // its caller gave up; don't do work nobody will see
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	span := tracing.StartBatch("postgres.commit", semconv.DBSystemNamePostgreSQL, len(live), func(i int) context.Context { return live[i].ctx })
	defer span.End()
	err := s.publishTx(live)
	if err != nil {
		span.SetStatus(codes.Error, "")
	}
	if err != nil && len(live) > 1 && outlet.ErrorCode(err) != outlet.EUNAVAILABLE {
		for _, c := range live {
			c.done <- s.publishTx([]*publishCall{c})
		}
		return
	}
	for _, c := range live {
		c.done <- err
	}
}

// publishTx stores the calls' events and deliveries in one transaction.
// Statements run without the callers' cancellation, which would cancel the
// work of every other caller too; opTimeout bounds them instead.
func (s *Store) publishTx(calls []*publishCall) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	// Events are partitioned by their created_at, deliveries by the
	// publish's time: those days' partitions must exist. A day is looked up
	// in the database only the first time this store meets it; and if a
	// partition went since (dropped by retention on another node, for
	// rows written at a time long past), the transaction, which then fails
	// whole, is tried once more after making it again.
	var times []time.Time
	for _, c := range calls {
		times = append(times, c.now)
		for _, r := range c.reqs {
			times = append(times, r.Event.CreatedAt)
		}
	}
	days := writeDays(times...)
	if err := s.ensurePartitions(ctx, days...); err != nil {
		return dbErr(err)
	}
	err := s.publishOnce(ctx, calls)
	if missingPartition(err) {
		s.parts.forget()
		if err := s.ensurePartitions(ctx, days...); err != nil {
			return dbErr(err)
		}
		err = s.publishOnce(ctx, calls)
	}
	if seqTaken(err) {
		// Once more, with new seqs; if they are taken too, the callers
		// are told to retry (see dbErr), not that their events conflict.
		err = s.publishOnce(ctx, calls)
	}
	return dbErr(err)
}

func (s *Store) publishOnce(ctx context.Context, calls []*publishCall) error {
	p := newPublishBatch(s, calls)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// Released in a transaction that failed, the connection is closed
	// rather than pooled (pgxpool keeps only idle ones).
	defer conn.Release()
	// Two round trips in all: the transaction begins in the first, with
	// the events, and commits in the second, with their deliveries. A
	// statement that fails makes the server skip the rest of its batch, the
	// COMMIT included, and the transaction is rolled back here.
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	p.queueEvents(b)
	br := conn.SendBatch(ctx, b)
	err = p.readEvents(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = p.insertDeliveries(ctx, conn)
	}
	if err != nil && conn.Conn().PgConn().TxStatus() != 'I' {
		conn.Exec(ctx, "ROLLBACK")
	}
	return err
}

// publishBatch is the work of one publish transaction.
type publishBatch struct {
	s       *Store
	rows    []*publishRow       // every request of every call, in order
	tenants []string            // the tenants they publish for
	targets map[string]*targets // of the tenants that exist
}

// publishRow is one request on its way into the database.
type publishRow struct {
	call       *publishCall
	req        *outlet.PublishRequest
	res        *outlet.PublishOutcome
	seq        int64 // the event's position once inserted; 0 until then, and if it was not
	deliveries []*newDelivery
}

// newDelivery is a delivery the batch makes.
type newDelivery struct {
	*outlet.Delivery
	eventSeq int64
	due      time.Time
	owner    *string
	endpoint *outlet.Endpoint
}

// targets is what one tenant's events fan out to.
type targets struct {
	endpoints []*outlet.Endpoint // enabled ones
	functions []eventFunction    // active versions bound to some event type
}

type eventFunction struct {
	name   string
	events []string
}

func newPublishBatch(s *Store, calls []*publishCall) *publishBatch {
	p := &publishBatch{s: s, targets: map[string]*targets{}}
	tenants := map[string]bool{}
	for _, c := range calls {
		c.results = make([]outlet.PublishOutcome, len(c.reqs))
		for i, r := range c.reqs {
			p.rows = append(p.rows, &publishRow{call: c, req: r, res: &c.results[i]})
			tenants[r.Event.TenantID] = true
		}
	}
	p.tenants = slices.Sorted(maps.Keys(tenants))
	return p
}

// insertEventsQuery inserts the events of tenants that exist, in the order
// given, skipping any whose id or idempotency key is taken, and returns the
// tenants it found (seq NULL) and the events it inserted. One statement sees
// one snapshot, so the tenants it reports are the ones it inserted for. It
// holds each tenant until the transaction ends, so that none is deleted
// while its deliveries are being made. Ids and idempotency keys are kept
// unique by event_keys (events is partitioned by seq, and a unique index of
// a partitioned table must hold its partition key): an event is inserted
// only if its keys were.
var insertEventsQuery = `WITH t AS (
		SELECT id FROM tenants WHERE id = ANY($9) FOR KEY SHARE
	), r AS MATERIALIZED (
		SELECT r.*, ` + seqExpr("events", "r.created") + ` AS seq
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bytea[], $6::text[], $7::bytea[], $8::bigint[], $10::text[], $11::text[])
			WITH ORDINALITY AS r(tenant_id, id, type, ts, data, key, hash, created, parent, state, n)
		JOIN t ON t.id = r.tenant_id
		ORDER BY r.n
	), k AS (
		INSERT INTO event_keys (tenant_id, id, idempotency_key, seq)
		SELECT tenant_id, id, key, seq FROM r ORDER BY n
		ON CONFLICT DO NOTHING
		RETURNING seq
	), ins AS (
		INSERT INTO events (seq, tenant_id, id, type, timestamp, data, idempotency_key, payload_hash, created_at, traceparent, tracestate)
		SELECT r.seq, r.tenant_id, r.id, r.type, r.ts, r.data, r.key, r.hash, r.created, r.parent, r.state
		FROM r JOIN k ON k.seq = r.seq
		RETURNING seq, tenant_id, id, idempotency_key
	)
	SELECT NULL::bigint, id, NULL::text, NULL::text FROM t
	UNION ALL
	SELECT seq, tenant_id, id, idempotency_key FROM ins`

// The targets of a publish are held until the transaction ends, so that an
// endpoint or function deleted meanwhile takes the new deliveries with it.
const (
	endpointTargetsQuery = `SELECT ` + endpointCols + ` FROM endpoints WHERE tenant_id = ANY($1) AND NOT disabled ORDER BY seq FOR KEY SHARE`
	functionTargetsQuery = `SELECT f.tenant_id, f.name, v.events FROM functions f
		JOIN function_versions v ON v.tenant_id = f.tenant_id AND v.function = f.name AND v.version = f.active_version
		WHERE f.tenant_id = ANY($1) AND v.events <> '[]' ORDER BY f.created_at, f.seq FOR KEY SHARE OF f`
)

// eventKey tells apart the events of a batch that insertEventsQuery may
// have inserted. Of the requests that share one, only the first can have
// been: the others conflict with whatever the first conflicted with, or
// with the first.
type eventKey struct{ tenant, id, idempotencyKey string }

// queueEvents adds to b the statements that insert the events and read the
// tenants' targets.
func (p *publishBatch) queueEvents(b *pgx.Batch) {
	n := len(p.rows)
	tenantIDs, ids, types, keys := make([]string, n), make([]string, n), make([]string, n), make([]*string, n)
	stamps, created := make([]int64, n), make([]int64, n)
	data, hashes := make([][]byte, n), make([][]byte, n)
	parents, states := make([]*string, n), make([]*string, n)
	for i, r := range p.rows {
		ev := r.req.Event
		tenantIDs[i], ids[i], types[i], stamps[i], created[i] = ev.TenantID, ev.ID, ev.Type, ms(ev.Timestamp), ms(ev.CreatedAt)
		data[i], hashes[i] = bytesOrEmpty(ev.Data), bytesOrEmpty(ev.PayloadHash)
		keys[i], parents[i], states[i] = nullString(ev.IdempotencyKey), nullString(ev.Trace.Parent), nullString(ev.Trace.State)
	}
	b.Queue(insertEventsQuery, tenantIDs, ids, types, stamps, data, keys, hashes, created, p.tenants, parents, states)
	b.Queue(endpointTargetsQuery, p.tenants)
	b.Queue(functionTargetsQuery, p.tenants)
}

// readEvents reads the results of the batch queueEvents made, after the
// transaction's beginning.
func (p *publishBatch) readEvents(br pgx.BatchResults) error {
	if _, err := br.Exec(); err != nil {
		return err
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	inserted := map[eventKey]int64{}
	if _, err := scanAll(rows, func(r pgx.Row) (struct{}, error) {
		var seq *int64
		var tenantID string
		var id, key *string
		if err := r.Scan(&seq, &tenantID, &id, &key); err != nil {
			return struct{}{}, err
		}
		if seq == nil {
			p.targets[tenantID] = &targets{}
		} else {
			inserted[eventKey{tenantID, *id, deref(key)}] = *seq
		}
		return struct{}{}, nil
	}); err != nil {
		return err
	}
	for _, r := range p.rows {
		ev := r.req.Event
		k := eventKey{ev.TenantID, ev.ID, ev.IdempotencyKey}
		if seq, ok := inserted[k]; ok {
			r.seq = seq
			delete(inserted, k)
		}
	}

	rows, err = br.Query()
	if err != nil {
		return err
	}
	if _, err := scanAll(rows, func(r pgx.Row) (struct{}, error) {
		ep, _, err := scanEndpoint(r)
		if err != nil {
			return struct{}{}, err
		}
		// A tenant the events' statement did not find (one created since)
		// has no events in this batch.
		if t := p.targets[ep.TenantID]; t != nil {
			t.endpoints = append(t.endpoints, ep)
		}
		return struct{}{}, nil
	}); err != nil {
		return err
	}
	rows, err = br.Query()
	if err != nil {
		return err
	}
	_, err = scanAll(rows, func(r pgx.Row) (struct{}, error) {
		var tenantID, events string
		var fn eventFunction
		if err := r.Scan(&tenantID, &fn.name, &events); err != nil {
			return struct{}{}, err
		}
		if err := json.Unmarshal([]byte(events), &fn.events); err != nil {
			return struct{}{}, err
		}
		if t := p.targets[tenantID]; t != nil {
			t.functions = append(t.functions, fn)
		}
		return struct{}{}, nil
	})
	return err
}

// insertDeliveries fans the inserted events out, inserts their deliveries,
// answers the requests that were not inserted, counts usage and commits, in
// one round trip, and fills in every request's result.
func (p *publishBatch) insertDeliveries(ctx context.Context, q batchSender) error {
	var ds []*newDelivery
	var replays []*publishRow
	use := usage{}
	wake := false
	for _, r := range p.rows {
		ev := r.req.Event
		t := p.targets[ev.TenantID]
		switch {
		case t == nil:
			r.res.Err = notFound("tenant", ev.TenantID)
			continue
		case r.seq == 0:
			replays = append(replays, r)
			continue
		}
		for _, ep := range t.endpoints {
			if ep.Accepts(ev.Type) {
				r.deliver(outlet.Target{Type: outlet.TargetEndpoint, ID: ep.ID}, ep)
			}
		}
		for _, fn := range t.functions {
			if outlet.MatchEventType(fn.events, ev.Type) {
				r.deliver(outlet.Target{Type: outlet.TargetFunction, ID: fn.name}, nil)
			}
		}
		dueNow := 0
		for _, d := range r.deliveries {
			if d.owner == nil && !d.due.After(r.call.now) {
				dueNow++
			}
		}
		wake = wake || dueNow > 0
		ds = append(ds, r.deliveries...)
		use.add(ev.TenantID, r.call.now, outlet.Usage{Events: 1, Deliveries: int64(len(r.deliveries))})
		*r.res = outlet.PublishOutcome{Event: ev, Deliveries: len(r.deliveries), DueNow: dueNow}
	}

	b := &pgx.Batch{}
	if len(use) > 0 {
		queueDeliveries(b, ds, use)
	}
	// Deliveries that nobody claimed and that are due now are work for
	// whichever node gets to them first: wake them.
	if wake {
		b.Queue(notifyQuery)
	}
	for _, r := range replays {
		ev := r.req.Event
		b.Queue(replayQuery, ev.TenantID, ev.ID, nullString(ev.IdempotencyKey), skewSlack)
	}
	b.Queue("COMMIT")
	br := q.SendBatch(ctx, b)
	defer br.Close()

	if len(use) > 0 {
		if err := readDeliveries(br, ds, p.s.ids); err != nil {
			return err
		}
	}
	if wake {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	for _, r := range replays {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var counts []int
		found, err := scanAll(rows, func(row pgx.Row) (*outlet.Event, error) {
			var n int
			ev, _, err := scanEvent(row, &n)
			counts = append(counts, n)
			return ev, err
		})
		if err != nil {
			return err
		}
		*r.res = replay(r.req.Event, found, counts)
	}
	// COMMIT answers ROLLBACK when the transaction had failed; it can't
	// have here, where every statement before it succeeded.
	if tag, err := br.Exec(); err != nil {
		return err
	} else if tag.String() != "COMMIT" {
		return fmt.Errorf("publish transaction ended with %s, not COMMIT", tag)
	}
	if err := br.Close(); err != nil {
		return err
	}
	for _, r := range p.rows {
		for _, d := range r.deliveries {
			if d.owner != nil {
				r.res.Claims = append(r.res.Claims, &outlet.Claim{Delivery: d.Delivery, Event: r.req.Event, Endpoint: d.endpoint})
			}
		}
	}
	return nil
}

// replayQuery reads the stored events that hold a request's id or
// idempotency key, with their delivery counts. An event's deliveries are
// written after it, so only the partitions from its day on are looked at.
const replayQuery = `SELECT ` + eventCols + `,
		(SELECT count(*) FROM deliveries d WHERE d.event_seq = events.seq AND d.seq >= events.seq - $4) FROM events
	WHERE seq IN (SELECT seq FROM event_keys WHERE tenant_id = $1 AND (id = $2 OR idempotency_key = $3)) AND tenant_id = $1`

// deliver makes one delivery of the row's event, claimed for the request's
// lease owner if it has one. A delivery to an ordered endpoint waits its
// turn in the store instead, and one to an endpoint the request holds back
// waits until the time it gives.
func (r *publishRow) deliver(target outlet.Target, ep *outlet.Endpoint) {
	ev, now := r.req.Event, r.call.now
	d := &newDelivery{
		Delivery: &outlet.Delivery{
			TenantID: ev.TenantID, EventID: ev.ID, EventType: ev.Type, Target: target, Status: outlet.StatusPending,
			Trigger: outlet.TriggerScheduled, CreatedAt: now, UpdatedAt: now, Ordered: ep != nil && ep.Ordered,
		},
		eventSeq: r.seq, due: now, endpoint: ep,
	}
	claim := r.req.LeaseOwner != "" && !d.Ordered
	if ep != nil {
		if until, ok := r.req.Hold[ep.ID]; ok {
			claim, d.due = false, until
		}
	}
	if claim {
		d.due, d.owner, d.InFlight = r.req.LeaseUntil, &r.req.LeaseOwner, true
	} else {
		due := d.due
		d.NextAttemptAt = &due
	}
	r.deliveries = append(r.deliveries, d)
}

// insertDeliveriesQuery inserts deliveries and adds what the batch used to
// the usage counts, in one statement. It returns enough of each delivery to
// tell which it is: an event has one delivery per target.
//
// A delivery to an ordered endpoint behind another pending one of the same
// endpoint is parked: due at no time until the one before it finishes. The
// batch parks all but the first of an endpoint's itself (due null); the
// first is parked if the endpoint already has one pending.
//
// An ordered delivery's place in its endpoint's queue is its ordinal, which
// the database numbers as the rows are inserted, in the order given: seq
// holds the publishing node's clock, which may be behind another's (see
// migrations/00010_ordinal.sql). Unordered deliveries have none.
var insertDeliveriesQuery = `WITH counted AS (` + addUsageQuery + `)
	INSERT INTO deliveries (seq, tenant_id, event_seq, event_id, event_type, target_type, target_id, status, next_attempt_at,
		lease_owner, ordered, ordinal, created_at, updated_at)
	SELECT ` + seqExpr("deliveries", "r.now") + `, tenant_id, event_seq, event_id, event_type, target_type, target_id, 'pending',
		CASE WHEN r.ordered AND EXISTS (SELECT 1 FROM deliveries x WHERE x.target_id = r.target_id AND x.status = 'pending' AND x.ordered)
			THEN NULL ELSE r.due END,
		owner, ordered, CASE WHEN r.ordered THEN nextval('deliveries_ordinal') END, now, now
	FROM unnest($8::text[], $9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::text[], $16::boolean[],
		$17::bigint[]) AS r(tenant_id, event_seq, event_id, event_type, target_type, target_id, due, owner, ordered, now)
	RETURNING seq, event_seq, target_type, target_id`

// queueDeliveries adds to b the statement that inserts ds and counts use.
func queueDeliveries(b *pgx.Batch, ds []*newDelivery, use usage) {
	n := len(ds)
	tenants, eventIDs, eventTypes, targetTypes, targetIDs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	eventSeqs, nows := make([]int64, n), make([]int64, n)
	dues := make([]*int64, n)
	owners, ordered := make([]*string, n), make([]bool, n)
	firstOrdered := map[string]bool{}
	for i, d := range ds {
		tenants[i], eventSeqs[i], eventIDs[i], eventTypes[i] = d.TenantID, d.eventSeq, d.EventID, d.EventType
		due := ms(d.due)
		targetTypes[i], targetIDs[i], dues[i], owners[i], ordered[i], nows[i] = string(d.Target.Type), d.Target.ID, &due, d.owner, d.Ordered, ms(d.CreatedAt)
		if d.Ordered {
			if firstOrdered[d.Target.ID] {
				dues[i], d.NextAttemptAt = nil, nil // parked behind one of this batch
			}
			firstOrdered[d.Target.ID] = true
		}
	}
	b.Queue(insertDeliveriesQuery, append(use.params(), tenants, eventSeqs, eventIDs, eventTypes, targetTypes, targetIDs, dues, owners,
		ordered, nows)...)
}

// readDeliveries gives each of ds its id.
func readDeliveries(br pgx.BatchResults, ds []*newDelivery, ids *outlet.IDCipher) error {
	type key struct {
		eventSeq int64
		target   outlet.Target
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	seqs := make(map[key]int64, len(ds))
	if _, err := scanAll(rows, func(r pgx.Row) (struct{}, error) {
		var k key
		var seq int64
		err := r.Scan(&seq, &k.eventSeq, &k.target.Type, &k.target.ID)
		seqs[k] = seq
		return struct{}{}, err
	}); err != nil {
		return err
	}
	for _, d := range ds {
		seq, ok := seqs[key{d.eventSeq, d.Target}]
		if !ok {
			return fmt.Errorf("the database returned no position for the delivery of event %d to %s %s", d.eventSeq, d.Target.Type, d.Target.ID)
		}
		d.ID = ids.Encode(outlet.PrefixDelivery, seq)
	}
	return nil
}

// replay answers a publish whose id or idempotency key is taken, given the
// stored events that hold them and their delivery counts: the stored event
// if the content is the same, a conflict if not.
func replay(ev *outlet.Event, found []*outlet.Event, deliveries []int) outlet.PublishOutcome {
	if len(found) == 1 && bytes.Equal(found[0].PayloadHash, ev.PayloadHash) {
		return outlet.PublishOutcome{Event: found[0], Replayed: true, Deliveries: deliveries[0]}
	}
	return outlet.PublishOutcome{Err: outlet.ReplayConflict(ev, found)}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
