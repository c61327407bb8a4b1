package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Outlet reads and rewrites a plugin's binary before compiling it, for what
// wazero can't bound:
//
//   - Tables. wazero allocates a table's initial size at instantiation and
//     grows it on table.grow up to its declared maximum, all outside any
//     memory limit. So a table without a maximum gets its initial size as
//     one (table.grow then answers -1, as the spec lets a host do), and
//     every table counts against the instance's memory at its maximum.
//   - The call stack. wazero grows an instance's stack up to about 100 MB
//     before it reports an overflow, and keeps it between calls. So every
//     call in the module's code is wrapped: before it, an estimate of the
//     callee's frame is taken from a budget (a trap past it); after it, it
//     is given back. The rest of the code is copied unchanged, and no index
//     of the module's changes.
//
// The budget is a global after the module's own, which its code may not
// name (the rewrite refuses a module that does: it would be invalid as
// deployed), exported to the host as wasmStackExport so each instance gets
// its own share of its memory limit.

const (
	// wasmTableEntryBytes is what wazero keeps per table entry.
	wasmTableEntryBytes = 8
	// wasmElemEntryBytes is what wazero keeps per element segment entry in
	// each instance (measured: about 41).
	wasmElemEntryBytes = 48
	// wasmMaxFunctions bounds the functions a module may define: the engine
	// keeps a record of each per instance.
	wasmMaxFunctions = 200_000
	// wasmStackExport names the stack budget global for the host.
	wasmStackExport = "outlet.stack_budget"
)

// wasmModuleInfo is what Outlet read of a module.
type wasmModuleInfo struct {
	minPages   uint32 // the initial size of its memory, allocated at instantiation
	tableBytes uint64 // what its tables may grow to, at wasmTableEntryBytes an entry
	elemBytes  uint64 // what the engine keeps of its element segments, per instance
	tables     []wasmTable
}

// reserved is what an instance of the module holds outside its linear
// memory, at most: its tables at their maximum and its element segments.
func (i wasmModuleInfo) reserved() uint64 { return i.tableBytes + i.elemBytes }

type wasmTable struct {
	min, max uint32 // max is the declared one, or min when none was
	declared bool   // a maximum was declared
}

// wasmStackBytes is the share of an instance's memory limit its call stack
// may take.
func wasmStackBytes(limit uint64) uint64 { return limit / 8 }

// fits checks that a module can start within a memory limit of memoryMB,
// saying which of its declarations is in the way if not.
func (i wasmModuleInfo) fits(memoryMB int) error {
	limit := uint64(memoryMB) << 20
	stack := wasmStackBytes(limit)
	mem := uint64(i.minPages) << 16
	for n, t := range i.tables {
		if bytes := uint64(t.max) * wasmTableEntryBytes; bytes > limit-stack {
			what := "starts with"
			if t.declared && t.max > t.min {
				what = "may grow to"
			}
			return fmt.Errorf("its table %d %s %d entries (%s), past the function's memory limit of %d MiB (memory_mb) less the call stack's share (%s); declare a smaller table, or raise memory_mb",
				n, what, t.max, mib(bytes), memoryMB, mib(stack))
		}
	}
	if mem+i.reserved()+stack > limit {
		return fmt.Errorf("it needs %s to start — its memory's initial %d pages (%s), its tables at their maximum and element segments (%s) and the call stack's share (%s) — past the function's memory limit of %d MiB (memory_mb); raise memory_mb, or declare less",
			mib(mem+i.reserved()+stack), i.minPages, mib(mem), mib(i.reserved()), mib(stack), memoryMB)
	}
	return nil
}

func mib(b uint64) string {
	if b >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", (b+1023)>>10)
}

// Section ids, and the order non-custom sections must come in.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secElement   = 9
	secCode      = 10
	secDataCount = 12
	secTag       = 13
)

var wasmSectionOrder = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

// wasmFuncType is a function type: its encoding (which identifies it) and
// its arity.
type wasmFuncType struct {
	sig             string
	params, results int
}

