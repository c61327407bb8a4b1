package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet/outlettest"
)

// A smoke test of the committed bundle in a real Outlet and a real browser:
// a customer opens the link of a portal session and sees their endpoints,
// with a description that holds markup shown as text. The journeys through
// every page are the browser tests' (e2e); this says the bundle works at all.
func TestACustomerOpensTheirLinkAndSeesTheirEndpoints(t *testing.T) {
	t.Parallel()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("SKIPPED: no chromium on PATH (.ci/run installs it)")
	}
	srv := outlettest.Start(t)
	call := func(method, path, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+outlettest.AdminKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
		return b
	}
	call("POST", "/v1/tenants", `{"id":"acme","name":"Acme"}`)
	call("POST", "/v1/tenants/acme/endpoints", `{"url":"http://127.0.0.1:9/smoke","description":"<img src=x onerror=\"document.title='owned'\">billing"}`)
	var session struct{ URL string }
	if err := json.Unmarshal(call("POST", "/v1/tenants/acme/portal-sessions", `{"theme":{"name":"Smoke Platform"}}`), &session); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
		"--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom", srv.URL+session.URL)
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"<h1 tabindex=\"-1\">Endpoints</h1>", "http://127.0.0.1:9/smoke", "&lt;img src=x", "Smoke Platform"} {
		if !bytes.Contains(dom, []byte(want)) {
			t.Errorf("the page lacks %q:\n%s", want, dom)
		}
	}
	if bytes.Contains(dom, []byte(`<img src="x"`)) || bytes.Contains(dom, []byte("<title>owned")) {
		t.Errorf("the endpoint's description was rendered as HTML:\n%s", dom)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "Content Security Policy") || strings.Contains(line, "Uncaught") {
			t.Errorf("the browser reported: %s", line)
		}
	}
}
