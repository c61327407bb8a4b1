package sandbox

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/quickjs"
)

//go:embed bootstrap.js
var bootstrapJS string

// bootstrapTimeout bounds the bootstrap's run, which is the same fixed
// work in every VM.
const bootstrapTimeout = 30 * time.Second

// moduleName is what a function's module is called inside its VM; stack
// traces show it.
const moduleName = "function.js"

// jsVM is one QuickJS VM holding one version of one function. It runs one
// invocation at a time; between invocations the module's own state (its
// top-level variables) survives, as it would in a warm serverless instance.
type jsVM struct {
	vm    *quickjs.VM
	api   quickjs.Value // what the bootstrap gives the host: load, loaded, start, fire
	start quickjs.Value
	fire  quickjs.Value
	held  []*quickjs.Value // the values above that are set, to free
	fetch *fetcher
	inv   *jsInvocation // the invocation running now
}

// jsInvocation is what the host functions need while one invocation runs,
// and how it ended.
type jsInvocation struct {
	ctx    context.Context
	logs   *logBuffer
	budget *fetchBudget
	timers map[int]time.Time
	done   int    // 0 running, 1 returned, 2 threw
	out    string // the output, as JSON, when returned
	thrown jsThrown
	null   bool // what was thrown is null
}

// newJSVM starts a VM and loads the function's module into it, within the
// limits (its top-level code runs now). A module that can't load is reported
// as a runtime_error, or as the limit it hit.
func newJSVM(fn Function, lim Limits, f *fetcher) (*jsVM, *Error) {
	vm, err := quickjs.NewVM()
	if err != nil {
		return nil, errorf(CodeRuntimeError, "can't start an engine: %v", err)
	}
	j := &jsVM{vm: vm, fetch: f}
	fail := func(e *Error) (*jsVM, *Error) {
		j.close()
		return nil, e
	}
	vm.SetMemoryLimit(uintptr(lim.MemoryMB)<<20 - uintptr(jsStackBytes(lim)))
	vm.SetMaxStackSize(uintptr(lim.MaxFrames))
	// The bootstrap is Outlet's own code: only the module's counts against
	// the function's time.
	vm.SetEvalTimeout(bootstrapTimeout)
	for name, f := range map[string]any{
		"__outlet_log":     j.log,
		"__outlet_fetch":   j.fetchJSON,
		"__outlet_timer":   j.timer,
		"__outlet_untimer": j.untimer,
		"__outlet_random":  randomBytes,
		"__outlet_settle":  j.settle,
	} {
		if err := vm.RegisterFunc(name, f, false); err != nil {
			return fail(errorf(CodeRuntimeError, "can't start an engine: %v", err))
		}
	}
	api, err := vm.EvalValue(bootstrapJS, quickjs.EvalGlobal)
	if err != nil {
		return fail(errorf(CodeRuntimeError, "can't start an engine: %v", err))
	}
	j.api = api
	j.held = append(j.held, &j.api)
	method := func(name string) (quickjs.Value, error) {
		atom, err := vm.NewAtom(name)
		if err != nil {
			return quickjs.Value{}, err
		}
		return api.GetPropertyValue(atom)
	}
	var load, loaded quickjs.Value
	for _, m := range []struct {
		name string
		v    *quickjs.Value
	}{{"load", &load}, {"loaded", &loaded}, {"start", &j.start}, {"fire", &j.fire}} {
		v, err := method(m.name)
		if err != nil {
			return fail(classify(err))
		}
		*m.v = v
		j.held = append(j.held, m.v)
	}
	vm.SetEvalTimeout(lim.Timeout)
	code := string(fn.Code)
	vm.SetModuleLoader(func(_ *quickjs.VM, name string) (string, error) {
		if name == moduleName {
			return code, nil
		}
		return "", fmt.Errorf("module %q can't be imported: a function is one module; bundle its dependencies into it (outlet functions deploy does it)", name)
	}, nil)
	// Modules evaluate asynchronously: load it, run the jobs that takes,
	// then ask how it went.
	if _, err := load.Call(api, moduleName); err != nil {
		return fail(classify(err))
	}
	if _, err := vm.ExecutePendingJobs(); err != nil {
		return fail(classify(err))
	}
	state, err := loaded.Call(api)
	if err != nil {
		return fail(classify(err))
	}
	switch st, _ := state.(string); st {
	case "":
	case "pending":
		return fail(errorf(CodeRuntimeError, "the module's top-level code awaits something that can't settle while it loads (a timer or a fetch); do that inside the function"))
	default:
		var thrownErr jsThrown
		if err := json.Unmarshal([]byte(st), &thrownErr); err != nil {
			return fail(errorf(CodeRuntimeError, "the module doesn't load"))
		}
		return fail(thrown(thrownErr.Name, thrownErr.Message, thrownErr.Stack))
	}
	// Now that every function of the module is compiled, the call depth is
	// bounded by bytes too (see jsStackBytes).
	if frames := jsFrameBound(vm, lim); frames < lim.MaxFrames {
		vm.SetMaxStackSize(uintptr(frames))
	}
	return j, nil
}

