package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outlethq/outlet"
)

// opens reports whether link opens a portal session: a 303 that sets the
// session's cookie.
func opens(t *testing.T, link string) bool {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == outlet.PortalCookieName && resp.StatusCode == http.StatusSeeOther {
			return true
		}
	}
	return false
}

func TestCLIPortalOpenPrintsALinkThatOpensOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.must(t, "tenants", "create", "acme")

	out, errOut, err := s.outlet(t, "portal", "open", "--tenant", "acme", "--read-only", "--expires-in", "15m")
	if err != nil {
		t.Fatalf("portal open: %v\n%s", err, errOut)
	}
	link := strings.TrimSpace(out)
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(link, s.url+"/portal/?token=") {
		t.Fatalf("portal open printed %q; want the link alone, on %s", out, s.url)
	}
	if !strings.Contains(errOut, "tenant acme, read-only") || !strings.Contains(errOut, "outlet portal revoke ps_") {
		t.Errorf("portal open said %q; want whose session it is and how to revoke it", errOut)
	}
	if !opens(t, link) {
		t.Errorf("the printed link didn't open a session")
	}
	if opens(t, link) {
		t.Errorf("the printed link opened a session twice")
	}

	var minted struct{ ID, Token, URL string }
	s.mustJSON(t, &minted, "portal", "open")
	if minted.URL != "/portal/?token="+minted.Token || !strings.HasPrefix(minted.ID, "ps_") {
		t.Errorf("portal open --json printed %+v", minted)
	}
	if out := s.must(t, "portal", "list"); !hasRow(out, "ID", "STATE", "READ-ONLY") || !hasRow(out, minted.ID, "unopened", "no") {
		t.Errorf("portal list (the operator's) printed:\n%s", out)
	}
	list := s.must(t, "portal", "list", "--tenant", "acme")
	ids := column(t, list, "ID")
	if len(ids) != 1 || !hasRow(list, ids[0], "open", "yes") {
		t.Fatalf("portal list --tenant acme printed:\n%s", list)
	}
	s.must(t, "portal", "revoke", ids[0], "--tenant", "acme")
	if list := s.must(t, "portal", "list", "--tenant", "acme"); !hasRow(list, ids[0], "revoked") {
		t.Errorf("after revoking, portal list printed:\n%s", list)
	}
	s.must(t, "portal", "revoke", minted.ID)
	if opens(t, s.url+minted.URL) {
		t.Errorf("a revoked operator session's link opened")
	}
}

func TestCLIPortalOpenRefusesWhatTheServerWould(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.must(t, "tenants", "create", "acme")
	if _, _, err := s.outlet(t, "portal", "open", "--expires-in", "10s"); err == nil || !strings.Contains(err.Error(), "1m to 24h") {
		t.Errorf("--expires-in 10s: %v; want refused, giving the range", err)
	}
	if _, _, err := s.outlet(t, "portal", "open", "--tenant", "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("a session for an unknown tenant: %v; want refused, naming it", err)
	}
	var key struct{ Key string }
	s.mustJSON(t, &key, "api-keys", "create", "--tenant", "acme")
	if _, _, err := s.outlet(t, "--key", key.Key, "portal", "open", "--tenant", "acme"); err == nil || !strings.Contains(err.Error(), "admin key") {
		t.Errorf("portal open with a tenant key: %v; want refused for want of the admin key", err)
	}
}

// --browser hands the link to the desktop's opener: here a stand-in for
// xdg-open that writes down what it was given.
func TestCLIPortalOpenWithBrowserHandsTheLinkToTheDesktop(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh for the stand-in opener")
	}
	s := startServer(t)
	dir := t.TempDir()
	got := filepath.Join(dir, "opened")
	for _, name := range []string{"xdg-open", "open"} {
		script := "#!/bin/sh\nprintf '%s' \"$1\" > " + got + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out := strings.TrimSpace(s.must(t, "portal", "open", "--browser"))
	opened, err := os.ReadFile(got)
	if err != nil || string(opened) != out {
		t.Errorf("the opener was given %q (%v); want the printed link %q", opened, err, out)
	}
}
