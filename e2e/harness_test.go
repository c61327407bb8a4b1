// Package e2e tests Outlet through its real binary: every test starts
// `outlet serve` as a child process and talks to it over HTTP, as a platform
// and its customers' receivers would.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/outlethq/outlet/internal/testwait"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "outlet-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "outlet")
	build := exec.Command("go", "build", "-o", binary, "../cmd/outlet")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building outlet:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const adminKey = "olk_admin_e2e_0123456789abcdef"

// server is one running `outlet serve`.
type server struct {
	t    *testing.T
	url  string
	data string
	args []string
	env  []string // added to the environment, e.g. the OUTLET_SECRET_KEY nodes share
	cmd  *exec.Cmd
	logs *logBuffer
	done chan struct{}
	exit error
}

// startServer runs outlet serve on a free loopback port with a fresh data
// directory and the given extra flags. Private networks are allowed, since
// receivers in tests live on 127.0.0.1.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{t: t, data: t.TempDir(), args: args}
	s.start()
	t.Cleanup(func() { s.kill() })
	return s
}

func (s *server) start() {
	s.t.Helper()
	// A test that needs the network policy on passes --allow-private-networks=false,
	// which wins over the default here because it comes later.
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", s.data, "--log-format", "json", "--allow-private-networks"}, s.args...)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = append(append(os.Environ(), "OUTLET_ADMIN_KEY="+adminKey), s.env...)
	s.logs = &logBuffer{}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd.Stdout = s.logs
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.logs.Write([]byte(line + "\n"))
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "outlet is listening" {
				addr <- rec.Addr
			}
		}
	}()
	go func() {
		s.exit = s.cmd.Wait()
		close(s.done)
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
		watchAPI(s.t, s.url)
	case <-s.done:
		s.t.Fatalf("outlet serve exited before listening: %v\n%s", s.exit, s.logs)
	case <-time.After(30 * time.Second):
		s.t.Fatalf("outlet serve did not start listening within 30s\n%s", s.logs)
	}
}

// restart stops the server gracefully and starts it again on the same data.
func (s *server) restart() {
	s.t.Helper()
	s.stop()
	s.start()
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.t.Fatalf("outlet serve did not exit within 60s of SIGTERM\n%s", s.logs)
	}
	if s.exit != nil {
		s.t.Fatalf("outlet serve exited with %v after SIGTERM\n%s", s.exit, s.logs)
	}
}

// kill stops the server with SIGKILL, as a crash would.
func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
		<-s.done
	}
}

// call makes an API request with key and decodes the JSON answer into out
// (if not nil); it returns the status.
func (s *server) call(key, method, path string, body any, out any) int {
	s.t.Helper()
	return s.callWithHeaders(key, method, path, body, nil, out)
}

func (s *server) callWithHeaders(key, method, path string, body any, headers map[string]string, out any) int {
	s.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	if err != nil {
		s.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// must makes an admin call that must answer want.
func (s *server) must(want int, method, path string, body any, out any) {
	s.t.Helper()
	var raw json.RawMessage
	got := s.call(adminKey, method, path, body, &raw)
	if got != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatal(err)
		}
	}
}

// tenant creates a tenant and returns its id.
func (s *server) tenant(id string) string {
	s.t.Helper()
	s.must(201, "POST", "/v1/tenants", map[string]any{"id": id, "name": id}, nil)
	return id
}

type endpoint struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
	URL    string `json:"url"`
}

func (s *server) endpoint(tenant string, body map[string]any) endpoint {
	s.t.Helper()
	var ep endpoint
	s.must(201, "POST", "/v1/tenants/"+tenant+"/endpoints", body, &ep)
	return ep
}

func (s *server) publish(tenant, typ string, data any) string {
	s.t.Helper()
	var ev struct{ ID string }
	s.must(202, "POST", "/v1/tenants/"+tenant+"/events", map[string]any{"type": typ, "data": data}, &ev)
	return ev.ID
}

type delivery struct {
	ID       string `json:"id"`
	EventID  string `json:"event_id"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	Target   struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"target"`
}

type attempt struct {
	Number          int               `json:"number"`
	Trigger         string            `json:"trigger"`
	StatusCode      int               `json:"status_code"`
	ResponseBody    string            `json:"response_body"`
	ResponseHeaders map[string]string `json:"response_headers"`
	DurationMs      int64             `json:"duration_ms"`
	Error           string            `json:"error"`
	Succeeded       bool              `json:"succeeded"`
}

