// Package bench measures a running Outlet: how fast it accepts events and
// delivers them to receivers on loopback, and how that compares with a plain
// Go client posting straight to the same receivers.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options describe one run. Every loop is bounded by Events and Timeout.
type Options struct {
	URL string // a running Outlet
	// More nodes of the same Outlet (sharing its database): publishers take
	// turns over URL and these.
	MoreURLs    []string
	Key         string // its admin key
	Events      int
	Concurrency int // publishers
	Endpoints   int // receivers each event fans out to
	// DeadEndpoints are more endpoints each event fans out to, on a port of
	// 127.0.0.1 where nothing listens (every connection refused): what a
	// dead customer endpoint costs the healthy ones.
	DeadEndpoints int
	Size          int // bytes of event data
	Rate          int // events per second in all; 0: as fast as possible
	// Batch publishes events that many at a time, through the batch route;
	// 0 or 1 publishes them one by one.
	Batch     int
	Timeout   time.Duration // the whole run, publishing and delivering
	Baseline  bool          // also time a plain client against the receiver
	HookCalls int           // calls of a JavaScript hook to time one by one; 0 skips hooks
	Progress  io.Writer     // where to show progress; nil for none
	Keep      bool          // leave the run's tenant and its data in place
	// Servers, when set, read the processes of the Outlet being measured
	// (one a node), for their CPU time and memory.
	Servers []func() (Process, error)
}

// Result is what a run measured.
type Result struct {
	Events          int     `json:"events"`
	Endpoints       int     `json:"endpoints"`
	DeadEndpoints   int     `json:"dead_endpoints,omitempty"`
	Concurrency     int     `json:"concurrency"`
	Size            int     `json:"size_bytes"`
	Rate            int     `json:"target_rate"`
	Batch           int     `json:"batch,omitempty"`
	Accepted        int     `json:"accepted"`
	PublishErrors   int     `json:"publish_errors"`
	PublishPerSec   float64 `json:"publish_per_sec"`
	Delivered       int     `json:"delivered"`
	Duplicates      int     `json:"duplicates"`
	DeliverPerSec   float64 `json:"deliver_per_sec"`
	LatencyP50Ms    float64 `json:"latency_p50_ms"`
	LatencyP90Ms    float64 `json:"latency_p90_ms"`
	LatencyP99Ms    float64 `json:"latency_p99_ms"`
	BaselinePerSec  float64 `json:"baseline_per_sec,omitempty"`
	BaselineRatio   float64 `json:"baseline_ratio,omitempty"`
	HookCalls       int     `json:"hook_calls,omitempty"`
	HookFirstCallMs float64 `json:"hook_first_call_ms,omitempty"`
	HookP50Ms       float64 `json:"hook_p50_ms,omitempty"`
	HookP99Ms       float64 `json:"hook_p99_ms,omitempty"`
	BareP50Ms       float64 `json:"bare_handler_p50_ms,omitempty"`
	BareP99Ms       float64 `json:"bare_handler_p99_ms,omitempty"`
	ServerIdleRSSMB float64 `json:"server_idle_rss_mb,omitempty"`
	ServerPeakRSSMB float64 `json:"server_peak_rss_mb,omitempty"`
	// The CPU columns cover publishing and delivering, from the first
	// publish to the last delivery: the server's own processes, this one
	// (publishers and receiver), and every process of the machine (with a
	// database on the same machine, that includes it). Per event is per
	// event accepted, whatever its fan-out.
	ServerCPUSeconds     float64 `json:"server_cpu_seconds,omitempty"`
	ServerCPUPerEventMs  float64 `json:"server_cpu_per_event_ms,omitempty"`
	BenchCPUSeconds      float64 `json:"bench_cpu_seconds"`
	MachineCPUSeconds    float64 `json:"machine_cpu_seconds,omitempty"`
	MachineCPUPerEventMs float64 `json:"machine_cpu_per_event_ms,omitempty"`
	TimedOut             bool    `json:"timed_out"`
	PublishSeconds       float64 `json:"publish_seconds"`
	EndToEndSeconds      float64 `json:"end_to_end_seconds"`
	FirstErrorMessage    string  `json:"first_error,omitempty"`
}

