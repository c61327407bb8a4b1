package e2e

// These tests hold Outlet to the promise behind every 202: an accepted event
// is durably stored, so it is delivered however the node dies. They flood the
// real binary with publishes, then kill it with SIGKILL (no drain) or cut its
// Postgres database off, and count what the receiver got.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet/internal/testwait"
)

func TestNothingAcceptedIsLostWhenTheNodeIsKilled(t *testing.T) {
	t.Parallel()
	const events = 3000
	// Few attempts in flight let a backlog of accepted, unsent events build
	// up, so the kill catches some in memory as well as some on the wire.
	s := startServer(t, "--endpoint-max-in-flight", "2")
	logsOnFailure(t, s)
	rcv := newIDReceiver(t)
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})

	l := startLoad(t, tenant, events, 16, s.url)
	l.waitAccepted(events/3, 20*time.Second)
	atKill := l.acceptedIDs()
	s.crash()
	t.Logf("killed the node with %d of %d events accepted, %d of them received", len(atKill), events, rcv.countOf(atKill))
	s.start()
	l.route(s.url)

	l.finish(45 * time.Second)
	accepted := l.acceptedIDs()
	rcv.waitAll(t, accepted, 30*time.Second)
	checkAllSucceeded(t, s, tenant, accepted, 30*time.Second)
	t.Logf("%d publishes failed while the node was down and were sent again", l.failures())
}

func TestTwoNodesOnPostgresShareWorkAndSurviveAKill(t *testing.T) {
	t.Parallel()
	const events = 3000
	db := postgresSchema(t)
	env := []string{"OUTLET_SECRET_KEY=" + randomHex(32)}
	// Claims of a dead node come back after the lease; the attempt timeout is
	// short so that a lease this short is valid. Few attempts in flight let
	// each node hold a backlog, which the survivor must take over.
	flags := []string{"--database", db, "--lease", "3s", "--attempt-timeout", "1s", "--endpoint-max-in-flight", "2"}
	a := startNode(t, env, flags...)
	b := startNode(t, env, flags...)
	logsOnFailure(t, a, b)
	rcv := newIDReceiver(t)
	tenant := a.tenant("acme")
	a.endpoint(tenant, map[string]any{"url": rcv.srv.URL})

	l := startLoad(t, tenant, events, 16, a.url, b.url)
	l.waitAccepted(events/3, 20*time.Second)
	testwait.Within(t, 10*time.Second, "both nodes to have delivered some events", func() bool {
		return successfulAttempts(t, a) > 0 && successfulAttempts(t, b) > 0
	})
	t.Logf("before the kill: node a made %v successful attempts, node b %v", successfulAttempts(t, a), successfulAttempts(t, b))
	// Holding the receiver's answers (for less than the attempt timeout)
	// lets both nodes pile up accepted events they hold but haven't sent:
	// node b's must be taken over by node a once b's lease runs out.
	rcv.pause()
	testwait.Within(t, 5*time.Second, "accepted events to pile up unsent", func() bool {
		accepted := l.acceptedIDs()
		return len(accepted)-rcv.countOf(accepted) >= 100
	})
	atKill := l.acceptedIDs()
	killedAt := time.Now()
	b.crash()
	rcv.resume()
	l.route(a.url)
	unsent := len(atKill) - rcv.countOf(atKill)
	t.Logf("killed node b with %d of %d events accepted, %d of them not received yet", len(atKill), events, unsent)
	if unsent == 0 {
		t.Errorf("every accepted event had arrived when node b was killed; nothing was left to take over")
	}

	l.finish(45 * time.Second)
	accepted := l.acceptedIDs()
	rcv.waitAll(t, accepted, 40*time.Second)
	t.Logf("every accepted event arrived %s after the kill", time.Since(killedAt).Round(time.Millisecond))
	checkAllSucceeded(t, a, tenant, accepted, 30*time.Second)
	t.Logf("%d publishes failed when node b died and were sent again to node a", l.failures())
}

