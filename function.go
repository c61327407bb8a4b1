package outlet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"time"
)

// Function runtimes.
const (
	RuntimeJavaScript = "javascript"
	RuntimeTypeScript = "typescript" // transpiled to JavaScript when deployed
	RuntimeWasm       = "wasm"       // an Extism plugin that exports handle
)

// Function is a tenant's hosted code: a name, its immutable versions, and the
// one that is active. The active version decides what the function runs and
// what it is bound to.
type Function struct {
	TenantID      string    `json:"tenant_id"`
	Name          string    `json:"name"`
	ActiveVersion int       `json:"active_version"`
	LatestVersion int       `json:"latest_version"`
	Runtime       string    `json:"runtime"` // of the active version
	Events        []string  `json:"events"`  // of the active version
	Hooks         []string  `json:"hooks"`   // of the active version
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// FunctionVersion is one deploy of a function. It never changes: a new deploy
// makes a new version, and a rollback makes an earlier one active again.
type FunctionVersion struct {
	TenantID string `json:"tenant_id"`
	Function string `json:"function"`
	Version  int    `json:"version"`
	// UID is the version's internal identity, new on every deploy
	// (NewUID); TenantUID is the UID of the tenant that deployed it. Warm
	// engines are keyed by them, never by the public names, which a caller
	// may reuse after deleting. The store sets both.
	UID       string `json:"-"`
	TenantUID string `json:"-"`
	Runtime   string `json:"runtime"`
	// Source is what was deployed: JavaScript or TypeScript text. Empty for
	// Wasm, whose source Outlet never sees.
	Source string `json:"source,omitempty"`
	// Code is what runs: a JavaScript module, or the Wasm binary.
	Code []byte `json:"-"`
	// SourceMap maps Code back to what the customer wrote (a source map,
	// version 3, as JSON), so errors and stack traces name their files,
	// lines and columns; empty for Wasm. Read and written with Code.
	SourceMap []byte         `json:"-"`
	SHA256    string         `json:"sha256"` // of Code
	Events    []string       `json:"events"` // event type filters, like an endpoint's; empty: none
	Hooks     []string       `json:"hooks"`  // hooks it serves
	Limits    FunctionLimits `json:"limits"`
	// Active is set on the version that is active now.
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

// FunctionLimits are a version's own limits, within the operator's maxima;
// zero takes the operator's setting. At a hook the hook's deadline applies
// instead of TimeoutMs.
type FunctionLimits struct {
	TimeoutMs   int `json:"timeout_ms,omitempty"` // for events
	MemoryMB    int `json:"memory_mb,omitempty"`
	StackFrames int `json:"stack_frames,omitempty"` // JavaScript call depth
	MaxInputKB  int `json:"max_input_kb,omitempty"`
	MaxOutputKB int `json:"max_output_kb,omitempty"`
	MaxLogsKB   int `json:"max_logs_kb,omitempty"`
}

var functionNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidateFunctionName checks a function's name, which is part of its URL.
func ValidateFunctionName(name string) error {
	if !functionNamePattern.MatchString(name) {
		return Errorf(EINVALID, "function name %q is not valid: use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit", truncate(name, 80))
	}
	return nil
}

// MaxFunctionCode caps the size of what a deploy may run.
const MaxFunctionCode = 8 << 20

// Validate checks the version's fields, all but its code, which only a
// runtime can judge, and its limits against the operator's maxima.
func (v *FunctionVersion) Validate(max FunctionLimits) error {
	if err := ValidateFunctionName(v.Function); err != nil {
		return err
	}
	switch v.Runtime {
	case RuntimeJavaScript, RuntimeTypeScript, RuntimeWasm:
	case "":
		return Errorf(EINVALID, "runtime is required: %q, %q or %q", RuntimeJavaScript, RuntimeTypeScript, RuntimeWasm)
	default:
		return Errorf(EINVALID, "runtime %q is not one of %q, %q, %q", v.Runtime, RuntimeJavaScript, RuntimeTypeScript, RuntimeWasm)
	}
	if len(v.Events) > 100 || len(v.Hooks) > 100 {
		return Errorf(EINVALID, "a function may be bound to at most 100 event types and 100 hooks")
	}
	for _, f := range v.Events {
		if err := ValidateEventTypeFilter(f); err != nil {
			return err
		}
	}
	for _, h := range v.Hooks {
		if err := ValidateEventTypeName(h); err != nil {
			return Errorf(EINVALID, "hook name %q is not valid: use dot-separated parts of letters, digits, '_' or '-', up to 128 characters (e.g. checkout.discount)", truncate(h, 140))
		}
	}
	for _, l := range []struct {
		name     string
		got, max int
	}{
		{"timeout_ms", v.Limits.TimeoutMs, max.TimeoutMs},
		{"memory_mb", v.Limits.MemoryMB, max.MemoryMB},
		{"stack_frames", v.Limits.StackFrames, max.StackFrames},
		{"max_input_kb", v.Limits.MaxInputKB, max.MaxInputKB},
		{"max_output_kb", v.Limits.MaxOutputKB, max.MaxOutputKB},
		{"max_logs_kb", v.Limits.MaxLogsKB, max.MaxLogsKB},
	} {
		if l.got < 0 || l.got > l.max {
			return Errorf(EINVALID, "%s %d is out of range: use 1 to %d, or leave it out for the operator's setting", l.name, l.got, l.max)
		}
	}
	if len(v.Code) > MaxFunctionCode {
		return Errorf(ETOOLARGE, "the function's code is %d bytes; the limit is %d", len(v.Code), MaxFunctionCode)
	}
	return nil
}

// Seal fills in the hash of the version's code.
func (v *FunctionVersion) Seal() {
	h := sha256.Sum256(v.Code)
	v.SHA256 = hex.EncodeToString(h[:])
}

// ServesHook reports whether the version is bound to the hook.
func (v *FunctionVersion) ServesHook(hook string) bool {
	for _, h := range v.Hooks {
		if h == hook {
			return true
		}
	}
	return false
}

// FunctionStore keeps functions and their versions.
type FunctionStore interface {
	// DeployFunction stores v as the function's next version and makes it
	// active, creating the function if needed; it fills in v.Version.
	// ECONFLICT if v serves a hook the tenant serves with a sync endpoint.
	DeployFunction(ctx context.Context, v *FunctionVersion, now time.Time) error
	Function(ctx context.Context, tenantID, name string) (*Function, error)
	ListFunctions(ctx context.Context, tenantID string) ([]*Function, error)
	// FunctionVersion returns one version with its code; version 0 means the
	// active one.
	FunctionVersion(ctx context.Context, tenantID, name string, version int) (*FunctionVersion, error)
	// ListFunctionVersions returns every version, newest first, without code
	// or source.
	ListFunctionVersions(ctx context.Context, tenantID, name string) ([]*FunctionVersion, error)
	// ActivateFunctionVersion makes an existing version the active one.
	ActivateFunctionVersion(ctx context.Context, tenantID, name string, version int, now time.Time) (*Function, error)
	// DeleteFunction removes the function, its versions, its deliveries and
	// its logs.
	DeleteFunction(ctx context.Context, tenantID, name string) error
	// HookFunctions returns the active versions, with code, of the tenant's
	// functions that serve the hook, in the order the functions were first
	// deployed.
	HookFunctions(ctx context.Context, tenantID, hook string) ([]*FunctionVersion, error)
}

// Invocation is one run of a function, kept for its logs.
type Invocation struct {
	ID         string            `json:"id"`
	TenantID   string            `json:"tenant_id"`
	Function   string            `json:"function"`
	Version    int               `json:"version"`
	Trigger    InvocationTrigger `json:"trigger"`     // "event" or "hook"
	TriggerRef string            `json:"trigger_ref"` // the delivery id or the hook name
	StartedAt  time.Time         `json:"started_at"`
	DurationMs int64             `json:"duration_ms"`
	Outcome    string            `json:"outcome"` // "ok", or the error code
	Error      string            `json:"error"`
	Logs       string            `json:"logs"` // console output, truncated at MaxLogBytes
	Truncated  bool              `json:"logs_truncated"`
}

// InvocationTrigger is what made a function run.
type InvocationTrigger string

// Invocation triggers.
const (
	TriggerEvent InvocationTrigger = "event"
	TriggerHook  InvocationTrigger = "hook"
	TriggerTest  InvocationTrigger = "test" // a test run, which leaves no log
)

// InvocationFilter selects invocations to list.
type InvocationFilter struct {
	Page
	// After, when set, lists the invocations after the one with this id,
	// oldest first — what a client following the logs asks for.
	After string
}

// InvocationStore keeps recent invocations.
type InvocationStore interface {
	RecordInvocations(ctx context.Context, invs []*Invocation) error
	ListInvocations(ctx context.Context, tenantID, function string, f InvocationFilter) ([]*Invocation, string, error)
}

// Secret is a tenant's secret, by name; its value never leaves the store
// except, decrypted, into the tenant's functions.
type Secret struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

var secretNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// ValidateSecretName checks a secret's name: it becomes ctx.secrets.NAME, so
// it is a JavaScript identifier.
func ValidateSecretName(name string) error {
	if !secretNamePattern.MatchString(name) {
		return Errorf(EINVALID, "secret name %q is not valid: use letters, digits and '_', not starting with a digit, up to 128 characters (e.g. STRIPE_KEY)", truncate(name, 140))
	}
	return nil
}

// MaxSecretValue caps a secret's value.
const MaxSecretValue = 32 << 10

// SecretStore keeps tenants' secrets, sealed: the store never sees a value.
type SecretStore interface {
	// PutSecret stores a sealed value under name, replacing any; it reports
	// whether the secret is new.
	PutSecret(ctx context.Context, tenantID, name string, sealed []byte, now time.Time) (bool, error)
	DeleteSecret(ctx context.Context, tenantID, name string) error
	ListSecrets(ctx context.Context, tenantID string) ([]*Secret, error)
	// SealedSecrets returns every secret of the tenant, sealed, by name.
	SealedSecrets(ctx context.Context, tenantID string) (map[string][]byte, error)
}
