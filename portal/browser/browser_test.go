// Package browser tests the portal as the people who use it do: real
// Chromium, driven through the DevTools protocol by chromedp, against a real
// Outlet started in-process (outlettest), with webhook receivers on
// 127.0.0.1. Each test is a journey a customer or the operator takes, and
// checks what the page shows and then what the API holds.
//
// The tests skip when there is no Chromium (.ci/run installs Debian's
// chromium package). A failed test saves a screenshot of its page and prints
// where. `go test ./portal/browser -screenshots ../../docs/images` also
// writes the documentation's screenshots of the portal's main pages.
package browser_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/input"
	cdpnetwork "github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

var screenshots = flag.String("screenshots", "", "write the portal's screenshots for the docs into this directory (docs/images)")

// wait is how long a page may take to show what a step waits for: a loaded
// 2-core machine running the race detector and other packages' tests is
// slow, and a wait ends as soon as the page shows it.
const wait = 20 * time.Second

// chromiumPath is Debian's chromium, or one on PATH.
func chromiumPath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is the test's way into Chromium: one Chromium, with a fresh
// profile, serves every test of the package (each person a browser context
// of their own, so nothing is shared between them but the process), and
// stops when the tests end.
type browser struct {
	t   *testing.T
	ctx context.Context
}

var chromium struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chromium.cancel != nil {
		chromium.cancel()
	}
	os.Exit(code)
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("SKIPPED: no Chromium (/usr/bin/chromium or chromium on PATH), so the portal's browser tests can't run; " +
			"install it with apt-get install -y chromium (.ci/run does)")
	}
	chromium.once.Do(func() {
		dir, err := os.MkdirTemp("", "outlet-portal-chromium-")
		if err != nil {
			chromium.err = err
			return
		}
		// Exactly these flags: on machines without the internet, Chromium's
		// background connections (QUIC, component updates, sync) stall it.
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path),
			chromedp.Flag("headless", true),
			chromedp.Flag("no-sandbox", true),
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.UserDataDir(dir),
		)
		ctx, cancel := chromedp.NewContext(alloc)
		chromium.ctx = ctx
		chromium.cancel = func() {
			cancel()
			cancelAlloc()
			os.RemoveAll(dir)
		}
		if err := first(ctx); err != nil {
			chromium.err = fmt.Errorf("starting %s: %w", path, err)
		}
	})
	if chromium.err != nil {
		t.Fatal(chromium.err)
	}
	return &browser{t: t, ctx: chromium.ctx}
}

// first runs the first actions on a chromedp context: they start Chromium
// or open the tab, whose life they tie to the context they run with, so
// they can't take a timeout of their own: they are bounded from outside.
func first(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx, actions...) }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		return errors.New("no answer from Chromium within 60s")
	}
}

// page is one tab of a person's own (a browser context of its own: its own
// cookies, so several people can use one browser). A page in frame mode
// acts inside the iframe whose document starts with frame, as a customer
// does in the platform's page that embeds the portal.
type page struct {
	t     *testing.T
	ctx   context.Context
	name  string
	frame string
	net   *network // the tab's requests, shared by its frames' pages

	mu       sync.Mutex
	console  []chromedp.ConsoleMessage
	dialogs  []string
	expected []*regexp.Regexp // console messages the test expects
}

// open opens a new tab for a person called name, and checks when the test
// ends that no JavaScript dialog opened, no script threw and nothing broke
// the page's CSP; a failed test gets a screenshot of the tab.
func (b *browser) open(name string) *page {
	t := b.t
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	p := &page{t: t, ctx: ctx, name: name, net: newNetwork()}
	if err := first(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	p.net.watch(ctx)
	console := chromedp.Console(ctx)
	dialogs := chromedp.Events(ctx, cdppage.JavascriptDialogOpening)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.dialogs = append(p.dialogs, fmt.Sprintf("%s: %q", ev.Type, ev.Message))
			p.mu.Unlock()
			// Dismissed, or the page would hang on it.
			chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	t.Cleanup(func() {
		p.checkConsole()
		if t.Failed() {
			p.saveFailure()
		}
		cancel()
	})
	return p
}

// checkConsole fails the test on a dialog, an uncaught exception or a CSP
// violation the test didn't expect.
func (p *page) checkConsole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range p.dialogs {
		p.t.Errorf("%s's page opened a JavaScript dialog (%s): no page of the portal may, and tenant data must never make one", p.name, d)
	}
	for _, m := range p.console {
		text := m.String()
		bad := m.IsException() || strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Refused to")
		for _, re := range p.expected {
			if re.MatchString(text) {
				bad = false
			}
		}
		if bad {
			p.t.Errorf("%s's page reported: %s (%s:%d)", p.name, text, m.URL, m.Line+1)
		}
	}
}

