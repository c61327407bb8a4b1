package functions

import (
	"context"
	"encoding/json"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/sandbox"
)

// TestResult is what a test run came to.
type TestResult = outlet.TestResult

// TestRun is what a test run runs and as what.
type TestRun struct {
	Version int             // 0: the active version
	Input   json.RawMessage // an event's body (EventBody), or a hook's input
	// Event says Input is an event's body: the function runs as on a
	// delivery (ctx.trigger "event", a new ctx.event_id, ctx.attempt 1).
	// Otherwise it runs as at a hook: Hook's, when set (ctx.hook), within
	// HookTimeout.
	Event       bool
	Hook        string
	HookTimeout time.Duration
}

// Test runs a version of a function as it would run on an event or at a
// hook — the same ctx, with ctx.test set — and records nothing: no
// delivery, no log. An event run gets the function's own time limit.
func (s *Service) Test(ctx context.Context, tenantID, function string, t TestRun) (*TestResult, error) {
	v, err := s.store.FunctionVersion(ctx, tenantID, function, t.Version)
	if err != nil {
		return nil, err
	}
	env, err := s.env(ctx, tenantID, v.TenantUID)
	if err != nil {
		return nil, err
	}
	timeout := s.eventTimeout(v)
	meta := sandbox.Meta{Tenant: tenantID, Trigger: outlet.TriggerHook, Hook: t.Hook, Test: true}
	if t.Event {
		meta.Trigger, meta.EventID, meta.Attempt = outlet.TriggerEvent, outlet.NewID(outlet.PrefixEvent), 1
	} else if t.HookTimeout > 0 {
		timeout = t.HookTimeout
	}
	call := s.call(v, env, t.Input, timeout)
	call.Meta = meta
	ctx, span := s.startRun(ctx, call, outlet.TriggerTest)
	res := s.sandbox.Run(ctx, call)
	endRun(span, res)
	s.counted(tenantID) // a test uses the machine like any run
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
