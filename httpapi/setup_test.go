package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/openapicheck"
)

const adminKey = "olk_admin_httpapi_test_0123456789"

// bundle is a real Outlet API (SQLite in a temporary directory, the
// dispatcher, the functions service and its sandbox, the HTTP server)
// holding one tenant with a key, an endpoint, an event and its finished
// delivery, a secret, a function of two versions serving a hook (and
// invoked once), and a sync endpoint serving another hook — and a second
// tenant with its own key.
type bundle struct {
	url      string
	api      *Server // the same, to call in process
	store    outlet.Store
	tenant   string // "acme"
	key      string // a key of acme
	keyID    string
	other    string // "globex", another tenant
	otherKey string
	endpoint string // acme's endpoint, which answers 204
	event    string // an event of acme, type invoice.paid
	delivery string // its delivery to endpoint, succeeded

	hook     string // "checkout.discount", served by function
	syncHook string // "login.post", served by acme's sync endpoint
	function string // "discount", of acme: version 1 JavaScript, 2 TypeScript (active)
	secret   string // "STRIPE_KEY", a secret of acme, which function logs
	// secretValue is the secret's value. No answer may hold it: do fails
	// the test if one does.
	secretValue string

	portalSession   string // a portal session of acme's, unopened
	operatorSession string // a portal session of the operator's, unopened
}

// discountJS is acme's function: it serves checkout.discount, and logs its
// secret, which the logs must mask.
const discountJS = `export default async function (input, ctx) {
  console.log("charging with", ctx.secrets.STRIPE_KEY);
  return { ...input, discount: 10 };
}`

const discountTS = `interface Cart { total: number }
export default async function (input: { cart: Cart }, ctx: { secrets: Record<string, string> }) {
  console.log("charging with", ctx.secrets.STRIPE_KEY);
  return { ...input, discount: input.cart.total > 50 ? 10 : 0 };
}`

// StartServer starts the whole server for one test, built by internal/app
// as `outlet serve` builds it (through outlettest), with adminKey and
// configure applied to the API's Config. This package's own tests can't
// import internal/app, which imports this package, so wiring_test.go, an
// external test of this package, sets it.
var StartServer func(t testing.TB, adminKey string, configure func(*Config)) (url string, api *Server, store outlet.Store)

