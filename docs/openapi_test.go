package docs

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestOpenAPIJSONKeepsTheYAMLsOrderAndTypes(t *testing.T) {
	t.Parallel()
	b, err := OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"openapi":"3.1.0","info":{"title":"Outlet API","version":"1"`) {
		t.Errorf("the JSON doesn't start as the YAML does: %.80s", b)
	}
	for _, want := range []string{`"200":{`, `"maximum":250`, `"required":true`, `"type":["string","null"]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the JSON lacks %s", want)
		}
	}
}

func TestEveryExampleMatchesItsSchema(t *testing.T) {
	t.Parallel()
	b, err := OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	var d struct {
		Components struct {
			Schemas map[string]struct {
				Examples []json.RawMessage `json:"examples"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for name, s := range d.Components.Schemas {
		if len(s.Examples) == 0 {
			continue
		}
		sch, err := c.Compile("openapi.json#/components/schemas/" + name)
		if err != nil {
			t.Errorf("schema %s doesn't compile: %v", name, err)
			continue
		}
		for i, ex := range s.Examples {
			v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(ex)))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(v); err != nil {
				t.Errorf("example %d of schema %s doesn't match it: %v", i, name, err)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d examples", checked)
	}
}

// TestTheOpenAPIDocumentLintsClean runs Spectral's OpenAPI ruleset (see
// lint/.spectral.yaml) when `make openapi-lint` (or npm ci in docs/lint)
// has installed it, as CI does.
func TestTheOpenAPIDocumentLintsClean(t *testing.T) {
	t.Parallel()
	spectral, err := filepath.Abs("lint/node_modules/.bin/spectral")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(spectral); errors.Is(err, os.ErrNotExist) {
		t.Skip("Spectral isn't installed: run make openapi-lint (npm ci in docs/lint) to lint docs/openapi.yaml")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node to run Spectral with")
	}
	cmd := exec.Command(spectral, "lint", "--ruleset", ".spectral.yaml", "--fail-severity", "hint", "../openapi.yaml")
	cmd.Dir = "lint"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("spectral lint docs/openapi.yaml: %v\n%s", err, out)
	}
}
