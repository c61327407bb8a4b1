package outlet

import (
	"context"
	"time"
)

// Usage is what a tenant used in one UTC day, for billing. Events count
// accepted publishes (not replays), deliveries the deliveries they made,
// attempts every attempt made (retries included), and function invocations
// and CPU time every run of the tenant's functions, at hooks, on events and
// in tests.
type Usage struct {
	Day                 string `json:"day"` // YYYY-MM-DD, UTC
	Events              int64  `json:"events"`
	Deliveries          int64  `json:"deliveries"`
	Attempts            int64  `json:"attempts"`
	FunctionInvocations int64  `json:"function_invocations"`
	FunctionCPUMs       int64  `json:"function_cpu_ms"`
}

// Add adds o's counts to u's.
func (u *Usage) Add(o *Usage) {
	u.Events += o.Events
	u.Deliveries += o.Deliveries
	u.Attempts += o.Attempts
	u.FunctionInvocations += o.FunctionInvocations
	u.FunctionCPUMs += o.FunctionCPUMs
}

// UsageReport is a tenant's usage per day over a span of days, and the
// total: what GET /v1/tenants/{tenant}/usage answers.
type UsageReport struct {
	Tenant string   `json:"tenant"`
	Since  string   `json:"since"`  // the first day, YYYY-MM-DD
	Before string   `json:"before"` // the day after the last
	Total  Usage    `json:"total"`
	Days   []*Usage `json:"days"`
}

// FunctionUsage is function use to add to a tenant's count for the day of At.
type FunctionUsage struct {
	TenantID    string
	At          time.Time
	Invocations int64
	CPUMs       int64
}

// UsageStore keeps per-tenant usage counters. Stores count events,
// deliveries and attempts themselves, in the transactions that make them;
// function use is added by the functions service.
type UsageStore interface {
	AddFunctionUsage(ctx context.Context, use []FunctionUsage) error
	// Usage returns the tenant's usage per day, oldest first, for the days
	// from since's to before's (exclusive), leaving out days with no use.
	Usage(ctx context.Context, tenantID string, since, before time.Time) ([]*Usage, error)
	// UsageOver returns the usage, in the UTC day of day, of the tenants
	// whose count of events, deliveries or function invocations reached
	// over's (a zero count in over is not looked at), by tenant id, at most
	// limit of them after the tenant id after.
	UsageOver(ctx context.Context, day time.Time, over Usage, after string, limit int) ([]TenantUsage, error)
}

// UsageOverLimit is the number of tenants UsageOver returns at most when
// asked for limit: 1 to 1000, 1000 when limit isn't in that range.
func UsageOverLimit(limit int) int {
	if limit <= 0 || limit > 1000 {
		return 1000
	}
	return limit
}

// TenantUsage is a tenant's usage in one day.
type TenantUsage struct {
	TenantID string
	Usage
}

// UsageDay is the number of the UTC day t falls in, counted from 1970-01-01:
// the key usage is kept under.
func UsageDay(t time.Time) int64 {
	return t.UnixMilli() / (24 * time.Hour).Milliseconds()
}

// UsageDate is the YYYY-MM-DD of a UsageDay.
func UsageDate(day int64) string {
	return time.UnixMilli(day * (24 * time.Hour).Milliseconds()).UTC().Format(time.DateOnly)
}
