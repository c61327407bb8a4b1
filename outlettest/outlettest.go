// Package outlettest runs a real Outlet in-process for tests, as
// net/http/httptest runs a real HTTP server: the server `outlet serve` runs,
// built the same way, with SQLite in a temporary directory and the API on a
// loopback port. Nothing is faked.
package outlettest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/dispatch"
	"github.com/outlethq/outlet/functions"
	"github.com/outlethq/outlet/httpapi"
	"github.com/outlethq/outlet/internal/app"
	"github.com/outlethq/outlet/sandbox"
)

// AdminKey is the admin key of every Server.
const AdminKey = "olk_admin_outlettest_0123456789"

// Server is a running Outlet.
type Server struct {
	URL        string
	Store      outlet.Store
	Dispatcher *dispatch.Dispatcher
	Functions  *functions.Service
	Sandbox    *sandbox.Sandbox
	API        *httpapi.Server
}

// Options are the server's settings: those `outlet serve` has by default,
// except these for tests: state in a temporary directory, AdminKey, private
// networks allowed (test receivers live on 127.0.0.1), a single attempt per
// delivery, a 50 ms poll, and logs discarded.
type Options = app.Config

// Start starts a Server for the test; configure may change its Options. It
// stops when the test ends.
func Start(t testing.TB, configure ...func(*Options)) *Server {
	t.Helper()
	o := app.Defaults()
	o.Data = t.TempDir()
	o.AdminKey = AdminKey
	o.AllowPrivateNetworks = true
	o.RetrySchedule = outlet.RetrySchedule{}
	o.PollInterval = 50 * time.Millisecond
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, f := range configure {
		f(&o)
	}
	a, err := app.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.Shutdown(context.Background())
		t.Fatal(err)
	}
	a.Start(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Logf("outlettest: shut down with leftovers: %v", err)
		}
	})
	return &Server{URL: a.URL(), Store: a.Store(), Dispatcher: a.Dispatcher(), Functions: a.Functions(),
		Sandbox: a.Sandbox(), API: a.API()}
}
