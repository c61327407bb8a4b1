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

// PublishBatchResult is the answer to a batch publish: one item per event
// of the request, in its order, and how many came to what.
type PublishBatchResult struct {
	Results []PublishBatchItem `json:"results"`
	// Accepted counts the events stored now, Replayed those published
	// before (answered as they were, nothing sent again), Failed those
	// refused (nothing of them is stored).
	Accepted int `json:"accepted"`
	Replayed int `json:"replayed"`
	Failed   int `json:"failed"`
}

// PublishBatchItem is the answer for one event of a batch publish: what a
// publish of it alone would have answered, or why it was refused.
type PublishBatchItem struct {
	*PublishResult        // nil when the event was refused
	Error          *Error `json:"error,omitempty"`
}
