package client

import (
	"context"
	"errors"
	"iter"
	"net/url"
	"strconv"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/tstypes"
)

// FunctionsService deploys a tenant's hosted functions and shows what they
// did: their versions, test runs and invocation logs.
type FunctionsService struct{ c *Client }

// FunctionDeploy is a new version of a function.
type FunctionDeploy struct {
	// Runtime is outlet.RuntimeJavaScript, outlet.RuntimeTypeScript or
	// outlet.RuntimeWasm.
	Runtime string `json:"runtime"`
	// Code is the source of a JavaScript or TypeScript function: one
	// module, whose default export is called as (event, ctx). It can't import
	// anything; bundle its dependencies into it first (outlet functions
	// deploy does).
	Code string `json:"code,omitempty"`
	// Wasm is the binary of a Wasm function, an Extism plugin that exports
	// handle. It is sent in base64.
	Wasm []byte `json:"wasm,omitempty"`
	// Events are the event types the function runs on: exact names,
	// "prefix.*" wildcards, or "*". Empty: none.
	Events []string `json:"events,omitempty"`
	// Hooks are the hooks the function serves.
	Hooks []string `json:"hooks,omitempty"`
	// FunctionLimits are the version's own limits: timeout_ms for a run on
	// an event (at a hook, the hook's deadline applies), memory_mb,
	// stack_frames, max_input_kb, max_output_kb and max_logs_kb. Zero fields
	// take the operator's setting, which is also their maximum.
	outlet.FunctionLimits
}

// FunctionTest is one test run. Give Event or Input, not both.
type FunctionTest struct {
	// Event runs the function as on a published event of the tenant.
	Event *TestEvent `json:"event,omitempty"`
	// Input runs the function as at a hook, on this input: any value that
	// encodes to JSON.
	Input any `json:"input,omitempty"`
	// Hook, when set, runs within that hook's deadline instead of the
	// function's own time limit.
	Hook string `json:"hook,omitempty"`
	// Version is the version to run; 0 runs the active one.
	Version int `json:"version,omitempty"`
}

// TestEvent is the event a test run gets, as a webhook receiver would.
type TestEvent struct {
	Type string `json:"type"`
	// Data is any value that encodes to JSON.
	Data any `json:"data"`
	// Timestamp is when the event happened; nil means now.
	Timestamp *time.Time `json:"timestamp,omitempty"`
}

// TestResult is what a test run came to. Nothing of it is recorded.
type TestResult = outlet.TestResult

// LogFilter selects a function's invocations to list.
type LogFilter struct {
	// After, when set, lists the invocations after the one with this id,
	// oldest first; without it, lists are newest first.
	After  string
	Limit  int
	Cursor string
}

func (f LogFilter) query() url.Values {
	q := ListOptions{Limit: f.Limit, Cursor: f.Cursor}.query()
	setNonEmpty(q, "after", f.After)
	return q
}

