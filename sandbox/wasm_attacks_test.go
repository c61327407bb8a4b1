package sandbox

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/netguard"
)

// Modules a hostile tenant built against the rewrite (found in review),
// assembled section by section.

func rawModule(sections ...[]byte) []byte {
	return wasmCat(append([][]byte{[]byte("\x00asm\x01\x00\x00\x00")}, sections...)...)
}

func rawSection(id byte, body ...[]byte) []byte {
	b := wasmCat(body...)
	return wasmCat([]byte{id}, uleb(uint64(len(b))), b)
}

func rawVec(items ...[]byte) []byte { return wasmCat(uleb(uint64(len(items))), wasmCat(items...)) }

func rawName(s string) []byte { return wasmCat(uleb(uint64(len(s))), []byte(s)) }

func rawBody(locals []byte, code ...[]byte) []byte {
	b := wasmCat(locals, wasmCat(code...), []byte{0x0b})
	return wasmCat(uleb(uint64(len(b))), b)
}

// rawCountdown returns 0 once global 0 reaches 0, else takes one from it.
var rawCountdown = []byte{0x23, 0x00, 0x45, 0x04, 0x40, 0x41, 0x00, 0x0f, 0x0b, 0x23, 0x00, 0x41, 0x01, 0x6b, 0x24, 0x00}

// rawLive keeps n values live across whatever comes between before and
// after, and stores their sum with the i32 left on the stack in global 0.
func rawLive(n int) (before, after []byte) {
	for i := range n {
		before = wasmCat(before, []byte{0x23, 0x00}, wasmOp(wasmOpI32Const, i+1), []byte{0x6a})
		after = wasmCat(after, []byte{0x6a})
	}
	return before, wasmCat(after, []byte{0x24, 0x00})
}

var (
	rawI32Result    = []byte{0x60, 0x00, 0x01, 0x7f}
	rawDepthGlobal  = rawSection(6, rawVec(wasmCat([]byte{0x7f, 0x01, 0x41}, sleb(1<<30), []byte{0x0b})))
	rawExportHandle = rawSection(7, rawVec(wasmCat(rawName("handle"), []byte{0x00, 0x00})))
)

// A call_indirect through a type that is the heavy callee's in structure but
// spelt in other bytes (its parameter count in two).
func indirectThroughRespeltType() []byte {
	before, after := rawLive(1000)
	callInd := []byte{0x41, 0x00, 0x11, 0x00, 0x00}
	return rawModule(
		rawSection(1, rawVec(rawI32Result, []byte{0x60, 0x80, 0x00, 0x01, 0x7f})),
		rawSection(3, rawVec([]byte{0x00}, []byte{0x01})),
		rawSection(4, rawVec([]byte{0x70, 0x01, 0x01, 0x01})),
		rawDepthGlobal, rawExportHandle,
		rawSection(9, rawVec([]byte{0x00, 0x41, 0x00, 0x0b, 0x01, 0x01})),
		rawSection(10, rawVec(rawBody(rawVec(), callInd), rawBody(rawVec(), rawCountdown, before, callInd, after, []byte{0x41, 0x00}))),
	)
}

// A call the engine runs but a walker reading the vector prefix's
// sub-opcode as a LEB128 number would take for an immediate: fd 80 02 is
// i16x8.abs then block to the engine.
func callHiddenBehindAVectorOpcode() []byte {
	before, after := rawLive(1000)
	hidden := wasmCat([]byte{0xfd, 0x0c}, make([]byte, 16), []byte{0xfd, 0x80, 0x02, 0x40, 0x10, 0x00}, []byte{0x1a, 0x0b, 0x1a})
	return rawModule(rawSection(1, rawVec(rawI32Result)), rawSection(3, rawVec([]byte{0x00})), rawDepthGlobal, rawExportHandle,
		rawSection(10, rawVec(rawBody(rawVec(), rawCountdown, before, hidden, []byte{0x41, 0x00}, after, []byte{0x41, 0x00}))))
}

