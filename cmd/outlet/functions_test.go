package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet/internal/testwait"
)

// writeFiles writes files (path: content) under a new temporary directory and
// returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// discountProject is a customer's function as its repository holds it: an
// outlet.yaml, a TypeScript entry, and an npm package it imports, installed
// in node_modules.
func discountProject(t *testing.T) string {
	return writeFiles(t, map[string]string{
		"outlet.yaml": `# the discount at checkout
name: discount
runtime: typescript
entry: src/index.ts
events: [order.*]
hooks: [checkout.discount]
timeout_ms: 2000
`,
		"src/index.ts": `import { percentOff } from "tiny-money"

interface Cart { total: number; fail?: boolean }

export default function (input: Cart, ctx: { secrets: Record<string, string> }) {
	console.log("coupon", ctx.secrets.COUPON)
	if (input.fail) {
		throw new Error("the cart can't be discounted")
	}
	return { ...input, total: percentOff(input.total, 10) }
}
`,
		"node_modules/tiny-money/package.json": `{"name": "tiny-money", "version": "1.0.0", "main": "index.js"}`,
		"node_modules/tiny-money/index.js": `exports.percentOff = function percentOff(n, p) {
	return Math.round(n * (100 - p)) / 100
}
`,
	})
}

// syncBuffer is a buffer a test may read while a command writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// outletWith runs the CLI against s with ctx, stdin and stdout of the
// test's choosing.
func (s *server) outletWith(ctx context.Context, stdin io.Reader, stdout io.Writer, args ...string) (stderr string, err error) {
	root := newRootCmd()
	var errOut bytes.Buffer
	root.SetArgs(append([]string{"--url", s.url, "--key", testAdminKey}, args...))
	root.SetOut(stdout)
	root.SetErr(&errOut)
	root.SetIn(stdin)
	err = root.ExecuteContext(ctx)
	return errOut.String(), err
}

