// Package portal serves the portal, Outlet's web UI, at /portal/: the
// exchange of a session's one-time link for its cookie, the page with the
// session written into it, and the bundle built from portal/web (committed
// in portal/dist and embedded), all with a strict Content-Security-Policy.
//
// The portal's page calls the public API with the session's cookie; package
// httpapi authenticates it. Nothing here is an API of its own.
package portal

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/outlethq/outlet"
)

//go:embed dist
var dist embed.FS

// Bundle is the embedded bundle: index.html and assets/.
func Bundle() fs.FS {
	b, _ := fs.Sub(dist, "dist")
	return b
}

// Sessions is what the portal needs of the API's authentication
// (httpapi.Server), so that its cookies and links are judged, cached and
// counted against a client's failures in one place.
type Sessions interface {
	// ExchangePortalToken opens the session of a link's token once,
	// recording secret as its cookie's; ENOTFOUND if it opens nothing,
	// ERATELIMIT for a client past its failures.
	ExchangePortalToken(r *http.Request, token, secret string) (*outlet.PortalSession, error)
	// PortalSession is the live session of the request's cookie;
	// EUNAUTHORIZED if there is none.
	PortalSession(r *http.Request) (*outlet.PortalSession, error)
}

// Config is what the portal is built from.
type Config struct {
	Sessions Sessions
	// FrameAncestors are the sources that may frame the portal (its CSP's
	// frame-ancestors); empty is 'none'. See FrameAncestors.
	FrameAncestors []string
	// SameSite is the session cookie's; 0 is Lax.
	SameSite http.SameSite
	// PublicURL is where people reach Outlet; when it is https, the cookie
	// is Secure even if a proxy in front spoke plain HTTP to Outlet.
	PublicURL string
	// Assets replaces the embedded bundle (index.html and assets/), for
	// tests.
	Assets fs.FS
	Logger *slog.Logger
	// Now is the API's clock, which the sessions' times are on.
	Now func() time.Time
}

// Path is where the portal is served.
const Path = "/portal/"

