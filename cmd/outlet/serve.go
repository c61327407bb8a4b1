package main

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/dispatch"
	"github.com/outlethq/outlet/functions"
	"github.com/outlethq/outlet/httpapi"
	"github.com/outlethq/outlet/internal/metrics"
	"github.com/outlethq/outlet/internal/netguard"
	"github.com/outlethq/outlet/internal/secrets"
	"github.com/outlethq/outlet/internal/usage"
	"github.com/outlethq/outlet/sandbox"
)

func newServeCmd() *cobra.Command {
	var cfg serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Outlet server",
		Long: `Run the Outlet server. With no other service it keeps its state in an
embedded SQLite database under --data.

The admin key is $OUTLET_ADMIN_KEY when set; otherwise one is generated on
first start, stored in <data>/admin.key and printed once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			if err := cfg.validate(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return serve(ctx, &cfg, cmd.LocalFlags(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cfg.flags(cmd.Flags())
	annotateEnv(cmd.Flags())
	return cmd
}

// serve runs Outlet until ctx ends, then drains and returns.
func serve(ctx context.Context, cfg *serveConfig, fs *pflag.FlagSet, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()

	adminKey, generated, err := loadAdminKey(cfg.Data)
	if err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(stdout, "\nGenerated the admin key (shown only this once; it is stored in %s):\n\n    %s\n\n",
			filepath.Join(cfg.Data, "admin.key"), adminKey)
	}

	secretKey, generatedKey, err := secrets.LoadKey(os.Getenv("OUTLET_SECRET_KEY"), filepath.Join(cfg.Data, "secret.key"))
	if err != nil {
		return err
	}
	box, err := secrets.NewBox(secretKey)
	if err != nil {
		return err
	}
	if generatedKey {
		log.Info("generated the key that encrypts tenants' secrets; back it up, or set OUTLET_SECRET_KEY",
			"path", filepath.Join(cfg.Data, "secret.key"))
	}

	m := metrics.New()
	m.WatchQueue(store, 10*time.Second, time.Now)
	policy := netguard.Policy{AllowPrivate: cfg.AllowPrivateNetworks, DNSServer: cfg.DNSServer}
	meter := usage.New(store, log, 0, time.Now)
	defer meter.Close()
	sb := sandbox.New(sandbox.Config{
		Meter:             meter,
		Policy:            policy,
		Defaults:          sandbox.Limits{Fetch: sandbox.FetchLimits{MaxRequests: cfg.FunctionFetchLimit, Timeout: cfg.FunctionFetchTimeout}},
		TenantConcurrency: cfg.FunctionConcurrency,
		MaxConcurrency:    cfg.FunctionMaxParallel,
		MaxIdle:           cfg.FunctionWarmVMs,
		CacheDir:          filepath.Join(cfg.Data, "wasm-cache"),
		Logger:            log,
	})
	defer sb.Close(context.Background())
	fns := functions.New(functions.Config{
		Store:        store,
		Sandbox:      sb,
		Secrets:      box,
		Policy:       policy,
		EventTimeout: cfg.FunctionTimeout,
		Limits: outlet.FunctionLimits{MemoryMB: cfg.FunctionMemoryMB, StackFrames: cfg.FunctionStackFrames,
			MaxInputKB: int(cfg.FunctionMaxInput) >> 10, MaxOutputKB: int(cfg.FunctionMaxOutput) >> 10, MaxLogsKB: int(cfg.FunctionMaxLogs) >> 10},
		AllowedHosts: cfg.FunctionAllowedHosts,
		CacheTTL:     cfg.CacheTTL,
		Meter:        meter,
		Logger:       log,
		Metrics:      m,
	})
	defer fns.Close()
	d := dispatch.New(store, dispatch.Config{
		Owner:          nodeName(),
		Workers:        cfg.Workers,
		AttemptTimeout: cfg.AttemptTimeout,
		Lease:          cfg.Lease,
		Retry:          outlet.RetryPolicy{Schedule: outlet.RetrySchedule(cfg.RetrySchedule), MaxRetryAfter: cfg.MaxRetryAfter, Rand: rand.Float64},
		DisableAfter:   cfg.DisableAfter,
		PollInterval:   cfg.PollInterval,
		MaxHeld:        cfg.MaxHeld,
		Flow: dispatch.FlowConfig{MaxInFlight: cfg.EndpointMaxInFlight, BreakerFailures: cfg.BreakerFailures, BreakerOff: cfg.BreakerFailures == 0,
			BreakerCooldown: cfg.BreakerCooldown, BreakerMaxCooldown: cfg.BreakerMaxCooldown},
		FunctionWorkers: cfg.FunctionMaxParallel, FunctionTenantMax: cfg.FunctionConcurrency, // the sandbox's limits: runs wait their turn in the dispatcher, not in a worker
		Retention: cfg.Retention,
		Policy:    policy,
		Functions: fns,
		Logger:    log,
		Metrics:   m,
	})
	var draining atomic.Bool
	api := httpapi.New(httpapi.Config{
		AdminKey:         adminKey,
		Store:            store,
		Dispatcher:       d,
		MaxEventSize:     int(cfg.MaxEventSize),
		PublishRateLimit: cfg.PublishRateLimit,
		StrictEventTypes: cfg.StrictEventTypes,
		CacheTTL:         cfg.CacheTTL,
		AuthFailureRate:  cfg.AuthFailureRate,
		AuthFailureBurst: cfg.AuthFailureBurst,
		Functions:        fns,
		OnChange:         fns.Forget,
		FunctionMaxima: outlet.FunctionLimits{TimeoutMs: int(cfg.FunctionMaxTimeout / time.Millisecond), MemoryMB: cfg.FunctionMaxMemoryMB,
			StackFrames: cfg.FunctionStackFrames, MaxInputKB: int(cfg.FunctionMaxInput) >> 10, MaxOutputKB: int(cfg.FunctionMaxOutput) >> 10,
			MaxLogsKB: int(cfg.FunctionMaxLogs) >> 10},
		Ready: func(ctx context.Context) error {
			if draining.Load() {
				return outlet.Errorf(outlet.EUNAVAILABLE, "shutting down")
			}
			return store.Ping(ctx)
		},
		Logger:  log,
		Metrics: m,
	})
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if cfg.DebugAddr != "" {
		go serveDebug(log, cfg.DebugAddr)
	}
	d.Start()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logStartup(log, fs, ln.Addr().String())

	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("shutting down: finishing requests and attempts in flight", "timeout", cfg.ShutdownTimeout)
	draining.Store(true)
	drainCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(drainCtx); err != nil {
		log.Warn("some requests were cut short", "err", err)
	}
	if err := d.Shutdown(drainCtx); err != nil {
		log.Warn("dispatcher drained with leftovers", "err", err)
	}
	log.Info("stopped")
	return nil
}

// logStartup reports the address and the effective value of every setting.
func logStartup(log *slog.Logger, fs *pflag.FlagSet, addr string) {
	attrs := []any{"addr", addr, "version", version}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "addr" && f.Name != "help" {
			attrs = append(attrs, f.Name, f.Value.String())
		}
	})
	log.Info("outlet is listening", attrs...)
}

func newLogger(cfg *serveConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// loadAdminKey returns $OUTLET_ADMIN_KEY, or the key stored under dir,
// generating and storing one on first start.
func loadAdminKey(dir string) (key string, generated bool, err error) {
	if k := strings.TrimSpace(os.Getenv("OUTLET_ADMIN_KEY")); k != "" {
		if len(k) < 16 {
			return "", false, errors.New("OUTLET_ADMIN_KEY is shorter than 16 characters; use a long random value")
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

// nodeName names this process on the claims it takes: readable, and unique
// across restarts.
func nodeName() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	cryptorand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// serveDebug serves pprof on its own address, never on the API's.
func serveDebug(log *slog.Logger, addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("debug server stopped", "addr", addr, "err", err)
	}
}
