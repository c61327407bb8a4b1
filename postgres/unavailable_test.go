package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/testwait"
)

// Every call of the store, with arguments that reach the database.
func storeCalls(s *Store, d *outlet.Delivery) map[string]func(ctx context.Context) error {
	now, page := time.Now(), outlet.Page{Limit: 10}
	tn := &outlet.Tenant{ID: "globex", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	ep := &outlet.Endpoint{ID: outlet.NewID(outlet.PrefixEndpoint), TenantID: "acme", URL: "https://hooks.example.com/", EventTypes: []string{},
		Headers: map[string]string{}, Metadata: map[string]string{}, Secret: outlet.NewEndpointSecret(), CreatedAt: now, UpdatedAt: now}
	key, _, _ := outlet.NewAPIKey("acme", "ci", now)
	ev := &outlet.Event{ID: outlet.NewID(outlet.PrefixEvent), TenantID: "acme", Type: "invoice.paid", Data: []byte(`{}`), Timestamp: now,
		CreatedAt: now, PayloadHash: outlet.ContentHash("invoice.paid", []byte(`{}`))}
	hook := &outlet.Hook{Name: "checkout.discount", TimeoutMs: 100, OnError: outlet.FailOpen, CreatedAt: now, UpdatedAt: now}
	version := &outlet.FunctionVersion{TenantID: "acme", Function: "pricing", Runtime: outlet.RuntimeJavaScript, Code: []byte("x")}
	outcome := &outlet.AttemptOutcome{TenantID: "acme", DeliveryID: d.ID, EndpointID: d.Target.ID, Status: outlet.StatusSucceeded,
		Attempt: &outlet.Attempt{Trigger: outlet.TriggerScheduled, StartedAt: now, Succeeded: true, StatusCode: 200}}
	err2 := func(_ any, err error) error { return err }
	err3 := func(_, _ any, err error) error { return err }
	return map[string]func(context.Context) error{
		"Ping":            func(ctx context.Context) error { return s.Ping(ctx) },
		"Lead":            func(ctx context.Context) error { return err2(s.Lead(ctx)) },
		"CreateTenant":    func(ctx context.Context) error { return s.CreateTenant(ctx, tn) },
		"Tenant":          func(ctx context.Context) error { return err2(s.Tenant(ctx, "acme")) },
		"ListTenants":     func(ctx context.Context) error { return err3(s.ListTenants(ctx, page)) },
		"UpdateTenant":    func(ctx context.Context) error { return err2(s.UpdateTenant(ctx, "acme", outlet.TenantUpdate{}, now)) },
		"DeleteTenant":    func(ctx context.Context) error { return s.DeleteTenant(ctx, "acme") },
		"CreateAPIKey":    func(ctx context.Context) error { return s.CreateAPIKey(ctx, key) },
		"APIKeyByHash":    func(ctx context.Context) error { return err2(s.APIKeyByHash(ctx, key.Hash)) },
		"ListAPIKeys":     func(ctx context.Context) error { return err2(s.ListAPIKeys(ctx, "acme")) },
		"DeleteAPIKey":    func(ctx context.Context) error { return s.DeleteAPIKey(ctx, "acme", key.ID) },
		"TouchAPIKey":     func(ctx context.Context) error { return s.TouchAPIKey(ctx, key.ID, now) },
		"CreateEventType": func(ctx context.Context) error { return s.CreateEventType(ctx, &outlet.EventType{Name: "a.b"}) },
		"EventType":       func(ctx context.Context) error { return err2(s.EventType(ctx, "a.b")) },
		"ListEventTypes":  func(ctx context.Context) error { return err2(s.ListEventTypes(ctx)) },
		"UpdateEventType": func(ctx context.Context) error {
			return err2(s.UpdateEventType(ctx, "a.b", outlet.EventTypeUpdate{}, now))
		},
		"DeleteEventType": func(ctx context.Context) error { return s.DeleteEventType(ctx, "a.b") },
		"CreateEndpoint":  func(ctx context.Context) error { return s.CreateEndpoint(ctx, ep) },
		"Endpoint":        func(ctx context.Context) error { return err2(s.Endpoint(ctx, "acme", d.Target.ID)) },
		"ListEndpoints":   func(ctx context.Context) error { return err3(s.ListEndpoints(ctx, "acme", page)) },
		"UpdateEndpoint": func(ctx context.Context) error {
			return err2(s.UpdateEndpoint(ctx, "acme", d.Target.ID, outlet.EndpointUpdate{}, now))
		},
		"DeleteEndpoint": func(ctx context.Context) error { return s.DeleteEndpoint(ctx, "acme", d.Target.ID) },
		"RotateEndpointSecret": func(ctx context.Context) error {
			return err2(s.RotateEndpointSecret(ctx, "acme", d.Target.ID, "s", now, now))
		},
		"PublishEvents": func(ctx context.Context) error {
			return err2(s.PublishEvents(ctx, []*outlet.PublishRequest{{Event: ev}}, now))
		},
		"Event":          func(ctx context.Context) error { return err2(s.Event(ctx, "acme", d.EventID)) },
		"ListEvents":     func(ctx context.Context) error { return err3(s.ListEvents(ctx, "acme", outlet.EventFilter{})) },
		"Delivery":       func(ctx context.Context) error { return err2(s.Delivery(ctx, "acme", d.ID)) },
		"ListDeliveries": func(ctx context.Context) error { return err3(s.ListDeliveries(ctx, "acme", outlet.DeliveryFilter{})) },
		"ListAttempts":   func(ctx context.Context) error { return err2(s.ListAttempts(ctx, "acme", d.ID)) },
		"ClaimDue":       func(ctx context.Context) error { return err2(s.ClaimDue(ctx, "node-a", now, now.Add(time.Minute), 10)) },
		"ClaimParked": func(ctx context.Context) error {
			return err2(s.ClaimParked(ctx, "node-a", d.Target.ID, now, now.Add(time.Minute), 10))
		},
		"CompleteAttempts": func(ctx context.Context) error {
			return err2(s.CompleteAttempts(ctx, []*outlet.AttemptOutcome{outcome}, now, now))
		},
		"ReleaseClaims": func(ctx context.Context) error { return s.ReleaseClaims(ctx, "node-a", []string{d.ID}, now) },
		"RenewClaims":   func(ctx context.Context) error { return s.RenewClaims(ctx, "node-a", []string{d.ID}, now) },
		"RetryDelivery": func(ctx context.Context) error {
			return err2(s.RetryDelivery(ctx, "acme", d.ID, "node-a", now, now.Add(time.Minute)))
		},
		"RecoverEndpoint": func(ctx context.Context) error { return err2(s.RecoverEndpoint(ctx, "acme", d.Target.ID, now, now)) },
		"NextDue":         func(ctx context.Context) error { return err2(s.NextDue(ctx)) },
		"QueueStats":      func(ctx context.Context) error { return err2(s.QueueStats(ctx)) },
		"PurgeExpired":    func(ctx context.Context) error { return err2(s.PurgeExpired(ctx, now, 10)) },
		"CreateHook":      func(ctx context.Context) error { return s.CreateHook(ctx, hook) },
		"Hook":            func(ctx context.Context) error { return err2(s.Hook(ctx, hook.Name)) },
		"ListHooks":       func(ctx context.Context) error { return err2(s.ListHooks(ctx)) },
		"UpdateHook":      func(ctx context.Context) error { return err2(s.UpdateHook(ctx, hook.Name, outlet.HookUpdate{}, now)) },
		"DeleteHook":      func(ctx context.Context) error { return s.DeleteHook(ctx, hook.Name) },
		"PutHookEndpoint": func(ctx context.Context) error {
			return s.PutHookEndpoint(ctx, &outlet.HookEndpoint{TenantID: "acme", Hook: hook.Name})
		},
		"HookEndpoint":         func(ctx context.Context) error { return err2(s.HookEndpoint(ctx, "acme", hook.Name)) },
		"ListHookEndpoints":    func(ctx context.Context) error { return err2(s.ListHookEndpoints(ctx, "acme")) },
		"DeleteHookEndpoint":   func(ctx context.Context) error { return s.DeleteHookEndpoint(ctx, "acme", hook.Name) },
		"DeployFunction":       func(ctx context.Context) error { return s.DeployFunction(ctx, version, now) },
		"Function":             func(ctx context.Context) error { return err2(s.Function(ctx, "acme", "pricing")) },
		"ListFunctions":        func(ctx context.Context) error { return err2(s.ListFunctions(ctx, "acme")) },
		"FunctionVersion":      func(ctx context.Context) error { return err2(s.FunctionVersion(ctx, "acme", "pricing", 0)) },
		"ListFunctionVersions": func(ctx context.Context) error { return err2(s.ListFunctionVersions(ctx, "acme", "pricing")) },
		"ActivateFunctionVersion": func(ctx context.Context) error {
			return err2(s.ActivateFunctionVersion(ctx, "acme", "pricing", 1, now))
		},
		"DeleteFunction": func(ctx context.Context) error { return s.DeleteFunction(ctx, "acme", "pricing") },
		"HookFunctions":  func(ctx context.Context) error { return err2(s.HookFunctions(ctx, "acme", hook.Name)) },
		"RecordInvocations": func(ctx context.Context) error {
			return s.RecordInvocations(ctx, []*outlet.Invocation{{TenantID: "acme", Function: "pricing", StartedAt: now}})
		},
		"ListInvocations": func(ctx context.Context) error {
			return err3(s.ListInvocations(ctx, "acme", "pricing", outlet.InvocationFilter{}))
		},
		"PutSecret":     func(ctx context.Context) error { return err2(s.PutSecret(ctx, "acme", "KEY", []byte("x"), now)) },
		"DeleteSecret":  func(ctx context.Context) error { return s.DeleteSecret(ctx, "acme", "KEY") },
		"ListSecrets":   func(ctx context.Context) error { return err2(s.ListSecrets(ctx, "acme")) },
		"SealedSecrets": func(ctx context.Context) error { return err2(s.SealedSecrets(ctx, "acme")) },
		"AddFunctionUsage": func(ctx context.Context) error {
			return s.AddFunctionUsage(ctx, []outlet.FunctionUsage{{TenantID: "acme", At: now, Invocations: 1}})
		},
		"Usage": func(ctx context.Context) error { return err2(s.Usage(ctx, "acme", now, now.Add(time.Hour))) },
		"UsageOver": func(ctx context.Context) error {
			return err2(s.UsageOver(ctx, now, outlet.Usage{Events: 1}, "", 10))
		},
		"MarkEndpointCircuit": func(ctx context.Context) error {
			return err2(s.MarkEndpointCircuit(ctx, "acme", d.Target.ID, true, now))
		},
	}
}

func TestEveryCallFailsAtOnceAsUnavailableWhenTheDatabaseIsGone(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	s := openStore(t, p.url(freshSchema(t)))
	d := publishOne(t, s, "node-a")
	s.Lead(t.Context()) // so that it has a connection to lose too
	p.cut()
	for name, call := range storeCalls(s, d) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			start := time.Now()
			err := call(ctx)
			if code := outlet.ErrorCode(err); code != outlet.EUNAVAILABLE {
				t.Errorf("error %v (code %q); want %q", err, code, outlet.EUNAVAILABLE)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v to fail; want under 5s", took)
			}
		})
	}
}