func TestPostgresOutageAnswers503AndLosesNothing(t *testing.T) {
	t.Parallel()
	const events = 1500
	db, cutOff, restore := postgresDatabase(t)
	s := startNode(t, nil, "--database", db, "--lease", "3s", "--attempt-timeout", "1s")
	logsOnFailure(t, s)
	rcv := newIDReceiver(t)
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})

	l := startLoad(t, tenant, events, 8, s.url)
	l.waitAccepted(events/4, 20*time.Second)
	cutOff()
	down := time.Now()
	// A publish that began before the backends were terminated may still be
	// finishing; from here on, nothing can reach the database.
	settled := down.Add(300 * time.Millisecond)
	testwait.Within(t, 5*time.Second, "/readyz to answer 503 while the database is unreachable", func() bool {
		return statusOf(t, s.url+"/readyz") == http.StatusServiceUnavailable
	})
	// Sampled for a fixed time, as the test must show that something does not
	// happen: /readyz doesn't turn ready while the database is unreachable.
	for time.Since(down) < 2*time.Second {
		if got := statusOf(t, s.url+"/readyz"); got != http.StatusServiceUnavailable {
			t.Errorf("/readyz answered %d while the database was unreachable; want 503", got)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	up := time.Now()
	restore()
	testwait.Within(t, 20*time.Second, "publishes to be accepted again after the database came back", func() bool {
		return l.acceptedSince(up)
	})
	t.Logf("publishes were accepted again %s after the database came back", l.firstAcceptedSince(up).Sub(up).Round(time.Millisecond))

	l.finish(45 * time.Second)
	accepted := l.acceptedIDs()

	// Each kind of wrong answer is reported once, with its count and an
	// example, rather than once per publish.
	wrong := map[string][]publishAnswer{}
	var during, refused int
	for _, a := range l.answerLog() {
		switch {
		case a.err != nil:
			wrong["got no answer (the node never died)"] = append(wrong["got no answer (the node never died)"], a)
		case a.status >= 500 && a.status != http.StatusServiceUnavailable:
			k := fmt.Sprintf("answered %d; a store outage must be 503", a.status)
			wrong[k] = append(wrong[k], a)
		case a.status == http.StatusServiceUnavailable:
			refused++
			if a.retryAfter == "" {
				wrong["answered 503 without Retry-After"] = append(wrong["answered 503 without Retry-After"], a)
			}
		}
		if a.sent.After(settled) && a.got.Before(up) {
			during++
			if a.status != http.StatusServiceUnavailable {
				k := fmt.Sprintf("answered %d during the outage; want 503", a.status)
				wrong[k] = append(wrong[k], a)
			}
		}
	}
	for what, as := range wrong {
		a := as[0]
		t.Errorf("%d publishes %s; e.g. event %d sent at %s: %d %v %s",
			len(as), what, a.event, a.sent.Format("15:04:05.000"), a.status, a.err, a.body)
	}
	if during == 0 {
		t.Errorf("no publish was answered during the outage; the test did not test it")
	}
	t.Logf("%d publishes answered during the outage, %d refused with 503 in all", during, refused)

	rcv.waitAll(t, accepted, 30*time.Second)
	checkAllSucceeded(t, s, tenant, accepted, 30*time.Second)
}

// startNode starts outlet serve with more environment, as nodes sharing a
// database need (the same OUTLET_SECRET_KEY).
func startNode(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	s := &server{t: t, data: t.TempDir(), args: args, env: env}
	s.start()
	t.Cleanup(func() { s.kill() })
	return s
}

// logsOnFailure shows the end of each node's logs if the test fails.
func logsOnFailure(t *testing.T, nodes ...*server) {
	t.Cleanup(func() {
		if t.Failed() {
			for i, s := range nodes {
				t.Logf("the last logs of node %d:\n%s", i, lastLines(s.logs.String(), 40))
			}
		}
	})
}

// crash kills the node with SIGKILL, as a power cut or the OOM killer would:
// no drain, no released claims.
func (s *server) crash() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Fatal("outlet serve outlived SIGKILL by 10s")
	}
}

// idReceiver answers every webhook 200 after up to 2ms, so that attempts are
// in flight when the node dies, and counts the webhook-ids it got. While
// paused, it holds its answers.
type idReceiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	seen   map[string]int
	paused chan struct{} // closed on resume; nil when not paused
}

