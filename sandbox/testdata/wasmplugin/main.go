// Command wasmplugin is an Extism plugin the sandbox's tests run. Its handle
// does what the input's "do" field asks, so one binary covers every rule.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/extism/go-pdk"
)

type input struct {
	Do      string            `json:"do"`
	Items   []int             `json:"items"`
	Key     string            `json:"key"`
	Value   string            `json:"value"`
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Body    string            `json:"body"`
	Headers map[string]string `json:"headers"`
	Times   int               `json:"times"`
	Size    int               `json:"size"`
	Message string            `json:"message"`
}

// calls counts this instance's calls in Go memory, to show what an instance
// keeps between calls and what another tenant never sees.
var calls int

var hoard [][]byte

var spin int

func main() {}

//go:wasmexport handle
func handle() int32 {
	calls++
	var in input
	if err := pdk.InputJSON(&in); err != nil {
		pdk.SetErrorString("bad input: " + err.Error())
		return 1
	}
	switch in.Do {
	case "transform":
		total := 0
		for _, n := range in.Items {
			total += n
		}
		return output(map[string]any{"total": total, "count": len(in.Items), "input": in})
	case "secret":
		v, ok := pdk.GetConfig(in.Key)
		return output(map[string]any{"value": v, "found": ok})
	case "log":
		pdk.Log(pdk.LogDebug, "a debug line")
		pdk.Log(pdk.LogInfo, "an info line")
		pdk.Log(pdk.LogWarn, "a warning")
		pdk.Log(pdk.LogError, "an error line")
		if in.Message != "" {
			pdk.Log(pdk.LogInfo, in.Message)
			fmt.Fprintln(os.Stderr, in.Message)
		}
		fmt.Println("to stdout")
		fmt.Fprint(os.Stderr, "to stderr\nand a partial line")
		return output(map[string]any{"logged": true})
	case "var":
		n := pdk.GetVarInt("count") + 1
		pdk.SetVarInt("count", n)
		prev := string(pdk.GetVar(in.Key))
		if in.Value != "" {
			pdk.SetVar(in.Key, []byte(in.Value))
		}
		return output(map[string]any{"count": n, "previous": prev, "calls": calls})
	case "bigvar":
		pdk.SetVar(in.Key, make([]byte, in.Size))
		return output(map[string]any{"set": in.Size})
	case "fetch":
		var res []map[string]any
		for i := 0; i < max(in.Times, 1); i++ {
			req := pdk.NewHTTPRequest(method(in.Method), in.URL)
			for k, v := range in.Headers {
				req.SetHeader(k, v)
			}
			if in.Body != "" {
				req.SetBody([]byte(in.Body))
			}
			resp := req.Send()
			res = append(res, map[string]any{"status": resp.Status(), "body": string(resp.Body()), "headers": resp.Headers()})
		}
		return output(res)
	case "loop":
		for {
			spin++
		}
	case "sleep":
		time.Sleep(time.Hour)
		return output("woke")
	case "grow":
		for {
			hoard = append(hoard, make([]byte, 1<<20))
		}
	case "hostalloc":
		for {
			pdk.Allocate(1 << 20)
		}
	case "panic":
		panic("boom: " + in.Message)
	case "nil":
		var m map[string]int
		m["x"] = 1
		return 0
	case "error":
		pdk.SetErrorString(in.Message)
		return 1
	case "rc":
		return 7
	case "exit":
		os.Exit(3)
	case "huge":
		return output(strings.Repeat("x", in.Size))
	case "notjson":
		pdk.OutputString("this is not JSON")
		return 0
	case "nothing":
		return 0
	}
	pdk.SetErrorString("unknown do: " + in.Do)
	return 1
}

func output(v any) int32 {
	if err := pdk.OutputJSON(v); err != nil {
		pdk.SetError(err)
		return 1
	}
	return 0
}

func method(m string) pdk.HTTPMethod {
	switch strings.ToUpper(m) {
	case "POST":
		return pdk.MethodPost
	case "PUT":
		return pdk.MethodPut
	case "DELETE":
		return pdk.MethodDelete
	}
	return pdk.MethodGet
}
