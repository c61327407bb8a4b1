// Package functions runs tenants' hosted functions for the rest of Outlet:
// hook invocations (a chain of functions, or the tenant's sync endpoint,
// within the hook's deadline), events delivered to functions, test runs, and
// the invocation logs they leave.
package functions

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/groupcommit"
	"github.com/outlethq/outlet/internal/metrics"
	"github.com/outlethq/outlet/internal/netguard"
	"github.com/outlethq/outlet/internal/schema"
	"github.com/outlethq/outlet/internal/secrets"
	"github.com/outlethq/outlet/internal/tracing"
	"github.com/outlethq/outlet/internal/usage"
	"github.com/outlethq/outlet/sandbox"
)

// Store is what running functions needs of the store.
type Store interface {
	Tenant(ctx context.Context, id string) (*outlet.Tenant, error)
	Hook(ctx context.Context, name string) (*outlet.Hook, error)
	HookEndpoint(ctx context.Context, tenantID, hook string) (*outlet.HookEndpoint, error)
	HookFunctions(ctx context.Context, tenantID, hook string) ([]*outlet.FunctionVersion, error)
	FunctionVersion(ctx context.Context, tenantID, name string, version int) (*outlet.FunctionVersion, error)
	SealedSecrets(ctx context.Context, tenantID string) (map[string][]byte, error)
	RecordInvocations(ctx context.Context, invs []*outlet.Invocation) error
	AddFunctionUsage(ctx context.Context, use []outlet.FunctionUsage) error
}

// Config is what a Service is built from. Zero durations take the defaults
// in brackets.
type Config struct {
	Store   Store
	Sandbox *sandbox.Sandbox
	Secrets *secrets.Box
	Policy  netguard.Policy // for sync endpoints
	// EventTimeout is how long a function may run on an event unless its
	// version says otherwise [10s].
	EventTimeout time.Duration
	// Limits are what a function gets unless its version says otherwise.
	// TimeoutMs is EventTimeout's; zero fields take the sandbox's defaults.
	Limits outlet.FunctionLimits
	// AllowedHosts bounds the hosts every tenant's functions may fetch from;
	// a tenant's own list can narrow it, never widen it. Empty allows any
	// public host.
	AllowedHosts []string
	// CacheTTL bounds how long a change made through another node goes
	// unseen here [5s]; changes made through this node are seen at once.
	CacheTTL time.Duration
	// Meter counts the tenants' runs for billing (the sandbox charges it
	// their CPU time); nil counts nothing.
	Meter   *usage.Meter
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// TracerProvider makes a span of every hook invocation and function
	// run; nil: none.
	TracerProvider trace.TracerProvider
	// Runs hears how each run at a hook or on an event went; nil: nobody.
	Runs RunWatcher
	Now  func() time.Time
}

// RunWatcher hears how each run of a tenant's function at a hook or on an
// event went (test runs aside), for Outlet's operational events. eventType
// is the event's, "" at a hook; errCode is "" when the run succeeded. It is
// called on the run's own path: it must return at once.
type RunWatcher interface {
	FunctionRan(tenantID, function, eventType, errCode, errMsg string)
}

// watched tells the RunWatcher how a run went.
func (s *Service) watched(tenantID, function, eventType string, ferr *sandbox.Error) {
	if s.cfg.Runs == nil {
		return
	}
	var code, msg string
	if ferr != nil {
		code, msg = ferr.Code, ferr.Message
	}
	s.cfg.Runs.FunctionRan(tenantID, function, eventType, code, msg)
}

// Service runs functions. It is safe for concurrent use.
type Service struct {
	cfg     Config
	store   Store
	sandbox *sandbox.Sandbox
	log     *slog.Logger
	metrics *metrics.Metrics
	client  *http.Client // for sync endpoints
	logs    *groupcommit.Batcher[*outlet.Invocation]
	meter   *usage.Meter
	tracer  trace.Tracer

	hooks    *ttlCache[string, *hookDef]
	bindings *ttlCache[bindingKey, *binding]
	active   *ttlCache[bindingKey, *outlet.FunctionVersion]
	tenants  *ttlCache[string, *tenantEnv]
}