// A global.set of the budget hidden the same way, setting it to 2^31-1.
func budgetSetBehindAVectorOpcode() []byte {
	types := [][]byte{rawI32Result}
	for len(types) < 14 {
		types = append(types, []byte{0x60, 0x00, 0x00})
	}
	types = append(types, []byte{0x60, 0x02, 0x7f, 0x7f, 0x00})
	poke := wasmCat([]byte{0x41}, sleb(0x7fffffff), []byte{0xfd, 0x0c}, make([]byte, 16), []byte{0xfd, 0x83, 0x02, 0x0e, 0x01, 0x1a, 0x24, 0x01, 0x0b})
	before, after := rawLive(1000)
	return rawModule(rawSection(1, rawVec(types...)), rawSection(3, rawVec([]byte{0x00}, []byte{0x00})), rawDepthGlobal, rawExportHandle,
		rawSection(10, rawVec(rawBody(rawVec(), poke, []byte{0x10, 0x01}), rawBody(rawVec(), rawCountdown, before, []byte{0x10, 0x01}, after, []byte{0x41, 0x00}))))
}

func TestWasmAttacksOnTheStackBudgetFail(t *testing.T) {
	t.Parallel()
	e := newWasmEngine(newFetcher(netguard.Policy{}), "", nil)
	t.Cleanup(func() { e.close(context.Background()) })
	const memoryMB = 8
	share := wasmStackBytes(memoryMB << 20)
	lim := Limits{MemoryMB: memoryMB}.withDefaults()
	for _, tc := range []struct {
		name string
		code []byte
	}{
		{"recursion through call_indirect of a respelt type", indirectThroughRespeltType()},
		{"a call hidden behind a vector opcode", callHiddenBehindAVectorOpcode()},
		{"the budget set behind a vector opcode", budgetSetBehindAVectorOpcode()},
	} {
		fn := Function{Tenant: "acme", Name: "fn", Version: 1, Runtime: outlet.RuntimeWasm, Code: tc.code, SHA256: shaOf(tc.code)}
		ctx, cancel := context.WithTimeout(context.Background(), lim.Timeout)
		c, err := e.compiledFor(ctx, fn)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		if c.err != nil { // refused at deploy: fine
			cancel()
			continue
		}
		in := &wasmInstance{limit: memoryMB << 20, info: c.info}
		_, rerr := in.run(ctx, e, c, Call{Function: fn, Input: []byte(`{}`), Limits: lim}, lim, &logBuffer{max: 1024}, &fetchBudget{limits: lim.Fetch})
		cancel()
		if rerr == nil || !strings.Contains(rerr.Message, "stack overflow") {
			t.Errorf("%s: %v; want a stack overflow", tc.name, rerr)
		}
		if got := engineStack(t, in); uint64(got) > 2*share {
			t.Errorf("%s: the engine's stack grew to %d KiB; the share is %d KiB", tc.name, got>>10, share>>10)
		}
		in.close()
	}
}

func TestWasmModulesThatWouldTakeUncountedMemoryAreRefused(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	prepare := func(code []byte) error {
		_, err := s.Prepare(context.Background(), Function{Tenant: "acme", Name: "fn", Runtime: outlet.RuntimeWasm, Code: code, SHA256: shaOf(code)}, Limits{MemoryMB: 8})
		return err
	}
	handle := rawBody(rawVec(), []byte{0x41, 0x00})
	for _, tc := range []struct {
		name string
		code []byte
		want string
	}{
		{"2^27 locals in a 44-byte module (gigabytes to compile)",
			rawModule(rawSection(1, rawVec(rawI32Result)), rawSection(3, rawVec([]byte{0x00})), rawExportHandle,
				rawSection(10, rawVec(rawBody(rawVec(wasmCat(uleb(1<<27), []byte{0x7f})), []byte{0x41, 0x00})))),
			"more than 50000 locals"},
		{"a passive element segment of 300,000 entries (the engine keeps each per instance)",
			rawModule(rawSection(1, rawVec(rawI32Result)), rawSection(3, rawVec([]byte{0x00})), rawExportHandle,
				rawSection(9, rawVec(wasmCat([]byte{0x01, 0x00}, rawVec(func() [][]byte {
					e := make([][]byte, 300_000)
					for i := range e {
						e[i] = []byte{0x00}
					}
					return e
				}()...)))),
				rawSection(10, rawVec(handle))),
			"element segments (13.7 MiB)"},
	} {
		err := prepare(tc.code)
		var ce *CompileError
		if !errors.As(err, &ce) || !strings.Contains(ce.Message, tc.want) {
			t.Errorf("%s: %v; want a CompileError saying %q", tc.name, err, tc.want)
		}
	}
}
