package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// wasmInstance is one instance of a plugin and what its host functions need
// during a call.
//
// Its memory limit covers its linear memory, the kernel's memory, its tables
// at their maximum and its call stack's share (wasmStackBytes): what wazero
// allocates for it, and keeps while it waits warm.
type wasmInstance struct {
	mod    api.Module
	handle api.Function
	budget api.MutableGlobal // the stack budget's global (wasm_binary.go)
	limit  uint64
	info   wasmModuleInfo
	// hitLimit is set when a call ran into a limit and survived (a refused
	// memory.grow the plugin handled): such an instance is never kept.
	hitLimit bool

	linear wasmLinearMemory
	kernel kernelMemory
	vars   map[string][]byte
	varLen int
	stdout wasmLogWriter
	stderr wasmLogWriter

	// The call being made.
	ctx         context.Context
	engine      *wasmEngine
	input       []byte
	inputOff    uint64
	secrets     map[string]string
	meta        Meta
	logs        *logBuffer
	fetchBudget *fetchBudget
	maxOutput   int
	output      []byte
	outputSet   bool
	outputOff   uint64
	errMsg      string
	errOff      uint64
	status      int32
	headers     map[string]string // of the last response; nil before any
	fail        *Error            // why a host function ended the call
	overMemory  bool              // the linear memory was refused a grow
	crash       string            // what the plugin's runtime said as it died
}

// run makes one call, instantiating the plugin first if this instance is new.
func (in *wasmInstance) run(ctx context.Context, e *wasmEngine, c *wasmCompiled, call Call, lim Limits, logs *logBuffer, budget *fetchBudget) (json.RawMessage, *Error) {
	in.ctx, in.engine, in.input, in.secrets, in.logs, in.fetchBudget, in.maxOutput = ctx, e, call.Input, call.Secrets, logs, budget, lim.MaxOutput
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

// instantiate makes the instance, gives it its stack budget and runs the
// module's initializer.
func (in *wasmInstance) instantiate(ctx context.Context, e *wasmEngine, c *wasmCompiled) error {
	if err := c.info.fits(int(in.limit >> 20)); err != nil {
		in.fail = errorf(CodeMemoryLimit, "the module can't start: %v", err)
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
	budget, ok := mod.ExportedGlobal(wasmStackExport).(api.MutableGlobal)
	if !ok {
		return errors.New("the module lost its stack budget")
	}
	in.budget = budget
	budget.Set(api.EncodeI32(int32(min(wasmStackBytes(in.limit), 1<<30))))
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
	case in.budget != nil && api.DecodeI32(in.budget.Get()) < 0:
		return errorf(CodeRuntimeError, "stack overflow: the plugin's calls went deeper than its share of the memory limit allows (%s of %d MiB)", mib(wasmStackBytes(in.limit)), lim.MemoryMB)
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
	in.hitLimit = in.hitLimit || in.overMemory
	in.ctx, in.engine, in.input, in.secrets, in.logs, in.fetchBudget = nil, nil, nil, nil, nil, nil
	in.inputOff, in.output, in.outputSet, in.outputOff, in.errMsg, in.errOff = 0, nil, false, 0, "", 0
	in.status, in.headers, in.fail, in.overMemory, in.crash = 0, nil, nil, false, ""
}

// reserved is what the instance's memory limit sets aside for its tables at
// their maximum, its element segments and its call stack.
func (in *wasmInstance) reserved() uint64 {
	return in.info.reserved() + wasmStackBytes(in.limit)
}

// size is what the instance holds on to while it waits.
func (in *wasmInstance) size() uint64 {
	return uint64(cap(in.linear.buf)) + in.kernel.size() + uint64(in.varLen) + in.reserved()
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
	used := m.in.kernel.size() + m.in.reserved()
	room := m.in.limit - min(used, m.in.limit)
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
