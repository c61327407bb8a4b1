// Package app builds the Outlet server from its parts — the store, the usage
// meter, the sandbox, the functions service, the dispatcher and the HTTP
// API — in one place. `outlet serve`, outlettest and every test that runs the
// whole server build it here, so no copy of the wiring can drift from what
// production runs.
package app

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/dispatch"
	"github.com/outlethq/outlet/functions"
	"github.com/outlethq/outlet/httpapi"
	"github.com/outlethq/outlet/internal/metrics"
	"github.com/outlethq/outlet/internal/netguard"
	"github.com/outlethq/outlet/internal/secrets"
	"github.com/outlethq/outlet/internal/tracing"
	"github.com/outlethq/outlet/internal/usage"
	"github.com/outlethq/outlet/operational"
	"github.com/outlethq/outlet/portal"
	"github.com/outlethq/outlet/sandbox"
)

// App is one Outlet server: New builds it, Start serves, Shutdown drains and
// closes it.
type App struct {
	log       *slog.Logger
	store     outlet.Store
	meter     *usage.Meter
	sandbox   *sandbox.Sandbox
	functions *functions.Service
	ops       *operational.Raiser
	disp      *dispatch.Dispatcher
	api       *httpapi.Server
	portal    http.Handler // nil when switched off
	srv       *http.Server
	tracing   *tracing.Provider // the one New built from OTEL_*, which Shutdown stops; nil if given one

	adminKey     string
	generatedKey bool

	url      string
	served   chan error
	draining atomic.Bool
	stopOnce sync.Once
	stopErr  error
}

