package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// newInvocation is a run of the function's version, triggered by a hook,
// that started at startedAt.
func newInvocation(tenantID, function string, version int, startedAt time.Time) *outlet.Invocation {
	return &outlet.Invocation{
		TenantID:   tenantID,
		Function:   function,
		Version:    version,
		Trigger:    outlet.TriggerHook,
		TriggerRef: discount,
		StartedAt:  startedAt,
		DurationMs: 7,
		Outcome:    "ok",
		Logs:       "cart total: 42\n",
	}
}

// record records invocations and checks that each got an id.
func (b *bundle) record(t *testing.T, invs ...*outlet.Invocation) {
	t.Helper()
	check(t, b.store.RecordInvocations(b.ctx, invs))
	for _, inv := range invs {
		if inv.ID == "" {
			t.Fatalf("invocation of %q started at %v got no id", inv.Function, inv.StartedAt)
		}
	}
}

// invocations lists one page of a function's invocations, as large as a page
// can be.
func (b *bundle) invocations(t *testing.T, tenantID, function string, f outlet.InvocationFilter) []*outlet.Invocation {
	t.Helper()
	f.Limit = outlet.MaxPageLimit
	invs, _, err := b.store.ListInvocations(b.ctx, tenantID, function, f)
	check(t, err)
	return invs
}

func invocationIDs(invs []*outlet.Invocation) []string {
	out := []string{}
	for _, inv := range invs {
		out = append(out, inv.ID)
	}
	return out
}

func wantInvocation(t *testing.T, got, want *outlet.Invocation) {
	t.Helper()
	wantEqual(t, "invocation id", got.ID, want.ID)
	wantEqual(t, "invocation tenant", got.TenantID, want.TenantID)
	wantEqual(t, "invocation function", got.Function, want.Function)
	wantEqual(t, "invocation version", got.Version, want.Version)
	wantEqual(t, "invocation trigger", got.Trigger, want.Trigger)
	wantEqual(t, "invocation trigger ref", got.TriggerRef, want.TriggerRef)
	wantTime(t, "invocation started_at", got.StartedAt, want.StartedAt)
	wantEqual(t, "invocation duration", got.DurationMs, want.DurationMs)
	wantEqual(t, "invocation outcome", got.Outcome, want.Outcome)
	wantEqual(t, "invocation error", got.Error, want.Error)
	wantEqual(t, "invocation logs", got.Logs, want.Logs)
	wantEqual(t, "invocation logs truncated", got.Truncated, want.Truncated)
}

// sixInvocations records six runs of acme's pricing, a minute apart from
// base, and returns them oldest first.
func (b *bundle) sixInvocations(t *testing.T) []*outlet.Invocation {
	t.Helper()
	b.tenant(t, "acme")
	b.deploy(t, newVersion("acme", "pricing"), base)
	var invs []*outlet.Invocation
	for i := range 6 {
		invs = append(invs, newInvocation("acme", "pricing", 1, at(time.Duration(i)*time.Minute)))
	}
	b.record(t, invs[:2]...)
	b.record(t, invs[2:]...)
	return invs
}