// expectConsole says a console message matching re is part of the journey.
func (p *page) expectConsole(re string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expected = append(p.expected, regexp.MustCompile(re))
}

// consoleMatching is the console messages so far that match re.
func (p *page) consoleMatching(re string) []string {
	r := regexp.MustCompile(re)
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.console {
		if r.MatchString(m.String()) {
			out = append(out, m.String())
		}
	}
	return out
}

// saveFailure keeps a screenshot of the page where a failed test left it,
// under -artifacts in the test's artifact directory, else in the system's
// temporary directory (which outlives the test), and prints where.
func (p *page) saveFailure() {
	dir := filepath.Join(os.TempDir(), "outlet-portal-failures")
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		dir = p.t.ArtifactDir()
	}
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("no screenshot of %s's page: %v", p.name, err)
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(p.t.Name()) + "-" + p.name + ".png"
	if err := os.MkdirAll(dir, 0o755); err == nil {
		err = os.WriteFile(filepath.Join(dir, name), png, 0o644)
	}
	if err != nil {
		p.t.Logf("saving the screenshot of %s's page: %v", p.name, err)
		return
	}
	url, _ := chromedp.Run(ctx, chromedp.Location())
	p.t.Logf("%s's page (%s) when the test failed: screenshot %s", p.name, url, filepath.Join(dir, name))
}

// do runs actions on the tab within the usual wait.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// visit opens url in the tab and waits for it to load.
func (p *page) visit(url string) {
	p.t.Helper()
	if err := p.do(chromedp.Navigate(url)); err != nil {
		p.t.Fatalf("%s opening %s: %v", p.name, url, err)
	}
}

// reload reloads the tab's page.
func (p *page) reload() {
	p.t.Helper()
	if err := p.do(chromedp.Reload()); err != nil {
		p.t.Fatalf("%s reloading the page: %v", p.name, err)
	}
}

// inFrame makes a page that acts in the iframe whose document's address
// starts with prefix.
func (p *page) inFrame(prefix string) *page {
	return &page{t: p.t, ctx: p.ctx, name: p.name + " (in the frame)", frame: prefix, net: p.net}
}

// network follows a tab's requests, to tell when its page has the answers
// it asked for. Each kind of event comes on its own subscription, so an
// end may be seen before its start.
type network struct {
	mu       sync.Mutex
	inFlight map[cdpnetwork.RequestID]bool
	ended    map[cdpnetwork.RequestID]bool
	quiet    time.Time // when the last request ended
}

func newNetwork() *network {
	return &network{inFlight: map[cdpnetwork.RequestID]bool{}, ended: map[cdpnetwork.RequestID]bool{}}
}

