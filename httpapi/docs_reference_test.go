package httpapi

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/outlethq/outlet/internal/metrics"
)

func TestEveryMetricIsInTheAPIReference(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	// What the registry describes…
	m := metrics.New()
	m.WatchQueue(nil, 0, nil) // registers the queue's gauges; describing them reads nothing
	descs := make(chan *prometheus.Desc)
	go func() {
		m.Registry.Describe(descs)
		close(descs)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		if n := fqName.FindStringSubmatch(d.String()); n != nil && strings.HasPrefix(n[1], "outlet_") {
			names[n[1]] = true
		}
	}
	// …and every name the package spells, registered by New or later.
	src, err := filepath.Glob("../internal/metrics/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range src {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range regexp.MustCompile(`"(outlet_[a-z0-9_]+)"`).FindAllStringSubmatch(string(b), -1) {
			names[n[1]] = true
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d metrics: %v", len(names), names)
	}
	for n := range names {
		if !strings.Contains(string(doc), "`"+n+"`") && !strings.Contains(string(doc), "`"+n+"{") {
			t.Errorf("metric %s is not in docs/api.md's metrics", n)
		}
	}
}

// notShownPrefixes are id prefixes no caller ever sees.
var notShownPrefixes = map[string]string{
	"node_": "a dispatcher's lease owner when none is given; outlet serve names its nodes after the host",
}

func TestEveryIDPrefixIsInTheAPIReference(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	prefixes := map[string]string{} // prefix → where it is made
	constant := regexp.MustCompile(`\bPrefix\w+\s*=\s*"([a-z]+_)"`)
	newID := regexp.MustCompile(`\bNewID\("([a-z]+_)"\)`)
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".." || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range []*regexp.Regexp{constant, newID} {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				prefixes[m[1]] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"evt_", "dlv_", "inv_"} {
		if prefixes[want] == "" {
			t.Fatalf("the id prefixes found, %v, lack %s: the search is broken", prefixes, want)
		}
	}
	for p, where := range prefixes {
		if _, ok := notShownPrefixes[p]; ok {
			continue
		}
		if !strings.Contains(string(doc), "`"+p+"`") {
			t.Errorf("id prefix %s (made in %s) is not in docs/api.md", p, where)
		}
	}
}
