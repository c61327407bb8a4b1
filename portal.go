package outlet

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// PrefixPortalSession starts the id of a portal session.
const PrefixPortalSession = "ps_"

// How the portal's browser side authenticates: the session's cookie, and,
// on every write, its CSRF token in a header.
const (
	PortalCookieName = "outlet_portal"
	PortalCSRFHeader = "X-Outlet-CSRF"
)

// PortalSession lets one person into the portal: a customer of the
// platform, for one tenant, or the operator (TenantID empty), with the
// operator's rights. The platform mints it; the person opens its one-time
// link, whose token the portal exchanges for a cookie.
//
// Only hashes of the token and of the cookie's secret are stored: a copy of
// the database lets no one in.
type PortalSession struct {
	ID string `json:"id"`
	// TenantID is the tenant the session is for; "" for the operator's.
	TenantID string `json:"tenant_id"`
	// ReadOnly sessions may read what their tenant may, and write nothing.
	ReadOnly bool           `json:"read_only"`
	Features PortalFeatures `json:"features"`
	Theme    PortalTheme    `json:"theme"`
	// ExpiresAt ends the session, exchanged or not.
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
	// ExchangedAt is when its link was opened: a link opens once.
	ExchangedAt *time.Time `json:"exchanged_at"`
	RevokedAt   *time.Time `json:"revoked_at"`
	// TokenHash is the SHA-256 of the one-time token in the link.
	TokenHash []byte `json:"-"`
	// SecretHash is the SHA-256 of the cookie's secret, set by the exchange.
	SecretHash []byte `json:"-"`
}

// PortalFeatures are the parts of the portal a session shows. A part
// switched off is hidden, and the API refuses the session's writes to it.
type PortalFeatures struct {
	Functions bool `json:"functions"`
	Endpoints bool `json:"endpoints"`
	Hooks     bool `json:"hooks"`
	Secrets   bool `json:"secrets"`
	Usage     bool `json:"usage"`
}

// PortalFeatureNames are the names a request may switch on or off.
var PortalFeatureNames = []string{"functions", "endpoints", "hooks", "secrets", "usage"}

// AllPortalFeatures is every part of the portal: what a session shows
// unless it says otherwise.
func AllPortalFeatures() PortalFeatures {
	return PortalFeatures{Functions: true, Endpoints: true, Hooks: true, Secrets: true, Usage: true}
}

// With returns f with the named features switched as given; an unknown
// name is EINVALID.
func (f PortalFeatures) With(set map[string]bool) (PortalFeatures, error) {
	for name, on := range set {
		switch name {
		case "functions":
			f.Functions = on
		case "endpoints":
			f.Endpoints = on
		case "hooks":
			f.Hooks = on
		case "secrets":
			f.Secrets = on
		case "usage":
			f.Usage = on
		default:
			return f, Errorf(EINVALID, "features has an unknown feature %q: give any of %s, each true or false",
				truncate(name, 40), strings.Join(PortalFeatureNames, ", "))
		}
	}
	return f, nil
}

// PortalTheme is how the portal looks: the platform's brand.
type PortalTheme struct {
	// BrandColor is a colour as #rrggbb; "" keeps the portal's own.
	BrandColor string `json:"brand_color"`
	// LogoURL is an https:// URL or a data:image/… URL; "" shows none.
	LogoURL string `json:"logo_url"`
	// Name is the platform's name, shown beside the logo.
	Name string `json:"name"`
	// Mode is "auto" (the browser's preference), "light" or "dark".
	Mode string `json:"mode"`
}

// The portal's limits.
const (
	DefaultPortalSessionTTL = time.Hour
	MinPortalSessionTTL     = time.Minute
	MaxPortalSessionTTL     = 24 * time.Hour
	maxPortalThemeName      = 100
	// A logo given inline as a data: URL travels in every page of the
	// portal; this keeps the page small.
	maxPortalLogoURL = 64 << 10
)

var (
	brandColorPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
	// Images a browser shows from a data: URL; an SVG's scripts never run
	// in an <img>.
	logoDataPattern = regexp.MustCompile(`^data:image/(png|jpeg|gif|webp|svg\+xml|avif);base64,[A-Za-z0-9+/]+={0,2}$`)
)

// Validate checks a theme a platform asked for.
func (th PortalTheme) Validate() error {
	if th.BrandColor != "" && !brandColorPattern.MatchString(th.BrandColor) {
		return Errorf(EINVALID, "theme.brand_color %q is not a colour: give it as #rrggbb, e.g. #4f46e5", truncate(th.BrandColor, 40))
	}
	if n := utf8.RuneCountInString(th.Name); n > maxPortalThemeName {
		return Errorf(EINVALID, "theme.name is %d characters long; the limit is %d", n, maxPortalThemeName)
	}
	if !utf8.ValidString(th.Name) || strings.ContainsFunc(th.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Errorf(EINVALID, "theme.name holds control characters or bytes that aren't UTF-8; give plain text")
	}
	switch th.Mode {
	case "auto", "light", "dark":
	default:
		return Errorf(EINVALID, "theme.mode %q is not one of auto, light or dark", truncate(th.Mode, 40))
	}
	switch l := th.LogoURL; {
	case l == "":
	case len(l) > maxPortalLogoURL:
		return Errorf(EINVALID, "theme.logo_url is %d bytes long; the limit is %d: host the logo and give its https:// URL", len(l), maxPortalLogoURL)
	case strings.HasPrefix(l, "data:"):
		if !logoDataPattern.MatchString(l) {
			return Errorf(EINVALID, "theme.logo_url is a data: URL but not a base64 image: give data:image/png;base64,… (or jpeg, gif, webp, svg+xml, avif), or an https:// URL")
		}
	case strings.HasPrefix(l, "https://"):
		u, err := url.Parse(l)
		if err != nil || u.Host == "" || u.User != nil || len(l) > 2048 ||
			strings.ContainsFunc(l, func(r rune) bool {
				return r <= 0x20 || r == 0x7f || r == '"' || r == '\'' || r == '<' || r == '>' || r == '\\'
			}) {
			return Errorf(EINVALID, "theme.logo_url %q is not a usable https:// URL: give at most 2048 characters, a host and no user name, with spaces and quotes percent-encoded", truncate(l, 80))
		}
	default:
		return Errorf(EINVALID, "theme.logo_url %q must start with https:// or be a data:image/… URL (the portal's page allows no other images)", truncate(l, 80))
	}
	return nil
}

