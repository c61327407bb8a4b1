package dispatch

import (
	"context"
	"time"
)

// FunctionRunner runs a tenant's function on an event, for a delivery.
type FunctionRunner interface {
	RunEvent(ctx context.Context, e EventRun) FunctionRun
}

// EventRun is one attempt of a delivery to a function.
type EventRun struct {
	TenantID   string
	Function   string
	EventID    string // the same on every attempt, as webhook-id is for endpoints
	EventType  string
	DeliveryID string
	Attempt    int // 1 for the first
	Body       []byte
}

// FunctionRun is what one run of a function on an event came to.
type FunctionRun struct {
	Version  int    // the version that ran
	Output   []byte // its return value, as JSON
	ErrCode  string // "" when it succeeded; timeout, memory_limit or runtime_error
	ErrMsg   string
	Logs     string
	Duration time.Duration
}