func invocationTests(t *testing.T, s suite) {
	s.test(t, "recorded invocations get ids and read back newest first with every field", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.deploy(t, newVersion("acme", "pricing"), base)
		b.deploy(t, newVersion("acme", "pricing"), base)
		fromHook := newInvocation("acme", "pricing", 1, at(time.Second))
		fromEvent := &outlet.Invocation{
			TenantID: "acme", Function: "pricing", Version: 2, Trigger: outlet.TriggerEvent, TriggerRef: "dlv_whatever",
			StartedAt: at(2 * time.Second), DurationMs: 30000, Outcome: outlet.EUNAVAILABLE, Error: "the function ran out of time after 30s",
			Logs: "Zoë\n\x00binary\n", Truncated: true,
		}
		b.record(t, fromHook, fromEvent)
		if fromHook.ID == fromEvent.ID {
			t.Fatalf("two invocations got the same id %q", fromHook.ID)
		}
		got := b.invocations(t, "acme", "pricing", outlet.InvocationFilter{})
		wantIDs(t, "invocations", invocationIDs(got), []string{fromEvent.ID, fromHook.ID})
		if len(got) == 2 {
			wantInvocation(t, got[0], fromEvent)
			wantInvocation(t, got[1], fromHook)
		}
	})

	s.test(t, "invocations list newest first across pages", func(t *testing.T, b *bundle) {
		invs := b.sixInvocations(t)
		pages := walk(t, 4, func(p outlet.Page) ([]*outlet.Invocation, string, error) {
			return b.store.ListInvocations(b.ctx, "acme", "pricing", outlet.InvocationFilter{Page: p})
		})
		wantEqual(t, "pages", len(pages), 2)
		want := invocationIDs(invs)
		slices.Reverse(want)
		wantIDs(t, "invocations", invocationIDs(slices.Concat(pages...)), want)
	})

	s.test(t, "listing after an invocation lists the later ones oldest first, up to the limit", func(t *testing.T, b *bundle) {
		invs := b.sixInvocations(t)
		ids := invocationIDs(invs)
		for _, tc := range []struct {
			after int
			limit int
			want  []string
		}{
			{0, 0, ids[1:]},
			{1, 2, ids[2:4]},
			{4, 10, ids[5:]},
			{5, 10, []string{}},
		} {
			got, _, err := b.store.ListInvocations(b.ctx, "acme", "pricing", outlet.InvocationFilter{Page: outlet.Page{Limit: tc.limit}, After: ids[tc.after]})
			check(t, err)
			wantIDs(t, "invocations after "+ids[tc.after], invocationIDs(got), tc.want)
		}
	})

	s.test(t, "listing after an id the store did not make is EINVALID", func(t *testing.T, b *bundle) {
		b.sixInvocations(t)
		ev := b.publish(t, newEvent("acme", paid, `{}`, base)).Event
		for _, after := range []string{"junk", outlet.PrefixInvocation + "junk", outlet.NewID(outlet.PrefixInvocation) + "x", ev.ID} {
			_, _, err := b.store.ListInvocations(b.ctx, "acme", "pricing", outlet.InvocationFilter{After: after})
			if code := outlet.ErrorCode(err); code != outlet.EINVALID {
				t.Errorf("after %q: error code %q; want %q", after, code, outlet.EINVALID)
			}
		}
	})

	s.test(t, "listing invocations with a limit out of range or a cursor the store did not make is EINVALID", func(t *testing.T, b *bundle) {
		b.sixInvocations(t)
		for _, p := range []outlet.Page{
			{Limit: -1},
			{Limit: outlet.MaxPageLimit + 1},
			{Limit: 2, Cursor: "not a cursor"},
			{Limit: 2, Cursor: outlet.EncodeCursor(1)[:1]},
		} {
			_, _, err := b.store.ListInvocations(b.ctx, "acme", "pricing", outlet.InvocationFilter{Page: p})
			if code := outlet.ErrorCode(err); code != outlet.EINVALID {
				t.Errorf("page %+v: error code %q; want %q", p, code, outlet.EINVALID)
			}
		}
	})

	s.test(t, "an invocation of a function that is not deployed is dropped without error or id, and the rest are kept", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.deploy(t, newVersion("acme", "pricing"), base)
		b.deploy(t, newVersion("acme", "gone"), base)
		check(t, b.store.DeleteFunction(b.ctx, "acme", "gone"))
		before := newInvocation("acme", "pricing", 1, at(time.Second))
		deleted := newInvocation("acme", "gone", 1, at(2*time.Second))
		never := newInvocation("acme", "never", 1, at(3*time.Second))
		noTenant := newInvocation("nobody", "pricing", 1, at(4*time.Second))
		after := newInvocation("acme", "pricing", 1, at(5*time.Second))
		check(t, b.store.RecordInvocations(b.ctx, []*outlet.Invocation{before, deleted, never, noTenant, after}))
		for _, inv := range []*outlet.Invocation{deleted, never, noTenant} {
			wantEqual(t, "id of a dropped invocation of "+inv.TenantID+"/"+inv.Function, inv.ID, "")
		}
		if before.ID == "" || after.ID == "" || before.ID == after.ID {
			t.Errorf("recorded invocations got ids %q and %q; want two different ones", before.ID, after.ID)
		}
		wantIDs(t, "invocations", invocationIDs(b.invocations(t, "acme", "pricing", outlet.InvocationFilter{})), []string{after.ID, before.ID})
		b.deploy(t, newVersion("acme", "gone"), at(time.Hour))
		wantIDs(t, "invocations of the function deployed again", invocationIDs(b.invocations(t, "acme", "gone", outlet.InvocationFilter{})), []string{})
	})

	s.test(t, "recording no invocations does nothing", func(t *testing.T, b *bundle) {
		check(t, b.store.RecordInvocations(b.ctx, nil))
	})

	s.test(t, "listing invocations of an unknown function or tenant, or another tenant's function, is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.deploy(t, newVersion("acme", "pricing"), base)
		b.record(t, newInvocation("acme", "pricing", 1, base))
		for _, tc := range []struct{ tenant, function string }{
			{"acme", "nothing"},
			{"nobody", "pricing"},
			{"globex", "pricing"},
		} {
			_, _, err := b.store.ListInvocations(b.ctx, tc.tenant, tc.function, outlet.InvocationFilter{})
			if code := outlet.ErrorCode(err); code != outlet.ENOTFOUND {
				t.Errorf("invocations of %s/%s: error code %q; want %q", tc.tenant, tc.function, code, outlet.ENOTFOUND)
			}
		}
	})

	s.test(t, "a function's invocations list none of another function's, or of another tenant's function of the same name", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.deploy(t, newVersion("acme", "pricing"), base)
		b.deploy(t, newVersion("acme", "audit"), base)
		b.deploy(t, newVersion("globex", "pricing"), base)
		ours := newInvocation("acme", "pricing", 1, at(time.Second))
		audit := newInvocation("acme", "audit", 1, at(2*time.Second))
		theirs := newInvocation("globex", "pricing", 1, at(3*time.Second))
		b.record(t, ours, audit, theirs)
		wantIDs(t, "acme's pricing", invocationIDs(b.invocations(t, "acme", "pricing", outlet.InvocationFilter{})), []string{ours.ID})
		wantIDs(t, "acme's audit", invocationIDs(b.invocations(t, "acme", "audit", outlet.InvocationFilter{})), []string{audit.ID})
		wantIDs(t, "globex's pricing", invocationIDs(b.invocations(t, "globex", "pricing", outlet.InvocationFilter{})), []string{theirs.ID})
		wantIDs(t, "acme's pricing after its last",
			invocationIDs(b.invocations(t, "acme", "pricing", outlet.InvocationFilter{After: ours.ID})), []string{})
	})

	s.test(t, "purging deletes invocations started before the cutoff and keeps newer ones", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.deploy(t, newVersion("acme", "pricing"), base)
		cutoff := at(day)
		old := []*outlet.Invocation{
			newInvocation("acme", "pricing", 1, base),
			newInvocation("acme", "pricing", 1, cutoff.Add(-time.Millisecond)),
		}
		kept := []*outlet.Invocation{
			newInvocation("acme", "pricing", 1, cutoff),
			newInvocation("acme", "pricing", 1, at(2*day)),
		}
		// Recorded out of order, so that start time and not recording decides.
		b.record(t, kept[0], old[1], kept[1], old[0])
		p, err := b.store.PurgeExpired(b.ctx, cutoff, 100)
		check(t, err)
		wantEqual(t, "purged invocations", p.Invocations, 2)
		wantSameIDs(t, "invocations left", invocationIDs(b.invocations(t, "acme", "pricing", outlet.InvocationFilter{})), invocationIDs(kept))
		p, err = b.store.PurgeExpired(b.ctx, cutoff, 100)
		check(t, err)
		wantEqual(t, "purged invocations the second time", p.Invocations, 0)
	})

	s.test(t, "purging deletes at most limit invocations", func(t *testing.T, b *bundle) {
		b.sixInvocations(t)
		for _, want := range []int{4, 2, 0} {
			p, err := b.store.PurgeExpired(b.ctx, at(day), 4)
			check(t, err)
			wantEqual(t, "purged invocations", p.Invocations, want)
		}
		wantEqual(t, "invocations left", len(b.invocations(t, "acme", "pricing", outlet.InvocationFilter{})), 0)
	})
}
