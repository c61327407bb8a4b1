package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/outlethq/outlet/client"
)

// The shop sells three things, priced in cents.
var products = map[string]product{
	"tee":    {Name: "T-shirt", Price: 2500},
	"mug":    {Name: "Mug", Price: 1200},
	"hoodie": {Name: "Hoodie", Price: 5500},
}

const currency = "EUR"

type product struct {
	Name  string `json:"name"`
	Price int    `json:"price"`
}

type item struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int    `json:"quantity"`
	UnitPrice int    `json:"unit_price"`
}

type discount struct {
	Label  string `json:"label"`
	Amount int    `json:"amount"`
}

// cart is the checkout.discount hook's input and output.
type cart struct {
	Currency  string     `json:"currency"`
	Items     []item     `json:"items"`
	Subtotal  int        `json:"subtotal"`
	Coupon    string     `json:"coupon,omitempty"`
	Discounts []discount `json:"discounts,omitempty"`
}

// orderData is what order.created carries.
type orderData struct {
	ID        string     `json:"order_id"`
	Currency  string     `json:"currency"`
	Items     []item     `json:"items"`
	Subtotal  int        `json:"subtotal"`
	Discount  int        `json:"discount"`
	Total     int        `json:"total"`
	Coupon    string     `json:"coupon,omitempty"`
	Discounts []discount `json:"discounts,omitempty"`
}

// order is an order as the shop keeps and shows it.
type order struct {
	orderData
	Paid   bool     `json:"paid"`
	Events []string `json:"events"` // the ids Outlet gave this order's events
}

// shop is the platform's own application: orders in memory, Outlet through
// the SDK.
type shop struct {
	outlet   *client.Client
	merchant string

	mu     sync.Mutex
	orders map[string]*order
}

func (s *shop) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /products", func(w http.ResponseWriter, r *http.Request) { reply(w, http.StatusOK, products) })
	mux.HandleFunc("POST /checkout", s.checkout)
	mux.HandleFunc("GET /orders/{id}", s.getOrder)
	mux.HandleFunc("POST /orders/{id}/pay", s.pay)
	return mux
}

func (s *shop) home(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, `Acme T-shirts, a shop on the example platform.

GET  /products            what's for sale: tee, mug, hoodie
POST /checkout            {"items":[{"sku":"tee","quantity":2}],"coupon":"WELCOME10"}
GET  /orders/{id}         an order
POST /orders/{id}/pay     pay for it
`)
}

