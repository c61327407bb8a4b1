package sandbox

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// kernelMaxVars bounds the bytes of an instance's vars, as the reference
// host's default does; each counts its key, its value and kernelVarCost.
const (
	kernelMaxVars = 1 << 20
	kernelVarCost = 64
)

// kernelLogLevel is what get_log_level answers: info, in the PDKs' numbering
// (trace 0, debug 1, info 2, warn 3, error 4). PDKs don't send what is below.
const kernelLogLevel = 2

// kernelMaxError bounds the message a plugin sets with error_set.
const kernelMaxError = 4 << 10

// kernelHostModule defines extism:host/env: the whole set the reference host
// exports to plugins, less input_set and reset, which only a host calls.
func kernelHostModule(rt wazero.Runtime) wazero.HostModuleBuilder {
	b := rt.NewHostModuleBuilder(wasmEnvModule)
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	types := func(ts ...api.ValueType) []api.ValueType { return ts }
	def := func(name string, params, results []api.ValueType, f func(in *wasmInstance, stack []uint64)) {
		b.NewFunctionBuilder().WithGoFunction(api.GoFunc(func(ctx context.Context, stack []uint64) {
			in, ok := ctx.Value(wasmCallKey{}).(*wasmInstance)
			if !ok || in.ctx == nil {
				panic(errors.New(name + " was called outside of a call to the plugin"))
			}
			f(in, stack)
		}), params, results).Export(name)
	}

	// The kernel's memory.
	def("alloc", types(i64), types(i64), func(in *wasmInstance, s []uint64) { s[0] = in.alloc(s[0]) })
	def("free", types(i64), nil, func(in *wasmInstance, s []uint64) { in.kernel.release(s[0]) })
	def("length", types(i64), types(i64), func(in *wasmInstance, s []uint64) { s[0] = in.kernel.length(s[0]) })
	def("length_unsafe", types(i64), types(i64), func(in *wasmInstance, s []uint64) { s[0] = in.kernel.length(s[0]) })
	def("load_u8", types(i64), types(i32), func(in *wasmInstance, s []uint64) { s[0] = uint64(in.span("load_u8", s[0], 1)[0]) })
	def("load_u64", types(i64), types(i64), func(in *wasmInstance, s []uint64) {
		s[0] = binary.LittleEndian.Uint64(in.span("load_u64", s[0], 8))
	})
	def("store_u8", types(i64, i32), nil, func(in *wasmInstance, s []uint64) { in.span("store_u8", s[0], 1)[0] = byte(s[1]) })
	def("store_u64", types(i64, i64), nil, func(in *wasmInstance, s []uint64) {
		binary.LittleEndian.PutUint64(in.span("store_u64", s[0], 8), s[1])
	})
	def("memory_bytes", nil, types(i64), func(in *wasmInstance, s []uint64) { s[0] = in.kernel.size() })

	// Input, output and error.
	def("input_length", nil, types(i64), func(in *wasmInstance, s []uint64) { s[0] = uint64(len(in.input)) })
	def("input_offset", nil, types(i64), func(in *wasmInstance, s []uint64) { s[0] = in.inputOffset() })
	def("input_load_u8", types(i64), types(i32), func(in *wasmInstance, s []uint64) { s[0] = uint64(in.inputSpan("input_load_u8", s[0], 1)[0]) })
	def("input_load_u64", types(i64), types(i64), func(in *wasmInstance, s []uint64) {
		s[0] = binary.LittleEndian.Uint64(in.inputSpan("input_load_u64", s[0], 8))
	})
	def("output_set", types(i64, i64), nil, func(in *wasmInstance, s []uint64) { in.setOutput(s[0], s[1]) })
	def("output_length", nil, types(i64), func(in *wasmInstance, s []uint64) { s[0] = uint64(len(in.output)) })
	def("output_offset", nil, types(i64), func(in *wasmInstance, s []uint64) { s[0] = in.outputOff })
	def("error_set", types(i64), nil, func(in *wasmInstance, s []uint64) { in.setError(s[0]) })
	def("error_get", nil, types(i64), func(in *wasmInstance, s []uint64) { s[0] = in.errOff })

	// Config (the tenant's secrets) and vars.
	def("config_get", types(i64), types(i64), func(in *wasmInstance, s []uint64) { s[0] = in.configGet(s[0]) })
	def("var_get", types(i64), types(i64), func(in *wasmInstance, s []uint64) { s[0] = in.varGet(s[0]) })
	def("var_set", types(i64, i64), nil, func(in *wasmInstance, s []uint64) { in.varSet(s[0], s[1]) })

	// HTTP, through Outlet's fetcher and nothing else.
	def("http_request", types(i64, i64), types(i64), func(in *wasmInstance, s []uint64) { s[0] = in.httpRequest(s[0], s[1]) })
	def("http_status_code", nil, types(i32), func(in *wasmInstance, s []uint64) { s[0] = uint64(uint32(in.status)) })
	def("http_headers", nil, types(i64), func(in *wasmInstance, s []uint64) { s[0] = in.httpHeaders() })

	// Logs.
	for name, level := range map[string]string{
		"log_trace": "trace", "log_debug": "debug", "log_info": "info", "log_warn": "warn", "log_error": "error",
	} {
		def(name, types(i64), nil, func(in *wasmInstance, s []uint64) { in.log(level, s[0]) })
	}
	def("get_log_level", nil, types(i32), func(in *wasmInstance, s []uint64) { s[0] = kernelLogLevel })
	return b
}

