package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/app"
)

const adminKey = "olk_admin_app_test_0123456789"

// config is the default server with its state in dir, reaching receivers on
// 127.0.0.1, one attempt per delivery, and quiet.
func config(dir string) app.Config {
	c := app.Defaults()
	c.Data = dir
	c.AdminKey = adminKey
	c.AllowPrivateNetworks = true
	c.RetrySchedule = outlet.RetrySchedule{}
	c.PollInterval = 50 * time.Millisecond
	c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return c
}

// start builds and starts a server on a loopback port; it is shut down when
// the test ends, if the test hasn't.
func start(t *testing.T, cfg app.Config) *app.App {
	t.Helper()
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.Start(ln)
	t.Cleanup(func() { shutdown(t, a) })
	return a
}

func shutdown(t *testing.T, a *app.App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// do makes a request with the admin key and returns the status and body.
func do(url, method, path, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, url+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	return resp.StatusCode, got, err
}

// call does a request, fails the test unless it is answered with status
// want, and decodes the answer into out unless nil.
func call(t *testing.T, url, method, path, body string, want int, out any) {
	t.Helper()
	status, got, err := do(url, method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if status != want {
		t.Fatalf("%s %s answered %d, want %d: %s", method, path, status, want, got)
	}
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, got, err)
		}
	}
}

