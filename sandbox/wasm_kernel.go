package sandbox

// The Extism "kernel" is the memory a plugin and its host pass data through:
// blocks the plugin allocates, fills and hands over by offset. The reference
// hosts run it as a second Wasm module; Outlet keeps it in Go, one arena per
// instance, emptied after every call.

// kernelBase is the first offset handed out: 0 means "no block" in the ABI.
const kernelBase = 8

// kernelKeep is the arena capacity kept between calls; a call that needed
// more gives it back when it ends.
const kernelKeep = 1 << 20

// kernelBlockCost is what the memory limit counts for keeping track of a
// block, so that a plugin can't fill the host's heap with tiny ones.
const kernelBlockCost = 64

// kernelBlock is one allocation. cap is len rounded up to 8, so that blocks
// of the same capacity can be reused.
type kernelBlock struct {
	len, cap uint64
	free     bool
}

// kernelMemory is an instance's arena. Offsets index buf directly; the bytes
// past len(buf) are not allocated yet.
type kernelMemory struct {
	buf    []byte
	high   int // how much of buf's capacity the call has touched
	blocks map[uint64]kernelBlock
	free   map[uint64][]uint64 // offsets of freed blocks, by capacity
}

// alloc hands out n bytes, keeping the arena within room bytes in all. It
// reports false when it can't.
func (k *kernelMemory) alloc(n, room uint64) (uint64, bool) {
	if n == 0 {
		return 0, true
	}
	c := (n + 7) &^ 7
	if c < n {
		return 0, false
	}
	if k.blocks == nil {
		k.blocks, k.free = map[uint64]kernelBlock{}, map[uint64][]uint64{}
	}
	if offs := k.free[c]; len(offs) > 0 {
		off := offs[len(offs)-1]
		k.free[c] = offs[:len(offs)-1]
		k.blocks[off] = kernelBlock{len: n, cap: c}
		return off, true
	}
	if len(k.buf) < kernelBase {
		k.buf = k.buf[:0]
		k.buf = append(k.buf, make([]byte, kernelBase)...)
	}
	off := uint64(len(k.buf))
	end := off + c
	if end < off || end+uint64(len(k.blocks)+1)*kernelBlockCost > room {
		return 0, false
	}
	if end > uint64(cap(k.buf)) {
		// Grow by doubling, never past room: the capacity is what the
		// memory limit counts.
		size := min(max(2*uint64(cap(k.buf)), end, 4096), room)
		b := make([]byte, end, size)
		copy(b, k.buf)
		k.buf = b
	} else {
		k.buf = k.buf[:end]
	}
	k.high = max(k.high, int(end))
	k.blocks[off] = kernelBlock{len: n, cap: c}
	return off, true
}

// release frees a block for reuse by an allocation of the same capacity.
// Freeing what isn't a live block does nothing. The bytes stay readable, as
// in the reference kernel: PDKs read blocks they have just freed.
func (k *kernelMemory) release(off uint64) {
	b, ok := k.blocks[off]
	if !ok || b.free {
		return
	}
	b.free = true
	k.blocks[off] = b
	k.free[b.cap] = append(k.free[b.cap], off)
}

// length is a live block's length, or 0 for an offset that isn't one.
func (k *kernelMemory) length(off uint64) uint64 {
	if b, ok := k.blocks[off]; ok && !b.free {
		return b.len
	}
	return 0
}

// bytes is a live block's content, which the caller must copy to keep.
func (k *kernelMemory) bytes(off uint64) ([]byte, bool) {
	b, ok := k.blocks[off]
	if !ok || b.free {
		return nil, false
	}
	return k.buf[off : off+b.len], true
}

// span is n bytes at off, for loads, stores and output, within what has been
// allocated.
func (k *kernelMemory) span(off, n uint64) ([]byte, bool) {
	if off < kernelBase || off > uint64(len(k.buf)) || n > uint64(len(k.buf))-off {
		return nil, false
	}
	return k.buf[off : off+n], true
}

// write allocates a block holding b.
func (k *kernelMemory) write(b []byte, room uint64) (uint64, bool) {
	off, ok := k.alloc(uint64(len(b)), room)
	if ok && off != 0 {
		copy(k.buf[off:], b)
	}
	return off, ok
}

// size is what the arena holds on to, for the memory limit.
func (k *kernelMemory) size() uint64 {
	return uint64(cap(k.buf)) + uint64(len(k.blocks))*kernelBlockCost
}

// reset empties the arena for the next call, zeroing what this one wrote so
// nothing of one call's data is visible to the next.
func (k *kernelMemory) reset() {
	if cap(k.buf) > kernelKeep {
		k.buf, k.high = nil, 0
	} else {
		clear(k.buf[:k.high])
		k.buf, k.high = k.buf[:0], 0
	}
	clear(k.blocks)
	clear(k.free)
}
