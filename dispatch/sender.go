package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/netguard"
	"github.com/outlethq/outlet/internal/tracing"
)

// UserAgent identifies Outlet to receivers.
const UserAgent = "Outlet-Webhooks/1"

// Sender makes one HTTP attempt of a delivery.
type Sender struct {
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger
}

// NewSender returns a sender whose connections obey policy and whose attempts
// last at most timeout. It logs what the policy refused, which the attempt's
// error doesn't say.
func NewSender(policy netguard.Policy, timeout time.Duration, now func() time.Time, log *slog.Logger) *Sender {
	if log == nil {
		log = slog.Default()
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would connect on our behalf, around the network policy
		DialContext:           policy.Dial(min(timeout, 10*time.Second)),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1000,
		MaxIdleConnsPerHost:   200,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &Sender{
		client: &http.Client{
			Transport: tr,
			// A redirect is an answer, not an instruction: following it could
			// send the signed payload somewhere the tenant never registered.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout: timeout,
		now:     now,
		log:     log,
	}
}

// Result is what one attempt came to.
type Result struct {
	Attempt    *outlet.Attempt
	RetryAfter time.Duration // what a 429 or 503 asked for; 0 if nothing
}

// Send posts the event to the endpoint, signed with its active secrets, and
// reports the attempt. It fails only in the attempt it returns, never by
// panicking or erroring: every failure is something the receiver should see
// in its attempt log.
func (s *Sender) Send(ctx context.Context, c *outlet.Claim, trigger outlet.AttemptTrigger) Result {
	ep, ev := c.Endpoint, c.Event
	start := s.now()
	a := &outlet.Attempt{
		DeliveryID: c.Delivery.ID,
		Trigger:    trigger,
		URL:        ep.URL,
		StartedAt:  start,
	}
	res := Result{Attempt: a}
	body := ev.Body()
	ts := start.Unix()
	sig, err := Sign(ep.ActiveSecrets(start), ev.ID, ts, body)
	if err != nil {
		a.Error = "can't sign: " + err.Error()
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		a.Error = "invalid request: " + err.Error()
		return res
	}
	for k, v := range ep.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header["webhook-id"] = []string{ev.ID}
	req.Header["webhook-timestamp"] = []string{strconv.FormatInt(ts, 10)}
	req.Header["webhook-signature"] = []string{sig}
	// The attempt's span (the publish's trace, with tracing off) is the
	// receiver's parent.
	tracing.Inject(ctx, req.Header)
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		// The host alone: a URL's path or query may hold a token.
		span.SetAttributes(semconv.HTTPRequestMethodPost, semconv.ServerAddress(req.URL.Hostname()))
	}

	resp, err := s.client.Do(req)
	if err != nil {
		a.DurationMs = s.now().Sub(start).Milliseconds()
		a.Error = describeError(err, s.timeout)
		if span.IsRecording() {
			span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		}
		var unreachable *netguard.UnreachableError
		if errors.As(err, &unreachable) {
			logUnreachable(s.log, unreachable, "webhook attempt", "tenant", ep.TenantID, "endpoint", ep.ID, "delivery", c.Delivery.ID)
		}
		return res
	}
	defer resp.Body.Close()
	b, truncated := readCapped(resp.Body, outlet.MaxResponseBody)
	a.DurationMs = s.now().Sub(start).Milliseconds()
	a.StatusCode = resp.StatusCode
	a.ResponseBody, a.ResponseTruncated = strings.ToValidUTF8(string(b), "\uFFFD"), truncated
	a.ResponseHeaders = flattenHeaders(resp.Header)
	a.Succeeded = resp.StatusCode >= 200 && resp.StatusCode < 300
	if span.IsRecording() {
		span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
		if !a.Succeeded {
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
		}
	}
	switch {
	case a.Succeeded:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		a.Error = fmt.Sprintf("answered %d (redirects are not followed; register the final URL%s)", resp.StatusCode, location(resp))
	default:
		a.Error = fmt.Sprintf("answered %d, not 2xx", resp.StatusCode)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), s.now())
	}
	return res
}

func location(resp *http.Response) string {
	if l := resp.Header.Get("Location"); l != "" {
		return ": " + l
	}
	return ""
}

// readCapped reads up to max bytes of r and reports whether there was more.
// It drains a little past the cap so the connection can be reused, and no
// further, so a receiver can't make us read forever.
func readCapped(r io.Reader, max int) ([]byte, bool) {
	b, _ := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if len(b) <= max {
		return b, false
	}
	io.Copy(io.Discard, io.LimitReader(r, 64<<10))
	return b[:max], true
}

func flattenHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	n := 0
	for k, v := range h {
		if n == 50 {
			break
		}
		out[strings.ToLower(k)] = clip(strings.Join(v, ", "), 1024)
		n++
	}
	return out
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, 7*24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// logUnreachable tells the operator what the tenant isn't told: which
// address the policy refused, or that the name doesn't resolve. A refusal
// may be a probe of the operator's networks, so it is a warning.
func logUnreachable(log *slog.Logger, u *netguard.UnreachableError, what string, attrs ...any) {
	level, msg := slog.LevelInfo, what+" failed: the host doesn't resolve"
	if u.Refused {
		level, msg = slog.LevelWarn, what+" refused by the network policy"
	}
	log.Log(context.Background(), level, msg, append(attrs, "host", u.Host, "detail", u.Detail)...)
}

// errorType names a transport error for a span's error.type.
func errorType(err error) string {
	var unreachable *netguard.UnreachableError
	switch {
	case errors.As(err, &unreachable):
		return "unreachable"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "connection_failed"
}

// describeError turns a transport error into one line a receiver's developer
// can act on — and no more: where the network policy refused the host, or
// its name doesn't resolve, it says the same in both cases, so that attempt
// errors can't be used to map the operator's internal names.
func describeError(err error, timeout time.Duration) string {
	var unreachable *netguard.UnreachableError
	if errors.As(err, &unreachable) {
		return unreachable.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("timed out: no complete answer within %s", timeout)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		// Not dnsErr.Error(): it names the resolver, an internal address.
		return fmt.Sprintf("looking up %s failed: %s", dnsErr.Name, dnsErr.Err)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return "connection failed: " + opErr.Err.Error()
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap().Error()
	}
	return err.Error()
}
