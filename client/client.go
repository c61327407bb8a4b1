// Package client is the Go SDK for Outlet's HTTP API.
//
// A Client groups the API's calls by resource: Tenants, APIKeys, EventTypes
// and Catalog, Endpoints, Events and Deliveries for webhooks; Hooks and
// TenantHooks, Functions, Secrets and Settings for hosted functions;
// PortalSessions for the portal; AuditLog for who changed what. Answers
// are the domain types of package outlet (outlet.Tenant, outlet.Endpoint,
// outlet.Delivery, …) where one fits; requests are the structs of this
// package. Optional fields of a request are pointers: nil leaves a value as
// it is, so an update sends only what it sets. With Go 1.26, new("text")
// makes such a pointer in place.
//
//	c := client.New("http://127.0.0.1:8080", os.Getenv("OUTLET_KEY"))
//	ep, err := c.Endpoints.Create(ctx, "acme", client.EndpointCreate{
//		URL:        "https://acme.example/webhooks",
//		EventTypes: []string{"invoice.*"},
//	})
//	if err != nil {
//		return err
//	}
//	fmt.Println("verify requests with", ep.Secret)
//
//	_, err = c.Events.Publish(ctx, "acme", client.Publish{
//		Type: "invoice.paid",
//		Data: map[string]any{"invoice": "in_123", "amount": 4200},
//	}, client.WithIdempotencyKey("invoice-in_123-paid"))
//
//	for d, err := range c.Deliveries.All(ctx, "acme", client.DeliveryFilter{Status: outlet.StatusFailed}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(d.ID, d.Target.ID, d.Attempts)
//	}
//
// A call the server refuses returns an *Error with the HTTP status and the
// API's error code and message; use errors.As to read it:
//
//	var apiErr *client.Error
//	if errors.As(err, &apiErr) && apiErr.Code == outlet.ENOTFOUND { … }
//
// A call the server answers with 429 (a rate limit) or 503 (unavailable) is
// sent again after the wait its Retry-After asks for, up to three times
// (WithRetries, WithMaxRetryWait); the refusal is returned after that.
//
// With an OpenTelemetry propagator set (otel.SetTextMapPropagator), every
// call carries its context's trace as a traceparent header, so Outlet's spans,
// and the deliveries of the events it publishes, join the caller's trace.
//
// Failures to reach the server are returned as the *url.Error of net/http.
package client

