package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/outlethq/outlet"
)

// usageCounts adds up, per tenant and day, the usage the transactions of one
// batch made; the writer stores it with the batch, one row per tenant and day.
type usageCounts map[usageDay]*outlet.Usage

type usageDay struct {
	tenant string
	day    int64
}

// usageKey finds a transaction's usageCounts in its context.
type usageKey struct{}

// countUsage adds to the usage of the transaction running with ctx.
func countUsage(ctx context.Context, tenantID string, at time.Time, add *outlet.Usage) {
	use, ok := ctx.Value(usageKey{}).(usageCounts)
	if !ok {
		return
	}
	k := usageDay{tenantID, outlet.UsageDay(at)}
	if u := use[k]; u != nil {
		u.Add(add)
	} else {
		c := *add
		use[k] = &c
	}
}

func (u usageCounts) merge(o usageCounts) {
	for k, v := range o {
		if mine := u[k]; mine != nil {
			mine.Add(v)
		} else {
			u[k] = v
		}
	}
}

// addUsageQuery adds a batch's counts for a tenant and day to its row. A
// tenant deleted in the batch has no row to count towards.
const addUsageQuery = `INSERT INTO usage (tenant_id, day, events, deliveries, attempts, function_invocations, function_cpu_ms)
	SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM tenants WHERE id = ?)
	ON CONFLICT (tenant_id, day) DO UPDATE SET events = events + excluded.events, deliveries = deliveries + excluded.deliveries,
		attempts = attempts + excluded.attempts, function_invocations = function_invocations + excluded.function_invocations,
		function_cpu_ms = function_cpu_ms + excluded.function_cpu_ms`

// write adds the counts to the usage table with addUsageQuery.
func (u usageCounts) write(ctx context.Context, add *sql.Stmt) error {
	for k, v := range u {
		if _, err := add.ExecContext(ctx, k.tenant, k.day, v.Events, v.Deliveries, v.Attempts, v.FunctionInvocations, v.FunctionCPUMs, k.tenant); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) AddFunctionUsage(ctx context.Context, use []outlet.FunctionUsage) error {
	if len(use) == 0 {
		return nil
	}
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, u := range use {
			countUsage(ctx, u.TenantID, u.At, &outlet.Usage{FunctionInvocations: u.Invocations, FunctionCPUMs: u.CPUMs})
		}
		return nil
	})
}

func (s *Store) Usage(ctx context.Context, tenantID string, since, before time.Time) ([]*outlet.Usage, error) {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return nil, err
	}
	last := outlet.UsageDay(before.Add(-time.Millisecond))
	out, err := collect(ctx, s.r, `SELECT day, events, deliveries, attempts, function_invocations, function_cpu_ms FROM usage
		WHERE tenant_id = ? AND day >= ? AND day <= ? ORDER BY day`, []any{tenantID, outlet.UsageDay(since), last},
		func(r scanner) (*outlet.Usage, error) {
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
	limit = outlet.UsageOverLimit(limit)
	d := outlet.UsageDay(day)
	out, err := collect(ctx, s.r, `SELECT tenant_id, events, deliveries, attempts, function_invocations, function_cpu_ms FROM usage
		WHERE day = ? AND tenant_id > ? AND ((? > 0 AND events >= ?) OR (? > 0 AND deliveries >= ?) OR (? > 0 AND function_invocations >= ?))
		ORDER BY tenant_id LIMIT ?`,
		[]any{d, after, over.Events, over.Events, over.Deliveries, over.Deliveries, over.FunctionInvocations, over.FunctionInvocations, limit},
		func(r scanner) (outlet.TenantUsage, error) {
			u := outlet.TenantUsage{Usage: outlet.Usage{Day: outlet.UsageDate(d)}}
			err := r.Scan(&u.TenantID, &u.Events, &u.Deliveries, &u.Attempts, &u.FunctionInvocations, &u.FunctionCPUMs)
			return u, err
		})
	return out, dbErr(err)
}