// New builds a server from cfg: it opens (and migrates) the store, loads or
// generates the keys, and builds every part, ready to Start. When it fails,
// it has closed whatever it opened.
func New(ctx context.Context, cfg Config) (_ *App, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	a := &App{log: log, served: make(chan error, 1)}
	defer func() {
		if err != nil {
			a.close(context.Background())
		}
	}()
	// Settings that can be wrong are checked before anything is opened.
	frameAncestors, err := portal.FrameAncestors(cfg.PortalFrameAncestors)
	if err != nil {
		return nil, fmt.Errorf("--portal-frame-ancestors: %w", err)
	}
	sameSite, err := portal.SameSite(cfg.PortalCookieSameSite)
	if err != nil {
		return nil, fmt.Errorf("--portal-cookie-samesite: %w", err)
	}
	if err := checkPublicURL(cfg.PublicURL); err != nil {
		return nil, err
	}
	if err := checkOperational(cfg); err != nil {
		return nil, err
	}

	tp := cfg.TracerProvider
	if tp == nil {
		if a.tracing, err = tracing.FromEnv(ctx, log); err != nil {
			return nil, fmt.Errorf("tracing: %w", err)
		}
		tp = a.tracing
		if a.tracing.Exporter != "" {
			log.Info("tracing: exporting spans", "exporter", a.tracing.Exporter)
		}
	}

	if a.store, err = openStore(ctx, cfg.Data, cfg.Database); err != nil {
		return nil, err
	}
	if a.adminKey, a.generatedKey, err = loadAdminKey(cfg.AdminKey, cfg.Data); err != nil {
		return nil, err
	}
	box, err := loadSecretsBox(cfg.SecretKey, cfg.Data, log)
	if err != nil {
		return nil, err
	}

	m := metrics.New()
	m.WatchQueue(a.store, 10*time.Second, time.Now)
	policy := netguard.Policy{AllowPrivate: cfg.AllowPrivateNetworks, DNSServer: cfg.DNSServer}
	// One meter, handed to both: the sandbox charges it CPU time, the
	// functions service counts runs.
	a.meter = usage.New(a.store, log, 0, time.Now)
	a.sandbox = sandbox.New(sandbox.Config{
		Meter:             a.meter,
		Policy:            policy,
		Defaults:          sandbox.Limits{Fetch: sandbox.FetchLimits{MaxRequests: cfg.FunctionFetchLimit, Timeout: cfg.FunctionFetchTimeout}},
		TenantConcurrency: cfg.FunctionConcurrency,
		MaxConcurrency:    cfg.FunctionMaxParallel,
		MaxIdle:           cfg.FunctionWarmVMs,
		WarmMemory:        uint64(cfg.FunctionWarmMemory),
		CacheDir:          filepath.Join(cfg.Data, "wasm-cache"),
		Logger:            log,
	})
	m.WatchWarm(func() metrics.WarmStats {
		st := a.sandbox.WarmStats()
		return metrics.WarmStats{Engines: st.Engines, Bytes: st.Bytes}
	})
	// Told by the functions service and the dispatcher, it publishes
	// through the store and has the dispatcher send at once.
	a.ops = operational.New(operational.Config{
		Store:                  a.store,
		FunctionFailingRate:    cfg.FunctionFailingRate,
		FunctionFailingWindow:  cfg.FunctionFailingWindow,
		FunctionFailingMinRuns: cfg.FunctionFailingMinRuns,
		UsageThresholds: outlet.Usage{Events: cfg.UsageThresholdEvents, Deliveries: cfg.UsageThresholdDeliveries,
			FunctionInvocations: cfg.UsageThresholdFunctionRuns},
		CacheTTL: cfg.CacheTTL,
		Wake: func() {
			if a.disp != nil {
				a.disp.Wake()
			}
		},
		Logger: log,
	})
	a.functions = functions.New(functions.Config{
		Store:        a.store,
		Sandbox:      a.sandbox,
		Secrets:      box,
		Policy:       policy,
		EventTimeout: cfg.FunctionTimeout,
		Limits: outlet.FunctionLimits{MemoryMB: cfg.FunctionMemoryMB, StackFrames: cfg.FunctionStackFrames,
			MaxInputKB: cfg.FunctionMaxInput >> 10, MaxOutputKB: cfg.FunctionMaxOutput >> 10, MaxLogsKB: cfg.FunctionMaxLogs >> 10},
		AllowedHosts:   cfg.FunctionAllowedHosts,
		CacheTTL:       cfg.CacheTTL,
		Meter:          a.meter,
		Logger:         log,
		Metrics:        m,
		TracerProvider: tp,
		Runs:           a.ops,
	})
	node := cfg.Node
	if node == "" {
		node = nodeName()
	}
	a.disp = dispatch.New(a.store, dispatch.Config{
		Owner:          node,
		Workers:        cfg.Workers,
		AttemptTimeout: cfg.AttemptTimeout,
		Lease:          cfg.Lease,
		Retry:          outlet.RetryPolicy{Schedule: cfg.RetrySchedule, MaxRetryAfter: cfg.MaxRetryAfter, Rand: rand.Float64},
		DisableAfter:   cfg.DisableAfter,
		PollInterval:   cfg.PollInterval,
		MaxHeld:        cfg.MaxHeld,
		Flow: dispatch.FlowConfig{MaxInFlight: cfg.EndpointMaxInFlight, BreakerFailures: cfg.BreakerFailures, BreakerOff: cfg.BreakerFailures == 0,
			BreakerCooldown: cfg.BreakerCooldown, BreakerMaxCooldown: cfg.BreakerMaxCooldown},
		// The sandbox's limits: function runs wait their turn in the
		// dispatcher's queue, not in a worker.
		FunctionWorkers:   cfg.FunctionMaxParallel,
		FunctionTenantMax: cfg.FunctionConcurrency,
		Retention:         cfg.Retention,
		AuditRetention:    cfg.AuditRetention,
		Policy:            policy,
		Functions:         a.functions,
		Notifier:          a.ops,
		Logger:            log,
		Metrics:           m,
		TracerProvider:    tp,
	})
	apiCfg := httpapi.Config{
		AdminKey:         a.adminKey,
		Store:            a.store,
		Dispatcher:       a.disp,
		MaxEventSize:     cfg.MaxEventSize,
		PublishRateLimit: cfg.PublishRateLimit,
		StrictEventTypes: cfg.StrictEventTypes,
		CacheTTL:         cfg.CacheTTL,
		AuthFailureRate:  cfg.AuthFailureRate,
		AuthFailureBurst: cfg.AuthFailureBurst,
		Functions:        a.functions,
		// Every write through the API is watched, so the functions service
		// drops what it made stale: cached bindings, secrets, warm engines.
		OnChange: a.functions.Forget,
		FunctionMaxima: outlet.FunctionLimits{TimeoutMs: int(cfg.FunctionMaxTimeout / time.Millisecond), MemoryMB: cfg.FunctionMaxMemoryMB,
			StackFrames: cfg.FunctionStackFrames, MaxInputKB: cfg.FunctionMaxInput >> 10, MaxOutputKB: cfg.FunctionMaxOutput >> 10,
			MaxLogsKB: cfg.FunctionMaxLogs >> 10},
		PublicURL:      cfg.PublicURL,
		NoPortal:       !cfg.Portal,
		Ready:          a.ready,
		Logger:         log,
		Metrics:        m,
		TracerProvider: tp,
	}
	if cfg.TuneAPI != nil {
		cfg.TuneAPI(&apiCfg)
	}
	a.api = httpapi.New(apiCfg)
	if cfg.Portal {
		a.portal = portal.Handler(portal.Config{
			Sessions:       a.api,
			FrameAncestors: strings.Fields(frameAncestors),
			SameSite:       sameSite,
			PublicURL:      cfg.PublicURL,
			Logger:         log,
			Now:            apiCfg.Now,
		})
	}
	a.srv = &http.Server{
		Handler:           http.HandlerFunc(a.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return a, nil
}

// ready says whether this node can take work: not while it drains.
func (a *App) ready(ctx context.Context) error {
	if a.draining.Load() {
		return outlet.Errorf(outlet.EUNAVAILABLE, "shutting down")
	}
	return a.store.Ping(ctx)
}

// Start sets the dispatcher going and serves the API on ln until Shutdown.
func (a *App) Start(ln net.Listener) {
	a.url = "http://" + ln.Addr().String()
	a.disp.Start()
	a.ops.Start()
	go func() {
		if err := a.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.served <- err
		}
	}()
}

// Err receives the error that stopped the HTTP server, should it stop
// before Shutdown.
func (a *App) Err() <-chan error { return a.served }

// Shutdown drains and closes the server: it answers not ready, finishes the
// requests in flight, lets the dispatcher finish or give back its attempts
// (cutting them short when ctx ends), records the functions' last logs and
// usage, and closes the sandbox and the store. Calling it again returns the
// first call's result.
func (a *App) Shutdown(ctx context.Context) error {
	a.stopOnce.Do(func() {
		a.draining.Store(true)
		var errs []error
		if err := a.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("some requests were cut short: %w", err))
		}
		if err := a.disp.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("the dispatcher drained with leftovers: %w", err))
		}
		errs = append(errs, a.close(ctx))
		a.stopErr = errors.Join(errs...)
	})
	return a.stopErr
}

