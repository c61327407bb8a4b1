// Package examples runs each example once, as a newcomer would: the shop
// built and started as `go run ./examples/shop` starts it, the Node receiver
// with node, and the function repository's CI workflow with the real outlet
// binary. Everything talks to 127.0.0.1 only: npm installs from its cache
// (`make examples` fills it), and the receivers live on loopback.
package examples

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

// bin holds the shop and outlet binaries, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "outlet-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	// Built as `go run ./examples/shop` builds it: from the module's root.
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./examples/shop", "./cmd/outlet")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the shop and outlet:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// shopProc is one running shop, with the Outlet it started.
type shopProc struct {
	url       string // the shop's
	outletURL string
	adminKey  string
	stdout    string // the next steps it printed
	logs      *syncBuffer
	outlet    *client.Client
	stop      func() // SIGTERM, and wait for it to exit; also when the test ends
}

// startShop runs the shop binary on free loopback ports, with its state in
// data and the given extra flags.
func startShop(t *testing.T, data string, args ...string) *shopProc {
	t.Helper()
	return startShopEnv(t, data, nil, args...)
}

// startShopEnv is startShop with variables added to the environment.
func startShopEnv(t *testing.T, data string, env []string, args ...string) *shopProc {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "shop"),
		append([]string{"--addr", "127.0.0.1:0", "--outlet-addr", "127.0.0.1:0", "--data", data}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	logs := &syncBuffer{}
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	stop := stopWhenDone(t, cmd, exited, "the shop", logs)

	// The next steps come at once, ending with the deliveries' curl line.
	printed := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "/deliveries") {
				printed <- b.String()
			}
		}
		close(exited)
	}()
	s := &shopProc{logs: logs, stop: stop}
	select {
	case s.stdout = <-printed:
	case <-exited:
		t.Fatalf("the shop exited before it was ready:\n%s", logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("the shop didn't print its next steps within 60s:\n%s", logs)
	}
	s.url = match(t, s.stdout, `(?m)^Shop\s+(http://\S+)`)
	s.outletURL = match(t, s.stdout, `(?m)^Outlet\s+(http://\S+)`)
	key, err := os.ReadFile(filepath.Join(data, "outlet", "admin.key"))
	if err != nil {
		t.Fatalf("the shop's Outlet keeps no admin key where the shop says: %v", err)
	}
	s.adminKey = strings.TrimSpace(string(key))
	s.outlet = client.New(s.outletURL, s.adminKey)
	return s
}

// stopWhenDone returns a function that ends cmd, which also runs when the
// test ends: SIGTERM, then SIGKILL if it hasn't exited within 20 s. done
// closes when its output has ended.
func stopWhenDone(t *testing.T, cmd *exec.Cmd, done <-chan struct{}, name string, logs fmt.Stringer) func() {
	stop := sync.OnceFunc(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		waited := make(chan error, 1)
		go func() { <-done; waited <- cmd.Wait() }()
		select {
		case err := <-waited:
			if err != nil && !t.Failed() {
				t.Errorf("%s exited with %v after SIGTERM:\n%s", name, err, logs)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-waited
			t.Errorf("%s didn't exit within 20s of SIGTERM:\n%s", name, logs)
		}
	})
	t.Cleanup(stop)
	return stop
}

// placed is the shop's answer to a checkout.
type placed struct {
	ID        string `json:"order_id"`
	Subtotal  int    `json:"subtotal"`
	Discount  int    `json:"discount"`
	Total     int    `json:"total"`
	Discounts []struct {
		Label  string `json:"label"`
		Amount int    `json:"amount"`
	} `json:"discounts"`
	Events []string `json:"events"`
}

// checkout buys at the shop as the next steps' curl line does.
func (s *shopProc) checkout(t *testing.T, body string) placed {
	t.Helper()
	resp, err := http.Post(s.url+"/checkout", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var o placed
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &o) != nil || len(o.Events) != 1 {
		t.Fatalf("POST /checkout %s answered %d %s; want 201 with the order and its event\nshop's logs:\n%s", body, resp.StatusCode, b, s.logs)
	}
	return o
}