func TestCallsFailAsUnavailableWhenTheDatabaseStopsAnsweringAndWorkWhenItIsBack(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	s := openStore(t, p.url(freshSchema(t)))
	d := publishOne(t, s, "node-a")
	p.stall()
	calls := storeCalls(s, d)
	for _, name := range []string{"Tenant", "PublishEvents", "CompleteAttempts", "ClaimDue", "DeleteEndpoint"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := calls[name](ctx)
			if code := outlet.ErrorCode(err); code != outlet.EUNAVAILABLE {
				t.Errorf("error %v (code %q); want %q", err, code, outlet.EUNAVAILABLE)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %v to fail; want about the context's 500ms", took)
			}
		})
	}
	t.Run("Ping without a deadline", func(t *testing.T) {
		start := time.Now()
		if code := outlet.ErrorCode(s.Ping(context.Background())); code != outlet.EUNAVAILABLE {
			t.Errorf("Ping: code %q; want %q", code, outlet.EUNAVAILABLE)
		}
		if took := time.Since(start); took > pingTimeout+time.Second {
			t.Errorf("Ping took %v to fail; want at most %v", took, pingTimeout)
		}
	})
	p.resume()
	testwait.Until(t, "the store to answer again", func() bool { return s.Ping(t.Context()) == nil })
	if _, err := s.Delivery(t.Context(), "acme", d.ID); err != nil {
		t.Errorf("Delivery once the database is back: %v", err)
	}
}

