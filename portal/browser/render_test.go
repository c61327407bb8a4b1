package browser_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/outlethq/outlet/client"
)

// firstContent records, in the page's own clock (milliseconds since the
// navigation started, redirects included), when the endpoints table first
// shows a row: the first content a customer can use. It runs before any of
// the page's scripts, as the test's instrument, not the page's.
const firstContent = `new MutationObserver((_, mo) => {
  if (document.querySelector("main tbody tr")) {
    window.outletFirstContent = performance.now();
    mo.disconnect();
  }
}).observe(document, { subtree: true, childList: true });`

// How long the portal takes to show a customer their endpoints on loopback,
// from a fresh browser context (nothing cached, no cookies) opening the session's link:
// the exchange of the token, the 303 to the page, the bundle, then the
// API's answers. Logged, never asserted: `go test -run FirstRender -v
// ./portal/browser` prints it for docs/benchmarks.md.
func TestFirstRenderIsMeasured(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	o := startOutlet(t)
	o.tenant("acme", "Acme Inc")
	for i := range 4 {
		_, err := o.api.Endpoints.Create(o.admin, "acme", client.EndpointCreate{URL: fmt.Sprintf("https://acme.example/hooks/%d", i)})
		o.must(err)
	}
	const runs = 5
	var paints, contents []float64
	for i := range runs {
		p := b.open(fmt.Sprintf("customer %d", i))
		ctx, cancel := context.WithTimeout(p.ctx, wait)
		_, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: firstContent})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		p.visit(o.session("acme", client.PortalSessionCreate{}).URL)
		p.waitFor(css("main tbody tr"))
		var m struct {
			Paint   float64 `json:"paint"`
			Content float64 `json:"content"`
		}
		p.evalMain(`({paint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? 0, content: window.outletFirstContent ?? 0})`, &m)
		if m.Content == 0 {
			t.Fatalf("run %d: the instrument saw no row", i)
		}
		if m.Paint > 0 { // none when Chromium skipped the entry
			paints = append(paints, m.Paint)
		}
		contents = append(contents, m.Content)
	}
	t.Logf("first render of the endpoints page, from fresh browser contexts (min / median / max): the table with its rows %s over %d runs; "+
		"first contentful paint %s over the %d that reported it", spread(contents), runs, spread(paints), len(paints))
}

func spread(ms []float64) string {
	if len(ms) == 0 {
		return "(none)"
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	d := func(v float64) time.Duration {
		return time.Duration(v * float64(time.Millisecond)).Round(time.Millisecond)
	}
	return fmt.Sprintf("%s / %s / %s", d(s[0]), d(s[len(s)/2]), d(s[len(s)-1]))
}