// PortalSessionOptions are what the platform may choose of a session.
type PortalSessionOptions struct {
	// ExpiresIn is how long the session lasts: 1 minute to 24 hours; 0
	// takes an hour.
	ExpiresIn time.Duration
	ReadOnly  bool
	Features  PortalFeatures
	Theme     PortalTheme
}

// NewPortalSession builds a session for tenantID ("" for the operator) and
// returns it with the one-time token of its link, which is not kept
// anywhere.
func NewPortalSession(tenantID string, o PortalSessionOptions, now time.Time) (*PortalSession, string, error) {
	if o.ExpiresIn == 0 {
		o.ExpiresIn = DefaultPortalSessionTTL
	}
	if o.ExpiresIn < MinPortalSessionTTL || o.ExpiresIn > MaxPortalSessionTTL {
		return nil, "", Errorf(EINVALID, "expires_in is %d seconds; give %d to %d (a minute to a day)",
			int64(o.ExpiresIn/time.Second), int64(MinPortalSessionTTL/time.Second), int64(MaxPortalSessionTTL/time.Second))
	}
	if o.Theme.Mode == "" {
		o.Theme.Mode = "auto"
	}
	if err := o.Theme.Validate(); err != nil {
		return nil, "", err
	}
	token := newPortalSecret("olpt_")
	return &PortalSession{
		ID:        NewID(PrefixPortalSession),
		TenantID:  tenantID,
		ReadOnly:  o.ReadOnly,
		Features:  o.Features,
		Theme:     o.Theme,
		ExpiresAt: now.Add(o.ExpiresIn),
		CreatedAt: now,
		TokenHash: HashPortalSecret(token),
	}, token, nil
}

// NewPortalCookieSecret returns a fresh secret for a session's cookie.
func NewPortalCookieSecret() string { return newPortalSecret("olps_") }

// Tokens and cookie secrets carry a prefix of their own, so a secret scanner
// finds leaked ones, and 256 random bits.
func newPortalSecret(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashPortalSecret returns the hash under which a token or a cookie secret
// is stored and looked up.
func HashPortalSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// PortalCSRFToken is the token a session's writes must carry, derived from
// the cookie's secret so that nothing more is stored: the page the portal
// serves holds it, a page of another site can't read it, and it reveals
// nothing of the secret.
func PortalCSRFToken(cookieSecret string) string {
	mac := hmac.New(sha256.New, []byte(cookieSecret))
	mac.Write([]byte("outlet portal csrf v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Usable says whether the session lets its holder in at now: exchanged,
// not revoked, not expired. Its error is EUNAUTHORIZED.
func (s *PortalSession) Usable(now time.Time) error {
	switch {
	case s.RevokedAt != nil:
		return Errorf(EUNAUTHORIZED, "this portal session was revoked: open the portal again from your platform")
	case !now.Before(s.ExpiresAt):
		return Errorf(EUNAUTHORIZED, "this portal session expired: open the portal again from your platform")
	case s.ExchangedAt == nil:
		return Errorf(EUNAUTHORIZED, "this portal session's link was never opened: open it first")
	}
	return nil
}

// Admin reports whether the session is the operator's.
func (s *PortalSession) Admin() bool { return s.TenantID == "" }

// PortalSessionStore keeps portal sessions.
type PortalSessionStore interface {
	// CreatePortalSession stores a new session; ENOTFOUND if its tenant
	// isn't there. It also deletes the sessions that expired a day or more
	// before the new one was created, so the store keeps about a day of
	// them.
	CreatePortalSession(ctx context.Context, s *PortalSession) error
	// ExchangePortalSession opens the session whose token hashes to
	// tokenHash, once: if it is unopened, unrevoked and unexpired at now,
	// it records secretHash as its cookie's and now as its exchange time
	// and returns it. Otherwise ENOTFOUND, and nothing changes.
	ExchangePortalSession(ctx context.Context, tokenHash, secretHash []byte, now time.Time) (*PortalSession, error)
	// PortalSessionBySecret finds the session whose cookie secret hashes to
	// secretHash, whatever its state (the caller checks Usable); ENOTFOUND
	// if none.
	PortalSessionBySecret(ctx context.Context, secretHash []byte) (*PortalSession, error)
	// ListPortalSessions lists a tenant's sessions, or the operator's when
	// tenantID is "", newest first.
	ListPortalSessions(ctx context.Context, tenantID string, page Page) ([]*PortalSession, string, error)
	// RevokePortalSession ends a session of the tenant (of the operator
	// when tenantID is ""); revoking it again changes nothing. ENOTFOUND if
	// it isn't there.
	RevokePortalSession(ctx context.Context, tenantID, id string, now time.Time) error
}

// PortalSessionKept is how long after it expired a session stays in the
// store, to be listed.
const PortalSessionKept = 24 * time.Hour
