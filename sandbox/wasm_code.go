package sandbox

import (
	"errors"
	"fmt"
)

// callWrapper rewrites function bodies so every call charges its callee's
// frame to the stack budget (see wasm_binary.go). It decodes every
// instruction, to find the calls and to copy the rest as it was.
type callWrapper struct {
	budget  uint32   // the budget global's index
	globals uint32   // globals the module has; it may name no other
	costs   []uint32 // by function index
	types   []wasmFuncType
	bySig   map[string]uint32 // the costliest function of each signature
}

// wrap returns a body with its calls wrapped.
func (w *callWrapper) wrap(body []byte) ([]byte, error) {
	r := wasmReader{b: body}
	groups := r.u32()
	for range groups {
		r.u32()
		r.valType()
	}
	if r.err != nil {
		return nil, fmt.Errorf("is malformed: its locals: %v", r.err)
	}
	out := make([]byte, 0, len(body)+len(body)/4)
	out = append(out, body[:len(body)-len(r.b)]...)
	for len(r.b) > 0 {
		start := r.b
		op := r.byte()
		var cost uint32
		switch op {
		case 0x10: // call
			f := r.u32()
			if uint64(f) >= uint64(len(w.costs)) {
				return nil, fmt.Errorf("is malformed: it calls function %d, which the module doesn't have", f)
			}
			cost = w.costs[f]
		case 0x11: // call_indirect
			t := r.u32()
			r.u32()
			if uint64(t) >= uint64(len(w.types)) {
				return nil, fmt.Errorf("is malformed: an indirect call of type %d, which the module doesn't define", t)
			}
			cost = max(w.bySig[w.types[t].sig], wasmHostCallCost)
		case 0x23, 0x24: // global.get, global.set
			if g := r.u32(); g >= w.globals {
				return nil, fmt.Errorf("is malformed: it uses global %d, which the module doesn't have", g)
			}
		default:
			if err := r.skipImmediates(op); err != nil {
				return nil, err
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("is malformed: %v", r.err)
		}
		instr := start[:len(start)-len(r.b)]
		if cost == 0 {
			out = append(out, instr...)
			continue
		}
		out = w.charge(out, cost)
		out = append(out, instr...)
		out = w.refund(out, cost)
	}
	return out, nil
}

// charge takes cost from the budget and traps when it runs out, without a
// branch: 1 / (1 - (budget >>> 31)) divides by zero exactly when the budget
// went below zero. (An if … unreachable at every call made the engine's
// compile time grow with the square of a function's calls.) It leaves the
// operand stack as it found it:
//
//	global.get; i32.const cost; i32.sub; global.set
//	i32.const 1; i32.const 1; global.get; i32.const 31; i32.shr_u; i32.sub; i32.div_u; drop
func (w *callWrapper) charge(out []byte, cost uint32) []byte {
	g := uleb(uint64(w.budget))
	out = append(append(out, 0x23), g...)
	out = append(append(out, 0x41), sleb(int64(cost))...)
	out = append(append(out, 0x6b, 0x24), g...)
	out = append(out, 0x41, 0x01, 0x41, 0x01, 0x23)
	out = append(out, g...)
	return append(out, 0x41, 0x1f, 0x76, 0x6b, 0x6e, 0x1a)
}

// refund gives cost back: global.get; i32.const cost; i32.add; global.set.
func (w *callWrapper) refund(out []byte, cost uint32) []byte {
	g := uleb(uint64(w.budget))
	out = append(append(out, 0x23), g...)
	out = append(append(out, 0x41), sleb(int64(cost))...)
	return append(append(out, 0x6a, 0x24), g...)
}

// skipImmediates reads past what follows an opcode, or refuses an
// instruction Outlet doesn't run. Calls and globals are read by the caller.
func (r *wasmReader) skipImmediates(op byte) error {
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if
		r.blockType()
	case op == 0x0c || op == 0x0d: // br, br_if
		r.u32()
	case op == 0x0e: // br_table
		n := r.u32()
		for range n {
			if r.err != nil {
				break
			}
			r.u32()
		}
		r.u32()
	case op == 0x12 || op == 0x13 || op == 0x14 || op == 0x15:
		return errors.New("can't run: it makes tail calls or calls through function references, which Outlet doesn't run")
	case op >= 0x06 && op <= 0x0a, op == 0x18, op == 0x19, op == 0x1f:
		return errors.New("can't run: it uses exception handling, which Outlet doesn't run")
	case op == 0x1c: // select t*
		n := r.u32()
		for range n {
			if r.err != nil {
				break
			}
			r.valType()
		}
	case op >= 0x20 && op <= 0x22, op == 0x25, op == 0x26: // locals, table.get/set
		r.u32()
	case op >= 0x28 && op <= 0x3e: // loads and stores
		r.memArg()
	case op == 0x3f || op == 0x40: // memory.size, memory.grow
		r.u32()
	case op == 0x41: // i32.const
		r.sleb()
	case op == 0x42: // i64.const
		r.sleb()
	case op == 0x43:
		r.skip(4)
	case op == 0x44:
		r.skip(8)
	case op == 0xd0: // ref.null
		r.s33()
	case op == 0xd2, op == 0xd5, op == 0xd6: // ref.func, br_on_null, br_on_non_null
		r.u32()
	case op == 0xfc:
		return r.skipMisc()
	case op == 0xfd:
		return r.skipSIMD()
	case op == 0xfe:
		return r.skipAtomic()
	case op == 0xfb:
		return errors.New("can't run: it uses the GC proposal's instructions, which Outlet doesn't run")
	case op <= 0x01, op == 0x05, op == 0x0b, op == 0x0f, op == 0x1a, op == 0x1b, op >= 0x45 && op <= 0xc4,
		op == 0xd1, op == 0xd3, op == 0xd4:
		// no immediates
	default:
		return fmt.Errorf("is malformed: it has an instruction of unknown opcode 0x%02x", op)
	}
	return nil
}