// trap ends the call with a runtime_error.
func (in *wasmInstance) trap(format string, args ...any) {
	in.fail = errorf(CodeRuntimeError, format, args...)
	panic(in.fail)
}

// room is how much kernel memory the instance may hold: what its linear
// memory leaves of the limit.
func (in *wasmInstance) room() uint64 {
	used := uint64(cap(in.linear.buf)) + in.reserved()
	return in.limit - min(used, in.limit)
}

func (in *wasmInstance) alloc(n uint64) uint64 {
	off, ok := in.kernel.alloc(n, in.room())
	if !ok {
		in.fail = errorf(CodeMemoryLimit, "the plugin asked the host for %d bytes, past its memory limit of %d MiB", n, in.limit>>20)
		panic(in.fail)
	}
	return off
}

// write puts b in a new block and returns its offset, 0 when b is empty.
func (in *wasmInstance) write(b []byte) uint64 {
	off := in.alloc(uint64(len(b)))
	copy(in.kernel.buf[off:], b)
	return off
}

func (in *wasmInstance) span(op string, off, n uint64) []byte {
	b, ok := in.kernel.span(off, n)
	if !ok {
		in.trap("%s at offset %d: outside the memory the plugin allocated", op, off)
	}
	return b
}

func (in *wasmInstance) inputSpan(op string, off, n uint64) []byte {
	if off > uint64(len(in.input)) || n > uint64(len(in.input))-off {
		in.trap("%s at offset %d: past the end of the %d-byte input", op, off, len(in.input))
	}
	return in.input[off : off+n]
}

// block is the content of a block the plugin passed, "" when off isn't one.
func (in *wasmInstance) block(off uint64) []byte {
	b, _ := in.kernel.bytes(off)
	return b
}

// inputOffset copies the input into kernel memory for the PDKs that read it
// there, once per call.
func (in *wasmInstance) inputOffset() uint64 {
	if in.inputOff == 0 {
		in.inputOff = in.write(in.input)
	}
	return in.inputOff
}

func (in *wasmInstance) setOutput(off, n uint64) {
	if n > uint64(in.maxOutput) {
		in.trap("the output is %d bytes; the limit is %d", n, in.maxOutput)
	}
	var b []byte
	if n > 0 {
		b = in.span("output_set", off, n)
	}
	in.output, in.outputSet, in.outputOff = append(in.output[:0], b...), true, off
}

