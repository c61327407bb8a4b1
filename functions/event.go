package functions

import (
	"context"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/dispatch"
)

// RunEvent runs the active version of a tenant's function on an event body,
// for a delivery attempt. It implements dispatch.FunctionRunner.
func (s *Service) RunEvent(ctx context.Context, tenantID, function, deliveryID string, body []byte) dispatch.FunctionRun {
	v, err := s.active.get(bindingKey{tenantID, function}, func() (*outlet.FunctionVersion, error) {
		return s.store.FunctionVersion(ctx, tenantID, function, 0)
	})
	if err != nil {
		return dispatch.FunctionRun{ErrCode: "runtime_error", ErrMsg: "can't load the function: " + outlet.ErrorMessage(err)}
	}
	env, err := s.env(ctx, tenantID)
	if err != nil {
		return dispatch.FunctionRun{Version: v.Version, ErrCode: "runtime_error", ErrMsg: "can't read the tenant's secrets: " + outlet.ErrorMessage(err)}
	}
	timeout := s.cfg.EventTimeout
	if v.Limits.TimeoutMs > 0 {
		timeout = time.Duration(v.Limits.TimeoutMs) * time.Millisecond
	}
	res := s.run(ctx, s.call(v, env, body, timeout), outlet.TriggerEvent, deliveryID)
	run := dispatch.FunctionRun{Version: v.Version, Output: res.Output, Logs: res.Logs, Duration: res.Duration}
	if res.Error != nil {
		run.ErrCode, run.ErrMsg = res.Error.Code, res.Error.Message
	}
	return run
}
