package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/outlethq/outlet/client"
)

// The platform's catalog for the function journeys: an event type whose
// schema describes its fields (what the editor completes) and a hook.
const (
	orderPaidSchema = `{"type":"object","required":["order_id","amount"],"properties":{` +
		`"order_id":{"type":"string","description":"The order's id."},` +
		`"amount":{"type":"integer","minimum":0,"description":"What the customer paid, in cents."},` +
		`"currency":{"type":"string","description":"ISO 4217, lower case."}}}`
	orderPaidSample = `{"order_id":"ord_1001","amount":4200,"currency":"eur"}`
)

func functionsCatalog(o *outlet) {
	o.eventType("order.paid", "An order was paid.", orderPaidSchema, orderPaidSample)
	_, err := o.api.Hooks.Create(o.admin, client.HookCreate{
		Name:         "checkout.discount",
		Description:  "The discount on a cart at checkout.",
		InputSchema:  json.RawMessage(`{"type":"object","properties":{"cart_total":{"type":"integer"},"coupon":{"type":"string"}}}`),
		OutputSchema: json.RawMessage(`{"type":"object","properties":{"discount":{"type":"integer"}}}`),
	})
	o.must(err)
}

// openPortal opens a fresh session of tenant's in a tab of its own, as a
// customer following the platform's link does.
func openPortal(t *testing.T, b *browser, o *outlet, tenant string) *page {
	t.Helper()
	s := o.session(tenant, client.PortalSessionCreate{})
	p := b.open("customer")
	p.visit(s.URL)
	p.waitFor(heading("Endpoints"))
	return p
}

// v2Line is what v2 of the journey's function adds.
const v2Line = `console.log("amount", event.data.amount);`

