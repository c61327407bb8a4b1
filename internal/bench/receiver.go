package bench

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// receiver is a webhook receiver on loopback that answers 200 at once and
// records, per endpoint and message, when the first copy arrived and how long
// after the event's timestamp.
type receiver struct {
	srv      *http.Server
	url      string
	total    atomic.Int64 // every request, duplicates included
	mu       sync.Mutex
	seen     map[string]struct{}
	latency  []time.Duration
	first    time.Time
	last     time.Time
	expected int
	done     chan struct{}
}

func startReceiver(expected int) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String(), seen: make(map[string]struct{}, expected),
		latency: make([]time.Duration, 0, expected), expected: expected, done: make(chan struct{})}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

var timestampKey = []byte(`"timestamp":"`)

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	body, _ := io.ReadAll(req.Body)
	w.WriteHeader(http.StatusOK)
	r.total.Add(1)
	id := req.Header.Get("webhook-id")
	if id == "" {
		return // the baseline's plain posts
	}
	var lat time.Duration
	if i := bytes.Index(body, timestampKey); i >= 0 {
		rest := body[i+len(timestampKey):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			if ts, err := time.Parse(time.RFC3339Nano, string(rest[:j])); err == nil {
				lat = max(now.Sub(ts), 0)
			}
		}
	}
	key := req.URL.Path + " " + id
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.seen[key]; dup {
		return
	}
	r.seen[key] = struct{}{}
	r.latency = append(r.latency, lat)
	if r.first.IsZero() {
		r.first = now
	}
	r.last = now
	if len(r.seen) == r.expected {
		close(r.done)
	}
}

// unique returns how many distinct deliveries arrived.
func (r *receiver) unique() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

func (r *receiver) close() { r.srv.Close() }
