package app

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/httpapi"
)

// Config is everything a server is built from. Defaults fills every
// setting; `outlet serve`'s flags take their defaults from it, and so
// docs/configuration.md, which is generated from the flags.
type Config struct {
	// Data keeps the embedded SQLite database (when Database is empty), the
	// admin key, the secrets key and compiled Wasm.
	Data string
	// Database is a postgres:// URL that several nodes can share; empty
	// keeps the state in SQLite under Data.
	Database string
	// AdminKey is the admin key; empty takes the one stored in
	// <Data>/admin.key, generated on first start (App.AdminKey says so).
	AdminKey string
	// SecretKey encrypts tenants' secrets (64 hex digits, or base64 of 32
	// bytes); empty takes the one stored in <Data>/secret.key, generated on
	// first start.
	SecretKey string
	// Node names this process on the claims it takes; empty makes a name
	// from the host, the process id and a random part.
	Node string

	AllowPrivateNetworks bool
	DNSServer            string

	RetrySchedule       outlet.RetrySchedule
	AttemptTimeout      time.Duration
	MaxRetryAfter       time.Duration
	DisableAfter        time.Duration
	Retention           time.Duration
	AuditRetention      time.Duration
	MaxEventSize        int // bytes
	StrictEventTypes    bool
	Workers             int
	MaxHeld             int
	EndpointMaxInFlight int
	BreakerFailures     int // 0 turns the breaker off
	BreakerCooldown     time.Duration
	BreakerMaxCooldown  time.Duration
	PublishRateLimit    int
	Lease               time.Duration
	PollInterval        time.Duration
	CacheTTL            time.Duration
	AuthFailureRate     float64
	AuthFailureBurst    int

	FunctionTimeout      time.Duration
	FunctionMemoryMB     int
	FunctionMaxTimeout   time.Duration
	FunctionMaxMemoryMB  int
	FunctionStackFrames  int
	FunctionMaxInput     int // bytes
	FunctionMaxOutput    int // bytes
	FunctionMaxLogs      int // bytes
	FunctionConcurrency  int
	FunctionMaxParallel  int
	FunctionAllowedHosts []string
	FunctionFetchLimit   int
	FunctionFetchTimeout time.Duration
	FunctionWarmVMs      int
	FunctionWarmMemory   int // bytes

	// Operational events (see the operational package). A function whose
	// runs in a FunctionFailingWindow fail at FunctionFailingRate or more,
	// once it ran FunctionFailingMinRuns times, raises function.failing
	// (rate 0: never); a tenant's daily count reaching a UsageThreshold…
	// raises tenant.usage_threshold (0: never).
	FunctionFailingRate        float64
	FunctionFailingWindow      time.Duration
	FunctionFailingMinRuns     int
	UsageThresholdEvents       int64
	UsageThresholdDeliveries   int64
	UsageThresholdFunctionRuns int64

	// Portal serves the portal at /portal/ and lets its sessions be made.
	Portal bool
	// PortalFrameAncestors are the sources that may frame the portal (the
	// CSP's frame-ancestors): 'none', 'self', or origins.
	PortalFrameAncestors []string
	// PortalCookieSameSite is the portal cookie's SameSite: lax, strict or
	// none (which cross-site iframes need, and which needs https).
	PortalCookieSameSite string
	// PublicURL is where people reach Outlet (https://outlet.example.com);
	// empty makes portal links relative to Outlet's address.
	PublicURL string

	Logger *slog.Logger
	// TracerProvider makes Outlet's spans. Nil builds one from the standard
	// OTEL_* environment variables, off unless they ask for an exporter
	// (see internal/tracing), flushed and stopped by Shutdown.
	TracerProvider trace.TracerProvider
	// TuneAPI, when set, changes the API's Config after New derived it from
	// this one: for tests that give the API a clock of their own or watch
	// what it asks of the store.
	TuneAPI func(*httpapi.Config)
}

// Defaults returns the settings a server runs with unless told otherwise.
// It is the one place they are written down.
func Defaults() Config {
	return Config{
		Data:                   "./outlet-data",
		RetrySchedule:          outlet.DefaultRetrySchedule,
		AttemptTimeout:         15 * time.Second,
		MaxRetryAfter:          time.Hour,
		DisableAfter:           120 * time.Hour,
		Retention:              30 * 24 * time.Hour,
		AuditRetention:         90 * 24 * time.Hour,
		MaxEventSize:           256 << 10,
		Workers:                64,
		MaxHeld:                10000,
		EndpointMaxInFlight:    10,
		BreakerFailures:        5,
		BreakerCooldown:        10 * time.Second,
		BreakerMaxCooldown:     5 * time.Minute,
		Lease:                  60 * time.Second,
		PollInterval:           time.Second,
		CacheTTL:               5 * time.Second,
		AuthFailureRate:        10,
		AuthFailureBurst:       200,
		FunctionTimeout:        10 * time.Second,
		FunctionMemoryMB:       64,
		FunctionMaxTimeout:     time.Minute,
		FunctionMaxMemoryMB:    256,
		FunctionStackFrames:    5000,
		FunctionMaxInput:       1 << 20,
		FunctionMaxOutput:      1 << 20,
		FunctionMaxLogs:        16 << 10,
		FunctionConcurrency:    8,
		FunctionMaxParallel:    64,
		FunctionFetchLimit:     20,
		FunctionFetchTimeout:   5 * time.Second,
		FunctionWarmVMs:        256,
		FunctionWarmMemory:     256 << 20,
		FunctionFailingRate:    0.5,
		FunctionFailingWindow:  5 * time.Minute,
		FunctionFailingMinRuns: 10,
		Portal:                 true,
		PortalFrameAncestors:   []string{"'none'"},
		PortalCookieSameSite:   "lax",
	}
}