func (j *jsVM) close() {
	for i := len(j.held) - 1; i >= 0; i-- {
		j.held[i].Free()
	}
	j.held = nil
	j.vm.Close()
}

// heapBytes is what the VM's engine has allocated: what keeping it warm
// costs.
func (j *jsVM) heapBytes() uint64 { return jsHeapBytes(j.vm) }

// run makes one invocation. It returns the output, or why it failed; after a
// failure the VM must be discarded.
func (j *jsVM) run(ctx context.Context, call Call, logs *logBuffer, budget *fetchBudget) (json.RawMessage, *Error) {
	deadline, _ := ctx.Deadline()
	inv := &jsInvocation{ctx: ctx, logs: logs, budget: budget, timers: map[int]time.Time{}}
	j.inv = inv
	defer func() { j.inv = nil }()
	meta, _ := json.Marshal(struct {
		Meta
		Secrets  map[string]string `json:"secrets"`
		Function map[string]any    `json:"function"`
	}{call.Meta, orNoSecrets(call.Secrets), map[string]any{"name": call.Function.Name, "version": call.Function.Version}})
	// Each call into the engine gets what is left of the invocation's time:
	// the engine's interrupt handler stops any code that runs past it.
	arm := func() bool {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		j.vm.SetEvalTimeout(left)
		return true
	}
	if !arm() {
		return nil, timedOut(call.Limits.Timeout)
	}
	if _, err := j.start.Call(j.api, string(call.Input), string(meta)); err != nil {
		return nil, classify(err)
	}
	for {
		if !arm() {
			return nil, timedOut(call.Limits.Timeout)
		}
		if _, err := j.vm.ExecutePendingJobs(); err != nil {
			return nil, classify(err)
		}
		switch inv.done {
		case 1:
			// The bootstrap made the output with the real JSON.stringify,
			// but the module shares its world: what leaves is checked here.
			if len(inv.out) > call.Limits.MaxOutput {
				return nil, errorf(CodeRuntimeError, "the function returned %d bytes; the limit is %d", len(inv.out), call.Limits.MaxOutput)
			}
			if !json.Valid([]byte(inv.out)) {
				return nil, errorf(CodeRuntimeError, "the function's output is not valid JSON")
			}
			return json.RawMessage(inv.out), nil
		case 2:
			if inv.null {
				return nil, outOfMemory()
			}
			return nil, thrown(inv.thrown.Name, inv.thrown.Message, inv.thrown.Stack)
		}
		// The promise is still pending: only a timer can settle it now.
		id, at, ok := j.nextTimer()
		if !ok {
			return nil, errorf(CodeTimeout, "the function's promise never settled: nothing it was waiting for could settle it")
		}
		if at.After(deadline) {
			return nil, timedOut(call.Limits.Timeout)
		}
		select {
		case <-time.After(time.Until(at)):
		case <-ctx.Done():
			return nil, timedOut(call.Limits.Timeout)
		}
		delete(inv.timers, id)
		if !arm() {
			return nil, timedOut(call.Limits.Timeout)
		}
		if _, err := j.fire.Call(j.api, id); err != nil {
			return nil, classify(err)
		}
	}
}

// settle is how the bootstrap reports the end of an invocation: returned
// (kind 1, with the output as JSON) or threw (kind 2). Only the bootstrap
// holds it.
func (j *jsVM) settle(kind int, out, name, message, stack string, null bool) {
	inv := j.inv
	if inv == nil || inv.done != 0 || (kind != 1 && kind != 2) {
		return
	}
	inv.done, inv.out, inv.null = kind, out, null
	inv.thrown = jsThrown{Name: name, Message: message, Stack: stack}
}