// close closes what New opened, the users of a part before the part: the
// functions' log, the operational events still to publish, the sandbox,
// the meter (which the sandbox charges), the store (which all of them
// write to).
func (a *App) close(ctx context.Context) error {
	var errs []error
	if a.functions != nil {
		a.functions.Close()
	}
	if a.ops != nil {
		a.ops.Close()
	}
	if a.sandbox != nil {
		if err := a.sandbox.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if a.meter != nil {
		a.meter.Close()
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close the store: %w", err))
		}
	}
	// Last, so the spans of the drain are exported too; given time of its
	// own, as a drain may have used up ctx's.
	if a.tracing != nil {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := a.tracing.Shutdown(flushCtx); err != nil {
			errs = append(errs, fmt.Errorf("export the last spans: %w", err))
		}
	}
	return errors.Join(errs...)
}

// serveHTTP sends /portal/ to the portal, when it is on, and everything
// else to the API, which answers unknown paths in its own error format.
func (a *App) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if a.portal != nil {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, portal.Path):
			a.portal.ServeHTTP(w, r)
			return
		case p == strings.TrimSuffix(portal.Path, "/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			to := portal.Path
			if r.URL.RawQuery != "" {
				to += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, to, http.StatusMovedPermanently)
			return
		}
	}
	a.api.ServeHTTP(w, r)
}

