package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/netguard"
)

// Config tunes a Sandbox. Zero values take the defaults in brackets.
type Config struct {
	Policy            netguard.Policy // where fetch may connect
	Defaults          Limits          // limits for fields a call leaves zero
	TenantConcurrency int             // invocations one tenant may run at once [8]
	MaxConcurrency    int             // invocations all tenants may run at once [64]
	// WarmMemory bounds the bytes that warm engines — JavaScript VMs and
	// Wasm instances kept between calls — hold on this node [256 MiB], and
	// TenantWarmMemory one tenant's share of it [a quarter of WarmMemory].
	// MaxIdle bounds their count [256].
	WarmMemory       uint64
	TenantWarmMemory uint64
	MaxIdle          int
	// CacheDir, when set, keeps compiled Wasm there across restarts.
	CacheDir string
	// Meter, when set, is told every CPU time the sandbox spends for a
	// tenant: calls, deploys, and warming engines ahead of need (which runs
	// the function's module code).
	Meter  Meter
	Logger *slog.Logger
}

// Meter bills tenants for the CPU time their functions use.
type Meter interface {
	ChargeCPU(tenantID string, cpu time.Duration)
}

// Defaults of a Config.
const (
	DefaultTenantConcurrency = 8
	DefaultMaxConcurrency    = 64
	DefaultMaxIdle           = 256
	DefaultWarmMemory        = 256 << 20
)

// Sandbox runs functions. It is safe for concurrent use.
type Sandbox struct {
	cfg    Config
	log    *slog.Logger
	fetch  *fetcher
	wasm   *wasmEngine
	warm   *warmPool
	maps   *sourceMaps
	global chan struct{}

	mu      sync.Mutex
	tenants map[string]chan struct{}
	warming map[warmKey]bool
	closed  bool
}

