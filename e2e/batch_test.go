package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outlethq/outlet/internal/testwait"
)

// An answered batch is durable as a whole: every event it answered with an
// id is delivered, however the node dies after the answer. Each batch also
// holds an event that is refused alone, which must never be delivered; and
// a batch sent again after the kill (its answer lost) answers each event
// with the id it got the first time.
func TestEveryEventOfAnAnsweredBatchIsDeliveredAfterTheNodeIsKilled(t *testing.T) {
	t.Parallel()
	const batches, size = 30, 100
	// Few attempts in flight let a backlog of accepted, unsent events build
	// up, so the kill catches many in the store and in memory.
	s := startServer(t, "--endpoint-max-in-flight", "2")
	logsOnFailure(t, s)
	rcv := newIDReceiver(t)
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})

	// The receiver holds its answers until the kill, so that nearly every
	// accepted event is still to be sent then.
	rcv.pause()
	l := startBatchLoad(t, tenant, batches, size, 4, s.url)
	l.waitAnswered(batches/3, 20*time.Second)
	atKill := l.acceptedIDs()
	s.crash()
	rcv.resume()
	unsent := len(atKill) - rcv.countOf(atKill)
	t.Logf("killed the node with %d events of answered batches accepted, %d of them not received", len(atKill), unsent)
	if unsent == 0 {
		t.Errorf("every accepted event had arrived when the node was killed; nothing was left to survive the kill")
	}
	s.start()
	l.route(s.url)

	l.finish(60 * time.Second)
	// Batches answered before the kill, sent again, answer the same ids.
	for k := range 3 {
		l.publish(k)
	}
	accepted := l.acceptedIDs()
	for id := range atKill {
		if !accepted[id] {
			t.Errorf("event %s, accepted before the kill, was answered with another id after it", id)
		}
	}
	if len(accepted) != batches*size {
		t.Errorf("%d events accepted; want %d", len(accepted), batches*size)
	}
	rcv.waitAll(t, accepted, 40*time.Second)
	checkAllSucceeded(t, s, tenant, accepted, 30*time.Second)
}

// batchLoad publishes batches numbered 0..n-1 from several publishers, as a
// careful platform does: every event under its own idempotency key, and a
// batch that gets no answer, a 5xx or a 429 sent again until it is answered.
type batchLoad struct {
	publisherPool
	t            *testing.T
	tenant       string
	n, size      int
	urls         atomic.Pointer[string]
	mu           sync.Mutex
	ids          map[int]string // event number → the id its batch answered
	answered     int            // batches
	sentAgainErr int            // batches sent again after no answer or a 5xx
}

func startBatchLoad(t *testing.T, tenant string, n, size, publishers int, url string) *batchLoad {
	l := &batchLoad{t: t, tenant: tenant, n: n, size: size, ids: map[int]string{}}
	l.route(url)
	l.start(t, n, publishers, 10*time.Second, l.publish)
	return l
}

func (l *batchLoad) route(url string) { l.urls.Store(&url) }

// publish sends batch k until it is answered 200, and checks the answer.
func (l *batchLoad) publish(k int) {
	var evs []string
	for i := k * l.size; i < (k+1)*l.size; i++ {
		evs = append(evs, fmt.Sprintf(`{"type":"invoice.paid","data":{"n":%d},"idempotency_key":"batch-crash-%d"}`, i, i))
	}
	evs = append(evs, `{"type":"Not A Type!","data":{}}`)
	body := `{"events":[` + strings.Join(evs, ",") + `]}`
	giveUp := time.Now().Add(45 * time.Second)
	for l.ctx.Err() == nil {
		status, retryAfter, answer, err := l.post(*l.urls.Load(), body)
		if status == http.StatusOK {
			l.record(k, answer)
			return
		}
		switch {
		case err == nil && status < 500 && status != http.StatusTooManyRequests:
			l.t.Errorf("batch %d answered %d: %.300s", k, status, answer)
			return
		case time.Now().After(giveUp):
			l.t.Errorf("batch %d was never answered; the last answer: %d %v %.300s", k, status, err, answer)
			return
		}
		l.mu.Lock()
		l.sentAgainErr++
		l.mu.Unlock()
		wait := 50 * time.Millisecond
		if s, err := strconv.Atoi(retryAfter); err == nil {
			wait = min(time.Duration(s)*time.Second, time.Second)
		}
		select {
		case <-l.ctx.Done():
		case <-time.After(wait):
		}
	}
}

func (l *batchLoad) post(base, body string) (status int, retryAfter string, answer []byte, err error) {
	req, err := http.NewRequestWithContext(l.ctx, "POST", base+"/v1/tenants/"+l.tenant+"/events/batch", strings.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	answer, err = io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), bytes.TrimSpace(answer), err
}

// record checks batch k's answer and keeps the ids it gave.
func (l *batchLoad) record(k int, answer []byte) {
	var res struct {
		Results []struct {
			ID    string
			Error *struct{ Code string }
		}
	}
	if err := json.Unmarshal(answer, &res); err != nil || len(res.Results) != l.size+1 {
		l.t.Errorf("batch %d answered %.300s; want %d results", k, answer, l.size+1)
		return
	}
	if last := res.Results[l.size]; last.Error == nil || last.Error.Code != "invalid" || last.ID != "" {
		l.t.Errorf("batch %d's event of a bad type was answered %+v; want refused as invalid", k, last)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for j, r := range res.Results[:l.size] {
		i := k*l.size + j
		if r.Error != nil || r.ID == "" {
			l.t.Errorf("event %d of batch %d was answered %+v; want an id", i, k, r)
			continue
		}
		if old, ok := l.ids[i]; ok && old != r.ID {
			l.t.Errorf("event %d was answered %s, then %s", i, old, r.ID)
		}
		l.ids[i] = r.ID
	}
	l.answered++
}

// waitAnswered waits until n batches have been answered 200.
func (l *batchLoad) waitAnswered(n int, timeout time.Duration) {
	l.t.Helper()
	testwait.Within(l.t, timeout, fmt.Sprintf("%d batches to be answered", n), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.answered >= n
	})
}

// finish waits until every batch has been answered, or given up on.
func (l *batchLoad) finish(timeout time.Duration) {
	l.t.Helper()
	l.wait(l.t, timeout)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Logf("%d batches answered; %d sends were made again after no answer, a 5xx or a 429", l.answered, l.sentAgainErr)
}

// acceptedIDs returns the ids of the events answered so far.
func (l *batchLoad) acceptedIDs() map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make(map[string]bool, len(l.ids))
	for _, id := range l.ids {
		ids[id] = true
	}
	return ids
}
