package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet"
)

func TestManifestParsing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    *manifest
		wantErr string
	}{
		{"every field", "name: discount\nruntime: typescript\nentry: src/index.ts\nevents: [order.*, invoice.paid]\nhooks:\n  - checkout.discount\n" +
			"timeout_ms: 2000\nmemory_mb: 32\nstack_frames: 100\nmax_input_kb: 1\nmax_output_kb: 2\nmax_logs_kb: 3\n",
			&manifest{Name: "discount", Runtime: "typescript", Entry: "src/index.ts", Events: []string{"order.*", "invoice.paid"},
				Hooks: []string{"checkout.discount"}, TimeoutMs: 2000, MemoryMB: 32, StackFrames: 100, MaxInputKB: 1, MaxOutputKB: 2, MaxLogsKB: 3}, ""},
		{"comments and only what is needed", "# checkout\nname: discount # the name\nentry: index.js\n",
			&manifest{Name: "discount", Entry: "index.js"}, ""},
		{"an unknown field names the line and the fields there are", "name: a\nentry: a.js\nevent: [x]\n", nil,
			`outlet.yaml: line 3: unknown field "event"; the fields are name, runtime, entry, events, hooks, timeout_ms, memory_mb, stack_frames,`},
		{"a number that isn't one says so", "name: a\ntimeout_ms: 2s\n", nil, "outlet.yaml: line 2: `2s` is not a whole number"},
		{"a single event where a list belongs asks for a list", "events: order\n", nil, "outlet.yaml: line 1: `order` is not a list, such as [a, b]"},
		{"a list where one value belongs asks for one", "name: [a, b]\n", nil, "outlet.yaml: line 1: expected a single value"},
		{"a field given twice is refused", "name: a\nname: b\n", nil, `line 2: mapping key "name" already defined at line 1`},
		{"an empty file shows an example", "", nil, "outlet.yaml is empty: give at least a name and an entry"},
		{"broken YAML says so", "name: [a\n", nil, "outlet.yaml is not valid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseManifest("outlet.yaml", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %+v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestManifestValidation(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"index.js": "", "src/main.ts": "", "fn.wasm": "", "script.txt": "", "src/lib/x.js": ""})
	tests := []struct {
		name        string
		m           manifest
		wantRuntime string
		wantErr     string
	}{
		{"a .ts entry is typescript", manifest{Name: "f", Entry: "src/main.ts"}, outlet.RuntimeTypeScript, ""},
		{"a .js entry is javascript", manifest{Name: "f", Entry: "index.js"}, outlet.RuntimeJavaScript, ""},
		{"a .wasm entry is wasm", manifest{Name: "f", Entry: "fn.wasm"}, outlet.RuntimeWasm, ""},
		{"a runtime given wins over the extension", manifest{Name: "f", Entry: "script.txt", Runtime: "javascript"}, outlet.RuntimeJavaScript, ""},
		{"an entry that doesn't tell needs a runtime", manifest{Name: "f", Entry: "script.txt"}, "", "no runtime and entry script.txt doesn't tell"},
		{"an unknown runtime is refused", manifest{Name: "f", Entry: "index.js", Runtime: "python"}, "", `runtime "python" is not one of`},
		{"a name is required", manifest{Entry: "index.js"}, "", "has no name"},
		{"a name must be valid", manifest{Name: "my function", Entry: "index.js"}, "", `function name "my function" is not valid`},
		{"an entry is required", manifest{Name: "f"}, "", "has no entry"},
		{"the entry must exist", manifest{Name: "f", Entry: "src/index.ts"}, "", "entry src/index.ts doesn't exist"},
		{"the entry must be a file", manifest{Name: "f", Entry: "src/lib", Runtime: "javascript"}, "", "entry src/lib is a directory"},
		{"limits can't be negative", manifest{Name: "f", Entry: "index.js", MaxLogsKB: -1}, "", "can't be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			m.dir = dir
			err := m.validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v; want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || m.Runtime != tt.wantRuntime {
				t.Fatalf("got runtime %q, %v; want %q", m.Runtime, err, tt.wantRuntime)
			}
		})
	}
}

func TestManifestFlagsOverrideOnlyWhatIsGiven(t *testing.T) {
	t.Parallel()
	var f manifestFlags
	cmd := &cobra.Command{Use: "deploy"}
	f.add(cmd, true)
	if err := cmd.ParseFlags([]string{"--name", "canary", "--events", "a.b,c.*", "--hooks", "", "--memory-mb", "128", "--max-logs-kb", "4"}); err != nil {
		t.Fatal(err)
	}
	m := &manifest{Name: "discount", Runtime: "typescript", Entry: "src/index.ts", Events: []string{"order.*"}, Hooks: []string{"checkout.discount"}, TimeoutMs: 2000}
	f.apply(cmd, m)
	want := &manifest{Name: "canary", Runtime: "typescript", Entry: "src/index.ts", Events: []string{"a.b", "c.*"}, Hooks: []string{}, TimeoutMs: 2000, MemoryMB: 128,
		MaxLogsKB: 4}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v; want %+v", m, want)
	}
}

