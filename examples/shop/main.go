// Command shop is a small web shop standing for "the platform": the SaaS
// product that runs Outlet for its merchants. It starts Outlet, declares
// its catalog of events and its checkout.discount hook, signs up a
// merchant, then sells T-shirts: each checkout asks the merchant's code for
// a discount through the hook, and each order is published as an event that
// Outlet delivers to the merchant's webhook endpoint.
//
//	go run ./examples/shop
//
// Everything the shop asks of Outlet goes through the Go SDK (package
// client) over HTTP, as it would with Outlet running as its own service.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/outlethq/outlet/client"
	"github.com/outlethq/outlet/internal/app"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "the shop's address")
	outletAddr := flag.String("outlet-addr", "127.0.0.1:8080", "Outlet's address")
	data := flag.String("data", "./shop-data", "where Outlet keeps its state (embedded SQLite) and its admin key")
	merchant := flag.String("merchant", "acme", "the merchant (Outlet tenant) the shop signs up")
	receiver := flag.String("receiver-url", "", "where the merchant's order events go (default: the shop's stand-in receiver at /webhooks)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *outletAddr, *data, *merchant, *receiver); err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, outletAddr, data, merchant, receiverURL string) error {
	// The shop's listener first: the stand-in receiver's URL needs its port.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (choose another with --addr): %w", addr, err)
	}
	shopURL := "http://" + ln.Addr().String()
	if receiverURL == "" {
		receiverURL = shopURL + "/webhooks"
	}

	stopTracing, err := startTracing(ctx)
	if err != nil {
		ln.Close()
		return fmt.Errorf("tracing: %w", err)
	}
	defer stopTracing(context.Background())

	outletDir := filepath.Join(data, "outlet")
	o, err := startOutlet(ctx, outletAddr, outletDir)
	if err != nil {
		ln.Close()
		return err
	}
	defer func() {
		drain, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		o.Shutdown(drain)
	}()
	key, _ := o.AdminKey()
	c := client.New(o.URL(), key)

	secret, err := bootstrap(ctx, c, merchant, receiverURL)
	if err != nil {
		ln.Close()
		return fmt.Errorf("bootstrap Outlet: %w", err)
	}
	s := &shop{outlet: c, merchant: merchant, orders: map[string]*order{}}
	mux := s.routes()
	if receiverURL == shopURL+"/webhooks" {
		h, err := newStandInReceiver(secret)
		if err != nil {
			ln.Close()
			return err
		}
		mux.Handle("POST /webhooks", h)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	printNextSteps(o.URL(), shopURL, filepath.Join(outletDir, "admin.key"), merchant, receiverURL, shopURL+"/webhooks", secret)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startOutlet runs Outlet in this process, as `outlet serve --data dir`
// would, with its state in an embedded SQLite file. A real platform runs
// Outlet as a service of its own and gives the SDK its address and key;
// here it starts in-process so that one command runs the whole example.
func startOutlet(ctx context.Context, addr, dir string) (*app.App, error) {
	cfg := app.Defaults()
	cfg.Data = dir
	// The receivers of this example live on 127.0.0.1, which Outlet refuses
	// to call by default: in production, that guard keeps merchants from
	// pointing webhooks at the platform's own internal services.
	cfg.AllowPrivateNetworks = true
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o, err := app.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start Outlet: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		o.Shutdown(context.Background())
		return nil, fmt.Errorf("listen on %s (choose another with --outlet-addr): %w", addr, err)
	}
	o.Start(ln)
	return o, nil
}

func printNextSteps(outletURL, shopURL, keyFile, merchant, receiverURL, standIn, secret string) {
	fmt.Printf(`Outlet    %s   (admin key in %s)
Shop      %s
Merchant  %s: order events go to %s
`, outletURL, keyFile, shopURL, merchant, receiverURL)
	if receiverURL != standIn {
		fmt.Printf("          signed with the endpoint's secret; to receive them, run in examples/receiver-node (after npm ci):\n")
		fmt.Printf("          WEBHOOK_SECRET=%s npm start\n", secret)
	}
	fmt.Printf(`
Buy something (WELCOME10 is the merchant's coupon, applied by its code at the checkout.discount hook):
  curl -s -XPOST %[1]s/checkout -d '{"items":[{"sku":"tee","quantity":2}],"coupon":"WELCOME10"}'
Pay for it (publishes order.paid):
  curl -s -XPOST %[1]s/orders/ORDER_ID/pay
See what Outlet delivered, attempt by attempt:
  export OUTLET_URL=%[2]s OUTLET_KEY=$(cat %[3]s)
  curl -s "$OUTLET_URL/v1/tenants/%[4]s/deliveries" -H "Authorization: Bearer $OUTLET_KEY"
`, shopURL, outletURL, keyFile, merchant)
}