// wasmRewrite reads a module and returns the binary to compile in its place,
// with what it read. Its errors say what is wrong with the module, to follow
// "the WebAssembly module ": "is malformed: …" or "can't run: …". The
// module is validated after, as rewritten; a module whose code names the
// budget's global (which was not there to name) is refused here.
func wasmRewrite(code []byte) ([]byte, wasmModuleInfo, error) {
	var info wasmModuleInfo
	if len(code) < 8 {
		return nil, info, errors.New("is malformed: it is too short")
	}
	type section struct {
		id   byte
		body []byte
	}
	var sections []section
	r := wasmReader{b: code[8:]}
	for len(r.b) > 0 {
		id := r.byte()
		size := r.u32()
		if r.err != nil || uint64(size) > uint64(len(r.b)) {
			return nil, info, errors.New("is malformed: a section runs past the end of the module")
		}
		sections = append(sections, section{id, r.b[:size]})
		r.b = r.b[size:]
	}

	var (
		types         []wasmFuncType
		importedFuncs uint32
		funcTypes     []uint32
		globals       uint32
		exportNames   = map[string]bool{}
	)
	for _, s := range sections {
		b := wasmReader{b: s.body}
		switch s.id {
		case secType:
			n := b.u32()
			for range n {
				if b.err != nil {
					break
				}
				if form := b.byte(); form != 0x60 {
					return nil, info, fmt.Errorf("can't run: its type section has a type of form 0x%02x; Outlet runs function types only (no GC proposal types)", form)
				}
				// A type is known by its structure, as the engine matches an
				// indirect call's type, not by its bytes (a count may be
				// spelt in more bytes than it needs).
				params, pSig := b.valTypes()
				results, rSig := b.valTypes()
				types = append(types, wasmFuncType{params: params, results: results, sig: pSig + "->" + rSig})
			}
		case secImport:
			n := b.u32()
			for range n {
				module, name := b.name(), b.name()
				switch kind := b.byte(); kind {
				case 0x00:
					b.u32()
					importedFuncs++
				case 0x02:
					return nil, info, fmt.Errorf("can't run: it imports its memory (%s.%s); an Extism plugin defines its own", module, name)
				default:
					what := map[byte]string{0x01: "a table", 0x03: "a global", 0x04: "a tag"}[kind]
					if what == "" {
						what = fmt.Sprintf("something of kind 0x%02x", kind)
					}
					return nil, info, fmt.Errorf("can't run: it imports %s (%s.%s); Outlet provides functions only", what, module, name)
				}
				if b.err != nil {
					break
				}
			}
		case secFunction:
			n := b.u32()
			if n > wasmMaxFunctions {
				return nil, info, fmt.Errorf("can't run: it defines %d functions; Outlet runs modules of at most %d", n, wasmMaxFunctions)
			}
			for range n {
				funcTypes = append(funcTypes, b.u32())
				if b.err != nil {
					break
				}
			}
		case secTable:
			n := b.u32()
			for range n {
				if b.err != nil {
					break
				}
				if len(b.b) > 0 && b.b[0] == 0x40 {
					return nil, info, errors.New("can't run: it declares a table with an initializer expression, which Outlet doesn't run")
				}
				t, err := b.tableType()
				if err != nil {
					return nil, info, err
				}
				info.tables = append(info.tables, t)
				info.tableBytes += uint64(t.max) * wasmTableEntryBytes
			}
		case secMemory:
			if n := b.u32(); n > 0 && b.err == nil {
				flags := b.byte()
				pages := b.u32()
				if flags > 7 {
					return nil, info, errors.New("is malformed: its memory section has limits of an unknown kind")
				}
				info.minPages = pages
			}
		case secGlobal:
			globals = b.u32()
		case secElement:
			n := b.u32()
			for range n {
				entries, err := b.elemSegment()
				if err != nil {
					return nil, info, err
				}
				info.elemBytes += entries * wasmElemEntryBytes
				if b.err != nil {
					break
				}
			}
		case secExport:
			n := b.u32()
			for range n {
				exportNames[b.name()] = true
				b.byte()
				b.u32()
				if b.err != nil {
					break
				}
			}
		}
		if b.err != nil {
			return nil, info, fmt.Errorf("is malformed: its %s section: %v", sectionName(s.id), b.err)
		}
	}
	if exportNames[wasmStackExport] {
		return nil, info, fmt.Errorf("can't run: it exports %q, a name Outlet keeps for itself", wasmStackExport)
	}
	for _, t := range funcTypes {
		if int(t) >= len(types) {
			return nil, info, fmt.Errorf("is malformed: a function has type %d, which the module doesn't define", t)
		}
	}

	budget := globals // the index of the budget's global: after the module's own, none imported
	defined := uint32(len(funcTypes))
	// What a call costs: its callee's frame. Imported functions are Go's,
	// and run on Go's stack. The callee of an indirect call is any function
	// of its type.
	costs := make([]uint32, importedFuncs+defined)
	for i := range importedFuncs {
		costs[i] = wasmHostCallCost
	}
	bySig := map[string]uint32{}
	var out bytes.Buffer
	out.Write(code[:8])
	put := func(id byte, body []byte) {
		out.WriteByte(id)
		out.Write(uleb(uint64(len(body))))
		out.Write(body)
	}
	pending := []byte{secGlobal, secExport}
	flush := func(before int) {
		for len(pending) > 0 && wasmSectionOrder[pending[0]] < before {
			switch pending[0] {
			case secGlobal:
				put(secGlobal, append(uleb(1), wasmBudgetGlobal...))
			case secExport:
				put(secExport, append(uleb(1), wasmBudgetExport(budget)...))
			}
			pending = pending[1:]
		}
	}
	for _, s := range sections {
		if s.id != secCustom {
			flush(wasmSectionOrder[s.id])
		}
		b := wasmReader{b: s.body}
		switch s.id {
		case secTable:
			put(s.id, rewriteTables(s.body))
		case secGlobal:
			n := b.u32()
			body := append(uleb(uint64(n)+1), b.b...)
			put(s.id, append(body, wasmBudgetGlobal...))
			pending = dropPending(pending, secGlobal)
		case secExport:
			n := b.u32()
			body := append(uleb(uint64(n)+1), b.b...)
			put(s.id, append(body, wasmBudgetExport(budget)...))
			pending = dropPending(pending, secExport)
		case secCode:
			n := b.u32()
			if n != defined || b.err != nil {
				return nil, info, fmt.Errorf("is malformed: it has %d function bodies for %d functions", n, defined)
			}
			bodies := make([][]byte, n)
			for i := range n {
				size := b.u32()
				if b.err != nil || uint64(size) > uint64(len(b.b)) {
					return nil, info, errors.New("is malformed: a function body runs past the end of its section")
				}
				bodies[i] = b.b[:size]
				b.b = b.b[size:]
				locals, err := bodyLocals(bodies[i])
				var many errLocals
				if errors.As(err, &many) {
					return nil, info, fmt.Errorf("can't run: %v (function %d)", err, importedFuncs+i)
				}
				if err != nil {
					return nil, info, fmt.Errorf("is malformed: %v (function %d)", err, importedFuncs+i)
				}
				ft := types[funcTypes[i]]
				c := frameCost(ft, locals, len(bodies[i]))
				costs[importedFuncs+i] = c
				bySig[ft.sig] = max(bySig[ft.sig], c)
			}
			w := callWrapper{budget: budget, globals: globals, costs: costs, types: types, bySig: bySig}
			body := uleb(uint64(n))
			for i, fb := range bodies {
				wrapped, err := w.wrap(fb)
				if err != nil {
					return nil, info, fmt.Errorf("%v (in function %d)", err, importedFuncs+uint32(i))
				}
				body = append(body, uleb(uint64(len(wrapped)))...)
				body = append(body, wrapped...)
			}
			put(s.id, body)
		default:
			put(s.id, s.body)
		}
	}
	flush(1 << 30)
	return out.Bytes(), info, nil
}

