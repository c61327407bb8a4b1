package sandbox

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// wasmMaxCompiled bounds the compiled modules kept, least recently used
// dropped.
const wasmMaxCompiled = 64

// wasmEnvModule and wasmWASIModule are the only modules a plugin may import.
const (
	wasmEnvModule  = "extism:host/env"
	wasmWASIModule = "wasi_snapshot_preview1"
)

// wasmEngine runs Extism plugins on wazero.
//
// A module is compiled once per SHA-256 and shared by every function that
// deploys the same bytes. Instances are not shared: each belongs to one
// version of one function of one tenant, with one memory limit, and runs one
// call at a time. After a call that succeeded it waits, warm, in the
// sandbox's pool for the next call of that same version; after any failure,
// or a call that hit a limit, it is closed.
type wasmEngine struct {
	fetch *fetcher
	rt    wazero.Runtime
	// provided lists what the host modules export, to check a module's
	// imports at deploy rather than at its first call.
	provided map[string]map[string]api.FunctionDefinition
	// compiling bounds the compilations running at once: each takes a core.
	compiling chan struct{}
	// charge bills a tenant for the CPU time a compilation took.
	charge func(tenant string, cpu time.Duration)
	// turns holds, for each tenant compiling now, its one turn.
	turns map[string]*compileTurn

	mu       sync.Mutex
	compiled map[string]*list.Element // of *wasmCompiled, by SHA-256
	used     *list.List               // of *wasmCompiled, least recently used first
	closed   bool
}

// wasmCompiled is a module compiled, or being compiled: ready is closed when
// mod or err is set.
type wasmCompiled struct {
	sha   string
	ready chan struct{}
	mod   wazero.CompiledModule
	err   error
	info  wasmModuleInfo // its memory and tables, as declared
	init  string         // the export to call once before the first call
}

func newWasmEngine(fetch *fetcher, cacheDir string, charge func(tenant string, cpu time.Duration)) *wasmEngine {
	ctx := context.Background()
	// Closing on the context's end compiles a check into every loop and
	// function entry: it is the only way wazero stops a busy loop, and it
	// makes Go-built plugins, whose every function is a loop, about 6 times
	// slower.
	cfg := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(true).
		WithDebugInfoEnabled(false)
	// Compiled code kept on disk survives a restart: compiling a Go-built
	// plugin takes most of a second, more than many hooks' deadlines.
	if cacheDir != "" {
		if cache, err := wazero.NewCompilationCacheWithDir(cacheDir); err == nil {
			cfg = cfg.WithCompilationCache(cache)
		}
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	e := &wasmEngine{
		fetch: fetch, rt: rt,
		provided: map[string]map[string]api.FunctionDefinition{}, charge: charge, turns: map[string]*compileTurn{},
		compiling: make(chan struct{}, max(runtime.GOMAXPROCS(0)/2, 1)),
		compiled:  map[string]*list.Element{}, used: list.New(),
	}
	// Neither can fail on a fresh runtime: they are fixed sets of Go
	// functions.
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		panic(fmt.Sprintf("sandbox: instantiate WASI: %v", err))
	}
	if _, err := kernelHostModule(rt).Instantiate(ctx); err != nil {
		panic(fmt.Sprintf("sandbox: instantiate %s: %v", wasmEnvModule, err))
	}
	for _, name := range []string{wasmEnvModule, wasmWASIModule} {
		e.provided[name] = rt.Module(name).ExportedFunctionDefinitions()
	}
	return e
}

