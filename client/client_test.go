package client_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
	"github.com/outlethq/outlet/internal/testwait"
)

func TestTenants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	created, err := b.admin.Tenants.Create(ctx, client.TenantCreate{ID: "acme", Name: "Acme", Metadata: map[string]string{"plan": "pro"}})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID != "acme" || created.Name != "Acme" || created.Metadata["plan"] != "pro" || created.CreatedAt.IsZero() {
		t.Errorf("create answered %+v", created)
	}

	got, err := b.admin.Tenants.Get(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(created.CreatedAt) || got.Name != "Acme" {
		t.Errorf("get answered %+v, want %+v", got, created)
	}

	updated, err := b.admin.Tenants.Update(ctx, "acme", client.TenantUpdate{Name: new("Acme Inc")})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Name != "Acme Inc" || updated.Metadata["plan"] != "pro" {
		t.Errorf("an update of the name alone answered %+v; want the name changed and the metadata kept", updated)
	}
	cleared, err := b.admin.Tenants.Update(ctx, "acme", client.TenantUpdate{Metadata: &map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cleared.Metadata) != 0 || cleared.Name != "Acme Inc" {
		t.Errorf("an update with empty metadata answered %+v; want the metadata cleared and the name kept", cleared)
	}

	page, err := b.admin.Tenants.List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || page.Data[0].ID != "acme" || page.HasMore || page.NextCursor != "" {
		t.Errorf("list answered %+v", page)
	}

	if err := b.admin.Tenants.Delete(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	_, err = b.admin.Tenants.Get(ctx, "acme")
	if apiErr := asError(t, err); apiErr.Status != http.StatusNotFound || apiErr.Code != outlet.ENOTFOUND {
		t.Errorf("get after delete: %+v, want 404 not_found", apiErr)
	}
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.tenant(t, "acme")
	b.tenant(t, "globex")

	k, err := b.admin.APIKeys.Create(ctx, "acme", client.APIKeyCreate{Name: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.Key, outlet.KeyPrefix) || !strings.HasPrefix(k.Key, k.Prefix) || k.ID == "" || k.TenantID != "acme" || k.Name != "billing" {
		t.Errorf("create answered %+v", k)
	}

	keys, err := b.admin.APIKeys.List(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].ID != k.ID || keys[0].Prefix != k.Prefix {
		t.Errorf("list answered %+v, want the one key %s", keys, k.ID)
	}

	tenantClient := client.New(b.url, k.Key)
	if _, err := tenantClient.Tenants.Get(ctx, "acme"); err != nil {
		t.Errorf("a tenant key can't read its own tenant: %v", err)
	}
	_, err = tenantClient.Tenants.Get(ctx, "globex")
	if e := asError(t, err); e.Status != http.StatusForbidden || e.Code != outlet.EFORBIDDEN {
		t.Errorf("a tenant key reading another tenant: %+v, want 403 forbidden", e)
	}

	if err := b.admin.APIKeys.Delete(ctx, "acme", k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = tenantClient.Tenants.Get(ctx, "acme")
	if e := asError(t, err); e.Status != http.StatusUnauthorized {
		t.Errorf("a deleted key: %+v, want 401", e)
	}
}

func TestEventTypesAndCatalog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.tenant(t, "acme")
	schema := json.RawMessage(`{"type":"object","required":["amount"],"properties":{"amount":{"type":"integer"}}}`)

	et, err := b.admin.EventTypes.Create(ctx, client.EventTypeCreate{
		Name: "invoice.paid", Description: "An invoice was paid", Schema: schema, Sample: json.RawMessage(`{"amount":42}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if et.Name != "invoice.paid" || et.Description != "An invoice was paid" || string(et.Sample) != `{"amount":42}` || et.Schema == nil {
		t.Errorf("create answered %+v", et)
	}

	got, err := b.admin.EventTypes.Get(ctx, "invoice.paid")
	if err != nil || got.Description != et.Description {
		t.Errorf("get answered %+v, %v", got, err)
	}
	all, err := b.admin.EventTypes.List(ctx)
	if err != nil || len(platformTypes(all)) != 1 {
		t.Errorf("list answered %+v, %v; want one type beside Outlet's own", all, err)
	}

	_, err = b.admin.Events.Publish(ctx, "acme", client.Publish{Type: "invoice.paid", Data: map[string]any{"amount": "lots"}})
	if e := asError(t, err); e.Status != http.StatusUnprocessableEntity || e.Code != outlet.EINVALID || !strings.Contains(e.Message, "/amount") {
		t.Errorf("publishing data that breaks the schema: %+v, want 422 invalid naming /amount", e)
	}

	updated, err := b.admin.EventTypes.Update(ctx, "invoice.paid", client.EventTypeUpdate{
		Deprecated: new(true), Schema: json.RawMessage("null"), Sample: json.RawMessage("null"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !updated.Deprecated || updated.Schema != nil || updated.Description != "An invoice was paid" {
		t.Errorf("update answered %+v; want deprecated, no schema, description kept", updated)
	}
	if _, err := b.admin.Events.Publish(ctx, "acme", client.Publish{Type: "invoice.paid", Data: map[string]any{"amount": "lots"}}); err != nil {
		t.Errorf("publish once the schema is removed: %v", err)
	}

	k, err := b.admin.APIKeys.Create(ctx, "acme", client.APIKeyCreate{})
	if err != nil {
		t.Fatal(err)
	}
	tenantClient := client.New(b.url, k.Key)
	catalog, err := tenantClient.Catalog.List(ctx, "acme")
	if catalog = platformTypes(catalog); err != nil || len(catalog) != 1 || catalog[0].Name != "invoice.paid" {
		t.Errorf("catalog list with a tenant key answered %+v, %v", catalog, err)
	}
	if one, err := tenantClient.Catalog.Get(ctx, "acme", "invoice.paid"); err != nil || !one.Deprecated {
		t.Errorf("catalog get with a tenant key answered %+v, %v", one, err)
	}
	_, err = tenantClient.EventTypes.List(ctx)
	if e := asError(t, err); e.Status != http.StatusForbidden {
		t.Errorf("a tenant key managing the catalog: %+v, want 403", e)
	}

	if err := b.admin.EventTypes.Delete(ctx, "invoice.paid"); err != nil {
		t.Fatal(err)
	}
	_, err = b.admin.EventTypes.Get(ctx, "invoice.paid")
	if e := asError(t, err); e.Status != http.StatusNotFound {
		t.Errorf("get after delete: %+v, want 404", e)
	}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.tenant(t, "acme")

	ep, err := b.admin.Endpoints.Create(ctx, "acme", client.EndpointCreate{
		URL: b.receiver.URL + "/ok", Description: "billing", EventTypes: []string{"invoice.*"},
		Headers: map[string]string{"X-Team": "billing"}, Metadata: map[string]string{"owner": "ann"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ep.ID, outlet.PrefixEndpoint) || !strings.HasPrefix(ep.Secret, outlet.SecretPrefix) ||
		ep.URL != b.receiver.URL+"/ok" || !slices.Equal(ep.EventTypes, []string{"invoice.*"}) || ep.Headers["X-Team"] != "billing" {
		t.Errorf("create answered %+v; want the endpoint with its whsec_ secret", ep)
	}

	got, err := b.admin.Endpoints.Get(ctx, "acme", ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != ep.ID || got.Secret != "" || got.Description != "billing" {
		t.Errorf("get answered %+v; want the endpoint without its secret", got)
	}
	page, err := b.admin.Endpoints.List(ctx, "acme", client.ListOptions{})
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != ep.ID {
		t.Errorf("list answered %+v, %v", page, err)
	}

	updated, err := b.admin.Endpoints.Update(ctx, "acme", ep.ID, client.EndpointUpdate{Disabled: new(true), EventTypes: &[]string{}})
	if err != nil {
		t.Fatal(err)
	}
	if !updated.Disabled || updated.DisabledReason != "manual" || len(updated.EventTypes) != 0 || updated.Description != "billing" {
		t.Errorf("update answered %+v; want disabled, every type, description kept", updated)
	}

	sec, err := b.admin.Endpoints.Secret(ctx, "acme", ep.ID)
	if err != nil || sec.Secret != ep.Secret || sec.PreviousSecret != "" {
		t.Errorf("secret answered %+v, %v; want %s alone", sec, err, ep.Secret)
	}
	rotated, err := b.admin.Endpoints.RotateSecret(ctx, "acme", ep.ID, client.SecretRotation{OverlapSeconds: new(int64(3600))})
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == ep.Secret || rotated.PreviousSecret != ep.Secret || rotated.PreviousSecretExpiresAt == nil ||
		rotated.PreviousSecretExpiresAt.Sub(time.Now()) < 59*time.Minute {
		t.Errorf("rotate with an hour's overlap answered %+v; want a new secret and the old one for an hour", rotated)
	}
	mine := outlet.NewEndpointSecret()
	rotated, err = b.admin.Endpoints.RotateSecret(ctx, "acme", ep.ID, client.SecretRotation{Secret: mine, OverlapSeconds: new(int64(0))})
	if err != nil || rotated.Secret != mine || rotated.PreviousSecret != "" {
		t.Errorf("rotate to a given secret without overlap answered %+v, %v", rotated, err)
	}

	if err := b.admin.Endpoints.Delete(ctx, "acme", ep.ID); err != nil {
		t.Fatal(err)
	}
	_, err = b.admin.Endpoints.Get(ctx, "acme", ep.ID)
	if e := asError(t, err); e.Status != http.StatusNotFound {
		t.Errorf("get after delete: %+v, want 404", e)
	}
}

func TestPublishDeliverRetryRecover(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.tenant(t, "acme")
	ok, err := b.admin.Endpoints.Create(ctx, "acme", client.EndpointCreate{URL: b.receiver.URL + "/ok"})
	if err != nil {
		t.Fatal(err)
	}
	failing, err := b.admin.Endpoints.Create(ctx, "acme", client.EndpointCreate{URL: b.receiver.URL + "/fail"})
	if err != nil {
		t.Fatal(err)
	}

	var raw []byte
	pub, err := b.admin.Events.Publish(ctx, "acme", client.Publish{Type: "invoice.paid", Data: json.RawMessage(`{"amount": 42}`)},
		client.WithIdempotencyKey("invoice-1"), client.WithRawResponse(&raw))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pub.ID, outlet.PrefixEvent) || pub.Deliveries != 2 || pub.Replayed || !strings.Contains(string(raw), pub.ID) {
		t.Errorf("publish answered %+v (raw %s); want a new event with 2 deliveries", pub, raw)
	}
	again, err := b.admin.Events.Publish(ctx, "acme", client.Publish{Type: "invoice.paid", Data: json.RawMessage(`{"amount":42}`)},
		client.WithIdempotencyKey("invoice-1"))
	if err != nil || again.ID != pub.ID || !again.Replayed {
		t.Errorf("publishing with the same idempotency key answered %+v, %v; want %s replayed", again, err, pub.ID)
	}

	ev, err := b.admin.Events.Get(ctx, "acme", pub.ID)
	if err != nil || string(ev.Data) != `{"amount":42}` || ev.IdempotencyKey != "invoice-1" {
		t.Errorf("event get answered %+v, %v", ev, err)
	}
	events, err := b.admin.Events.List(ctx, "acme", client.EventFilter{Type: "invoice.paid", Since: time.Now().Add(-time.Hour)})
	if err != nil || len(events.Data) != 1 || events.Data[0].ID != pub.ID {
		t.Errorf("event list answered %+v, %v", events, err)
	}

	var failed *outlet.Delivery
	testwait.Until(t, "both deliveries have finished", func() bool {
		page, err := b.admin.Deliveries.List(ctx, "acme", client.DeliveryFilter{EventID: pub.ID})
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, d := range page.Data {
			if d.Status != outlet.StatusPending {
				done++
			}
			if d.Target.ID == failing.ID {
				failed = d
			}
		}
		return done == 2
	})
	if failed.Status != outlet.StatusFailed || failed.Attempts != 1 {
		t.Fatalf("the delivery to the failing endpoint is %+v; want failed after 1 attempt", failed)
	}
	okOnly, err := b.admin.Deliveries.List(ctx, "acme", client.DeliveryFilter{EndpointID: ok.ID, Status: outlet.StatusSucceeded})
	if err != nil || len(okOnly.Data) != 1 || okOnly.Data[0].EventID != pub.ID {
		t.Errorf("deliveries filtered by endpoint and status answered %+v, %v", okOnly, err)
	}

	reqs, bodies := b.receiver.requests()
	for i, r := range reqs {
		if r.URL.Path == "/ok" && !signedBy(r, bodies[i], ok.Secret) {
			t.Errorf("the request to /ok is not signed with the secret Create returned")
		}
	}

	attempts, err := b.admin.Deliveries.Attempts(ctx, "acme", failed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 1 || attempts[0].StatusCode != 500 || attempts[0].Succeeded || !strings.Contains(attempts[0].ResponseBody, "receiver is down") {
		t.Errorf("attempts answered %+v; want one 500", attempts)
	}

	retried, err := b.admin.Deliveries.Retry(ctx, "acme", failed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if retried.ID != failed.ID || retried.Status != outlet.StatusPending {
		t.Errorf("retry answered %+v; want the delivery pending again", retried)
	}
	testwait.Until(t, "the retry has been attempted", func() bool {
		d, err := b.admin.Deliveries.Get(ctx, "acme", failed.ID)
		if err != nil {
			t.Fatal(err)
		}
		return d.Status == outlet.StatusFailed && d.Attempts == 2
	})
	attempts, err = b.admin.Deliveries.Attempts(ctx, "acme", failed.ID)
	if err != nil || len(attempts) != 2 || attempts[1].Trigger != outlet.TriggerManual {
		t.Errorf("attempts after a retry answered %+v, %v; want a second, manual attempt", attempts, err)
	}

	n, err := b.admin.Endpoints.Recover(ctx, "acme", failing.ID, time.Now().Add(-time.Hour))
	if err != nil || n != 1 {
		t.Errorf("recover answered %d, %v; want 1 failed delivery re-sent", n, err)
	}
	testwait.Until(t, "the recovered delivery has been attempted", func() bool {
		d, err := b.admin.Deliveries.Get(ctx, "acme", failed.ID)
		if err != nil {
			t.Fatal(err)
		}
		return d.Status == outlet.StatusFailed && d.Attempts == 3
	})
}

func TestErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"an unknown key is 401 unauthorized", func() error {
			_, err := client.New(b.url, "olk_nobody").Tenants.List(ctx, client.ListOptions{})
			return err
		}, 401, outlet.EUNAUTHORIZED},
		{"no key at all is 401 unauthorized", func() error {
			_, err := client.New(b.url, "").Tenants.List(ctx, client.ListOptions{})
			return err
		}, 401, outlet.EUNAUTHORIZED},
		{"a missing tenant is 404 not_found", func() error {
			_, err := b.admin.Tenants.Get(ctx, "nobody")
			return err
		}, 404, outlet.ENOTFOUND},
		{"a bad tenant id is 422 invalid", func() error {
			_, err := b.admin.Tenants.Create(ctx, client.TenantCreate{ID: "not a valid id!"})
			return err
		}, 422, outlet.EINVALID},
		{"a duplicate tenant is 409 conflict", func() error {
			if _, err := b.admin.Tenants.Create(ctx, client.TenantCreate{ID: "twice"}); err != nil {
				return err
			}
			_, err := b.admin.Tenants.Create(ctx, client.TenantCreate{ID: "twice"})
			return err
		}, 409, outlet.ECONFLICT},
		{"a bad status filter is 422 invalid", func() error {
			_, err := b.admin.Deliveries.List(ctx, "acme", client.DeliveryFilter{Status: "lost"})
			return err
		}, 422, outlet.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var e *client.Error
			if !errors.As(fmt.Errorf("wrapped: %w", err), &e) {
				t.Fatalf("got %T %v, want a *client.Error", err, err)
			}
			if e.Status != tt.status || e.Code != tt.code || e.Message == "" || e.Error() != e.Message {
				t.Errorf("got %+v, want status %d and code %s with a message", e, tt.status, tt.code)
			}
			// The same code the server's own code would read.
			var oe *outlet.Error
			if outlet.ErrorCode(err) != tt.code || outlet.ErrorMessage(err) != e.Message || !errors.As(err, &oe) {
				t.Errorf("outlet.ErrorCode says %q, ErrorMessage %q; want %s and the message", outlet.ErrorCode(err), outlet.ErrorMessage(err), tt.code)
			}
		})
	}

	t.Run("an answer not from Outlet keeps its status and text", func(t *testing.T) {
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream unavailable", http.StatusBadGateway)
		}))
		defer proxy.Close()
		_, err := client.New(proxy.URL, adminKey).Tenants.Get(ctx, "acme")
		e := asError(t, err)
		if e.Status != http.StatusBadGateway || e.Code != "" || !strings.Contains(e.Message, "upstream unavailable") {
			t.Errorf("got %+v", e)
		}
		if outlet.ErrorCode(err) != outlet.EUNAVAILABLE {
			t.Errorf("a 502 from a proxy reads as %q; want %s", outlet.ErrorCode(err), outlet.EUNAVAILABLE)
		}
	})

	t.Run("an unreachable server is a *url.Error", func(t *testing.T) {
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		_, err := client.New(gone.URL, adminKey).Tenants.Get(ctx, "acme")
		var ue *url.Error
		if !errors.As(err, &ue) {
			t.Errorf("got %T %v, want a *url.Error", err, err)
		}
	})
}

func TestIteratorsWalkEveryPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var want []string
	for i := range 7 {
		want = append(want, b.tenant(t, fmt.Sprintf("t%d", i)).ID)
	}
	slices.Reverse(want) // lists are newest first

	before := b.requests.count()
	var got []string
	for tn, err := range b.admin.Tenants.All(ctx, client.ListOptions{Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tn.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("All yielded %v, want %v", got, want)
	}
	if n := b.requests.count() - before; n != 3 {
		t.Errorf("All over 7 tenants in pages of 3 made %d requests, want 3", n)
	}
	if ua := b.requests.last().Header.Get("User-Agent"); ua != client.DefaultUserAgent {
		t.Errorf("User-Agent is %q, want %q", ua, client.DefaultUserAgent)
	}

	t.Run("stopping early fetches no further page", func(t *testing.T) {
		before := b.requests.count()
		for range b.admin.Tenants.All(ctx, client.ListOptions{Limit: 3}) {
			break
		}
		if n := b.requests.count() - before; n != 1 {
			t.Errorf("made %d requests, want 1", n)
		}
	})

	t.Run("an error is yielded once and ends the walk", func(t *testing.T) {
		var errs int
		for tn, err := range client.New(b.url, "olk_nobody").Tenants.All(ctx, client.ListOptions{}) {
			if err == nil || tn != nil {
				t.Fatalf("yielded %v, %v; want only the error", tn, err)
			}
			errs++
		}
		if errs != 1 {
			t.Errorf("yielded %d errors, want 1", errs)
		}
	})

	t.Run("deliveries, endpoints and events walk their pages too", func(t *testing.T) {
		ep, err := b.admin.Endpoints.Create(ctx, "t0", client.EndpointCreate{URL: b.receiver.URL + "/ok"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, err := b.admin.Events.Publish(ctx, "t0", client.Publish{Type: "order.created", Data: map[string]int{"n": i}}); err != nil {
				t.Fatal(err)
			}
		}
		if n := countAll(t, b.admin.Deliveries.All(ctx, "t0", client.DeliveryFilter{EndpointID: ep.ID, Limit: 2})); n != 5 {
			t.Errorf("Deliveries.All yielded %d, want 5", n)
		}
		if n := countAll(t, b.admin.Events.All(ctx, "t0", client.EventFilter{Type: "order.created", Limit: 2})); n != 5 {
			t.Errorf("Events.All yielded %d, want 5", n)
		}
		if n := countAll(t, b.admin.Endpoints.All(ctx, "t0", client.ListOptions{Limit: 1})); n != 1 {
			t.Errorf("Endpoints.All yielded %d, want 1", n)
		}
	})
}

func TestOptions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := &recorder{next: http.DefaultTransport}
	c := client.New(b.url+"/", adminKey, client.WithHTTPClient(&http.Client{Transport: rec}), client.WithUserAgent("platform/1.0"))
	if _, err := c.Tenants.List(context.Background(), client.ListOptions{Limit: 5}, client.WithHeader("X-Request-Id", "r1")); err != nil {
		t.Fatal(err)
	}
	r := rec.last()
	if r.Header.Get("User-Agent") != "platform/1.0" || r.Header.Get("X-Request-Id") != "r1" || r.URL.Path != "/v1/tenants" || r.URL.Query().Get("limit") != "5" {
		t.Errorf("sent %s %s with headers %v", r.Method, r.URL, r.Header)
	}
}

func countAll[T any](t *testing.T, seq iter.Seq2[T, error]) int {
	t.Helper()
	n := 0
	for _, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

func asError(t *testing.T, err error) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want a *client.Error", err, err)
	}
	return e
}

// signedBy checks a webhook's Standard Webhooks signature with secret.
func signedBy(r *http.Request, body []byte, secret string) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, outlet.SecretPrefix))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return slices.Contains(strings.Fields(r.Header.Get("webhook-signature")), want)
}

func TestUsageAndFlowControl(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	if _, err := b.admin.Tenants.Create(ctx, client.TenantCreate{ID: "acme", PublishRateLimit: 500}); err != nil {
		t.Fatal(err)
	}
	ep, err := b.admin.Endpoints.Create(ctx, "acme", client.EndpointCreate{URL: b.receiver.URL + "/ok", MaxInFlight: 3, RateLimit: 100, Ordered: true})
	if err != nil {
		t.Fatal(err)
	}
	if ep.MaxInFlight != 3 || ep.RateLimit != 100 || !ep.Ordered {
		t.Errorf("endpoint flow %d, %d, %v; want 3, 100, true", ep.MaxInFlight, ep.RateLimit, ep.Ordered)
	}
	off := false
	if ep, err = b.admin.Endpoints.Update(ctx, "acme", ep.ID, client.EndpointUpdate{Ordered: &off}); err != nil || ep.Ordered {
		t.Errorf("update ordered=false: %v, %v", ep, err)
	}
	for range 2 {
		if _, err := b.admin.Events.Publish(ctx, "acme", client.Publish{Type: "invoice.paid", Data: map[string]int{"n": 1}}); err != nil {
			t.Fatal(err)
		}
	}
	u, err := b.admin.Tenants.Usage(ctx, "acme", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if u.Total.Events != 2 || u.Total.Deliveries != 2 || len(u.Days) != 1 || u.Days[0].Day != time.Now().UTC().Format(time.DateOnly) {
		t.Errorf("usage %+v; want 2 events and 2 deliveries, today", u)
	}
	if _, err := b.admin.Tenants.Usage(ctx, "acme", time.Now(), time.Now().AddDate(0, 0, -1)); err == nil || !strings.Contains(err.Error(), "before") {
		t.Errorf("usage with before ahead of since: %v; want a 422 naming before", err)
	}
}

// platformTypes leaves out of a catalog Outlet's own operational event
// types, which every catalog holds.
func platformTypes(ets []*outlet.EventType) []*outlet.EventType {
	var out []*outlet.EventType
	for _, et := range ets {
		if !outlet.IsOperational(et.Name) {
			out = append(out, et)
		}
	}
	return out
}