func newIDReceiver(t *testing.T) *idReceiver {
	r := &idReceiver{seen: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.seen[req.Header.Get("webhook-id")]++
		paused := r.paused
		r.mu.Unlock()
		if paused != nil {
			select {
			case <-paused:
			case <-time.After(5 * time.Second):
			}
		}
		time.Sleep(time.Duration(mrand.IntN(2001)) * time.Microsecond)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	t.Cleanup(r.resume) // before Close, which waits for the requests held
	return r
}

func (r *idReceiver) pause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused == nil {
		r.paused = make(chan struct{})
	}
}

func (r *idReceiver) resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused != nil {
		close(r.paused)
		r.paused = nil
	}
}

// countOf returns how many of ids arrived.
func (r *idReceiver) countOf(ids map[string]bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id := range ids {
		if r.seen[id] > 0 {
			n++
		}
	}
	return n
}

// waitAll waits until every accepted event arrived, then checks that nothing
// else did: a duplicate is allowed (an attempt cut short by the crash is sent
// again) but only under its event's webhook-id.
func (r *idReceiver) waitAll(t *testing.T, accepted map[string]bool, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for r.countOf(accepted) < len(accepted) {
		if time.Now().After(deadline) {
			var missing []string
			r.mu.Lock()
			for id := range accepted {
				if r.seen[id] == 0 {
					missing = append(missing, id)
				}
			}
			r.mu.Unlock()
			sort.Strings(missing)
			t.Fatalf("%d of %d accepted events never arrived within %s: %v", len(missing), len(accepted), timeout, firstN(missing, 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	requests, dups := 0, 0
	for id, n := range r.seen {
		requests += n
		if !accepted[id] {
			t.Errorf("the receiver got webhook-id %q %d times; no publish was answered 202 with that id", id, n)
		}
		dups += n - 1
	}
	t.Logf("%d accepted events arrived in %d requests: %d duplicates", len(accepted), requests, dups)
}

// checkAllSucceeded waits until no delivery is pending, then checks that each
// accepted event has exactly one delivery, succeeded, and no other event has
// any.
func checkAllSucceeded(t *testing.T, s *server, tenant string, accepted map[string]bool, timeout time.Duration) {
	t.Helper()
	testwait.Within(t, timeout, "no delivery to be pending", func() bool {
		return len(s.deliveries(tenant, "status=pending&limit=1")) == 0
	})
	byEvent := map[string][]delivery{}
	query := "limit=250"
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the deliveries list did not end after 1000 pages")
		}
		var l struct {
			Data       []delivery
			NextCursor *string `json:"next_cursor"`
		}
		s.must(200, "GET", "/v1/tenants/"+tenant+"/deliveries?"+query, nil, &l)
		for _, d := range l.Data {
			byEvent[d.EventID] = append(byEvent[d.EventID], d)
		}
		if l.NextCursor == nil {
			break
		}
		query = "limit=250&cursor=" + url.QueryEscape(*l.NextCursor)
	}
	bad := 0
	for id := range accepted {
		if ds := byEvent[id]; len(ds) != 1 || ds[0].Status != "succeeded" {
			if bad++; bad <= 10 {
				t.Errorf("event %s has deliveries %+v; want one, succeeded", id, ds)
			}
		}
	}
	for id, ds := range byEvent {
		if !accepted[id] {
			t.Errorf("event %s was never answered 202 yet has deliveries %+v", id, ds)
		}
	}
	if bad > 10 {
		t.Errorf("... %d accepted events in all lack a succeeded delivery", bad)
	}
}

// load publishes events numbered 0..n-1 from several publishers, as a careful
// platform does: each under its own Idempotency-Key, and a publish that gets
// no answer, a 5xx or a 429 is sent again with the same key — to whichever
// node is live then — until it is answered 202.
type load struct {
	publisherPool
	t      *testing.T
	tenant string
	n      int
	urls   atomic.Pointer[[]string]

	mu       sync.Mutex
	accepted map[int]string // event number → event id
	answers  []publishAnswer
}

type publishAnswer struct {
	event      int
	sent, got  time.Time
	status     int // 0 when no answer came
	retryAfter string
	body       string
	err        error
}

// startLoad starts publishing n events from that many publishers; event i
// goes to urls[i%len(urls)].
func startLoad(t *testing.T, tenant string, n, publishers int, urls ...string) *load {
	l := &load{t: t, tenant: tenant, n: n, accepted: map[int]string{}}
	l.route(urls...)
	// Registered before the publishers' cleanup so that it runs after it,
	// once they have stopped.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the publishes were answered:\n%s", l.summary())
		}
	})
	l.start(t, n, publishers, 5*time.Second, l.publish)
	return l
}

