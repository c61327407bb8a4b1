package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/testwait"
	"github.com/outlethq/outlet/outlettest"
)

const testAdminKey = outlettest.AdminKey

// server is a real Outlet (SQLite in a temporary directory, the dispatcher,
// the HTTP API) and a webhook receiver, on loopback: /ok answers 200, /fail
// answers 500. Deliveries get a single attempt, so a failing one is failed
// at once.
type server struct {
	url      string
	receiver string
}

func startServer(t *testing.T) *server {
	t.Helper()
	api := outlettest.Start(t)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			http.Error(w, "receiver is down", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(rcv.Close)
	return &server{url: api.URL, receiver: rcv.URL}
}

// outlet runs the CLI in-process against s with the admin key, unless args
// give another.
func (s *server) outlet(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return runCLI(append([]string{"--url", s.url, "--key", testAdminKey}, args...)...)
}

func runCLI(args ...string) (stdout, stderr string, err error) {
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(""))
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// must runs the CLI and fails the test if the command fails.
func (s *server) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := s.outlet(t, args...)
	if err != nil {
		t.Fatalf("outlet %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// mustJSON runs the CLI with --json and decodes its output.
func (s *server) mustJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := s.must(t, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("outlet %s --json printed %q: %v", strings.Join(args, " "), out, err)
	}
}

// hasRow reports whether out has a line whose cells, split on runs of
// spaces, start with cells.
func hasRow(out string, cells ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		got := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		if len(got) >= len(cells) && equalPrefix(got, cells) {
			return true
		}
	}
	return false
}

func equalPrefix(got, want []string) bool {
	for i, w := range want {
		if w != "*" && got[i] != w {
			return false
		}
	}
	return true
}

func TestCLIPublishToRetry(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	out := s.must(t, "tenants", "create", "acme", "--name", "Acme Inc", "--metadata", "plan=pro")
	if !hasRow(out, "id:", "acme") || !hasRow(out, "name:", "Acme Inc") || !hasRow(out, "metadata:", "plan=pro") {
		t.Errorf("tenants create printed:\n%s", out)
	}
	out = s.must(t, "tenants", "list")
	if !hasRow(out, "ID", "NAME", "METADATA", "CREATED") || !hasRow(out, "acme", "Acme Inc", "plan=pro", "just now") {
		t.Errorf("tenants list printed:\n%s", out)
	}

	s.must(t, "tenants", "create", "globex")
	out, errOut, err := s.outlet(t, "tenants", "list", "--limit", "1")
	cursor := regexp.MustCompile(`--cursor (\S+)`).FindStringSubmatch(errOut)
	if err != nil || !hasRow(out, "globex") || hasRow(out, "acme") || cursor == nil {
		t.Fatalf("tenants list --limit 1: %v\n%s\n%s; want globex and how to see the next page", err, out, errOut)
	}
	if out := s.must(t, "tenants", "list", "--limit", "1", "--cursor", cursor[1]); !hasRow(out, "acme") {
		t.Errorf("the next page printed:\n%s", out)
	}

	var ep struct{ ID, Secret, URL string }
	s.mustJSON(t, &ep, "endpoints", "create", s.receiver+"/fail", "--tenant", "acme", "--event-type", "invoice.*")
	if !strings.HasPrefix(ep.ID, "ep_") || !strings.HasPrefix(ep.Secret, "whsec_") || ep.URL != s.receiver+"/fail" {
		t.Fatalf("endpoints create --json printed %+v; want the API's answer with the secret", ep)
	}
	out = s.must(t, "endpoints", "list", "--tenant", "acme")
	if !hasRow(out, "ID", "URL", "EVENT TYPES", "STATUS") || !hasRow(out, ep.ID, ep.URL, "invoice.*", "enabled") {
		t.Errorf("endpoints list printed:\n%s", out)
	}

	out = s.must(t, "events", "publish", "--tenant", "acme", "--type", "invoice.paid", "--data", `{"amount": 42}`, "--idempotency-key", "in_1")
	evt := regexp.MustCompile(`evt_[0-9a-z]+`).FindString(out)
	if evt == "" || !hasRow(out, "type:", "invoice.paid") || !hasRow(out, "deliveries:", "1") || !hasRow(out, "replayed:", "no") {
		t.Fatalf("events publish printed:\n%s", out)
	}
	var replay struct {
		ID       string
		Replayed bool
	}
	s.mustJSON(t, &replay, "events", "publish", "--tenant", "acme", "--type", "invoice.paid", "--data", `{"amount":42}`, "--idempotency-key", "in_1")
	if replay.ID != evt || !replay.Replayed {
		t.Errorf("publishing again with the key printed %+v; want %s replayed", replay, evt)
	}

	var deliveries struct {
		Data []struct{ ID, Status string } `json:"data"`
	}
	testwait.Until(t, "the delivery has failed", func() bool {
		s.mustJSON(t, &deliveries, "deliveries", "list", "--tenant", "acme", "--event-id", evt)
		return len(deliveries.Data) == 1 && deliveries.Data[0].Status == string(outlet.StatusFailed)
	})
	dlv := deliveries.Data[0].ID
	out = s.must(t, "deliveries", "list", "--tenant", "acme", "--status", "failed")
	if !hasRow(out, "ID", "EVENT", "TYPE", "ENDPOINT", "STATUS", "ATTEMPTS") ||
		!hasRow(out, dlv, evt, "invoice.paid", ep.ID, "failed", "1") {
		t.Errorf("deliveries list printed:\n%s", out)
	}

	out = s.must(t, "deliveries", "attempts", dlv, "--tenant", "acme")
	if !hasRow(out, "#", "TRIGGER", "STARTED", "STATUS", "DURATION", "RESULT") || !hasRow(out, "1", "scheduled", "*", "500") {
		t.Errorf("deliveries attempts printed:\n%s", out)
	}

	out, errOut, err = s.outlet(t, "deliveries", "retry", dlv, "--tenant", "acme")
	if err != nil || !hasRow(out, "id:", dlv) || !hasRow(out, "status:", "pending") || !strings.Contains(errOut, "deliveries attempts "+dlv) {
		t.Errorf("deliveries retry: %v, printed:\n%s\n%s", err, out, errOut)
	}
	var attempts struct {
		Data []struct {
			Trigger    string `json:"trigger"`
			StatusCode int    `json:"status_code"`
		} `json:"data"`
	}
	testwait.Until(t, "the retry has been attempted", func() bool {
		s.mustJSON(t, &attempts, "deliveries", "attempts", dlv, "--tenant", "acme")
		return len(attempts.Data) == 2
	})
	if attempts.Data[1].Trigger != string(outlet.TriggerManual) || attempts.Data[1].StatusCode != 500 {
		t.Errorf("the second attempt is %+v; want a manual one answered 500", attempts.Data[1])
	}

	var rotated struct {
		Secret         string `json:"secret"`
		PreviousSecret string `json:"previous_secret"`
	}
	s.mustJSON(t, &rotated, "endpoints", "rotate-secret", ep.ID, "--tenant", "acme", "--overlap", "1h")
	if rotated.Secret == ep.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.PreviousSecret != ep.Secret {
		t.Errorf("rotate-secret printed %+v; want a new secret with %s as the previous one", rotated, ep.Secret)
	}
	out = s.must(t, "endpoints", "secret", ep.ID, "--tenant", "acme")
	if !hasRow(out, "secret:", rotated.Secret) || !hasRow(out, "previous secret:", ep.Secret) || !hasRow(out, "previous signs until:") {
		t.Errorf("endpoints secret printed:\n%s", out)
	}

	out = s.must(t, "endpoints", "recover", ep.ID, "--tenant", "acme", "--since", "1h")
	if !strings.Contains(out, "Re-sending 1 failed delivery of endpoint "+ep.ID) {
		t.Errorf("endpoints recover printed:\n%s", out)
	}
}

func TestCLICatalogKeysAndUpdates(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.must(t, "tenants", "create", "acme")

	schema := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","required":["amount"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := s.must(t, "event-types", "create", "invoice.paid", "--schema-file", schema, "--sample", `{"amount":1}`, "--description", "An invoice was paid")
	if !hasRow(out, "name:", "invoice.paid") || !strings.Contains(out, `"required": [`) || !strings.Contains(out, `"amount": 1`) {
		t.Errorf("event-types create printed:\n%s", out)
	}
	_, _, err := s.outlet(t, "events", "publish", "--tenant", "acme", "--type", "invoice.paid", "--data", `{}`)
	if err == nil || !strings.Contains(err.Error(), "missing property 'amount'") {
		t.Errorf("publishing data the schema refuses: %v", err)
	}
	out = s.must(t, "event-types", "update", "invoice.paid", "--deprecated", "--schema", "null", "--sample", "null")
	if !hasRow(out, "deprecated:", "yes") || !hasRow(out, "schema:", "-") {
		t.Errorf("event-types update printed:\n%s", out)
	}

	var key struct{ ID, Key string }
	s.mustJSON(t, &key, "api-keys", "create", "--tenant", "acme", "--name", "ci")
	if !strings.HasPrefix(key.Key, outlet.KeyPrefix) {
		t.Fatalf("api-keys create --json printed %+v", key)
	}
	out = s.must(t, "api-keys", "list", "--tenant", "acme")
	if !hasRow(out, key.ID, "ci", key.Key[:len(outlet.KeyPrefix)+6]+"…") {
		t.Errorf("api-keys list printed:\n%s", out)
	}
	out = s.must(t, "--key", key.Key, "event-types", "list", "--tenant", "acme")
	if !hasRow(out, "NAME", "DESCRIPTION", "SCHEMA", "DEPRECATED") || !hasRow(out, "invoice.paid", "An invoice was paid", "no", "yes") {
		t.Errorf("event-types list with a tenant key printed:\n%s", out)
	}
	if _, _, err := s.outlet(t, "--key", key.Key, "tenants", "list"); err == nil || !strings.Contains(err.Error(), "admin key") {
		t.Errorf("tenants list with a tenant key: %v; want refused for want of the admin key", err)
	}

	var ep struct{ ID string }
	s.mustJSON(t, &ep, "--key", key.Key, "endpoints", "create", s.receiver+"/ok", "--tenant", "acme")
	out = s.must(t, "endpoints", "update", ep.ID, "--tenant", "acme", "--disable", "--header", "X-Team=billing", "--event-type", "invoice.paid")
	if !hasRow(out, "status:", "disabled (manual)") || !hasRow(out, "headers:", "X-Team=billing") || !hasRow(out, "event types:", "invoice.paid") {
		t.Errorf("endpoints update printed:\n%s", out)
	}
	out = s.must(t, "endpoints", "update", ep.ID, "--tenant", "acme", "--enable", "--clear-headers", "--all-event-types")
	if !hasRow(out, "status:", "enabled") || !hasRow(out, "headers:", "-") || !hasRow(out, "event types:", "*") {
		t.Errorf("endpoints update printed:\n%s", out)
	}

	out = s.must(t, "events", "publish", "--tenant", "acme", "--type", "invoice.paid", "--data", `{"amount":7}`, "--id", "inv-7")
	if !hasRow(out, "id:", "inv-7") {
		t.Errorf("events publish --id printed:\n%s", out)
	}
	out = s.must(t, "events", "get", "inv-7", "--tenant", "acme")
	if !hasRow(out, "type:", "invoice.paid") || !strings.Contains(out, `"amount": 7`) {
		t.Errorf("events get printed:\n%s", out)
	}
	out = s.must(t, "events", "list", "--tenant", "acme", "--type", "invoice.paid", "--since", "1h")
	if !hasRow(out, "inv-7", "invoice.paid") {
		t.Errorf("events list printed:\n%s", out)
	}

	s.must(t, "api-keys", "delete", key.ID, "--tenant", "acme")
	_, _, err = s.outlet(t, "--key", key.Key, "endpoints", "list", "--tenant", "acme")
	if err == nil || !strings.Contains(err.Error(), "admin.key") {
		t.Errorf("a revoked key: %v; want refused, with where to find the admin key", err)
	}
	s.must(t, "endpoints", "delete", ep.ID, "--tenant", "acme")
	s.must(t, "event-types", "delete", "invoice.paid")
	out = s.must(t, "tenants", "update", "acme", "--name", "Acme Corporation")
	if !hasRow(out, "name:", "Acme Corporation") {
		t.Errorf("tenants update printed:\n%s", out)
	}
	s.must(t, "tenants", "delete", "acme")
	if out := s.must(t, "tenants", "list", "--json"); !strings.Contains(out, `"data": []`) {
		t.Errorf("tenants list --json after the delete printed:\n%s", out)
	}
}

func TestCLIErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a missing tenant says so", []string{"tenants", "get", "nobody"}, `tenant "nobody" not found`},
		{"a bad filter says what is allowed", []string{"deliveries", "list", "--tenant", "acme", "--status", "lost"}, "pending, succeeded, failed"},
		{"a bad time says what to write", []string{"events", "list", "--tenant", "acme", "--since", "yesterday"}, "RFC 3339"},
		{"a missing argument shows the usage", []string{"deliveries", "get", "--tenant", "acme"}, "takes DELIVERY_ID (given: none); usage: outlet deliveries get DELIVERY_ID"},
		{"an argument where only flags go says so", []string{"events", "publish", "invoice.paid", `{"amount":5}`, "--tenant", "acme"},
			`takes no arguments, only flags (given: invoice.paid {"amount":5}); usage: outlet events publish --type TYPE`},
		{"publish needs data", []string{"events", "publish", "--tenant", "acme", "--type", "a.b"}, "--data"},
		{"invalid JSON data is refused before sending", []string{"events", "publish", "--tenant", "acme", "--type", "a.b", "--data", "{"}, "not valid JSON"},
		{"an unknown key is explained", []string{"--key", "olk_nobody", "tenants", "list"}, "admin.key"},
		{"an unreachable server is explained", []string{"--url", "http://127.0.0.1:1", "tenants", "list"}, "can't reach Outlet at http://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := s.outlet(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want an error containing %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("printed %q on stdout beside the error", out)
			}
		})
	}
}

