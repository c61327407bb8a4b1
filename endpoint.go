package outlet

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Endpoint is a URL a tenant runs to receive the events it subscribes to.
type Endpoint struct {
	ID          string            `json:"id"`
	TenantID    string            `json:"tenant_id"`
	URL         string            `json:"url"`
	Description string            `json:"description"`
	EventTypes  []string          `json:"event_types"` // empty: every type
	Headers     map[string]string `json:"headers"`     // sent with every request
	Metadata    map[string]string `json:"metadata"`
	Disabled    bool              `json:"disabled"`
	// DisabledReason says why an endpoint stopped receiving: "" while enabled,
	// "manual" when a caller disabled it, or why Outlet did.
	DisabledReason string     `json:"disabled_reason"`
	DisabledAt     *time.Time `json:"disabled_at"`
	// FailingSince is when the current run of failed attempts began; nil while
	// the last attempt succeeded.
	FailingSince *time.Time `json:"failing_since"`
	// Flow control. MaxInFlight caps the attempts in flight to the endpoint
	// at once, per node (0: the operator's default); RateLimit caps attempts
	// per second, per node (0: no cap). An Ordered endpoint gets its events
	// one at a time in publish order, each waiting until the one before
	// succeeded or finally failed.
	MaxInFlight int       `json:"max_in_flight"`
	RateLimit   int       `json:"rate_limit"`
	Ordered     bool      `json:"ordered"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`

	Secret string `json:"-"`
	// PreviousSecret still signs requests, beside Secret, until
	// PreviousSecretExpiresAt, so receivers can roll over without downtime.
	PreviousSecret          string     `json:"-"`
	PreviousSecretExpiresAt *time.Time `json:"-"`
}

// EndpointUpdate holds the fields of an endpoint a caller may change; nil means
// keep. Non-nil empty slices and maps clear.
type EndpointUpdate struct {
	URL         *string
	Description *string
	EventTypes  *[]string
	Headers     *map[string]string
	Metadata    *map[string]string
	Disabled    *bool
	MaxInFlight *int
	RateLimit   *int
	Ordered     *bool
}

// Flow-control bounds an endpoint may set.
const (
	MaxEndpointInFlight  = 1000
	MaxEndpointRateLimit = 100000
)

// EndpointStore keeps endpoints.
type EndpointStore interface {
	CreateEndpoint(ctx context.Context, ep *Endpoint) error
	Endpoint(ctx context.Context, tenantID, id string) (*Endpoint, error)
	ListEndpoints(ctx context.Context, tenantID string, page Page) ([]*Endpoint, string, error)
	UpdateEndpoint(ctx context.Context, tenantID, id string, u EndpointUpdate, now time.Time) (*Endpoint, error)
	DeleteEndpoint(ctx context.Context, tenantID, id string) error
	// RotateEndpointSecret makes secret the endpoint's signing secret and keeps
	// the old one signing until overlapUntil (no overlap if it is not after now).
	RotateEndpointSecret(ctx context.Context, tenantID, id, secret string, overlapUntil, now time.Time) (*Endpoint, error)
	// MarkEndpointCircuit records that a node's circuit breaker for the
	// endpoint opened (open) or closed, and reports whether that changed
	// the record: of the nodes whose circuits for an endpoint open, only
	// the first changes it, and only the first to close one after that — so
	// that each change is told once, whatever the number of nodes. A
	// closing changes only a record of an opening. An endpoint that is
	// gone changes nothing.
	MarkEndpointCircuit(ctx context.Context, tenantID, id string, open bool, now time.Time) (bool, error)
}

// SecretPrefix starts every endpoint signing secret, as Standard Webhooks uses.
const SecretPrefix = "whsec_"

// NewEndpointSecret returns a fresh signing secret: whsec_ and 32 random bytes
// in base64.
func NewEndpointSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// DecodeEndpointSecret returns the HMAC key inside a whsec_ secret.
func DecodeEndpointSecret(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, Errorf(EINVALID, "secret must start with %q", SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, Errorf(EINVALID, "secret must be %q followed by standard base64", SecretPrefix)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, Errorf(EINVALID, "secret must hold 24 to 64 bytes of key; it holds %d", len(key))
	}
	return key, nil
}

// ActiveSecrets returns the secrets that sign a request sent at now: the
// current one first, then the previous one while its overlap lasts.
func (ep *Endpoint) ActiveSecrets(now time.Time) []string {
	s := []string{ep.Secret}
	if ep.PreviousSecret != "" && ep.PreviousSecretExpiresAt != nil && now.Before(*ep.PreviousSecretExpiresAt) {
		s = append(s, ep.PreviousSecret)
	}
	return s
}

// Accepts reports whether the endpoint wants events of type typ now.
func (ep *Endpoint) Accepts(typ string) bool {
	return !ep.Disabled && MatchEventType(ep.EventTypes, typ)
}

