package functions

import (
	"context"
	"encoding/json"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/sandbox"
)

// TestResult is what a test run came to.
type TestResult struct {
	Version       int             `json:"version"`
	Output        json.RawMessage `json:"output"`
	Error         *sandbox.Error  `json:"error"`
	Logs          string          `json:"logs"`
	LogsTruncated bool            `json:"logs_truncated"`
	DurationMs    int64           `json:"duration_ms"`
}

// Test runs a version of a function (0: the active one) on an input, as it
// would run on an event or at a hook, and records nothing: no delivery, no
// log. timeout 0 takes the function's own limit for events.
func (s *Service) Test(ctx context.Context, tenantID, function string, version int, input json.RawMessage, timeout time.Duration) (*TestResult, error) {
	v, err := s.store.FunctionVersion(ctx, tenantID, function, version)
	if err != nil {
		return nil, err
	}
	env, err := s.env(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = s.cfg.EventTimeout
		if v.Limits.TimeoutMs > 0 {
			timeout = time.Duration(v.Limits.TimeoutMs) * time.Millisecond
		}
	}
	call := s.call(v, env, input, timeout)
	call.Meta = sandbox.Meta{Tenant: tenantID, Trigger: outlet.TriggerTest}
	res := s.sandbox.Run(ctx, call)
	s.usage.add(tenantID, s.cfg.Now(), res.CPU) // a test uses the machine like any run
	s.metrics.Invocations.WithLabelValues(string(outlet.TriggerTest), outcomeOf(res.Error)).Inc()
	return &TestResult{Version: v.Version, Output: res.Output, Error: res.Error, Logs: res.Logs, LogsTruncated: res.LogsTruncated,
		DurationMs: res.Duration.Milliseconds()}, nil
}

// EventBody is what a function bound to events receives for an event: what a
// webhook receiver gets.
func EventBody(typ string, data json.RawMessage, at time.Time) json.RawMessage {
	ev := outlet.Event{Type: typ, Data: data, Timestamp: at}
	return ev.Body()
}

func outcomeOf(e *sandbox.Error) string {
	if e == nil {
		return "ok"
	}
	return e.Code
}
