package sandbox

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/netguard"
)

// A module with tables and globals, for the limits tests: the tables are
// given as their encoded limits, the globals are mutable i32s.
type wasmSpec struct {
	tables  [][]byte // each a table type after funcref: 0x00 min | 0x01 min max
	globals []int    // initial values
	funcs   []wasmFunc
	mem     int
}

func (m wasmSpec) bytes() []byte {
	vec := func(items ...[]byte) []byte { return wasmCat(wasmLEB(len(items)), wasmCat(items...)) }
	name := func(s string) []byte { return wasmCat(wasmLEB(len(s)), []byte(s)) }
	section := func(id byte, body []byte) []byte { return wasmCat([]byte{id}, wasmLEB(len(body)), body) }
	var types, decls, exports, codes, tables, globals [][]byte
	for i, f := range m.funcs {
		types = append(types, wasmCat([]byte{0x60}, wasmLEB(len(f.params)), f.params, wasmLEB(len(f.results)), f.results))
		decls = append(decls, wasmLEB(i))
		if f.export != "" {
			exports = append(exports, wasmCat(name(f.export), []byte{0x00}, wasmLEB(i)))
		}
		locals := vec()
		if f.locals > 0 {
			locals = vec(wasmCat(wasmLEB(f.locals), []byte{wasmI64}))
		}
		code := wasmCat(locals, f.body, []byte{0x0b})
		codes = append(codes, wasmCat(wasmLEB(len(code)), code))
	}
	for _, t := range m.tables {
		tables = append(tables, wasmCat([]byte{0x70}, t))
	}
	for _, g := range m.globals {
		globals = append(globals, wasmCat([]byte{wasmI32, 0x01, wasmOpI32Const}, wasmSLEB(g), []byte{0x0b}))
	}
	out := wasmCat([]byte("\x00asm\x01\x00\x00\x00"), section(1, vec(types...)), section(3, vec(decls...)))
	if len(tables) > 0 {
		out = wasmCat(out, section(4, vec(tables...)))
	}
	if m.mem > 0 {
		out = wasmCat(out, section(5, vec(wasmCat([]byte{0x00}, wasmLEB(m.mem)))))
	}
	if len(globals) > 0 {
		out = wasmCat(out, section(6, vec(globals...)))
	}
	return wasmCat(out, section(7, vec(exports...)), section(10, vec(codes...)))
}

// wasmTableGrowModule's handle grows table 0 by n entries and answers 0 if
// the grow was refused, 1 (a failure) if it happened.
func wasmTableGrowModule(table []byte, n int) []byte {
	body := wasmCat([]byte{0xd0, 0x70, wasmOpI32Const}, wasmSLEB(n), []byte{0xfc, 0x0f, 0x00}, // ref.null func; i32.const n; table.grow 0
		[]byte{wasmOpI32Const}, wasmSLEB(-1), []byte{0x47}) // i32.const -1; i32.ne
	return wasmSpec{tables: [][]byte{table}, funcs: []wasmFunc{{export: "handle", results: []byte{wasmI32}, body: body}}}.bytes()
}

func tableLimits(min int, max ...int) []byte {
	if len(max) == 0 {
		return wasmCat([]byte{0x00}, wasmLEB(min))
	}
	return wasmCat([]byte{0x01}, wasmLEB(min), wasmLEB(max[0]))
}