// Deploy stores a new version of the function, creating the function if
// needed, and makes it active. Code that doesn't compile is refused with
// status 422 and the line and column of the problem.
func (s *FunctionsService) Deploy(ctx context.Context, tenant, name string, d FunctionDeploy, opts ...RequestOption) (*outlet.FunctionVersion, error) {
	var out outlet.FunctionVersion
	if err := s.c.do(ctx, "PUT", path("v1", "tenants", tenant, "functions", name), nil, d, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// List returns every function of the tenant.
func (s *FunctionsService) List(ctx context.Context, tenant string, opts ...RequestOption) ([]*outlet.Function, error) {
	var out list[*outlet.Function]
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "functions"), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Get returns a function.
func (s *FunctionsService) Get(ctx context.Context, tenant, name string, opts ...RequestOption) (*outlet.Function, error) {
	var out outlet.Function
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "functions", name), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete removes a function with its versions, deliveries and logs.
func (s *FunctionsService) Delete(ctx context.Context, tenant, name string, opts ...RequestOption) error {
	return s.c.do(ctx, "DELETE", path("v1", "tenants", tenant, "functions", name), nil, nil, nil, opts)
}

// Versions returns every version of the function, newest first, without
// their source.
func (s *FunctionsService) Versions(ctx context.Context, tenant, name string, opts ...RequestOption) ([]*outlet.FunctionVersion, error) {
	var out list[*outlet.FunctionVersion]
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "functions", name, "versions"), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Version returns one version of the function with the source it was
// deployed with (none for Wasm).
func (s *FunctionsService) Version(ctx context.Context, tenant, name string, version int, opts ...RequestOption) (*outlet.FunctionVersion, error) {
	var out outlet.FunctionVersion
	p := path("v1", "tenants", tenant, "functions", name, "versions", strconv.Itoa(version))
	if err := s.c.do(ctx, "GET", p, nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Rollback makes an earlier version active again, and returns the function
// as it is now.
func (s *FunctionsService) Rollback(ctx context.Context, tenant, name string, version int, opts ...RequestOption) (*outlet.Function, error) {
	body := struct {
		Version int `json:"version"`
	}{version}
	var out outlet.Function
	if err := s.c.do(ctx, "POST", path("v1", "tenants", tenant, "functions", name, "rollback"), nil, body, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Test runs a version of the function once, as on an event or at a hook,
// with the tenant's secrets, and records nothing. A function that fails
// answers with its Error set, not with an error.
func (s *FunctionsService) Test(ctx context.Context, tenant, name string, t FunctionTest, opts ...RequestOption) (*TestResult, error) {
	var out TestResult
	if err := s.c.do(ctx, "POST", path("v1", "tenants", tenant, "functions", name, "test"), nil, t, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Logs returns one page of the function's invocations, with their console
// output.
func (s *FunctionsService) Logs(ctx context.Context, tenant, name string, f LogFilter, opts ...RequestOption) (*Page[*outlet.Invocation], error) {
	var out Page[*outlet.Invocation]
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "functions", name, "logs"), f.query(), nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// Follow yields the function's invocations as they are recorded, oldest
// first, until ctx ends or a call fails: first those after f.After (with
// f.After empty, the latest f.Limit), then, polling every interval, each
// new one. It stops at the first error, which it yields with a nil
// invocation; when ctx ends, that is ctx.Err().
func (s *FunctionsService) Follow(ctx context.Context, tenant, name string, f LogFilter, interval time.Duration, opts ...RequestOption) iter.Seq2[*outlet.Invocation, error] {
	return func(yield func(*outlet.Invocation, error) bool) {
		f.Cursor = ""
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			p, err := s.Logs(ctx, tenant, name, f, opts...)
			if err != nil {
				if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
					err = ctx.Err()
				}
				yield(nil, err)
				return
			}
			invs := p.Data
			if f.After == "" {
				invs = reversed(invs) // the latest page comes newest first
			}
			for _, inv := range invs {
				if !yield(inv, nil) {
					return
				}
				f.After = inv.ID
			}
			if len(p.Data) > 0 && f.After != "" && len(p.Data) == pageLimit(f.Limit) {
				continue // more may be waiting
			}
			select {
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			case <-t.C:
			}
		}
	}
}

func pageLimit(limit int) int {
	if limit == 0 {
		return outlet.DefaultPageLimit
	}
	return limit
}

func reversed[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

// Types returns the TypeScript declarations of the tenant's functions: ctx
// with the tenant's secret names, the sandbox's globals, and a type per
// event type and per hook input and output, from the catalog's schemas.
// (`outlet types` writes them to files.)
func (s *FunctionsService) Types(ctx context.Context, tenant string, opts ...RequestOption) (*tstypes.Types, error) {
	var out tstypes.Types
	if err := s.c.do(ctx, "GET", path("v1", "tenants", tenant, "function-types"), nil, nil, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}
