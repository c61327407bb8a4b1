package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/outlethq/outlet/internal/app"
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
	ac := cfg.Config
	ac.AdminKey = os.Getenv("OUTLET_ADMIN_KEY")
	ac.SecretKey = os.Getenv("OUTLET_SECRET_KEY")
	ac.Logger = log
	a, err := app.New(ctx, ac)
	if err != nil {
		return err
	}
	if key, generated := a.AdminKey(); generated {
		fmt.Fprintf(stdout, "\nGenerated the admin key (shown only this once; it is stored in %s):\n\n    %s\n\n",
			filepath.Join(cfg.Data, "admin.key"), key)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		a.Shutdown(context.Background())
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if cfg.PprofAddr != "" {
		pl, err := listenPprof(cfg.PprofAddr)
		if err != nil {
			ln.Close()
			a.Shutdown(context.Background())
			return err
		}
		defer pl.Close()
		go servePprof(log, pl)
	}
	a.Start(ln)
	logStartup(log, fs, ln.Addr().String())

	var served error
	select {
	case <-ctx.Done():
	case served = <-a.Err():
	}
	log.Info("shutting down: finishing requests and attempts in flight", "timeout", cfg.ShutdownTimeout)
	drainCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := a.Shutdown(drainCtx); err != nil {
		log.Warn("shut down with leftovers", "err", err)
	}
	if served != nil {
		return fmt.Errorf("serve: %w", served)
	}
	log.Info("stopped")
	return nil
}

// logStartup reports the address and the effective value of every setting.
func logStartup(log *slog.Logger, fs *pflag.FlagSet, addr string) {
	attrs := []any{"addr", addr, "version", version}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "addr" && f.Name != "help" && f.Deprecated == "" {
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

// listenPprof listens for --pprof-addr: on loopback unless the address
// names another host.
func listenPprof(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof-addr %q: give host:port, e.g. 127.0.0.1:6060 or :6060", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("--pprof-addr: %w", err)
	}
	return ln, nil
}

// servePprof serves pprof on its own listener, never on the API's.
func servePprof(log *slog.Logger, ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("serving pprof profiles", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
		log.Error("pprof server stopped", "addr", ln.Addr().String(), "err", err)
	}
}