// New makes a Sandbox.
func New(cfg Config) *Sandbox {
	if cfg.TenantConcurrency <= 0 {
		cfg.TenantConcurrency = DefaultTenantConcurrency
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = DefaultMaxConcurrency
	}
	if cfg.MaxIdle <= 0 {
		cfg.MaxIdle = DefaultMaxIdle
	}
	if cfg.WarmMemory == 0 {
		cfg.WarmMemory = DefaultWarmMemory
	}
	if cfg.TenantWarmMemory == 0 || cfg.TenantWarmMemory > cfg.WarmMemory {
		cfg.TenantWarmMemory = cfg.WarmMemory / 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	f := newFetcher(cfg.Policy)
	f.log = cfg.Logger
	s := &Sandbox{
		cfg: cfg, log: cfg.Logger, fetch: f,
		warm:    newWarmPool(cfg.WarmMemory, cfg.TenantWarmMemory, cfg.MaxIdle),
		maps:    newSourceMaps(),
		global:  make(chan struct{}, cfg.MaxConcurrency),
		tenants: map[string]chan struct{}{}, warming: map[warmKey]bool{},
	}
	s.wasm = newWasmEngine(f, cfg.CacheDir, s.charge)
	return s
}

// limits fills what a call leaves zero from the operator's defaults, then
// from the package's.
func (s *Sandbox) limits(l Limits) Limits {
	d := s.cfg.Defaults
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	pick(&l.MemoryMB, d.MemoryMB)
	pick(&l.MaxFrames, d.MaxFrames)
	pick(&l.MaxInput, d.MaxInput)
	pick(&l.MaxOutput, d.MaxOutput)
	pick(&l.MaxLogs, d.MaxLogs)
	pick(&l.Fetch.MaxRequests, d.Fetch.MaxRequests)
	pick(&l.Fetch.MaxBody, d.Fetch.MaxBody)
	if l.Fetch.Timeout <= 0 {
		l.Fetch.Timeout = d.Fetch.Timeout
	}
	return l.withDefaults()
}

// Run makes one invocation. It never fails in any other way than the Error
// in its Result: whatever the function does, the caller gets an answer
// within the call's time limit.
//
// The engines run the function on the calling goroutine, so once the call
// has its slot Run keeps it on one OS thread and reads that thread's CPU
// clock before and after: the CPU time in the Result — and billed to the
// tenant — is the function's own (loading a VM if none is warm, running,
// encoding), not the time it waited for a slot, a fetch or a timer.
// (Waiting for a slot doesn't hold a thread: only calls with a slot do, and
// slots are bounded.)
func (s *Sandbox) Run(ctx context.Context, call Call) Result {
	start := time.Now()
	call.Limits = s.limits(call.Limits)
	lim := call.Limits
	sm := s.maps.get(call.Function)
	logs := &logBuffer{max: lim.MaxLogs, mask: masker(call.Secrets), positions: sm}
	var cpu time.Duration
	res := s.run(ctx, call, logs, &cpu)
	s.charge(call.Function.Tenant, cpu)
	if res.Error != nil {
		res.Error.Message = logs.maskText(sm.rewrite(res.Error.Message))
		res.Output = nil
	}
	res.Logs, res.LogsTruncated, res.Duration = logs.b.String(), logs.truncated, time.Since(start)
	res.CPU = cpu
	return res
}

func (s *Sandbox) charge(tenant string, cpu time.Duration) {
	if s.cfg.Meter != nil && cpu > 0 {
		s.cfg.Meter.ChargeCPU(tenant, cpu)
	}
}

// measure runs on a locked thread from now until the returned function is
// called, which adds the thread's CPU time meanwhile to *cpu (the wall time
// where the platform has no thread clock).
func measure(cpu *time.Duration) func() {
	runtime.LockOSThread()
	start, t0 := time.Now(), threadCPU()
	return func() {
		if measuresCPU {
			*cpu += threadCPU() - t0
		} else {
			*cpu += time.Since(start)
		}
		runtime.UnlockOSThread()
	}
}

func (s *Sandbox) run(ctx context.Context, call Call, logs *logBuffer, cpu *time.Duration) Result {
	lim := call.Limits
	if len(call.Input) > lim.MaxInput {
		return Result{Error: errorf(CodeRuntimeError, "the input is %d bytes; the limit is %d", len(call.Input), lim.MaxInput)}
	}
	if !json.Valid(call.Input) {
		return Result{Error: errorf(CodeRuntimeError, "the input is not valid JSON")}
	}
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	release, err := s.acquire(ctx, call.Function.Tenant)
	if err != nil {
		return Result{Error: err}
	}
	defer release()
	defer measure(cpu)()
	budget := &fetchBudget{limits: lim.Fetch, tenant: call.Function.Tenant, function: call.Function.Name}
	switch call.Function.Runtime {
	case outlet.RuntimeJavaScript, outlet.RuntimeTypeScript:
		key := keyOf(call.Function, lim)
		vm, born, err := s.checkout(key, call.Function, lim)
		if err != nil {
			return Result{Error: err}
		}
		out, rerr := vm.run(ctx, call, logs, budget)
		if rerr != nil {
			vm.close() // a VM that failed may be in any state
			s.prewarm(key, call.Function, lim)
			return Result{Error: rerr}
		}
		s.warm.put(key, vm, vm.heapBytes(), born)
		return Result{Output: out}
	case outlet.RuntimeWasm:
		out, rerr := s.wasm.run(ctx, call, lim, logs, budget, s.warm)
		if rerr != nil {
			return Result{Error: rerr}
		}
		return Result{Output: out}
	default:
		return Result{Error: errorf(CodeRuntimeError, "runtime %q is not known", call.Function.Runtime)}
	}
}

// acquire waits for a slot of the tenant's and one of everyone's, at most
// until ctx ends.
func (s *Sandbox) acquire(ctx context.Context, tenant string) (func(), *Error) {
	s.mu.Lock()
	sem, ok := s.tenants[tenant]
	if !ok {
		sem = make(chan struct{}, s.cfg.TenantConcurrency)
		s.tenants[tenant] = sem
	}
	s.mu.Unlock()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, errorf(CodeTimeout, "the time limit passed while %d other invocations of this tenant were running (its limit at once)", s.cfg.TenantConcurrency)
	}
	select {
	case s.global <- struct{}{}:
	case <-ctx.Done():
		<-sem
		return nil, errorf(CodeTimeout, "the time limit passed while waiting for the sandbox, which is running all it can")
	}
	return func() { <-s.global; <-sem }, nil
}

