package functions

import (
	"context"
	"encoding/json"
	"time"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/tracing"
	"github.com/outlethq/outlet/sandbox"
)

// HookResult is the answer to a hook invocation.
type HookResult = outlet.HookResult

// Served-by values.
const (
	ServedByFunctions   = outlet.ServedByFunctions
	ServedByEndpoint    = outlet.ServedByEndpoint
	ServedByPassthrough = outlet.ServedByPassthrough
)

// Invoke serves one call of a hook for a tenant, within the hook's deadline.
// The tenant's functions that serve the hook run as a chain, each one's
// output the next one's input; or the tenant's sync endpoint answers; or,
// with neither, the input passes through. When the tenant's code fails, the
// hook's on_error decides the output: the input unchanged, or null.
//
// Only problems of the caller are errors (an unknown hook or tenant, input
// that doesn't match the hook's schema); failures of the tenant's code are in
// the result.
func (s *Service) Invoke(ctx context.Context, tenantID, hookName string, input json.RawMessage) (_ *HookResult, err error) {
	start := time.Now()
	ctx, span := s.tracer.Start(ctx, "hook.invoke")
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(tracing.Tenant.String(tenantID), tracing.Hook.String(hookName))
		defer func() {
			if err != nil {
				span.SetAttributes(semconv.ErrorTypeKey.String(outlet.ErrorCode(err)))
				span.SetStatus(codes.Error, "")
			}
		}()
	}
	def, err := s.hook(ctx, hookName)
	if err != nil {
		return nil, err
	}
	h := def.hook
	if def.input != nil {
		if err := def.input.Validate(input, "input"); err != nil {
			return nil, err
		}
	}
	b, err := s.binding(ctx, tenantID, hookName)
	if err != nil {
		return nil, err
	}
	if b.endpoint == nil && len(b.functions) == 0 {
		if _, err := s.env(ctx, tenantID, ""); err != nil {
			return nil, err // an unknown tenant is the caller's problem, even with nothing bound
		}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(h.TimeoutMs)*time.Millisecond)
	defer cancel()

	res := &HookResult{ServedBy: ServedByPassthrough}
	var out json.RawMessage
	var ferr *sandbox.Error
	switch {
	case b.endpoint != nil:
		res.ServedBy = ServedByEndpoint
		out, ferr = s.callEndpoint(ctx, b.endpoint, input, h.TimeoutMs)
	case len(b.functions) > 0:
		res.ServedBy = ServedByFunctions
		out, ferr = s.chain(ctx, tenantID, h, b.functions, input)
	default:
		out = input
	}
	if ferr == nil && def.output != nil && res.ServedBy != ServedByPassthrough {
		if err := def.output.Validate(out, "the output"); err != nil {
			ferr = &sandbox.Error{Code: sandbox.CodeRuntimeError, Message: outlet.ErrorMessage(err)}
		}
	}
	if ferr != nil {
		res.Error = ferr
		if h.OnError == outlet.FailOpen {
			out = input
		} else {
			out = json.RawMessage("null")
		}
	}
	res.Output = out
	res.DurationMs = time.Since(start).Milliseconds()
	outcome := "ok"
	if ferr != nil {
		outcome = ferr.Code
		if span.IsRecording() {
			span.SetAttributes(semconv.ErrorTypeKey.String(ferr.Code))
		}
		span.SetStatus(codes.Error, "")
	}
	if span.IsRecording() {
		span.SetAttributes(tracing.ServedBy.String(string(res.ServedBy)))
	}
	s.metrics.HookCalls.WithLabelValues(string(res.ServedBy), outcome).Inc()
	return res, nil
}

// chain runs the functions in order, each on the output of the one before.
func (s *Service) chain(ctx context.Context, tenantID string, h *outlet.Hook, fns []*outlet.FunctionVersion, input json.RawMessage) (json.RawMessage, *sandbox.Error) {
	env, err := s.env(ctx, tenantID, fns[0].TenantUID)
	if err != nil {
		return nil, &sandbox.Error{Code: sandbox.CodeRuntimeError, Message: "can't read the tenant's secrets: " + outlet.ErrorMessage(err)}
	}
	deadline, _ := ctx.Deadline()
	cur := input
	for _, v := range fns {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, &sandbox.Error{Code: sandbox.CodeTimeout, Message: "the hook's deadline of " + (time.Duration(h.TimeoutMs) * time.Millisecond).String() + " passed before function " + v.Function + " could run"}
		}
		call := s.call(v, env, cur, left)
		call.Meta = sandbox.Meta{Tenant: tenantID, Trigger: outlet.TriggerHook, Hook: h.Name}
		res := s.run(ctx, call, outlet.TriggerHook, h.Name)
		s.watched(tenantID, v.Function, "", res.Error)
		if res.Error != nil {
			if len(fns) > 1 {
				res.Error.Message = "function " + v.Function + ": " + res.Error.Message
			}
			return nil, res.Error
		}
		cur = res.Output
	}
	return cur, nil
}