// jsThrown is what a function threw.
type jsThrown struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Stack   string `json:"stack"`
}

func (j *jsVM) nextTimer() (int, time.Time, bool) {
	var id int
	var at time.Time
	for tid, t := range j.inv.timers {
		if at.IsZero() || t.Before(at) || (t.Equal(at) && tid < id) {
			id, at = tid, t
		}
	}
	return id, at, !at.IsZero()
}

func timedOut(limit time.Duration) *Error {
	return errorf(CodeTimeout, "the function ran past its time limit of %s", limit)
}

// maxTimers bounds the timers one invocation may have pending.
const maxTimers = 1000

// timer arms a timer; it answers why it can't, or "" if it did, and the
// bootstrap throws that at the caller.
func (j *jsVM) timer(id, ms int) string {
	if j.inv == nil {
		return "timers can only be set while the function runs, not when its module loads"
	}
	if len(j.inv.timers) >= maxTimers {
		return fmt.Sprintf("more than %d timers pending; clear some first", maxTimers)
	}
	j.inv.timers[id] = time.Now().Add(time.Duration(ms) * time.Millisecond)
	return ""
}

func (j *jsVM) untimer(id int) {
	if j.inv != nil {
		delete(j.inv.timers, id)
	}
}

func (j *jsVM) log(level, line string) {
	if j.inv != nil {
		j.inv.logs.add(level, line)
	}
}

// fetchJSON is fetch's host side: a request as JSON in, the response or the
// error as JSON out. It blocks the VM, which has nothing else to do.
func (j *jsVM) fetchJSON(reqJSON string) string {
	if j.inv == nil {
		return `{"error":"fetch can only be called while the function runs"}`
	}
	var req fetchRequest
	if err := json.Unmarshal([]byte(reqJSON), &req); err != nil {
		return errorJSON("invalid request: " + err.Error())
	}
	resp, err := j.fetch.do(j.inv.ctx, j.inv.budget, req)
	if err != nil {
		return errorJSON(err.Error())
	}
	b, _ := json.Marshal(resp)
	return string(b)
}

func errorJSON(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return string(b)
}

// randomBytes is n random bytes as a string of characters 0 to 255, one
// per byte, which is how bytes cross into the engine cheaply. The bootstrap
// asks for at most 65,536.
func randomBytes(n int) string {
	b := make([]byte, min(max(n, 0), 65536))
	rand.Read(b)
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func orNoSecrets(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// classify turns an error out of the engine into the invocation's error.
func classify(err error) *Error {
	// When memory runs out while the engine builds the exception itself, the
	// exception is null, and not even a catch block sees it.
	if err.Error() == "null" {
		return outOfMemory()
	}
	var qe *quickjs.Error
	if errors.As(err, &qe) {
		return thrown(qe.Name, qe.Message, qe.Stack)
	}
	return errorf(CodeRuntimeError, "%v", err)
}

// ownFrames keeps the frames of a stack trace that are the function's, not
// the sandbox's bootstrap (which runs as <eval>) or the engine's natives.
func ownFrames(stack string) string {
	var keep []string
	for _, line := range strings.Split(strings.TrimSpace(stack), "\n") {
		if !strings.Contains(line, "<eval>") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// outOfMemory is the error of a function whose exception is null: out of
// memory, the engine can't build a better one. (A function that throws null
// itself reads the same way; throw an Error.)
func outOfMemory() *Error {
	return errorf(CodeMemoryLimit, "the function grew past its memory limit")
}

// thrown classifies what a function threw, or what the engine threw at it.
func thrown(name, msg, stack string) *Error {
	switch {
	case name == "InternalError" && msg == "interrupted":
		return errorf(CodeTimeout, "the function ran past its time limit")
	case name == "InternalError" && (msg == "out of memory" || msg == "string too long"):
		return errorf(CodeMemoryLimit, "the function grew past its memory limit (%s)", msg)
	}
	text := name + ": " + msg
	if stack = ownFrames(stack); stack != "" {
		text += "\n" + stack
	}
	return errorf(CodeRuntimeError, "%s", text)
}
