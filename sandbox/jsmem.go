package sandbox

import (
	"reflect"
	"unsafe"

	lib "modernc.org/libquickjs"
	"modernc.org/quickjs"
)

// The engine's memory, as it counts it. The quickjs package doesn't expose
// its runtime, so these read the engine's own structures (libquickjs's
// exported types) through the VM's runtime pointer. They are tied to the
// versions in go.mod; TestJSMemoryIsReadFromTheEngine fails if an upgrade
// moves anything.

// jsRuntime is the VM's C runtime (a JSRuntime*, in memory the engine
// allocated outside Go's heap).
func jsRuntime(vm *quickjs.VM) uintptr {
	rt := reflect.ValueOf(vm).Elem().FieldByName("runtime")
	if !rt.IsValid() || rt.IsNil() {
		return 0
	}
	return uintptr(rt.Elem().FieldByName("cRuntime").Uint())
}

// jsHeapBytes is what the VM's engine has allocated (QuickJS's malloc_size):
// its objects, strings, shapes and compiled code.
func jsHeapBytes(vm *quickjs.VM) uint64 {
	rt := jsRuntime(vm)
	if rt == 0 {
		return 0
	}
	return uint64((*lib.TJSRuntime)(unsafe.Add(nil, rt)).Fmalloc_ctx.Fmalloc_state.Fmalloc_size)
}

// jsStackBytes is the share of a function's memory limit its call stack may
// take. The engine's frames live outside its heap (and outside its memory
// limit): each call of a function takes 16 bytes per argument, local
// variable and operand stack slot, so a function with tens of thousands of
// locals takes a megabyte a call, and its limit in frames alone would let
// recursion take gigabytes. So the heap gets the rest of memory_mb, and the
// call depth is bounded by bytes too (jsFrameBound).
func jsStackBytes(lim Limits) uint64 {
	return uint64(lim.MemoryMB) << 20 / 8
}

// jsFrameBound is how deep calls may go in the VM so that even frames of its
// largest function fit in its stack share: the stack share divided by that
// function's frame, at most lim.MaxFrames. It looks at every function the
// engine has compiled: the bootstrap's and the module's, nested ones
// included.
func jsFrameBound(vm *quickjs.VM, lim Limits) int {
	largest := jsLargestFrame(vm)
	if largest == 0 {
		return lim.MaxFrames
	}
	return int(min(uint64(lim.MaxFrames), max(jsStackBytes(lim)/largest, 1)))
}

// jsLargestFrame is the most bytes one call of any compiled function takes
// on the engine's stack: what JS_CallInternal allocates for its arguments,
// locals, operand stack and variable references.
func jsLargestFrame(vm *quickjs.VM) uint64 {
	rt := jsRuntime(vm)
	if rt == 0 {
		return 0
	}
	// Every object the collector tracks is on gc_obj_list, linked through
	// its header; the object's type is in the top byte of the reference
	// count word just before the header.
	head := rt + unsafe.Offsetof(lib.TJSRuntime{}.Fgc_obj_list)
	var largest uint64
	for p := (*lib.Tlist_head)(unsafe.Add(nil, head)).Fnext; p != head && p != 0; p = (*lib.Tlist_head)(unsafe.Add(nil, p)).Fnext {
		if *(*uint8)(unsafe.Add(nil, p-8+3))&0x7f != lib.EJS_GC_OBJ_TYPE_FUNCTION_BYTECODE {
			continue
		}
		b := (*lib.TJSFunctionBytecode)(unsafe.Add(nil, p))
		frame := 16*(uint64(b.Farg_count)+uint64(b.Fvar_count)+uint64(b.Fstack_size)) + 8*uint64(b.Fvar_ref_count)
		largest = max(largest, frame)
	}
	return largest
}