// Validate checks the fields a caller sets. URL policy beyond the syntax (which
// hosts may be called) is the dispatcher's, since it depends on configuration.
func (ep *Endpoint) Validate() error {
	if _, err := ParseEndpointURL(ep.URL); err != nil {
		return err
	}
	if len(ep.Description) > 1000 {
		return Errorf(EINVALID, "description is %d characters long; the limit is 1000", len(ep.Description))
	}
	if len(ep.EventTypes) > 100 {
		return Errorf(EINVALID, "event_types has %d entries; the limit is 100", len(ep.EventTypes))
	}
	for _, f := range ep.EventTypes {
		if err := ValidateEventTypeFilter(f); err != nil {
			return err
		}
	}
	if err := ValidateHeaders(ep.Headers); err != nil {
		return err
	}
	if ep.MaxInFlight < 0 || ep.MaxInFlight > MaxEndpointInFlight {
		return Errorf(EINVALID, "max_in_flight is %d; give 1 to %d, or 0 for the operator's default", ep.MaxInFlight, MaxEndpointInFlight)
	}
	if ep.RateLimit < 0 || ep.RateLimit > MaxEndpointRateLimit {
		return Errorf(EINVALID, "rate_limit is %d; give requests per second from 1 to %d, or 0 for no limit", ep.RateLimit, MaxEndpointRateLimit)
	}
	return ValidateMetadata(ep.Metadata)
}

// ParseEndpointURL checks the syntax of an endpoint URL: absolute http or https,
// with a host and no fragment.
func ParseEndpointURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, Errorf(EINVALID, "url is required: give the absolute http(s) URL that should receive webhooks")
	}
	if len(raw) > 2048 {
		return nil, Errorf(EINVALID, "url is %d characters long; the limit is 2048", len(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, Errorf(EINVALID, "url %q can't be parsed: %v", truncate(raw, 100), err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, Errorf(EINVALID, "url %q must start with http:// or https://", truncate(raw, 100))
	}
	if u.Hostname() == "" {
		return nil, Errorf(EINVALID, "url %q has no host", truncate(raw, 100))
	}
	// url.Parse checks only that a port is digits: one no connection can use
	// would fail every attempt and open the endpoint's circuit.
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, Errorf(EINVALID, "url %q has port %s; a port is 1 to 65535, or leave it out for the scheme's own", truncate(raw, 100), truncate(p, 20))
		}
	}
	if u.Fragment != "" {
		return nil, Errorf(EINVALID, "url %q has a #fragment, which is never sent; remove it", truncate(raw, 100))
	}
	return u, nil
}

// reservedHeaders are set by Outlet on every request and can't be overridden,
// so a receiver can trust them.
var reservedHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Host": true, "User-Agent": true,
	"Webhook-Id": true, "Webhook-Timestamp": true, "Webhook-Signature": true,
	"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Te": true,
	"Trailer": true, "Upgrade": true, "Proxy-Authorization": true, "Proxy-Connection": true,
}

// ValidateHeaders checks an endpoint's custom headers.
func ValidateHeaders(h map[string]string) error {
	if len(h) > 20 {
		return Errorf(EINVALID, "headers has %d entries; the limit is 20", len(h))
	}
	for k, v := range h {
		if !validHeaderName(k) {
			return Errorf(EINVALID, "header name %q is not a valid HTTP header name", truncate(k, 100))
		}
		if reservedHeaders[http.CanonicalHeaderKey(k)] {
			return Errorf(EINVALID, "header %q is set by Outlet and can't be overridden", k)
		}
		if len(v) > 4096 || strings.ContainsAny(v, "\r\n\x00") {
			return Errorf(EINVALID, "header %q has a value that is too long (over 4096) or contains a line break", k)
		}
	}
	return nil
}

func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Apply changes the endpoint as u says. Enabling an endpoint clears the record
// of why it was disabled and its failing streak, so it starts afresh.
func (ep *Endpoint) Apply(u EndpointUpdate, now time.Time) {
	if u.URL != nil {
		ep.URL = *u.URL
	}
	if u.Description != nil {
		ep.Description = *u.Description
	}
	if u.EventTypes != nil {
		ep.EventTypes = *u.EventTypes
	}
	if u.Headers != nil {
		ep.Headers = *u.Headers
	}
	if u.Metadata != nil {
		ep.Metadata = *u.Metadata
	}
	if u.MaxInFlight != nil {
		ep.MaxInFlight = *u.MaxInFlight
	}
	if u.RateLimit != nil {
		ep.RateLimit = *u.RateLimit
	}
	if u.Ordered != nil {
		ep.Ordered = *u.Ordered
	}
	if u.Disabled != nil && *u.Disabled != ep.Disabled {
		ep.Disabled = *u.Disabled
		if ep.Disabled {
			ep.DisabledReason, ep.DisabledAt = "manual", &now
		} else {
			ep.DisabledReason, ep.DisabledAt, ep.FailingSince = "", nil, nil
		}
	}
	ep.UpdatedAt = now
}

// Rotate makes secret the signing secret. The old one keeps signing until
// overlapUntil; with no overlap it stops at once.
func (ep *Endpoint) Rotate(secret string, overlapUntil, now time.Time) {
	ep.PreviousSecret, ep.PreviousSecretExpiresAt = "", nil
	if overlapUntil.After(now) {
		ep.PreviousSecret, ep.PreviousSecretExpiresAt = ep.Secret, &overlapUntil
	}
	ep.Secret = secret
	ep.UpdatedAt = now
}