func TestACustomerWritesATypeScriptFunctionFromATemplateTestsItDeploysASecondVersionAndRollsBack(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	o := startOutlet(t)
	o.tenant("acme", "Acme Inc")
	functionsCatalog(o)
	p := openPortal(t, b, o, "acme")

	// A new TypeScript function from the order.paid template.
	p.click(link("Functions"))
	p.see("No functions yet.")
	p.click(button("New function"))
	p.fill(field("Name"), "notify-billing")
	p.choose(field("Start from"), "order.paid")
	p.choose(field("Runtime"), "TypeScript")
	p.click(button("Open the editor"))
	p.waitFor(heading("notify-billing"))
	p.waitForCM(css(".cm-content"))
	p.see("Runs on every order.paid event.")

	// A syntax error on a line of its own at the end, deployed with Ctrl-S:
	// Outlet refuses it and the editor marks that line.
	p.focusEditor()
	p.press(kb.End, chromedp.ModifierCtrl)
	line := p.editorActiveLineNumber()
	p.typeText("const broken = ;")
	p.press("s", chromedp.ModifierCtrl)
	p.seeWithin(60*time.Second, fmt.Sprintf(`line %d, column 16: Unexpected ";"`, line))
	p.see("The code doesn't compile: the problem is marked in the editor.")
	if got := p.lineMarked(".cm-lintRange-error"); got != line {
		t.Errorf("the editor marks line %d with the error, want line %d where the syntax error is", got, line)
	}
	if got := p.lineMarked(".cm-lint-marker-error"); got != line {
		t.Errorf("the editor's gutter marks line %d, want line %d", got, line)
	}
	// The diagnostics panel (Ctrl-Shift-M) says the same; Escape goes back to the code.
	p.press("M", chromedp.ModifierCtrl, chromedp.ModifierShift)
	p.waitForCM(text(fmt.Sprintf(`Line %d, column 16: Unexpected ";"`, line)).in(".cm-panel-lint"))
	p.press(kb.Escape)
	if fns, err := o.api.Functions.List(o.admin, "acme"); err != nil || len(fns) != 0 {
		t.Fatalf("after a deploy that didn't compile the API holds functions %v (%v), want none", fns, err)
	}

	// Fixed by undoing it; the first deploy creates the function.
	p.press("z", chromedp.ModifierCtrl)
	p.click(button("Create and deploy"))
	p.seeWithin(60*time.Second, "Deployed v1: the function is created. It is active now.")
	p.waitGone(css(".cm-lintRange-error"))
	fn, err := o.api.Functions.Get(o.admin, "acme", "notify-billing")
	o.must(err)
	if fn.ActiveVersion != 1 || fn.Runtime != "typescript" || strings.Join(fn.Events, ",") != "order.paid" {
		t.Errorf("the API holds v%d (%s) on %v, want v1 in typescript on [order.paid]", fn.ActiveVersion, fn.Runtime, fn.Events)
	}

	// A test run on the type's sample: output, logs and duration.
	p.click(button("Test"))
	if got := p.value(field("Event type")); got != "order.paid" {
		t.Errorf("the test's event type is %q, want the function's order.paid", got)
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(p.value(field("The event's data (JSON)"))), &data); err != nil || data["order_id"] != "ord_1001" {
		t.Errorf("the test's data isn't the type's sample: %v (%v)", data, err)
	}
	p.click(button("Run test"))
	p.seeWithin(60*time.Second, "v1 in")
	p.waitFor(css(".test-result .badge.ok"))
	if got := p.textOf(field("Output")); !strings.Contains(got, `"received": "order.paid"`) {
		t.Errorf("the test's output reads %q, want the template's {received: \"order.paid\"}", got)
	}
	if got := p.textOf(field("Logs")); !strings.Contains(got, "order.paid (attempt 1)") || !strings.Contains(got, `"amount":4200`) {
		t.Errorf("the test's logs read %q, want the template's console.log of the sample", got)
	}

	// v2: one more line in the function, deployed with the button.
	p.click(button("Code"))
	p.focusEditor()
	p.press(kb.End, chromedp.ModifierCtrl)
	p.press(kb.ArrowUp + kb.ArrowUp + kb.ArrowUp) // the template's console.log
	p.press(kb.End)
	p.enter()
	p.typeText(v2Line)
	p.see("not deployed")
	p.click(button("Deploy"))
	p.seeWithin(60*time.Second, "Deployed v2. It is active now.")
	p.waitGone(text("not deployed"))

	// The versions, and the diff between them either way.
	p.click(button("Versions"))
	p.see("Compare versions")
	if got := p.value(field("From")) + " → " + p.value(field("To")); got != "1 → 2" {
		t.Errorf("the diff starts comparing %s, want 1 → 2 (the version before the newest, and the newest)", got)
	}
	p.waitFor(css(".diff-line.add"))
	if got := p.textOf(css(".diff-line.add")); !strings.Contains(got, v2Line) {
		t.Errorf("the diff from v1 to v2 adds %q, want %s", got, v2Line)
	}
	p.shot("portal-function-diff")
	p.choose(field("From"), "v2")
	p.choose(field("To"), "v1")
	p.waitFor(css(".diff-line.del"))
	if got := p.textOf(css(".diff-line.del")); !strings.Contains(got, v2Line) {
		t.Errorf("the diff from v2 to v1 takes away %q, want %s", got, v2Line)
	}

	// Roll back to v1: the page, the editor and the API agree.
	p.click(button("Roll back"))
	p.click(button("Yes, roll back"))
	p.see("Rolled back: v1 is active again")
	fn, err = o.api.Functions.Get(o.admin, "acme", "notify-billing")
	o.must(err)
	if fn.ActiveVersion != 1 || fn.LatestVersion != 2 {
		t.Errorf("after the rollback the API holds active v%d, latest v%d; want active v1, latest v2", fn.ActiveVersion, fn.LatestVersion)
	}
	p.click(button("Code"))
	p.focusEditor()
	p.press(kb.End, chromedp.ModifierCtrl)
	if got := p.textOf(css(".cm-content")); strings.Contains(got, v2Line) || !strings.Contains(got, "return { received: event.type };") {
		t.Errorf("after the rollback the editor ends with %q, want v1's code", tail(got, 200))
	}
	if p.has(text("not deployed")) {
		t.Error("after the rollback the page says the editor's code is not deployed")
	}
}

func TestTheEditorCompletesTheEventsFieldsFromTheCatalogAndTheTenantsSecretNames(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	o := startOutlet(t)
	o.tenant("acme", "Acme Inc")
	functionsCatalog(o)
	o.must(o.api.Secrets.Put(o.admin, "acme", "STRIPE_KEY", "sk_test_never_shown"))
	p := openPortal(t, b, o, "acme")
	p.visit(o.url + "/portal/functions/notify-billing?start=event:order.paid&runtime=typescript")
	p.waitForCM(css(".cm-content"))
	p.see("Runs on every order.paid event.")

	// Inside the default export, after the template's console.log.
	p.focusEditor()
	p.press(kb.End, chromedp.ModifierCtrl)
	p.press(kb.ArrowUp + kb.ArrowUp + kb.ArrowUp)
	p.press(kb.End)
	p.enter()
	p.typeText("const cents = event.data.")
	p.waitForCM(text("amount").in(".cm-tooltip-autocomplete"))
	if got := p.completions(); strings.Join(got, ",") != "amount,currency,order_id" {
		t.Errorf("after event.data. the editor offers %v, want the schema's amount, currency, order_id", got)
	}
	p.waitForCM(text("What the customer paid, in cents.").in(".cm-completionInfo")) // the offer's description
	p.shot("portal-function-editor")
	p.acceptCompletion()
	p.typeText(";")
	if got := p.textOf(css(".cm-activeLine")); strings.TrimSpace(got) != "const cents = event.data.amount;" {
		t.Errorf("Enter on the offer makes the line %q, want const cents = event.data.amount;", got)
	}

	p.enter()
	p.typeText("const key = ctx.secrets.")
	p.waitForCM(text("STRIPE_KEY").in(".cm-tooltip-autocomplete"))
	if got := p.completions(); strings.Join(got, ",") != "STRIPE_KEY" {
		t.Errorf("after ctx.secrets. the editor offers %v, want the tenant's one secret STRIPE_KEY", got)
	}
	p.acceptCompletion()
	if got := p.textOf(css(".cm-activeLine")); strings.TrimSpace(got) != "const key = ctx.secrets.STRIPE_KEY" {
		t.Errorf("Enter on the offer makes the line %q, want const key = ctx.secrets.STRIPE_KEY", got)
	}
	if strings.Contains(p.everything(), "sk_test_never_shown") {
		t.Error("the secret's value is in the page")
	}
}

