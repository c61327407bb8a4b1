package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

// A platform onboards a customer, registers its endpoint, publishes an event
// and checks what failed.
func Example() {
	ctx := context.Background()
	c := client.New("http://127.0.0.1:8080", os.Getenv("OUTLET_KEY"))

	if _, err := c.Tenants.Create(ctx, client.TenantCreate{ID: "acme", Name: "Acme Inc"}); err != nil {
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.Code != outlet.ECONFLICT {
			log.Fatal(err)
		}
	}
	ep, err := c.Endpoints.Create(ctx, "acme", client.EndpointCreate{
		URL:        "https://acme.example/webhooks",
		EventTypes: []string{"invoice.*"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("give Acme its signing secret:", ep.Secret)

	_, err = c.Events.Publish(ctx, "acme", client.Publish{
		Type: "invoice.paid",
		Data: map[string]any{"invoice": "in_123", "amount": 4200},
	}, client.WithIdempotencyKey("in_123-paid"))
	if err != nil {
		log.Fatal(err)
	}

	for d, err := range c.Deliveries.All(ctx, "acme", client.DeliveryFilter{Status: outlet.StatusFailed}) {
		if err != nil {
			log.Fatal(err)
		}
		if _, err := c.Deliveries.Retry(ctx, "acme", d.ID); err != nil {
			log.Print(err)
		}
	}
}

// A platform calls a hook during its own checkout: the tenant's functions
// (or its sync endpoint) adjust the cart within the hook's deadline.
func ExampleTenantHooksService_Invoke() {
	ctx := context.Background()
	c := client.New("http://127.0.0.1:8080", os.Getenv("OUTLET_KEY"))

	cart := map[string]any{"total": 4200, "currency": "EUR"}
	res, err := c.TenantHooks.Invoke(ctx, "acme", "checkout.discount", cart)
	if err != nil {
		log.Fatal(err) // refused: an unknown hook or tenant, or input its schema rejects
	}
	if res.Error != nil {
		// The tenant's code failed; Output is what the hook's on_error says.
		log.Printf("acme's discount failed: %v", res.Error)
	}
	fmt.Printf("served by %s in %d ms: %s\n", res.ServedBy, res.DurationMs, res.Output)
}

// A tenant's developer deploys a function and follows its logs.
func ExampleFunctionsService_Follow() {
	ctx := context.Background()
	c := client.New("http://127.0.0.1:8080", os.Getenv("OUTLET_KEY"))

	v, err := c.Functions.Deploy(ctx, "acme", "discount", client.FunctionDeploy{
		Runtime: outlet.RuntimeJavaScript,
		Code:    `export default (cart, ctx) => ({ ...cart, total: cart.total * 0.9 })`,
		Hooks:   []string{"checkout.discount"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deployed version", v.Version)

	for inv, err := range c.Functions.Follow(ctx, "acme", "discount", client.LogFilter{}, time.Second) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(inv.StartedAt, inv.Trigger, inv.TriggerRef, inv.Outcome, inv.Logs)
	}
}