func TestWasmTablesAreBoundedAndCountedAgainstTheMemoryLimit(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	prepare := func(code []byte, memoryMB int) error {
		_, err := s.Prepare(context.Background(), Function{Tenant: "acme", Name: "tables", Runtime: outlet.RuntimeWasm, Code: code, SHA256: shaOf(code)},
			Limits{MemoryMB: memoryMB})
		return err
	}
	refusals := []struct {
		name   string
		code   []byte
		memory int
		want   string
	}{
		{"a table declared at 2^27 entries is refused at deploy", wasmTableGrowModule(tableLimits(1<<27), 1), 8,
			"its table 0 starts with 134217728 entries (1024.0 MiB), past the function's memory limit of 8 MiB"},
		{"a table that may grow to 2^25 entries is refused at deploy", wasmTableGrowModule(tableLimits(1, 1<<25), 1), 8,
			"its table 0 may grow to 33554432 entries (256.0 MiB)"},
		{"memory and tables together past the limit are refused", wasmSpec{mem: 100, tables: [][]byte{tableLimits(1 << 18)},
			funcs: []wasmFunc{{export: "handle", results: []byte{wasmI32}, body: wasmOp(wasmOpI32Const, 0)}}}.bytes(), 8,
			"its memory's initial 100 pages (6.2 MiB), its tables at their maximum and element segments (2.0 MiB)"},
	}
	for _, tc := range refusals {
		err := prepare(tc.code, tc.memory)
		var ce *CompileError
		if !errors.As(err, &ce) || !strings.Contains(ce.Message, tc.want) {
			t.Errorf("%s: %v; want a CompileError saying %q", tc.name, err, tc.want)
		}
	}

	// A table without a maximum can't grow; one with a maximum grows to it.
	fixed := wasmTableGrowModule(tableLimits(1), 1<<25)
	if err := prepare(fixed, 8); err != nil {
		t.Fatal(err)
	}
	fn := Function{Tenant: "acme", Name: "grow", Version: 1, Runtime: outlet.RuntimeWasm, Code: fixed, SHA256: shaOf(fixed)}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 4 {
		if res := run(s, fn, `{}`, Limits{MemoryMB: 8}, nil); res.Error != nil {
			t.Fatalf("call %d: a table.grow of 2^25 entries was not refused: %v", i, res.Error)
		}
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("four refused grows of 2^25 entries allocated %d MiB", grew>>20)
	}
	// Grows by 1000 within a maximum of 1001, then by 1 past it: handle
	// answers 0 when the first happened and the second was refused.
	grow := func(n int) []byte {
		return wasmCat([]byte{0xd0, 0x70, wasmOpI32Const}, wasmSLEB(n), []byte{0xfc, 0x0f, 0x00, wasmOpI32Const}, wasmSLEB(-1))
	}
	body := wasmCat(grow(1000), []byte{0x46}, grow(1), []byte{0x47, 0x72}) // i32.eq; i32.ne; i32.or
	bounded := wasmSpec{tables: [][]byte{tableLimits(1, 1001)}, funcs: []wasmFunc{{export: "handle", results: []byte{wasmI32}, body: body}}}.bytes()
	fn = Function{Tenant: "acme", Name: "bounded", Version: 1, Runtime: outlet.RuntimeWasm, Code: bounded, SHA256: shaOf(bounded)}
	if res := run(s, fn, `{}`, Limits{MemoryMB: 8}, nil); res.Error != nil {
		t.Errorf("growing to the declared maximum and past it: %v; want the first grow to happen and the second refused", res.Error)
	}
}

// wasmDeepModule's handle recurses depth times through a function with
// locals i64 locals that it touches, counting down a global.
func wasmDeepModule(depth, locals int) []byte {
	var body []byte
	body = wasmCat(body, []byte{0x23, 0x00, 0x45, wasmOpIf, wasmI32}, wasmOp(wasmOpI32Const, 0), // if (global 0 == 0) 0
		[]byte{0x05, 0x23, 0x00}, wasmOp(wasmOpI32Const, 1), []byte{0x6b, 0x24, 0x00}) // else global0 -= 1
	for i := range locals {
		body = wasmCat(body, wasmOp(wasmOpI64Const, i), wasmOp(wasmOpLocalSet, i))
	}
	body = wasmCat(body, wasmOp(wasmOpCall, 0), []byte{0x1a}) // call handle; drop
	for i := range locals {
		body = wasmCat(body, wasmOp(wasmOpLocalGet, i), []byte{0x1a})
	}
	body = wasmCat(body, wasmOp(wasmOpI32Const, 0), []byte{0x0b}) // 0; end if
	return wasmSpec{globals: []int{depth}, funcs: []wasmFunc{{export: "handle", results: []byte{wasmI32}, locals: locals, body: body}}}.bytes()
}

// engineStack is how many bytes of stack wazero keeps for an instance's
// handle: the field is the engine's own, read for this test alone.
func engineStack(t *testing.T, in *wasmInstance) int {
	t.Helper()
	v := reflect.ValueOf(in.handle)
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	f := v.FieldByName("stack")
	if !f.IsValid() {
		t.Fatalf("wazero's %s has no stack field; update the test for this wazero version", v.Type())
	}
	return f.Len()
}