// The wiring the tests run is the one `outlet serve` runs: an event reaches
// both a webhook and a function, and the function's CPU time is billed —
// which the test wirings once left out. Shutdown records what the meter
// counted and lets go of the data directory, so a new server can open it.
func TestAServerDeliversRunsFunctionsBillsTheirCPUAndLetsGoOfItsDataOnShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := start(t, config(dir))

	got := make(chan []byte, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case got <- b:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	call(t, a.URL(), "POST", "/v1/tenants", `{"id":"acme","name":"Acme"}`, 201, nil)
	call(t, a.URL(), "POST", "/v1/tenants/acme/endpoints", `{"url":"`+receiver.URL+`","event_types":["invoice.paid"]}`, 201, nil)
	// Enough work that its CPU time is milliseconds, not microseconds.
	code, _ := json.Marshal(`export default function (event) {
  let x = 0;
  for (let i = 0; i < 200000; i++) x = (x + i) % 1000003;
  return { x };
}`)
	call(t, a.URL(), "PUT", "/v1/tenants/acme/functions/spin", `{"runtime":"javascript","code":`+string(code)+`,"events":["invoice.paid"]}`, 201, nil)
	var ev struct{ ID string }
	call(t, a.URL(), "POST", "/v1/tenants/acme/events", `{"type":"invoice.paid","data":{"invoice":"1234"}}`, 202, &ev)

	select {
	case b := <-got:
		if !bytes.Contains(b, []byte(`"invoice":"1234"`)) {
			t.Errorf("the receiver got %s; want the event", b)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook was not delivered within 30s")
	}
	// Both deliveries — the webhook's and the function's — finish.
	for deadline := time.Now().Add(60 * time.Second); ; {
		var ds struct {
			Data []struct{ ID, Status string }
		}
		call(t, a.URL(), "GET", "/v1/tenants/acme/deliveries?event_id="+ev.ID, "", 200, &ds)
		done := len(ds.Data) == 2
		for _, d := range ds.Data {
			if d.Status == "failed" {
				_, attempts, _ := do(a.URL(), "GET", "/v1/tenants/acme/deliveries/"+d.ID+"/attempts", "")
				t.Fatalf("delivery %s failed: %s", d.ID, attempts)
			}
			done = done && d.Status == "succeeded"
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deliveries did not succeed within 60s: %+v", ds.Data)
		}
		time.Sleep(20 * time.Millisecond)
	}
	shutdown(t, a)

	// A new server on the same directory opens the SQLite database the first
	// let go of, and finds the use the first one billed.
	b := start(t, config(dir))
	var usage outlet.UsageReport
	call(t, b.URL(), "GET", "/v1/tenants/acme/usage", "", 200, &usage)
	u := usage.Total
	if u.Events != 1 || u.Deliveries != 2 {
		t.Errorf("usage counts %d events and %d deliveries; want 1 and 2", u.Events, u.Deliveries)
	}
	if u.FunctionInvocations < 1 || u.FunctionCPUMs < 1 {
		t.Errorf("usage counts %d function invocations and %d ms of their CPU; want the run and its CPU time billed",
			u.FunctionInvocations, u.FunctionCPUMs)
	}
}

// Load balancers must stop sending work as soon as a node begins to drain,
// while the requests it holds still finish against an open store.
func TestADrainingServerAnswersNotReadyWhileItsRequestsFinish(t *testing.T) {
	t.Parallel()
	a := start(t, config(t.TempDir()))
	arrived := make(chan struct{})
	release := make(chan struct{})
	letGo := sync.OnceFunc(func() { close(release) })
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer endpoint.Close()
	defer letGo() // before the endpoint closes, should the test end early
	call(t, a.URL(), "POST", "/v1/tenants", `{"id":"acme","name":"Acme"}`, 201, nil)
	call(t, a.URL(), "POST", "/v1/hooks", `{"name":"login.post","timeout_ms":20000,"on_error":"fail_closed"}`, 201, nil)
	call(t, a.URL(), "PUT", "/v1/tenants/acme/hooks/login.post/endpoint", `{"url":"`+endpoint.URL+`"}`, 201, nil)

	invoked := make(chan struct{})
	go func() {
		defer close(invoked)
		if status, body, err := do(a.URL(), "POST", "/v1/tenants/acme/hooks/login.post/invoke", `{"input":{}}`); err != nil || status != 200 {
			t.Errorf("the hook invoked while the server drained answered %d %s (%v); want 200", status, body, err)
		}
	}()
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the hook's endpoint was not called within 30s")
	}
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		stopped <- a.Shutdown(ctx)
	}()

	// The listener is closed at once, so ask the handler itself.
	ready := func() (int, string) {
		w := httptest.NewRecorder()
		a.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		return w.Code, w.Body.String()
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		code, body := ready()
		if code == http.StatusServiceUnavailable {
			if !strings.Contains(body, "shutting down") {
				t.Errorf("/readyz while draining answered %s; want it to say the node is shutting down", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still answered %d %s 10s into the drain", code, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
	default:
	}
	letGo()
	<-invoked
	if err := <-stopped; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// A server that can't be built leaves nothing open behind it: the next one
// opens the same directory.
func TestAServerThatFailsToBuildLetsGoOfItsData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := config(dir)
	bad.AdminKey = "short"
	if _, err := app.New(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "16 characters") {
		t.Fatalf("a 5-character admin key: %v; want refused, saying how long a key must be", err)
	}
	a, err := app.New(context.Background(), config(dir))
	if err != nil {
		t.Fatalf("a server on the directory a failed one used: %v", err)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Errorf("shutting down a server never started: %v", err)
	}
}

// Portal settings a browser would misread stop the server before it opens
// its data, naming the setting.
func TestBadPortalSettingsAreRefusedNamingTheFlag(t *testing.T) {
	t.Parallel()
	for flag, set := range map[string]func(*app.Config){
		"--portal-frame-ancestors": func(c *app.Config) { c.PortalFrameAncestors = []string{"https://app.example.com; script-src *"} },
		"--portal-cookie-samesite": func(c *app.Config) { c.PortalCookieSameSite = "sometimes" },
		"--public-url":             func(c *app.Config) { c.PublicURL = "outlet.example.com" },
		"--function-failing-rate":  func(c *app.Config) { c.FunctionFailingRate = 1.5 },
		"--usage-threshold":        func(c *app.Config) { c.UsageThresholdEvents = -1 },
	} {
		dir := t.TempDir()
		bad := config(dir)
		set(&bad)
		if _, err := app.New(context.Background(), bad); err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("a bad %s: %v; want refused, naming the flag", flag, err)
		}
	}
}

// The portal and the API answer on one address: /portal/ is the portal's,
// every other path the API's, which answers it in its own error format —
// never a redirect of a router in front of it.
func TestThePortalAndTheAPIShareOneAddress(t *testing.T) {
	t.Parallel()
	a := start(t, config(t.TempDir()))
	for _, tc := range []struct {
		path, contentType string
		status            int
	}{
		{"/portal/", "text/html", 200},
		{"/v1//tenants", "application/json", 404},
		{"/v1/tenants/../tenants", "application/json", 404},
		{"/portalx", "application/json", 404},
		{"/v1/tenants", "application/json", 401},
	} {
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(a.URL() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.contentType) {
			t.Errorf("GET %s answered %d %s; want %d %s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, tc.contentType)
		}
	}
}