import (
	"github.com/outlethq/outlet"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

// Client calls one Outlet server with one key. It is safe for concurrent use.
type Client struct {
	// Tenants manages the platform's customers (admin key).
	Tenants *TenantsService
	// APIKeys manages the keys tenants call the API with (admin key).
	APIKeys *APIKeysService
	// EventTypes manages the event catalog (admin key).
	EventTypes *EventTypesService
	// Catalog is the event catalog as a tenant sees it (tenant or admin key).
	Catalog *CatalogService
	// Endpoints manages a tenant's webhook endpoints.
	Endpoints *EndpointsService
	// Events publishes a tenant's events and reads them back.
	Events *EventsService
	// Deliveries shows what was sent where, and re-sends.
	Deliveries *DeliveriesService
	// Hooks manages the platform's hooks (admin key).
	Hooks *HooksService
	// TenantHooks is the hooks as a tenant sees them: what serves each, its
	// sync endpoints, and invoking them.
	TenantHooks *TenantHooksService
	// Functions deploys a tenant's hosted functions and shows their logs.
	Functions *FunctionsService
	// Secrets manages the secrets a tenant's functions read.
	Secrets *SecretsService
	// Settings is what a tenant may set for itself.
	Settings *SettingsService
	// PortalSessions opens the portal for a tenant's people or the
	// operator (admin key).
	PortalSessions *PortalSessionsService
	// AuditLog shows every change made through the API: a tenant's own,
	// or (admin key) every tenant's and the operator's.
	AuditLog *AuditLogService

	base      string
	key       string
	http      *http.Client
	userAgent string
	retries   int
	maxWait   time.Duration
	sleep     func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with hc, for its
// timeouts, transport or proxy. The default is http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// DefaultUserAgent is sent unless WithUserAgent says otherwise.
const DefaultUserAgent = "outlet-go"

// WithRetries sets how many times a call the server answers with 429 (too
// many requests) or 503 (unavailable, e.g. its store is down) is sent again
// before its refusal is returned; 0 never retries. The default is
// DefaultRetries. Both answers mean the server did nothing, so any call may
// be retried; a publish should still carry an idempotency key, for the
// failures that aren't answers (a connection cut after the server
// accepted), which are never retried here.
func WithRetries(n int) Option {
	return func(c *Client) { c.retries = max(0, n) }
}

// WithMaxRetryWait bounds the wait before one retry (default
// DefaultMaxRetryWait): a Retry-After longer than that is cut to it. The
// call's context bounds the waits as a whole.
func WithMaxRetryWait(d time.Duration) Option {
	return func(c *Client) { c.maxWait = d }
}

// DefaultRetries and DefaultMaxRetryWait are a Client's retry policy unless
// WithRetries and WithMaxRetryWait say otherwise.
const (
	DefaultRetries      = 3
	DefaultMaxRetryWait = 30 * time.Second
)

// New returns a Client for the Outlet at baseURL (such as
// "http://127.0.0.1:8080"; a path prefix is kept) that authenticates with key:
// the admin key, or a tenant's key for calls under that tenant.
func New(baseURL, key string, opts ...Option) *Client {
	c := &Client{
		base:      strings.TrimRight(baseURL, "/"),
		key:       key,
		http:      http.DefaultClient,
		userAgent: DefaultUserAgent,
		retries:   DefaultRetries,
		maxWait:   DefaultMaxRetryWait,
		sleep:     sleep,
	}
	for _, o := range opts {
		o(c)
	}
	c.Tenants = &TenantsService{c}
	c.APIKeys = &APIKeysService{c}
	c.EventTypes = &EventTypesService{c}
	c.Catalog = &CatalogService{c}
	c.Endpoints = &EndpointsService{c}
	c.Events = &EventsService{c}
	c.Deliveries = &DeliveriesService{c}
	c.Hooks = &HooksService{c}
	c.TenantHooks = &TenantHooksService{c}
	c.Functions = &FunctionsService{c}
	c.Secrets = &SecretsService{c}
	c.Settings = &SettingsService{c}
	c.PortalSessions = &PortalSessionsService{c}
	c.AuditLog = &AuditLogService{c}
	return c
}

// RequestOption adjusts one call.
type RequestOption func(*request)

type request struct {
	header http.Header
	raw    *[]byte
}

// WithIdempotencyKey sends the Idempotency-Key header. Publishing again with
// the same key answers with the first event and sends nothing twice.
func WithIdempotencyKey(key string) RequestOption {
	return WithHeader("Idempotency-Key", key)
}

// WithHeader adds a header to the request.
func WithHeader(name, value string) RequestOption {
	return func(r *request) { r.header.Add(name, value) }
}

// WithRawResponse stores the body of a successful answer in *dst, as the
// server sent it: for logging, or for fields this package doesn't know yet.
func WithRawResponse(dst *[]byte) RequestOption {
	return func(r *request) { r.raw = dst }
}

// Error is the server's refusal of a call: any answer with a status other
// than 2xx.
type Error struct {
	// Status is the HTTP status code, such as 404.
	Status int
	// Code is the API's error code, such as "not_found"; the root package
	// defines them (outlet.ENOTFOUND, outlet.EINVALID, …). It is empty when
	// the answer did not come from Outlet, e.g. from a proxy in front of it.
	Code string
	// Message says what to change, for people.
	Message string
}

// Error returns the message, which is written to be shown to people as is.
func (e *Error) Error() string { return e.Message }

// Unwrap makes a refusal an *outlet.Error too, so outlet.ErrorCode(err)
// tells what it was, as it does on the server: Outlet's own code, or, for an
// answer from something in front of Outlet, the code its status stands for.
func (e *Error) Unwrap() error {
	code := e.Code
	if code == "" {
		code = statusCode(e.Status)
	}
	return &outlet.Error{Code: code, Message: e.Message}
}

// statusCode is the error code an HTTP status stands for.
func statusCode(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return outlet.EUNAUTHORIZED
	case status == http.StatusForbidden:
		return outlet.EFORBIDDEN
	case status == http.StatusNotFound:
		return outlet.ENOTFOUND
	case status == http.StatusConflict:
		return outlet.ECONFLICT
	case status == http.StatusRequestEntityTooLarge:
		return outlet.ETOOLARGE
	case status == http.StatusTooManyRequests:
		return outlet.ERATELIMIT
	case status == http.StatusBadGateway, status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
		return outlet.EUNAVAILABLE
	case status >= 400 && status < 500:
		return outlet.EINVALID
	}
	return outlet.EINTERNAL
}

// ListOptions asks for one page of a list: at most Limit items (the server's
// default when 0), after Cursor (the NextCursor of the previous page; "" for
// the first page). Lists are newest first.
type ListOptions struct {
	Limit  int
	Cursor string
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Limit != 0 {
		q.Set("limit", fmt.Sprint(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	return q
}

// Page is one page of a list.
type Page[T any] struct {
	Data []T `json:"data"`
	// NextCursor asks for the next page as ListOptions.Cursor; "" on the
	// last page.
	NextCursor string `json:"next_cursor"`
	HasMore    bool   `json:"has_more"`
}

// list is the answer shape of lists the server does not page.
type list[T any] struct {
	Data []T `json:"data"`
}

// paginate yields every item of the pages fetch returns, starting at
// cursor, until the last page or the first error, which it yields with a zero
// item before it stops.
func paginate[T any](cursor string, fetch func(cursor string) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			p, err := fetch(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return
				}
			}
			if !p.HasMore || p.NextCursor == "" || p.NextCursor == cursor {
				return
			}
			cursor = p.NextCursor
		}
	}
}

// path joins escaped segments into an API path: path("v1", "tenants", id).
func path(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// maxErrorBody bounds how much of a refusal is read.
const maxErrorBody = 64 << 10

// do sends one request with body (JSON-encoded unless nil) and decodes a
// successful answer into out (unless nil). A 429 or 503 is sent again, up to
// the Client's retries, after the wait the answer's Retry-After asks for.
func (c *Client) do(ctx context.Context, method, p string, query url.Values, body, out any, opts []RequestOption) error {
	r := request{header: http.Header{}}
	for _, o := range opts {
		o(&r)
	}
	u := c.base + p
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var encoded []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode the request to %s %s: %w", method, p, err)
		}
		encoded = b
	}
	for attempt := 0; ; attempt++ {
		resp, err := c.send(ctx, method, u, encoded, r.header)
		if err != nil {
			return err
		}
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return c.decode(resp, method, p, r, out)
		}
		e := refusal(resp)
		resp.Body.Close()
		wait, retry := retryWait(resp, attempt)
		if !retry || attempt >= c.retries {
			return e
		}
		if err := c.sleep(ctx, min(wait, c.maxWait)); err != nil {
			// The context ended while waiting: the refusal says more
			// than the context's error.
			return e
		}
	}
}