func dropPending(p []byte, id byte) []byte {
	for i, x := range p {
		if x == id {
			return append(p[:i:i], p[i+1:]...)
		}
	}
	return p
}

// wasmBudgetGlobal is the budget's global: a mutable i32, 0 until the host
// sets it.
var wasmBudgetGlobal = []byte{0x7f, 0x01, 0x41, 0x00, 0x0b}

func wasmBudgetExport(index uint32) []byte {
	b := append(uleb(uint64(len(wasmStackExport))), wasmStackExport...)
	b = append(b, 0x03) // a global
	return append(b, uleb(uint64(index))...)
}

// rewriteTables gives every table without a maximum its initial size as one.
// The section was read already, so it is well formed.
func rewriteTables(body []byte) []byte {
	r := wasmReader{b: body}
	n := r.u32()
	out := uleb(uint64(n))
	for range n {
		start := r.b
		r.refType()
		out = append(out, start[:len(start)-len(r.b)]...)
		t, _ := r.tableLimits()
		out = append(out, 0x01)
		out = append(out, uleb(uint64(t.min))...)
		out = append(out, uleb(uint64(t.max))...)
	}
	return out
}

// tableType reads a table's type: a reference type and limits.
func (r *wasmReader) tableType() (wasmTable, error) {
	r.refType()
	return r.tableLimits()
}

// tableLimits reads a table's limits; the maximum is the minimum when none
// was declared.
func (r *wasmReader) tableLimits() (wasmTable, error) {
	switch flags := r.byte(); flags {
	case 0x00:
		n := r.u32()
		return wasmTable{min: n, max: n}, nil
	case 0x01:
		return wasmTable{min: r.u32(), max: r.u32(), declared: true}, nil
	default:
		return wasmTable{}, fmt.Errorf("can't run: it declares a table with limits of kind 0x%02x (64-bit or shared), which Outlet doesn't run", flags)
	}
}

// wasmMaxLocals bounds the locals of one function, as browsers' engines do:
// the engine allocates for each when it compiles the function.
const wasmMaxLocals = 50_000