// Handler serves the portal under Path.
func Handler(cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SameSite == 0 || cfg.SameSite == http.SameSiteDefaultMode {
		cfg.SameSite = http.SameSiteLaxMode
	}
	assets := cfg.Assets
	if assets == nil {
		assets = Bundle()
	}
	ancestors, err := FrameAncestors(cfg.FrameAncestors)
	if err != nil {
		// Callers check the list first (FrameAncestors); should one not,
		// nobody may frame the portal.
		cfg.Logger.Error("the portal's frame ancestors are invalid; no site may frame it", "err", err)
		ancestors = "'none'"
	}
	index, err := fs.ReadFile(assets, "index.html")
	if err != nil {
		index = []byte(fallbackIndex)
	}
	return &handler{cfg: cfg, assets: assets, index: index, headers: securityHeaders(ancestors),
		secure: strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://")}
}

type handler struct {
	cfg     Config
	assets  fs.FS
	index   []byte
	headers http.Header
	secure  bool // the cookie is always Secure
}

// securityHeaders are on every answer of the portal's.
func securityHeaders(frameAncestors string) http.Header {
	h := http.Header{}
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "+
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors "+frameAncestors)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	// For browsers that predate frame-ancestors.
	switch frameAncestors {
	case "'none'":
		h.Set("X-Frame-Options", "DENY")
	case "'self'":
		h.Set("X-Frame-Options", "SAMEORIGIN")
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range h.headers {
		w.Header()[k] = v
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		page(w, http.StatusMethodNotAllowed, "Not allowed", "The portal's pages are only read (GET).")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, Path)
	if !ok {
		page(w, http.StatusNotFound, "Not found", "There is no such page.")
		return
	}
	if rest != "" && rest != "index.html" && !strings.HasSuffix(rest, "/") {
		if b, err := fs.ReadFile(h.assets, rest); err == nil {
			h.asset(w, r, rest, b)
			return
		}
		if strings.HasPrefix(rest, "assets/") {
			// A missing asset is an old page asking for a bundle that was
			// replaced: say so rather than answer the page in its place.
			page(w, http.StatusNotFound, "Not found", "This file of the portal is gone: reload the page.")
			return
		}
	}
	if r.URL.Query().Has("token") {
		h.exchange(w, r)
		return
	}
	h.page(w, r)
}

// asset answers one file of the bundle. Files under assets/ have content
// hashes in their names, so they never change and are cached for good.
func (h *handler) asset(w http.ResponseWriter, r *http.Request, name string, b []byte) {
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	if strings.HasPrefix(name, "assets/") {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// exchange opens a session's link: it records a new cookie secret for the
// session, sets the cookie, and sends the browser on without the token, so
// the token leaves the address bar and the history. The secret is made here,
// never taken from the request: no one can fix a session's cookie in
// advance.
func (h *handler) exchange(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	secret := outlet.NewPortalCookieSecret()
	ps, err := h.cfg.Sessions.ExchangePortalToken(r, r.URL.Query().Get("token"), secret)
	now := h.cfg.Now()
	switch code := outlet.ErrorCode(err); code {
	case "":
	case outlet.ENOTFOUND:
		page(w, http.StatusUnauthorized, "This link can't be used",
			"This portal link was opened already, has expired or was revoked. Open the portal again from your platform.")
		return
	case outlet.ERATELIMIT:
		wait := time.Second
		var t interface{ RetryAfter() time.Duration }
		if errors.As(err, &t) {
			wait = max(wait, t.RetryAfter())
		}
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		page(w, http.StatusTooManyRequests, "Too many tries",
			"Too many portal links that open nothing came from your address. Wait a moment, then open the portal again from your platform.")
		return
	default:
		h.unavailable(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     outlet.PortalCookieName,
		Value:    secret,
		Path:     "/",
		Expires:  ps.ExpiresAt,
		MaxAge:   max(1, int(ps.ExpiresAt.Sub(now)/time.Second)),
		HttpOnly: true,
		// SameSite=None is refused by browsers without Secure.
		Secure:   h.secure || r.TLS != nil || h.cfg.SameSite == http.SameSiteNoneMode,
		SameSite: h.cfg.SameSite,
	})
	// On to the page the link named, if it is one of the portal's.
	to := r.URL.EscapedPath()
	if path.Clean(to) != strings.TrimSuffix(to, "/") || !strings.HasPrefix(to, Path) {
		to = Path
	}
	w.Header().Set("Location", to)
	w.WriteHeader(http.StatusSeeOther)
}

// page answers index.html with the session of the request's cookie written
// into it ("null" without one): the page reads its session there, so no
// script of its own is inline.
func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	// Per session, and holding its CSRF token: never kept by a cache.
	w.Header().Set("Cache-Control", "no-store")
	var meta any // null
	if c, err := r.Cookie(outlet.PortalCookieName); err == nil && c.Value != "" {
		ps, err := h.cfg.Sessions.PortalSession(r)
		switch outlet.ErrorCode(err) {
		case "":
			meta = sessionMeta(ps, outlet.PortalCSRFToken(c.Value))
		case outlet.EUNAUTHORIZED:
			// The session ended: the browser may as well forget it.
			http.SetCookie(w, &http.Cookie{Name: outlet.PortalCookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
				Secure: h.secure || r.TLS != nil || h.cfg.SameSite == http.SameSiteNoneMode, SameSite: h.cfg.SameSite})
		case outlet.ERATELIMIT:
		default:
			h.unavailable(w, r, err)
			return
		}
	}
	b, err := render(h.index, meta)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func (h *handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.cfg.Logger.Warn("portal request failed", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "1")
	page(w, http.StatusServiceUnavailable, "Try again", "Outlet can't open the portal right now. Reload the page in a moment.")
}

// The session as the page reads it.
type metaSession struct {
	ID        string                `json:"id"`
	Tenant    *string               `json:"tenant"` // null for the operator's
	Admin     bool                  `json:"admin"`
	ReadOnly  bool                  `json:"read_only"`
	Features  outlet.PortalFeatures `json:"features"`
	Theme     outlet.PortalTheme    `json:"theme"`
	CSRF      string                `json:"csrf"`
	ExpiresAt outlet.JSONTime       `json:"expires_at"`
	API       string                `json:"api"`
}

func sessionMeta(ps *outlet.PortalSession, csrf string) *metaSession {
	m := &metaSession{ID: ps.ID, Admin: ps.Admin(), ReadOnly: ps.ReadOnly, Features: ps.Features, Theme: ps.Theme, CSRF: csrf,
		ExpiresAt: outlet.JSONTime(ps.ExpiresAt), API: "/v1"}
	if !ps.Admin() {
		m.Tenant = &ps.TenantID
	}
	return m
}

var (
	// The tag is written by html/template, which escapes the JSON for an
	// attribute: a theme's name can't end the attribute or the tag.
	metaTag     = template.Must(template.New("meta").Parse(`<meta name="outlet-session" content="{{.}}">`))
	metaPattern = regexp.MustCompile(`<meta\s+name="outlet-session"[^>]*>`)
)

// render writes the session into index: in place of its outlet-session
// meta tag, or, if it has none, at the end of its head.
func render(index []byte, session any) ([]byte, error) {
	j, err := json.Marshal(session)
	if err != nil {
		return nil, err
	}
	var tag bytes.Buffer
	if err := metaTag.Execute(&tag, string(j)); err != nil {
		return nil, err
	}
	if loc := metaPattern.FindIndex(index); loc != nil {
		return concat(index[:loc[0]], tag.Bytes(), index[loc[1]:]), nil
	}
	if i := bytes.Index(index, []byte("</head>")); i >= 0 {
		return concat(index[:i], tag.Bytes(), index[i:]), nil
	}
	return concat(tag.Bytes(), index), nil
}

func concat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

// page answers a short page of the portal's own: an error, in plain HTML
// with nothing inline.
func page(w http.ResponseWriter, status int, title, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	errorPage.Execute(w, struct{ Title, Message string }{title, message})
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}} · Outlet</title></head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
</body>
</html>
`))

// fallbackIndex stands in for a bundle without index.html.
const fallbackIndex = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="outlet-session" content="null"><title>Outlet</title></head>
<body><p>The portal's bundle is missing from this build of Outlet.</p></body>
</html>
`

// FrameAncestors checks the sources that may frame the portal and returns
// them as the CSP's frame-ancestors value: 'none' (or none), 'self' (or
// self), a scheme such as https:, or an origin such as
// https://app.example.com, https://*.example.com or http://localhost:3000.
// Empty is 'none'.
func FrameAncestors(sources []string) (string, error) {
	var out []string
	for _, s := range sources {
		s = strings.TrimSpace(s)
		switch strings.ToLower(strings.Trim(s, "'")) {
		case "":
			continue
		case "none":
			out = append(out, "'none'")
			continue
		case "self":
			out = append(out, "'self'")
			continue
		}
		if !sourcePattern.MatchString(s) {
			return "", fmt.Errorf("frame ancestor %q is not a source a browser understands: give 'none', 'self', a scheme such as https:, "+
				"or an origin such as https://app.example.com, https://*.example.com or http://localhost:3000 (no path, no quotes, no spaces)", s)
		}
		out = append(out, s)
	}
	switch {
	case len(out) == 0:
		return "'none'", nil
	case len(out) > 1 && contains(out, "'none'"):
		return "", errors.New("frame ancestors: 'none' can't be given with other sources")
	}
	return strings.Join(out, " "), nil
}

// A scheme source (https:), any source (*), or a host source: an optional
// scheme, a host that may start with "*.", and a port that may be "*".
var sourcePattern = regexp.MustCompile(`^(?i)(\*|[a-z][a-z0-9+.-]*:|([a-z][a-z0-9+.-]*://)?(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?(:(\d{1,5}|\*))?)$`)

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// SameSite reads the cookie's SameSite setting: lax, strict or none.
func SameSite(v string) (http.SameSite, error) {
	switch strings.ToLower(v) {
	case "lax", "":
		return http.SameSiteLaxMode, nil
	case "strict":
		return http.SameSiteStrictMode, nil
	case "none":
		return http.SameSiteNoneMode, nil
	}
	return 0, fmt.Errorf("%q is not a SameSite setting: give lax, strict or none", v)
}