// route sends the publishes from now on to urls.
func (l *load) route(urls ...string) { l.urls.Store(&urls) }

func (l *load) publish(i int) {
	key := fmt.Sprintf("crash-test-%d", i)
	body := fmt.Sprintf(`{"type":"invoice.paid","data":{"n":%d}}`, i)
	giveUp := time.Now().Add(40 * time.Second)
	for l.ctx.Err() == nil {
		urls := *l.urls.Load()
		a := l.post(urls[i%len(urls)], key, body)
		a.event = i
		var ev struct{ ID string }
		if a.status == http.StatusAccepted {
			if err := json.Unmarshal([]byte(a.body), &ev); err != nil || ev.ID == "" {
				l.t.Errorf("publish of event %d answered 202 without an id: %s", i, a.body)
				return
			}
		}
		l.mu.Lock()
		l.answers = append(l.answers, a)
		if ev.ID != "" {
			l.accepted[i] = ev.ID
		}
		l.mu.Unlock()
		switch {
		case ev.ID != "":
			return
		case a.status >= 400 && a.status < 500 && a.status != http.StatusTooManyRequests:
			l.t.Errorf("publish of event %d answered %d: %s", i, a.status, a.body)
			return
		case time.Now().After(giveUp):
			l.t.Errorf("event %d was never accepted; the last answer: %d %v %s", i, a.status, a.err, a.body)
			return
		}
		wait := 50 * time.Millisecond
		if s, err := strconv.Atoi(a.retryAfter); err == nil {
			wait = min(time.Duration(s)*time.Second, time.Second)
		}
		select {
		case <-l.ctx.Done():
		case <-time.After(wait):
		}
	}
}

func (l *load) post(base, key, body string) publishAnswer {
	a := publishAnswer{sent: time.Now()}
	req, err := http.NewRequestWithContext(l.ctx, "POST", base+"/v1/tenants/"+l.tenant+"/events", strings.NewReader(body))
	if err != nil {
		a.err = err
		return a
	}
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := l.client.Do(req)
	a.got = time.Now()
	if err != nil {
		a.err = err
		return a
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	a.got = time.Now()
	a.status, a.retryAfter, a.body = resp.StatusCode, resp.Header.Get("Retry-After"), string(bytes.TrimSpace(raw))
	if err != nil {
		a.err = err
	}
	return a
}

// waitAccepted waits until n events have been answered 202.
func (l *load) waitAccepted(n int, timeout time.Duration) {
	l.t.Helper()
	testwait.Within(l.t, timeout, fmt.Sprintf("%d events to be accepted", n), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.accepted) >= n
	})
}

// finish waits until every event has been accepted, or given up on. It fails
// the test but doesn't stop it, so that the answers can still be checked.
func (l *load) finish(timeout time.Duration) {
	l.t.Helper()
	l.wait(l.t, timeout)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.accepted) != l.n {
		l.t.Errorf("only %d of %d events were accepted", len(l.accepted), l.n)
	}
}

// summary counts the answers by status, with an example of each.
func (l *load) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	count, example := map[string]int{}, map[string]string{}
	for _, a := range l.answers {
		k := strconv.Itoa(a.status)
		if a.err != nil {
			k = "no answer"
		}
		if count[k]++; count[k] == 1 {
			example[k] = fmt.Sprintf("event %d at %s: err=%v retry-after=%q %s", a.event, a.got.Format("15:04:05.000"), a.err, a.retryAfter, a.body[:min(len(a.body), 200)])
		}
	}
	var b strings.Builder
	for k, n := range count {
		fmt.Fprintf(&b, "  %s: %d answers, e.g. %s\n", k, n, example[k])
	}
	return b.String()
}

