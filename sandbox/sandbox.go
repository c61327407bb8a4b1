// Package sandbox runs tenants' functions: JavaScript and TypeScript in
// QuickJS, Wasm (Extism plugins) in wazero. Each invocation runs within
// limits — wall time, memory, stack, input, output and log sizes — and
// exceeding one fails that invocation only. No engine instance is ever
// shared between tenants or between versions of a function.
package sandbox

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/outlethq/outlet"
)

// Error codes of a failed invocation, as the contract names them.
const (
	CodeTimeout      = outlet.FunctionTimeout
	CodeMemoryLimit  = outlet.FunctionMemoryLimit
	CodeRuntimeError = outlet.FunctionRuntimeError
)

// Error is why an invocation failed.
type Error = outlet.FunctionError

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Limits bound one invocation. Zero fields take the defaults in brackets.
type Limits struct {
	Timeout   time.Duration // wall time, waiting for fetch and timers included [10s]
	MemoryMB  int           // the engine's heap (JavaScript) or linear memory (Wasm) [64]
	MaxFrames int           // JavaScript call depth [5000]
	MaxInput  int           // bytes of input [1 MiB]
	MaxOutput int           // bytes of output [1 MiB]
	MaxLogs   int           // bytes of console output kept [16 KiB]
	Fetch     FetchLimits
}

// FetchLimits bound the outbound HTTP of one invocation.
type FetchLimits struct {
	MaxRequests  int           // per invocation [20]
	Timeout      time.Duration // per request, within the invocation's time [5s]
	MaxBody      int           // bytes of a response body read [1 MiB]
	AllowedHosts []string      // the tenant's list; empty allows any public host
	// OperatorHosts is the operator's list, which bounds every tenant's:
	// a host must be in both. Empty allows any public host.
	OperatorHosts []string
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.Timeout <= 0 {
		l.Timeout = 10 * time.Second
	}
	def(&l.MemoryMB, 64)
	def(&l.MaxFrames, 5000)
	def(&l.MaxInput, 1<<20)
	def(&l.MaxOutput, 1<<20)
	def(&l.MaxLogs, 16<<10)
	def(&l.Fetch.MaxRequests, 20)
	def(&l.Fetch.MaxBody, 1<<20)
	if l.Fetch.Timeout <= 0 {
		l.Fetch.Timeout = 5 * time.Second
	}
	return l
}

// Function identifies the code to run. Code is what runs — a JavaScript
// module, or a Wasm binary — and SHA256 names it, so engines can keep their
// compiled form. UID and TenantUID are the version's and its tenant's
// internal identities (outlet.FunctionVersion): warm engines are kept by
// them, so a tenant or function deleted and made again under the same name
// never meets an engine of the old one. SourceMap, when set, maps Code back
// to what the customer wrote, for errors and stack traces.
type Function struct {
	Tenant    string
	TenantUID string
	Name      string
	Version   int
	UID       string
	Runtime   string
	Code      []byte
	SHA256    string
	SourceMap []byte
}

// Call is one invocation of a function.
type Call struct {
	Function Function
	Input    json.RawMessage
	Secrets  map[string]string
	Limits   Limits
	Meta     Meta
}

// Meta is what a JavaScript function's ctx says about the call, beside its
// secrets and its own name and version.
type Meta struct {
	Tenant     string                   `json:"tenant,omitempty"`
	Trigger    outlet.InvocationTrigger `json:"trigger,omitempty"`     // event, hook or test
	Hook       string                   `json:"hook,omitempty"`        // the hook being served
	EventID    string                   `json:"event_id,omitempty"`    // the event, the same on every attempt: deduplicate on it
	DeliveryID string                   `json:"delivery_id,omitempty"` // the delivery the attempt belongs to
	Attempt    int                      `json:"attempt,omitempty"`     // 1 for the first attempt of a delivery
	Test       bool                     `json:"test,omitempty"`        // a test run: nothing of it is recorded
}

// config is the Wasm view of the same: config keys "outlet.tenant",
// "outlet.trigger", "outlet.hook", "outlet.event_id", "outlet.delivery_id"
// and "outlet.attempt", present when they apply.
func (m Meta) config(key string) (string, bool) {
	var v string
	switch key {
	case "outlet.tenant":
		v = m.Tenant
	case "outlet.trigger":
		v = string(m.Trigger)
	case "outlet.hook":
		v = m.Hook
	case "outlet.event_id":
		v = m.EventID
	case "outlet.delivery_id":
		v = m.DeliveryID
	case "outlet.attempt":
		if m.Attempt > 0 {
			v = strconv.Itoa(m.Attempt)
		}
	}
	return v, v != ""
}

// Result is what an invocation came to. Output is set when Error is nil.
type Result struct {
	Output        json.RawMessage `json:"output"`
	Error         *Error          `json:"error"`
	Logs          string          `json:"logs"`
	LogsTruncated bool            `json:"logs_truncated"`
	Duration      time.Duration   `json:"-"`
	// CPU is the CPU time the run used on its thread (wall time where the
	// platform can't tell).
	CPU time.Duration `json:"-"`
}

// logBuffer keeps an invocation's console output up to a cap, with the
// tenant's secret values masked.
type logBuffer struct {
	b         strings.Builder
	max       int
	truncated bool
	mask      *strings.Replacer
	positions *sourceMapper // maps stack traces back to the customer's files
}

// masker replaces every secret value in a text with [secret NAME]. Values
// too short to be told from ordinary text are left alone.
func masker(secrets map[string]string) *strings.Replacer {
	var pairs []string
	for name, v := range secrets {
		if len(v) >= 4 {
			pairs = append(pairs, v, "[secret "+name+"]")
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return strings.NewReplacer(pairs...)
}

func (l *logBuffer) add(level, line string) {
	line = l.positions.rewrite(line)
	if l.mask != nil {
		line = l.mask.Replace(line)
	}
	if level != "log" && level != "info" {
		line = "[" + level + "] " + line
	}
	room := l.max - l.b.Len()
	if room <= 0 {
		l.truncated = true
		return
	}
	if len(line)+1 > room {
		line, l.truncated = line[:max(room-1, 0)], true
	}
	l.b.WriteString(line)
	l.b.WriteByte('\n')
}

// maskText hides the secrets in a message that leaves the sandbox.
func (l *logBuffer) maskText(s string) string {
	if l.mask == nil {
		return s
	}
	return l.mask.Replace(s)
}
