package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Where the bundle is served from. Absolute, because index.html answers every
// client-side route (/portal/endpoints/ep_…), and the CSP's `base-uri 'none'`
// rules out a <base> element.
const assetsURL = "/portal/assets/"

// The template's marker that the asset tags replace.
const assetsMarker = "<!--outlet:assets-->"

// Bundle says what a build wrote, relative to its output directory.
type Bundle struct {
	Entry    string   // the first page's script: assets/main-HASH.js
	Static   []string // the scripts the first page loads: Entry and the chunks it imports statically
	CSS      []string // the first page's stylesheets
	Files    []string // every file written, index.html included, sorted
	Dynamic  []string // scripts loaded only on demand (import()), such as the function editor
	HTMLSize int
	// Sources are the source files (relative to portal/web) each script
	// holds; only Build knows them.
	Sources map[string][]string
}

// Build bundles web/src/main.tsx into out: out/index.html (from web/index.html)
// and out/assets/*.js, *.css with content hashes in their names. It replaces
// whatever an earlier build left in out/assets.
func Build(web, out string) (*Bundle, error) {
	web, err := filepath.Abs(web)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(web, "node_modules", "preact")); err != nil {
		return nil, fmt.Errorf("%s has no node_modules/preact: run `npm ci` in portal/web first (make portal does)", web)
	}
	tmpl, err := os.ReadFile(filepath.Join(web, "index.html"))
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(tmpl, []byte(assetsMarker)) {
		return nil, fmt.Errorf("portal/web/index.html lacks the %s marker where the asset tags go", assetsMarker)
	}
	outAbs, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	res := api.Build(api.BuildOptions{
		AbsWorkingDir: web,
		EntryPoints:   []string{"src/main.tsx"},
		Tsconfig:      filepath.Join(web, "tsconfig.json"),
		Bundle:        true,
		Splitting:     true,
		Format:        api.FormatESModule,
		Platform:      api.PlatformBrowser,
		// Browsers from 2021 on: ES modules, dynamic import, optional chaining.
		Target:            api.ES2020,
		JSX:               api.JSXAutomatic,
		JSXImportSource:   "preact",
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		Charset:           api.CharsetUTF8,
		LegalComments:     api.LegalCommentsEndOfFile,
		Outdir:            filepath.Join(outAbs, "assets"),
		EntryNames:        "[name]-[hash]",
		ChunkNames:        "chunk-[hash]",
		AssetNames:        "[name]-[hash]",
		Metafile:          true,
		Write:             false,
		LogLevel:          api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return nil, fmt.Errorf("esbuild:\n%s", strings.Join(msgs, ""))
	}
	var meta struct {
		Outputs map[string]struct {
			Imports []struct {
				Path string `json:"path"`
				Kind string `json:"kind"`
			} `json:"imports"`
			EntryPoint string                     `json:"entryPoint"`
			CSSBundle  string                     `json:"cssBundle"`
			Inputs     map[string]json.RawMessage `json:"inputs"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(res.Metafile), &meta); err != nil {
		return nil, fmt.Errorf("reading esbuild's metafile: %w", err)
	}
	// The metafile names outputs relative to the working directory, the
	// output files by absolute paths; the bundle names them relative to out.
	rel := func(p string) string {
		if !filepath.IsAbs(p) {
			p = filepath.Join(web, p)
		}
		r, err := filepath.Rel(outAbs, p)
		if err != nil {
			return p
		}
		return filepath.ToSlash(r)
	}
	b := &Bundle{Sources: map[string][]string{}}
	for p, o := range meta.Outputs {
		for in := range o.Inputs {
			b.Sources[rel(p)] = append(b.Sources[rel(p)], in)
		}
		slices.Sort(b.Sources[rel(p)])
	}
	static := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		if static[rel(p)] {
			return
		}
		static[rel(p)] = true
		for _, imp := range meta.Outputs[p].Imports {
			if imp.Kind == "import-statement" {
				walk(imp.Path)
			}
		}
	}
	for p, o := range meta.Outputs {
		if o.EntryPoint == "src/main.tsx" && strings.HasSuffix(p, ".js") {
			b.Entry = rel(p)
			if o.CSSBundle != "" {
				b.CSS = append(b.CSS, rel(o.CSSBundle))
			}
			walk(p)
		}
	}
	if b.Entry == "" {
		return nil, fmt.Errorf("esbuild's metafile names no output for src/main.tsx")
	}
	for p := range meta.Outputs {
		if r := rel(p); strings.HasSuffix(r, ".js") && !static[r] {
			b.Dynamic = append(b.Dynamic, r)
		}
	}
	for p := range static {
		b.Static = append(b.Static, p)
	}
	slices.Sort(b.Static)
	slices.Sort(b.Dynamic)

	page := bytes.Replace(tmpl, []byte(assetsMarker), []byte(assetTags(b)), 1)
	b.HTMLSize = len(page)

	if err := os.RemoveAll(filepath.Join(outAbs, "assets")); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(outAbs, "assets"), 0o755); err != nil {
		return nil, err
	}
	for _, f := range res.OutputFiles {
		r := rel(f.Path)
		if err := os.WriteFile(filepath.Join(outAbs, filepath.FromSlash(r)), f.Contents, 0o644); err != nil {
			return nil, err
		}
		b.Files = append(b.Files, r)
	}
	if err := os.WriteFile(filepath.Join(outAbs, "index.html"), page, 0o644); err != nil {
		return nil, err
	}
	b.Files = append(b.Files, "index.html")
	slices.Sort(b.Files)
	return b, nil
}

// assetTags links the stylesheets, the entry script and, as modulepreload, the
// chunks the entry imports, so the browser fetches them at once instead of
// after parsing the entry.
func assetTags(b *Bundle) string {
	var s strings.Builder
	url := func(p string) string { return html.EscapeString(assetsURL + strings.TrimPrefix(p, "assets/")) }
	for _, c := range b.CSS {
		fmt.Fprintf(&s, "<link rel=\"stylesheet\" href=\"%s\">\n", url(c))
	}
	for _, p := range b.Static {
		if p != b.Entry {
			fmt.Fprintf(&s, "<link rel=\"modulepreload\" href=\"%s\">\n", url(p))
		}
	}
	fmt.Fprintf(&s, "<script type=\"module\" src=\"%s\"></script>", url(b.Entry))
	return s.String()
}

// ReadBundle reads what a build wrote into dir back from its index.html: the
// first page's scripts and stylesheets, and every other script.
func ReadBundle(dir string) (*Bundle, error) {
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		return nil, err
	}
	files, err := readTree(dir)
	if err != nil {
		return nil, err
	}
	b := &Bundle{HTMLSize: len(page)}
	static := map[string]bool{}
	for _, m := range assetRef.FindAllSubmatch(page, -1) {
		tag, name := string(m[1]), "assets/"+string(m[2])
		if _, ok := files[name]; !ok {
			return nil, fmt.Errorf("index.html names %s, which isn't in %s", name, dir)
		}
		switch {
		case strings.HasPrefix(tag, "<script"):
			b.Entry = name
			static[name] = true
		case strings.Contains(tag, `"modulepreload"`):
			static[name] = true
		case strings.Contains(tag, `"stylesheet"`):
			b.CSS = append(b.CSS, name)
		}
	}
	if b.Entry == "" {
		return nil, fmt.Errorf("%s/index.html loads no script", dir)
	}
	for name := range files {
		b.Files = append(b.Files, name)
		switch {
		case static[name]:
			b.Static = append(b.Static, name)
		case path.Ext(name) == ".js":
			b.Dynamic = append(b.Dynamic, name)
		}
	}
	slices.Sort(b.Files)
	slices.Sort(b.Static)
	slices.Sort(b.Dynamic)
	return b, nil
}

var assetRef = regexp.MustCompile(`(<script[^>]*|<link[^>]*)(?:src|href)="` + regexp.QuoteMeta(assetsURL) + `([^"]+)"`)

// Compare says how the files under got differ from those under want ("" when
// they hold the same files with the same bytes).
func Compare(got, want string) string {
	a, errA := readTree(got)
	b, errB := readTree(want)
	if errA != nil {
		return errA.Error()
	}
	if errB != nil {
		return errB.Error()
	}
	var diffs []string
	for name, data := range a {
		other, ok := b[name]
		switch {
		case !ok:
			diffs = append(diffs, name+" is missing from the committed bundle")
		case !bytes.Equal(data, other):
			diffs = append(diffs, name+" differs")
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			diffs = append(diffs, name+" is committed but no longer built")
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}

func readTree(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(r)] = data
		return err
	})
	return files, err
}

