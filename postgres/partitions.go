package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/outlethq/outlet"
)

// Events, deliveries and attempts are partitioned by seq, one partition per
// UTC day (see migrations/00009_partitions.sql). seq is made of the row's
// time in Unix milliseconds, shifted left by counterBits, and the low bits of
// a sequence: so seq orders rows as they were written, and a range of seq is
// a range of time.
//
// A day per partition: at a billion deliveries a month a day of deliveries
// is some 30 million rows, small enough to drop at once and to keep each
// partition's indexes in memory while it is the one being written, and a
// retention of 30 to 90 days is 30 to 90 partitions per table, few enough
// that planning a query that can't prune stays cheap. Retention frees space
// a day late at most.
const (
	counterBits = 20
	counterMask = 1<<counterBits - 1
	msPerDay    = 24 * 60 * 60 * 1000
	// legacyBound is the upper bound of the legacy partitions, which hold
	// the rows from before partitioning: their seq came from identity
	// columns, so they are small numbers, well below the first day.
	legacyBound = msPerDay << counterBits
	// daysAhead is how many days after today have their partitions made
	// ahead of time.
	daysAhead = 3
	// skewSlack is how far apart in time the rows of one delivery (its
	// event, itself, its attempts) may be written by nodes whose clocks
	// disagree. Retention looks that far beyond a partition's bounds for
	// pending deliveries that may still need it.
	skewSlack = int64(time.Hour/time.Millisecond) << counterBits
	// ddlLockTimeout bounds how long making or dropping a partition waits
	// for its locks: dropping one locks the parent table, and a DDL
	// statement waiting for a long query would hold up every statement
	// queued behind it. A round that times out is tried again at the next.
	ddlLockTimeout = "2s"
	// expirySlack is how long after a day ends its partitions may still
	// take rows (Unix ms): a write that read its time just before midnight
	// commits later, by as long as an operation may take, and a node whose
	// clock is behind writes its rows in the day before. Retention drops a
	// day only once it ended this long before the cutoff.
	expirySlack = int64((time.Hour + 5*time.Minute) / time.Millisecond)
)

// partitionedTables are the tables partitioned by day, children first: the
// order partitions are dropped in.
var partitionedTables = []string{"attempts", "deliveries", "events"}

// seqExpr is the SQL expression that makes the seq of a row of table
// written at msExpr (an expression in Unix milliseconds).
func seqExpr(table, msExpr string) string {
	return "((" + msExpr + ")::bigint << " + strconv.Itoa(counterBits) + " | (nextval('" + table + "_seq') & " + strconv.Itoa(counterMask) + "))"
}

// seqAt is the lowest seq of a row written at ms; times beyond what seq
// can hold (before 1970 less 278 years, after 2248) are the lowest and
// highest seq.
func seqAt(ms int64) int64 {
	const limit = 1 << (63 - counterBits)
	switch {
	case ms >= limit:
		return math.MaxInt64
	case ms < -limit:
		return math.MinInt64
	}
	return ms << counterBits
}

// dayOf is the UTC day (days since 1970-01-01) of a time in Unix ms.
func dayOf(ms int64) int64 {
	d := ms / msPerDay
	if ms < 0 && ms%msPerDay != 0 {
		d--
	}
	return d
}

// partitionName is the name of table's partition for a day.
func partitionName(table string, day int64) string {
	return table + "_p" + time.UnixMilli(day*msPerDay).UTC().Format("20060102")
}

// sinceSeq and beforeSeq are the conditions on seq that match created_at >=
// since and created_at < before, for the partitions to prune: seq holds the
// very millisecond of created_at, but for the legacy rows.
func sinceSeq(p *params, since time.Time) string {
	return "(seq >= " + p.add(seqAt(ms(since))) + " OR seq < " + strconv.FormatInt(legacyBound, 10) + ")"
}

func beforeSeq(p *params, before time.Time) string {
	return "seq < " + p.add(max(seqAt(ms(before)), legacyBound))
}

