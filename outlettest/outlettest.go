// Package outlettest runs a real Outlet in-process for tests, as
// net/http/httptest runs a real HTTP server: SQLite in a temporary directory,
// the dispatcher, and the HTTP API on a loopback port. Nothing is faked.
package outlettest

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/dispatch"
	"github.com/outlethq/outlet/functions"
	"github.com/outlethq/outlet/httpapi"
	"github.com/outlethq/outlet/internal/metrics"
	"github.com/outlethq/outlet/internal/netguard"
	"github.com/outlethq/outlet/internal/secrets"
	"github.com/outlethq/outlet/sandbox"
	"github.com/outlethq/outlet/sqlite"
)

// AdminKey is the admin key of every Server.
const AdminKey = "olk_admin_outlettest_0123456789"

// Server is a running Outlet.
type Server struct {
	URL        string
	Store      *sqlite.Store
	Dispatcher *dispatch.Dispatcher
	Functions  *functions.Service
	API        *httpapi.Server
}

// Options change a Server before it starts.
type Options struct {
	// Dispatch configures the dispatcher. Zero fields take the dispatcher's
	// defaults, except these test defaults: private networks allowed (test
	// receivers live on 127.0.0.1), a single attempt per delivery, a 50 ms
	// poll, and logs discarded.
	Dispatch dispatch.Config
	// API, when set, changes the API's configuration.
	API func(*httpapi.Config)
}

// Start starts a Server for the test; it stops when the test ends.
func Start(t testing.TB, configure ...func(*Options)) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := Options{Dispatch: dispatch.Config{
		Retry:        outlet.RetryPolicy{Schedule: outlet.RetrySchedule{}, Rand: rand.Float64},
		PollInterval: 50 * time.Millisecond,
		Policy:       netguard.Policy{AllowPrivate: true},
		Logger:       log,
	}}
	for _, f := range configure {
		f(&o)
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "outlet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	m := metrics.New()
	sb := sandbox.New(sandbox.Config{Policy: o.Dispatch.Policy, Logger: log})
	t.Cleanup(func() { sb.Close(context.Background()) })
	box, err := secrets.NewBox(make([]byte, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	fns := functions.New(functions.Config{Store: store, Sandbox: sb, Secrets: box, Policy: o.Dispatch.Policy, Logger: log, Metrics: m})
	t.Cleanup(fns.Close)
	o.Dispatch.Metrics = m
	o.Dispatch.Functions = fns
	d := dispatch.New(store, o.Dispatch)
	d.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.Shutdown(ctx)
	})
	cfg := httpapi.Config{AdminKey: AdminKey, Store: store, Dispatcher: d, Functions: fns, OnChange: fns.Forget, Logger: log, Metrics: m}
	if o.API != nil {
		o.API(&cfg)
	}
	api := httpapi.New(cfg)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &Server{URL: srv.URL, Store: store, Dispatcher: d, Functions: fns, API: api}
}
