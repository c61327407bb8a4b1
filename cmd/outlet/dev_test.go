package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/testwait"
)

// ctxShape is a function that returns what its ctx holds: each field's
// value, or for secrets and function, its type.
const ctxShape = `export default function (input, ctx) {
  const shape = {};
  for (const k of Object.keys(ctx)) {
    shape[k] = (k === "secrets" || k === "function") ? typeof ctx[k] : ctx[k];
  }
  return shape;
}
`

// TestDevGivesTheFunctionTheCtxTheServerDoes runs one function on the
// server (a delivery of an event, a hook's call) and with outlet dev, and
// wants the same fields in ctx, with the same values where they don't name
// one run — and test: true, since nothing of a local run is recorded.
func TestDevGivesTheFunctionTheCtxTheServerDoes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	dir := writeFiles(t, map[string]string{
		"outlet.yaml": "name: shape\nentry: index.js\nevents: [order.*]\nhooks: [checkout.discount]\n",
		"index.js":    ctxShape,
	})
	s.must(t, "tenants", "create", "acme")
	s.must(t, "hooks", "create", "checkout.discount", "--timeout-ms", "2000")
	s.must(t, "functions", "deploy", dir, "--tenant", "acme")

	// On the server: a delivery of an event, whose attempt keeps the output.
	var published struct{ ID string }
	s.mustJSON(t, &published, "events", "publish", "--tenant", "acme", "--type", "order.placed", "--data", `{"id":"o_1"}`)
	var deliveries struct {
		Data []struct{ ID, Status string } `json:"data"`
	}
	testwait.Until(t, "the function's delivery succeeded", func() bool {
		s.mustJSON(t, &deliveries, "deliveries", "list", "--tenant", "acme", "--event-id", published.ID)
		return len(deliveries.Data) == 1 && deliveries.Data[0].Status == string(outlet.StatusSucceeded)
	})
	var attempts struct {
		Data []struct {
			ResponseBody string `json:"response_body"`
		} `json:"data"`
	}
	s.mustJSON(t, &attempts, "deliveries", "attempts", deliveries.Data[0].ID, "--tenant", "acme")
	var onServer map[string]any
	if len(attempts.Data) != 1 || json.Unmarshal([]byte(attempts.Data[0].ResponseBody), &onServer) != nil {
		t.Fatalf("the attempt kept %+v; want the function's output", attempts.Data)
	}
	wantEqualValues(t, "the server's ctx on an event", onServer, map[string]any{"tenant": "acme", "trigger": "event",
		"event_id": published.ID, "delivery_id": deliveries.Data[0].ID, "attempt": 1.0, "secrets": "object", "function": "object"})

	event := filepath.Join(t.TempDir(), "order.json")
	os.WriteFile(event, []byte(`{"type": "order.placed", "data": {"id": "o_1"}}`), 0o644)
	local := devOutput(t, "dev", dir, "--event", event, "--tenant", "acme")
	sameShape(t, "an --event run", local, withTest(onServer))
	if id, _ := local["event_id"].(string); !strings.HasPrefix(id, outlet.PrefixEvent) {
		t.Errorf("dev's ctx.event_id is %v; want an %s id", local["event_id"], outlet.PrefixEvent)
	}
	if id, _ := local["delivery_id"].(string); !strings.HasPrefix(id, outlet.PrefixDelivery) {
		t.Errorf("dev's ctx.delivery_id is %v; want a %s id", local["delivery_id"], outlet.PrefixDelivery)
	}
	if retry := devOutput(t, "dev", dir, "--event", event, "--attempt", "3"); retry["attempt"] != 3.0 || retry["tenant"] != "local" {
		t.Errorf("dev --attempt 3 without --tenant: ctx %v; want attempt 3 and tenant local", retry)
	}

	// At a hook.
	var invoked struct {
		Output map[string]any `json:"output"`
	}
	s.mustJSON(t, &invoked, "hooks", "invoke", "checkout.discount", "--tenant", "acme", "--input", `{"total":1}`)
	wantEqualValues(t, "the server's ctx at a hook", invoked.Output, map[string]any{"tenant": "acme", "trigger": "hook",
		"hook": "checkout.discount", "secrets": "object", "function": "object"})
	local = devOutput(t, "dev", dir, "--input", `{"total":1}`, "--tenant", "acme")
	wantEqualValues(t, "dev's ctx at a hook", local, withTest(invoked.Output))
	if named := devOutput(t, "dev", dir, "--input", `{}`, "--hook", "checkout.tax"); named["hook"] != "checkout.tax" {
		t.Errorf("dev --hook checkout.tax: ctx %v; want that hook", named)
	}
	several := writeFiles(t, map[string]string{
		"outlet.yaml": "name: shape\nentry: index.js\nhooks: [checkout.discount, checkout.tax]\n",
		"index.js":    ctxShape,
	})
	if ctx := devOutput(t, "dev", several, "--input", `{}`); ctx["trigger"] != "hook" || ctx["hook"] != nil {
		t.Errorf("dev of a function serving two hooks, without --hook: ctx %v; want trigger hook and no hook, as a test run without --hook", ctx)
	}
}

// withTest is a server's ctx as a test run has it.
func withTest(ctx map[string]any) map[string]any {
	out := maps.Clone(ctx)
	out["test"] = true
	return out
}

func TestDevRefusesCtxFlagsThatDontFitTheRun(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"outlet.yaml": "name: shape\nentry: index.js\nhooks: [checkout.discount, checkout.tax]\n",
		"index.js":    ctxShape,
	})
	event := filepath.Join(t.TempDir(), "order.json")
	os.WriteFile(event, []byte(`{"type": "order.placed", "data": {}}`), 0o644)
	for _, tt := range []struct {
		name string
		args []string
		says string
	}{
		{"a hook name must be one", []string{"--input", "{}", "--hook", "Checkout Tax!"}, "not a hook name"},
		{"an event run is at no hook", []string{"--event", event, "--hook", "checkout.tax"}, "--hook is for --input runs"},
		{"attempts start at 1", []string{"--event", event, "--attempt", "0"}, "the first attempt is 1"},
		{"a hook's call has no attempts", []string{"--input", "{}", "--hook", "checkout.tax", "--attempt", "2"}, "--attempt is for --event runs"},
		{"a tenant id must be one", []string{"--event", event, "--tenant", "a b"}, "--tenant"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, _, err := runCLI(append([]string{"dev", dir}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("dev %s: %v, printed %q; want an error saying %q", strings.Join(tt.args, " "), err, out, tt.says)
			}
		})
	}
}

// devOutput runs outlet dev with --json and returns the function's output.
func devOutput(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, errOut, err := runCLI(append(args, "--json")...)
	var res struct {
		Output map[string]any `json:"output"`
	}
	if err != nil || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("outlet %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return res.Output
}

// sameShape fails the test unless local has the same fields as server, each
// of the same JSON type.
func sameShape(t *testing.T, what string, local, server map[string]any) {
	t.Helper()
	if l, s := slices.Sorted(maps.Keys(local)), slices.Sorted(maps.Keys(server)); !slices.Equal(l, s) {
		t.Errorf("%s: dev's ctx has %v; the server's has %v", what, l, s)
	}
	for k, v := range server {
		if typeName(local[k]) != typeName(v) {
			t.Errorf("%s: dev's ctx.%s is %v; the server's is %v", what, k, local[k], v)
		}
	}
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case nil:
		return "absent or null"
	}
	return "?"
}

func wantEqualValues(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s: ctx %s, want %s", what, g, w)
	}
}
