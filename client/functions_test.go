package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

// discount serves checkout.discount: it takes 10 % off with the coupon in
// the tenant's secrets.
const discount = `
export default function (input, ctx) {
	console.log("applying", ctx.secrets.COUPON)
	return { ...input, total: input.total * 0.9, coupon: ctx.secrets.COUPON.slice(0, 6) }
}`

func TestHooks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	created, err := b.admin.Hooks.Create(ctx, client.HookCreate{
		Name: "checkout.discount", Description: "Discounts at checkout",
		InputSchema: json.RawMessage(`{"type":"object","required":["total"]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.Name != "checkout.discount" || created.TimeoutMs != outlet.DefaultHookTimeoutMs || created.OnError != outlet.FailOpen ||
		!sameJSON(created.InputSchema, `{"type":"object","required":["total"]}`) || created.OutputSchema != nil {
		t.Errorf("create without a timeout or on_error answered %+v; want the defaults", created)
	}
	if _, err := b.admin.Hooks.Create(ctx, client.HookCreate{Name: "login.post", TimeoutMs: 200, OnError: outlet.FailClosed}); err != nil {
		t.Fatal(err)
	}

	hooks, err := b.admin.Hooks.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names := hookNames(hooks); !slices.Equal(names, []string{"checkout.discount", "login.post"}) {
		t.Errorf("list answered %v", names)
	}

	updated, err := b.admin.Hooks.Update(ctx, "checkout.discount", client.HookUpdate{
		TimeoutMs: new(500), OnError: new(outlet.FailClosed), InputSchema: json.RawMessage("null"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if updated.TimeoutMs != 500 || updated.OnError != outlet.FailClosed || updated.InputSchema != nil || updated.Description != "Discounts at checkout" {
		t.Errorf("update answered %+v; want the timeout and on_error changed, the schema removed and the description kept", updated)
	}
	got, err := b.admin.Hooks.Get(ctx, "checkout.discount")
	if err != nil || got.TimeoutMs != 500 {
		t.Errorf("get answered %+v, %v", got, err)
	}

	_, err = b.admin.Hooks.Update(ctx, "checkout.discount", client.HookUpdate{OnError: new("ignore")})
	if apiErr := asError(t, err); apiErr.Status != http.StatusBadRequest && apiErr.Status != http.StatusUnprocessableEntity {
		t.Errorf("an unknown on_error: %+v; want refused as invalid", apiErr)
	}

	if err := b.admin.Hooks.Delete(ctx, "login.post"); err != nil {
		t.Fatal(err)
	}
	_, err = b.admin.Hooks.Get(ctx, "login.post")
	if apiErr := asError(t, err); apiErr.Code != outlet.ENOTFOUND {
		t.Errorf("get after delete: %+v; want not_found", apiErr)
	}
}

func hookNames(hs []*outlet.Hook) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name)
	}
	slices.Sort(out)
	return out
}

func TestFunctionsDeployTestInvokeAndLogs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.tenant(t, "acme")
	if _, err := b.admin.Hooks.Create(ctx, client.HookCreate{Name: "checkout.discount"}); err != nil {
		t.Fatal(err)
	}
	key, err := b.admin.APIKeys.Create(ctx, "acme", client.APIKeyCreate{})
	if err != nil {
		t.Fatal(err)
	}
	acme := client.New(b.url, key.Key) // everything below works with the tenant's own key

	if err := acme.Secrets.Put(ctx, "acme", "COUPON", "SAVE10-very-secret"); err != nil {
		t.Fatal(err)
	}
	v1, err := acme.Functions.Deploy(ctx, "acme", "discount", client.FunctionDeploy{
		Runtime: outlet.RuntimeJavaScript, Code: discount, Hooks: []string{"checkout.discount"}, Events: []string{"order.*"},
		FunctionLimits: outlet.FunctionLimits{TimeoutMs: 2000, MaxLogsKB: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || v1.Function != "discount" || !v1.Active || v1.SHA256 == "" || v1.Limits != (outlet.FunctionLimits{TimeoutMs: 2000, MaxLogsKB: 4}) ||
		!slices.Equal(v1.Hooks, []string{"checkout.discount"}) || !slices.Equal(v1.Events, []string{"order.*"}) {
		t.Errorf("the first deploy answered %+v", v1)
	}
	v2, err := acme.Functions.Deploy(ctx, "acme", "discount", client.FunctionDeploy{
		Runtime: outlet.RuntimeTypeScript, Hooks: []string{"checkout.discount"},
		Code: `export default (input: {total?: number, type?: string}) => {
			if (input.type) throw new Error("hooks only")
			return { ...input, total: input.total! - 1 }
		}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || v2.Runtime != outlet.RuntimeTypeScript {
		t.Errorf("the second deploy answered %+v", v2)
	}

	_, err = acme.Functions.Deploy(ctx, "acme", "broken", client.FunctionDeploy{Runtime: outlet.RuntimeJavaScript, Code: "export default function (\n  {"})
	if apiErr := asError(t, err); apiErr.Status != http.StatusUnprocessableEntity && apiErr.Status != http.StatusBadRequest || !strings.Contains(apiErr.Message, "line 2") {
		t.Errorf("deploying a syntax error: %+v; want refused with the line", apiErr)
	}

	fns, err := acme.Functions.List(ctx, "acme")
	if err != nil || len(fns) != 1 || fns[0].Name != "discount" || fns[0].ActiveVersion != 2 || fns[0].LatestVersion != 2 {
		t.Fatalf("list answered %v, %v", fns, err)
	}
	versions, err := acme.Functions.Versions(ctx, "acme", "discount")
	if err != nil || len(versions) != 2 || versions[0].Version != 2 || !versions[0].Active || versions[1].Active || versions[0].Source != "" {
		t.Fatalf("versions answered %+v, %v; want both, newest first, without source", versions, err)
	}
	first, err := acme.Functions.Version(ctx, "acme", "discount", 1)
	if err != nil || first.Source != discount || first.Active {
		t.Errorf("version 1 answered %+v, %v; want it with its source", first, err)
	}

	f, err := acme.Functions.Rollback(ctx, "acme", "discount", 1)
	if err != nil || f.ActiveVersion != 1 || f.LatestVersion != 2 || f.Runtime != outlet.RuntimeJavaScript {
		t.Fatalf("rollback answered %+v, %v", f, err)
	}
	got, err := acme.Functions.Get(ctx, "acme", "discount")
	if err != nil || got.ActiveVersion != 1 || !slices.Equal(got.Events, []string{"order.*"}) {
		t.Errorf("get after the rollback answered %+v, %v", got, err)
	}

	res, err := acme.Functions.Test(ctx, "acme", "discount", client.FunctionTest{Input: map[string]any{"total": 100}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != nil || res.Version != 1 || !sameJSON(res.Output, `{"total":90,"coupon":"SAVE10"}`) || !strings.Contains(res.Logs, "applying [secret COUPON]") {
		t.Errorf("test with an input answered %+v (output %s)", res, res.Output)
	}
	res, err = acme.Functions.Test(ctx, "acme", "discount", client.FunctionTest{
		Event: &client.TestEvent{Type: "order.placed", Data: map[string]any{"id": "o_1"}}, Version: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Error == nil || res.Error.Code != "runtime_error" || !strings.Contains(res.Error.Message, "hooks only") || res.Version != 2 ||
		string(res.Output) != "null" && res.Output != nil {
		t.Errorf("test of version 2 with an event it can't take answered %+v (output %s); want a runtime_error", res, res.Output)
	}
	_, err = acme.Functions.Test(ctx, "acme", "discount", client.FunctionTest{})
	if apiErr := asError(t, err); apiErr.Status/100 != 4 {
		t.Errorf("a test with neither event nor input: %+v; want refused", apiErr)
	}

	th, err := acme.TenantHooks.Get(ctx, "acme", "checkout.discount")
	if err != nil {
		t.Fatal(err)
	}
	if th.Name != "checkout.discount" || th.ServedBy != "functions" || !slices.Equal(th.Functions, []string{"discount"}) || th.Endpoint != nil ||
		th.TimeoutMs != outlet.DefaultHookTimeoutMs {
		t.Errorf("the tenant's view of the hook is %+v", th)
	}

	// Follow from the start: the invocations made while it runs come out in order.
	followCtx, stop := context.WithTimeout(ctx, 20*time.Second)
	defer stop()
	seen := make(chan *outlet.Invocation)
	followErr := make(chan error, 1)
	go func() {
		for inv, err := range acme.Functions.Follow(followCtx, "acme", "discount", client.LogFilter{}, 50*time.Millisecond) {
			if err != nil {
				followErr <- err
				return
			}
			seen <- inv
		}
	}()
	for i := range 3 {
		r, err := acme.TenantHooks.Invoke(ctx, "acme", "checkout.discount", map[string]any{"total": 10 * (i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		if r.Error != nil || r.ServedBy != "functions" || !sameJSON(r.Output, `{"total":`+[]string{"9", "18", "27"}[i]+`,"coupon":"SAVE10"}`) {
			t.Errorf("invoke %d answered %+v (output %s)", i, r, r.Output)
		}
	}
	var followed []*outlet.Invocation
	for len(followed) < 3 {
		select {
		case inv := <-seen:
			followed = append(followed, inv)
		case err := <-followErr:
			t.Fatalf("following the logs: %v", err)
		}
	}
	stop()
	if err := <-followErr; !errors.Is(err, context.Canceled) {
		t.Errorf("following ended with %v; want the context's error", err)
	}
	for i, inv := range followed {
		if inv.Trigger != outlet.TriggerHook || inv.TriggerRef != "checkout.discount" || inv.Outcome != "ok" || inv.Version != 1 {
			t.Errorf("invocation %d is %+v", i, inv)
		}
		// Ids are opaque (encrypted row positions), so the order shows in
		// the start times alone.
		if i > 0 && inv.StartedAt.Before(followed[i-1].StartedAt) {
			t.Errorf("invocation %d (%s) came after %s; want oldest first", i, inv.ID, followed[i-1].ID)
		}
	}

	page, err := acme.Functions.Logs(ctx, "acme", "discount", client.LogFilter{Limit: 2})
	if err != nil || len(page.Data) != 2 || page.Data[0].ID != followed[2].ID || !page.HasMore {
		t.Fatalf("logs with a limit of 2 answered %+v, %v; want the newest two and more", page, err)
	}
	after, err := acme.Functions.Logs(ctx, "acme", "discount", client.LogFilter{After: followed[0].ID})
	if err != nil || len(after.Data) != 2 || after.Data[0].ID != followed[1].ID || after.Data[1].ID != followed[2].ID {
		t.Errorf("logs after the first answered %+v, %v; want the other two, oldest first", after, err)
	}

	if err := acme.Functions.Delete(ctx, "acme", "discount"); err != nil {
		t.Fatal(err)
	}
	r, err := acme.TenantHooks.Invoke(ctx, "acme", "checkout.discount", map[string]any{"total": 10})
	if err != nil || r.ServedBy != "passthrough" || !sameJSON(r.Output, `{"total":10}`) {
		t.Errorf("invoking with nothing bound answered %+v, %v; want the input passed through", r, err)
	}
	_, err = acme.Functions.Get(ctx, "acme", "discount")
	if apiErr := asError(t, err); apiErr.Code != outlet.ENOTFOUND {
		t.Errorf("get after delete: %+v", apiErr)
	}
	if _, err := acme.Hooks.List(ctx); asError(t, err).Status != http.StatusForbidden && asError(t, err).Status != http.StatusNotFound {
		t.Errorf("a tenant key listing the platform's hooks: %v; want refused", err)
	}
}

func TestHookSyncEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.tenant(t, "acme")
	if _, err := b.admin.Hooks.Create(ctx, client.HookCreate{Name: "login.post", OnError: outlet.FailClosed}); err != nil {
		t.Fatal(err)
	}

	ep, err := b.admin.TenantHooks.PutEndpoint(ctx, "acme", "login.post", client.HookEndpointPut{
		URL: b.receiver.URL + "/ok", Headers: map[string]string{"X-Team": "auth"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ep.URL != b.receiver.URL+"/ok" || ep.Hook != "login.post" || ep.TenantID != "acme" || !strings.HasPrefix(ep.Secret, "whsec_") || ep.Headers["X-Team"] != "auth" {
		t.Errorf("put answered %+v; want the endpoint with its secret", ep)
	}
	again, err := b.admin.TenantHooks.PutEndpoint(ctx, "acme", "login.post", client.HookEndpointPut{URL: b.receiver.URL + "/fail"})
	if err != nil || again.Secret != ep.Secret || !again.CreatedAt.Equal(ep.CreatedAt) || len(again.Headers) != 0 {
		t.Errorf("putting it again answered %+v, %v; want the URL and headers replaced, the secret and creation time kept", again, err)
	}
	got, err := b.admin.TenantHooks.Endpoint(ctx, "acme", "login.post")
	if err != nil || got.URL != b.receiver.URL+"/fail" || got.Secret != "" {
		t.Errorf("get answered %+v, %v; want it without its secret", got, err)
	}
	secret, err := b.admin.TenantHooks.EndpointSecret(ctx, "acme", "login.post")
	if err != nil || secret != ep.Secret {
		t.Errorf("secret answered %q, %v; want %q", secret, err, ep.Secret)
	}

	hooks, err := b.admin.TenantHooks.List(ctx, "acme")
	if err != nil || len(hooks) != 1 || hooks[0].ServedBy != "endpoint" || hooks[0].Endpoint == nil || hooks[0].Endpoint.URL != got.URL ||
		hooks[0].OnError != outlet.FailClosed {
		t.Fatalf("the tenant's hooks are %+v, %v", hooks, err)
	}

	r, err := b.admin.TenantHooks.Invoke(ctx, "acme", "login.post", map[string]any{"user": "u_1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.ServedBy != "endpoint" || r.Error == nil || string(r.Output) != "null" && r.Output != nil {
		t.Errorf("invoking a failing endpoint of a fail_closed hook answered %+v (output %s); want an error and no output", r, r.Output)
	}

	_, err = b.admin.Functions.Deploy(ctx, "acme", "login", client.FunctionDeploy{
		Runtime: outlet.RuntimeJavaScript, Code: "export default (i) => i", Hooks: []string{"login.post"},
	})
	if apiErr := asError(t, err); apiErr.Status != http.StatusConflict {
		t.Errorf("deploying a function for a hook a sync endpoint serves: %+v; want 409", apiErr)
	}

	if err := b.admin.TenantHooks.DeleteEndpoint(ctx, "acme", "login.post"); err != nil {
		t.Fatal(err)
	}
	_, err = b.admin.TenantHooks.Endpoint(ctx, "acme", "login.post")
	if apiErr := asError(t, err); apiErr.Code != outlet.ENOTFOUND {
		t.Errorf("get after delete: %+v", apiErr)
	}
	th, err := b.admin.TenantHooks.Get(ctx, "acme", "login.post")
	if err != nil || th.ServedBy != "passthrough" || th.Endpoint != nil || len(th.Functions) != 0 {
		t.Errorf("the hook served by nothing is %+v, %v", th, err)
	}
}

func TestSecretsAndSettings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	tn, err := b.admin.Tenants.Create(ctx, client.TenantCreate{ID: "acme", AllowedHosts: []string{"api.stripe.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tn.AllowedHosts, []string{"api.stripe.com"}) {
		t.Errorf("create answered %+v; want the allowed hosts", tn)
	}
	tn, err = b.admin.Tenants.Update(ctx, "acme", client.TenantUpdate{AllowedHosts: &[]string{"*.example.com", "api.stripe.com"}})
	if err != nil || !slices.Equal(tn.AllowedHosts, []string{"*.example.com", "api.stripe.com"}) {
		t.Errorf("update answered %+v, %v", tn, err)
	}

	s, err := b.admin.Settings.Get(ctx, "acme")
	if err != nil || !slices.Equal(s.AllowedHosts, []string{"*.example.com", "api.stripe.com"}) {
		t.Errorf("settings answered %+v, %v", s, err)
	}
	s, err = b.admin.Settings.Put(ctx, "acme", client.TenantSettings{})
	if err != nil || s.AllowedHosts == nil || len(s.AllowedHosts) != 0 {
		t.Errorf("putting empty settings answered %+v, %v; want no allowed hosts, as an empty list", s, err)
	}
	_, err = b.admin.Settings.Put(ctx, "acme", client.TenantSettings{AllowedHosts: []string{"API.Example.com"}})
	if apiErr := asError(t, err); apiErr.Code != outlet.EINVALID {
		t.Errorf("an uppercase host: %+v; want invalid", apiErr)
	}

	const value = "sk_live_do-not-leak"
	if err := b.admin.Secrets.Put(ctx, "acme", "STRIPE_KEY", value); err != nil {
		t.Fatal(err)
	}
	if err := b.admin.Secrets.Put(ctx, "acme", "STRIPE_KEY", value+"2"); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	secrets, err := b.admin.Secrets.List(ctx, "acme", client.WithRawResponse(&raw))
	if err != nil || len(secrets) != 1 || secrets[0].Name != "STRIPE_KEY" || secrets[0].UpdatedAt.IsZero() {
		t.Fatalf("list answered %+v, %v", secrets, err)
	}
	if strings.Contains(string(raw), "sk_live") {
		t.Errorf("list answered %s, which holds the value", raw)
	}
	err = b.admin.Secrets.Put(ctx, "acme", "not-an-identifier", "x")
	if apiErr := asError(t, err); apiErr.Code != outlet.EINVALID || !strings.Contains(apiErr.Message, "STRIPE_KEY") {
		t.Errorf("a bad name: %+v; want invalid, with an example", apiErr)
	}
	if err := b.admin.Secrets.Delete(ctx, "acme", "STRIPE_KEY"); err != nil {
		t.Fatal(err)
	}
	if secrets, err := b.admin.Secrets.List(ctx, "acme"); err != nil || len(secrets) != 0 {
		t.Errorf("list after delete answered %+v, %v", secrets, err)
	}
}

// sameJSON reports whether got encodes the same value as want.
func sameJSON(got json.RawMessage, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestFunctionsDeploySendsWasmAsBase64(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenant(t, "acme")
	// A valid module without the Extism export: the server decoded and
	// compiled the bytes, then refused what they hold.
	_, err := b.admin.Functions.Deploy(context.Background(), "acme", "w", client.FunctionDeploy{
		Runtime: outlet.RuntimeWasm, Wasm: []byte("\x00asm\x01\x00\x00\x00"),
	})
	if apiErr := asError(t, err); apiErr.Status/100 != 4 || !strings.Contains(apiErr.Message, "handle") {
		t.Errorf("deploying a module without handle: %+v; want refused for want of handle", apiErr)
	}
}
