package sandbox

import (
	"bytes"
	"container/list"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// How many warm instances the engine keeps. An instance of a Go-built plugin
// holds its whole linear memory (several MiB), so the bytes matter more
// than the count.
const (
	wasmIdlePerKey   = 4
	wasmMaxIdle      = 64
	wasmMaxIdleBytes = 256 << 20
	wasmMaxCompiled  = 64 // compiled modules kept, least recently used dropped
)

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
// call at a time. After a call that succeeded it waits, warm, for the next
// call of that same version; after any failure it is closed.
type wasmEngine struct {
	fetch *fetcher
	rt    wazero.Runtime
	// provided lists what the host modules export, to check a module's
	// imports at deploy rather than at its first call.
	provided map[string]map[string]api.FunctionDefinition

	mu       sync.Mutex
	compiled map[string]*list.Element // of *wasmCompiled, by SHA-256
	used     *list.List               // of *wasmCompiled, least recently used first
	idle     map[wasmKey][]*list.Element
	lru      *list.List // of *wasmInstance, least recently used first
	idleSize uint64
	closed   bool
}

// wasmKey names the instances that can serve a call.
type wasmKey struct {
	tenant, name, sha string
	version, memoryMB int
}

// wasmCompiled is a module compiled, or being compiled: ready is closed when
// mod or err is set.
type wasmCompiled struct {
	sha      string
	ready    chan struct{}
	mod      wazero.CompiledModule
	err      error
	minPages uint32 // of its memory, which may not be exported
	init     string // the export to call once before the first call
}

func newWasmEngine(fetch *fetcher, cacheDir string) *wasmEngine {
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
		fetch: fetch, rt: rt, provided: map[string]map[string]api.FunctionDefinition{},
		compiled: map[string]*list.Element{}, used: list.New(),
		idle: map[wasmKey][]*list.Element{}, lru: list.New(),
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

// compile checks that code is a Wasm module that imports only what an Extism
// plugin may (extism:host/env and wasi_snapshot_preview1) and exports handle,
// compiles it once, and keeps the compiled form under fn.SHA256. Its error
// says what is wrong with the module.
func (e *wasmEngine) compile(ctx context.Context, fn Function) error {
	c, err := e.compiledFor(ctx, fn)
	if err != nil {
		return err
	}
	return c.err
}

// compiledFor returns the module compiled, compiling it if no one has; a
// module that doesn't compile is kept with its error. The compilation goes on
// when ctx ends — a large module takes a second or more, and a short
// invocation deadline must not keep it from ever finishing — but the wait
// for it doesn't.
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
		code := bytes.Clone(fn.Code)
		go func() {
			c.mod, c.minPages, c.init, c.err = e.build(code)
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

// build compiles code and checks it is an Extism plugin Outlet can run.
func (e *wasmEngine) build(code []byte) (wazero.CompiledModule, uint32, string, error) {
	ctx := context.Background()
	if len(code) < 8 || !bytes.Equal(code[:4], []byte("\x00asm")) {
		return nil, 0, "", errors.New("the code is not a WebAssembly module (it doesn't start with \\0asm)")
	}
	if !bytes.Equal(code[4:8], []byte{1, 0, 0, 0}) {
		return nil, 0, "", errors.New("the code is a WebAssembly component or a module of an unknown version; an Extism plugin is a core module (version 1)")
	}
	minPages, err := wasmMinPages(code)
	if err != nil {
		return nil, 0, "", fmt.Errorf("the WebAssembly module is malformed: %v", err)
	}
	mod, err := e.rt.CompileModule(ctx, code)
	if err != nil {
		return nil, 0, "", fmt.Errorf("the WebAssembly module doesn't compile: %v", err)
	}
	fail := func(format string, args ...any) (wazero.CompiledModule, uint32, string, error) {
		mod.Close(ctx)
		return nil, 0, "", fmt.Errorf(format, args...)
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
	for _, m := range mod.ImportedMemories() {
		module, name, _ := m.Import()
		return fail("it imports its memory (%s.%s); an Extism plugin defines its own", module, name)
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
	return mod, minPages, init, nil
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
// the *Error it failed with. ctx ends at the invocation's deadline.
func (e *wasmEngine) run(ctx context.Context, call Call, lim Limits, logs *logBuffer, budget *fetchBudget) (json.RawMessage, *Error) {
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
	key := wasmKey{tenant: fn.Tenant, name: fn.Name, sha: c.sha, version: fn.Version, memoryMB: lim.MemoryMB}
	in := e.checkout(key)
	if in == nil {
		in = &wasmInstance{key: key, limit: uint64(lim.MemoryMB) << 20}
	}
	out, rerr := in.run(ctx, e, c, call, lim, logs, budget)
	if rerr != nil || in.mod == nil || in.mod.IsClosed() {
		in.close()
		return nil, rerr
	}
	e.checkin(in)
	return out, nil
}

// checkout takes a warm instance for key, if there is one.
func (e *wasmEngine) checkout(key wasmKey) *wasmInstance {
	e.mu.Lock()
	defer e.mu.Unlock()
	for els := e.idle[key]; len(els) > 0; els = e.idle[key] {
		el := els[len(els)-1]
		e.unidle(key, el)
		in := el.Value.(*wasmInstance)
		if !in.mod.IsClosed() {
			return in
		}
		in.close()
	}
	return nil
}

// checkin keeps an instance that finished a call cleanly for the next one.
func (e *wasmEngine) checkin(in *wasmInstance) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || len(e.idle[in.key]) >= wasmIdlePerKey || in.size() > wasmMaxIdleBytes/4 {
		in.close()
		return
	}
	in.idleSize = in.size()
	e.idleSize += in.idleSize
	e.idle[in.key] = append(e.idle[in.key], e.lru.PushBack(in))
	for e.lru.Len() > wasmMaxIdle || e.idleSize > wasmMaxIdleBytes {
		el := e.lru.Front()
		old := el.Value.(*wasmInstance)
		e.unidle(old.key, el)
		old.close()
	}
}

// unidle takes an element out of the idle lists. e.mu is held.
func (e *wasmEngine) unidle(key wasmKey, el *list.Element) {
	in := e.lru.Remove(el).(*wasmInstance)
	e.idleSize -= in.idleSize
	els := e.idle[key]
	for i, x := range els {
		if x == el {
			els = append(els[:i], els[i+1:]...)
			break
		}
	}
	if len(els) == 0 {
		delete(e.idle, key)
	} else {
		e.idle[key] = els
	}
}

func (e *wasmEngine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

func (e *wasmEngine) close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	for el := e.lru.Front(); el != nil; el = el.Next() {
		el.Value.(*wasmInstance).close()
	}
	e.lru.Init()
	clear(e.idle)
	e.idleSize = 0
	clear(e.compiled)
	e.used.Init()
	e.mu.Unlock()
	return e.rt.Close(ctx)
}

// wasmInstance is one instance of a plugin and what its host functions need
// during a call.
type wasmInstance struct {
	key      wasmKey
	mod      api.Module
	handle   api.Function
	limit    uint64 // bytes of linear memory and kernel memory together
	idleSize uint64

	linear wasmLinearMemory
	kernel kernelMemory
	vars   map[string][]byte
	varLen int
	stdout wasmLogWriter
	stderr wasmLogWriter

	// The call being made.
	ctx        context.Context
	engine     *wasmEngine
	input      []byte
	inputOff   uint64
	secrets    map[string]string
	meta       Meta
	logs       *logBuffer
	budget     *fetchBudget
	maxOutput  int
	output     []byte
	outputSet  bool
	outputOff  uint64
	errMsg     string
	errOff     uint64
	status     int32
	headers    map[string]string // of the last response; nil before any
	fail       *Error            // why a host function ended the call
	overMemory bool              // the linear memory was refused a grow
	crash      string            // what the plugin's runtime said as it died
}

// run makes one call, instantiating the plugin first if this instance is new.
func (in *wasmInstance) run(ctx context.Context, e *wasmEngine, c *wasmCompiled, call Call, lim Limits, logs *logBuffer, budget *fetchBudget) (json.RawMessage, *Error) {
	in.ctx, in.engine, in.input, in.secrets, in.logs, in.budget, in.maxOutput = ctx, e, call.Input, call.Secrets, logs, budget, lim.MaxOutput
	in.meta = call.Meta
	defer in.end()
	ctx = context.WithValue(ctx, wasmCallKey{}, in)
	if in.mod == nil {
		if err := in.instantiate(ctx, e, c); err != nil {
			return nil, in.classify(ctx, lim, err)
		}
	}
	res, err := in.handle.Call(ctx)
	if err != nil {
		var exit *sys.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 0 || in.fail != nil {
			return nil, in.classify(ctx, lim, err)
		}
		if e.isClosed() {
			return nil, errorf(CodeRuntimeError, "the sandbox shut down during the call")
		}
		// A plugin that exits with 0 has finished; its instance has not
		// survived it, but its output stands, as in the reference host.
	}
	rc := uint32(0)
	if len(res) == 1 {
		rc = api.DecodeU32(res[0])
	}
	switch {
	case in.errMsg != "": // even with 0 returned, as in the reference host
		return nil, errorf(CodeRuntimeError, "%s", in.errMsg)
	case rc != 0:
		return nil, errorf(CodeRuntimeError, "handle returned %d", int32(rc))
	}
	if !in.outputSet || len(in.output) == 0 {
		return json.RawMessage("null"), nil
	}
	if !json.Valid(in.output) {
		return nil, errorf(CodeRuntimeError, "the output is not valid JSON: %s", in.clipText(in.output, 80))
	}
	return json.RawMessage(in.output), nil // end drops it: the caller owns it
}

// instantiate makes the instance and runs the module's initializer.
func (in *wasmInstance) instantiate(ctx context.Context, e *wasmEngine, c *wasmCompiled) error {
	if need := uint64(c.minPages) << 16; need > in.limit {
		in.fail = errorf(CodeMemoryLimit, "the module needs %d MiB of memory to start; the limit is %d MiB", (need+1<<20-1)>>20, in.limit>>20)
		return in.fail
	}
	in.linear.in = in
	in.stdout = wasmLogWriter{in: in, level: "log"}
	in.stderr = wasmLogWriter{in: in, level: "error"}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithStdout(&in.stdout).
		WithStderr(&in.stderr).
		WithRandSource(rand.Reader).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(in.sleep)
	mod, err := e.rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, &in.linear), c.mod, cfg)
	if err != nil {
		return err
	}
	in.mod, in.handle = mod, mod.ExportedFunction("handle")
	if c.init != "" {
		if _, err := mod.ExportedFunction(c.init).Call(ctx); err != nil {
			return fmt.Errorf("%s: %w", c.init, err)
		}
	}
	return nil
}

// sleep is WASI's clock wait, cut short when the invocation's time is up: the
// plugin is stopped as soon as it runs again.
func (in *wasmInstance) sleep(ns int64) {
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
	case <-in.ctx.Done():
	}
}

// classify turns how a call failed into the invocation's error.
func (in *wasmInstance) classify(ctx context.Context, lim Limits, err error) *Error {
	var exit *sys.ExitError
	isExit := errors.As(err, &exit)
	switch {
	case in.fail != nil:
		return in.fail
	case in.overMemory:
		return errorf(CodeMemoryLimit, "the plugin grew past its memory limit of %d MiB", lim.MemoryMB)
	case ctx.Err() != nil || isExit && (exit.ExitCode() == sys.ExitCodeDeadlineExceeded || exit.ExitCode() == sys.ExitCodeContextCanceled):
		return wasmTimeout(ctx, lim)
	case isExit:
		msg := fmt.Sprintf("the plugin exited with code %d", exit.ExitCode())
		if in.crash != "" {
			msg += ": " + in.crash
		}
		return errorf(CodeRuntimeError, "%s", msg)
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if in.crash != "" {
		msg = in.crash + " (" + msg + ")"
	}
	return errorf(CodeRuntimeError, "%s", msg)
}

func wasmTimeout(ctx context.Context, lim Limits) *Error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return errorf(CodeTimeout, "the invocation was cancelled")
	}
	return errorf(CodeTimeout, "the function ran past its time limit of %s", lim.Timeout)
}

// end clears what belonged to the call, so nothing of it reaches the next.
func (in *wasmInstance) end() {
	in.stdout.flush()
	in.stderr.flush()
	in.kernel.reset()
	in.ctx, in.engine, in.input, in.secrets, in.logs, in.budget = nil, nil, nil, nil, nil, nil
	in.inputOff, in.output, in.outputSet, in.outputOff, in.errMsg, in.errOff = 0, nil, false, 0, "", 0
	in.status, in.headers, in.fail, in.overMemory, in.crash = 0, nil, nil, false, ""
}

// size is what the instance holds on to while it waits.
func (in *wasmInstance) size() uint64 {
	return uint64(cap(in.linear.buf)) + in.kernel.size() + uint64(in.varLen)
}

func (in *wasmInstance) close() {
	if in.mod != nil {
		in.mod.Close(context.Background())
	}
	in.linear.buf = nil
}

// wasmCallKey finds the instance a host function is called for.
type wasmCallKey struct{}

// wasmLinearMemory backs an instance's linear memory, so that a grow past
// the memory limit is refused and known to be why the plugin died.
type wasmLinearMemory struct {
	in  *wasmInstance
	buf []byte
}

func (m *wasmLinearMemory) Allocate(_, _ uint64) experimental.LinearMemory { return m }

func (m *wasmLinearMemory) Reallocate(size uint64) []byte {
	room := m.in.limit - min(m.in.kernel.size(), m.in.limit)
	if size > room {
		m.in.overMemory = true
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	// Wasm memory only grows, and a grow copies: double, within the limit.
	b := make([]byte, size, min(max(size, 2*uint64(cap(m.buf))), room))
	copy(b, m.buf)
	m.buf = b
	return b
}

func (m *wasmLinearMemory) Free() { m.buf = nil }

// wasmLogWriter turns a plugin's stdout or stderr into log lines. A line
// longer than the logs can hold is cut, not split, so no secret in it is
// ever split past masking.
type wasmLogWriter struct {
	in       *wasmInstance
	level    string
	partial  []byte
	dropping bool // the rest of the line is past the cut
}

func (w *wasmLogWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		chunk := p
		i := bytes.IndexByte(p, '\n')
		if i >= 0 {
			chunk = p[:i]
		}
		if !w.dropping {
			room := w.max() + 1 - len(w.partial)
			if len(chunk) > room {
				chunk, w.dropping = chunk[:room], true
			}
			w.partial = append(w.partial, chunk...)
		}
		if i < 0 {
			break
		}
		w.flush()
		p = p[i+1:]
	}
	return n, nil
}

func (w *wasmLogWriter) max() int {
	if w.in.logs == nil {
		return 4 << 10
	}
	return w.in.logs.max
}

// flush ends the line being written.
func (w *wasmLogWriter) flush() {
	if len(w.partial) == 0 && !w.dropping {
		return
	}
	s := w.in.clipText(w.partial, w.max())
	w.partial, w.dropping = w.partial[:0], false
	if w.in.logs != nil {
		w.in.logs.add(w.level, s)
	}
	// Runtimes say why they die on stderr before they exit or trap: Go with
	// "panic:" or "fatal error:", Rust with "panicked at".
	if w.level == "error" && w.in.crash == "" &&
		(strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ") || strings.Contains(s, "panicked at")) {
		w.in.crash = w.in.clipText([]byte(s), 500)
	}
}

// wasmMinPages reads the initial size of the memory a module defines, which
// wazero allocates at instantiation, before any limit could refuse it.
func wasmMinPages(code []byte) (uint32, error) {
	r := wasmReader{b: code[8:]}
	for len(r.b) > 0 {
		id := r.byte()
		size := r.u32()
		if r.err != nil || uint64(size) > uint64(len(r.b)) {
			return 0, errors.New("a section runs past the end of the module")
		}
		body := wasmReader{b: r.b[:size]}
		r.b = r.b[size:]
		if id != 5 { // the memory section
			continue
		}
		if n := body.u32(); n == 0 || body.err != nil {
			return 0, body.err
		}
		flags := body.byte()
		pages := body.u32()
		if flags > 7 || body.err != nil {
			return 0, errors.New("its memory section is malformed")
		}
		return pages, nil
	}
	return 0, nil
}

// wasmReader reads the bytes and LEB128 numbers of a module's sections.
type wasmReader struct {
	b   []byte
	err error
}

func (r *wasmReader) byte() byte {
	if len(r.b) == 0 {
		r.err = errors.New("unexpected end")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wasmReader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errors.New("a number is too long")
	return 0
}