// blockType reads a block's type: empty, one value type, or a type index.
func (r *wasmReader) blockType() {
	if len(r.b) == 0 {
		r.byte()
		return
	}
	switch c := r.b[0]; {
	case c == 0x63 || c == 0x64:
		r.byte()
		r.s33()
	case c&0x80 == 0:
		r.byte()
	default:
		r.s33()
	}
}

// memArg reads a memory argument: alignment (bit 6 says a memory index
// follows) and offset.
func (r *wasmReader) memArg() {
	if align := r.u32(); align&0x40 != 0 {
		r.u32()
	}
	r.u64()
}

func (r *wasmReader) skipMisc() error {
	switch sub := r.u32(); {
	case sub <= 7: // saturating truncations
	case sub == 8 || sub == 10 || sub == 12 || sub == 14: // memory.init, memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case sub == 9 || sub == 11 || sub == 13 || (sub >= 15 && sub <= 17): // data.drop, memory.fill, elem.drop, table.grow/size/fill
		r.u32()
	default:
		return fmt.Errorf("can't run: it has an instruction 0xfc %d, which Outlet doesn't run", sub)
	}
	return nil
}

// skipSIMD reads a vector instruction. Its sub-opcode is one byte, as the
// engine reads it (the spec's LEB128 spelling of the opcodes past 127 reads
// as the one-byte opcode and a nop, to both): reading it any other way could
// copy a byte the engine runs as a call or a global.set as an immediate.
func (r *wasmReader) skipSIMD() error {
	switch sub := r.byte(); {
	case sub <= 11, sub == 92, sub == 93: // loads, store
		r.memArg()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		r.skip(16)
	case sub >= 21 && sub <= 34: // extract and replace lane
		r.skip(1)
	case sub >= 84 && sub <= 91: // load and store lane
		r.memArg()
		r.skip(1)
	default:
		// no immediates
	}
	return nil
}

// skipAtomic reads an atomic instruction, its sub-opcode one byte as the
// engine reads it.
func (r *wasmReader) skipAtomic() error {
	switch sub := r.byte(); {
	case sub == 0x03: // atomic.fence
		r.skip(1)
	case sub <= 0x02, sub >= 0x10 && sub <= 0x4e:
		r.memArg()
	default:
		return fmt.Errorf("can't run: it has an atomic instruction 0xfe %d, which Outlet doesn't run", sub)
	}
	return nil
}

func (r *wasmReader) skip(n int) {
	if len(r.b) < n {
		r.b = nil
		if r.err == nil {
			r.err = errors.New("unexpected end")
		}
		return
	}
	r.b = r.b[n:]
}

// sleb reads past a signed number of up to 64 bits.
func (r *wasmReader) sleb() {
	for range 10 {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	if r.err == nil {
		r.err = errors.New("a number is too long")
	}
}

// u64 reads past an unsigned number of up to 64 bits.
func (r *wasmReader) u64() { r.sleb() }
