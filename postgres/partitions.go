package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
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
// last made sure its day existed.
func missingPartition(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23514" && strings.HasPrefix(pe.Message, "no partition of relation")
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
func (s *Store) pendingIn(ctx context.Context, part partition) (seq int64, ok bool, err error) {
	loSlack := part.lo
	if part.lo != math.MinInt64 {
		loSlack -= skewSlack
	}
	var row pgx.Row
	switch part.table {
	case "deliveries":
		row = s.pool.QueryRow(ctx, `SELECT seq FROM deliveries WHERE status = 'pending' AND seq >= $1 AND seq < $2 ORDER BY seq LIMIT 1`,
			part.lo, part.hi)
	case "events":
		// The deliveries of an event are written after it.
		row = s.pool.QueryRow(ctx, `SELECT seq FROM deliveries WHERE status = 'pending' AND event_seq >= $1 AND event_seq < $2 AND seq >= $3
			ORDER BY seq LIMIT 1`, part.lo, part.hi, loSlack)
	case "attempts":
		// A delivery's attempts are written after it; only the
		// partition's own attempts are looked at.
		row = s.pool.QueryRow(ctx, `SELECT d.seq FROM deliveries d WHERE d.status = 'pending' AND d.seq < $1
			AND EXISTS (SELECT 1 FROM `+pgx.Identifier{part.name}.Sanitize()+` a WHERE a.delivery_seq = d.seq) ORDER BY d.seq LIMIT 1`,
			part.hi+skewSlack)
	}
	switch err := row.Scan(&seq); {
	case err == nil:
		return seq, true, nil
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil
	default:
		return 0, false, dbErr(err)
	}
}

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
	held := int64(math.MaxInt64)
	for _, table := range partitionedTables {
		parts, err := partitions(ctx, s.pool, table, legacyUntil)
		if err != nil {
			return p, dbErr(err)
		}
		for _, part := range parts {
			if part.until > ms(cutoff) {
				continue
			}
			pending, ok, err := s.pendingIn(ctx, part)
			if err != nil {
				return p, err
			}
			if ok {
				held = min(held, pending)
				continue
			}
			if part.rows <= 0 {
				// Never analyzed: small, or new; count it.
				if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{part.name}.Sanitize()).Scan(&part.rows); err != nil {
					return p, dbErr(err)
				}
			}
			dropped, err := s.dropPartition(ctx, part)
			if err != nil {
				return p, err
			}
			if !dropped {
				continue
			}
			p.Partitions++
			switch table {
			case "events":
				p.Events += int(part.rows)
			case "deliveries":
				p.Deliveries += int(part.rows)
			case "attempts":
				p.Attempts += int(part.rows)
			}
		}
	}
	if held != math.MaxInt64 {
		p.HeldBy = s.ids.Encode(outlet.PrefixDelivery, held)
	}

	// The keys of events whose partitions are gone: those in the gaps
	// between the partitions of events left, as many as limit. Only keys
	// older than the cutoff: a gap newer than it may be a day whose
	// partition a write is making right now, keys and all.
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
		args = append(args, seqAt(ms(cutoff))-skewSlack)
		tag, err := s.pool.Exec(ctx, `DELETE FROM event_keys WHERE seq IN (SELECT seq FROM event_keys WHERE (`+strings.Join(gaps, " OR ")+
			`) AND seq < $`+strconv.Itoa(len(args))+` LIMIT `+strconv.Itoa(limit)+`)`, args...)
		if err != nil {
			return p, dbErr(err)
		}
		p.More = int(tag.RowsAffected()) == limit
	}
	p.More = p.More || p.Invocations == limit
	return p, nil
}

// dropPartition drops a partition and forgets its day. A partition of
// deliveries is looked at once more under the parent's lock, which the drop
// takes anyway (and first, as DROP TABLE would): a delivery a caller
// re-opened (retry, recover) since pendingIn looked stays. It reports
// whether it dropped the partition.
//
// An event's partition is not looked at again: that would hold every
// publish up while the pending deliveries are searched. A delivery
// re-opened in that moment finds its event gone when it is claimed, and
// fails saying so (see outlet.CanResend).
func (s *Store) dropPartition(ctx context.Context, part partition) (bool, error) {
	dropped := false
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+ddlLockTimeout+`'`); err != nil {
			return err
		}
		name := pgx.Identifier{part.name}.Sanitize()
		if part.table == "deliveries" {
			if _, err := tx.Exec(ctx, `LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE`); err != nil {
				return err
			}
			var pending bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+name+` WHERE status = 'pending')`).Scan(&pending); err != nil || pending {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+name); err != nil {
			return err
		}
		dropped = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("retention: drop partition %s: %w", part.name, err)
	}
	if dropped && part.lo != math.MinInt64 {
		s.parts.set(dayOf(part.lo>>counterBits), false)
	}
	return dropped, nil
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