// checkOperational checks the thresholds of the operational events.
func checkOperational(cfg Config) error {
	switch {
	case cfg.FunctionFailingRate < 0 || cfg.FunctionFailingRate > 1:
		return fmt.Errorf("--function-failing-rate %v: give the share of runs that must fail, from 0 to 1 (0.5 for half; 0 never raises function.failing)", cfg.FunctionFailingRate)
	case cfg.FunctionFailingWindow < time.Second:
		return fmt.Errorf("--function-failing-window %v: give a window of a second or more (e.g. 5m)", cfg.FunctionFailingWindow)
	case cfg.FunctionFailingMinRuns < 1:
		return fmt.Errorf("--function-failing-min-runs %d: give 1 or more", cfg.FunctionFailingMinRuns)
	case cfg.UsageThresholdEvents < 0 || cfg.UsageThresholdDeliveries < 0 || cfg.UsageThresholdFunctionRuns < 0:
		return errors.New("the --usage-threshold-… settings are daily counts: give 0 (never) or more")
	}
	return nil
}

// checkPublicURL checks --public-url: empty, or the http(s) address people
// reach Outlet at, without a query or fragment.
func checkPublicURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("--public-url %q must be the http:// or https:// address people reach Outlet at, such as https://outlet.example.com "+
			"(no query, fragment or user name)", v)
	}
	return nil
}

// Handler is what Start serves: the HTTP API, and the portal when it is
// on; to serve some other way than Start.
func (a *App) Handler() http.Handler { return http.HandlerFunc(a.serveHTTP) }

// URL is where Start serves the API: http://host:port.
func (a *App) URL() string { return a.url }

// AdminKey is the admin key; generated reports whether New made it (on
// first start), so that it can be shown once.
func (a *App) AdminKey() (key string, generated bool) { return a.adminKey, a.generatedKey }

// Store, Dispatcher, Functions, Sandbox and API are the parts, for tests
// that look behind the API.
func (a *App) Store() outlet.Store              { return a.store }
func (a *App) Dispatcher() *dispatch.Dispatcher { return a.disp }
func (a *App) Functions() *functions.Service    { return a.functions }
func (a *App) Sandbox() *sandbox.Sandbox        { return a.sandbox }
func (a *App) API() *httpapi.Server             { return a.api }

// loadAdminKey returns key if it is set, or the key stored under dir,
// generating and storing one on first start.
func loadAdminKey(key, dir string) (_ string, generated bool, err error) {
	if k := strings.TrimSpace(key); k != "" {
		if len(k) < 16 {
			return "", false, errors.New("the admin key (OUTLET_ADMIN_KEY) is shorter than 16 characters; use a long random value")
		}
		return k, false, nil
	}
	path := filepath.Join(dir, "admin.key")
	b, err := os.ReadFile(path)
	if err == nil {
		if k := strings.TrimSpace(string(b)); k != "" {
			return k, false, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read admin key: %w", err)
	}
	k := "olk_admin_" + strings.TrimPrefix(outlet.NewAPIKeySecret(), outlet.KeyPrefix)
	if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("store admin key: %w", err)
	}
	return k, true, nil
}

// loadSecretsBox opens the box that seals tenants' secrets with key, or
// with the key stored under dir, generating one on first start.
func loadSecretsBox(key, dir string, log *slog.Logger) (*secrets.Box, error) {
	path := filepath.Join(dir, "secret.key")
	k, generated, err := secrets.LoadKey(key, path)
	if err != nil {
		return nil, err
	}
	if generated {
		log.Info("generated the key that encrypts tenants' secrets; back it up, or set OUTLET_SECRET_KEY", "path", path)
	}
	return secrets.NewBox(k)
}

// nodeName names this process on the claims it takes: readable, and unique
// across restarts.
func nodeName() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	cryptorand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