func TestCLIDeployInvokeTestAndFollow(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	dir := discountProject(t)
	s.must(t, "tenants", "create", "acme")
	s.must(t, "hooks", "create", "checkout.discount", "--timeout-ms", "2000")

	var out bytes.Buffer
	if _, err := s.outletWith(context.Background(), strings.NewReader("SAVE10-secret\n"), &out, "secrets", "set", "COUPON", "--tenant", "acme"); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	deployed := s.must(t, "functions", "deploy", dir, "--tenant", "acme")
	if !regexp.MustCompile(`^Deployed discount version 1 for tenant acme \(typescript src/index.ts, bundled into [0-9.]+ [KMi]*B of javascript\): runs on order\.\*; serves checkout\.discount\.\n$`).MatchString(deployed) {
		t.Errorf("functions deploy printed %q", deployed)
	}
	if out := s.must(t, "functions", "list", "--tenant", "acme"); !hasRow(out, "NAME", "ACTIVE", "LATEST", "RUNTIME", "EVENTS", "HOOKS") ||
		!hasRow(out, "discount", "1", "1", "javascript", "order.*", "checkout.discount") {
		t.Errorf("functions list printed:\n%s", out)
	}

	invoked := s.must(t, "hooks", "invoke", "checkout.discount", "--tenant", "acme", "--input", `{"total": 100}`)
	if !hasRow(invoked, "served by:", "functions") || !strings.Contains(invoked, `"total": 90`) || !hasRow(invoked, "error:", "-") || !hasRow(invoked, "duration:") {
		t.Errorf("hooks invoke printed:\n%s", invoked)
	}
	// A failing function still answers the hook: fail_open passes the input through.
	invoked, errOut, err := s.outlet(t, "hooks", "invoke", "checkout.discount", "--tenant", "acme", "--input", `{"total": 100, "fail": true}`)
	if err != nil || !strings.Contains(invoked, `"fail": true`) || !strings.Contains(invoked, "runtime_error: Error: the cart can't be discounted") {
		t.Errorf("hooks invoke of a failing function: %v\n%s\n%s; want exit 0, the input and the error", err, invoked, errOut)
	}
	var raw struct {
		Output   json.RawMessage `json:"output"`
		Error    struct{ Code string }
		ServedBy string `json:"served_by"`
	}
	s.mustJSON(t, &raw, "hooks", "invoke", "checkout.discount", "--tenant", "acme", "--input", `{"total": 100, "fail": true}`)
	if raw.Error.Code != "runtime_error" || raw.ServedBy != "functions" {
		t.Errorf("hooks invoke --json printed %+v", raw)
	}
	if out := s.must(t, "hooks", "list", "--tenant", "acme"); !hasRow(out, "checkout.discount", "function discount", "2000 ms", "fail_open") {
		t.Errorf("hooks list --tenant printed:\n%s", out)
	}

	// Follow the logs while the hook is invoked again; stop it as Ctrl-C would.
	followed := &syncBuffer{}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.outletWith(ctx, strings.NewReader(""), followed, "functions", "logs", "discount", "--tenant", "acme", "--follow")
		done <- err
	}()
	testwait.Until(t, "the first three invocations are followed", func() bool {
		return strings.Count(followed.String(), "hook checkout.discount") == 3
	})
	s.must(t, "hooks", "invoke", "checkout.discount", "--tenant", "acme", "--input", `{"total": 50}`)
	testwait.Until(t, "the new invocation is followed", func() bool {
		return strings.Count(followed.String(), "hook checkout.discount") == 4
	})
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("logs --follow ended with %v; want a clean stop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("logs --follow didn't stop when its context ended")
	}
	lines := strings.Split(strings.TrimSpace(followed.String()), "\n")
	okLine := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  v1  hook checkout\.discount  \d+ ms  ok$`)
	if len(lines) != 8 || !okLine.MatchString(lines[0]) || lines[1] != "    coupon [secret COUPON]" ||
		!strings.Contains(lines[2], " ms  runtime_error: Error: the cart can't be discounted") || !okLine.MatchString(lines[6]) {
		t.Errorf("logs --follow printed:\n%s\nwant each invocation, oldest first, with its console output indented", followed.String())
	}

	logs := s.must(t, "functions", "logs", "discount", "--tenant", "acme", "--limit", "2")
	if strings.Count(logs, "hook checkout.discount") != 2 || !strings.Contains(logs, "    coupon [secret COUPON]") {
		t.Errorf("functions logs printed:\n%s", logs)
	}

	event := filepath.Join(t.TempDir(), "order.json")
	os.WriteFile(event, []byte(`{"type": "order.placed", "data": {"total": 20}}`), 0o644)
	tested := s.must(t, "functions", "test", "discount", "--tenant", "acme", "--event", event)
	if !hasRow(tested, "version:", "1") || !strings.Contains(tested, `"type": "order.placed"`) || !strings.Contains(tested, "coupon [secret COUPON]") {
		t.Errorf("functions test --event printed:\n%s", tested)
	}
	tested, _, err = s.outlet(t, "functions", "test", "discount", "--tenant", "acme", "--input", `{"fail": true}`)
	if err == nil || !strings.Contains(err.Error(), "the function failed (runtime_error)") || !strings.Contains(tested, "error:") {
		t.Errorf("functions test of a failing run: %v\n%s; want the error shown and a non-zero exit", err, tested)
	}

	// Flags override the manifest.
	deployed = s.must(t, "functions", "deploy", dir, "--tenant", "acme", "--events", "invoice.paid", "--hooks", "")
	if !strings.Contains(deployed, "version 2") || !strings.Contains(deployed, "runs on invoice.paid.") {
		t.Errorf("deploy with --events and --hooks printed %q", deployed)
	}
	if out := s.must(t, "functions", "versions", "discount", "--tenant", "acme"); !hasRow(out, "2", "yes", "javascript", "invoice.paid", "-") || !hasRow(out, "1", "no", "javascript", "order.*", "checkout.discount") {
		t.Errorf("functions versions printed:\n%s", out)
	}
	if src := s.must(t, "functions", "version", "discount", "1", "--tenant", "acme", "--source"); !strings.Contains(src, "node_modules/tiny-money/index.js") {
		t.Errorf("version --source printed the bundle without the npm package's code:\n%s", src)
	}
	if out := s.must(t, "functions", "rollback", "discount", "1", "--tenant", "acme"); !hasRow(out, "active version:", "1") || !hasRow(out, "latest version:", "2") {
		t.Errorf("functions rollback printed:\n%s", out)
	}
	if out := s.must(t, "functions", "get", "discount", "--tenant", "acme"); !hasRow(out, "hooks:", "checkout.discount") {
		t.Errorf("functions get after the rollback printed:\n%s", out)
	}

	if out := s.must(t, "secrets", "list", "--tenant", "acme"); !hasRow(out, "COUPON") || strings.Contains(out, "SAVE10") {
		t.Errorf("secrets list printed:\n%s", out)
	}
	s.must(t, "functions", "delete", "discount", "--tenant", "acme")
	if _, _, err := s.outlet(t, "functions", "get", "discount", "--tenant", "acme"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("functions get after delete: %v", err)
	}
}

func TestCLISecretsNeverShowTheValue(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.must(t, "tenants", "create", "acme")
	file := filepath.Join(t.TempDir(), "key")
	os.WriteFile(file, []byte("from-a-file-value\n"), 0o600)

	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"from --value", "", []string{"--value", "inline-value"}},
		{"from a file", "", []string{"--from-file", file}},
		{"from stdin", "piped-value\n", nil},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		errOut, err := s.outletWith(context.Background(), strings.NewReader(tt.stdin), &out,
			append([]string{"secrets", "set", "API_KEY", "--tenant", "acme"}, tt.args...)...)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if strings.Contains(out.String()+errOut, "value") || !strings.Contains(errOut, "Set secret API_KEY of tenant acme.") {
			t.Errorf("%s printed %q and %q", tt.name, out.String(), errOut)
		}
	}
	if _, _, err := s.outlet(t, "secrets", "set", "API_KEY", "--tenant", "acme"); err == nil || !strings.Contains(err.Error(), "stdin was empty") {
		t.Errorf("set with nothing piped in: %v", err)
	}
	if out := s.must(t, "secrets", "list", "--tenant", "acme"); !hasRow(out, "NAME", "CREATED", "UPDATED") || !hasRow(out, "API_KEY", "just now") {
		t.Errorf("secrets list printed:\n%s", out)
	}
	s.must(t, "secrets", "delete", "API_KEY", "--tenant", "acme")
	if out := s.must(t, "secrets", "list", "--tenant", "acme"); hasRow(out, "API_KEY") {
		t.Errorf("secrets list after delete printed:\n%s", out)
	}
}

func TestCLIHooksAndSyncEndpoints(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.must(t, "tenants", "create", "acme", "--allowed-host", "api.stripe.com")

	schema := filepath.Join(t.TempDir(), "cart.schema.json")
	os.WriteFile(schema, []byte(`{"type": "object", "required": ["total"]}`), 0o644)
	out := s.must(t, "hooks", "create", "checkout.discount", "--description", "Adjust a cart", "--input-schema-file", schema)
	if !hasRow(out, "name:", "checkout.discount") || !hasRow(out, "timeout:", "1000 ms") || !hasRow(out, "on error:", "fail_open") || !strings.Contains(out, `"required": [`) {
		t.Errorf("hooks create printed:\n%s", out)
	}
	out = s.must(t, "hooks", "update", "checkout.discount", "--timeout-ms", "250", "--on-error", "fail_closed", "--input-schema", "null")
	if !hasRow(out, "timeout:", "250 ms") || !hasRow(out, "on error:", "fail_closed") || !hasRow(out, "input schema:", "-") || !hasRow(out, "description:", "Adjust a cart") {
		t.Errorf("hooks update printed:\n%s", out)
	}
	if out := s.must(t, "hooks", "list"); !hasRow(out, "NAME", "TIMEOUT", "ON ERROR", "DESCRIPTION") || !hasRow(out, "checkout.discount", "250 ms", "fail_closed", "Adjust a cart") {
		t.Errorf("hooks list printed:\n%s", out)
	}

	out = s.must(t, "hooks", "endpoint", "set", "checkout.discount", s.receiver+"/ok", "--tenant", "acme", "--header", "X-Team=billing")
	secret := regexp.MustCompile(`whsec_\S+`).FindString(out)
	if !hasRow(out, "url:", s.receiver+"/ok") || !hasRow(out, "headers:", "X-Team=billing") || secret == "" {
		t.Errorf("hooks endpoint set printed:\n%s", out)
	}
	if out := s.must(t, "hooks", "endpoint", "get", "checkout.discount", "--tenant", "acme"); !hasRow(out, "url:", s.receiver+"/ok") || strings.Contains(out, "whsec_") {
		t.Errorf("hooks endpoint get printed:\n%s", out)
	}
	if out := s.must(t, "hooks", "endpoint", "secret", "checkout.discount", "--tenant", "acme"); !hasRow(out, "secret:", secret) {
		t.Errorf("hooks endpoint secret printed:\n%s", out)
	}
	if out := s.must(t, "hooks", "get", "checkout.discount", "--tenant", "acme"); !hasRow(out, "served by:", "endpoint "+s.receiver+"/ok") {
		t.Errorf("hooks get --tenant printed:\n%s", out)
	}
	out = s.must(t, "hooks", "invoke", "checkout.discount", "--tenant", "acme", "--input", `{"total": 1}`)
	if !hasRow(out, "served by:", "endpoint") {
		t.Errorf("hooks invoke of an endpoint printed:\n%s", out)
	}
	s.must(t, "hooks", "endpoint", "delete", "checkout.discount", "--tenant", "acme")
	if out := s.must(t, "hooks", "get", "checkout.discount", "--tenant", "acme"); !hasRow(out, "served by:", "nothing: the input passes through") {
		t.Errorf("hooks get --tenant after the endpoint's removal printed:\n%s", out)
	}

	if out := s.must(t, "tenants", "get", "acme"); !hasRow(out, "allowed hosts:", "api.stripe.com") {
		t.Errorf("tenants get printed:\n%s", out)
	}
	if out := s.must(t, "tenants", "update", "acme", "--any-host"); !hasRow(out, "allowed hosts:", "any public host") {
		t.Errorf("tenants update --any-host printed:\n%s", out)
	}

	s.must(t, "hooks", "delete", "checkout.discount")
	if _, _, err := s.outlet(t, "hooks", "get", "checkout.discount"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("hooks get after delete: %v", err)
	}
	if _, _, err := s.outlet(t, "hooks", "invoke", "checkout.discount", "--tenant", "acme"); err == nil || !strings.Contains(err.Error(), "input") {
		t.Errorf("hooks invoke without input: %v; want to be told to give one", err)
	}
}

func TestCLIDevRunsTheFunctionLocally(t *testing.T) {
	t.Parallel()
	dir := discountProject(t)
	env := filepath.Join(t.TempDir(), ".env")
	os.WriteFile(env, []byte("# local secrets\nexport COUPON=\"SAVE10-local\"\nOTHER=x\n"), 0o600)
	event := filepath.Join(t.TempDir(), "order.json")
	os.WriteFile(event, []byte(`{"type": "order.placed", "data": {"id": "o_1"}, "timestamp": "2026-01-02T03:04:05Z"}`), 0o644)

	out, _, err := runCLI("dev", dir, "--event", event, "--secrets-file", env)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"type": "order.placed"`) || !strings.Contains(out, `"timestamp": "2026-01-02T03:04:05.000Z"`) ||
		!strings.Contains(out, "  coupon [secret COUPON]") || !hasRow(out, "duration:") {
		t.Errorf("dev --event printed:\n%s", out)
	}

	out, _, err = runCLI("dev", dir, "--input", `{"total": 100}`, "--secret", "COUPON=SAVE10-flag", "--json")
	var res struct {
		Output json.RawMessage `json:"output"`
		Error  *struct{ Code string }
		Logs   string `json:"logs"`
	}
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || strings.Join(strings.Fields(string(res.Output)), "") != `{"total":90}` || res.Error != nil ||
		res.Logs != "coupon [secret COUPON]\n" {
		t.Errorf("dev --input --json: %v\n%s", err, out)
	}

	out, _, err = runCLI("dev", dir, "--input", `{"total": 100, "fail": true}`)
	if err == nil || !strings.Contains(err.Error(), "the function failed (runtime_error)") ||
		!strings.Contains(out, "runtime_error: Error: the cart can't be discounted") || !strings.Contains(out, "  coupon undefined") {
		t.Errorf("dev of a failing run: %v\n%s; want the error, the logs and a non-zero exit", err, out)
	}
}