func (n *network) watch(ctx context.Context) {
	start := func(id cdpnetwork.RequestID) {
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.ended[id] {
			delete(n.ended, id)
			return
		}
		n.inFlight[id] = true
	}
	end := func(id cdpnetwork.RequestID) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.quiet = time.Now()
		if n.inFlight[id] {
			delete(n.inFlight, id)
			return
		}
		n.ended[id] = true
	}
	go func() {
		for ev, err := range chromedp.Events(ctx, cdpnetwork.RequestWillBeSent) {
			if err != nil {
				return
			}
			start(ev.RequestID)
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(ctx, cdpnetwork.LoadingFinished) {
			if err != nil {
				return
			}
			end(ev.RequestID)
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(ctx, cdpnetwork.LoadingFailed) {
			if err != nil {
				return
			}
			end(ev.RequestID)
		}
	}()
}

// settle waits until the page has the answers to what it asked for (a
// poll's next round may still come).
func (p *page) settle() { p.net.settle(wait / 4) }

// settle waits, at most max, until no request has been in flight for
// 150 ms: the page has its answers (a poll's next round may start later).
func (n *network) settle(max time.Duration) {
	end := time.Now().Add(max)
	for time.Now().Before(end) {
		n.mu.Lock()
		idle := len(n.inFlight) == 0 && time.Since(n.quiet) >= 150*time.Millisecond
		n.mu.Unlock()
		if idle {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// ---- Running JavaScript in the page, to find what a person sees.

// contextID is the execution context to run in: 0 for the main frame's
// page, else a fresh isolated world of the frame (it sees the frame's DOM,
// not its scripts' globals).
func (p *page) contextID(ctx context.Context) (runtime.ExecutionContextID, error) {
	if p.frame == "" {
		return 0, nil
	}
	tree, err := chromedp.Call(ctx, cdppage.GetFrameTree, cdp.Empty{})
	if err != nil {
		return 0, err
	}
	var find func(*cdppage.FrameTree) *cdp.Frame
	find = func(ft *cdppage.FrameTree) *cdp.Frame {
		for _, c := range ft.ChildFrames {
			if strings.HasPrefix(c.Frame.URL, p.frame) {
				return c.Frame
			}
			if f := find(c); f != nil {
				return f
			}
		}
		return nil
	}
	f := find(tree.FrameTree)
	if f == nil {
		return 0, errNoFrame
	}
	w, err := chromedp.Call(ctx, cdppage.CreateIsolatedWorld, cdppage.CreateIsolatedWorldParams{FrameID: f.ID, WorldName: "outlet-browser-test"})
	return w.ExecutionContextID, err
}

var errNoFrame = errors.New("no frame with that address (yet)")

// eval runs expr (awaiting a promise) and returns its result, by value or
// as a handle. A navigation that replaced the document while it ran, or a
// frame not there yet, is tried again until timeout.
func (p *page) eval(expr string, byValue bool, timeout time.Duration) (*runtime.RemoteObject, error) {
	ctx, cancel := context.WithTimeout(p.ctx, timeout+10*time.Second)
	defer cancel()
	for {
		res, err := p.evalOnce(ctx, expr, byValue)
		if err == nil || !retriable(err) || ctx.Err() != nil {
			return res, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(100 * time.Millisecond): // the next document or frame is on its way
		}
	}
}

func (p *page) evalOnce(ctx context.Context, expr string, byValue bool) (*runtime.RemoteObject, error) {
	id, err := p.contextID(ctx)
	if err != nil {
		return nil, err
	}
	res, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{
		Expression: expr, ContextID: id, AwaitPromise: new(true), ReturnByValue: new(byValue),
	})
	if err != nil {
		return nil, err
	}
	if ex := res.ExceptionDetails; ex != nil {
		msg := ex.Text
		if ex.Exception != nil && ex.Exception.Description != "" {
			msg = ex.Exception.Description
		}
		return nil, errors.New(strings.TrimPrefix(strings.SplitN(msg, "\n    at ", 2)[0], "Error: "))
	}
	return res.Result, nil
}

func retriable(err error) bool {
	s := err.Error()
	return errors.Is(err, errNoFrame) || strings.Contains(s, "context was destroyed") || strings.Contains(s, "Cannot find context") ||
		strings.Contains(s, "Cannot find default execution context")
}

// js evaluates a call of the kit and decodes its result into out.
func (p *page) js(out any, timeout time.Duration, method string, args ...any) error {
	expr := call(method, args...)
	res, err := p.eval(expr, true, timeout)
	if err != nil {
		return err
	}
	if out == nil || res == nil || len(res.Value) == 0 {
		return nil
	}
	return json.Unmarshal(res.Value, out)
}

// handle evaluates a call of the kit that returns an element, as a handle.
func (p *page) handle(timeout time.Duration, method string, args ...any) (runtime.RemoteObjectID, error) {
	res, err := p.eval(call(method, args...), false, timeout)
	if err != nil {
		return "", err
	}
	if res == nil || res.ObjectID == "" {
		return "", fmt.Errorf("%s found no element", method)
	}
	return res.ObjectID, nil
}

func call(method string, args ...any) string {
	if args == nil {
		args = []any{}
	}
	a, err := json.Marshal(args)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("(%s).%s(...%s)", kit, method, a)
}

// kit finds things as a person does: a button by its name, a field by its
// label, text by what is visible. Waits end at the first DOM change that
// shows what they wait for (or a check every 200 ms, for what changes
// without one), and fail with what the page shows instead.
const kit = `{
  norm(s) { return (s ?? "").replace(/\s+/g, " ").trim(); },
  shown(e) {
    if (!e.isConnected) return false;
    if (e.checkVisibility && !e.checkVisibility({ visibilityProperty: true })) return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  },
  name(e) { return this.norm(e.getAttribute("aria-label") || e.textContent); },
  labelText(l) {
    const c = l.cloneNode(true);
    c.querySelectorAll("select, input, textarea, button").forEach((x) => x.remove());
    return this.norm(c.textContent);
  },
  describe(s) { return s.kind + " " + JSON.stringify(s.name) + (s.within ? " in " + s.within : ""); },
  find(s) {
    const root = s.within ? document.querySelector(s.within) : document.body;
    if (!root) return null;
    const name = this.norm(s.name);
    let els = [];
    switch (s.kind) {
      case "css": els = [...root.querySelectorAll(s.name)]; break;
      case "button": els = [...root.querySelectorAll("button, [role=button], [role=tab], a.btn, summary")].filter((e) => this.name(e) === name); break;
      case "link": els = [...root.querySelectorAll("a[href]")].filter((e) => this.name(e) === name); break;
      case "heading": els = [...root.querySelectorAll("h1, h2, h3")].filter((e) => this.norm(e.textContent) === name); break;
      case "field": {
        const labels = [...root.querySelectorAll("label")];
        const exact = labels.filter((l) => this.labelText(l) === name);
        const prefix = labels.filter((l) => this.labelText(l).startsWith(name));
        els = [...exact, ...prefix].map((l) => l.control).filter(Boolean);
        els.push(...[...root.querySelectorAll("[aria-label]")].filter((e) => this.norm(e.getAttribute("aria-label")) === name));
        break;
      }
      case "text": return this.norm(root.innerText).includes(name) ? root : null;
      default: throw new Error("unknown kind " + s.kind);
    }
    els = els.filter((e) => this.shown(e) || (e.type === "checkbox" && this.shown(e.parentElement)));
    if (s.enabled) els = els.filter((e) => !e.disabled && !e.closest("fieldset:disabled"));
    return els[0] ?? null;
  },
  async until(test, what, ms) {
    const end = Date.now() + ms;
    for (;;) {
      const got = test();
      if (got) return got;
      if (Date.now() > end) {
        throw new Error("waited " + ms + " ms for " + what + "; the page shows: " + this.norm(document.body ? document.body.innerText : "").slice(0, 2500));
      }
      await new Promise((done) => {
        const mo = new MutationObserver(() => { mo.disconnect(); done(); });
        mo.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
        setTimeout(() => { mo.disconnect(); done(); }, 200);
      });
    }
  },
  // actionable waits until s is there, enabled, in view, has stopped
  // moving (the same box two frames running) and is what a click at its
  // centre would hit: not yet pushed aside by content that loads above it.
  async actionable(s, ms) {
    const end = Date.now() + ms;
    const frame = () => new Promise((done) => requestAnimationFrame(() => done()));
    let last = null, why = "";
    for (;;) {
      const e = this.find({ ...s, enabled: true });
      if (!e) {
        why = "it isn't there (or is disabled)";
        last = null;
      } else {
        e.scrollIntoViewIfNeeded ? e.scrollIntoViewIfNeeded(true) : e.scrollIntoView({ block: "center" });
        await frame();
        await frame();
        const r = e.getBoundingClientRect();
        if (last && r.x === last.x && r.y === last.y && r.width === last.width && r.height === last.height) {
          const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
          if (hit && (e.contains(hit) || [...(e.labels ?? [])].some((l) => l.contains(hit)))) return e;
          why = "something else is over it: " + (hit ? hit.outerHTML.slice(0, 200) : "nothing");
        } else {
          why = "it is still moving";
        }
        last = r;
      }
      if (Date.now() > end) {
        throw new Error("waited " + ms + " ms to click " + this.describe(s) + ": " + why + "; the page shows: " + this.norm(document.body ? document.body.innerText : "").slice(0, 2500));
      }
      await new Promise((done) => setTimeout(done, 50));
    }
  },
  wait(s, ms) { return this.until(() => this.find(s), this.describe(s), ms); },
  gone(s, ms) { return this.until(() => !this.find(s), "no " + this.describe(s), ms); },
  async focus(s, ms) {
    const e = await this.wait({ ...s, enabled: true }, ms);
    e.scrollIntoView({ block: "center" });
    e.focus();
    if (e.select) e.select();
    return e.tagName.toLowerCase();
  },
  async choose(s, option, ms) {
    const e = await this.wait({ ...s, enabled: true }, ms);
    const o = await this.until(() => [...e.options].find((o) => this.norm(o.textContent) === option || o.value === option), "option " + JSON.stringify(option) + " of " + this.describe(s), ms);
    e.value = o.value;
    e.dispatchEvent(new Event("input", { bubbles: true }));
    e.dispatchEvent(new Event("change", { bubbles: true }));
  },
  valueIs(s, want, ms) {
    let got = null;
    return this.until(() => {
      const e = this.find(s);
      got = e ? e.value ?? e.textContent : null;
      return got === want;
    }, this.describe(s) + " to hold " + JSON.stringify(want) + " (it holds " + JSON.stringify(got) + ")", ms);
  },
  async scrollTo(s, ms) { (await this.wait(s, ms)).scrollIntoView({ block: "start" }); },
  async value(s, ms) { const e = await this.wait(s, ms); return e.value ?? e.textContent; },
  async text(s, ms) { const e = await this.wait(s, ms); return e.innerText; },
  async checked(s, ms) { const e = await this.wait(s, ms); return e.checked; },
  csrf() {
    const m = document.querySelector('meta[name="outlet-session"]');
    return m ? (JSON.parse(m.content) ?? {}).csrf ?? "" : "";
  },
  everything() {
    const out = [location.href, document.title, document.documentElement.outerHTML];
    const docs = [document];
    for (let i = 0; i < docs.length; i++) {
      const d = docs[i];
      if (i > 0) out.push(d.location.href, d.documentElement.outerHTML);
      for (const e of d.querySelectorAll("input, textarea, select")) out.push(e.value);
      for (const f of d.querySelectorAll("iframe")) {
        try { if (f.contentDocument) docs.push(f.contentDocument); } catch {}
      }
    }
    try {
      for (const st of [localStorage, sessionStorage]) {
        for (let i = 0; i < st.length; i++) out.push(st.key(i), st.getItem(st.key(i)));
      }
    } catch {} // a document without an origin has no storage
    return out;
  },
  async paste(s, text, ms) {
    const e = await this.wait(s, ms);
    const dt = new DataTransfer();
    dt.setData("text/plain", text);
    e.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  },
}`

// ---- What a person does and sees.

// sel says how a person finds something on the page.
type sel struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Within string `json:"within,omitempty"` // a CSS selector of the part of the page to look in
}

func button(name string) sel  { return sel{Kind: "button", Name: name} }
func link(name string) sel    { return sel{Kind: "link", Name: name} }
func field(label string) sel  { return sel{Kind: "field", Name: label} }
func heading(name string) sel { return sel{Kind: "heading", Name: name} }
func css(s string) sel        { return sel{Kind: "css", Name: s} }
func text(s string) sel       { return sel{Kind: "text", Name: s} }

// in narrows s to the part of the page that matches a CSS selector.
func (s sel) in(within string) sel { s.Within = within; return s }

func (s sel) String() string { return s.Kind + " " + fmt.Sprintf("%q", s.Name) }

// see waits until the page shows each of texts.
func (p *page) see(texts ...string) {
	p.t.Helper()
	for _, s := range texts {
		if err := p.js(nil, wait, "wait", text(s), wait.Milliseconds()); err != nil {
			p.t.Fatalf("%s doesn't see %q: %v", p.name, s, err)
		}
	}
}

// seeWithin is see with a longer wait, for what takes a server's work
// (compiling, running a function) before it shows.
func (p *page) seeWithin(d time.Duration, s string) {
	p.t.Helper()
	if err := p.js(nil, d, "wait", text(s), d.Milliseconds()); err != nil {
		p.t.Fatalf("%s doesn't see %q: %v", p.name, s, err)
	}
}

// waitFor waits until the page has s.
func (p *page) waitFor(s sel) {
	p.t.Helper()
	if err := p.js(nil, wait, "wait", s, wait.Milliseconds()); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// waitGone waits until the page no longer shows s.
func (p *page) waitGone(s sel) {
	p.t.Helper()
	if err := p.js(nil, wait, "gone", s, wait.Milliseconds()); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// click clicks s with the mouse, where it is on the screen, once it is
// there and enabled.
func (p *page) click(s sel) {
	p.t.Helper()
	if err := p.clickErr(s); err != nil {
		p.t.Fatalf("%s clicking %s: %v", p.name, s, err)
	}
}

func (p *page) clickErr(s sel) error {
	// What the page's answers render moves what is on the screen: click
	// once they are in.
	p.net.settle(3 * time.Second)
	obj, err := p.handle(wait, "actionable", s, wait.Milliseconds())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	if _, err := chromedp.Call(ctx, dom.ScrollIntoViewIfNeeded, dom.ScrollIntoViewIfNeededParams{ObjectID: obj}); err != nil {
		return err
	}
	quads, err := chromedp.Call(ctx, dom.GetContentQuads, dom.GetContentQuadsParams{ObjectID: obj})
	if err != nil {
		return err
	}
	if len(quads.Quads) == 0 || len(quads.Quads[0]) < 8 {
		return fmt.Errorf("%s has no box on the screen", s)
	}
	q := quads.Quads[0]
	x, y := (q[0]+q[2]+q[4]+q[6])/4, (q[1]+q[3]+q[5]+q[7])/4
	return chromedp.Do(ctx, chromedp.MouseClickXY(x, y))
}

// fill types value into the field s, replacing what it held, as a person
// typing (or pasting) does: the page gets its input events.
func (p *page) fill(s sel, value string) {
	p.t.Helper()
	var tag string
	if err := p.js(&tag, wait, "focus", s, wait.Milliseconds()); err != nil {
		p.t.Fatalf("%s filling %s: %v", p.name, s, err)
	}
	if tag == "select" {
		p.t.Fatalf("%s: %s is a list to choose from: use choose", p.name, s)
	}
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	var err error
	if value == "" {
		err = chromedp.Do(ctx, chromedp.KeyEvent(kb.Delete))
	} else {
		_, err = chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: value})
	}
	if err != nil {
		p.t.Fatalf("%s typing into %s: %v", p.name, s, err)
	}
	if got := p.value(s); got != value {
		p.t.Fatalf("%s typed %q into %s, which holds %q", p.name, value, s, got)
	}
}

// typeText types text where the keyboard's focus is.
func (p *page) typeText(text string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	if _, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: text}); err != nil {
		p.t.Fatalf("%s typing %q: %v", p.name, text, err)
	}
}