func TestOpeningAnUnreachableDatabaseFailsAtOnceAsUnavailable(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	p.cut()
	start := time.Now()
	_, err := Open(t.Context(), p.url(freshSchema(t)))
	if code := outlet.ErrorCode(err); code != outlet.EUNAVAILABLE {
		t.Errorf("Open: %v (code %q); want %q", err, code, outlet.EUNAVAILABLE)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Open took %v to fail; want under 5s", took)
	}
}

// proxy carries TCP connections to the test database, until cut (it drops
// them and refuses new ones) or stalled (it keeps them, and takes new ones,
// but passes nothing on: a database that stopped answering).
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cutOff bool
	paused chan struct{} // closed while bytes flow
}

func newProxy(t *testing.T) *proxy {
	t.Helper()
	cfg, err := pgx.ParseConfig(testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), paused: make(chan struct{})}
	close(p.paused)
	t.Cleanup(func() { p.cut(); p.resume() })
	go p.serve()
	return p
}

// url is u with the proxy in place of the database's address.
func (p *proxy) url(u string) string {
	host, port, _ := net.SplitHostPort(p.ln.Addr().String())
	if parsed, err := url.Parse(u); err == nil && strings.HasPrefix(u, "postgres") {
		parsed.Host = net.JoinHostPort(host, port)
		return parsed.String()
	}
	return u + " host=" + host + " port=" + port
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		paused := p.paused
		p.mu.Unlock()
		<-paused
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			}
			return
		}
	}
}

// cut drops every connection and refuses new ones.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cutOff {
		return
	}
	p.cutOff = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// stall stops passing bytes on, until resume.
func (p *proxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = make(chan struct{})
}

func (p *proxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.paused:
	default:
		close(p.paused)
	}
}
