package sandbox

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/quickjs"
)

//go:embed bootstrap.js
var bootstrapJS string

// moduleName is what a function's module is called inside its VM; stack
// traces show it.
const moduleName = "function.js"

// jsVM is one QuickJS VM holding one version of one function. It runs one
// invocation at a time; between invocations the module's own state (its
// top-level variables) survives, as it would in a warm serverless instance.
type jsVM struct {
	vm    *quickjs.VM
	fn    quickjs.Value // the module's default export
	fetch *fetcher
	inv   *jsInvocation // the invocation running now
}

// jsInvocation is what the host functions need while one invocation runs.
type jsInvocation struct {
	ctx    context.Context
	logs   *logBuffer
	budget *fetchBudget
	timers map[int]time.Time
}

// newJSVM starts a VM and loads the function's module into it. A module that
// can't load is reported as a runtime_error.
func newJSVM(fn Function, lim Limits, f *fetcher) (*jsVM, *Error) {
	vm, err := quickjs.NewVM()
	if err != nil {
		return nil, errorf(CodeRuntimeError, "can't start an engine: %v", err)
	}
	j := &jsVM{vm: vm, fetch: f}
	vm.SetMemoryLimit(uintptr(lim.MemoryMB) << 20)
	vm.SetMaxStackSize(uintptr(lim.MaxFrames))
	vm.SetEvalTimeout(lim.Timeout)
	for name, f := range map[string]any{
		"__outlet_log":     j.log,
		"__outlet_fetch":   j.fetchJSON,
		"__outlet_timer":   j.timer,
		"__outlet_untimer": j.untimer,
		"__outlet_random":  randomHex,
	} {
		if err := vm.RegisterFunc(name, f, false); err != nil {
			vm.Close()
			return nil, errorf(CodeRuntimeError, "can't start an engine: %v", err)
		}
	}
	if _, err := vm.Eval(bootstrapJS, quickjs.EvalGlobal); err != nil {
		vm.Close()
		return nil, errorf(CodeRuntimeError, "can't start an engine: %v", err)
	}
	code := string(fn.Code)
	vm.SetModuleLoader(func(_ *quickjs.VM, name string) (string, error) {
		if name == moduleName {
			return code, nil
		}
		return "", fmt.Errorf("module %q can't be imported: a function is one module; bundle its dependencies into it (outlet functions deploy does it)", name)
	}, nil)
	// Modules evaluate asynchronously: load it, run the jobs that takes,
	// then look at how it went.
	if _, err := vm.Eval(`import("`+moduleName+`").then(
		(m) => { globalThis.__outlet_fn = m.default },
		(e) => { globalThis.__outlet_fn = { error: { name: String(e?.name), message: String(e?.message ?? e), stack: String(e?.stack ?? "") } } })`,
		quickjs.EvalGlobal); err != nil {
		vm.Close()
		return nil, classify(err)
	}
	if _, err := vm.ExecutePendingJobs(); err != nil {
		vm.Close()
		return nil, classify(err)
	}
	var failed *jsThrown
	if err := evalJSON(vm, `(() => {
		const f = globalThis.__outlet_fn;
		delete globalThis.__outlet_fn;
		if (typeof f === "function") { globalThis.__outlet_fn_ok = f; return null; }
		if (f && f.error) return f.error;
		if (f === undefined) return { name: "TypeError", message: "the module has no default export: export default async function (event, ctx) { … }" };
		return { name: "TypeError", message: "the module's default export must be a function: export default async function (event, ctx) { … }" };
	})()`, &failed); err != nil {
		vm.Close()
		return nil, classify(err)
	}
	if failed != nil {
		vm.Close()
		return nil, thrown(failed.Name, failed.Message, failed.Stack)
	}
	fnv, err := vm.EvalValue(`(() => { const f = globalThis.__outlet_fn_ok; delete globalThis.__outlet_fn_ok; return f; })()`, quickjs.EvalGlobal)
	if err != nil {
		vm.Close()
		return nil, classify(err)
	}
	j.fn = fnv
	return j, nil
}

func (j *jsVM) close() {
	j.fn.Free()
	j.vm.Close()
}

// run makes one invocation. It returns the output, or why it failed; after a
// failure the VM must be discarded.
func (j *jsVM) run(ctx context.Context, call Call, logs *logBuffer, budget *fetchBudget) (json.RawMessage, *Error) {
	deadline, _ := ctx.Deadline()
	j.inv = &jsInvocation{ctx: ctx, logs: logs, budget: budget, timers: map[int]time.Time{}}
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
	arm()
	api, err := j.vm.EvalValue(`globalThis.__outlet`, quickjs.EvalGlobal)
	if err != nil {
		return nil, classify(err)
	}
	defer api.Free()
	start, err := j.vm.NewAtom("start")
	if err != nil {
		return nil, classify(err)
	}
	startFn, err := api.GetPropertyValue(start)
	if err != nil {
		return nil, classify(err)
	}
	defer startFn.Free()
	if _, err := startFn.Call(api, j.fn, string(call.Input), string(meta)); err != nil {
		return nil, classify(err)
	}
	for {
		if !arm() {
			return nil, timedOut(call.Limits.Timeout)
		}
		if _, err := j.vm.ExecutePendingJobs(); err != nil {
			return nil, classify(err)
		}
		var st jsState
		if err := evalJSON(j.vm, `globalThis.__outlet.state()`, &st); err != nil {
			return nil, classify(err)
		}
		switch st.Done {
		case 1:
			if len(st.Out) > call.Limits.MaxOutput {
				return nil, errorf(CodeRuntimeError, "the function returned %d bytes; the limit is %d", len(st.Out), call.Limits.MaxOutput)
			}
			return json.RawMessage(st.Out), nil
		case 2:
			if st.Null {
				return nil, outOfMemory()
			}
			return nil, thrown(st.Name, st.Message, st.Stack)
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
		delete(j.inv.timers, id)
		if !arm() {
			return nil, timedOut(call.Limits.Timeout)
		}
		if _, err := j.vm.Eval(fmt.Sprintf(`globalThis.__outlet.fire(%d)`, id), quickjs.EvalGlobal); err != nil {
			return nil, classify(err)
		}
	}
}

// jsState is an invocation's progress, as the bootstrap keeps it.
type jsState struct {
	Done int    `json:"done"` // 0 running, 1 returned, 2 threw
	Out  string `json:"out"`  // the output, as JSON
	Null bool   `json:"null"` // what was thrown is null
	jsThrown
}

// jsThrown is what a function threw.
type jsThrown struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Stack   string `json:"stack"`
}

// evalJSON evaluates an expression and decodes its value, passed as JSON:
// the engine hands arrays and objects to Go only that way.
func evalJSON(vm *quickjs.VM, expr string, dst any) error {
	v, err := vm.Eval(`JSON.stringify(`+expr+`)`, quickjs.EvalGlobal)
	if err != nil {
		return err
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("the engine answered %T, not JSON", v)
	}
	return json.Unmarshal([]byte(s), dst)
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

func randomHex(n int) string {
	b := make([]byte, min(max(n, 0), 65536))
	rand.Read(b)
	return hex.EncodeToString(b)
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