// delivery waits for the one delivery of the event to reach want attempts
// and leave pending, and returns it with its attempts.
func (s *shopProc) delivery(t *testing.T, eventID string, want int) (*outlet.Delivery, []*outlet.Attempt) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		page, err := s.outlet.Deliveries.List(ctx, "acme", client.DeliveryFilter{EventID: eventID})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Data) == 1 && page.Data[0].Status != outlet.StatusPending && page.Data[0].Attempts >= want {
			d := page.Data[0]
			attempts, err := s.outlet.Deliveries.Attempts(ctx, "acme", d.ID)
			if err != nil {
				t.Fatal(err)
			}
			return d, attempts
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s's deliveries after 30s: %+v; want one with %d attempts done\nshop's logs:\n%s", eventID, page.Data, want, s.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestShopAppliesTheMerchantsDiscountAndDeliversTheOrder(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	s := startShop(t, data)

	o := s.checkout(t, `{"items":[{"sku":"tee","quantity":2}],"coupon":"WELCOME10"}`)
	if o.Subtotal != 5000 || o.Discount != 500 || o.Total != 4500 || len(o.Discounts) != 1 {
		t.Errorf("two T-shirts with WELCOME10 came to %+v; want 5000 - 500 (the merchant's 10%%) = 4500", o)
	}
	d, attempts := s.delivery(t, o.Events[0], 1)
	if d.Status != outlet.StatusSucceeded || attempts[0].StatusCode != http.StatusNoContent {
		t.Fatalf("order.created's delivery is %s, its attempt answered %d; want succeeded with the stand-in's 204", d.Status, attempts[0].StatusCode)
	}
	s.logs.waitFor(t, fmt.Sprintf("order.created for order %s (signature verified)", o.ID))

	// Without the coupon the hook answers the cart as it was.
	if o := s.checkout(t, `{"items":[{"sku":"mug","quantity":1}]}`); o.Discount != 0 || o.Total != 1200 {
		t.Errorf("a mug without a coupon came to %+v; want 1200, no discount", o)
	}

	// The order's id is the publish's idempotency key: paying publishes
	// order.paid once, however often it is asked.
	for range 2 {
		resp, err := http.Post(s.url+"/orders/"+o.ID+"/pay", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("paying %s answered %d", o.ID, resp.StatusCode)
		}
	}
	page, err := s.outlet.Events.List(context.Background(), "acme", client.EventFilter{Type: "order.paid"})
	if err != nil || len(page.Data) != 1 {
		t.Errorf("order.paid events after paying twice: %d (%v); want 1", len(page.Data), err)
	}

	// When the merchant's code fails, the hook answers fail_open: the cart
	// as it was, and the customer buys at full price.
	if _, err := s.outlet.Functions.Deploy(context.Background(), "acme", "broken", client.FunctionDeploy{
		Runtime: outlet.RuntimeJavaScript, Code: `export default () => { throw new Error("oops") }`,
		Hooks: []string{"checkout.discount"}}); err != nil {
		t.Fatal(err)
	}
	if o := s.checkout(t, `{"items":[{"sku":"tee","quantity":1}],"coupon":"WELCOME10"}`); o.Discount != 0 || o.Total != 2500 {
		t.Errorf("with the merchant's code failing, a T-shirt came to %+v; want 2500, no discount", o)
	}
	s.logs.waitFor(t, "the merchant's code failed (runtime_error: function broken: Error: oops")

	resp, err := http.Post(s.url+"/checkout", "application/json", strings.NewReader(`{"items":[{"sku":"socks","quantity":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(b, []byte("choose tee, mug or hoodie")) {
		t.Errorf("a checkout of an unknown product answered %d %s; want 400 saying what there is", resp.StatusCode, b)
	}

	// Started again on its data, as after Ctrl-C, the shop finds what it
	// made: the same merchant endpoint, pointed at the shop's new address.
	ctx := context.Background()
	before, err := s.outlet.Endpoints.List(ctx, "acme", client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.stop()
	s = startShop(t, data)
	after, err := s.outlet.Endpoints.List(ctx, "acme", client.ListOptions{})
	if err != nil || len(after.Data) != 1 || len(before.Data) != 1 || after.Data[0].ID != before.Data[0].ID ||
		after.Data[0].URL != s.url+"/webhooks" {
		t.Fatalf("after a restart the merchant's endpoints are %+v (%v); want the one from before, %+v, at %s/webhooks", after, err, before, s.url)
	}
	o = s.checkout(t, `{"items":[{"sku":"mug","quantity":3}]}`)
	if d, _ := s.delivery(t, o.Events[0], 1); d.Status != outlet.StatusSucceeded {
		t.Errorf("after a restart, order.created's delivery is %s; want succeeded", d.Status)
	}
}

func TestNodeReceiverVerifiesAndDeduplicates(t *testing.T) {
	t.Parallel()
	node := needTools(t, "node", "npm")
	dir := npmInstall(t, "receiver-node")

	// The shop prints the secret its merchant's endpoint signs with; the
	// endpoint points nowhere until the receiver is up.
	s := startShop(t, t.TempDir(), "--receiver-url", "http://127.0.0.1:9/webhooks")
	secret := match(t, s.stdout, `WEBHOOK_SECRET=(whsec_\S+) npm start`)

	cmd := exec.Command(node, "server.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret, "PORT=0")
	logs := &syncBuffer{}
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	stopWhenDone(t, cmd, exited, "the Node receiver", logs)
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			logs.Write([]byte(sc.Text() + "\n"))
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				listening <- u
			}
		}
		close(exited)
	}()
	var receiverURL string
	select {
	case receiverURL = <-listening:
	case <-exited:
		t.Fatalf("the receiver exited before listening:\n%s", logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("the receiver didn't listen within 30s:\n%s", logs)
	}

	ctx := context.Background()
	eps, err := s.outlet.Endpoints.List(ctx, "acme", client.ListOptions{})
	if err != nil || len(eps.Data) != 1 {
		t.Fatalf("the merchant's endpoints: %v, %v; want the one the shop made", eps, err)
	}
	if _, err := s.outlet.Endpoints.Update(ctx, "acme", eps.Data[0].ID, client.EndpointUpdate{URL: &receiverURL}); err != nil {
		t.Fatal(err)
	}

	o := s.checkout(t, `{"items":[{"sku":"hoodie","quantity":1}]}`)
	d, attempts := s.delivery(t, o.Events[0], 1)
	if d.Status != outlet.StatusSucceeded || !strings.Contains(attempts[0].ResponseBody, `"received":true`) {
		t.Fatalf("the delivery is %s, its attempt answered %d %q; want succeeded, received\nreceiver:\n%s",
			d.Status, attempts[0].StatusCode, attempts[0].ResponseBody, logs)
	}

	// A retry by hand sends the same webhook-id: the receiver says it has it.
	if _, err := s.outlet.Deliveries.Retry(ctx, "acme", d.ID); err != nil {
		t.Fatal(err)
	}
	_, attempts = s.delivery(t, o.Events[0], 2)
	if last := attempts[len(attempts)-1]; last.StatusCode != http.StatusOK || !strings.Contains(last.ResponseBody, `"duplicate":true`) {
		t.Errorf("the retry answered %d %q; want 200, duplicate\nreceiver:\n%s", last.StatusCode, last.ResponseBody, logs)
	}
	logs.waitFor(t, "duplicate "+o.Events[0])
	if n := strings.Count(logs.String(), "handled order.created"); n != 1 {
		t.Errorf("the receiver handled order.created %d times; want once\n%s", n, logs)
	}

	// Anyone else's request is refused.
	req, _ := http.NewRequest("POST", receiverURL, strings.NewReader(`{"type":"order.created","data":{}}`))
	req.Header.Set("webhook-id", "msg_forged")
	req.Header.Set("webhook-timestamp", fmt.Sprint(time.Now().Unix()))
	req.Header.Set("webhook-signature", "v1,bm90IGEgc2lnbmF0dXJl")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a forged request answered %d; want 400", resp.StatusCode)
	}
}

// TestShopTracesACheckoutThroughOutlet follows the README's advice: with
// OTEL_EXPORTER_OTLP_ENDPOINT set, a checkout is one trace in the
// collector — the shop's request, Outlet's hook call with the merchant's
// function, the publish and the delivery of order.created.
func TestShopTracesACheckoutThroughOutlet(t *testing.T) {
	t.Parallel()
	collector := newCollector(t)
	s := startShopEnv(t, t.TempDir(), []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.URL, "OTEL_BSP_SCHEDULE_DELAY=100"})
	o := s.checkout(t, `{"items":[{"sku":"tee","quantity":1}],"coupon":"WELCOME10"}`)
	s.delivery(t, o.Events[0], 1)

	want := []string{"shop POST /checkout", "outlet hook.invoke", "outlet function.run", "outlet publish", "outlet deliver"}
	var got []string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got = collector.trace("shop", "POST /checkout")
		if len(got) >= len(want) && containsAll(got, want) {
			return
		}
	}
	t.Errorf("the checkout's trace has the spans %q; want at least %q", got, want)
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// collector is an OTLP/HTTP collector on loopback that keeps the spans it
// is sent.
type collector struct {
	*httptest.Server
	mu    sync.Mutex
	spans []collected
}

type collected struct{ service, name, traceID string }

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(b, &req)
		}
		if r.URL.Path != "/v1/traces" || err != nil {
			http.Error(w, fmt.Sprintf("want OTLP/HTTP protobuf at /v1/traces: %v", err), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		for _, rs := range req.ResourceSpans {
			var service string
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					service = a.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					c.spans = append(c.spans, collected{service, sp.Name, hex.EncodeToString(sp.TraceId)})
				}
			}
		}
		c.mu.Unlock()
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(c.Close)
	return c
}

// trace returns "service name" of every span in the trace of the first span
// the service named so.
func (c *collector) trace(service, name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.spans, func(s collected) bool { return s.service == service && s.name == name })
	if i < 0 {
		return nil
	}
	var out []string
	for _, s := range c.spans {
		if s.traceID == c.spans[i].traceID {
			out = append(out, s.service+" "+s.name)
		}
	}
	return out
}

// workflow is the part of a GitHub Actions workflow the test reads.
type workflow struct {
	Jobs map[string]struct {
		Env   map[string]string `yaml:"env"`
		Steps []map[string]any  `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestFunctionsWorkflowDeploysToTheShop runs the commands of the function
// repository's CI workflow, as GitHub would run them, against the shop's
// Outlet with the merchant's key; then a checkout shows the function's
// discount, after the one the shop deployed, in the hook's chain.
func TestFunctionsWorkflowDeploysToTheShop(t *testing.T) {
	t.Parallel()
	needTools(t, "node", "npm")
	bash := needTools(t, "bash")
	dir := npmInstall(t, "functions")

	s := startShop(t, t.TempDir())
	key, err := s.outlet.APIKeys.Create(context.Background(), "acme", client.APIKeyCreate{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	expressions := map[string]string{"vars.OUTLET_URL": s.outletURL, "secrets.OUTLET_KEY": key.Key}

	var wf workflow
	readYAML(t, filepath.Join(dir, ".github", "workflows", "deploy.yml"), &wf)
	job, ok := wf.Jobs["deploy"]
	if !ok || len(job.Steps) == 0 {
		t.Fatalf("deploy.yml has no deploy job with steps")
	}
	env := append(os.Environ(), offlineNPM...)
	// The CLI the workflow installs is the one this checkout builds.
	env = append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	for name, v := range job.Env {
		env = append(env, name+"="+substitute(t, v, expressions))
	}
	var ran int
	for i, step := range job.Steps {
		script, ok := step["run"].(string)
		if !ok {
			continue // uses: the runner's set-up, which this machine has
		}
		for k := range step {
			if k != "run" && k != "name" {
				t.Fatalf("step %d has %q, which this test doesn't run as GitHub would; teach it", i+1, k)
			}
		}
		if strings.HasPrefix(script, "go install github.com/outlethq/outlet/cmd/outlet@") {
			continue
		}
		cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("step %d (%v) failed: %v\n$ %s\n%s", i+1, step["name"], err, script, out)
		}
		t.Logf("step %d: %s\n%s", i+1, strings.TrimSpace(script), out)
		ran++
	}
	if ran < 4 {
		t.Fatalf("ran %d of deploy.yml's steps; want npm ci, outlet dev, deploy and test", ran)
	}

	o := s.checkout(t, `{"items":[{"sku":"hoodie","quantity":2}],"coupon":"WELCOME10"}`)
	if o.Subtotal != 11000 || o.Discount != 1650 || o.Total != 9350 || len(o.Discounts) != 2 ||
		o.Discounts[1].Label != "5% off orders of 100.00 EUR or more" {
		t.Errorf("two hoodies with WELCOME10 came to %+v; want 11000 - 1100 (WELCOME10) - 550 (the deployed function's 5%%) = 9350", o)
	}
}

// offlineNPM makes npm install from its cache alone and stay quiet.
var offlineNPM = []string{"npm_config_offline=true", "npm_config_audit=false", "npm_config_fund=false", "npm_config_update_notifier=false"}

// npmInstall copies the example to a temporary directory and installs its
// packages there with npm ci, from the npm cache. Missing from the cache,
// they are a skip on a developer's machine (with what to run) and a failure
// in CI, which runs `make examples` first.
func npmInstall(t *testing.T, example string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), example)
	copyExample(t, example, dir)
	cmd := exec.Command("npm", "ci")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), offlineNPM...)
	if out, err := cmd.CombinedOutput(); err != nil {
		msg := fmt.Sprintf("npm ci from the cache failed for examples/%s (run `make examples` once: it needs the npm registry): %v\n%s", example, err, out)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// copyExample copies the example's files to dir, leaving out what npm
// installed.
func copyExample(t *testing.T, example, dir string) {
	t.Helper()
	err := filepath.WalkDir(example, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(example, path)
		switch {
		case d.IsDir() && d.Name() == "node_modules":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// needTools returns the path of the first tool, skipping the test when any
// is missing.
func needTools(t *testing.T, tools ...string) string {
	t.Helper()
	var first string
	for i, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("this example needs %s; %s isn't on PATH", strings.Join(tools, " and "), tool)
		}
		if i == 0 {
			first = p
		}
	}
	return first
}

var expression = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// substitute replaces the workflow's ${{ … }} expressions with the test's
// values; one it doesn't know fails the test.
func substitute(t *testing.T, v string, values map[string]string) string {
	t.Helper()
	return expression.ReplaceAllStringFunc(v, func(e string) string {
		name := expression.FindStringSubmatch(e)[1]
		val, ok := values[name]
		if !ok {
			t.Fatalf("deploy.yml uses ${{ %s }}, which the test has no value for", name)
		}
		return val
	})
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func match(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in what was printed:\n%s", pattern, s)
	}
	return m[1]
}

// syncBuffer is a bytes.Buffer that a process's output and the test may
// use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor fails the test unless the output holds want within 10 s: a
// process's output reaches the buffer a little after it is written.
func (b *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(b.String(), want); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("the output has no %q after 10s:\n%s", want, b)
			return
		}
	}
}
