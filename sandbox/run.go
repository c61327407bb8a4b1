package sandbox

import (
	"container/list"
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
	MaxIdle           int             // warm JavaScript VMs kept, in all [256]
	// CacheDir, when set, keeps compiled Wasm there across restarts.
	CacheDir string
	// BackgroundCPU, when set, is told the CPU time spent for a tenant
	// outside any call: warming a VM ahead of need runs the function's
	// module code, which is the tenant's work too.
	BackgroundCPU func(tenant string, cpu time.Duration)
	Logger        *slog.Logger
}

// Sandbox runs functions. It is safe for concurrent use.
type Sandbox struct {
	cfg    Config
	log    *slog.Logger
	fetch  *fetcher
	wasm   *wasmEngine
	global chan struct{}

	mu      sync.Mutex
	tenants map[string]chan struct{}
	idle    map[vmKey][]*list.Element // per function version, newest last
	lru     *list.List                // of *idleVM, least recently used first
	warming map[vmKey]bool
	closed  bool
}

// vmKey names the VMs that can serve a call: one version of one function of
// one tenant, created with the same limits.
type vmKey struct {
	tenant, name, sha string
	version           int
	memoryMB, frames  int
}

type idleVM struct {
	key vmKey
	vm  *jsVM
}

// New makes a Sandbox.
func New(cfg Config) *Sandbox {
	if cfg.TenantConcurrency <= 0 {
		cfg.TenantConcurrency = 8
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = 64
	}
	if cfg.MaxIdle <= 0 {
		cfg.MaxIdle = 256
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	f := newFetcher(cfg.Policy)
	f.log = cfg.Logger
	return &Sandbox{
		cfg: cfg, log: cfg.Logger, fetch: f, wasm: newWasmEngine(f, cfg.CacheDir),
		global:  make(chan struct{}, cfg.MaxConcurrency),
		tenants: map[string]chan struct{}{}, idle: map[vmKey][]*list.Element{}, lru: list.New(), warming: map[vmKey]bool{},
	}
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
// clock before and after: the CPU time in the Result is the function's own
// (loading a VM if none is warm, running, encoding), not the time it waited
// for a slot, a fetch or a timer. (Waiting for a slot doesn't hold a thread:
// only calls with a slot do, and slots are bounded.)
func (s *Sandbox) Run(ctx context.Context, call Call) Result {
	start := time.Now()
	call.Limits = s.limits(call.Limits)
	lim := call.Limits
	logs := &logBuffer{max: lim.MaxLogs, mask: masker(call.Secrets)}
	var cpu time.Duration
	res := s.run(ctx, call, logs, &cpu)
	if res.Error != nil {
		res.Error.Message = logs.maskText(res.Error.Message)
		res.Output = nil
	}
	res.Logs, res.LogsTruncated, res.Duration = logs.b.String(), logs.truncated, time.Since(start)
	res.CPU = cpu
	return res
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
		vm, err := s.checkout(key, call.Function, lim)
		if err != nil {
			return Result{Error: err}
		}
		out, rerr := vm.run(ctx, call, logs, budget)
		if rerr != nil {
			vm.close() // a VM that failed may be in any state
			s.warm(key, call.Function, lim)
			return Result{Error: rerr}
		}
		s.checkin(key, vm)
		return Result{Output: out}
	case outlet.RuntimeWasm:
		out, rerr := s.wasm.run(ctx, call, lim, logs, budget)
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

func keyOf(fn Function, lim Limits) vmKey {
	return vmKey{tenant: fn.Tenant, name: fn.Name, sha: fn.SHA256, version: fn.Version, memoryMB: lim.MemoryMB, frames: lim.MaxFrames}
}

// checkout takes a warm VM for the key, or makes one, and starts warming
// the next so it is ready before it is needed.
func (s *Sandbox) checkout(key vmKey, fn Function, lim Limits) (*jsVM, *Error) {
	s.mu.Lock()
	var vm *jsVM
	if els := s.idle[key]; len(els) > 0 {
		el := els[len(els)-1]
		s.idle[key] = els[:len(els)-1]
		s.lru.Remove(el)
		vm = el.Value.(*idleVM).vm
	}
	s.mu.Unlock()
	s.warm(key, fn, lim)
	if vm != nil {
		return vm, nil
	}
	return newJSVM(fn, lim, s.fetch)
}

// checkin returns a VM that finished an invocation cleanly.
func (s *Sandbox) checkin(key vmKey, vm *jsVM) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.idle[key]) >= 4 {
		vm.close()
		return
	}
	s.idle[key] = append(s.idle[key], s.lru.PushBack(&idleVM{key: key, vm: vm}))
	s.evict()
}

// evict closes the least recently used VMs beyond the cap. s.mu is held.
func (s *Sandbox) evict() {
	for s.lru.Len() > s.cfg.MaxIdle {
		el := s.lru.Front()
		iv := s.lru.Remove(el).(*idleVM)
		els := s.idle[iv.key]
		for i, e := range els {
			if e == el {
				s.idle[iv.key] = append(els[:i], els[i+1:]...)
				break
			}
		}
		if len(s.idle[iv.key]) == 0 {
			delete(s.idle, iv.key)
		}
		iv.vm.close()
	}
}

// warm makes a VM for the key in the background if none is idle, so the next
// invocation doesn't wait for one. Creating a VM and loading a module takes
// about half a millisecond; a deploy warms its first.
func (s *Sandbox) warm(key vmKey, fn Function, lim Limits) {
	s.mu.Lock()
	if s.closed || len(s.idle[key]) > 0 || s.warming[key] {
		s.mu.Unlock()
		return
	}
	s.warming[key] = true
	s.mu.Unlock()
	go func() {
		var cpu time.Duration
		done := measure(&cpu)
		vm, err := newJSVM(fn, lim, s.fetch)
		done()
		if s.cfg.BackgroundCPU != nil {
			s.cfg.BackgroundCPU(fn.Tenant, cpu)
		}
		s.mu.Lock()
		delete(s.warming, key)
		s.mu.Unlock()
		if err == nil {
			s.checkin(key, vm)
		}
	}()
}

// Prewarm readies a function version that is about to be called: it compiles
// a Wasm module, or warms a JavaScript VM.
func (s *Sandbox) Prewarm(ctx context.Context, fn Function, lim Limits) {
	lim = s.limits(lim)
	switch fn.Runtime {
	case outlet.RuntimeWasm:
		if err := s.wasm.compile(ctx, fn); err != nil {
			s.log.Warn("prewarming a wasm function failed", "tenant", fn.Tenant, "function", fn.Name, "err", err)
		}
	default:
		s.warm(keyOf(fn, lim), fn, lim)
	}
}

// Close discards every warm VM and compiled module.
func (s *Sandbox) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for el := s.lru.Front(); el != nil; el = el.Next() {
		el.Value.(*idleVM).vm.close()
	}
	s.lru.Init()
	clear(s.idle)
	s.mu.Unlock()
	if err := s.wasm.close(ctx); err != nil {
		return fmt.Errorf("close wasm engine: %w", err)
	}
	return nil
}
