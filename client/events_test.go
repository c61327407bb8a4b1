package client_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

func TestPublishBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.tenant(t, "acme")
	if _, err := b.admin.Endpoints.Create(ctx, "acme", client.EndpointCreate{URL: b.receiver.URL + "/ok"}); err != nil {
		t.Fatal(err)
	}

	paid := client.Publish{Type: "invoice.paid", Data: map[string]int{"amount": 42}, IdempotencyKey: "invoice-1-paid"}
	res, err := b.admin.Events.PublishBatch(ctx, "acme", []client.Publish{
		paid,
		{Type: "Not A Type!", Data: 1},
		{Type: "order.placed", ID: "order-7.placed"}, // data null
		paid,
	})
	if err != nil {
		t.Fatal(err)
	}
	first, bad, chosen, again := res.Results[0], res.Results[1], res.Results[2], res.Results[3]
	if first.Error != nil || first.Replayed || first.Deliveries != 1 {
		t.Errorf("the first event answered %+v, %v; want a new event with one delivery", first.PublishResult, first.Error)
	}
	if bad.Error == nil || outlet.ErrorCode(bad.Error) != outlet.EINVALID || bad.PublishResult != nil {
		t.Errorf("an event of a bad type answered %+v, %v; want refused as invalid", bad.PublishResult, bad.Error)
	}
	if chosen.Error != nil || chosen.ID != "order-7.placed" {
		t.Errorf("an event with its own id answered %+v, %v", chosen.PublishResult, chosen.Error)
	}
	if again.Error != nil || !again.Replayed || again.ID != first.ID {
		t.Errorf("the same key again in the batch answered %+v, %v; want %s replayed", again.PublishResult, again.Error, first.ID)
	}
	if res.Accepted != 2 || res.Replayed != 1 || res.Failed != 1 {
		t.Errorf("counts %d accepted, %d replayed, %d failed; want 2, 1, 1", res.Accepted, res.Replayed, res.Failed)
	}

	// A single publish sends the key as its header: the same event.
	single, err := b.admin.Events.Publish(ctx, "acme", paid)
	if err != nil || single.ID != first.ID || !single.Replayed {
		t.Errorf("a single publish with the batch's key answered %+v, %v; want %s replayed", single, err, first.ID)
	}
	ev, err := b.admin.Events.Get(ctx, "acme", first.ID)
	if err != nil || ev.IdempotencyKey != "invoice-1-paid" {
		t.Errorf("the event reads back as %+v, %v", ev, err)
	}

	// Only a batch that isn't one is refused whole.
	_, err = b.admin.Events.PublishBatch(ctx, "acme", make([]client.Publish, client.MaxBatch+1))
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("a batch of %d answered %v; want 413", client.MaxBatch+1, err)
	}
}