// Run sets up a tenant with endpoints on an embedded receiver, publishes,
// waits for every delivery, and reports.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Events < 1 || o.Concurrency < 1 || o.Endpoints < 1 || o.Timeout <= 0 {
		return nil, fmt.Errorf("events, concurrency, endpoints and timeout must be positive")
	}
	if o.DeadEndpoints < 0 || o.DeadEndpoints > 100 {
		return nil, fmt.Errorf("dead endpoints must be 0 to 100")
	}
	if o.Rate < 0 || o.Rate > 1_000_000 {
		return nil, fmt.Errorf("rate must be 0 (as fast as possible) to 1,000,000 events/s")
	}
	if o.Batch < 0 || o.Batch > maxBatch {
		return nil, fmt.Errorf("batch must be 0 (one event a request) to %d events", maxBatch)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	res := &Result{Events: o.Events, Endpoints: o.Endpoints, DeadEndpoints: o.DeadEndpoints, Concurrency: o.Concurrency, Size: o.Size, Rate: o.Rate}
	if o.Batch > 1 {
		res.Batch = o.Batch
	}
	rcv, err := startReceiver(o.Events * o.Endpoints)
	if err != nil {
		return nil, err
	}
	defer rcv.close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency + 8, MaxIdleConns: o.Concurrency + 8}}
	api := &apiClient{http: client, url: strings.TrimRight(o.URL, "/"), key: o.Key, accepted: new(atomic.Int64)}
	nodes := []*apiClient{api}
	for _, u := range o.MoreURLs {
		nodes = append(nodes, &apiClient{http: client, url: strings.TrimRight(u, "/"), key: o.Key, accepted: api.accepted})
	}

	tenant := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	if err := api.do(ctx, "POST", "/v1/tenants", map[string]any{"id": tenant, "name": "outlet bench"}, nil); err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	if !o.Keep {
		defer api.do(context.Background(), "DELETE", "/v1/tenants/"+tenant, nil, nil)
	}
	for i := range o.Endpoints {
		body := map[string]any{"url": fmt.Sprintf("%s/e/%d", rcv.url, i), "description": "outlet bench receiver"}
		if err := api.do(ctx, "POST", "/v1/tenants/"+tenant+"/endpoints", body, nil); err != nil {
			return nil, fmt.Errorf("create endpoint: %w", err)
		}
	}
	if o.DeadEndpoints > 0 {
		dead, err := deadURL()
		if err != nil {
			return nil, err
		}
		for i := range o.DeadEndpoints {
			body := map[string]any{"url": fmt.Sprintf("%s/%d", dead, i), "description": "outlet bench: nothing listens here"}
			if err := api.do(ctx, "POST", "/v1/tenants/"+tenant+"/endpoints", body, nil); err != nil {
				return nil, fmt.Errorf("create dead endpoint: %w", err)
			}
		}
	}
	for _, s := range o.Servers {
		if p, err := s(); err == nil {
			res.ServerIdleRSSMB += mb(p.RSS)
		}
	}

	cpu := cpuMeter{servers: o.Servers}
	cpu.start()
	start := time.Now()
	stopProgress := showProgress(o.Progress, start, o.Events, func() (int, int) {
		return int(api.accepted.Load()), rcv.unique()
	}, o.Events*o.Endpoints)
	publish(ctx, nodes, tenant, o, res)
	res.PublishSeconds = time.Since(start).Seconds()
	res.PublishPerSec = float64(res.Accepted) / res.PublishSeconds

	expected := res.Accepted * o.Endpoints
	rcv.mu.Lock()
	rcv.expected = expected
	if len(rcv.seen) >= expected {
		select {
		case <-rcv.done:
		default:
			close(rcv.done)
		}
	}
	rcv.mu.Unlock()
	select {
	case <-rcv.done:
	case <-ctx.Done():
		res.TimedOut = true
	}
	cpu.stop(res)
	stopProgress()
	rcv.mu.Lock()
	res.Delivered = len(rcv.seen)
	res.EndToEndSeconds = rcv.last.Sub(start).Seconds()
	lat := slices.Clone(rcv.latency)
	rcv.mu.Unlock()
	res.Duplicates = int(rcv.total.Load()) - res.Delivered
	if res.EndToEndSeconds > 0 {
		res.DeliverPerSec = float64(res.Delivered) / res.EndToEndSeconds
	}
	slices.Sort(lat)
	res.LatencyP50Ms, res.LatencyP90Ms, res.LatencyP99Ms = pct(lat, 50), pct(lat, 90), pct(lat, 99)
	if o.HookCalls > 0 {
		if err := measureHooks(ctx, api, tenant, o.HookCalls, res); err != nil {
			return nil, fmt.Errorf("hooks: %w", err)
		}
	}
	if o.Baseline {
		n := o.Events * o.Endpoints
		res.BaselinePerSec = baseline(ctx, client, rcv.url+"/baseline", n, o.Concurrency, o.Size)
		if res.BaselinePerSec > 0 {
			res.BaselineRatio = res.DeliverPerSec / res.BaselinePerSec
		}
	}
	return res, nil
}

