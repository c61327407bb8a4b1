package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/outlethq/outlet/internal/openapicheck"
)

// apiServers are the running servers' host:ports, each with the test that
// started it: every exchange the tests have with them is checked against
// docs/openapi.yaml, and a departure fails that test.
var apiServers sync.Map // host:port → *apiTest

type apiTest struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

// watchAPI checks the exchanges with the server at rawURL for t's sake,
// until t ends.
func watchAPI(t *testing.T, rawURL string) {
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	at := &apiTest{t: t}
	apiServers.Store(u.Host, at)
	t.Cleanup(func() {
		apiServers.CompareAndDelete(u.Host, at)
		at.mu.Lock()
		at.done = true
		at.mu.Unlock()
	})
}

// checkAgainstOpenAPI makes the tests' HTTP clients check their exchanges
// with Outlet: http.DefaultClient's (through http.DefaultTransport) and
// send's. Exchanges with receivers and other servers pass unchecked.
func checkAgainstOpenAPI() error {
	c, err := openapicheck.New()
	if err != nil {
		return err
	}
	wrap := func(next http.RoundTripper) http.RoundTripper {
		return &openapicheck.Transport{Checker: c, Next: next,
			IsAPI: func(r *http.Request) bool {
				// The portal's page and assets are beside the API, not in it.
				_, ok := apiServers.Load(r.URL.Host)
				return ok && !strings.HasPrefix(r.URL.Path, "/portal/")
			},
			Report: func(r *http.Request, problem string) {
				v, ok := apiServers.Load(r.URL.Host)
				if !ok {
					return
				}
				at := v.(*apiTest)
				at.mu.Lock()
				defer at.mu.Unlock()
				if !at.done {
					at.t.Errorf("docs/openapi.yaml: %s", problem)
				}
			}}
	}
	http.DefaultTransport = wrap(http.DefaultTransport)
	sendClient.Transport = wrap(sendClient.Transport)
	return nil
}

func init() {
	if err := checkAgainstOpenAPI(); err != nil {
		panic(fmt.Sprintf("e2e: %v", err))
	}
}
