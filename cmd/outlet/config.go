package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/app"
	"github.com/outlethq/outlet/portal"
)

// serveConfig is every setting of `outlet serve`. Its flags are defined once,
// in flags, with app.Defaults() as their defaults; each has an OUTLET_*
// environment twin, and the help text, the startup summary and
// docs/configuration.md are all generated from them.
type serveConfig struct {
	// Config is what the server is built from; the rest is serve's own.
	app.Config

	Addr            string
	ShutdownTimeout time.Duration
	PprofAddr       string
	LogFormat       string
	LogLevel        string
}

// envOnly are settings read from the environment alone, because a flag's
// value is visible to every user of the machine.
var envOnly = []struct{ name, usage string }{
	{"OUTLET_ADMIN_KEY", "The admin key. When unset, one is generated on first start, stored in <data>/admin.key and printed once."},
	{"OUTLET_SECRET_KEY", "The key that encrypts tenants' secrets (AES-256): 64 hex digits or base64 of 32 bytes. When unset, one is generated on first start and stored in <data>/secret.key. Several nodes sharing a database need the same key."},
}

func (c *serveConfig) flags(fs *pflag.FlagSet) {
	// Every flag's default is the value app.Defaults() put in its field.
	c.Config = app.Defaults()
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	c.storeFlags(fs)
	fs.BoolVar(&c.AllowPrivateNetworks, "allow-private-networks", c.AllowPrivateNetworks, "let webhooks reach loopback, private, link-local and metadata addresses (for development and tests)")
	fs.StringVar(&c.DNSServer, "dns-server", c.DNSServer, "resolve webhook hosts with this DNS server (host:port) instead of the system's")
	fs.Var((*scheduleValue)(&c.RetrySchedule), "retry-schedule", "waits between attempts, comma-separated Go durations; after the last, a delivery has failed")
	fs.DurationVar(&c.AttemptTimeout, "attempt-timeout", c.AttemptTimeout, "the longest one webhook attempt may take, connect to last byte")
	fs.DurationVar(&c.MaxRetryAfter, "max-retry-after", c.MaxRetryAfter, "the longest a receiver's Retry-After header (on 429 or 503) may delay the next attempt")
	fs.DurationVar(&c.DisableAfter, "disable-after", c.DisableAfter, "disable an endpoint after every attempt to it has failed for this long")
	fs.DurationVar(&c.Retention, "retention", c.Retention, "delete events older than this with their deliveries and attempts, and function logs (0 keeps them forever); a delivery still pending is kept with its event until it finishes; on Postgres whole days go, up to a day later")
	fs.DurationVar(&c.AuditRetention, "audit-retention", c.AuditRetention, "delete audit log entries older than this (0 keeps them forever)")
	fs.Var((*byteSize)(&c.MaxEventSize), "max-event-size", "largest event data accepted by publish (e.g. 256KiB, 1MiB)")
	fs.BoolVar(&c.StrictEventTypes, "strict-event-types", c.StrictEventTypes, "refuse events whose type is not in the catalog")
	fs.IntVar(&c.Workers, "workers", c.Workers, "webhook attempts in flight at once on this node")
	fs.IntVar(&c.MaxHeld, "max-held", c.MaxHeld, "deliveries this node holds in memory, waiting or in flight; the rest wait in the database")
	fs.IntVar(&c.EndpointMaxInFlight, "endpoint-max-in-flight", c.EndpointMaxInFlight, "attempts in flight to one endpoint at once from this node, unless the endpoint sets max_in_flight")
	fs.IntVar(&c.BreakerFailures, "breaker-failures", c.BreakerFailures, "stop sending to an endpoint after this many attempts in a row got no answer, a 5xx or a 429, until a probe succeeds (0 turns the breaker off)")
	fs.DurationVar(&c.BreakerCooldown, "breaker-cooldown", c.BreakerCooldown, "how long an endpoint's circuit stays open before a probe; it doubles after each failed probe")
	fs.DurationVar(&c.BreakerMaxCooldown, "breaker-max-cooldown", c.BreakerMaxCooldown, "the longest an endpoint's circuit stays open between probes")
	fs.IntVar(&c.PublishRateLimit, "publish-rate-limit", c.PublishRateLimit, "events per second one tenant may publish to this node, unless the tenant's publish_rate_limit says otherwise (0: no limit); more are refused with 429")
	fs.DurationVar(&c.Lease, "lease", c.Lease, "how long a node's claim on a delivery lasts unless renewed; a node that dies leaves its work to others after this")
	fs.DurationVar(&c.PollInterval, "poll-interval", c.PollInterval, "the longest this node sleeps without looking for due deliveries")
	fs.DurationVar(&c.CacheTTL, "cache-ttl", c.CacheTTL, "how long API keys and event type schemas are cached")
	fs.Float64Var(&c.AuthFailureRate, "auth-failure-rate", c.AuthFailureRate, "requests per second with an unknown API key one client address (an IPv6 /64) may make, after a burst of --auth-failure-burst; past it, keys this node hasn't seen are refused with 429 without a database lookup (0: no limit)")
	fs.IntVar(&c.AuthFailureBurst, "auth-failure-burst", c.AuthFailureBurst, "requests with an unknown API key one client address may make at once before --auth-failure-rate applies")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long to let attempts in flight finish before cutting them short")
	fs.DurationVar(&c.FunctionTimeout, "function-timeout", c.FunctionTimeout, "how long a function may run on an event unless its deploy says otherwise (at a hook, the hook's timeout_ms applies)")
	fs.IntVar(&c.FunctionMemoryMB, "function-memory", c.FunctionMemoryMB, "MiB of memory a function gets unless its deploy says otherwise")
	fs.DurationVar(&c.FunctionMaxTimeout, "function-max-timeout", c.FunctionMaxTimeout, "the longest timeout a deploy may ask for")
	fs.IntVar(&c.FunctionMaxMemoryMB, "function-max-memory", c.FunctionMaxMemoryMB, "the most MiB of memory a deploy may ask for")
	fs.IntVar(&c.FunctionStackFrames, "function-stack-frames", c.FunctionStackFrames, "JavaScript call depth a function gets; deeper recursion is a runtime_error (a deploy may ask for less)")
	fs.Var((*byteSize)(&c.FunctionMaxInput), "function-max-input", "largest input (an event, or a hook's input) a function takes (a deploy may ask for less)")
	fs.Var((*byteSize)(&c.FunctionMaxOutput), "function-max-output", "largest output a function may return (a deploy may ask for less)")
	fs.Var((*byteSize)(&c.FunctionMaxLogs), "function-max-logs", "console output kept per function run; the rest is cut and marked (a deploy may ask for less)")
	fs.IntVar(&c.FunctionConcurrency, "function-concurrency", c.FunctionConcurrency, "function runs one tenant may have going at once on this node; more wait their turn")
	fs.IntVar(&c.FunctionMaxParallel, "function-max-parallel", c.FunctionMaxParallel, "function runs all tenants may have going at once on this node")
	fs.StringSliceVar(&c.FunctionAllowedHosts, "function-allowed-hosts", c.FunctionAllowedHosts, "hosts any tenant's functions may fetch from (e.g. api.stripe.com,*.example.com); a tenant's own allowed_hosts can narrow this, not widen it; empty allows any public host")
	fs.IntVar(&c.FunctionFetchLimit, "function-fetch-limit", c.FunctionFetchLimit, "fetch requests one function run may make")
	fs.DurationVar(&c.FunctionFetchTimeout, "function-fetch-timeout", c.FunctionFetchTimeout, "the longest one fetch request of a function may take")
	fs.IntVar(&c.FunctionWarmVMs, "function-warm-vms", c.FunctionWarmVMs, "function engines (JavaScript VMs and Wasm instances) kept warm, ready to run, on this node")
	fs.Var((*byteSize)(&c.FunctionWarmMemory), "function-warm-memory", "memory that engines kept warm between runs (JavaScript VMs and Wasm instances) may hold on this node, least recently used evicted first; one tenant may hold a quarter of it")
	fs.Float64Var(&c.FunctionFailingRate, "function-failing-rate", c.FunctionFailingRate, "raise the operational event outlet.function.failing when this share of a function's runs (at hooks and on events) in a window fails, e.g. 0.5 for half; 0 never raises it")
	fs.DurationVar(&c.FunctionFailingWindow, "function-failing-window", c.FunctionFailingWindow, "the window --function-failing-rate is measured in, on each node; outlet.function.failing is raised at most once per function and window")
	fs.IntVar(&c.FunctionFailingMinRuns, "function-failing-min-runs", c.FunctionFailingMinRuns, "runs a function needs in a window before it can be failing")
	fs.Int64Var(&c.UsageThresholdEvents, "usage-threshold-events", c.UsageThresholdEvents, "raise the operational event outlet.tenant.usage_threshold, once a day, for a tenant that published this many events in the UTC day (0: never)")
	fs.Int64Var(&c.UsageThresholdDeliveries, "usage-threshold-deliveries", c.UsageThresholdDeliveries, "raise the operational event outlet.tenant.usage_threshold, once a day, for a tenant whose events made this many deliveries in the UTC day (0: never)")
	fs.Int64Var(&c.UsageThresholdFunctionRuns, "usage-threshold-function-runs", c.UsageThresholdFunctionRuns, "raise the operational event outlet.tenant.usage_threshold, once a day, for a tenant whose functions ran this many times in the UTC day (0: never)")
	fs.BoolVar(&c.Portal, "portal", c.Portal, "serve the portal (the web UI for tenants and the operator) at /portal/ and let portal sessions be made; --portal=false answers both with 404")
	fs.StringSliceVar(&c.PortalFrameAncestors, "portal-frame-ancestors", c.PortalFrameAncestors, "the pages that may show the portal in an iframe, as the CSP's frame-ancestors: 'none', 'self', or origins such as https://app.example.com or https://*.example.com")
	fs.StringVar(&c.PortalCookieSameSite, "portal-cookie-samesite", c.PortalCookieSameSite, "SameSite of the portal's session cookie: lax (the portal opened in its own tab, or framed by a page of the same site), strict, or none (framed by another site; the cookie is then Secure, so Outlet must be reached over https)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "the address people reach Outlet at (e.g. https://outlet.example.com), for the portal's links; empty makes them relative to Outlet's address")
	fs.StringVar(&c.PprofAddr, "pprof-addr", "", "serve Go's pprof profiles on this address, e.g. 127.0.0.1:6060 (a bare :6060 listens on 127.0.0.1 only); keep it private: profiles show what the process holds")
	fs.StringVar(&c.PprofAddr, "debug-addr", "", "the former name of --pprof-addr")
	fs.MarkDeprecated("debug-addr", "use --pprof-addr")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// storeFlags defines the flags that say where the store is, which `outlet
// migrate` shares with `outlet serve`.
func (c *serveConfig) storeFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Data, "data", app.Defaults().Data, "directory for the embedded database and the generated admin key")
	fs.Var((*databaseURL)(&c.Database), "database", "the database: empty for the embedded SQLite database under --data, or a postgres:// URL that several nodes can share "+
		"(e.g. postgres://outlet@db.internal:5432/outlet?sslmode=verify-full&search_path=outlet); "+
		"keep a password off the command line: set it in the environment twin or in PGPASSWORD")
}

// databaseURL is --database: empty, or a Postgres URL. It shows itself with
// the password hidden, so that the startup summary never logs it.
type databaseURL string

func (d *databaseURL) Type() string { return "url" }

func (d *databaseURL) String() string {
	if *d == "" {
		return ""
	}
	u, err := url.Parse(string(*d))
	if err != nil {
		return "(a URL that can't be read)" // and might show a password
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

func (d *databaseURL) Set(v string) error {
	if v != "" && !isPostgresURL(v) {
		return fmt.Errorf("give a postgres:// (or postgresql://) URL, or nothing for the embedded SQLite database under --data")
	}
	*d = databaseURL(v)
	return nil
}

func isPostgresURL(v string) bool {
	return strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://")
}

// envName is a flag's environment twin.
func envName(flag string) string {
	return "OUTLET_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets every flag not given on the command line from its
// environment twin, if set.
func applyEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// annotateEnv adds the environment twin to every flag's help.
func annotateEnv(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		f.Usage += " [$" + envName(f.Name) + "]"
	})
}

func (c *serveConfig) validate() error {
	switch {
	case c.Workers < 1 || c.Workers > 10000:
		return fmt.Errorf("--workers must be 1 to 10000")
	case c.MaxHeld < 1:
		return fmt.Errorf("--max-held must be at least 1")
	case c.EndpointMaxInFlight < 1 || c.EndpointMaxInFlight > outlet.MaxEndpointInFlight:
		return fmt.Errorf("--endpoint-max-in-flight must be 1 to %d", outlet.MaxEndpointInFlight)
	case c.BreakerFailures < 0:
		return fmt.Errorf("--breaker-failures must be 0 (off) or more")
	case c.BreakerCooldown <= 0 || c.BreakerMaxCooldown < c.BreakerCooldown:
		return fmt.Errorf("--breaker-cooldown must be positive and at most --breaker-max-cooldown")
	case c.AuthFailureRate < 0 || c.AuthFailureBurst < 1:
		return fmt.Errorf("--auth-failure-rate must be 0 (no limit) or more, and --auth-failure-burst at least 1")
	case c.PublishRateLimit < 0 || c.PublishRateLimit > outlet.MaxPublishRateLimit:
		return fmt.Errorf("--publish-rate-limit must be 0 (no limit) to %d", outlet.MaxPublishRateLimit)
	case c.AttemptTimeout <= 0:
		return fmt.Errorf("--attempt-timeout must be positive")
	case c.Lease < 2*c.AttemptTimeout:
		return fmt.Errorf("--lease (%s) must be at least twice --attempt-timeout (%s), so a claim outlives the attempt it covers", c.Lease, c.AttemptTimeout)
	case c.PollInterval <= 0:
		return fmt.Errorf("--poll-interval must be positive")
	case c.Retention < 0:
		return fmt.Errorf("--retention must be 0 (keep forever) or positive")
	case c.AuditRetention < 0:
		return fmt.Errorf("--audit-retention must be 0 (keep forever) or positive")
	case c.MaxEventSize < 1 || c.MaxEventSize > 64<<20:
		return fmt.Errorf("--max-event-size must be 1 byte to 64MiB")
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("--log-format must be text or json")
	case c.FunctionTimeout <= 0 || c.FunctionMaxTimeout < c.FunctionTimeout:
		return fmt.Errorf("--function-timeout must be positive and at most --function-max-timeout")
	case c.FunctionMemoryMB < 1 || c.FunctionMaxMemoryMB < c.FunctionMemoryMB:
		return fmt.Errorf("--function-memory must be at least 1 and at most --function-max-memory")
	case c.FunctionStackFrames < 100 || c.FunctionMaxInput < 1<<10 || c.FunctionMaxOutput < 1<<10 || c.FunctionMaxLogs < 1<<10:
		return fmt.Errorf("--function-stack-frames must be at least 100, and --function-max-input, --function-max-output and --function-max-logs at least 1KiB")
	case c.FunctionConcurrency < 1 || c.FunctionMaxParallel < 1:
		return fmt.Errorf("--function-concurrency and --function-max-parallel must be at least 1")
	case c.FunctionWarmMemory < 1<<20:
		return fmt.Errorf("--function-warm-memory must be at least 1MiB")
	}
	if err := outlet.ValidateHostPatterns(c.FunctionAllowedHosts); err != nil {
		return fmt.Errorf("--function-allowed-hosts: %s", outlet.ErrorMessage(err))
	}
	if _, err := portal.FrameAncestors(c.PortalFrameAncestors); err != nil {
		return fmt.Errorf("--portal-frame-ancestors: %w", err)
	}
	if _, err := portal.SameSite(c.PortalCookieSameSite); err != nil {
		return fmt.Errorf("--portal-cookie-samesite: %w", err)
	}
	// --public-url is checked by app.New, before it opens anything.
	return nil
}

// writeConfigDocs writes the reference of every setting, as Markdown.
func writeConfigDocs(w io.Writer) {
	var c serveConfig
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.flags(fs)
	fmt.Fprintln(w, "# Configuration")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "<!-- Generated by `outlet config-docs`; do not edit. -->")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every setting of `outlet serve` is a flag with an environment twin; a flag given on the command line wins over the environment.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| flag | environment | default | meaning |")
	fmt.Fprintln(w, "|---|---|---|---|")
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Deprecated != "" {
			return // still taken, no longer shown
		}
		def := f.DefValue
		if def == "" {
			def = "(none)"
		}
		fmt.Fprintf(w, "| `--%s` | `%s` | `%s` | %s |\n", f.Name, envName(f.Name), def, f.Usage)
	})
	for _, e := range envOnly {
		fmt.Fprintf(w, "| | `%s` | | %s |\n", e.name, e.usage)
	}
}

// scheduleValue is a retry schedule as a flag.
type scheduleValue outlet.RetrySchedule

func (s *scheduleValue) String() string { return outlet.RetrySchedule(*s).String() }
func (s *scheduleValue) Type() string   { return "durations" }
func (s *scheduleValue) Set(v string) error {
	rs, err := outlet.ParseRetrySchedule(v)
	if err != nil {
		return err
	}
	*s = scheduleValue(rs)
	return nil
}

// byteSize is a size in bytes as a flag: 262144, 256KiB, 1MiB, 1MB.
type byteSize int

func (b *byteSize) Type() string { return "size" }
func (b *byteSize) String() string {
	switch n := int(*b); {
	case n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	default:
		return strconv.Itoa(n)
	}
}
func (b *byteSize) Set(v string) error {
	units := []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"KB", 1000}, {"MB", 1000 * 1000}, {"B", 1}}
	mult := 1
	s := strings.TrimSpace(v)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a size: use bytes, or a number with KiB, MiB, KB or MB", v)
	}
	*b = byteSize(n * mult)
	return nil
}
