package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/netguard"
)

// fetcher makes functions' outbound HTTP requests. Every connection goes
// through the network policy's dialer, so a function can reach no address
// a webhook couldn't.
type fetcher struct {
	client *http.Client
	// log is told which address the network policy refused, which the
	// function isn't; nil logs to slog.Default().
	log *slog.Logger
}

func newFetcher(policy netguard.Policy) *fetcher {
	return &fetcher{client: &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           policy.Dial(5 * time.Second),
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          200,
			MaxIdleConnsPerHost:   20,
			IdleConnTimeout:       60 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
	}}
}

// fetchRequest is what a function asks for.
type fetchRequest struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body"`
}

// fetchResponse is what it gets back.
type fetchResponse struct {
	URL        string            `json:"url"`
	Status     int               `json:"status"`
	StatusText string            `json:"statusText"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"` // as text, for JavaScript
	Raw        []byte            `json:"-"`    // as sent, for Wasm
}

// fetchBudget is what one invocation may still fetch.
type fetchBudget struct {
	limits           FetchLimits
	used             int
	tenant, function string // whose invocation, for the operator's log
}

// do makes one request for an invocation whose context ends at its deadline.
// Its error is a message for the function: it becomes a TypeError there.
func (f *fetcher) do(ctx context.Context, budget *fetchBudget, req fetchRequest) (*fetchResponse, error) {
	budget.used++
	if budget.used > budget.limits.MaxRequests {
		return nil, fmt.Errorf("this invocation already made %d requests, its limit", budget.limits.MaxRequests)
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", req.URL)
	}
	if err := allowed(budget.limits, u); err != nil {
		return nil, err
	}
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = http.MethodGet
	}
	ctx, cancel := context.WithTimeout(ctx, budget.limits.Timeout)
	defer cancel()
	var body io.Reader
	if req.Body != nil {
		body = strings.NewReader(*req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("invalid request: %v", err)
	}
	for k, v := range req.Headers {
		hr.Header.Set(k, v)
	}
	if hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", "Outlet-Functions/1")
	}
	client := *f.client
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return allowed(budget.limits, r.URL)
	}
	resp, err := client.Do(hr)
	if err != nil {
		var unreachable *netguard.UnreachableError
		if errors.As(err, &unreachable) {
			f.logUnreachable(unreachable, budget)
		}
		return nil, fetchError(err, budget.limits.Timeout)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(budget.limits.MaxBody)+1))
	if err != nil {
		return nil, fetchError(err, budget.limits.Timeout)
	}
	if len(b) > budget.limits.MaxBody {
		return nil, fmt.Errorf("the response body from %s is larger than %d bytes, the limit", u.Host, budget.limits.MaxBody)
	}
	headers := make(map[string]string, len(resp.Header))
	for k, v := range resp.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return &fetchResponse{URL: resp.Request.URL.String(), Status: resp.StatusCode, StatusText: http.StatusText(resp.StatusCode),
		Headers: headers, Body: string(bytes.ToValidUTF8(b, []byte("\uFFFD"))), Raw: b}, nil
}

// allowed checks a URL's host against the operator's list and the
// tenant's: it must be in both (an empty list allows any host).
func allowed(l FetchLimits, u *url.URL) error {
	if !outlet.HostAllowed(l.OperatorHosts, u.Hostname()) {
		return fmt.Errorf("host %s is not among the hosts this platform lets functions reach", u.Hostname())
	}
	if !outlet.HostAllowed(l.AllowedHosts, u.Hostname()) {
		return fmt.Errorf("host %s is not in this tenant's allowed hosts", u.Hostname())
	}
	return nil
}

// logUnreachable tells the operator what the function isn't told: which
// address the policy refused (a warning: it may be a probe of the
// operator's networks), or that the name doesn't resolve.
func (f *fetcher) logUnreachable(u *netguard.UnreachableError, budget *fetchBudget) {
	log := f.log
	if log == nil {
		log = slog.Default()
	}
	level, msg := slog.LevelInfo, "function fetch failed: the host doesn't resolve"
	if u.Refused {
		level, msg = slog.LevelWarn, "function fetch refused by the network policy"
	}
	log.Log(context.Background(), level, msg, "tenant", budget.tenant, "function", budget.function, "host", u.Host, "detail", u.Detail)
}

// fetchError is what the function is told. A refusal by the network policy
// and a name that doesn't resolve read the same (see
// netguard.UnreachableError), so a function can't map internal names.
func fetchError(err error, timeout time.Duration) error {
	var unreachable *netguard.UnreachableError
	if errors.As(err, &unreachable) {
		return unreachable
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no complete answer within %s or the invocation's time", timeout)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		// Not dnsErr.Error(): it names the resolver, an internal address.
		return fmt.Errorf("looking up %s failed: %s", dnsErr.Name, dnsErr.Err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