func (in *wasmInstance) setError(off uint64) {
	in.errOff = off
	if off == 0 {
		in.errMsg = ""
		return
	}
	in.errMsg = in.clipText(in.block(off), kernelMaxError)
}

// configGet answers a config key: a secret's name, or one of the "outlet."
// keys that say what the call is (secret names can't hold a dot).
func (in *wasmInstance) configGet(keyOff uint64) uint64 {
	key := string(in.block(keyOff))
	v, ok := in.secrets[key]
	if !ok {
		v, ok = in.meta.config(key)
	}
	if !ok {
		return 0
	}
	return in.write([]byte(v))
}

func (in *wasmInstance) varGet(keyOff uint64) uint64 {
	key := string(in.block(keyOff))
	v, ok := in.vars[key]
	if !ok {
		return 0
	}
	return in.write(v)
}

func (in *wasmInstance) varSet(keyOff, valOff uint64) {
	key := string(in.block(keyOff))
	if old, ok := in.vars[key]; ok {
		in.varLen -= len(key) + len(old) + kernelVarCost
		delete(in.vars, key)
	}
	if valOff == 0 {
		return
	}
	v := in.block(valOff)
	if n := in.varLen + len(key) + len(v) + kernelVarCost; n > kernelMaxVars {
		in.trap("var_set %q: the plugin's vars would take %d bytes; the limit is %d", in.clipText([]byte(key), 100), n, kernelMaxVars)
	}
	if in.vars == nil {
		in.vars = map[string][]byte{}
	}
	in.vars[key] = append([]byte(nil), v...)
	in.varLen += len(key) + len(v) + kernelVarCost
}

func (in *wasmInstance) httpRequest(reqOff, bodyOff uint64) uint64 {
	in.status, in.headers = 0, map[string]string{}
	var req struct {
		URL     string            `json:"url"`
		Method  string            `json:"method"`
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(in.block(reqOff), &req); err != nil {
		in.trap("http_request: the request is not the JSON {url, method, headers}: %v", err)
	}
	fr := fetchRequest{URL: req.URL, Method: req.Method, Headers: req.Headers}
	if bodyOff != 0 {
		body := string(in.block(bodyOff))
		fr.Body = &body
	}
	resp, err := in.engine.fetch.do(in.ctx, in.fetchBudget, fr)
	if err != nil {
		if in.ctx.Err() != nil {
			panic(in.ctx.Err()) // the invocation's time is up: a timeout, not the request's fault
		}
		in.trap("http_request to %s failed: %v", req.URL, err)
	}
	in.status, in.headers = int32(resp.Status), resp.Headers
	return in.write(resp.Raw)
}

func (in *wasmInstance) httpHeaders() uint64 {
	if in.headers == nil {
		return 0
	}
	b, _ := json.Marshal(in.headers)
	return in.write(b)
}

// log frees the message, as the reference host does: PDKs allocate one per
// line and never free it, and a chatty plugin would fill its memory. Other
// blocks a plugin passes stay its own to free — PDKs free them, and a block
// freed twice may be one handed out again in between.
func (in *wasmInstance) log(level string, off uint64) {
	in.logs.add(level, string(in.block(off)))
	in.kernel.release(off)
}

// clipText cuts b to at most n bytes for a message, and drops any start of
// a secret left at its end: masking happens later, on whole values only.
func (in *wasmInstance) clipText(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	s := strings.ToValidUTF8(string(b[:n]), "")
	for _, v := range in.secrets {
		if len(v) < 4 {
			continue
		}
		for k := min(len(v)-1, len(s)); k > 0; k-- {
			if strings.HasSuffix(s, v[:k]) {
				s = s[:len(s)-k]
				break
			}
		}
	}
	return s + "…"
}
