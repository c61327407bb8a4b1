package httpapi

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/outlethq/outlet/docs"
	"github.com/outlethq/outlet/internal/metrics"
)

// openAPIDocument is the parts of docs/openapi.yaml these tests read.
type openAPIDocument struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operations are the document's operations as "METHOD /path" → their
// response statuses.
func (d *openAPIDocument) operations() map[string][]string {
	ops := map[string][]string{}
	for path, item := range d.Paths {
		for method, raw := range item {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			var op struct {
				Responses map[string]json.RawMessage `json:"responses"`
			}
			json.Unmarshal(raw, &op) // checked as a whole by the linter
			var codes []string
			for c := range op.Responses {
				codes = append(codes, c)
			}
			slices.Sort(codes)
			ops[strings.ToUpper(method)+" "+path] = codes
		}
	}
	return ops
}

func readOpenAPI(t *testing.T) *openAPIDocument {
	t.Helper()
	b, err := docs.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var d openAPIDocument
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.OpenAPI != "3.1.0" {
		t.Fatalf("docs/openapi.yaml says openapi %q, want 3.1.0", d.OpenAPI)
	}
	return &d
}

func TestTheRoutesAreTheOpenAPIDocumentsOperations(t *testing.T) {
	t.Parallel()
	ops := readOpenAPI(t).operations()
	routes := map[string]bool{}
	for _, r := range New(Config{Metrics: metrics.New()}).Routes() {
		routes[r.Pattern] = true
		if _, ok := ops[r.Pattern]; !ok {
			t.Errorf("route %s is not in docs/openapi.yaml: describe it there (read its handler for what it takes and answers)", r.Pattern)
		}
	}
	for op := range ops {
		if !routes[op] {
			t.Errorf("docs/openapi.yaml describes %s, which the server doesn't serve", op)
		}
	}
}

func TestTheServedOpenAPIDocumentIsDocsOpenAPIYAML(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.do(t, req{method: "GET", path: "/v1/openapi.json"})
	if a.status != 200 || a.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/openapi.json without a key answered %d %s: %.300s", a.status, a.header.Get("Content-Type"), a.body)
	}
	var served, written any
	if err := json.Unmarshal(a.body, &served); err != nil {
		t.Fatalf("GET /v1/openapi.json is not JSON: %v", err)
	}
	src, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(src, &written); err != nil {
		t.Fatal(err)
	}
	// The YAML read through JSON, so numbers and maps have JSON's types.
	j, err := json.Marshal(written)
	if err != nil {
		t.Fatal(err)
	}
	written = nil
	if err := json.Unmarshal(j, &written); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(served, written) {
		t.Error("GET /v1/openapi.json is not docs/openapi.yaml as JSON")
	}
	if !json.Valid(a.body) || !strings.HasPrefix(string(a.body), `{"openapi":"3.1.0"`) {
		t.Errorf("the served document doesn't keep the YAML's order: it starts %.40s", a.body)
	}
}

// apiMDRoute finds a route in docs/api.md: `METHOD /path`.
var apiMDRoute = regexp.MustCompile("`(GET|POST|PUT|PATCH|DELETE) (/[^`\\s]*)`")

func TestAPIReferenceAgreesWithTheOpenAPIDocument(t *testing.T) {
	t.Parallel()
	ops := readOpenAPI(t).operations()
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	status := regexp.MustCompile("`([1-5][0-9][0-9])`")
	also := regexp.MustCompile("\\(also `(GET|POST|PUT|PATCH|DELETE)`")
	found := 0
	for _, line := range strings.Split(string(doc), "\n") {
		for _, m := range apiMDRoute.FindAllStringSubmatch(line, -1) {
			found++
			if _, ok := ops[m[1]+" "+m[2]]; !ok {
				t.Errorf("docs/api.md names %s %s, which docs/openapi.yaml doesn't describe", m[1], m[2])
			}
		}
		// A row of a route's table, or an item of a list of routes: the
		// statuses it names are the route's.
		first := apiMDRoute.FindStringSubmatchIndex(line)
		trimmed := strings.TrimLeft(line, " ")
		if first == nil || !(strings.HasPrefix(trimmed, "| `") || strings.HasPrefix(trimmed, "- `")) || strings.Index(line, "`") != first[0] {
			continue
		}
		path := line[first[4]:first[5]]
		methods := []string{line[first[2]:first[3]]}
		if a := also.FindStringSubmatch(line); a != nil {
			methods = append(methods, a[1])
		}
		for _, method := range methods {
			codes, ok := ops[method+" "+path]
			if !ok {
				t.Errorf("docs/api.md's row for %s %s names a route docs/openapi.yaml doesn't describe", method, path)
				continue
			}
			for _, s := range status.FindAllStringSubmatch(line, -1) {
				if !slices.Contains(codes, s[1]) {
					t.Errorf("docs/api.md says %s %s may answer %s; docs/openapi.yaml gives it only %v", method, path, s[1], codes)
				}
			}
		}
	}
	if found < 50 {
		t.Fatalf("found only %d routes in docs/api.md: the search is broken", found)
	}
}