// Measure reports the gzipped size of what the first page loads (index.html,
// its stylesheets and its scripts) and of every file of the bundle.
func Measure(out string, b *Bundle) (string, error) {
	var s strings.Builder
	sizes := map[string][2]int{}
	for _, f := range b.Files {
		data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f)))
		if err != nil {
			return "", err
		}
		sizes[f] = [2]int{len(data), gzipSize(data)}
		fmt.Fprintf(&s, "%-40s %8d B  %7d B gzipped\n", f, len(data), sizes[f][1])
	}
	sum := func(files []string) (raw, gz int) {
		for _, f := range files {
			raw += sizes[f][0]
			gz += sizes[f][1]
		}
		return raw, gz
	}
	js := func(files []string) []string {
		return slices.DeleteFunc(slices.Clone(files), func(f string) bool { return path.Ext(f) != ".js" })
	}
	firstRaw, firstGz := sum(b.Static)
	pageRaw, pageGz := sum(append(append([]string{"index.html"}, b.CSS...), b.Static...))
	allJSRaw, allJSGz := sum(js(b.Files))
	allRaw, allGz := sum(b.Files)
	fmt.Fprintf(&s, "first page, JavaScript:          %8d B  %7d B gzipped (budget 150 KB)\n", firstRaw, firstGz)
	fmt.Fprintf(&s, "first page, with HTML and CSS:   %8d B  %7d B gzipped\n", pageRaw, pageGz)
	fmt.Fprintf(&s, "all JavaScript:                  %8d B  %7d B gzipped\n", allJSRaw, allJSGz)
	fmt.Fprintf(&s, "everything:                      %8d B  %7d B gzipped (budget 350 KB)\n", allRaw, allGz)
	return s.String(), nil
}

func gzipSize(data []byte) int {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	w.Write(data)
	w.Close()
	return buf.Len()
}
