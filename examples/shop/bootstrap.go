package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

// The catalog: what the shop tells its merchants about. Each event type has
// a JSON Schema, which Outlet holds every published event to, and a sample
// that merchants see in the portal and test with.
var eventTypes = []client.EventTypeCreate{{
	Name:        "order.created",
	Description: "A customer placed an order; the total is after the merchant's discounts.",
	Schema: json.RawMessage(`{
		"type": "object",
		"required": ["order_id", "currency", "items", "subtotal", "discount", "total"],
		"properties": {
			"order_id": {"type": "string"},
			"currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
			"items": {"type": "array", "items": {"$ref": "#/$defs/item"}},
			"subtotal": {"type": "integer", "minimum": 0},
			"discount": {"type": "integer", "minimum": 0},
			"total": {"type": "integer", "minimum": 0},
			"coupon": {"type": "string"}
		},
		"$defs": {"item": {
			"type": "object",
			"required": ["sku", "quantity", "unit_price"],
			"properties": {
				"sku": {"type": "string"}, "name": {"type": "string"},
				"quantity": {"type": "integer", "minimum": 1}, "unit_price": {"type": "integer", "minimum": 0}
			}
		}}
	}`),
	Sample: json.RawMessage(`{"order_id": "ord_0123456789ab", "currency": "EUR",
		"items": [{"sku": "tee", "name": "T-shirt", "quantity": 2, "unit_price": 2500}],
		"subtotal": 5000, "discount": 500, "total": 4500, "coupon": "WELCOME10"}`),
}, {
	Name:        "order.paid",
	Description: "The customer paid an order.",
	Schema: json.RawMessage(`{
		"type": "object",
		"required": ["order_id", "currency", "total"],
		"properties": {
			"order_id": {"type": "string"},
			"currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
			"total": {"type": "integer", "minimum": 0}
		}
	}`),
	Sample: json.RawMessage(`{"order_id": "ord_0123456789ab", "currency": "EUR", "total": 4500}`),
}}

// cartSchema is the checkout.discount hook's input. Its output is the same
// cart, with the discounts the merchant's code added: a chain of functions
// may serve the hook, each adding its own.
const cartSchema = `{
	"type": "object",
	"required": ["currency", "items", "subtotal"],
	"properties": {
		"currency": {"type": "string"},
		"items": {"type": "array"},
		"subtotal": {"type": "integer", "minimum": 0},
		"coupon": {"type": "string"},
		"discounts": {"type": "array", "items": {
			"type": "object",
			"required": ["label", "amount"],
			"properties": {"label": {"type": "string"}, "amount": {"type": "integer", "minimum": 0}}
		}}
	}
}`

var discountHook = client.HookCreate{
	Name:         "checkout.discount",
	Description:  "Called during checkout with the cart; answers with the cart and the discounts to apply (amounts in cents).",
	InputSchema:  json.RawMessage(cartSchema),
	OutputSchema: json.RawMessage(cartSchema),
	TimeoutMs:    1000,
	// When the merchant's code fails or is too slow, the checkout goes on
	// at full price rather than failing the customer's purchase.
	OnError: outlet.FailOpen,
}

// welcomeDiscount is the merchant's own code at checkout.discount. The shop
// deploys it for the merchant so the example does something out of the
// box; merchants deploy theirs with `outlet functions deploy`, as
// examples/functions shows.
//
//go:embed merchant-discount.js
var welcomeDiscount string

// receiverLabel marks the endpoint the shop made, to find it on restart.
const receiverLabel = "shop-example"

// bootstrap declares the catalog and the hook, signs up the merchant with
// its discount function and an endpoint for its order events at receiverURL,
// and returns the endpoint's signing secret. It can run on every start:
// what exists already is updated, not made twice.
func bootstrap(ctx context.Context, c *client.Client, merchant, receiverURL string) (secret string, err error) {
	for _, et := range eventTypes {
		_, err := c.EventTypes.Create(ctx, et)
		if isConflict(err) {
			_, err = c.EventTypes.Update(ctx, et.Name, client.EventTypeUpdate{
				Description: &et.Description, Schema: et.Schema, Sample: et.Sample})
		}
		if err != nil {
			return "", fmt.Errorf("event type %s: %w", et.Name, err)
		}
	}
	_, err = c.Hooks.Create(ctx, discountHook)
	if isConflict(err) {
		h := discountHook
		_, err = c.Hooks.Update(ctx, h.Name, client.HookUpdate{Description: &h.Description,
			InputSchema: h.InputSchema, OutputSchema: h.OutputSchema, TimeoutMs: &h.TimeoutMs, OnError: &h.OnError})
	}
	if err != nil {
		return "", fmt.Errorf("hook %s: %w", discountHook.Name, err)
	}

	if _, err := c.Tenants.Create(ctx, client.TenantCreate{ID: merchant, Name: "Acme T-shirts"}); err != nil && !isConflict(err) {
		return "", fmt.Errorf("merchant %s: %w", merchant, err)
	}
	// Deploying the same code again changes nothing: the active version stays.
	if _, err := c.Functions.Deploy(ctx, merchant, "welcome-discount", client.FunctionDeploy{
		Runtime: outlet.RuntimeJavaScript, Code: welcomeDiscount, Hooks: []string{discountHook.Name}}); err != nil {
		return "", fmt.Errorf("deploy the merchant's discount function: %w", err)
	}

	ep, err := findEndpoint(ctx, c, merchant)
	switch {
	case err != nil:
		return "", err
	case ep == nil:
		ep, err = c.Endpoints.Create(ctx, merchant, client.EndpointCreate{URL: receiverURL,
			Description: "the merchant's order webhooks", EventTypes: []string{"order.*"},
			Metadata: map[string]string{"created_by": receiverLabel}})
	case ep.URL != receiverURL:
		ep, err = c.Endpoints.Update(ctx, merchant, ep.ID, client.EndpointUpdate{URL: &receiverURL})
	}
	if err != nil {
		return "", fmt.Errorf("the merchant's endpoint: %w", err)
	}
	s, err := c.Endpoints.Secret(ctx, merchant, ep.ID)
	if err != nil {
		return "", fmt.Errorf("the merchant's endpoint secret: %w", err)
	}
	return s.Secret, nil
}

// findEndpoint returns the endpoint an earlier start made, or nil.
func findEndpoint(ctx context.Context, c *client.Client, merchant string) (*outlet.Endpoint, error) {
	for ep, err := range c.Endpoints.All(ctx, merchant, client.ListOptions{}) {
		if err != nil {
			return nil, fmt.Errorf("list the merchant's endpoints: %w", err)
		}
		if ep.Metadata["created_by"] == receiverLabel {
			return ep, nil
		}
	}
	return nil, nil
}

// isConflict says whether err is Outlet's answer that the thing exists.
func isConflict(err error) bool { return outlet.ErrorCode(err) == outlet.ECONFLICT }