// checkout prices the cart, asks the merchant's code for discounts at the
// checkout.discount hook, and publishes order.created.
func (s *shop) checkout(w http.ResponseWriter, r *http.Request) {
	ctx, span := tracer.Start(r.Context(), "POST /checkout", trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	var req struct {
		Items []struct {
			SKU      string `json:"sku"`
			Quantity int    `json:"quantity"`
		} `json:"items"`
		Coupon string `json:"coupon"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "the body must be JSON like {\"items\":[{\"sku\":\"tee\",\"quantity\":2}]}: "+err.Error())
		return
	}
	if len(req.Items) == 0 {
		fail(w, http.StatusBadRequest, "the cart is empty: give items, such as [{\"sku\":\"tee\",\"quantity\":2}]")
		return
	}
	c := cart{Currency: currency, Coupon: req.Coupon}
	for _, it := range req.Items {
		p, ok := products[it.SKU]
		if !ok {
			fail(w, http.StatusBadRequest, fmt.Sprintf("no product %q: choose tee, mug or hoodie", it.SKU))
			return
		}
		if it.Quantity < 1 || it.Quantity > 100 {
			fail(w, http.StatusBadRequest, fmt.Sprintf("quantity of %s must be 1 to 100", it.SKU))
			return
		}
		c.Items = append(c.Items, item{SKU: it.SKU, Name: p.Name, Quantity: it.Quantity, UnitPrice: p.Price})
		c.Subtotal += it.Quantity * p.Price
	}

	o := &order{orderData: orderData{ID: newOrderID(), Currency: c.Currency, Items: c.Items, Subtotal: c.Subtotal, Coupon: c.Coupon}}
	o.Discounts = s.discounts(ctx, c)
	for _, d := range o.Discounts {
		o.Discount += d.Amount
	}
	o.Discount = min(o.Discount, o.Subtotal) // the merchant's code can't make the shop pay the customer
	o.Total = o.Subtotal - o.Discount

	// The order's id is the idempotency key: should this publish be sent
	// again (a retry after a timeout, a crash and a replay of the shop's
	// outbox), Outlet answers with the first event and sends nothing twice.
	evt, err := s.outlet.Events.Publish(ctx, s.merchant, client.Publish{Type: "order.created", Data: o.orderData},
		client.WithIdempotencyKey(o.ID))
	if err != nil {
		fail(w, http.StatusBadGateway, "the order's event wasn't published: "+err.Error())
		return
	}
	o.Events = append(o.Events, evt.ID)
	s.mu.Lock()
	s.orders[o.ID] = o
	s.mu.Unlock()
	log.Printf("order %s: %d - %d = %d %s, published as %s", o.ID, o.Subtotal, o.Discount, o.Total, o.Currency, evt.ID)
	reply(w, http.StatusCreated, o)
}

// discounts asks the merchant's code at the hook. A failure never stops the
// checkout: the hook answers fail_open (the cart as it was) when the
// merchant's code fails, and when Outlet itself can't be reached the shop
// sells at full price too.
func (s *shop) discounts(ctx context.Context, c cart) []discount {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	res, err := s.outlet.TenantHooks.Invoke(ctx, s.merchant, "checkout.discount", c)
	if err != nil {
		log.Printf("checkout.discount: %v; no discount", err)
		return nil
	}
	if res.Error != nil {
		log.Printf("checkout.discount: the merchant's code failed (%s: %s); no discount", res.Error.Code, res.Error.Message)
	}
	var answer cart
	if err := json.Unmarshal(res.Output, &answer); err != nil {
		log.Printf("checkout.discount answered %s: %v; no discount", res.Output, err)
		return nil
	}
	var out []discount
	for _, d := range answer.Discounts {
		if d.Amount > 0 {
			out = append(out, d)
		}
	}
	return out
}

func (s *shop) pay(w http.ResponseWriter, r *http.Request) {
	ctx, span := tracer.Start(r.Context(), "POST /orders/{id}/pay", trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	o := s.order(r.PathValue("id"))
	if o == nil {
		fail(w, http.StatusNotFound, "no order "+r.PathValue("id"))
		return
	}
	data := map[string]any{"order_id": o.ID, "currency": o.Currency, "total": o.Total}
	evt, err := s.outlet.Events.Publish(ctx, s.merchant, client.Publish{Type: "order.paid", Data: data},
		client.WithIdempotencyKey(o.ID+"-paid"))
	if err != nil {
		fail(w, http.StatusBadGateway, "the payment's event wasn't published: "+err.Error())
		return
	}
	s.mu.Lock()
	if stored := s.orders[o.ID]; !stored.Paid {
		stored.Paid = true
		stored.Events = append(stored.Events, evt.ID)
	}
	s.mu.Unlock()
	log.Printf("order %s paid, published as %s", o.ID, evt.ID)
	reply(w, http.StatusOK, s.order(o.ID))
}

func (s *shop) getOrder(w http.ResponseWriter, r *http.Request) {
	o := s.order(r.PathValue("id"))
	if o == nil {
		fail(w, http.StatusNotFound, "no order "+r.PathValue("id"))
		return
	}
	reply(w, http.StatusOK, o)
}

// order returns a copy of the order, or nil.
func (s *shop) order(id string) *order {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return nil
	}
	cp := *o
	return &cp
}

func newOrderID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "ord_" + hex.EncodeToString(b)
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	reply(w, status, map[string]string{"error": msg})
}
