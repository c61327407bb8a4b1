package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/bench"
)

func newBenchCmd() *cobra.Command {
	var o bench.Options
	var asJSON, quiet bool
	var serveArgs string
	var pids []int
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure publish and delivery throughput against receivers on loopback",
		Long: `Measure how fast Outlet accepts events and delivers them.

Without --url, bench starts its own 'outlet serve' (this binary, a fresh data
directory in a temporary folder, private networks allowed) and reports its
memory too. It runs a webhook receiver on 127.0.0.1 that answers 200 at once,
creates a tenant with --endpoints endpoints on it, publishes --events events
of --size bytes from --concurrency publishers (--batch at a time, through the
batch route, when it is given), and waits until every delivery
has arrived or --timeout passes. Then, for comparison, it times a plain Go
client posting the same number of requests straight to the receiver.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if !cmd.Flags().Changed("url") {
				o.URL = os.Getenv("OUTLET_URL")
			}
			if !cmd.Flags().Changed("key") {
				o.Key = os.Getenv("OUTLET_KEY")
			}
			if o.URL == "" {
				srv, err := startBenchServer(ctx, strings.Fields(serveArgs))
				if err != nil {
					return err
				}
				defer srv.stop()
				o.URL, o.Key = srv.url, srv.key
				pids = []int{srv.cmd.Process.Pid}
			} else if o.Key == "" {
				return fmt.Errorf("--key (or OUTLET_KEY) is required with --url: give the admin key")
			}
			for _, pid := range pids {
				if _, err := bench.ReadProcess(pid); err != nil {
					return fmt.Errorf("--server-pids: %w", err)
				}
				o.Servers = append(o.Servers, func() (bench.Process, error) { return bench.ReadProcess(pid) })
			}
			if !quiet {
				o.Progress = cmd.ErrOrStderr()
			}
			res, err := bench.Run(ctx, o)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			printBench(cmd.OutOrStdout(), res)
			return nil
		},
	}
	f := cmd.Flags()
	// The environment is read when the command runs, so help never shows the key.
	f.StringVar(&o.URL, "url", "", "a running Outlet to measure; empty starts one [$OUTLET_URL]")
	f.StringSliceVar(&o.MoreURLs, "more-urls", nil, "with --url: more nodes of the same Outlet (sharing its database); publishers take turns over all of them")
	f.StringVar(&o.Key, "key", "", "the admin key of the Outlet at --url [$OUTLET_KEY]")
	f.IntVar(&o.Events, "events", 20000, "events to publish")
	f.IntVar(&o.Concurrency, "concurrency", 32, "concurrent publishers")
	f.IntVar(&o.Endpoints, "endpoints", 1, "endpoints each event fans out to")
	f.IntVar(&o.DeadEndpoints, "dead-endpoints", 0, "more endpoints each event fans out to, where nothing listens (connection refused); the rates count the healthy ones")
	f.IntVar(&o.Size, "size", 1024, "bytes of data per event")
	f.IntVar(&o.Rate, "rate", 0, "events per second to publish in all; 0 publishes as fast as the server accepts")
	f.IntVar(&o.Batch, "batch", 0, "publish events this many at a time (1 to 1000) through the batch route; 0 publishes them one by one")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "give up after this long")
	f.BoolVar(&o.Baseline, "baseline", true, "also time a plain Go client posting straight to the receiver")
	f.IntVar(&o.HookCalls, "hook-calls", 0, "after the events, time this many calls of a JavaScript function at a hook, one at a time, beside a bare Go handler")
	f.IntSliceVar(&pids, "server-pids", nil, "with --url: the process ids of the Outlet nodes measured, to report their CPU time and memory")
	f.StringVar(&serveArgs, "serve-args", "", "extra flags for the server bench starts, e.g. \"--workers 128\"")
	f.BoolVar(&o.Keep, "keep", false, "leave the run's tenant, its events and deliveries in place (to look at what they take in the database)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.BoolVar(&quiet, "quiet", false, "don't show progress")
	return cmd
}

func printBench(w io.Writer, r *bench.Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "events\t%d × %d B, %d publishers, %d endpoint(s)\n", r.Events, r.Size, r.Concurrency, r.Endpoints)
	if r.Batch > 1 {
		fmt.Fprintf(tw, "batches\t%d events a request\n", r.Batch)
	}
	if r.DeadEndpoints > 0 {
		fmt.Fprintf(tw, "dead endpoints\t%d (connection refused), not counted below\n", r.DeadEndpoints)
	}
	if r.Rate > 0 {
		fmt.Fprintf(tw, "target rate\t%d events/s\n", r.Rate)
	}
	fmt.Fprintf(tw, "accepted\t%d (%d errors)\n", r.Accepted, r.PublishErrors)
	fmt.Fprintf(tw, "publish rate\t%.0f events/s\n", r.PublishPerSec)
	fmt.Fprintf(tw, "delivered\t%d (+%d duplicates)\n", r.Delivered, r.Duplicates)
	fmt.Fprintf(tw, "delivery rate\t%.0f deliveries/s (end to end)\n", r.DeliverPerSec)
	fmt.Fprintf(tw, "accept→receive\tp50 %.1f ms   p90 %.1f ms   p99 %.1f ms\n", r.LatencyP50Ms, r.LatencyP90Ms, r.LatencyP99Ms)
	if r.BaselinePerSec > 0 {
		fmt.Fprintf(tw, "plain Go client\t%.0f requests/s (Outlet delivers at %.0f%% of it)\n", r.BaselinePerSec, 100*r.BaselineRatio)
	}
	if r.HookCalls > 0 {
		fmt.Fprintf(tw, "hook call\tp50 %.2f ms   p99 %.2f ms   (%d calls; first after deploy %.1f ms)\n", r.HookP50Ms, r.HookP99Ms, r.HookCalls, r.HookFirstCallMs)
		fmt.Fprintf(tw, "bare Go handler\tp50 %.2f ms   p99 %.2f ms   (Outlet adds %.2f ms at p50)\n", r.BareP50Ms, r.BareP99Ms, r.HookP50Ms-r.BareP50Ms)
	}
	if r.ServerPeakRSSMB > 0 {
		fmt.Fprintf(tw, "server memory\tidle %.0f MB, peak %.0f MB\n", r.ServerIdleRSSMB, r.ServerPeakRSSMB)
		fmt.Fprintf(tw, "server CPU\t%.2f s, %.3f ms per event\n", r.ServerCPUSeconds, r.ServerCPUPerEventMs)
	}
	if r.MachineCPUSeconds > 0 {
		fmt.Fprintf(tw, "machine CPU\t%.2f s, %.3f ms per event (every process, this one's %.2f s included)\n", r.MachineCPUSeconds, r.MachineCPUPerEventMs, r.BenchCPUSeconds)
	}
	if r.FirstErrorMessage != "" {
		fmt.Fprintf(tw, "first error\t%s\n", r.FirstErrorMessage)
	}
	if r.TimedOut {
		fmt.Fprintf(tw, "TIMED OUT\tnot every delivery arrived within --timeout\n")
	}
	tw.Flush()
}

// benchServer is an `outlet serve` started by bench.
type benchServer struct {
	cmd  *exec.Cmd
	url  string
	key  string
	data string
}

func startBenchServer(ctx context.Context, extra []string) (*benchServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	data, err := os.MkdirTemp("", "outlet-bench-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	key := outlet.NewAPIKeySecret()
	args := append([]string{"serve", "--data", data, "--addr", addr, "--allow-private-networks", "--log-level", "warn"}, extra...)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "OUTLET_ADMIN_KEY="+key)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &benchServer{cmd: cmd, url: "http://" + addr, key: key, data: data}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("the server bench started did not become ready at %s", s.url)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *benchServer) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(s.data)
}
