// Package metrics defines what Outlet reports to Prometheus.
package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/outlethq/outlet"
)

// Metrics holds every series Outlet exports. Labels never carry tenant or
// endpoint ids, so the number of series stays fixed however many there are.
type Metrics struct {
	Registry        *prometheus.Registry
	EventsPublished prometheus.Counter
	Deliveries      *prometheus.CounterVec // by final outcome: succeeded, failed
	Attempts        *prometheus.CounterVec // by result: success, failure
	AttemptSeconds  prometheus.Histogram
	Requests        *prometheus.CounterVec // API requests by route and status code
	RequestSeconds  *prometheus.HistogramVec
	Invocations     *prometheus.CounterVec // function runs by trigger (event, hook, test) and outcome (ok or error code)
	InvokeSeconds   *prometheus.HistogramVec
	HookCalls       *prometheus.CounterVec // hook invocations by how they were served and outcome
	LogsDropped     prometheus.Counter
	CircuitsOpen    prometheus.Gauge       // endpoints this node is not sending to because they keep failing
	Deferred        *prometheus.CounterVec // deliveries held back for later, by reason
	Throttled       prometheus.Counter     // publishes refused by a tenant's rate limit
}

// New registers Outlet's metrics, and Go's runtime ones, on a new registry.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		EventsPublished: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outlet_events_published_total", Help: "Events accepted by the publish API (replays of an idempotent publish not counted).",
		}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outlet_deliveries_total", Help: "Deliveries that finished, by outcome.",
		}, []string{"outcome"}),
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outlet_attempts_total", Help: "Delivery attempts made, by result.",
		}, []string{"result"}),
		AttemptSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "outlet_attempt_duration_seconds", Help: "Time from sending a webhook to having the receiver's whole answer.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outlet_api_requests_total", Help: "API requests answered, by route and status code.",
		}, []string{"route", "code"}),
		RequestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "outlet_api_request_duration_seconds", Help: "API request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	m.Invocations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "outlet_function_invocations_total", Help: "Function runs, by trigger and outcome (ok, or the error code).",
	}, []string{"trigger", "outcome"})
	m.InvokeSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "outlet_function_duration_seconds", Help: "Wall time of function runs, by runtime.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"runtime"})
	m.HookCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "outlet_hook_invocations_total", Help: "Hook invocations, by what served them (functions, endpoint, passthrough) and outcome.",
	}, []string{"served_by", "outcome"})
	m.LogsDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "outlet_function_logs_dropped_total", Help: "Function invocation logs not kept because the store fell behind.",
	})
	m.CircuitsOpen = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "outlet_endpoint_circuits_open", Help: "Endpoints this node has stopped sending to, after consecutive failures, until a probe succeeds.",
	})
	m.Deferred = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "outlet_deliveries_deferred_total", Help: "Deliveries put back in the store for later without an attempt, by reason (circuit_open, backlog).",
	}, []string{"reason"})
	m.Throttled = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "outlet_publish_throttled_total", Help: "Publishes refused with 429 by a tenant's publish rate limit.",
	})
	r.MustRegister(m.EventsPublished, m.Deliveries, m.Attempts, m.AttemptSeconds, m.Requests, m.RequestSeconds,
		m.Invocations, m.InvokeSeconds, m.HookCalls, m.LogsDropped, m.CircuitsOpen, m.Deferred, m.Throttled,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// QueueSource reports the state of the delivery queue.
type QueueSource interface {
	QueueStats(ctx context.Context) (outlet.QueueStats, error)
}

// WatchQueue exports the queue's depth and the age of its oldest due entry,
// read from src at most once per maxAge however often Prometheus scrapes.
func (m *Metrics) WatchQueue(src QueueSource, maxAge time.Duration, now func() time.Time) {
	q := &queueCollector{src: src, maxAge: maxAge, now: now,
		depth: prometheus.NewDesc("outlet_queue_depth", "Deliveries pending: waiting for an attempt, a retry, or in flight.", nil, nil),
		age: prometheus.NewDesc("outlet_queue_oldest_due_age_seconds",
			"How long the longest-waiting due delivery has been due; 0 when nothing is late.", nil, nil),
	}
	m.Registry.MustRegister(q)
}

type queueCollector struct {
	src          QueueSource
	maxAge       time.Duration
	now          func() time.Time
	depth, age   *prometheus.Desc
	mu           sync.Mutex
	readAt       time.Time
	last         outlet.QueueStats
	lastReadFail bool
}

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- q.depth
	ch <- q.age
}

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	if now.Sub(q.readAt) >= q.maxAge {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := q.src.QueueStats(ctx)
		cancel()
		q.readAt, q.lastReadFail = now, err != nil
		if err == nil {
			q.last = st
		}
	}
	if q.lastReadFail && q.last == (outlet.QueueStats{}) {
		return
	}
	age := 0.0
	if q.last.OldestDue != nil && now.After(*q.last.OldestDue) {
		age = now.Sub(*q.last.OldestDue).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(q.depth, prometheus.GaugeValue, float64(q.last.Pending))
	ch <- prometheus.MustNewConstMetric(q.age, prometheus.GaugeValue, age)
}

// WarmStats is what a node's warm function engines hold, by runtime
// ("javascript", "wasm").
type WarmStats struct {
	Engines map[string]int
	Bytes   map[string]uint64
}

// WatchWarm exports how many function engines are kept warm on this node and
// the bytes they hold, by runtime, read from src at each scrape.
func (m *Metrics) WatchWarm(src func() WarmStats) {
	m.Registry.MustRegister(&warmCollector{src: src,
		engines: prometheus.NewDesc("outlet_function_warm_engines", "Function engines (JavaScript VMs, Wasm instances) kept warm between calls.", []string{"runtime"}, nil),
		bytes: prometheus.NewDesc("outlet_function_warm_bytes",
			"Bytes the warm function engines hold, as their engines count them (see --function-warm-memory).", []string{"runtime"}, nil),
	})
}

type warmCollector struct {
	src            func() WarmStats
	engines, bytes *prometheus.Desc
}

func (c *warmCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.engines
	ch <- c.bytes
}

func (c *warmCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src()
	for _, rt := range []string{"javascript", "wasm"} {
		ch <- prometheus.MustNewConstMetric(c.engines, prometheus.GaugeValue, float64(st.Engines[rt]), rt)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(st.Bytes[rt]), rt)
	}
}
