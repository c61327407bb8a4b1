package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// pageTests holds the rules every paged list shares.
func pageTests(t *testing.T, s suite) {
	lists := []struct {
		name string
		all  int // how many items fill gives the list
		list func(b *bundle, p outlet.Page) (int, string, error)
	}{
		{"tenants", 3, func(b *bundle, p outlet.Page) (int, string, error) {
			ts, next, err := b.store.ListTenants(b.ctx, p)
			return len(ts), next, err
		}},
		{"endpoints", 3, func(b *bundle, p outlet.Page) (int, string, error) {
			eps, next, err := b.store.ListEndpoints(b.ctx, "acme", p)
			return len(eps), next, err
		}},
		{"events", 3, func(b *bundle, p outlet.Page) (int, string, error) {
			evs, next, err := b.store.ListEvents(b.ctx, "acme", outlet.EventFilter{Page: p})
			return len(evs), next, err
		}},
		{"deliveries", 9, func(b *bundle, p outlet.Page) (int, string, error) {
			ds, next, err := b.store.ListDeliveries(b.ctx, "acme", outlet.DeliveryFilter{Page: p})
			return len(ds), next, err
		}},
	}
	// fill gives acme three endpoints and three events, each delivered to
	// all three.
	fill := func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.tenant(t, "initech")
		ep := b.endpoint(t, "acme")
		b.endpoint(t, "acme")
		b.endpoint(t, "acme")
		for i := range 3 {
			b.deliveryTo(t, ep, at(time.Duration(i)*time.Minute))
		}
	}
	s.test(t, "listing with no limit pages by the default limit", func(t *testing.T, b *bundle) {
		for i := range outlet.DefaultPageLimit + 1 {
			check(t, b.store.CreateTenant(b.ctx, newTenant(fmt.Sprint("t", i), at(time.Duration(i)*time.Second))))
		}
		first, next, err := b.store.ListTenants(b.ctx, outlet.Page{})
		check(t, err)
		rest, last, err := b.store.ListTenants(b.ctx, outlet.Page{Cursor: next})
		check(t, err)
		if len(first) != outlet.DefaultPageLimit || next == "" || len(rest) != 1 || last != "" {
			t.Errorf("pages of %d (cursor %q) and %d (cursor %q); want %d with a cursor, then 1 without",
				len(first), next, len(rest), last, outlet.DefaultPageLimit)
		}
	})
	for _, l := range lists {
		s.test(t, "listing "+l.name+" with no limit lists them all when they fit one default page", func(t *testing.T, b *bundle) {
			fill(t, b)
			n, next, err := l.list(b, outlet.Page{})
			check(t, err)
			if n != l.all || next != "" {
				t.Errorf("got %d items and cursor %q; want %d items and no cursor", n, next, l.all)
			}
		})
		s.test(t, "listing "+l.name+" with a limit out of range is EINVALID", func(t *testing.T, b *bundle) {
			fill(t, b)
			for _, limit := range []int{-1, outlet.MaxPageLimit + 1} {
				_, _, err := l.list(b, outlet.Page{Limit: limit})
				wantCode(t, err, outlet.EINVALID)
			}
		})
		s.test(t, "listing "+l.name+" with a cursor the store did not make is EINVALID", func(t *testing.T, b *bundle) {
			fill(t, b)
			for _, cursor := range []string{"not a cursor", outlet.EncodeCursor(1)[:1]} {
				_, _, err := l.list(b, outlet.Page{Limit: 2, Cursor: cursor})
				wantCode(t, err, outlet.EINVALID)
			}
		})
	}
}
