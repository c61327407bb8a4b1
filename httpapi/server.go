// Package httpapi is Outlet's HTTP API: routes, authentication, and the
// mapping of errors to statuses.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/metrics"
	"github.com/outlethq/outlet/internal/tracing"
)

// Dispatcher is what the API needs of the delivery engine.
type Dispatcher interface {
	Publish(ctx context.Context, ev *outlet.Event) (outlet.PublishOutcome, error)
	PublishBatch(ctx context.Context, evs []*outlet.Event) ([]outlet.PublishOutcome, error)
	Retry(ctx context.Context, tenantID, deliveryID string) (*outlet.Delivery, error)
	Recover(ctx context.Context, tenantID, endpointID string, since time.Time) (int, error)
	CheckURL(raw string) error
}

// Config is what the API is built from.
type Config struct {
	AdminKey   string
	Store      outlet.Store
	Dispatcher Dispatcher
	// MaxEventSize caps the data of one published event, in bytes.
	MaxEventSize int
	// PublishRateLimit is the events per second a tenant may publish to
	// this node unless its own publish_rate_limit says otherwise; 0: none.
	PublishRateLimit int
	// StrictEventTypes refuses events of types not in the catalog.
	StrictEventTypes bool
	// Functions runs tenants' functions and hooks.
	Functions Functions
	// FunctionMaxima are the most a deploy may ask for.
	FunctionMaxima outlet.FunctionLimits
	// CacheTTL bounds how long a revoked key or a changed schema made on
	// another node goes unnoticed here.
	CacheTTL time.Duration
	// AuthFailureRate is the requests per second with unknown API keys one
	// client address (an IPv6 /64) may make before more are answered 429;
	// 0: no limit. AuthFailureBurst is how many may come at once.
	AuthFailureRate  float64
	AuthFailureBurst int
	// PublicURL is where people reach Outlet (https://outlet.example.com),
	// for the portal's links; empty makes them relative to the request.
	PublicURL string
	// NoPortal switches the portal off: its session routes answer 404 and
	// its cookie authenticates nothing.
	NoPortal bool
	// Ready reports whether this node can take work.
	Ready func(ctx context.Context) error
	// OnChange, when set, is told of every change made through the API
	// that makes something kept of the store stale (the functions service's
	// caches and warm engines), after the API's own caches heard of it.
	OnChange func(outlet.Change)
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
	// TracerProvider makes a server span of every request, its parent the
	// request's traceparent; nil: no spans, but a traceparent is still
	// carried on to what the request does.
	TracerProvider trace.TracerProvider
	Now            func() time.Time
}

// Server serves the API.
type Server struct {
	mux     *http.ServeMux
	routes  []Route
	auth    *authenticator
	portal  *sessionAuth
	types   *eventTypes
	limits  *publishLimits
	log     *slog.Logger
	metrics *metrics.Metrics
	tracer  trace.Tracer
	now     func() time.Time
}