// checkout takes a warm VM for the key, or makes one, and starts warming
// the next so it is ready before it is needed. born is when the VM left the
// pool or was made, for the pool to tell whether it went stale meanwhile.
func (s *Sandbox) checkout(key warmKey, fn Function, lim Limits) (*jsVM, uint64, *Error) {
	eng, born := s.warm.take(key)
	s.prewarm(key, fn, lim)
	if vm, ok := eng.(*jsVM); ok {
		return vm, born, nil
	}
	born = s.warm.birth()
	vm, err := newJSVM(fn, lim, s.fetch)
	return vm, born, err
}

// prewarm makes a VM for the key in the background if none is kept, so the
// next invocation doesn't wait for one. Making a VM runs the function's
// module code, so it is the tenant's work like a call: it needs a free slot
// of the tenant's and of the node's — it doesn't wait for one; without, the
// next call makes its VM itself — and its CPU time is billed.
func (s *Sandbox) prewarm(key warmKey, fn Function, lim Limits) {
	s.mu.Lock()
	if s.closed || s.warming[key] || s.warm.has(key) {
		s.mu.Unlock()
		return
	}
	release, ok := s.tryAcquire(fn.Tenant)
	if !ok {
		s.mu.Unlock()
		return
	}
	s.warming[key] = true
	s.mu.Unlock()
	born := s.warm.birth()
	go func() {
		defer release()
		var cpu time.Duration
		done := measure(&cpu)
		vm, err := newJSVM(fn, lim, s.fetch)
		done()
		s.charge(fn.Tenant, cpu)
		s.mu.Lock()
		delete(s.warming, key)
		s.mu.Unlock()
		if err == nil {
			s.warm.put(key, vm, vm.heapBytes(), born)
		}
	}()
}

// tryAcquire takes a slot of the tenant's and one of everyone's if both are
// free now. s.mu is held.
func (s *Sandbox) tryAcquire(tenant string) (func(), bool) {
	sem, ok := s.tenants[tenant]
	if !ok {
		sem = make(chan struct{}, s.cfg.TenantConcurrency)
		s.tenants[tenant] = sem
	}
	select {
	case sem <- struct{}{}:
	default:
		return nil, false
	}
	select {
	case s.global <- struct{}{}:
	default:
		<-sem
		return nil, false
	}
	return func() { <-s.global; <-sem }, true
}

// Prewarm readies a function version that is about to be called: it compiles
// a Wasm module, or warms a JavaScript VM.
func (s *Sandbox) Prewarm(ctx context.Context, fn Function, lim Limits) {
	lim = s.limits(lim)
	switch fn.Runtime {
	case outlet.RuntimeWasm:
		if _, err := s.wasm.compiledFor(ctx, fn); err != nil {
			s.log.Warn("prewarming a wasm function failed", "tenant", fn.Tenant, "function", fn.Name, "err", err)
		}
	default:
		s.prewarm(keyOf(fn, lim), fn, lim)
	}
}

// Discard drops every warm engine of a tenant's function, or of all its
// functions when function is "", and keeps any in use now from coming back.
// The caller calls it when what those engines may hold is gone: the tenant
// or function was deleted, or the tenant's secrets changed (a module may
// keep what its ctx held).
func (s *Sandbox) Discard(tenant, function string) {
	s.warm.discard(tenant, function)
}

// WarmStats reports what warm engines hold on this node.
func (s *Sandbox) WarmStats() WarmStats { return s.warm.snapshot() }

// Close discards every warm engine and compiled module.
func (s *Sandbox) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.warm.close()
	if err := s.wasm.close(ctx); err != nil {
		return fmt.Errorf("close wasm engine: %w", err)
	}
	return nil
}
