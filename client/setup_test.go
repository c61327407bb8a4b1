package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
	"github.com/outlethq/outlet/outlettest"
)

const adminKey = outlettest.AdminKey

// bundle is a real Outlet (SQLite in a temporary directory, the dispatcher,
// the HTTP API) and a webhook receiver, both on loopback.
type bundle struct {
	url      string
	admin    *client.Client
	receiver *receiver
	// requests records every request the admin client sent.
	requests *recorder
}

// setup starts Outlet for one test. Deliveries get a single attempt (an
// empty retry schedule), so a failing one is failed at once.
func setup(t *testing.T) *bundle {
	t.Helper()
	srv := outlettest.Start(t)
	rec := &recorder{next: http.DefaultTransport}
	return &bundle{
		url:      srv.URL,
		admin:    client.New(srv.URL, outlettest.AdminKey, client.WithHTTPClient(&http.Client{Transport: rec})),
		receiver: newReceiver(t),
		requests: rec,
	}
}

// tenant creates a tenant for the test.
func (b *bundle) tenant(t *testing.T, id string) *outlet.Tenant {
	t.Helper()
	tn, err := b.admin.Tenants.Create(context.Background(), client.TenantCreate{ID: id, Name: "Tenant " + id})
	if err != nil {
		t.Fatalf("create tenant %s: %v", id, err)
	}
	return tn
}

// receiver is a webhook receiver: /ok answers 200, /fail answers 500.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []*http.Request
	body [][]byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, req)
		r.body = append(r.body, b)
		r.mu.Unlock()
		if req.URL.Path == "/fail" {
			http.Error(w, "receiver is down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

// requests returns the requests received so far, with their bodies.
func (r *receiver) requests() ([]*http.Request, [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.got...), append([][]byte(nil), r.body...)
}

// recorder passes requests on and remembers them.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func (r *recorder) last() *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}
