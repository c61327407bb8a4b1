package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/outlethq/outlet"
)

// day0 is the first day the tests below write on: long before the real
// today, whose partitions the store makes too.
var day0 = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)

func onDay(i int, d time.Duration) time.Time { return day0.AddDate(0, 0, i).Add(d) }

// loaded is a store with a tenant, an endpoint, and events, deliveries and
// attempts written on several days.
type loaded struct {
	s        *Store
	ep       *outlet.Endpoint
	byDay    [][]*outlet.Delivery // the deliveries written each day
	u        string
	finished int // deliveries of each day that succeeded; the rest pend
}

// load writes perDay events on each of days days, each with one delivery to
// the endpoint, and records a succeeded attempt for all but pending of each
// day's deliveries.
func load(t *testing.T, days, perDay, pending int) *loaded {
	t.Helper()
	u := freshSchema(t)
	s := openStore(t, u)
	l := &loaded{s: s, u: u, finished: perDay - pending}
	ctx := t.Context()
	check(t, s.CreateTenant(ctx, &outlet.Tenant{ID: "acme", Metadata: map[string]string{}, CreatedAt: day0, UpdatedAt: day0}))
	l.ep = &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: "acme", URL: "https://hooks.example.com/outlet",
		EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{}, Secret: outlet.NewEndpointSecret(),
		CreatedAt: day0, UpdatedAt: day0}
	check(t, s.CreateEndpoint(ctx, l.ep))
	for i := range days {
		now := onDay(i, time.Hour)
		var ds []*outlet.Delivery
		for len(ds) < perDay {
			var reqs []*outlet.PublishRequest
			for range min(500, perDay-len(ds)) {
				reqs = append(reqs, &outlet.PublishRequest{
					Event: &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: "acme", Type: "invoice.paid", Data: []byte(`{"n":1}`),
						Timestamp: now, CreatedAt: now, PayloadHash: outlet.ContentHash("invoice.paid", []byte(`{"n":1}`))},
					LeaseOwner: "node-a", LeaseUntil: now.Add(time.Minute),
				})
			}
			res, err := s.PublishEvents(ctx, reqs, now)
			check(t, err)
			var outcomes []*outlet.AttemptOutcome
			for _, r := range res {
				check(t, r.Err)
				d := r.Claims[0].Delivery
				ds = append(ds, d)
				if len(ds) <= l.finished {
					outcomes = append(outcomes, &outlet.AttemptOutcome{TenantID: "acme", DeliveryID: d.ID, EndpointID: l.ep.ID, Owner: "node-a",
						Status: outlet.StatusSucceeded, Attempt: &outlet.Attempt{Trigger: outlet.TriggerScheduled, URL: l.ep.URL,
							StartedAt: now.Add(time.Second), Succeeded: true, StatusCode: 200, ResponseBody: "ok"}})
				}
			}
			if len(outcomes) > 0 {
				_, err = s.CompleteAttempts(ctx, outcomes, now.Add(2*time.Second), now.Add(-time.Hour))
				check(t, err)
			}
		}
		l.byDay = append(l.byDay, ds)
	}
	return l
}

