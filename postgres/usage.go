package postgres

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

// usage adds up, per tenant and day, what one transaction used.
type usage map[usageKey]*outlet.Usage

type usageKey struct {
	tenant string
	day    int64
}

func (u usage) add(tenantID string, at time.Time, add outlet.Usage) {
	k := usageKey{tenantID, outlet.UsageDay(at)}
	if mine := u[k]; mine != nil {
		mine.Add(&add)
	} else {
		u[k] = &add
	}
}

// addUsageQuery adds counts to the usage table. A tenant's day has up to 16
// counter rows (shards): each connection adds to the row of its own, so that
// the transactions of concurrent publishes and completions don't queue for
// one row; Usage adds them up. Rows are written in a fixed order, so that
// transactions adding to the same rows can't deadlock. A tenant deleted
// meanwhile has no row to count towards: it isn't there to join (or to lock,
// if a delete is under way).
const addUsageQuery = `INSERT INTO usage (tenant_id, day, shard, events, deliveries, attempts, function_invocations, function_cpu_ms)
	SELECT u.tenant_id, u.day, pg_backend_pid() % 16, u.events, u.deliveries, u.attempts, u.invocations, u.cpu_ms
	FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
		AS u(tenant_id, day, events, deliveries, attempts, invocations, cpu_ms)
	JOIN tenants t ON t.id = u.tenant_id
	ORDER BY u.tenant_id, u.day
	FOR KEY SHARE OF t
	ON CONFLICT (tenant_id, day, shard) DO UPDATE SET events = usage.events + excluded.events,
		deliveries = usage.deliveries + excluded.deliveries, attempts = usage.attempts + excluded.attempts,
		function_invocations = usage.function_invocations + excluded.function_invocations,
		function_cpu_ms = usage.function_cpu_ms + excluded.function_cpu_ms`

// queue adds the statement that stores the counts to b, if there are any.
func (u usage) queue(b *pgx.Batch) {
	if len(u) > 0 {
		b.Queue(addUsageQuery, u.params()...)
	}
}

// params are the parameters of addUsageQuery that store the counts.
func (u usage) params() []any {
	keys := make([]usageKey, 0, len(u))
	for k := range u {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b usageKey) int {
		return cmp.Or(cmp.Compare(a.tenant, b.tenant), cmp.Compare(a.day, b.day))
	})
	n := len(keys)
	tenants, days := make([]string, n), make([]int64, n)
	events, deliveries, attempts, invocations, cpu := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, k := range keys {
		c := u[k]
		tenants[i], days[i] = k.tenant, k.day
		events[i], deliveries[i], attempts[i], invocations[i], cpu[i] = c.Events, c.Deliveries, c.Attempts, c.FunctionInvocations, c.FunctionCPUMs
	}
	return []any{tenants, days, events, deliveries, attempts, invocations, cpu}
}

func (s *Store) AddFunctionUsage(ctx context.Context, use []outlet.FunctionUsage) error {
	if len(use) == 0 {
		return nil
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	u := usage{}
	for _, f := range use {
		u.add(f.TenantID, f.At, outlet.Usage{FunctionInvocations: f.Invocations, FunctionCPUMs: f.CPUMs})
	}
	b := &pgx.Batch{}
	u.queue(b)
	return dbErr(s.pool.SendBatch(ctx, b).Close())
}

func (s *Store) Usage(ctx context.Context, tenantID string, since, before time.Time) ([]*outlet.Usage, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if _, err := tenant(ctx, s.pool, tenantID, ""); err != nil {
		return nil, err
	}
	last := outlet.UsageDay(before.Add(-time.Millisecond))
	out, err := collect(ctx, s.pool, `SELECT day, sum(events)::bigint, sum(deliveries)::bigint, sum(attempts)::bigint,
		sum(function_invocations)::bigint, sum(function_cpu_ms)::bigint
		FROM usage WHERE tenant_id = $1 AND day >= $2 AND day <= $3 GROUP BY day ORDER BY day`,
		[]any{tenantID, outlet.UsageDay(since), last},
		func(r pgx.Row) (*outlet.Usage, error) {
			var u outlet.Usage
			var day int64
			err := r.Scan(&day, &u.Events, &u.Deliveries, &u.Attempts, &u.FunctionInvocations, &u.FunctionCPUMs)
			u.Day = outlet.UsageDate(day)
			return &u, err
		})
	return out, dbErr(err)
}

func (s *Store) UsageOver(ctx context.Context, day time.Time, over outlet.Usage, after string, limit int) ([]outlet.TenantUsage, error) {
	if over.Events <= 0 && over.Deliveries <= 0 && over.FunctionInvocations <= 0 {
		return nil, nil
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	d := outlet.UsageDay(day)
	out, err := collect(ctx, s.pool, `SELECT tenant_id, sum(events)::bigint, sum(deliveries)::bigint, sum(attempts)::bigint,
		sum(function_invocations)::bigint, sum(function_cpu_ms)::bigint
		FROM usage WHERE day = $1 AND tenant_id > $2 GROUP BY tenant_id
		HAVING ($3::bigint > 0 AND sum(events) >= $3::bigint) OR ($4::bigint > 0 AND sum(deliveries) >= $4::bigint)
			OR ($5::bigint > 0 AND sum(function_invocations) >= $5::bigint)
		ORDER BY tenant_id LIMIT $6`,
		[]any{d, after, over.Events, over.Deliveries, over.FunctionInvocations, outlet.UsageOverLimit(limit)},
		func(r pgx.Row) (outlet.TenantUsage, error) {
			u := outlet.TenantUsage{Usage: outlet.Usage{Day: outlet.UsageDate(d)}}
			err := r.Scan(&u.TenantID, &u.Events, &u.Deliveries, &u.Attempts, &u.FunctionInvocations, &u.FunctionCPUMs)
			return u, err
		})
	return out, dbErr(err)
}