// ---- The code editor, as a person uses it.

// waitForCM waits until the page has s, a part of the code editor
// (waitFor returns the element by value, which CodeMirror's elements, with
// the editor's objects hung on them, can't be).
func (p *page) waitForCM(s sel) {
	p.t.Helper()
	if _, err := p.eval(call("wait", s, wait.Milliseconds())+".then(() => true)", true, wait); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// focusEditor puts the keyboard's focus in the code editor, where a click
// would.
func (p *page) focusEditor() {
	p.t.Helper()
	if err := p.js(nil, wait, "focus", css(".cm-content"), wait.Milliseconds()); err != nil {
		p.t.Fatalf("%s focusing the editor: %v", p.name, err)
	}
}

// enter presses Enter as a keyboard does: one key down whose character
// only arrives when the page doesn't handle the key (chromedp's KeyEvent
// sends the character on its own, so the editor would get two new lines).
func (p *page) enter() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	key := input.DispatchKeyEventParams{Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
	down, up := key, key
	down.Type, down.Text, down.UnmodifiedText = input.DispatchKeyEventTypeKeyDown, "\r", "\r"
	up.Type = input.DispatchKeyEventTypeKeyUp
	for _, k := range []input.DispatchKeyEventParams{down, up} {
		if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, k); err != nil {
			p.t.Fatalf("%s pressing Enter: %v", p.name, err)
		}
	}
}

// acceptCompletion takes the offer selected, with Enter. The editor ignores
// Enter for a moment (75 ms) after the offers appear, so that a fast typist
// doesn't take one unseen: a person's hand is slower than that, a test's
// isn't.
func (p *page) acceptCompletion() {
	p.t.Helper()
	time.Sleep(300 * time.Millisecond)
	p.enter()
}

// editorActiveLineNumber is the number the editor's gutter shows beside the
// cursor's line.
func (p *page) editorActiveLineNumber() int {
	p.t.Helper()
	var n int
	if _, err := fmt.Sscan(p.textOf(css(".cm-lineNumbers .cm-activeLineGutter")), &n); err != nil {
		p.t.Fatalf("%s: the editor's line number by the cursor: %v", p.name, err)
	}
	return n
}

// lineMarked is the line number shown level with the first element that
// matches mark (a diagnostic's underline, or its gutter marker), once there
// is one.
func (p *page) lineMarked(mark string) int {
	p.t.Helper()
	p.waitForCM(css(mark))
	var n int
	p.evalMain(fmt.Sprintf(`(() => {
		const m = document.querySelector(%q).getBoundingClientRect();
		const mid = (m.top + m.bottom) / 2;
		const g = [...document.querySelectorAll(".cm-lineNumbers .cm-gutterElement")].find((e) => {
			const r = e.getBoundingClientRect();
			return r.height > 0 && r.top <= mid && mid < r.bottom;
		});
		return g ? Number(g.textContent) : 0;
	})()`, mark), &n)
	return n
}

// completions are the labels the editor offers now.
func (p *page) completions() []string {
	p.t.Helper()
	var labels []string
	p.evalMain(`[...document.querySelectorAll(".cm-tooltip-autocomplete li .cm-completionLabel")].map((e) => e.textContent)`, &labels)
	return labels
}

// has says whether the page shows s now, without waiting.
func (p *page) has(s sel) bool {
	p.t.Helper()
	a, err := json.Marshal(s)
	if err != nil {
		p.t.Fatal(err)
	}
	var found bool
	p.evalMain(fmt.Sprintf(`!!(%s).find(%s)`, kit, a), &found)
	return found
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