// partitionRows counts the rows of each partition of table.
func partitionRows(t *testing.T, schema, table string) map[string]int {
	t.Helper()
	var names []string
	query(t, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = $1 AND p.relname = $2`, []any{schema, table}, func(r pgx.Rows) error {
		var name string
		err := r.Scan(&name)
		names = append(names, name)
		return err
	})
	out := map[string]int{}
	for _, name := range names {
		query(t, fmt.Sprintf(`SELECT count(*) FROM %s.%s`, schema, name), nil, func(r pgx.Rows) error {
			var n int
			err := r.Scan(&n)
			out[name] = n
			return err
		})
	}
	return out
}

func TestRetentionDropsTheExpiredDaysPartitionsAndLeavesTheOthersAlone(t *testing.T) {
	t.Parallel()
	// Day 0 has a delivery still pending, days 1 and 2 only finished ones,
	// day 3 is recent.
	l := load(t, 4, 20, 0)
	ctx := t.Context()
	pending := l.byDay[0][0]
	_, err := l.s.pool.Exec(ctx, `UPDATE deliveries SET status = 'pending', lease_owner = NULL WHERE seq = $1`, mustSeq(t, l.s, pending.ID))
	check(t, err)
	schema := schemaOf(t, l.u)
	before := map[string]map[string]int{}
	for _, table := range partitionedTables {
		before[table] = partitionRows(t, schema, table)
	}

	// Day 2 is expired once it ended expirySlack before the cutoff.
	p, err := l.s.PurgeExpired(ctx, onDay(3, time.Duration(expirySlack)*time.Millisecond), 1000)
	check(t, err)
	if p.Partitions != 6 || p.Events != 40 || p.Deliveries != 40 || p.Attempts != 40 || p.HeldBy != pending.ID {
		t.Errorf("PurgeExpired = %+v; want days 1 and 2 dropped (6 partitions of 40 rows each) and held by %s", p, pending.ID)
	}
	for _, table := range partitionedTables {
		after := partitionRows(t, schema, table)
		for name, n := range before[table] {
			gone := name == partitionName(table, dayOf(ms(onDay(1, 0)))) || name == partitionName(table, dayOf(ms(onDay(2, 0))))
			got, ok := after[name]
			switch {
			case gone && ok:
				t.Errorf("partition %s is still attached after retention", name)
			case !gone && (!ok || got != n):
				t.Errorf("partition %s has %d rows (attached %v) after retention; had %d", name, got, ok, n)
			}
		}
		var left int
		query(t, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
			[]any{schema, partitionName(table, dayOf(ms(onDay(1, 0))))}, func(r pgx.Rows) error { return r.Scan(&left) })
		if left != 0 {
			t.Errorf("the dropped partition of %s is still a table", table)
		}
	}
	// Day 0's rows are all kept, and what is in them answers as before.
	if d, err := l.s.Delivery(ctx, "acme", pending.ID); err != nil || d.Status != outlet.StatusPending {
		t.Errorf("the pending delivery reads back as %+v, %v", d, err)
	}
	if _, err := l.s.Event(ctx, "acme", l.byDay[0][1].EventID); err != nil {
		t.Errorf("an event of a day held by a pending delivery: %v", err)
	}
}

// A delivery can outlive its event: an event's day dropped before the day
// of a delivery made later for it, or by hand. Reading it still answers.
func TestADeliveryWhoseEventsPartitionIsGoneAnswersWithoutIt(t *testing.T) {
	t.Parallel()
	l := load(t, 1, 2, 0)
	ctx := t.Context()
	d := l.byDay[0][0]
	_, err := l.s.pool.Exec(ctx, `DROP TABLE `+partitionName("events", dayOf(ms(day0))))
	check(t, err)
	got, err := l.s.Delivery(ctx, "acme", d.ID)
	check(t, err)
	if got.EventID != d.EventID {
		t.Errorf("delivery reads back with event %s; want %s", got.EventID, d.EventID)
	}
	as, err := l.s.ListAttempts(ctx, "acme", d.ID)
	if err != nil || len(as) != 1 {
		t.Errorf("ListAttempts = %d attempts, %v; want its one attempt", len(as), err)
	}
	_, err = l.s.Event(ctx, "acme", d.EventID)
	if outlet.ErrorCode(err) != outlet.ENOTFOUND {
		t.Errorf("Event = %v; want ENOTFOUND", err)
	}
	if ds, _, err := l.s.ListDeliveries(ctx, "acme", outlet.DeliveryFilter{EventID: d.EventID}); err != nil {
		t.Errorf("listing the deliveries of the gone event: %v", err)
	} else if len(ds) != 1 {
		t.Errorf("listing the deliveries of the gone event found %d; want its 1", len(ds))
	}
	_, err = l.s.RetryDelivery(ctx, "acme", d.ID, "node-a", time.Now(), time.Now().Add(time.Minute))
	if outlet.ErrorCode(err) != outlet.ECONFLICT {
		t.Errorf("RetryDelivery = %v; want ECONFLICT: its payload is gone", err)
	}
	// Deleting the endpoint takes the delivery and its attempt along.
	check(t, l.s.DeleteEndpoint(ctx, "acme", l.ep.ID))
	var n int
	check(t, l.s.pool.QueryRow(ctx, `SELECT count(*) FROM attempts`).Scan(&n))
	if n != 0 {
		t.Errorf("%d attempts left after deleting the endpoint of their deliveries; want 0", n)
	}
}

func mustSeq(t *testing.T, s *Store, deliveryID string) int64 {
	t.Helper()
	seq, ok := s.ids.Decode(outlet.PrefixDelivery, deliveryID)
	if !ok {
		t.Fatalf("%s is not a delivery id", deliveryID)
	}
	return seq
}

// recorder keeps the statements a pool sends, with their arguments: alone,
// and in batches (the publish and the completion of attempts send theirs so).
type recorder struct {
	mu    sync.Mutex
	stmts []recorded
}

type recorded struct {
	sql  string
	args []any
}

func (r *recorder) add(sql string, args []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stmts = append(r.stmts, recorded{sql, args})
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	r.add(data.SQL, data.Args)
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *recorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

// TraceBatchQuery is called for each statement of a batch as its result is
// read, Close reading those the caller didn't.
func (r *recorder) TraceBatchQuery(_ context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	r.add(data.SQL, data.Args)
}

func (r *recorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// last returns the last statement recorded that holds text, and forgets them
// all.
func (r *recorder) last(t *testing.T, text string) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() { r.stmts = nil }()
	for i := len(r.stmts) - 1; i >= 0; i-- {
		if strings.Contains(r.stmts[i].sql, text) {
			return r.stmts[i]
		}
	}
	t.Fatalf("no statement holding %q was sent", text)
	return recorded{}
}

// planNode is a node of EXPLAIN (ANALYZE, FORMAT JSON)'s plan.
type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Cond     string     `json:"Index Cond"`
	Loops    float64    `json:"Actual Loops"`
	Plans    []planNode `json:"Plans"`
}

func (n planNode) walk(fn func(planNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}

// explain runs a statement under EXPLAIN ANALYZE, in a transaction it rolls
// back, planned as plan_cache_mode says, and returns its plan.
func explain(t *testing.T, pool *pgxpool.Pool, st recorded, planCacheMode string) planNode {
	t.Helper()
	ctx := t.Context()
	tx, err := pool.Begin(ctx)
	check(t, err)
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, `SELECT set_config('plan_cache_mode', $1, true)`, planCacheMode)
	check(t, err)
	var out []byte
	if err := tx.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+st.sql, st.args...).Scan(&out); err != nil {
		t.Fatalf("explain %s: %v", st.sql, err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("read the plan %s: %v", out, err)
	}
	return plans[0].Plan
}

// TestHotQueriesUseIndexesAndReadOnlyThePartitionsTheyNeed proves, from the
// plans Postgres chose and ran (node types and which nodes ran, never
// timings), on six days of partitions with 2,000 rows each and statistics
// gathered, planned both for the statement's parameters and for any (as a
// prepared statement may be after five runs), that: no statement of the hot path or of the list routes reads
// a partition of events, deliveries or attempts that holds rows whole (no
// Seq Scan; the empty partitions of the days ahead are, at no cost); lookups
// by id read one partition; an event's deliveries and a delivery's attempts
// are never looked for in partitions older than it; and a newest-first list
// stops at the newest partition that fills its page, never running the
// scans of the older days; recording an attempt's outcome updates its
// delivery by key in the delivery's own partition and reads no attempts;
// and an ordered endpoint's queue, when a publish joins it and when its next
// delivery is made due, is looked up by the endpoint in deliveries_ordered
// (in every partition: see completeQuery), never by reading that index
// whole. Planner costs decide between index and
// sequential scans; with 2,000 rows a partition a sequential scan would be
// the cheaper choice for any of these statements that could not use an
// index, so a plan without one shows that the index applies.
func TestHotQueriesUseIndexesAndReadOnlyThePartitionsTheyNeed(t *testing.T) {
	t.Parallel()
	l := load(t, 6, 2000, 5)
	ctx := t.Context()
	ordered, queue := orderedQueue(t, l.s, 6)
	rec := &recorder{}
	cfg, err := pgxpool.ParseConfig(l.u)
	check(t, err)
	cfg.ConnConfig.RuntimeParams["random_page_cost"] = "1.1"
	cfg.ConnConfig.Tracer = rec
	traced, err := pgxpool.NewWithConfig(ctx, cfg)
	check(t, err)
	l.s.pool.Close()
	l.s.pool = traced
	_, err = traced.Exec(ctx, `ANALYZE events, deliveries, attempts, event_keys`)
	check(t, err)

	oldDay, midDay, newDay := dayOf(ms(onDay(0, 0))), dayOf(ms(onDay(3, 0))), dayOf(ms(onDay(5, 0)))
	mid := l.byDay[3][10]
	type rule struct {
		name string
		call func() error
		// table is the table whose partitions are checked; at most
		// partitions of it may run; none of skipped may run.
		table   string
		at      int
		skipped []int64
		// index, if set, is (the end of the name of) the index that the
		// partitions that run must be read by.
		index string
		// stmt, if set, is text of the statement to check among those the
		// call sends; else it is the last that reads table.
		stmt string
	}
	page := outlet.Page{Limit: 50}
	rules := []rule{
		{"a delivery by id", func() error { _, err := l.s.Delivery(ctx, "acme", mid.ID); return err }, "deliveries", 1, nil, "", ""},
		{"an event by id", func() error { _, err := l.s.Event(ctx, "acme", mid.EventID); return err }, "events", 1, nil, "", ""},
		{"the attempts of a delivery", func() error { _, err := l.s.ListAttempts(ctx, "acme", mid.ID); return err }, "attempts", 0,
			[]int64{oldDay, oldDay + 1, oldDay + 2}, "", ""},
		{"the deliveries of an event", func() error {
			_, _, err := l.s.ListDeliveries(ctx, "acme", outlet.DeliveryFilter{EventID: mid.EventID, Page: page})
			return err
		}, "deliveries", 0, []int64{oldDay, oldDay + 1, oldDay + 2}, "", ""},
		{"a tenant's deliveries", func() error {
			_, _, err := l.s.ListDeliveries(ctx, "acme", outlet.DeliveryFilter{Page: page})
			return err
		}, "deliveries", 0, []int64{oldDay, midDay, newDay - 1}, "", ""},
		{"an endpoint's deliveries", func() error {
			_, _, err := l.s.ListDeliveries(ctx, "acme", outlet.DeliveryFilter{EndpointID: l.ep.ID, Page: page})
			return err
		}, "deliveries", 0, []int64{oldDay, midDay, newDay - 1}, "", ""},
		{"a tenant's events", func() error {
			_, _, err := l.s.ListEvents(ctx, "acme", outlet.EventFilter{Page: page})
			return err
		}, "events", 0, []int64{oldDay, midDay, newDay - 1}, "", ""},
		{"claiming due deliveries", func() error {
			_, err := l.s.ClaimDue(ctx, "node-b", time.Now(), time.Now().Add(time.Minute), 10)
			return err
		}, "deliveries", 0, nil, "", ""},
		{"pulling an endpoint's parked deliveries", func() error {
			_, err := l.s.ClaimParked(ctx, "node-b", l.ep.ID, time.Now().Add(time.Minute), time.Now().Add(time.Minute), 10)
			return err
		}, "deliveries", 0, nil, "target_id_next_attempt_at_idx", ""},
		// The outcomes below skip the lease check (no owner), so that
		// EXPLAIN ANALYZE, running the statement again, updates and inserts
		// as the call did.
		{name: "recording an attempt's outcome updates its delivery", call: func() error {
			_, err := l.s.CompleteAttempts(ctx, []*outlet.AttemptOutcome{succeeded(l.byDay[3][l.finished], l.ep, onDay(3, 2*time.Hour))},
				onDay(3, 2*time.Hour), onDay(3, time.Hour))
			return err
		}, table: "deliveries", at: 1, index: "_pkey", stmt: completeQuery},
		{name: "recording an attempt's outcome inserts the attempt", call: func() error {
			_, err := l.s.CompleteAttempts(ctx, []*outlet.AttemptOutcome{succeeded(l.byDay[4][l.finished], l.ep, onDay(4, 2*time.Hour))},
				onDay(4, 2*time.Hour), onDay(4, time.Hour))
			return err
		}, table: "attempts", skipped: dayRange(oldDay, newDay), stmt: completeQuery},
		{name: "an ordered endpoint's next delivery is made due", call: func() error {
			o := succeeded(queue[0], ordered, onDay(0, 3*time.Hour))
			o.Ordered = true
			_, err := l.s.CompleteAttempts(ctx, []*outlet.AttemptOutcome{o}, onDay(0, 3*time.Hour), onDay(0, time.Hour))
			return err
		}, table: "deliveries", index: "target_id_ordinal_idx", stmt: completeQuery},
		{name: "publishing to an ordered endpoint looks for its queue by the endpoint", call: func() error {
			now := onDay(5, 3*time.Hour)
			res, err := l.s.PublishEvents(ctx, []*outlet.PublishRequest{{Event: &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent),
				TenantID: "globex", Type: "order.placed", Data: []byte(`{}`), Timestamp: now, CreatedAt: now,
				PayloadHash: outlet.ContentHash("order.placed", []byte(`{}`))}}}, now)
			if err == nil {
				err = res[0].Err
			}
			return err
		}, table: "deliveries", index: "target_id_ordinal_idx", stmt: insertDeliveriesQuery},
	}
	// checkPlan checks a plan of r's statement against r.
	checkPlan := func(t *testing.T, r rule, plan planNode) {
		t.Helper()
		var ran []string
		used := false
		plan.walk(func(n planNode) {
			if !strings.HasPrefix(n.Relation, r.table) {
				return
			}
			// An empty partition (today's and the days ahead, the
			// legacy one) is read by a Seq Scan of no pages.
			if n.NodeType == "Seq Scan" && n.Relation >= partitionName(r.table, oldDay) && n.Relation <= partitionName(r.table, newDay) {
				t.Errorf("%s reads partition %s whole (Seq Scan)", r.name, n.Relation)
			}
			// The table itself is named by the nodes that write to it.
			if n.Loops > 0 && n.Relation != r.table {
				ran = append(ran, n.Relation)
			}
			// Besides the index it must use, a statement may find rows
			// by their key (an update's join), and by nothing else; and
			// it looks them up in the index, rather than reading it
			// whole for the rows its condition holds.
			if r.index != "" && n.Index != "" && n.Loops > 0 {
				switch {
				case strings.HasSuffix(n.Index, r.index):
					used = true
				case !strings.HasSuffix(n.Index, "_pkey"):
					t.Errorf("%s reads %s by %s; want the index ending %s", r.name, n.Relation, n.Index, r.index)
				}
				if n.Cond == "" {
					t.Errorf("%s reads the whole of index %s", r.name, n.Index)
				}
			}
			for _, day := range r.skipped {
				if n.Relation == partitionName(r.table, day) && n.Loops > 0 {
					t.Errorf("%s read partition %s, which can't hold what it looks for", r.name, n.Relation)
				}
			}
		})
		if r.index != "" && !used {
			t.Errorf("%s doesn't read the index ending %s", r.name, r.index)
		}
		slices.Sort(ran)
		ran = slices.Compact(ran)
		if r.at > 0 && len(ran) > r.at {
			t.Errorf("%s read partitions %v; want at most %d", r.name, ran, r.at)
		}
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			check(t, r.call())
			st := rec.last(t, cmp.Or(r.stmt, "FROM "+r.table))
			// The store's statements are prepared, which Postgres plans for
			// their parameters at first and may plan once for any after
			// five runs.
			for _, mode := range []string{"auto", "force_generic_plan"} {
				t.Run("plan_cache_mode="+mode, func(t *testing.T) {
					plan := explain(t, traced, st, mode)
					checkPlan(t, r, plan)
					if t.Failed() {
						out, _ := json.MarshalIndent(plan, "", " ")
						t.Logf("%s\n%s", st.sql, out)
					}
				})
			}
		})
	}
}

// orderedQueue makes tenant globex with an ordered endpoint and publishes an
// event to it on each of days days: the first delivery is due, the others
// wait behind it. It returns the endpoint and its deliveries in order.
func orderedQueue(t *testing.T, s *Store, days int) (*outlet.Endpoint, []*outlet.Delivery) {
	t.Helper()
	ctx := t.Context()
	check(t, s.CreateTenant(ctx, &outlet.Tenant{ID: "globex", Metadata: map[string]string{}, CreatedAt: day0, UpdatedAt: day0}))
	ep := &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: "globex", URL: "https://hooks.example.com/globex",
		EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{}, Secret: outlet.NewEndpointSecret(),
		Ordered: true, CreatedAt: day0, UpdatedAt: day0}
	check(t, s.CreateEndpoint(ctx, ep))
	var queue []*outlet.Delivery
	for i := range days {
		now := onDay(i, 2*time.Hour)
		ev := &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: "globex", Type: "order.placed", Data: []byte(`{}`),
			Timestamp: now, CreatedAt: now, PayloadHash: outlet.ContentHash("order.placed", []byte(`{}`))}
		res, err := s.PublishEvents(ctx, []*outlet.PublishRequest{{Event: ev}}, now)
		check(t, err)
		check(t, res[0].Err)
		ds, _, err := s.ListDeliveries(ctx, "globex", outlet.DeliveryFilter{EventID: ev.ID})
		check(t, err)
		queue = append(queue, ds...)
	}
	if len(queue) != days || queue[0].NextAttemptAt == nil || queue[1].NextAttemptAt != nil {
		t.Fatalf("the ordered endpoint's queue is %+v; want %d deliveries, the first due, the others parked", queue, days)
	}
	return ep, queue
}

// succeeded is the outcome of a successful attempt of d started at at, to be
// recorded whichever node holds d.
func succeeded(d *outlet.Delivery, ep *outlet.Endpoint, at time.Time) *outlet.AttemptOutcome {
	return &outlet.AttemptOutcome{TenantID: d.TenantID, DeliveryID: d.ID, EndpointID: ep.ID, Status: outlet.StatusSucceeded,
		Attempt: &outlet.Attempt{Trigger: outlet.TriggerScheduled, URL: ep.URL, StartedAt: at, Succeeded: true, StatusCode: 200, ResponseBody: "ok"}}
}

// dayRange is the days from first to last.
func dayRange(first, last int64) []int64 {
	var out []int64
	for d := first; d <= last; d++ {
		out = append(out, d)
	}
	return out
}

func TestSeqAtKeepsTimeOrderAtTheEdges(t *testing.T) {
	t.Parallel()
	times := []int64{-1 << 62, -1 << 43, -1, 0, 1, ms(day0), 1<<43 - 1, 1 << 43, 1 << 62}
	for i := 1; i < len(times); i++ {
		if a, b := seqAt(times[i-1]), seqAt(times[i]); a > b {
			t.Errorf("seqAt(%d) = %d is above seqAt(%d) = %d", times[i-1], a, times[i], b)
		}
	}
	if seqAt(ms(day0))>>counterBits != ms(day0) {
		t.Errorf("seqAt(%d) doesn't keep its milliseconds", ms(day0))
	}
}
