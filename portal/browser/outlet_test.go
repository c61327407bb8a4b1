package browser_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outlethq/outlet/client"
	"github.com/outlethq/outlet/httpapi"
	"github.com/outlethq/outlet/outlettest"
)

// outlet is a real Outlet for one test, its API on the test's clock (so a
// test can let a session expire), and the admin's client to check what the
// API holds.
type outlet struct {
	t     *testing.T
	url   string
	api   *client.Client
	skew  atomic.Int64 // how far the API's clock is ahead of the real one
	admin context.Context
}

func startOutlet(t *testing.T, configure ...func(*outlettest.Options)) *outlet {
	t.Helper()
	o := &outlet{t: t}
	srv := outlettest.Start(t, append([]func(*outlettest.Options){func(opts *outlettest.Options) {
		opts.TuneAPI = func(c *httpapi.Config) {
			c.Now = func() time.Time { return time.Now().Add(time.Duration(o.skew.Load())) }
		}
	}}, configure...)...)
	o.url = srv.URL
	o.api = client.New(srv.URL, outlettest.AdminKey)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	o.admin = ctx
	return o
}

// later moves the API's clock ahead by d.
func (o *outlet) later(d time.Duration) { o.skew.Add(int64(d)) }

// must fails the test on err, from a call of the admin's client.
func (o *outlet) must(err error) {
	o.t.Helper()
	if err != nil {
		o.t.Fatal(err)
	}
}

// tenant creates a tenant.
func (o *outlet) tenant(id, name string) {
	o.t.Helper()
	_, err := o.api.Tenants.Create(o.admin, client.TenantCreate{ID: id, Name: name})
	o.must(err)
}

// eventType adds an event type to the catalog, with a schema and a sample.
func (o *outlet) eventType(name, description, schema, sample string) {
	o.t.Helper()
	et := client.EventTypeCreate{Name: name, Description: description}
	if schema != "" {
		et.Schema = json.RawMessage(schema)
	}
	if sample != "" {
		et.Sample = json.RawMessage(sample)
	}
	_, err := o.api.EventTypes.Create(o.admin, et)
	o.must(err)
}

// session mints a portal session for tenant ("" for the operator's) and
// returns the link to open.
func (o *outlet) session(tenant string, p client.PortalSessionCreate) *client.CreatedPortalSession {
	o.t.Helper()
	var s *client.CreatedPortalSession
	var err error
	if tenant == "" {
		s, err = o.api.PortalSessions.CreateOperator(o.admin, p)
	} else {
		s, err = o.api.PortalSessions.Create(o.admin, tenant, p)
	}
	o.must(err)
	s.URL = o.url + s.URL
	return s
}

// opened is a tenant's portal opened straight from its link, in a tab of
// its own (not framed), so the test can read the page's own globals.
func opened(t *testing.T, b *browser, o *outlet, tenant, who string, p client.PortalSessionCreate) (*page, *client.CreatedPortalSession) {
	t.Helper()
	s := o.session(tenant, p)
	pg := b.open(who)
	pg.visit(s.URL)
	pg.waitFor(css("main h1"))
	return pg, s
}

// waitDelivered waits until every delivery of the event has finished.
func (o *outlet) waitDelivered(tenant, eventID string, want int) []string {
	o.t.Helper()
	end := time.Now().Add(wait)
	for {
		dls, err := o.api.Deliveries.List(o.admin, tenant, client.DeliveryFilter{EventID: eventID})
		o.must(err)
		var ids []string
		for _, d := range dls.Data {
			if d.Status != "pending" {
				ids = append(ids, d.ID)
			}
		}
		if len(ids) == want {
			return ids
		}
		if time.Now().After(end) {
			o.t.Fatalf("%d of the event's %d deliveries finished within %s, want %d", len(ids), len(dls.Data), wait, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// receiver is a customer's webhook receiver on 127.0.0.1: it answers with
// the status and body it is told to, and keeps what it was sent.
type receiver struct {
	url    string
	status atomic.Int32
	body   atomic.Value // string

	mu  sync.Mutex
	got []received
}

type received struct {
	header http.Header
	body   string
}

func startReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.answer(http.StatusOK, `{"received":true}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: string(b)})
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Receiver", "acme-billing")
		w.WriteHeader(int(r.status.Load()))
		io.WriteString(w, r.body.Load().(string))
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// answer sets what the receiver answers from now on.
func (r *receiver) answer(status int, body string) {
	r.status.Store(int32(status))
	r.body.Store(body)
}

// requests is what the receiver was sent so far.
func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// host is the platform's own web app, on a port of its own: a settings page
// that embeds the portal in an iframe.
type host struct {
	url string
	src atomic.Value // string: the iframe's src
}

func startHost(t *testing.T) *host {
	t.Helper()
	h := &host{}
	h.src.Store("about:blank")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><head><title>Acme Platform — settings</title>
<style>body{margin:0;font:15px system-ui,sans-serif;background:#f1f5f9;color:#0f172a}header{background:#0f172a;color:#fff;padding:12px 24px;font-weight:600}
main{padding:8px 24px}h1{font-size:20px}iframe{border:1px solid #cbd5e1;border-radius:8px;background:#fff}</style></head><body>
<header>Acme Platform</header><main>
<h1>Settings · Webhooks</h1>
<iframe id="portal" src="`+html.EscapeString(h.src.Load().(string))+`" title="Webhooks and functions" width="1000" height="760"></iframe>
</main></body></html>`)
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// embed makes the settings page frame src from now on.
func (h *host) embed(src string) { h.src.Store(src) }