// partitionDays remembers the days whose partitions this store knows exist,
// so that a write only takes the slow path the first time it meets a day.
type partitionDays struct {
	mu   sync.Mutex
	days map[int64]bool
}

func (p *partitionDays) missing(days []int64) []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int64
	for _, d := range days {
		if !p.days[d] && d >= 1 { // day 0 is in the legacy partition
			out = append(out, d)
		}
	}
	return out
}

func (p *partitionDays) set(day int64, exists bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.days == nil {
		p.days = map[int64]bool{}
	}
	if exists {
		p.days[day] = true
	} else {
		delete(p.days, day)
	}
}

func (p *partitionDays) forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.days = nil
}

// MaintainPartitions makes the partitions of the day of now and of the
// days after it, so that no write waits for one to be made.
func (s *Store) MaintainPartitions(ctx context.Context, now time.Time) error {
	today := dayOf(ms(now))
	days := make([]int64, 0, daysAhead+1)
	for d := today; d <= today+daysAhead; d++ {
		days = append(days, d)
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	return s.ensurePartitions(ctx, days...)
}

// ensurePartitions makes the partitions of the days (of every partitioned
// table) that this store doesn't know exist, unless another node made them.
func (s *Store) ensurePartitions(ctx context.Context, days ...int64) error {
	for _, day := range s.parts.missing(days) {
		if err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error { return createPartitions(ctx, tx, day) }); err != nil {
			return fmt.Errorf("make the partitions of %s: %w", time.UnixMilli(day*msPerDay).UTC().Format(time.DateOnly), err)
		}
		s.parts.set(day, true)
	}
	return nil
}

// createPartitions makes the day's partitions that don't exist. Each is made
// as a table of its own and then attached, which locks the parent only
// against other changes of its partitions, not against reads and writes
// (CREATE TABLE … PARTITION OF would lock out both). Nodes making the same
// day's partitions take turns on an advisory lock.
func createPartitions(ctx context.Context, tx pgx.Tx, day int64) error {
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+ddlLockTimeout+`'`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext(current_schema() || ' partitions'))`); err != nil {
		return err
	}
	lo, hi := seqAt(day*msPerDay), seqAt((day+1)*msPerDay)
	for _, table := range partitionedTables {
		name := partitionName(table, day)
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass(quote_ident(current_schema()) || '.' || $1) IS NOT NULL`, name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			continue
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS)`, name, table)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%d) TO (%d)`, table, name, lo, hi)); err != nil {
			return err
		}
	}
	return nil
}

// missingPartition reports whether err is a write that found no partition
// for its row: one dropped by another node's retention since this store
// last made sure its day existed. It goes by the SQLSTATE and the table the
// server names, not by the message, which is translated under a
// non-English lc_messages; a CHECK constraint's violation, the other 23514,
// names its constraint.
func missingPartition(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23514" || pe.ConstraintName != "" {
		return false
	}
	return slices.Contains(partitionedTables, pe.TableName)
}

// writeDays are the days of the times a write is about to store rows at.
func writeDays(times ...time.Time) []int64 {
	var days []int64
	for _, t := range times {
		d := dayOf(ms(t))
		if len(days) == 0 || days[len(days)-1] != d {
			days = append(days, d)
		}
	}
	return days
}

// partition is one partition of a partitioned table, as retention sees it.
type partition struct {
	table, name string
	lo, hi      int64   // its range of seq
	until       int64   // the time (Unix ms) its rows were all written before
	rows        float64 // the planner's estimate of its rows
}