// maxBatch is the most events the batch route takes at once.
const maxBatch = 1000

// publish sends the run's events from o.Concurrency publishers, each taking
// the next o.Batch of them (one, without batches) until none are left, and
// paced by o.Rate in events per second when it is set.
func publish(ctx context.Context, nodes []*apiClient, tenant string, o Options, res *Result) {
	data := map[string]any{"pad": strings.Repeat("x", max(o.Size-20, 0))}
	event, _ := json.Marshal(map[string]any{"type": "bench.event", "data": data})
	batch := max(o.Batch, 1)
	path := "/v1/tenants/" + tenant + "/events"
	body := func(n int) []byte { return event }
	if o.Batch > 1 {
		path += "/batch"
		body = func(n int) []byte {
			b := append([]byte(`{"events":[`), bytes.Repeat(append(event, ','), n)...)
			return append(b[:len(b)-1], "]}"...)
		}
	}
	full := body(batch)
	var next atomic.Int64
	var tick <-chan time.Time
	if o.Rate > 0 {
		// One tick a request: a batch of n takes n events' time.
		t := time.NewTicker(time.Duration(batch) * time.Second / time.Duration(o.Rate))
		defer t.Stop()
		tick = t.C
	}
	var mu sync.Mutex
	fail := func(n int, err error) {
		mu.Lock()
		defer mu.Unlock()
		res.PublishErrors += n
		if res.FirstErrorMessage == "" {
			res.FirstErrorMessage = err.Error()
		}
	}
	var wg sync.WaitGroup
	for i := range o.Concurrency {
		api := nodes[i%len(nodes)]
		wg.Go(func() {
			for {
				end := next.Add(int64(batch))
				n := batch - int(max(end-int64(o.Events), 0))
				if n <= 0 {
					return
				}
				if tick != nil {
					select {
					case <-tick:
					case <-ctx.Done():
						return
					}
				}
				b := full
				if n < batch {
					b = body(n)
				}
				var out batchResult
				var dst any
				if o.Batch > 1 {
					dst = &out
				}
				if err := api.doRaw(ctx, "POST", path, b, dst); err != nil {
					fail(n, err)
					if ctx.Err() != nil {
						return
					}
					continue
				}
				accepted := n
				for _, r := range out.Results {
					if r.Error != nil {
						accepted--
						fail(1, fmt.Errorf("an event of a batch was refused: %s: %s", r.Error.Code, r.Error.Message))
					}
				}
				api.accepted.Add(int64(accepted))
			}
		})
	}
	wg.Wait()
	res.Accepted = int(nodes[0].accepted.Load())
}

// batchResult is as much of a batch publish's answer as a run reads.
type batchResult struct {
	Results []struct {
		Error *struct{ Code, Message string } `json:"error"`
	} `json:"results"`
}

// baseline posts n bodies of the given size straight to url with c workers
// and returns requests per second.
func baseline(ctx context.Context, client *http.Client, url string, n, c, size int) float64 {
	body := bytes.Repeat([]byte("x"), size)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	var done atomic.Int64
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds()
}

func pct(sorted []time.Duration, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, (len(sorted)*p+99)/100-1)
	return float64(sorted[max(i, 0)].Microseconds()) / 1000
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

func showProgress(w io.Writer, start time.Time, events int, counts func() (int, int), deliveries int) func() {
	if w == nil {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprintln(w)
				return
			case <-t.C:
				acc, del := counts()
				fmt.Fprintf(w, "\r%5.0fs  published %d/%d  delivered %d/%d   ", time.Since(start).Seconds(), acc, events, del, deliveries)
			}
		}
	}()
	return func() { close(stop); <-done }
}

type apiClient struct {
	http     *http.Client
	url, key string
	accepted *atomic.Int64 // shared by the clients of one run's nodes
}

func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	return c.doRaw(ctx, method, path, body, out)
}

func (c *apiClient) doRaw(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// deadURL is a URL on 127.0.0.1 where nothing listens: a port taken from
// the system and let go at once.
func deadURL() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port for dead endpoints: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/dead", nil
}
