package storetest

import (
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// Free text (names, descriptions) goes to columns Postgres keeps as UTF-8
// text, which can't hold a NUL or bytes that aren't UTF-8. Both stores refuse
// such text alike, rather than one keeping what the other can't.
func textTests(t *testing.T, s suite) {
	for _, bad := range []struct{ what, text string }{
		{"a NUL", "Acme\x00Inc"},
		{"bytes that are not UTF-8", "Acme\xffInc"},
	} {
		for _, tc := range []struct {
			name string
			// ep is an endpoint of tenant acme, made before the write.
			write func(b *bundle, ep *outlet.Endpoint, text string) error
			// kept checks that the refused write left nothing behind.
			kept func(t *testing.T, b *bundle, ep *outlet.Endpoint)
		}{
			{"a tenant's name", func(b *bundle, ep *outlet.Endpoint, text string) error {
				tn := newTenant("initech", base)
				tn.Name = text
				return b.store.CreateTenant(b.ctx, tn)
			}, func(t *testing.T, b *bundle, ep *outlet.Endpoint) {
				_, err := b.store.Tenant(b.ctx, "initech")
				wantCode(t, err, outlet.ENOTFOUND)
			}},
			{"a tenant's new name", func(b *bundle, ep *outlet.Endpoint, text string) error {
				_, err := b.store.UpdateTenant(b.ctx, "acme", outlet.TenantUpdate{Name: &text}, at(time.Hour))
				return err
			}, func(t *testing.T, b *bundle, ep *outlet.Endpoint) {
				got, err := b.store.Tenant(b.ctx, "acme")
				check(t, err)
				wantTenant(t, got, newTenant("acme", base))
			}},
			{"an API key's name", func(b *bundle, ep *outlet.Endpoint, text string) error {
				k, _, err := outlet.NewAPIKey("acme", "ci", base)
				if err != nil {
					return err
				}
				k.Name = text
				return b.store.CreateAPIKey(b.ctx, k)
			}, func(t *testing.T, b *bundle, ep *outlet.Endpoint) {
				keys, err := b.store.ListAPIKeys(b.ctx, "acme")
				check(t, err)
				wantEqual(t, "keys", len(keys), 0)
			}},
			{"an endpoint's description", func(b *bundle, ep *outlet.Endpoint, text string) error {
				other := newEndpoint("acme")
				other.Description = text
				return b.store.CreateEndpoint(b.ctx, other)
			}, func(t *testing.T, b *bundle, ep *outlet.Endpoint) {
				eps, _, err := b.store.ListEndpoints(b.ctx, "acme", outlet.Page{})
				check(t, err)
				wantIDs(t, "endpoints", endpointIDs(eps), []string{ep.ID})
			}},
			{"an endpoint's new description", func(b *bundle, ep *outlet.Endpoint, text string) error {
				_, err := b.store.UpdateEndpoint(b.ctx, "acme", ep.ID, outlet.EndpointUpdate{Description: &text}, at(time.Hour))
				return err
			}, func(t *testing.T, b *bundle, ep *outlet.Endpoint) {
				wantEndpoint(t, b.getEndpoint(t, ep), ep)
			}},
			{"an event type's description", func(b *bundle, ep *outlet.Endpoint, text string) error {
				et := newEventType("customer.created")
				et.Description = text
				return b.store.CreateEventType(b.ctx, et)
			}, func(t *testing.T, b *bundle, ep *outlet.Endpoint) {
				_, err := b.store.EventType(b.ctx, "customer.created")
				wantCode(t, err, outlet.ENOTFOUND)
			}},
			{"an event type's new description", func(b *bundle, ep *outlet.Endpoint, text string) error {
				_, err := b.store.UpdateEventType(b.ctx, paid, outlet.EventTypeUpdate{Description: &text}, at(time.Hour))
				return err
			}, func(t *testing.T, b *bundle, ep *outlet.Endpoint) {
				got, err := b.store.EventType(b.ctx, paid)
				check(t, err)
				wantEventType(t, got, newEventType(paid))
			}},
			{"a hook's description", func(b *bundle, ep *outlet.Endpoint, text string) error {
				h := newHook(validate)
				h.Description = text
				return b.store.CreateHook(b.ctx, h)
			}, func(t *testing.T, b *bundle, ep *outlet.Endpoint) {
				_, err := b.store.Hook(b.ctx, validate)
				wantCode(t, err, outlet.ENOTFOUND)
			}},
			{"a hook's new description", func(b *bundle, ep *outlet.Endpoint, text string) error {
				_, err := b.store.UpdateHook(b.ctx, discount, outlet.HookUpdate{Description: &text}, at(time.Hour))
				return err
			}, func(t *testing.T, b *bundle, ep *outlet.Endpoint) {
				wantHook(t, b.getHook(t, discount), newHook(discount))
			}},
		} {
			s.test(t, tc.name+" holding "+bad.what+" is EINVALID and stores nothing", func(t *testing.T, b *bundle) {
				b.tenant(t, "acme")
				ep := b.endpoint(t, "acme")
				check(t, b.store.CreateEventType(b.ctx, newEventType(paid)))
				b.declare(t, discount)
				wantCode(t, tc.write(b, ep, bad.text), outlet.EINVALID)
				tc.kept(t, b, ep)
			})
		}
	}

	// Metadata and headers are kept as JSON, whose escapes hold any text.
	s.test(t, "metadata and headers holding a NUL read back as given", func(t *testing.T, b *bundle) {
		tn := newTenant("acme", base)
		tn.Metadata = map[string]string{"note": "a\x00b"}
		check(t, b.store.CreateTenant(b.ctx, tn))
		got, err := b.store.Tenant(b.ctx, "acme")
		check(t, err)
		wantTenant(t, got, tn)
		ep := newEndpoint("acme")
		ep.Headers, ep.Metadata = map[string]string{"X-Note": "a\x00b"}, map[string]string{"note": "a\x00b"}
		check(t, b.store.CreateEndpoint(b.ctx, ep))
		wantEndpoint(t, b.getEndpoint(t, ep), ep)
	})
}