// acceptedIDs returns the ids of the events answered 202 so far.
func (l *load) acceptedIDs() map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make(map[string]bool, len(l.accepted))
	for _, id := range l.accepted {
		ids[id] = true
	}
	return ids
}

// failures counts the publishes that got no answer or a 5xx.
func (l *load) failures() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, a := range l.answers {
		if a.err != nil || a.status >= 500 {
			n++
		}
	}
	return n
}

func (l *load) acceptedSince(t time.Time) bool { return !l.firstAcceptedSince(t).IsZero() }

// firstAcceptedSince returns when the first publish sent after t was
// answered 202, or the zero time.
func (l *load) firstAcceptedSince(t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first time.Time
	for _, a := range l.answers {
		if a.status == http.StatusAccepted && a.sent.After(t) && (first.IsZero() || a.got.Before(first)) {
			first = a.got
		}
	}
	return first
}

func (l *load) answerLog() []publishAnswer {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]publishAnswer(nil), l.answers...)
}

// successfulAttempts reads outlet_attempts_total{result="success"} from the
// node's metrics.
func successfulAttempts(t *testing.T, s *server) float64 {
	t.Helper()
	const name = `outlet_attempts_total{result="success"} `
	for line := range strings.Lines(s.metrics()) {
		if v, ok := strings.CutPrefix(line, name); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return f
		}
	}
	return 0
}

// statusOf GETs url and returns the status; no answer within 5s fails the test.
func statusOf(t *testing.T, u string) int {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// postgresURL returns $OUTLET_TEST_POSTGRES, or skips the test.
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("OUTLET_TEST_POSTGRES")
	if u == "" {
		t.Skip("needs Postgres: set OUTLET_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return u
}

// runSQL runs statements on the database dsn names.
func runSQL(t *testing.T, dsn string, statements ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, s := range statements {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// postgresSchema creates a schema of its own for the test, dropped at the
// end, and returns a database URL that uses it.
func postgresSchema(t *testing.T) string {
	t.Helper()
	dsn := postgresURL(t)
	schema := "outlet_e2e_" + randomHex(6)
	if err := runSQL(t, dsn, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := runSQL(t, dsn, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping the test's schema: %v", err)
		}
	})
	return withQuery(t, dsn, "search_path", schema)
}

// postgresDatabase creates a database of its own for the test, dropped at the
// end, and returns its URL and functions that cut it off (refusing new
// connections and terminating those open) and bring it back. Other tests
// share the Postgres server, so only this database goes away.
func postgresDatabase(t *testing.T) (dsn string, cutOff, restore func()) {
	t.Helper()
	admin := postgresURL(t)
	name := "outlet_e2e_" + randomHex(6)
	// template0 takes no connections, so concurrent CREATE DATABASEs don't
	// trip over each other as they do on template1.
	if err := runSQL(t, admin, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := runSQL(t, admin, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping the test's database: %v", err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	cutOff = func() {
		t.Helper()
		err := runSQL(t, admin, "ALTER DATABASE "+name+" WITH ALLOW_CONNECTIONS false",
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"+name+"'")
		if err != nil {
			t.Fatal(err)
		}
	}
	restore = func() {
		t.Helper()
		if err := runSQL(t, admin, "ALTER DATABASE "+name+" WITH ALLOW_CONNECTIONS true"); err != nil {
			t.Fatal(err)
		}
	}
	return u.String(), cutOff, restore
}

func withQuery(t *testing.T, raw, key, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(bytes int) string {
	b := make([]byte, bytes)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func firstN(s []string, n int) []string { return s[:min(n, len(s))] }

func lastLines(logs string, lines int) string {
	ls := strings.Split(strings.TrimRight(logs, "\n"), "\n")
	return strings.Join(ls[max(0, len(ls)-lines):], "\n")
}