// compiledFor returns the module compiled, compiling it if no one has; a
// module that doesn't compile is kept with its error, which says what is
// wrong with it. The compilation goes on when ctx ends — a large module
// takes a second or more, and a short invocation deadline must not keep it
// from ever finishing — but the wait for it doesn't. Its CPU time is charged
// to the tenant whose call started it.
func (e *wasmEngine) compiledFor(ctx context.Context, fn Function) (*wasmCompiled, error) {
	sha := fn.SHA256
	if sha == "" {
		sum := sha256.Sum256(fn.Code)
		sha = hex.EncodeToString(sum[:])
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, errors.New("the sandbox is shutting down")
	}
	var c *wasmCompiled
	if el, ok := e.compiled[sha]; ok {
		e.used.MoveToBack(el)
		c = el.Value.(*wasmCompiled)
	} else {
		c = &wasmCompiled{sha: sha, ready: make(chan struct{})}
		e.compiled[sha] = e.used.PushBack(c)
		code, tenant := bytes.Clone(fn.Code), fn.Tenant
		go func() {
			// One compilation of a tenant's at a time, and a few of all:
			// a tenant deploying many large modules waits for its own.
			done := e.tenantTurn(tenant)
			defer done()
			e.compiling <- struct{}{}
			var cpu time.Duration
			stop := measure(&cpu)
			c.mod, c.info, c.init, c.err = e.build(code)
			stop()
			<-e.compiling
			if e.charge != nil {
				e.charge(tenant, cpu)
			}
			close(c.ready)
		}()
		e.evictCompiled()
	}
	e.mu.Unlock()
	select {
	case <-c.ready:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// compileTurn is a tenant's one compilation at a time.
type compileTurn struct {
	ch    chan struct{}
	users int // compilations holding or waiting for it
}

// tenantTurn waits for the tenant's turn to compile and returns what ends
// it.
func (e *wasmEngine) tenantTurn(tenant string) func() {
	e.mu.Lock()
	t := e.turns[tenant]
	if t == nil {
		t = &compileTurn{ch: make(chan struct{}, 1)}
		e.turns[tenant] = t
	}
	t.users++
	e.mu.Unlock()
	t.ch <- struct{}{}
	return func() {
		<-t.ch
		e.mu.Lock()
		if t.users--; t.users == 0 {
			delete(e.turns, tenant)
		}
		e.mu.Unlock()
	}
}

// build checks code is an Extism plugin Outlet can run, and compiles it as
// rewritten to bound its tables and call stack (see wasm_binary.go).
func (e *wasmEngine) build(code []byte) (wazero.CompiledModule, wasmModuleInfo, string, error) {
	ctx := context.Background()
	var none wasmModuleInfo
	if len(code) < 8 || !bytes.Equal(code[:4], []byte("\x00asm")) {
		return nil, none, "", errors.New("the code is not a WebAssembly module (it doesn't start with \\0asm)")
	}
	if !bytes.Equal(code[4:8], []byte{1, 0, 0, 0}) {
		return nil, none, "", errors.New("the code is a WebAssembly component or a module of an unknown version; an Extism plugin is a core module (version 1)")
	}
	rewritten, info, err := wasmRewrite(code)
	if err != nil {
		return nil, none, "", fmt.Errorf("the WebAssembly module %v", err)
	}
	mod, err := e.rt.CompileModule(ctx, rewritten)
	if err != nil {
		return nil, none, "", fmt.Errorf("the WebAssembly module doesn't compile: %v", err)
	}
	fail := func(format string, args ...any) (wazero.CompiledModule, wasmModuleInfo, string, error) {
		mod.Close(ctx)
		return nil, none, "", fmt.Errorf(format, args...)
	}
	for _, imp := range mod.ImportedFunctions() {
		module, name, _ := imp.Import()
		have, ok := e.provided[module]
		if !ok {
			return fail("it imports %s from module %q; an Extism plugin may import only from %s and %s (Outlet offers no host functions of its own)", name, module, wasmEnvModule, wasmWASIModule)
		}
		def, ok := have[name]
		if !ok {
			return fail("it imports %s.%s, which Outlet doesn't provide", module, name)
		}
		if !wasmSameTypes(def.ParamTypes(), imp.ParamTypes()) || !wasmSameTypes(def.ResultTypes(), imp.ResultTypes()) {
			return fail("it imports %s.%s as %s; Outlet provides it as %s", module, name, wasmSignature(imp), wasmSignature(def))
		}
	}
	handle, ok := mod.ExportedFunctions()["handle"]
	if !ok {
		return fail("it doesn't export a function named handle: an Extism plugin exports handle, which reads the input and sets the output")
	}
	if len(handle.ParamTypes()) != 0 || len(handle.ResultTypes()) > 1 || (len(handle.ResultTypes()) == 1 && handle.ResultTypes()[0] != api.ValueTypeI32) {
		return fail("its handle is %s; it must take nothing and return an i32 (0 for success)", wasmSignature(handle))
	}
	// Reactors (Go's -buildmode=c-shared, WASI libraries) set themselves up
	// in _initialize; other toolchains in __wasm_call_ctors. _start, a
	// command's main, is never called.
	init := ""
	for _, name := range []string{"_initialize", "__wasm_call_ctors"} {
		if f, ok := mod.ExportedFunctions()[name]; ok && len(f.ParamTypes()) == 0 && len(f.ResultTypes()) == 0 {
			init = name
			break
		}
	}
	return mod, info, init, nil
}

func wasmSameTypes(a, b []api.ValueType) bool { return bytes.Equal(a, b) }

func wasmSignature(f api.FunctionDefinition) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(s, ", ") + ")"
	}
	return names(f.ParamTypes()) + " -> " + names(f.ResultTypes())
}

// evictCompiled drops the least recently used compiled modules beyond the
// cap. Instances made from them keep working. e.mu is held.
func (e *wasmEngine) evictCompiled() {
	for e.used.Len() > wasmMaxCompiled {
		c := e.used.Remove(e.used.Front()).(*wasmCompiled)
		delete(e.compiled, c.sha)
		go func() {
			<-c.ready
			if c.mod != nil {
				c.mod.Close(context.Background())
			}
		}()
	}
}

// run calls the plugin's handle with call.Input and returns its output, or
// the *Error it failed with. ctx ends at the invocation's deadline. An
// instance that finished cleanly, within every limit, goes back to the pool.
func (e *wasmEngine) run(ctx context.Context, call Call, lim Limits, logs *logBuffer, budget *fetchBudget, pool *warmPool) (json.RawMessage, *Error) {
	if len(call.Input) > lim.MaxInput {
		return nil, errorf(CodeRuntimeError, "the input is %d bytes; the limit is %d", len(call.Input), lim.MaxInput)
	}
	c, err := e.compiledFor(ctx, call.Function)
	if err != nil {
		if ctx.Err() != nil {
			return nil, wasmTimeout(ctx, lim)
		}
		return nil, errorf(CodeRuntimeError, "%v", err)
	}
	if c.err != nil {
		return nil, errorf(CodeRuntimeError, "the function can't run: %v", c.err)
	}
	fn := call.Function
	fn.SHA256 = c.sha
	key := keyOf(fn, lim)
	eng, born := pool.take(key)
	in, ok := eng.(*wasmInstance)
	if !ok || in.mod == nil || in.mod.IsClosed() {
		if ok {
			in.close()
		}
		born = pool.birth()
		in = &wasmInstance{limit: uint64(lim.MemoryMB) << 20, info: c.info}
	}
	out, rerr := in.run(ctx, e, c, call, lim, logs, budget)
	if rerr != nil || in.mod == nil || in.mod.IsClosed() || in.hitLimit {
		in.close()
		return out, rerr
	}
	pool.put(key, in, in.size(), born)
	return out, nil
}

func (e *wasmEngine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

func (e *wasmEngine) close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	clear(e.compiled)
	e.used.Init()
	e.mu.Unlock()
	return e.rt.Close(ctx)
}