// New builds the API.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	clock := cfg.Now
	// Stores keep milliseconds; answering with the same precision means a
	// record reads the same when created and when fetched.
	cfg.Now = func() time.Time { return clock().UTC().Truncate(time.Millisecond) }
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxEventSize == 0 {
		cfg.MaxEventSize = 256 << 10
	}
	cfg.FunctionMaxima = withMaxima(cfg.FunctionMaxima)
	// Every write of the API goes through the watch, so none can leave a
	// cache stale on this node.
	onChange := cfg.OnChange
	var s *Server
	cfg.Store = outlet.Watch(cfg.Store, func(c outlet.Change) {
		s.forget(c)
		if onChange != nil {
			onChange(c)
		}
	})
	s = &Server{
		mux:     http.NewServeMux(),
		auth:    newAuthenticator(cfg.AdminKey, cfg.Store, cfg.CacheTTL, cfg.Now, cfg.AuthFailureRate, cfg.AuthFailureBurst),
		log:     cfg.Logger,
		metrics: cfg.Metrics,
		tracer:  tracing.Tracer(cfg.TracerProvider, "httpapi"),
		now:     cfg.Now,
	}
	s.portal = newSessionAuth(cfg.Store, s.auth, cfg.CacheTTL, cfg.Now, cfg.NoPortal)
	types := &eventTypes{store: cfg.Store, ttl: cfg.CacheTTL, now: cfg.Now, entries: map[string]*typeEntry{}}
	s.types = types
	(&tenantsAPI{store: cfg.Store, auth: s.auth, fns: cfg.Functions, now: cfg.Now}).routes(s)
	(&eventTypesAPI{store: cfg.Store, tenants: cfg.Store, cache: types, now: cfg.Now}).routes(s)
	(&endpointsAPI{store: cfg.Store, urls: cfg.Dispatcher, recover: cfg.Dispatcher, now: cfg.Now}).routes(s)
	limits := &publishLimits{store: cfg.Store, fallback: cfg.PublishRateLimit, ttl: cfg.CacheTTL, now: cfg.Now, tenants: map[string]*tenantLimit{}}
	s.limits = limits
	(&eventsAPI{store: cfg.Store, publisher: cfg.Dispatcher, types: types, limits: limits, maxData: cfg.MaxEventSize,
		strict: cfg.StrictEventTypes, metrics: cfg.Metrics, now: cfg.Now}).routes(s)
	(&usageAPI{store: cfg.Store, now: cfg.Now}).routes(s)
	(&deliveriesAPI{store: cfg.Store, retrier: cfg.Dispatcher}).routes(s)
	(&hooksAPI{store: cfg.Store, fns: cfg.Functions, urls: cfg.Dispatcher, now: cfg.Now}).routes(s)
	(&functionsAPI{store: cfg.Store, fns: cfg.Functions, maxima: cfg.FunctionMaxima, now: cfg.Now}).routes(s)
	(&secretsAPI{store: cfg.Store, fns: cfg.Functions, now: cfg.Now}).routes(s)
	(&portalSessionsAPI{store: cfg.Store, publicURL: cfg.PublicURL, off: cfg.NoPortal, now: cfg.Now}).routes(s)
	(&auditAPI{store: cfg.Store}).routes(s)
	(&healthAPI{ready: cfg.Ready}).routes(s)
	(&openAPIDoc{}).routes(s)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{}))
	s.routes = append(s.routes, Route{Pattern: "GET /metrics", Access: public.String()})
	return s
}

// forget drops what the API keeps that a change made stale.
func (s *Server) forget(c outlet.Change) {
	switch c.Kind {
	case outlet.TenantChanged:
		s.limits.forget(c.TenantID, false)
	case outlet.TenantDeleted:
		s.auth.forgetTenant(c.TenantID)
		s.portal.forgetTenant(c.TenantID)
		s.limits.forget(c.TenantID, true)
	case outlet.APIKeyDeleted:
		s.auth.forgetKey(c.Name)
	case outlet.EventTypeChanged:
		s.types.forget(c.Name)
	case outlet.PortalSessionRevoked:
		s.portal.forget(c.Name)
	}
}

// withMaxima fills the maxima an operator didn't set.
func withMaxima(m outlet.FunctionLimits) outlet.FunctionLimits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&m.TimeoutMs, 60000)
	def(&m.MemoryMB, 256)
	def(&m.StackFrames, 5000)
	def(&m.MaxInputKB, 1024)
	def(&m.MaxOutputKB, 1024)
	def(&m.MaxLogsKB, 16)
	return m
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one route of the API and who may call it.
type Route struct {
	Pattern string // "METHOD /path/{param}"
	Access  string // "admin", "tenant" (the admin or that tenant's keys) or "public"
}

// Routes lists every route the API serves, for documentation and for tests
// that must cover them all.
func (s *Server) Routes() []Route { return s.routes }