func TestCLIDevAndDeployExplainBrokenProjects(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.must(t, "tenants", "create", "acme")
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"a directory without outlet.yaml", map[string]string{"index.js": "export default () => 1"}, "no outlet.yaml in"},
		{"a misspelt field", map[string]string{"outlet.yaml": "name: f\nentry: index.js\nentrypoint: index.js\n", "index.js": "export default () => 1"},
			`outlet.yaml: line 3: unknown field "entrypoint"`},
		{"a missing entry", map[string]string{"outlet.yaml": "name: f\nentry: src/index.ts\n"}, "entry src/index.ts doesn't exist"},
		{"a syntax error", map[string]string{"outlet.yaml": "name: f\nentry: src/index.ts\n", "src/index.ts": "export default function () {\n  return 1 +\n}\n"},
			"src/index.ts:3:1: Unexpected \"}\""},
		{"an npm package that isn't installed", map[string]string{"outlet.yaml": "name: f\nentry: index.js\n", "index.js": "import x from \"left-pad\"\nexport default () => x(1)\n"},
			`index.js:1:15: Could not resolve "left-pad"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			for _, args := range [][]string{{"functions", "deploy", dir, "--tenant", "acme"}, {"dev", dir, "--input", "{}"}} {
				out, _, err := s.outlet(t, args...)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: %v; want an error containing %q", args[0], err, tt.want)
				}
				if out != "" {
					t.Errorf("%s printed %q beside the error", args[0], out)
				}
			}
		})
	}
}
