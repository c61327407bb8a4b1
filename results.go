package outlet

import (
	"encoding/json"
	"time"
)

// The answers of the API that the server and its SDK share: the server
// writes them, the Go client reads them into the same types.

// FunctionError is why a tenant's code failed one invocation.
type FunctionError struct {
	Code    string `json:"code"` // FunctionTimeout, FunctionMemoryLimit or FunctionRuntimeError
	Message string `json:"message"`
}

func (e *FunctionError) Error() string { return e.Code + ": " + e.Message }

// Codes of a FunctionError, as the contract names them.
const (
	FunctionTimeout      = "timeout"
	FunctionMemoryLimit  = "memory_limit"
	FunctionRuntimeError = "runtime_error"
)

// ServedBy says what answered a hook.
type ServedBy string

// What may answer a hook.
const (
	ServedByFunctions   ServedBy = "functions"   // the tenant's functions, as a chain
	ServedByEndpoint    ServedBy = "endpoint"    // the tenant's sync endpoint
	ServedByPassthrough ServedBy = "passthrough" // nothing of the tenant's: the input, unchanged
)

// HookResult is the answer to a hook invocation, as the contract shapes it.
type HookResult struct {
	// Output is the hook's answer: the output of the tenant's code, or, when
	// it failed, the input unchanged (fail_open) or null (fail_closed).
	Output json.RawMessage `json:"output"`
	// Error is why the tenant's code failed; nil when it didn't.
	Error      *FunctionError `json:"error"`
	DurationMs int64          `json:"duration_ms"`
	ServedBy   ServedBy       `json:"served_by"`
}

// TestResult is what a test run of a function came to. Nothing of it is
// recorded.
type TestResult struct {
	Version int `json:"version"`
	// Output is what the function returned; null when it failed.
	Output        json.RawMessage `json:"output"`
	Error         *FunctionError  `json:"error"`
	Logs          string          `json:"logs"`
	LogsTruncated bool            `json:"logs_truncated"`
	DurationMs    int64           `json:"duration_ms"`
}

// PublishResult is the answer to a publish.
type PublishResult struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	CreatedAt time.Time `json:"created_at"`
	// Deliveries is how many deliveries the event made: one per matching
	// endpoint or function.
	Deliveries int `json:"deliveries"`
	// Replayed is true when the id or idempotency key had been published
	// before: the answer is that event, and nothing new is sent.
	Replayed bool `json:"replayed"`
}