// send sends one request, with body unless it is nil.
func (c *Client) send(ctx context.Context, method, u string, body []byte, header http.Header) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	req.Header.Set("User-Agent", c.userAgent)
	if req.Header.Get("traceparent") == "" {
		// The caller's trace continues in Outlet: with a propagator set
		// (otel.SetTextMapPropagator), ctx's span context goes as
		// traceparent, and Outlet's spans for the call, and the
		// deliveries of what it publishes, become its children.
		otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))
	}
	return c.http.Do(req)
}

// decode reads a successful answer into out (unless nil) and closes it.
func (c *Client) decode(resp *http.Response, method, p string, r request, out any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read the answer to %s %s: %w", method, p, err)
	}
	if r.raw != nil {
		*r.raw = b
	}
	if out == nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode the answer to %s %s: %w", method, p, err)
	}
	return nil
}

// retryWait says whether a refusal may be retried, and after how long: the
// answer's Retry-After (seconds or an HTTP date) when it has one, else a
// backoff doubling from half a second with attempt.
func retryWait(resp *http.Response, attempt int) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	if v := strings.TrimSpace(resp.Header.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, true
		}
		if at, err := http.ParseTime(v); err == nil {
			return max(0, time.Until(at)), true
		}
	}
	return (500 * time.Millisecond) << min(attempt, 6), true
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// refusal reads a non-2xx answer into an *Error.
func refusal(resp *http.Response) *Error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{Status: resp.StatusCode}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
		return e
	}
	e.Message = fmt.Sprintf("%s %s answered %s", resp.Request.Method, resp.Request.URL.Redacted(), resp.Status)
	if text := strings.TrimSpace(string(b)); text != "" && len(text) < 200 {
		e.Message += ": " + text
	}
	return e
}