type hookDef struct {
	hook          *outlet.Hook
	input, output *schema.Schema
}

type bindingKey struct{ tenant, name string }

// binding is what serves one hook for one tenant.
type binding struct {
	endpoint  *outlet.HookEndpoint
	functions []*outlet.FunctionVersion
}

// tenantEnv is what a tenant's functions run with: the tenant's (uid says
// which one, should the id have been deleted and made again) decrypted
// secrets and allowed hosts.
type tenantEnv struct {
	uid          string
	secrets      map[string]string
	sealed       [32]byte // a digest of the sealed secrets: whether they changed
	allowedHosts []string
}

// New makes a Service; Close flushes its logs.
func New(cfg Config) *Service {
	if cfg.EventTimeout <= 0 {
		cfg.EventTimeout = 10 * time.Second
	}
	if cfg.Limits.MemoryMB <= 0 {
		cfg.Limits.MemoryMB = 64
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{
		cfg: cfg, store: cfg.Store, sandbox: cfg.Sandbox, log: cfg.Logger, metrics: cfg.Metrics,
		client:   syncClient(cfg.Policy),
		tracer:   tracing.Tracer(cfg.TracerProvider, "functions"),
		hooks:    newTTLCache[string, *hookDef](cfg.CacheTTL),
		bindings: newTTLCache[bindingKey, *binding](cfg.CacheTTL),
		active:   newTTLCache[bindingKey, *outlet.FunctionVersion](cfg.CacheTTL),
		tenants:  newTTLCache[string, *tenantEnv](cfg.CacheTTL),
	}
	s.logs = groupcommit.New(512, s.record)
	s.meter = cfg.Meter
	return s
}

// Close records the logs still queued.
func (s *Service) Close() {
	s.logs.Stop()
}

// counted counts one run of a tenant's function for billing.
func (s *Service) counted(tenantID string) {
	if s.meter != nil {
		s.meter.Run(tenantID)
	}
}

// Forget drops what the service keeps that a change made through this node
// made stale — cached bindings, active versions, decrypted secrets — and
// has the sandbox discard the warm engines that may hold what is gone: a
// deleted tenant's or function's, and a tenant's whose secrets changed (a
// module may keep what its ctx held). A change made through another node is
// seen when the cache's time to live ends. Wire it to outlet.Watch.
func (s *Service) Forget(c outlet.Change) {
	tenant := func(k bindingKey) bool { return k.tenant == c.TenantID }
	switch c.Kind {
	case outlet.TenantChanged:
		s.tenants.drop(c.TenantID)
	case outlet.TenantDeleted:
		s.tenants.drop(c.TenantID)
		s.bindings.dropWhere(tenant)
		s.active.dropWhere(tenant)
		s.sandbox.Discard(c.TenantID, "")
	case outlet.FunctionChanged:
		s.bindings.dropWhere(tenant)
		s.active.drop(bindingKey{c.TenantID, c.Name})
	case outlet.FunctionDeleted:
		s.bindings.dropWhere(tenant)
		s.active.drop(bindingKey{c.TenantID, c.Name})
		s.sandbox.Discard(c.TenantID, c.Name)
	case outlet.SecretChanged:
		s.tenants.drop(c.TenantID)
		s.sandbox.Discard(c.TenantID, "")
	case outlet.HookEndpointChanged:
		s.bindings.drop(bindingKey{c.TenantID, c.Name})
	case outlet.HookChanged:
		s.hooks.drop(c.Name)
		s.bindings.dropWhere(func(k bindingKey) bool { return k.name == c.Name })
	}
}

func (s *Service) hook(ctx context.Context, name string) (*hookDef, error) {
	return s.hooks.get(name, func() (*hookDef, error) {
		h, err := s.store.Hook(ctx, name)
		if err != nil {
			return nil, err
		}
		d := &hookDef{hook: h}
		if h.InputSchema != nil {
			if d.input, err = schema.Compile(h.InputSchema); err != nil {
				return nil, err
			}
		}
		if h.OutputSchema != nil {
			if d.output, err = schema.Compile(h.OutputSchema); err != nil {
				return nil, err
			}
		}
		return d, nil
	})
}

func (s *Service) binding(ctx context.Context, tenantID, hook string) (*binding, error) {
	return s.bindings.get(bindingKey{tenantID, hook}, func() (*binding, error) {
		ep, err := s.store.HookEndpoint(ctx, tenantID, hook)
		switch {
		case err == nil:
			return &binding{endpoint: ep}, nil
		case outlet.ErrorCode(err) != outlet.ENOTFOUND:
			return nil, err
		}
		fns, err := s.store.HookFunctions(ctx, tenantID, hook)
		if err != nil {
			return nil, err
		}
		return &binding{functions: fns}, nil
	})
}

// env returns the tenant's decrypted secrets and its allowed hosts. When
// tenantUID is set — the tenant a version to run belongs to — what is
// returned is that tenant's: what was cached of an earlier tenant of the
// same id is read again, and if the tenant of that id now is another one,
// the version's tenant is gone.
func (s *Service) env(ctx context.Context, tenantID, tenantUID string) (*tenantEnv, error) {
	load := func() (*tenantEnv, error) {
		t, err := s.store.Tenant(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		sealed, err := s.store.SealedSecrets(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		env := &tenantEnv{uid: t.UID, secrets: make(map[string]string, len(sealed)), sealed: digest(sealed), allowedHosts: t.AllowedHosts}
		// Secrets changed through another node since this one last read
		// them: warm engines here may keep the old values in module state,
		// so they go, as on the node that made the change.
		if old, ok := s.tenants.peek(tenantID); ok && old.uid == env.uid && old.sealed != env.sealed {
			s.sandbox.Discard(tenantID, "")
		}
		for name, b := range sealed {
			v, err := s.cfg.Secrets.Open(tenantID, name, b)
			if err != nil {
				s.log.Error("a secret doesn't open; functions run without it", "tenant", tenantID, "secret", name, "err", err)
				continue
			}
			env.secrets[name] = v
		}
		return env, nil
	}
	env, err := s.tenants.get(tenantID, load)
	if err != nil || tenantUID == "" || env.uid == tenantUID {
		return env, err
	}
	s.tenants.drop(tenantID)
	if env, err = s.tenants.get(tenantID, load); err != nil {
		return nil, err
	}
	if env.uid != tenantUID {
		return nil, outlet.Errorf(outlet.ENOTFOUND, "tenant %q was deleted since the function was loaded", tenantID)
	}
	return env, nil
}

// digest is a digest of a tenant's sealed secrets, by name.
func digest(sealed map[string][]byte) [32]byte {
	names := slices.Sorted(maps.Keys(sealed))
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(sealed[n])
		h.Write([]byte{0})
	}
	return [32]byte(h.Sum(nil))
}

// call is one function run, as the sandbox needs it.
func (s *Service) call(v *outlet.FunctionVersion, env *tenantEnv, input json.RawMessage, timeout time.Duration) sandbox.Call {
	lim := s.limits(v)
	lim.Timeout = timeout
	lim.Fetch.AllowedHosts, lim.Fetch.OperatorHosts = env.allowedHosts, s.cfg.AllowedHosts
	return sandbox.Call{Function: Sandboxed(v), Input: input, Secrets: env.secrets, Limits: lim}
}

// limits are the version's own limits, else the operator's.
func (s *Service) limits(v *outlet.FunctionVersion) sandbox.Limits {
	return SandboxLimits(v.Limits, s.cfg.Limits)
}

// SandboxLimits are the sandbox limits of a function with its own limits
// and the operator's: its own where set, else the operator's, else the
// sandbox's defaults. The timeout is the caller's to set. outlet dev uses
// it too, so a local run is limited as the server would limit it.
func SandboxLimits(own, operator outlet.FunctionLimits) sandbox.Limits {
	pick := func(own, operator int) int {
		if own > 0 {
			return own
		}
		return operator
	}
	l, d := own, operator
	return sandbox.Limits{
		MemoryMB:  pick(l.MemoryMB, d.MemoryMB),
		MaxFrames: pick(l.StackFrames, d.StackFrames),
		MaxInput:  pick(l.MaxInputKB, d.MaxInputKB) << 10,
		MaxOutput: pick(l.MaxOutputKB, d.MaxOutputKB) << 10,
		MaxLogs:   pick(l.MaxLogsKB, d.MaxLogsKB) << 10,
	}
}

// Sandboxed is the sandbox's view of a function version.
func Sandboxed(v *outlet.FunctionVersion) sandbox.Function {
	return sandbox.Function{Tenant: v.TenantID, TenantUID: v.TenantUID, Name: v.Function, Version: v.Version, UID: v.UID,
		Runtime: v.Runtime, Code: v.Code, SHA256: v.SHA256, SourceMap: v.SourceMap}
}

// run runs one function and keeps its log.
func (s *Service) run(ctx context.Context, c sandbox.Call, trigger outlet.InvocationTrigger, ref string) sandbox.Result {
	started := s.cfg.Now()
	ctx, span := s.startRun(ctx, c, trigger)
	res := s.sandbox.Run(ctx, c)
	endRun(span, res)
	outcome := outcomeOf(res.Error)
	s.counted(c.Function.Tenant)
	s.metrics.Invocations.WithLabelValues(string(trigger), outcome).Inc()
	s.metrics.InvokeSeconds.WithLabelValues(c.Function.Runtime).Observe(res.Duration.Seconds())
	inv := &outlet.Invocation{
		TenantID: c.Function.Tenant, Function: c.Function.Name, Version: c.Function.Version, Trigger: trigger, TriggerRef: ref,
		StartedAt: started.UTC().Truncate(time.Millisecond), DurationMs: res.Duration.Milliseconds(), Outcome: outcome,
		Logs: res.Logs, Truncated: res.LogsTruncated,
	}
	if res.Error != nil {
		inv.Error = res.Error.Message
	}
	if !s.logs.TryAdd(inv) {
		s.metrics.LogsDropped.Inc()
	}
	return res
}

// startRun starts the span of one run of a function.
func (s *Service) startRun(ctx context.Context, c sandbox.Call, trigger outlet.InvocationTrigger) (context.Context, trace.Span) {
	ctx, span := s.tracer.Start(ctx, "function.run")
	if span.IsRecording() {
		f := c.Function
		span.SetAttributes(tracing.Tenant.String(f.Tenant), tracing.Function.String(f.Name), tracing.FunctionVersion.Int(f.Version),
			tracing.Trigger.String(string(trigger)), attribute.String("outlet.function.runtime", f.Runtime))
	}
	return ctx, span
}

// endRun ends a run's span with how the run went.
func endRun(span trace.Span, res sandbox.Result) {
	if res.Error != nil {
		if span.IsRecording() {
			span.SetAttributes(semconv.ErrorTypeKey.String(res.Error.Code))
		}
		span.SetStatus(codes.Error, "")
	}
	span.End()
}

// record stores a batch of invocation logs. Logs are worth less than the
// request that made them: they are written after answering, and dropped if
// the store can't take them.
func (s *Service) record(batch []*outlet.Invocation) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.store.RecordInvocations(ctx, batch); err != nil {
		s.metrics.LogsDropped.Add(float64(len(batch)))
		s.log.Error("recording function logs failed", "count", len(batch), "err", err)
	}
}