// bodyLocals counts a function body's declared locals.
func bodyLocals(body []byte) (uint64, error) {
	r := wasmReader{b: body}
	groups := r.u32()
	var n uint64
	for range groups {
		n += uint64(r.u32())
		r.valType()
		if r.err != nil {
			return 0, fmt.Errorf("its locals are malformed: %v", r.err)
		}
		if n > wasmMaxLocals {
			return 0, errLocals(n)
		}
	}
	return n, r.err
}

type errLocals uint64

func (e errLocals) Error() string {
	return fmt.Sprintf("it declares more than %d locals (%d at least); Outlet runs functions of at most %d", wasmMaxLocals, uint64(e), wasmMaxLocals)
}

// frameCost estimates the bytes of the engine's stack one call of a function
// takes: its parameters, results and locals (16 bytes each: a v128 takes
// that), and room for the values the
// compiled body keeps on the stack across its calls, which grows with the
// body: a byte of stack per byte of body covers a body that keeps every
// value it computes live across a call (measured:
// TestWasmCallsKeepingManyValuesLiveStayWithinTheShare).
func frameCost(ft wasmFuncType, locals uint64, bodyLen int) uint32 {
	c := 64 + 16*(uint64(ft.params)+uint64(ft.results)+locals) + uint64(bodyLen)
	return uint32(min(c, 1<<24))
}

// wasmHostCallCost is what a call of a host function costs the budget: the
// host's Go code runs on Go's stack, not the engine's.
const wasmHostCallCost = 64

func sectionName(id byte) string {
	if n, ok := map[byte]string{1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global", 7: "export",
		8: "start", 9: "element", 10: "code", 11: "data", 12: "data count", 13: "tag"}[id]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", id)
}

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// wasmReader reads the bytes and LEB128 numbers of a module's sections.
type wasmReader struct {
	b   []byte
	err error
}

func (r *wasmReader) byte() byte {
	if len(r.b) == 0 {
		if r.err == nil {
			r.err = errors.New("unexpected end")
		}
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
	if r.err == nil {
		r.err = errors.New("a number is too long")
	}
	return 0
}

// s33 reads a signed number of up to 33 bits: a heap type.
func (r *wasmReader) s33() int64 {
	var v int64
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= int64(c&0x7f) << shift
		if c&0x80 == 0 {
			if shift+7 < 64 && c&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			return v
		}
	}
	if r.err == nil {
		r.err = errors.New("a number is too long")
	}
	return 0
}

func (r *wasmReader) name() string {
	n := r.u32()
	if r.err != nil || uint64(n) > uint64(len(r.b)) {
		if r.err == nil {
			r.err = errors.New("a name runs past the end")
		}
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// valType reads a value type: one byte, or a reference type with a heap
// type after it. It returns the type in one spelling, whatever the bytes.
func (r *wasmReader) valType() string {
	c := r.byte()
	if c == 0x63 || c == 0x64 {
		return string(c) + strconv.FormatInt(r.s33(), 10) + ";"
	}
	return string(c)
}

func (r *wasmReader) refType() { r.valType() }

// valTypes reads a vector of value types: its length, and the types in one
// spelling.
func (r *wasmReader) valTypes() (int, string) {
	n := r.u32()
	var sig strings.Builder
	for range n {
		sig.WriteString(r.valType())
		if r.err != nil {
			return 0, ""
		}
	}
	return int(n), sig.String()
}

// elemSegment reads an element segment and returns how many entries it has.
func (r *wasmReader) elemSegment() (uint64, error) {
	flags := r.u32()
	if flags > 7 {
		return 0, fmt.Errorf("is malformed: an element segment of kind %d", flags)
	}
	if flags&3 == 2 { // an explicit table
		r.u32()
	}
	if flags&1 == 0 { // active: an offset
		if err := r.constExpr(); err != nil {
			return 0, err
		}
	}
	exprs := flags&4 != 0
	if flags&3 != 0 { // an element kind or a reference type
		if exprs {
			r.refType()
		} else {
			r.byte()
		}
	}
	n := r.u32()
	for range n {
		if r.err != nil {
			break
		}
		if exprs {
			if err := r.constExpr(); err != nil {
				return 0, err
			}
		} else {
			r.u32()
		}
	}
	return uint64(n), nil
}

// constExpr reads a constant expression, up to its end.
func (r *wasmReader) constExpr() error {
	for r.err == nil {
		op := r.byte()
		if op == 0x0b {
			return nil
		}
		switch op {
		case 0x23: // global.get
			r.u32()
		default:
			if err := r.skipImmediates(op); err != nil {
				return err
			}
		}
	}
	return nil
}