// partitions lists the partitions of table that retention manages: the
// legacy one and the daily ones, lowest first. Partitions an operator
// attached under other names are left alone.
func partitions(ctx context.Context, q querier, table string, legacyUntil int64) ([]partition, error) {
	rows, err := q.Query(ctx, `SELECT c.relname, greatest(c.reltuples, 0) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = $1::regclass ORDER BY c.relname`, table)
	if err != nil {
		return nil, err
	}
	all, err := scanAll(rows, func(r pgx.Row) (partition, error) {
		p := partition{table: table}
		err := r.Scan(&p.name, &p.rows)
		return p, err
	})
	if err != nil {
		return nil, err
	}
	var out []partition
	for _, p := range all {
		suffix := strings.TrimPrefix(p.name, table+"_")
		switch day, err := time.Parse("p20060102", suffix); {
		case suffix == "legacy":
			p.lo, p.hi, p.until = math.MinInt64, legacyBound, legacyUntil
		case err == nil && suffix == day.Format("p20060102"):
			d := dayOf(day.UnixMilli())
			p.lo, p.hi, p.until = seqAt(d*msPerDay), seqAt((d+1)*msPerDay), (d+1)*msPerDay
		default:
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// pendingIn returns the oldest pending delivery that the partition holds or
// that needs it: a delivery pending in it, or whose event or attempts are in
// it. It looks skewSlack beyond the partition's bounds, for the rows of one
// delivery that nodes whose clocks disagree wrote on either side of
// midnight. ok is false if there is none.
func pendingIn(ctx context.Context, q querier, part partition) (seq int64, ok bool, err error) {
	loSlack := part.lo
	if part.lo != math.MinInt64 {
		loSlack -= skewSlack
	}
	var row pgx.Row
	switch part.table {
	case "deliveries":
		row = q.QueryRow(ctx, `SELECT seq FROM deliveries WHERE status = 'pending' AND seq >= $1 AND seq < $2 ORDER BY seq LIMIT 1`,
			part.lo, part.hi)
	case "events":
		// The deliveries of an event are written after it.
		row = q.QueryRow(ctx, `SELECT seq FROM deliveries WHERE status = 'pending' AND event_seq >= $1 AND event_seq < $2 AND seq >= $3
			ORDER BY seq LIMIT 1`, part.lo, part.hi, loSlack)
	case "attempts":
		// A delivery's attempts are written after it; only the
		// partition's own attempts are looked at.
		row = q.QueryRow(ctx, `SELECT d.seq FROM deliveries d WHERE d.status = 'pending' AND d.seq < $1
			AND EXISTS (SELECT 1 FROM `+pgx.Identifier{part.name}.Sanitize()+` a WHERE a.delivery_seq = d.seq) ORDER BY d.seq LIMIT 1`,
			part.hi+skewSlack)
	}
	switch err := row.Scan(&seq); {
	case err == nil:
		return seq, true, nil
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil
	default:
		return 0, false, err
	}
}

// partitionDay is the partitions of one day (or the legacy ones) that
// retention may drop, by table.
type partitionDay struct {
	lo    int64
	until int64
	parts map[string]*partition
}

// expired reports whether every row of the day is older than cutoff (Unix
// ms). A daily partition is given expirySlack more: a write may have read its
// time just before midnight, or on a node whose clock is behind, and commit
// that much later. The legacy partitions take no new rows.
func (d *partitionDay) expired(cutoff int64) bool {
	if d.lo == math.MinInt64 {
		return d.until <= cutoff
	}
	return d.until+expirySlack <= cutoff
}

// errHeld rolls back a transaction that found, under its locks, a pending
// delivery that needs what it was dropping.
var errHeld = errors.New("a pending delivery needs the partition")

func (s *Store) PurgeExpired(ctx context.Context, cutoff time.Time, limit int) (outlet.Purged, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var p outlet.Purged
	// Invocations are written in the order they start, so the oldest are
	// the first rows: look no further than limit of them.
	tag, err := s.pool.Exec(ctx, `DELETE FROM invocations WHERE started_at < $1 AND seq IN (SELECT seq FROM invocations ORDER BY seq LIMIT $2)`,
		ms(cutoff), limit)
	if err != nil {
		return p, dbErr(err)
	}
	p.Invocations = int(tag.RowsAffected())

	legacyUntil, err := s.partitionedAt(ctx)
	if err != nil {
		return p, err
	}
	// The expired partitions, by day, oldest day first.
	var days []*partitionDay
	byLo := map[int64]*partitionDay{}
	for _, table := range partitionedTables {
		parts, err := partitions(ctx, s.pool, table, legacyUntil)
		if err != nil {
			return p, dbErr(err)
		}
		for _, part := range parts {
			d := byLo[part.lo]
			if d == nil {
				d = &partitionDay{lo: part.lo, until: part.until, parts: map[string]*partition{}}
				if !d.expired(ms(cutoff)) {
					continue
				}
				byLo[part.lo] = d
				days = append(days, d)
			}
			d.parts[table] = &part
		}
	}
	slices.SortFunc(days, func(a, b *partitionDay) int { return cmp.Compare(a.lo, b.lo) })

	held := int64(math.MaxInt64)
	hold := func(seq int64) { held = min(held, seq) }
	for _, d := range days {
		// A first look, without locks, leaves out what is plainly held:
		// the look under locks, which holds writes up, is for what a
		// caller changed since.
		for table, part := range d.parts {
			pending, ok, err := pendingIn(ctx, s.pool, *part)
			if err != nil {
				return p, dbErr(err)
			}
			if ok {
				hold(pending)
				delete(d.parts, table)
				continue
			}
			if part.rows <= 0 {
				// Never analyzed: small, or new; count it.
				if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{part.name}.Sanitize()).Scan(&part.rows); err != nil {
					return p, dbErr(err)
				}
			}
		}
		dropped, err := s.dropDay(ctx, d, hold)
		if err != nil {
			return p, err
		}
		for _, part := range dropped {
			p.Partitions++
			switch part.table {
			case "events":
				p.Events += int(part.rows)
			case "deliveries":
				p.Deliveries += int(part.rows)
			case "attempts":
				p.Attempts += int(part.rows)
			}
			if part.lo != math.MinInt64 {
				s.parts.set(dayOf(part.lo>>counterBits), false)
			}
		}
	}
	if held != math.MaxInt64 {
		p.HeldBy = s.ids.Encode(outlet.PrefixDelivery, held)
	}

	// The keys of events whose partitions are gone: those in the gaps
	// between the partitions of events left. Only keys older than the
	// cutoff: a gap newer than it may be a day whose partition a write is
	// making right now, keys and all. A key is a narrow row, so a pass
	// deletes ten times limit of them: a day of a busy store's keys takes a
	// few passes, not thousands, each looking at the partitions again.
	parts, err := partitions(ctx, s.pool, "events", legacyUntil)
	if err != nil {
		return p, dbErr(err)
	}
	var gaps []string
	var args []any
	from := int64(math.MinInt64)
	for _, part := range parts {
		if part.lo > from {
			gaps = append(gaps, fmt.Sprintf("(seq >= $%d AND seq < $%d)", len(args)+1, len(args)+2))
			args = append(args, from, part.lo)
		}
		from = part.hi
	}
	if len(gaps) > 0 {
		keys := 10 * limit
		args = append(args, seqAt(ms(cutoff))-skewSlack)
		tag, err := s.pool.Exec(ctx, `DELETE FROM event_keys WHERE seq IN (SELECT seq FROM event_keys WHERE (`+strings.Join(gaps, " OR ")+
			`) AND seq < $`+strconv.Itoa(len(args))+` LIMIT `+strconv.Itoa(keys)+`)`, args...)
		if err != nil {
			return p, dbErr(err)
		}
		p.More = int(tag.RowsAffected()) == keys
	}
	p.More = p.More || p.Invocations == limit
	return p, nil
}

// dropDay drops the partitions of one day that d still lists, children
// first, and returns those it dropped; hold is told of a pending delivery
// that kept one. A delivery is made pending again (retry, recover) by an
// UPDATE of deliveries, so each partition is looked at once more, in the
// transaction that drops it, under a lock that keeps that from happening
// until the drop commits; without it a delivery re-opened between the first
// look and the drop would keep its delivery row but lose its attempts or
// its event.
//
// Two transactions, because the writers take locks in both orders: a
// publish writes events, then deliveries; a claim, a retry or a recover
// writes deliveries, then reads events. Holding a lock on deliveries while
// waiting for one on events (or the reverse) could deadlock with either.
//
//   - Attempts and deliveries: deliveries is locked first, then its
//     partitions looked at, then attempts' partition dropped (nothing that
//     holds a lock on attempts waits for deliveries: every statement that
//     writes attempts writes deliveries first), then deliveries'. The lock
//     is SHARE ROW EXCLUSIVE, which stops writes but not reads, when only
//     attempts go; ACCESS EXCLUSIVE, which the drop takes anyway, when
//     deliveries' partition goes too: taking it at once rather than after
//     a weaker one lets a retry that locked its row before wait its turn
//     instead of deadlocking.
//   - Events: the partition is dropped first (which locks events against
//     everything), then looked at: every way a delivery becomes pending
//     reads or writes its event in the same transaction first (a publish
//     writes it, a retry loads it, a recover checks it has data), so one
//     that committed before is seen, and one after finds the event gone and
//     is refused. A pending delivery found rolls the drop back. The look
//     holds publishes up: it is an index range on the day's event_seq in
//     the few partitions that can hold its deliveries.
//
// Each lock waits ddlLockTimeout at most; a day that can't have its locks
// is tried again at the next round.
func (s *Store) dropDay(ctx context.Context, d *partitionDay, hold func(int64)) ([]*partition, error) {
	var dropped []*partition
	attempts, deliveries, events := d.parts["attempts"], d.parts["deliveries"], d.parts["events"]
	if attempts != nil || deliveries != nil {
		var done []*partition
		err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			done = done[:0]
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+ddlLockTimeout+`'`); err != nil {
				return err
			}
			mode := "SHARE ROW EXCLUSIVE"
			if deliveries != nil {
				mode = "ACCESS EXCLUSIVE"
			}
			if _, err := tx.Exec(ctx, `LOCK TABLE deliveries IN `+mode+` MODE`); err != nil {
				return err
			}
			for _, part := range []*partition{attempts, deliveries} {
				if part == nil {
					continue
				}
				pending, ok, err := pendingIn(ctx, tx, *part)
				if err != nil {
					return err
				}
				if ok {
					hold(pending)
					continue
				}
				if _, err := tx.Exec(ctx, `DROP TABLE `+pgx.Identifier{part.name}.Sanitize()); err != nil {
					return err
				}
				done = append(done, part)
			}
			return nil
		})
		if err != nil {
			return dropped, fmt.Errorf("retention: drop the partitions of attempts and deliveries from %s: %w", partitionDate(d), err)
		}
		dropped = append(dropped, done...)
	}
	if events != nil {
		var pending int64
		err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+ddlLockTimeout+`'`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DROP TABLE `+pgx.Identifier{events.name}.Sanitize()); err != nil {
				return err
			}
			seq, ok, err := pendingIn(ctx, tx, *events)
			if err != nil {
				return err
			}
			if ok {
				pending = seq
				return errHeld
			}
			return nil
		})
		switch {
		case errors.Is(err, errHeld):
			hold(pending)
		case err != nil:
			return dropped, fmt.Errorf("retention: drop partition %s: %w", events.name, err)
		default:
			dropped = append(dropped, events)
		}
	}
	return dropped, nil
}

// partitionDate names a day's partitions in a message.
func partitionDate(d *partitionDay) string {
	if d.lo == math.MinInt64 {
		return "before partitioning"
	}
	return time.UnixMilli(dayOf(d.lo>>counterBits) * msPerDay).UTC().Format(time.DateOnly)
}

// partitionedAt is when the tables were partitioned (Unix ms): every row of
// the legacy partitions was written before.
func (s *Store) partitionedAt(ctx context.Context) (int64, error) {
	var v []byte
	if err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = 'partitioned_at'`).Scan(&v); err != nil {
		return 0, dbErr(err)
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("setting partitioned_at holds %q, not a time in Unix milliseconds", v)
	}
	return n, nil
}