// handle registers a route: it authenticates and authorizes the caller,
// turns returned errors and panics into JSON error answers, and counts and
// traces the request under its pattern.
func (s *Server) handle(pattern string, acc access, h handlerFunc) {
	s.routes = append(s.routes, Route{Pattern: pattern, Access: acc.String()})
	requests := s.metrics.RequestSeconds.WithLabelValues(pattern)
	method, route, _ := strings.Cut(pattern, " ")
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		ctx, span := s.tracer.Start(tracing.Extract(r.Context(), r.Header), pattern, tracing.AsServer...)
		if span.SpanContext().IsValid() {
			r = r.WithContext(ctx) // else there is no trace to carry on, and no need to copy r
		}
		if span.IsRecording() {
			span.SetAttributes(semconv.HTTPRequestMethodKey.String(method), semconv.HTTPRoute(route))
			if t := r.PathValue("tenant"); t != "" {
				span.SetAttributes(tracing.Tenant.String(t))
			}
		}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, r, s.log, fmt.Errorf("panic: %v", p))
				}
			}
			requests.Observe(time.Since(start).Seconds())
			s.metrics.Requests.WithLabelValues(pattern, strconv.Itoa(sw.status)).Inc()
			if span.IsRecording() {
				span.SetAttributes(semconv.HTTPResponseStatusCode(sw.status))
				if sw.status >= 500 {
					span.SetStatus(codes.Error, "")
				}
				span.End()
			}
		}()
		err := s.serve(sw, r, acc, h)
		if err != nil {
			if span.IsRecording() {
				span.SetAttributes(semconv.ErrorTypeKey.String(outlet.ErrorCode(err)))
			}
			writeError(sw, r, s.log, err)
		}
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, acc access, h handlerFunc) error {
	if acc != public {
		var c caller
		var pc *portalCaller
		var err error
		if secret, ok := s.portal.cookieOf(r); ok {
			c, pc, err = s.portal.authenticate(r, secret)
		} else {
			c, err = s.auth.authenticate(r)
		}
		if err != nil {
			if wait := retryAfter(err); wait > 0 {
				setRetryAfter(w, wait)
			}
			return err
		}
		if err := authorize(c, acc, r); err != nil {
			return err
		}
		if pc != nil {
			if err := pc.check(r); err != nil {
				return err
			}
			r = r.WithContext(context.WithValue(r.Context(), portalCallerKey{}, pc))
		}
		// The store records every change made with the request's context
		// as this caller's, in the change's own transaction.
		r = r.WithContext(outlet.WithActor(r.Context(), actorOf(c, pc, r, s.now())))
	}
	return h(w, r)
}

// PortalSession is the live portal session whose cookie r carries, found
// as the API finds it (cached, and counted against the client's failures
// when unknown): for the portal's page. Without one it is EUNAUTHORIZED.
func (s *Server) PortalSession(r *http.Request) (*outlet.PortalSession, error) {
	secret, ok := s.portal.cookieOf(r)
	if !ok {
		return nil, outlet.Errorf(outlet.EUNAUTHORIZED, "no portal session: open the portal from your platform")
	}
	return s.portal.lookup(r.Context(), secret, clientOf(r))
}

// ExchangePortalToken opens the portal session whose one-time link holds
// token, once, recording secret as its cookie's: for the portal's exchange.
// A token that opens nothing (used, expired, revoked, unknown) is ENOTFOUND,
// and counts against the client's failures as an unknown key does.
func (s *Server) ExchangePortalToken(r *http.Request, token, secret string) (*outlet.PortalSession, error) {
	return s.portal.exchange(r.Context(), token, secret, clientOf(r))
}

// ServeHTTP answers unknown routes and wrong methods in the API's error
// format too.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	// The mux would redirect a path with empty, "." or ".." segments to its
	// clean form; the API answers such a path with an error instead.
	clean := r.Method == http.MethodConnect || cleanPath(r.URL.EscapedPath()) == r.URL.EscapedPath()
	if pattern != "" && clean {
		s.mux.ServeHTTP(w, r)
		return
	}
	if !clean {
		writeError(w, r, s.log, outlet.Errorf(outlet.ENOTFOUND, "no route %s %s: a path may not have empty, \".\" or \"..\" segments; percent-encode any \"/\" inside an id", r.Method, r.URL.Path))
		return
	}
	probe := &probeWriter{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{errorDetail{Code: "method_not_allowed",
			Message: fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow)}})
		return
	}
	writeError(w, r, s.log, outlet.Errorf(outlet.ENOTFOUND, "no route %s %s; see docs/api.md for the routes", r.Method, r.URL.Path))
}

// cleanPath is the canonical form of an escaped path, as http.ServeMux
// computes it.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	// path.Clean drops a trailing slash; keep it.
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// probeWriter catches what the mux would answer to a request no route takes.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header         { return p.header }
func (p *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (p *probeWriter) WriteHeader(code int)        { p.status = code }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
