package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evanw/esbuild/pkg/api"
	"github.com/outlethq/outlet/portal"
)

const (
	web  = "../web"
	dist = "../dist"
)

// needPackages skips a test that builds when portal/web has no
// node_modules: building reads the npm packages from there, and `make test`
// must run without Node. CI runs `make portal-check` (npm ci) first.
func needPackages(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(web, "node_modules", "preact")); err != nil {
		t.Skip("SKIPPED: portal/web/node_modules is absent, so the committed bundle (portal/dist) can't be rebuilt and compared; run `make portal-check` (npm ci, then this comparison) to check it")
	}
}

func TestCommittedBundleIsWhatTheSourcesBuild(t *testing.T) {
	t.Parallel()
	needPackages(t)
	out := t.TempDir()
	if _, err := Build(web, out); err != nil {
		t.Fatal(err)
	}
	if diff := Compare(out, dist); diff != "" {
		t.Fatalf("portal/dist is stale (%s): run `make portal` and commit portal/dist", diff)
	}
}

func TestTheSameSourcesBuildTheSameBytesInAnyDirectory(t *testing.T) {
	t.Parallel()
	needPackages(t)
	a, b := t.TempDir(), filepath.Join(t.TempDir(), "elsewhere", "deeper")
	if _, err := Build(web, a); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(web, b); err != nil {
		t.Fatal(err)
	}
	if diff := Compare(a, b); diff != "" {
		t.Fatalf("two builds differ: %s", diff)
	}
}

func TestAFunctionPageLoadsTheEditorOnlyWhenOpened(t *testing.T) {
	t.Parallel()
	needPackages(t)
	b, err := Build(web, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var editor []string
	for out, ins := range b.Sources {
		if slices.Contains(ins, "src/function-editor.tsx") {
			editor = append(editor, out)
		}
	}
	if len(editor) == 0 {
		t.Fatal("no script holds src/function-editor.tsx")
	}
	for _, f := range editor {
		if slices.Contains(b.Static, f) {
			t.Errorf("%s holds the function editor, but the first page loads it: import the editor with import() only", f)
		}
	}
}

func TestTheBundleFitsItsBudget(t *testing.T) {
	t.Parallel()
	b, err := ReadBundle(dist)
	if err != nil {
		t.Fatal(err)
	}
	gz := func(files []string) int {
		n := 0
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(dist, f))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			w.Write(data)
			w.Close()
			n += buf.Len()
		}
		return n
	}
	if n := gz(b.Static); n >= 150*1024 {
		t.Errorf("the first page's JavaScript is %d bytes gzipped; the budget is under 150 KB", n)
	}
	if n := gz(b.Files); n >= 350*1024 {
		t.Errorf("the whole bundle is %d bytes gzipped; the budget is under 350 KB", n)
	}
}

// The CSP forbids inline scripts and styles; the page must need none.
func TestThePageHasNothingInline(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile(filepath.Join(dist, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAll(page, -1) {
		if !bytes.Contains(tag, []byte(` src="`)) {
			t.Errorf("index.html has an inline script %q, which the portal's CSP would refuse", tag)
		}
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script[^>]*>[^<]+</script>`),
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`javascript:`),
	} {
		if m := bad.Find(page); m != nil {
			t.Errorf("index.html has %q, which the portal's CSP would refuse", m)
		}
	}
	if !bytes.Contains(page, []byte(`<meta name="outlet-session" content="null">`)) {
		t.Error(`index.html lacks <meta name="outlet-session" content="null">, where the server writes the session`)
	}
}

// Tenant data (payloads, bodies, descriptions, logs) may hold markup: the
// sources render everything as text and never build HTML from strings.
func TestTheSourcesNeverWriteHTMLOrStyleAttributes(t *testing.T) {
	t.Parallel()
	forbidden := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "dangerouslySetInnerHTML", "document.write", "createContextualFragment",
		"DOMParser", "eval(", "new Function", `style="`, "style={", `setAttribute("style"`, "cssText"}
	files, err := filepath.Glob(filepath.Join(web, "src", "*.ts*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources in portal/web/src (%v)", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range forbidden {
			if bytes.Contains(data, []byte(bad)) {
				t.Errorf("%s uses %s: render tenant data as JSX text or textContent, and style through classes or element.style", filepath.Base(f), bad)
			}
		}
	}
}

// A smoke test in a real browser: the committed bundle, served by package
// portal with its real headers, runs under the CSP without a violation and
// tells a visitor without a session that it ended.
func TestTheBundleRunsUnderThePortalsCSP(t *testing.T) {
	t.Parallel()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("SKIPPED: no chromium on PATH (.ci/run installs it)")
	}
	srv := httptest.NewServer(portal.Handler(portal.Config{}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
		"--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", srv.URL+"/portal/endpoints")
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	if !bytes.Contains(dom, []byte("Your session ended")) {
		t.Errorf("the page didn't render the ended session (did its script run?):\n%s", dom)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "Content Security Policy") || strings.Contains(line, "Uncaught") {
			t.Errorf("the browser reported: %s", line)
		}
	}
}

// The front end's pure modules (the session's parser, the metrics parser,
// colour contrast) have their own tests, src/*.test.ts, run here in Node.
func TestTheFrontEndsUnitTestsPass(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("SKIPPED: no node on PATH, so portal/web/src/*.test.ts can't run")
	}
	tests, err := filepath.Glob(filepath.Join(web, "src", "*.test.ts"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no portal/web/src/*.test.ts (%v)", err)
	}
	for _, src := range tests {
		t.Run(filepath.Base(src), func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "test.mjs")
			res := api.Build(api.BuildOptions{EntryPoints: []string{src}, Bundle: true, Format: api.FormatESModule, Platform: api.PlatformNode,
				Outfile: out, Write: true, LogLevel: api.LogLevelSilent})
			if len(res.Errors) > 0 {
				t.Fatalf("esbuild: %v", res.Errors)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			b, err := exec.CommandContext(ctx, node, out).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			t.Logf("%s", b)
		})
	}
}
