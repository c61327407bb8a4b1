package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"time"
)

// hookInput is what a hook call carries: a small cart, as a checkout hook
// would get.
const hookInput = `{"cart":{"id":"c_123","total":4200,"currency":"EUR","items":[{"sku":"a","qty":2},{"sku":"b","qty":1}]}}`

// measureHooks deploys a trivial JavaScript function at a hook and calls it
// one call at a time, then calls a bare Go HTTP handler on loopback the same
// way: the difference is what Outlet adds to a hook call.
func measureHooks(ctx context.Context, api *apiClient, tenant string, n int, res *Result) error {
	hook := fmt.Sprintf("bench.hook%d", time.Now().UnixNano())
	if err := api.do(ctx, "POST", "/v1/hooks", map[string]any{"name": hook, "timeout_ms": 1000, "on_error": "fail_closed"}, nil); err != nil {
		return fmt.Errorf("declare a hook: %w", err)
	}
	defer api.do(context.Background(), "DELETE", "/v1/hooks/"+hook, nil, nil)
	fn := map[string]any{"runtime": "javascript", "hooks": []string{hook},
		"code": `export default (input) => ({ ...input, cart: { ...input.cart, total: Math.round(input.cart.total * 0.9) } })`}
	if err := api.do(ctx, "PUT", "/v1/tenants/"+tenant+"/functions/bench-hook", fn, nil); err != nil {
		return fmt.Errorf("deploy the hook's function: %w", err)
	}
	body := []byte(`{"input":` + hookInput + `}`)
	path := "/v1/tenants/" + tenant + "/hooks/" + hook + "/invoke"
	var out struct {
		Error *struct{ Code, Message string } `json:"error"`
	}
	start := time.Now()
	if err := api.doRaw(ctx, "POST", path, body, &out); err != nil {
		return err
	}
	res.HookFirstCallMs = ms(time.Since(start))
	if out.Error != nil {
		return fmt.Errorf("the bench's hook failed: %s: %s", out.Error.Code, out.Error.Message)
	}
	hook1 := make([]time.Duration, 0, n)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		t := time.Now()
		if err := api.doRaw(ctx, "POST", path, body, nil); err != nil {
			return err
		}
		hook1 = append(hook1, time.Since(t))
	}

	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	defer bare.Close()
	bareTimes := make([]time.Duration, 0, n)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		t := time.Now()
		resp, err := api.http.Post(bare.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		bareTimes = append(bareTimes, time.Since(t))
	}
	slices.Sort(hook1)
	slices.Sort(bareTimes)
	res.HookCalls = len(hook1)
	res.HookP50Ms, res.HookP99Ms = pct(hook1, 50), pct(hook1, 99)
	res.BareP50Ms, res.BareP99Ms = pct(bareTimes, 50), pct(bareTimes, 99)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
