package sandbox

import (
	"sync/atomic"
	"testing"

	"github.com/outlethq/outlet"
)

// fakeEngine counts its closing.
type fakeEngine struct{ closed *atomic.Int32 }

func (f fakeEngine) close() { f.closed.Add(1) }

func TestTheWarmPool(t *testing.T) {
	t.Parallel()
	key := func(tenant, name, uid string) warmKey {
		return warmKey{tenant: tenant, name: name, uid: uid, runtime: outlet.RuntimeJavaScript}
	}
	t.Run("keeps engines within the budget, least recently used out first", func(t *testing.T) {
		var closed atomic.Int32
		p := newWarmPool(300, 300, 100)
		for i, k := range []warmKey{key("a", "f1", "1"), key("b", "f2", "2"), key("c", "f3", "3"), key("d", "f4", "4")} {
			p.put(k, fakeEngine{&closed}, 100, p.birth())
			if i < 3 && closed.Load() != 0 {
				t.Fatalf("closed %d engines within the budget", closed.Load())
			}
		}
		if closed.Load() != 1 || p.has(key("a", "f1", "1")) || !p.has(key("d", "f4", "4")) {
			t.Errorf("closed %d; want the least recently used one gone", closed.Load())
		}
	})
	t.Run("a tenant over its share loses its own engines, not others'", func(t *testing.T) {
		var closed atomic.Int32
		p := newWarmPool(1000, 250, 100)
		p.put(key("other", "f", "o"), fakeEngine{&closed}, 100, p.birth())
		for i := range 3 {
			p.put(key("greedy", "f", string(rune('a'+i))), fakeEngine{&closed}, 100, p.birth())
		}
		if !p.has(key("other", "f", "o")) || p.byTenant["greedy"] > 250 || closed.Load() != 1 {
			t.Errorf("greedy holds %d bytes (share 250), other kept %v, closed %d", p.byTenant["greedy"], p.has(key("other", "f", "o")), closed.Load())
		}
		if p.put(key("greedy", "huge", "h"), fakeEngine{&closed}, 300, p.birth()); p.has(key("greedy", "huge", "h")) {
			t.Error("an engine bigger than its tenant's share was kept")
		}
	})
	t.Run("discarding a tenant closes its engines and keeps those in use from coming back", func(t *testing.T) {
		var closed atomic.Int32
		p := newWarmPool(1000, 1000, 100)
		p.put(key("acme", "f", "1"), fakeEngine{&closed}, 10, p.birth())
		p.put(key("acme", "g", "2"), fakeEngine{&closed}, 10, p.birth())
		p.put(key("other", "f", "3"), fakeEngine{&closed}, 10, p.birth())
		inUse, born := p.take(key("acme", "f", "1"))
		made := p.birth() // an engine being made now
		p.discard("acme", "")
		if closed.Load() != 1 || p.has(key("acme", "g", "2")) || !p.has(key("other", "f", "3")) {
			t.Fatalf("closed %d; want acme's kept engine closed and other's kept", closed.Load())
		}
		p.put(key("acme", "f", "1"), inUse, 10, born)
		p.put(key("acme", "f", "1"), fakeEngine{&closed}, 10, made)
		if p.has(key("acme", "f", "1")) || closed.Load() != 3 {
			t.Errorf("engines taken or made before the discard came back (closed %d)", closed.Load())
		}
		p.put(key("acme", "f", "new"), fakeEngine{&closed}, 10, p.birth())
		if !p.has(key("acme", "f", "new")) {
			t.Error("an engine made after the discard was not kept")
		}
	})
	t.Run("discarding a function leaves the tenant's others", func(t *testing.T) {
		var closed atomic.Int32
		p := newWarmPool(1000, 1000, 100)
		p.put(key("acme", "f", "1"), fakeEngine{&closed}, 10, p.birth())
		p.put(key("acme", "g", "2"), fakeEngine{&closed}, 10, p.birth())
		p.discard("acme", "f")
		if p.has(key("acme", "f", "1")) || !p.has(key("acme", "g", "2")) {
			t.Error("discarding f closed the wrong engines")
		}
	})
	t.Run("past its memory of discards every engine out of the pool is stale", func(t *testing.T) {
		var closed atomic.Int32
		p := newWarmPool(1000, 1000, 100)
		born := p.birth()
		for i := range maxDiscarded + 1 {
			p.discard("t"+string(rune(i)), "")
		}
		p.put(key("acme", "f", "1"), fakeEngine{&closed}, 10, born)
		if p.has(key("acme", "f", "1")) || len(p.discarded) > maxDiscarded {
			t.Errorf("an engine from before forgotten discards came back; %d discards remembered", len(p.discarded))
		}
	})
}

func TestDiscardingATenantEndsItsWarmStateInTheSandbox(t *testing.T) {
	t.Parallel()
	s := setup(t, true)
	// The module keeps what its first call saw, as warm serverless code may.
	fn := deploy(t, s, "acme", outlet.RuntimeJavaScript, `let first; export default (e, ctx) => { first ??= ctx.secrets.KEY; return first }`)
	fn.UID, fn.TenantUID = "v1", "t1"
	if res := run(s, fn, `{}`, Limits{}, map[string]string{"KEY": "old-secret"}); string(res.Output) != `"old-secret"` {
		t.Fatalf("%s, %v", res.Output, res.Error)
	}
	waitWarm(t, s)
	s.Discard("acme", "")
	if st := s.WarmStats(); st.Engines[outlet.RuntimeJavaScript] != 0 {
		t.Errorf("%d engines stayed warm after their tenant was discarded", st.Engines[outlet.RuntimeJavaScript])
	}
	if res := run(s, fn, `{}`, Limits{}, map[string]string{"KEY": "new-secret"}); string(res.Output) != `"new-secret"` {
		t.Errorf("after the discard the function answered %s; want what a fresh engine sees", res.Output)
	}
	// A tenant made again under the same id, deploying the same code, has
	// another uid: nothing of the old one can serve it.
	again := fn
	again.UID, again.TenantUID = "v1-again", "t2"
	if keyOf(again, s.limits(Limits{})) == keyOf(fn, s.limits(Limits{})) {
		t.Error("a version of a tenant made again has the same warm key as the old one")
	}
}
