package outlet

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// Tenant is one customer of the platform. Everything a tenant owns lives under
// its id.
type Tenant struct {
	ID string `json:"id"`
	// UID is the tenant's internal identity, new each time a tenant is
	// created (NewUID): state kept for a deleted tenant (warm engines,
	// decrypted secrets) is keyed by it, so a tenant created again under the
	// same id never inherits any. The store sets it.
	UID      string            `json:"-"`
	Name     string            `json:"name"`
	Metadata map[string]string `json:"metadata"`
	// AllowedHosts limits which hosts the tenant's functions may fetch from:
	// names such as "api.stripe.com" or patterns such as "*.example.com".
	// Empty allows any public host. The network policy applies either way.
	AllowedHosts []string `json:"allowed_hosts"`
	// PublishRateLimit caps the events per second the tenant may publish,
	// per node; 0 takes the operator's default.
	PublishRateLimit int       `json:"publish_rate_limit"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// MaxPublishRateLimit is the highest per-tenant publish rate a tenant may be given.
const MaxPublishRateLimit = 1000000

// TenantUpdate holds the fields of a tenant a caller may change; nil means keep.
type TenantUpdate struct {
	Name             *string
	Metadata         map[string]string // nil keeps; empty clears
	AllowedHosts     *[]string
	PublishRateLimit *int
}

// TenantStore keeps tenants and their API keys.
type TenantStore interface {
	CreateTenant(ctx context.Context, t *Tenant) error
	Tenant(ctx context.Context, id string) (*Tenant, error)
	ListTenants(ctx context.Context, page Page) ([]*Tenant, string, error)
	UpdateTenant(ctx context.Context, id string, u TenantUpdate, now time.Time) (*Tenant, error)
	// DeleteTenant removes the tenant and everything it owns.
	DeleteTenant(ctx context.Context, id string) error

	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKeyByHash finds a key by the SHA-256 of its secret; ENOTFOUND if none.
	APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	ListAPIKeys(ctx context.Context, tenantID string) ([]*APIKey, error)
	DeleteAPIKey(ctx context.Context, tenantID, id string) error
	// TouchAPIKey records that the key was used; it is advisory and may lag.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

var tenantIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidateTenantID checks an id chosen by the platform for one of its
// customers, or the operator's own tenant (OperatorTenant).
func ValidateTenantID(id string) error {
	if !tenantIDPattern.MatchString(id) && id != OperatorTenant {
		return Errorf(EINVALID, "tenant id %q is not valid: use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit "+
			"(the one id starting with '_' is %s, the operator's own tenant)", truncate(id, 80), OperatorTenant)
	}
	return nil
}

// Validate checks the tenant's fields before it is stored.
func (t *Tenant) Validate() error {
	if err := ValidateTenantID(t.ID); err != nil {
		return err
	}
	if len(t.Name) > 200 {
		return Errorf(EINVALID, "tenant name is %d characters long; the limit is 200", len(t.Name))
	}
	if err := ValidateHostPatterns(t.AllowedHosts); err != nil {
		return err
	}
	if t.PublishRateLimit < 0 || t.PublishRateLimit > MaxPublishRateLimit {
		return Errorf(EINVALID, "publish_rate_limit is %d; give events per second from 1 to %d, or 0 for the operator's default",
			t.PublishRateLimit, MaxPublishRateLimit)
	}
	return ValidateMetadata(t.Metadata)
}

var hostPattern = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidateHostPatterns checks an allowed-hosts list: lowercase host names,
// optionally starting with "*." for every subdomain, or "*" for any host.
func ValidateHostPatterns(hosts []string) error {
	if len(hosts) > 100 {
		return Errorf(EINVALID, "allowed_hosts has %d entries; the limit is 100", len(hosts))
	}
	for _, h := range hosts {
		if h != "*" && (len(h) > 253 || !hostPattern.MatchString(h)) {
			return Errorf(EINVALID, "allowed host %q is not valid: give a lowercase host name such as api.example.com, *.example.com for its subdomains, or * for any host", truncate(h, 100))
		}
	}
	return nil
}

// HostAllowed reports whether host matches an allowed-hosts list; an empty
// list allows every host.
func HostAllowed(patterns []string, host string) bool {
	if len(patterns) == 0 {
		return true
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, p := range patterns {
		if p == "*" || p == host {
			return true
		}
		if suffix, ok := strings.CutPrefix(p, "*"); ok && strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}

// ValidateMetadata bounds the free-form labels a caller may attach to records.
func ValidateMetadata(m map[string]string) error {
	if len(m) > 50 {
		return Errorf(EINVALID, "metadata has %d keys; the limit is 50", len(m))
	}
	for k, v := range m {
		if k == "" || len(k) > 100 {
			return Errorf(EINVALID, "metadata key %q must be 1 to 100 characters", truncate(k, 110))
		}
		if len(v) > 1000 {
			return Errorf(EINVALID, "metadata value for %q is %d characters long; the limit is 1000", k, len(v))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Apply changes the tenant as u says.
func (t *Tenant) Apply(u TenantUpdate, now time.Time) {
	if u.Name != nil {
		t.Name = *u.Name
	}
	if u.Metadata != nil {
		t.Metadata = u.Metadata
	}
	if u.AllowedHosts != nil {
		t.AllowedHosts = *u.AllowedHosts
	}
	if u.PublishRateLimit != nil {
		t.PublishRateLimit = *u.PublishRateLimit
	}
	t.UpdatedAt = now
}
