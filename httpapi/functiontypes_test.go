package httpapi

import (
	"strings"
	"testing"
)

func TestFunctionTypes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var types struct {
		Declarations string
		Globals      string
		Context      string
		Events       map[string]string
		Hooks        map[string]struct{ Input, Output string }
	}
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/acme/function-types", auth: "Bearer " + b.key}, &types)
	for _, want := range []string{`"invoice.paid": {`, "amount?: number;", "readonly STRIPE_KEY?: string;", `"checkout.discount": {`, "cart: Record<string, unknown>;"} {
		if !strings.Contains(types.Declarations, want) {
			t.Errorf("outlet.d.ts lacks %q:\n%s", want, types.Declarations)
		}
	}
	if !strings.Contains(types.Context, "readonly STRIPE_KEY?: string;") || strings.Contains(types.Context, "export") {
		t.Errorf("the context alone should name the secret and export nothing:\n%s", types.Context)
	}
	if _, ok := types.Events["outlet.delivery.exhausted"]; !ok {
		t.Errorf("the types lack Outlet's operational events, which a function may subscribe to")
	}
	if !strings.Contains(types.Events["invoice.paid"], "amount?: number;") {
		t.Errorf("invoice.paid's type is %q", types.Events["invoice.paid"])
	}
	if h := types.Hooks["login.post"]; h.Input != "unknown" || h.Output != "unknown" {
		t.Errorf("a hook without schemas has types %+v, want unknown", h)
	}
	if !strings.Contains(types.Globals, "declare function fetch(") {
		t.Errorf("the globals don't declare fetch:\n%s", types.Globals)
	}

	// Another tenant's names aren't its to see; an unknown tenant is 404 to
	// the admin.
	b.must(t, 403, req{method: "GET", path: "/v1/tenants/acme/function-types", auth: "Bearer " + b.otherKey}, nil)
	b.must(t, 404, req{method: "GET", path: "/v1/tenants/nobody/function-types", auth: "Bearer " + adminKey}, nil)
	var other struct{ Declarations string }
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/globex/function-types", auth: "Bearer " + b.otherKey}, &other)
	if strings.Contains(other.Declarations, "STRIPE_KEY") {
		t.Errorf("globex's types name acme's secret")
	}
}