// setup starts the server for one test; configure may change the API's
// Config.
func setup(t testing.TB, configure ...func(*Config)) *bundle {
	t.Helper()
	ctx := context.Background()
	url, api, store := StartServer(t, adminKey, func(c *Config) {
		for _, f := range configure {
			f(c)
		}
	})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)

	b := &bundle{url: url, api: api, store: store, tenant: "acme", other: "globex",
		hook: "checkout.discount", syncHook: "login.post", function: "discount", secret: "STRIPE_KEY",
		secretValue: "sk_live_0utl3tSw33pN3v3rR3turn3d"}
	admin := "Bearer " + adminKey
	var out struct{ ID, Key string }
	b.must(t, 201, req{method: "POST", path: "/v1/tenants", auth: admin, body: `{"id":"acme","name":"Acme Inc","metadata":{"plan":"pro"}}`}, nil)
	b.must(t, 201, req{method: "POST", path: "/v1/tenants", auth: admin, body: `{"id":"globex","name":"Globex"}`}, nil)
	b.must(t, 201, req{method: "POST", path: "/v1/tenants/acme/api-keys", auth: admin, body: `{"name":"ci"}`}, &out)
	b.key, b.keyID = out.Key, out.ID
	b.must(t, 201, req{method: "POST", path: "/v1/tenants/globex/api-keys", auth: admin, body: `{}`}, &out)
	b.otherKey = out.Key
	b.must(t, 201, req{method: "POST", path: "/v1/event-types", auth: admin,
		body: `{"name":"invoice.paid","schema":{"type":"object","properties":{"amount":{"type":"integer"}}},"sample":{"amount":5}}`}, nil)
	b.must(t, 201, req{method: "POST", path: "/v1/tenants/acme/endpoints", auth: admin,
		body: `{"url":"` + receiver.URL + `/hook","event_types":["invoice.*"],"headers":{"X-Team":"billing"},"metadata":{"k":"v"}}`}, &out)
	b.endpoint = out.ID
	b.must(t, 202, req{method: "POST", path: "/v1/tenants/acme/events", auth: "Bearer " + b.key,
		body: `{"type":"invoice.paid","data":{"amount":100}}`, header: map[string]string{"Idempotency-Key": "setup-1"}}, &out)
	b.event = out.ID

	// Wait for the delivery to finish, so nothing changes behind the tests' backs.
	deadline := time.Now().Add(15 * time.Second)
	for {
		ds, _, err := store.ListDeliveries(ctx, "acme", outlet.DeliveryFilter{EventID: b.event})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 && ds[0].Status == outlet.StatusSucceeded {
			b.delivery = ds[0].ID
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the setup's delivery did not succeed in time: %+v", ds)
		}
		time.Sleep(10 * time.Millisecond)
	}

	b.must(t, 201, req{method: "POST", path: "/v1/hooks", auth: admin, body: `{"name":"checkout.discount","description":"Discounts at checkout.",
		"timeout_ms":5000,"on_error":"fail_open","input_schema":{"type":"object","required":["cart"],"properties":{"cart":{"type":"object"}}},
		"output_schema":{"type":"object"}}`}, nil)
	b.must(t, 201, req{method: "POST", path: "/v1/hooks", auth: admin, body: `{"name":"login.post","timeout_ms":2000,"on_error":"fail_closed"}`}, nil)
	b.must(t, 204, req{method: "PUT", path: "/v1/tenants/acme/secrets/STRIPE_KEY", auth: "Bearer " + b.key, body: `{"value":"` + b.secretValue + `"}`}, nil)
	for i, d := range []struct{ runtime, code string }{{"javascript", discountJS}, {"typescript", discountTS}} {
		code, _ := json.Marshal(d.code)
		b.must(t, 201-i, req{method: "PUT", path: "/v1/tenants/acme/functions/discount", auth: "Bearer " + b.key,
			body: `{"runtime":"` + d.runtime + `","code":` + string(code) + `,"events":["order.*"],"hooks":["checkout.discount"]}`}, nil)
	}
	b.must(t, 201, req{method: "PUT", path: "/v1/tenants/acme/hooks/login.post/endpoint", auth: "Bearer " + b.key,
		body: `{"url":"` + receiver.URL + `/sync","headers":{"X-Shop":"acme"}}`}, nil)
	b.must(t, 200, req{method: "POST", path: "/v1/tenants/acme/hooks/checkout.discount/invoke", auth: admin, body: `{"input":{"cart":{"total":100}}}`}, nil)
	b.must(t, 201, req{method: "POST", path: "/v1/tenants/acme/portal-sessions", auth: admin, body: `{}`}, &out)
	b.portalSession = out.ID
	b.must(t, 201, req{method: "POST", path: "/v1/portal-sessions", auth: admin, body: `{}`}, &out)
	b.operatorSession = out.ID
	// The invocation's log is written after the answer; wait for it.
	for deadline := time.Now().Add(15 * time.Second); ; {
		invs, _, err := store.ListInvocations(ctx, "acme", "discount", outlet.InvocationFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(invs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the setup's invocation was not logged in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return b
}

// req is one request to the API.
type req struct {
	method string
	path   string // with the query, percent-encoded as it goes on the wire
	auth   string // the whole Authorization header; none if empty
	body   string
	header map[string]string
}

// answer is what the API answered.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (b *bundle) do(t testing.TB, r req) answer {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, b.url+r.path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	if r.auth != "" {
		hr.Header.Set("Authorization", r.auth)
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", r.method, r.path, err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: got}
	b.checkNoSecret(t, r, a)
	checkOpenAPI(t, hr, []byte(r.body), resp, got)
	return a
}

var openAPIChecker = sync.OnceValues(openapicheck.New)

// checkOpenAPI fails the test if an exchange departs from docs/openapi.yaml.
func checkOpenAPI(t testing.TB, r *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	t.Helper()
	c, err := openAPIChecker()
	if err != nil {
		t.Fatal(err)
	}
	if problem := c.Check(r, reqBody, resp, respBody); problem != "" {
		t.Errorf("docs/openapi.yaml: %s", problem)
	}
}

// checkNoSecret fails the test if an answer holds the value of acme's
// secret, anywhere.
func (b *bundle) checkNoSecret(t testing.TB, r req, a answer) {
	t.Helper()
	if b.secretValue == "" {
		return
	}
	leaked := bytes.Contains(a.body, []byte(b.secretValue))
	for _, vs := range a.header {
		for _, v := range vs {
			leaked = leaked || strings.Contains(v, b.secretValue)
		}
	}
	if leaked {
		t.Errorf("%s %.200s answered %d with the value of secret %s: %.500s", r.method, r.path, a.status, b.secret, a.body)
	}
}

// must sends r, fails the test unless the status is want, and decodes the
// answer into out when it isn't nil.
func (b *bundle) must(t testing.TB, want int, r req, out any) {
	t.Helper()
	a := b.do(t, r)
	if a.status != want {
		t.Fatalf("%s %s answered %d, want %d: %s", r.method, r.path, a.status, want, a.body)
	}
	if out != nil {
		if err := json.Unmarshal(a.body, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", r.method, r.path, a.body, err)
		}
	}
}

// apiError is the body of every error answer.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// checkError reports, as a failure message, how an answer breaks the rule
// for refused requests: a 4xx, JSON, {"error":{"code","message"}} with both
// set. It returns "" when a keeps the rule.
func (a answer) checkError() (apiError, string) {
	var e struct {
		Error *apiError `json:"error"`
	}
	switch ct, _, _ := mime.ParseMediaType(a.header.Get("Content-Type")); {
	case a.status < 400 || a.status > 499:
		return apiError{}, "status is not a 4xx"
	case ct != "application/json":
		return apiError{}, "Content-Type is " + a.header.Get("Content-Type")
	case json.Unmarshal(a.body, &e) != nil || e.Error == nil:
		return apiError{}, "the body is not {\"error\":{…}}"
	case e.Error.Code == "" || e.Error.Message == "":
		return *e.Error, "the error has no code or no message"
	}
	return *e.Error, ""
}

// refused fails the test unless a is a well-formed 4xx error answer with
// one of the given statuses (any 4xx if none), and returns the error.
func refused(t testing.TB, what string, a answer, statuses ...int) apiError {
	t.Helper()
	e, problem := a.checkError()
	if problem != "" {
		t.Errorf("%s: %s; answered %d %s", what, problem, a.status, a.body)
		return e
	}
	if len(statuses) > 0 && !slices.Contains(statuses, a.status) {
		t.Errorf("%s answered %d, want one of %v: %s", what, a.status, statuses, a.body)
	}
	return e
}

// snapshot is everything the store holds that a refused request could
// change, as JSON, to show that a refused request wrote nothing. Function
// invocations are left out: only a request that runs a function writes
// them, after answering it.
func (b *bundle) snapshot(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	type tenantState struct {
		Tenant          *outlet.Tenant
		Keys            []*outlet.APIKey
		Endpoints       []*outlet.Endpoint
		EndpointSecrets []string
		Events          []*outlet.Event
		Deliveries      []*outlet.Delivery
		Attempts        [][]*outlet.Attempt
		Functions       []*outlet.Function
		Versions        [][]*outlet.FunctionVersion
		Code            []string // the SHA-256 and source of each version
		Secrets         []*outlet.Secret
		Sealed          map[string][]byte // changes whenever a value is written
		HookEndpoints   []*outlet.HookEndpoint
		HookSecrets     []string
		PortalSessions  []*outlet.PortalSession
	}
	var state struct {
		Tenants        []tenantState
		EventTypes     []*outlet.EventType
		Hooks          []*outlet.Hook
		PortalSessions []*outlet.PortalSession // the operator's
		AuditLog       []*outlet.AuditEntry
	}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
	}
	var tenants []*outlet.Tenant
	for p := (outlet.Page{Limit: outlet.MaxPageLimit}); ; {
		ts, next, err := b.store.ListTenants(ctx, p)
		check(err)
		tenants = append(tenants, ts...)
		if p.Cursor = next; next == "" {
			break
		}
	}
	for _, tn := range tenants {
		s := tenantState{Tenant: tn}
		var err error
		s.Keys, err = b.store.ListAPIKeys(ctx, tn.ID)
		check(err)
		for _, k := range s.Keys {
			k.LastUsedAt = nil // advisory, written in the background
		}
		for p := (outlet.Page{Limit: outlet.MaxPageLimit}); ; {
			eps, next, err := b.store.ListEndpoints(ctx, tn.ID, p)
			check(err)
			s.Endpoints = append(s.Endpoints, eps...)
			if p.Cursor = next; next == "" {
				break
			}
		}
		for _, ep := range s.Endpoints {
			s.EndpointSecrets = append(s.EndpointSecrets, ep.Secret, ep.PreviousSecret)
		}
		for f := (outlet.EventFilter{Page: outlet.Page{Limit: outlet.MaxPageLimit}}); ; {
			evs, next, err := b.store.ListEvents(ctx, tn.ID, f)
			check(err)
			s.Events = append(s.Events, evs...)
			if f.Cursor = next; next == "" {
				break
			}
		}
		for f := (outlet.DeliveryFilter{Page: outlet.Page{Limit: outlet.MaxPageLimit}}); ; {
			ds, next, err := b.store.ListDeliveries(ctx, tn.ID, f)
			check(err)
			s.Deliveries = append(s.Deliveries, ds...)
			if f.Cursor = next; next == "" {
				break
			}
		}
		for _, d := range s.Deliveries {
			as, err := b.store.ListAttempts(ctx, tn.ID, d.ID)
			check(err)
			s.Attempts = append(s.Attempts, as)
		}
		s.Functions, err = b.store.ListFunctions(ctx, tn.ID)
		check(err)
		for _, f := range s.Functions {
			vs, err := b.store.ListFunctionVersions(ctx, tn.ID, f.Name)
			check(err)
			s.Versions = append(s.Versions, vs)
			for _, v := range vs {
				full, err := b.store.FunctionVersion(ctx, tn.ID, f.Name, v.Version)
				check(err)
				s.Code = append(s.Code, full.SHA256+" "+full.Source)
			}
		}
		s.Secrets, err = b.store.ListSecrets(ctx, tn.ID)
		check(err)
		s.Sealed, err = b.store.SealedSecrets(ctx, tn.ID)
		check(err)
		s.HookEndpoints, err = b.store.ListHookEndpoints(ctx, tn.ID)
		check(err)
		for _, ep := range s.HookEndpoints {
			s.HookSecrets = append(s.HookSecrets, ep.Secret)
		}
		s.PortalSessions, _, err = b.store.ListPortalSessions(ctx, tn.ID, outlet.Page{Limit: outlet.MaxPageLimit})
		check(err)
		state.Tenants = append(state.Tenants, s)
	}
	var err error
	state.EventTypes, err = b.store.ListEventTypes(ctx)
	check(err)
	state.Hooks, err = b.store.ListHooks(ctx)
	check(err)
	state.PortalSessions, _, err = b.store.ListPortalSessions(ctx, "", outlet.Page{Limit: outlet.MaxPageLimit})
	check(err)
	state.AuditLog = b.auditLog(t)
	out, err := json.Marshal(state)
	check(err)
	return string(out)
}

// diff shows where two snapshots part.
func diff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-120)
	return fmt.Sprintf("before …%s… after …%s…", a[from:min(len(a), i+120)], b[from:min(len(b), i+120)])
}
