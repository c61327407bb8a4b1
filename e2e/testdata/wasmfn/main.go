// Command wasmfn is a customer's function written in Go with the Extism PDK,
// as the end-to-end tests deploy it: on an event it logs the type and
// answers what it handled; at a hook it applies the discount in its DISCOUNT
// secret to a cart.
package main

import (
	"strconv"

	"github.com/extism/go-pdk"
)

type message struct {
	Type  string         `json:"type"`  // set on events
	Cart  map[string]int `json:"cart"`  // set at the hook
	Extra map[string]any `json:"extra"` // passed through
}

func main() {}

//go:wasmexport handle
func handle() int32 {
	var in message
	if err := pdk.InputJSON(&in); err != nil {
		pdk.SetErrorString("input is not what this function expects: " + err.Error())
		return 1
	}
	if in.Type != "" {
		pdk.Log(pdk.LogInfo, "received "+in.Type)
		return out(map[string]any{"handled": in.Type})
	}
	pct := 0
	if v, ok := pdk.GetConfig("DISCOUNT"); ok {
		pct, _ = strconv.Atoi(v)
	}
	total := in.Cart["total"]
	return out(map[string]any{"cart": map[string]int{"total": total - total*pct/100}, "wasm": true})
}

func out(v any) int32 {
	if err := pdk.OutputJSON(v); err != nil {
		pdk.SetError(err)
		return 1
	}
	return 0
}