func (s *server) deliveries(tenant, query string) []delivery {
	s.t.Helper()
	var l struct{ Data []delivery }
	s.must(200, "GET", "/v1/tenants/"+tenant+"/deliveries?"+query, nil, &l)
	return l.Data
}

// waitDelivery waits until the one delivery of an event has the status, and
// returns it.
func (s *server) waitDelivery(tenant, eventID, status string, timeout time.Duration) delivery {
	s.t.Helper()
	var d delivery
	testwait.Within(s.t, timeout, "the delivery of "+eventID+" to be "+status, func() bool {
		ds := s.deliveries(tenant, "event_id="+eventID)
		if len(ds) == 1 {
			d = ds[0]
		}
		return len(ds) == 1 && d.Status == status
	})
	return d
}

// waitIdle waits until the tenant has no pending delivery. From then on
// nothing more is sent for it until something new is published or retried,
// so what receivers got can be counted.
func (s *server) waitIdle(tenant string, timeout time.Duration) {
	s.t.Helper()
	testwait.Within(s.t, timeout, "every delivery of "+tenant+" to finish", func() bool {
		return len(s.deliveries(tenant, "status=pending&limit=1")) == 0
	})
}

func (s *server) attempts(tenant, deliveryID string) []attempt {
	s.t.Helper()
	var l struct{ Data []attempt }
	s.must(200, "GET", "/v1/tenants/"+tenant+"/deliveries/"+deliveryID+"/attempts", nil, &l)
	return l.Data
}

// metrics returns the Prometheus exposition.
func (s *server) metrics() string {
	s.t.Helper()
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// publisherPool drives a load: several publishers, each a goroutine, take the
// next number of 0..n-1 and publish it, until every number is taken or the
// load is stopped. A load embeds the pool; its publishes send with the pool's
// context and client.
type publisherPool struct {
	ctx    context.Context
	cancel context.CancelFunc
	client *http.Client
	next   atomic.Int64
	done   chan struct{} // closed once every publisher has returned
}

// start runs publish(i) for each i in 0..n-1 from count goroutines, with a
// client that gives up on an answer after timeout. The test's cleanup stops
// them and waits, so that no publish outlives the test.
func (p *publisherPool) start(t *testing.T, n, count int, timeout time.Duration, publish func(i int)) {
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.done = make(chan struct{})
	p.client = &http.Client{
		Timeout:   timeout, // longer is a hang
		Transport: &http.Transport{MaxIdleConnsPerHost: count, DialContext: (&net.Dialer{Timeout: time.Second}).DialContext},
	}
	var wg sync.WaitGroup
	for range count {
		wg.Go(func() {
			for i := int(p.next.Add(1) - 1); i < n && p.ctx.Err() == nil; i = int(p.next.Add(1) - 1) {
				publish(i)
			}
		})
	}
	go func() {
		wg.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cancel()
		<-p.done
		p.client.CloseIdleConnections()
	})
}

// wait waits until every publisher has returned. After timeout it fails the
// test and stops them, but doesn't stop the test, so that what was answered
// can still be checked.
func (p *publisherPool) wait(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Errorf("the publishers did not finish within %s", timeout)
		p.cancel()
		<-p.done // each publisher is at most one client timeout away
	}
}

// receiver is a webhook receiver on loopback. It answers with the statuses
// queued by respond, then 200.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	got      []*http.Request
	bodies   [][]byte
	at       []time.Time
	replies  []reply
	holdNext chan struct{}
}

type reply struct {
	status  int
	headers map[string]string
	body    string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, req)
	r.bodies = append(r.bodies, body)
	r.at = append(r.at, time.Now())
	rep := reply{status: 200, body: `{"ok":true}`}
	if len(r.replies) > 0 {
		rep, r.replies = r.replies[0], r.replies[1:]
	}
	hold := r.holdNext
	r.holdNext = nil
	r.mu.Unlock()
	if hold != nil {
		<-hold
	}
	for k, v := range rep.headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

// respond queues answers for the next requests.
func (r *receiver) respond(replies ...reply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replies = append(r.replies, replies...)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// request returns the i-th request received and its body.
func (r *receiver) request(i int) (*http.Request, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[i], r.bodies[i]
}

func (r *receiver) waitCount(n int, timeout time.Duration) {
	r.t.Helper()
	testwait.Within(r.t, timeout, fmt.Sprintf("%d webhook requests (have %d)", n, r.count()), func() bool { return r.count() >= n })
}

// verify checks request i's signature with the Standard Webhooks library.
func (r *receiver) verify(i int, secret string) error {
	req, body := r.request(i)
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	return wh.Verify(body, req.Header)
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
