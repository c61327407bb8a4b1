package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The portal's main path through the real binary, as a platform and a
// browser take it: `outlet portal open` mints a session, the browser opens
// the link (the cookie jar keeps the cookie), reads the page's session, calls
// the tenant's routes, and writes with the page's CSRF token only.
func TestAPortalSessionFromMintToAWriteThroughTheBinary(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--portal-frame-ancestors", "https://app.example.com", "--portal-cookie-samesite", "strict")
	s.must(201, "POST", "/v1/tenants", map[string]any{"id": "acme"}, nil)
	s.must(201, "POST", "/v1/tenants", map[string]any{"id": "globex"}, nil)

	cli := exec.Command(binary, "portal", "open", "--tenant", "acme", "--url", s.url, "--key", adminKey)
	cli.Env = os.Environ()
	out, err := cli.Output()
	if err != nil {
		t.Fatalf("outlet portal open: %v", err)
	}
	link := strings.TrimSpace(string(out))
	if !strings.HasPrefix(link, s.url+"/portal/?token=") {
		t.Fatalf("outlet portal open printed %q", out)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.String() != s.url+"/portal/" {
		t.Fatalf("opening the link ended at %s with %d; want the page at /portal/", resp.Request.URL, resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; frame-ancestors https://app.example.com") ||
		!strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("the page's CSP is %q", csp)
	}
	var session struct {
		Tenant string `json:"tenant"`
		CSRF   string `json:"csrf"`
	}
	if err := json.Unmarshal([]byte(metaContent(t, string(page))), &session); err != nil || session.Tenant != "acme" || session.CSRF == "" {
		t.Fatalf("the page's session is %+v (%v)", session, err)
	}
	// The page has no inline script for the CSP to refuse.
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(string(page)) || strings.Contains(string(page), " style=") {
		t.Errorf("the page has inline script or style:\n%s", page)
	}

	call := func(method, path, body, csrf string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-Outlet-CSRF", csrf)
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := call("GET", "/v1/tenants/acme/endpoints", "", ""); status != 200 {
		t.Errorf("reading the tenant's endpoints with the cookie answered %d: %s", status, body)
	}
	if status, _ := call("GET", "/v1/tenants/globex/endpoints", "", ""); status != 403 {
		t.Errorf("reading another tenant's endpoints with the cookie answered %d; want 403", status)
	}
	endpoint := `{"url":"http://127.0.0.1:9/portal"}`
	if status, body := call("POST", "/v1/tenants/acme/endpoints", endpoint, ""); status != 403 || !strings.Contains(body, "CSRF") {
		t.Errorf("a write without the CSRF token answered %d: %s; want 403 naming the token", status, body)
	}
	if status, body := call("POST", "/v1/tenants/acme/endpoints", endpoint, session.CSRF); status != 201 {
		t.Errorf("a write with the CSRF token answered %d: %s", status, body)
	}
	// The link was used: it opens nothing again.
	again, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != 401 {
		t.Errorf("the link opened again answered %d; want 401", again.StatusCode)
	}
}

func metaContent(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var found *string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "meta" {
			var name, content string
			for _, a := range n.Attr {
				if a.Key == "name" {
					name = a.Val
				} else if a.Key == "content" {
					content = a.Val
				}
			}
			if name == "outlet-session" {
				found = &content
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if found == nil {
		t.Fatalf("the page has no outlet-session meta tag:\n%s", page)
	}
	return *found
}