func TestWasmCallsAreBoundedByTheirShareOfTheMemoryLimit(t *testing.T) {
	t.Parallel()
	e := newWasmEngine(newFetcher(netguard.Policy{}), "", nil)
	t.Cleanup(func() { e.close(context.Background()) })
	pool := newWarmPool(DefaultWarmMemory, DefaultWarmMemory, DefaultMaxIdle)
	const memoryMB = 8
	lim := Limits{MemoryMB: memoryMB}.withDefaults()
	share := wasmStackBytes(memoryMB << 20)
	for _, tc := range []struct {
		name          string
		depth, locals int
	}{
		{"small frames", 2000, 0},
		{"frames with many locals", 100, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Recursion deep enough to pass the share fails there, with a
			// stack overflow, not at wazero's own ceiling a hundred times
			// higher.
			fn := wasmDeploy(t, e, "acme", wasmDeepModule(1<<30, tc.locals))
			ctx, cancel := context.WithTimeout(context.Background(), lim.Timeout)
			defer cancel()
			c, _ := e.compiledFor(ctx, fn)
			in := &wasmInstance{limit: memoryMB << 20, info: c.info}
			_, err := in.run(ctx, e, c, Call{Function: fn, Input: []byte(`{}`), Limits: lim}, lim, &logBuffer{max: 1024}, &fetchBudget{limits: lim.Fetch})
			if err == nil || err.Code != CodeRuntimeError || !strings.Contains(err.Message, "stack overflow") {
				t.Fatalf("unbounded recursion: %v; want a stack overflow", err)
			}
			if got := engineStack(t, in); uint64(got) > 4*share {
				t.Errorf("the engine's stack grew to %d KiB; the share is %d KiB", got>>10, share>>10)
			}
			in.close()

			// Recursion within the share runs, and what the engine keeps
			// stays within a small multiple of it.
			fn = wasmDeploy(t, e, "acme", wasmDeepModule(tc.depth, tc.locals))
			out, rerr := e.run(ctx, Call{Function: fn, Input: []byte(`{}`), Limits: lim}, lim, &logBuffer{max: 1024}, &fetchBudget{limits: lim.Fetch}, pool)
			if rerr != nil {
				t.Fatalf("recursion %d deep: %v", tc.depth, rerr)
			}
			_ = out
			eng, _ := pool.take(keyOf(Function{Tenant: "acme", Name: "fn", Version: 1, Runtime: outlet.RuntimeWasm, SHA256: fn.SHA256}, lim))
			kept, ok := eng.(*wasmInstance)
			if !ok {
				t.Fatal("the instance that finished cleanly was not kept warm")
			}
			if got := engineStack(t, kept); uint64(got) > 4*share {
				t.Errorf("a warm instance keeps %d KiB of stack; its share is %d KiB", got>>10, share>>10)
			}
			if kept.size() < share {
				t.Errorf("a warm instance counts %d bytes; it must count at least its stack share, %d", kept.size(), share)
			}
			kept.close()
		})
	}
}

func TestWasmAnInstanceThatHitALimitIsNotKeptWarm(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	// memory.grow is refused past the limit; this plugin shrugs that off
	// and answers 0.
	body := wasmCat(wasmOp(wasmOpI32Const, 4000), wasmOp(wasmOpMemoryGrow, 0), []byte{0x1a}, wasmOp(wasmOpI32Const, 0))
	code := wasmModuleOf(nil, 1, []wasmFunc{{export: "handle", results: []byte{wasmI32}, body: body}})
	fn := Function{Tenant: "acme", Name: "greedy", Version: 1, Runtime: outlet.RuntimeWasm, Code: code, SHA256: shaOf(code)}
	if res := run(s, fn, `{}`, Limits{MemoryMB: 8}, nil); res.Error != nil {
		t.Fatal(res.Error)
	}
	if s.warm.has(keyOf(fn, s.limits(Limits{MemoryMB: 8}))) {
		t.Error("an instance whose memory.grow was refused was kept warm")
	}
}

// wasmSpillModule's handle keeps n values live across its recursive call:
// the compiled code must spill them to the stack.
func wasmSpillModule(n int) []byte {
	var body []byte
	body = wasmCat(body, []byte{0x23, 0x00, 0x45, wasmOpIf, wasmI32}, wasmOp(wasmOpI32Const, 0),
		[]byte{0x05, 0x23, 0x00}, wasmOp(wasmOpI32Const, 1), []byte{0x6b, 0x24, 0x00})
	for i := range n {
		body = wasmCat(body, []byte{0x23, 0x00}, wasmOp(wasmOpI32Const, i+1), []byte{0x6a}) // global.get 0 + i+1
	}
	body = wasmCat(body, wasmOp(wasmOpCall, 0))
	for range n {
		body = wasmCat(body, []byte{0x6a}) // i32.add
	}
	body = wasmCat(body, []byte{0x0b})
	return wasmSpec{globals: []int{1 << 30}, funcs: []wasmFunc{{export: "handle", results: []byte{wasmI32}, body: body}}}.bytes()
}

func TestWasmCallsKeepingManyValuesLiveStayWithinTheShare(t *testing.T) {
	t.Parallel()
	e := newWasmEngine(newFetcher(netguard.Policy{}), "", nil)
	t.Cleanup(func() { e.close(context.Background()) })
	lim := Limits{MemoryMB: 8}.withDefaults()
	share := wasmStackBytes(8 << 20)
	for _, n := range []int{10, 100, 1000, 5000} {
		fn := wasmDeploy(t, e, "acme", wasmSpillModule(n))
		ctx, cancel := context.WithTimeout(context.Background(), lim.Timeout)
		c, _ := e.compiledFor(ctx, fn)
		in := &wasmInstance{limit: 8 << 20, info: c.info}
		_, err := in.run(ctx, e, c, Call{Function: fn, Input: []byte(`{}`), Limits: lim}, lim, &logBuffer{max: 1024}, &fetchBudget{limits: lim.Fetch})
		cancel()
		if err == nil || !strings.Contains(err.Message, "stack overflow") {
			t.Errorf("%d values live across unbounded recursion: %v; want a stack overflow", n, err)
		}
		// The engine doubles its stack as it grows: twice the share is
		// the most it may hold when the budget runs out.
		if got := engineStack(t, in); uint64(got) > 2*share {
			t.Errorf("%d values live across each call: the engine's stack grew to %d KiB; the share is %d KiB", n, got>>10, share>>10)
		}
		in.close()
	}
}