// These tests change the environment, so they don't run in parallel.

func TestCLIWithoutKeyExplainsWhereToFindOne(t *testing.T) {
	t.Setenv("OUTLET_KEY", "")
	_, _, err := runCLI("--url", "http://127.0.0.1:1", "tenants", "list")
	if err == nil || !strings.Contains(err.Error(), "--key") || !strings.Contains(err.Error(), "admin.key") {
		t.Errorf("got %v; want how to give a key and where the admin key is", err)
	}
}

func TestCLIReadsURLKeyAndTenantFromTheEnvironment(t *testing.T) {
	s := startServer(t)
	t.Setenv("OUTLET_URL", s.url)
	t.Setenv("OUTLET_KEY", testAdminKey)
	t.Setenv("OUTLET_TENANT", "acme")
	if _, _, err := runCLI("tenants", "create", "acme"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI("endpoints", "list")
	if err != nil || !hasRow(out, "ID", "URL") {
		t.Errorf("endpoints list with OUTLET_TENANT: %v\n%s", err, out)
	}
	t.Setenv("OUTLET_TENANT", "")
	if _, _, err := runCLI("endpoints", "list"); err == nil || !strings.Contains(err.Error(), "--tenant") {
		t.Errorf("endpoints list without a tenant: %v; want to be told to pass --tenant", err)
	}
}

func TestTimeFlagsTakeRFC3339OrHowLongAgo(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-01-02T15:04:05Z", time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)},
		{"30m", now.Add(-30 * time.Minute)},
		{"24h", now.Add(-24 * time.Hour)},
		{"7d", now.Add(-7 * 24 * time.Hour)},
	}
	for _, tt := range tests {
		var got time.Time
		v := &timeValue{t: &got, now: func() time.Time { return now }}
		if err := v.Set(tt.in); err != nil || !got.Equal(tt.want) {
			t.Errorf("%q: %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"yesterday", "-5m", "1.5d", "d", "2026-01-02"} {
		var got time.Time
		if err := newTimeValue(&got).Set(bad); err == nil {
			t.Errorf("%q accepted as %v", bad, got)
		}
	}
}