// press presses keys (kb's names) with modifiers.
func (p *page) press(keys string, mods ...chromedp.Modifier) {
	p.t.Helper()
	if err := p.do(chromedp.KeyEvent(keys, chromedp.KeyModifiers(mods...))); err != nil {
		p.t.Fatalf("%s pressing %q: %v", p.name, keys, err)
	}
}

// choose picks the option with this text (or value) in the list s.
func (p *page) choose(s sel, option string) {
	p.t.Helper()
	if err := p.js(nil, wait, "choose", s, option, wait.Milliseconds()); err != nil {
		p.t.Fatalf("%s choosing %q in %s: %v", p.name, option, s, err)
	}
}

// value is the value of the field s.
func (p *page) value(s sel) string {
	p.t.Helper()
	var v string
	if err := p.js(&v, wait, "value", s, wait.Milliseconds()); err != nil {
		p.t.Fatalf("%s reading %s: %v", p.name, s, err)
	}
	return v
}

// waitValue waits until the field s holds want, as a field the page fills
// in once what it needs has loaded.
func (p *page) waitValue(s sel, want string) {
	p.t.Helper()
	if err := p.js(nil, wait, "valueIs", s, want, wait.Milliseconds()); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// textOf is the visible text of s.
func (p *page) textOf(s sel) string {
	p.t.Helper()
	var v string
	if err := p.js(&v, wait, "text", s, wait.Milliseconds()); err != nil {
		p.t.Fatalf("%s reading %s: %v", p.name, s, err)
	}
	return v
}

// checked says whether the checkbox s is checked.
func (p *page) checked(s sel) bool {
	p.t.Helper()
	var v bool
	if err := p.js(&v, wait, "checked", s, wait.Milliseconds()); err != nil {
		p.t.Fatalf("%s reading %s: %v", p.name, s, err)
	}
	return v
}

// paste pastes text into s (an editor), as from the clipboard.
func (p *page) paste(s sel, text string) {
	p.t.Helper()
	if err := p.js(nil, wait, "paste", s, text, wait.Milliseconds()); err != nil {
		p.t.Fatalf("%s pasting into %s: %v", p.name, s, err)
	}
}

// evalMain runs expr in the page's own scripts' world (not an isolated one)
// and decodes its result: for what only the page's globals or origin have,
// such as its cookies for fetch. In frame mode it runs in an isolated world
// of the frame: the frame's origin and cookies, not its scripts' globals.
func (p *page) evalMain(expr string, out any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	res, err := p.evalOnce(ctx, expr, true)
	if err != nil {
		p.t.Fatalf("%s evaluating %s: %v", p.name, expr, err)
	}
	if out != nil && res != nil && len(res.Value) > 0 {
		if err := json.Unmarshal(res.Value, out); err != nil {
			p.t.Fatalf("%s: %s gave %s: %v", p.name, expr, res.Value, err)
		}
	}
}

// scrollTo scrolls the page until s is at the top of the window.
func (p *page) scrollTo(s sel) {
	p.t.Helper()
	if err := p.js(nil, wait, "scrollTo", s, wait.Milliseconds()); err != nil {
		p.t.Fatalf("%s scrolling to %s: %v", p.name, s, err)
	}
}

// viewport sets the size of the tab's window, as a phone's or an iframe's.
func (p *page) viewport(width, height int64) {
	p.t.Helper()
	if err := p.do(chromedp.EmulateViewport(width, height)); err != nil {
		p.t.Fatalf("%s: a viewport of %dx%d: %v", p.name, width, height, err)
	}
}

// shot saves a screenshot of the page as docs/images/name.png when the
// tests run with -screenshots.
func (p *page) shot(name string) {
	p.t.Helper()
	if *screenshots == "" {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(*screenshots, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// everything is all that the tab's documents hold and a script of theirs
// could read: each frame's markup, the values of its fields (which the
// markup doesn't show), its address, title, and local and session storage.
func (p *page) everything() string {
	p.t.Helper()
	var parts []string
	if err := p.js(&parts, wait, "everything"); err != nil {
		p.t.Fatalf("%s reading the page: %v", p.name, err)
	}
	return strings.Join(parts, "\n")
}

// response is what a fetch made by the page got.
type response struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// fetch makes a request from the page's own scripts' world, as a script of
// the page (or one injected into it) could: with the page's cookies, and
// with only the headers given.
func (p *page) fetch(method, url string, headers map[string]string, body string) response {
	p.t.Helper()
	if headers == nil {
		headers = map[string]string{}
	}
	req := map[string]any{"method": method, "headers": headers, "credentials": "include"}
	if body != "" {
		req["body"] = body
	}
	r, err := json.Marshal(req)
	if err != nil {
		p.t.Fatal(err)
	}
	u, _ := json.Marshal(url)
	var res response
	p.evalMain(fmt.Sprintf(`fetch(%s, %s).then(async (r) => ({status: r.status, body: await r.text()}))`, u, r), &res)
	return res
}

// frameURLs are the addresses of the tab's frames below its page.
func (p *page) frameURLs() []string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	tree, err := chromedp.Call(ctx, cdppage.GetFrameTree, cdp.Empty{})
	if err != nil {
		p.t.Fatalf("%s: the frames: %v", p.name, err)
	}
	var urls []string
	var walk func(*cdppage.FrameTree)
	walk = func(ft *cdppage.FrameTree) {
		for _, c := range ft.ChildFrames {
			urls = append(urls, c.Frame.URL+c.Frame.URLFragment)
			walk(c)
		}
	}
	walk(tree.FrameTree)
	return urls
}

// csrf is the CSRF token the server wrote into the portal's page.
func (p *page) csrf() string {
	p.t.Helper()
	var token string
	if err := p.js(&token, wait, "csrf"); err != nil || token == "" {
		p.t.Fatalf("%s: no CSRF token in the page: %v", p.name, err)
	}
	return token
}
