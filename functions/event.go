package functions

import (
	"context"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/dispatch"
	"github.com/outlethq/outlet/sandbox"
)

// RunEvent runs the active version of a tenant's function on an event body,
// for a delivery attempt. It implements dispatch.FunctionRunner.
func (s *Service) RunEvent(ctx context.Context, e dispatch.EventRun) dispatch.FunctionRun {
	tenantID, function := e.TenantID, e.Function
	v, err := s.active.get(bindingKey{tenantID, function}, func() (*outlet.FunctionVersion, error) {
		return s.store.FunctionVersion(ctx, tenantID, function, 0)
	})
	if err != nil {
		return dispatch.FunctionRun{ErrCode: "runtime_error", ErrMsg: "can't load the function: " + outlet.ErrorMessage(err)}
	}
	env, err := s.env(ctx, tenantID, v.TenantUID)
	if err != nil {
		return dispatch.FunctionRun{Version: v.Version, ErrCode: "runtime_error", ErrMsg: "can't read the tenant's secrets: " + outlet.ErrorMessage(err)}
	}
	call := s.call(v, env, e.Body, s.eventTimeout(v))
	call.Meta = sandbox.Meta{Tenant: tenantID, Trigger: outlet.TriggerEvent, EventID: e.EventID, DeliveryID: e.DeliveryID, Attempt: e.Attempt}
	res := s.run(ctx, call, outlet.TriggerEvent, e.DeliveryID)
	s.watched(tenantID, function, e.EventType, res.Error)
	run := dispatch.FunctionRun{Version: v.Version, Output: res.Output, Logs: res.Logs, Duration: res.Duration}
	if res.Error != nil {
		run.ErrCode, run.ErrMsg = res.Error.Code, res.Error.Message
	}
	return run
}