func TestManifestBuild(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"fn.wasm":      "\x00asm\x01\x00\x00\x00",
		"not.wasm":     "hello",
		"index.mjs":    "import { twice } from \"./lib/twice.js\"\nexport default (n) => twice(n)\n",
		"lib/twice.js": "export function twice(n) { return 2 * n }\n",
	})
	m := &manifest{Name: "f", Entry: "fn.wasm", dir: dir}
	if err := m.validate(); err != nil {
		t.Fatal(err)
	}
	code, runtime, err := m.build()
	if err != nil || runtime != outlet.RuntimeWasm || string(code) != "\x00asm\x01\x00\x00\x00" {
		t.Errorf("building a wasm entry: %q, %q, %v; want the file as it is", code, runtime, err)
	}

	m = &manifest{Name: "f", Entry: "not.wasm", dir: dir}
	m.validate()
	if _, _, err := m.build(); err == nil || !strings.Contains(err.Error(), "not.wasm is not a Wasm binary") {
		t.Errorf("building a .wasm that isn't: %v", err)
	}

	m = &manifest{Name: "f", Entry: "index.mjs", dir: dir}
	m.validate()
	code, runtime, err = m.build()
	if err != nil || runtime != outlet.RuntimeJavaScript || !strings.Contains(string(code), "2 * n") || strings.Contains(string(code), "import ") {
		t.Errorf("building a module that imports another: %v, %q\n%s; want one javascript module", err, runtime, code)
	}
}

func TestReadManifestFromADirectory(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"outlet.yaml": "name: f\nentry: index.js\n"})
	m, err := readManifest(dir)
	if err != nil || m.Name != "f" || m.dir != dir {
		t.Errorf("got %+v, %v", m, err)
	}
	_, err = readManifest(filepath.Join(dir, "nowhere"))
	if err == nil || !strings.Contains(err.Error(), "no outlet.yaml in") || !strings.Contains(err.Error(), "entry: src/index.ts") {
		t.Errorf("a directory without a manifest: %v; want told so, with an example", err)
	}
}

func TestParseEnv(t *testing.T) {
	t.Parallel()
	in := `# secrets for outlet dev
STRIPE_KEY=sk_test_123
export COUPON="SAVE10\n2"
SINGLE='it''s # kept'
SPACED = padded value  # a comment
EMPTY=
URL=https://example.com/?a=b#frag
`
	got, err := parseEnv(".env", strings.NewReader(in))
	want := map[string]string{
		"STRIPE_KEY": "sk_test_123", "COUPON": "SAVE10\n2", "SINGLE": "it''s # kept", "SPACED": "padded value", "EMPTY": "",
		"URL": "https://example.com/?a=b#frag",
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	for bad, wantErr := range map[string]string{
		"JUST_A_NAME\n":        ".env line 1: expected NAME=VALUE",
		"\n\n2FA=x\n":          ".env line 3: secret name \"2FA\" is not valid",
		"A=\"unterminated\\\"": ".env line 1: the quoted value of A is not valid",
	} {
		if _, err := parseEnv(".env", strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: %v; want an error containing %q", bad, err, wantErr)
		}
	}
}

func TestDevSecretsFlagsWinOverTheFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), ".env")
	os.WriteFile(file, []byte("A=from-file\nB=from-file\n"), 0o600)
	got, err := devSecrets(file, []string{"B=from=flag"})
	if err != nil || !reflect.DeepEqual(got, map[string]string{"A": "from-file", "B": "from=flag"}) {
		t.Errorf("got %q, %v", got, err)
	}
	_, err = devSecrets("", []string{"sk_live_looks_like_a_value"})
	if err == nil || strings.Contains(err.Error(), "sk_live") {
		t.Errorf("a --secret without '=': %v; want refused without showing what was given", err)
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add("name: discount\nruntime: typescript\nentry: src/index.ts\nevents: [order.*]\nhooks: [a.b]\ntimeout_ms: 10\n")
	f.Add("name: [a\n")
	f.Add("events: x\nfoo: 1\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := parseManifest("outlet.yaml", []byte(in))
		if (m == nil) == (err == nil) {
			t.Fatalf("got %+v and %v; want exactly one", m, err)
		}
	})
}

func FuzzParseEnv(f *testing.F) {
	f.Add("A=1\nexport B=\"x\\ny\"\n# c\nC='d'\n")
	f.Add("=\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseEnv(".env", strings.NewReader(in))
		if err != nil {
			return
		}
		for name := range got {
			if outlet.ValidateSecretName(name) != nil {
				t.Fatalf("accepted the name %q", name)
			}
		}
	})
}
