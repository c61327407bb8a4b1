package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// newStandInReceiver stands in for the merchant's own server, so that one
// command shows an order event delivered: it checks each request's
// signature with the endpoint's secret, as any Standard Webhooks library
// does, and logs the event. examples/receiver-node is a real receiver.
func newStandInReceiver(secret string) (http.Handler, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("the endpoint's secret: %w", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := wh.Verify(body, r.Header); err != nil {
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		var evt struct {
			Type string `json:"type"`
			Data struct {
				OrderID string `json:"order_id"`
			} `json:"data"`
		}
		json.Unmarshal(body, &evt)
		log.Printf("merchant's receiver: %s %s for order %s (signature verified)", r.Header.Get("webhook-id"), evt.Type, evt.Data.OrderID)
		w.WriteHeader(http.StatusNoContent)
	}), nil
}
