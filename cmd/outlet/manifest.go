package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/sandbox"
)

// manifestFile describes a function in its project directory, for
// 'outlet functions deploy' and 'outlet dev':
//
//	name: discount
//	runtime: typescript       # javascript, typescript or wasm; default from entry's extension
//	entry: src/index.ts       # for wasm, the .wasm file
//	events: [order.*]         # event types it runs on
//	hooks: [checkout.discount]
//	timeout_ms: 2000          # limits, each optional: absent takes the operator's setting
//	memory_mb: 64
//	stack_frames: 5000
//	max_input_kb: 1024
//	max_output_kb: 1024
//	max_logs_kb: 16
const manifestFile = "outlet.yaml"

// manifest is outlet.yaml, with the flags that override it applied.
type manifest struct {
	Name    string   `yaml:"name"`
	Runtime string   `yaml:"runtime"`
	Entry   string   `yaml:"entry"`
	Events  []string `yaml:"events"`
	Hooks   []string `yaml:"hooks"`
	// The version's limits, as outlet.FunctionLimits names them.
	TimeoutMs   int `yaml:"timeout_ms"`
	MemoryMB    int `yaml:"memory_mb"`
	StackFrames int `yaml:"stack_frames"`
	MaxInputKB  int `yaml:"max_input_kb"`
	MaxOutputKB int `yaml:"max_output_kb"`
	MaxLogsKB   int `yaml:"max_logs_kb"`

	dir string // the project directory
}

const manifestFields = "name, runtime, entry, events, hooks, timeout_ms, memory_mb, stack_frames, max_input_kb, max_output_kb, max_logs_kb"

func (m *manifest) limits() outlet.FunctionLimits {
	return outlet.FunctionLimits{TimeoutMs: m.TimeoutMs, MemoryMB: m.MemoryMB, StackFrames: m.StackFrames,
		MaxInputKB: m.MaxInputKB, MaxOutputKB: m.MaxOutputKB, MaxLogsKB: m.MaxLogsKB}
}

const manifestExample = `name: discount
runtime: typescript
entry: src/index.ts
hooks: [checkout.discount]`

// readManifest reads dir/outlet.yaml.
func readManifest(dir string) (*manifest, error) {
	file := filepath.Join(dir, manifestFile)
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no %s in %s: a function's directory describes it there, e.g.\n\n%s", manifestFile, dir, indent(manifestExample, "  "))
	}
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(file, b)
	if err != nil {
		return nil, err
	}
	m.dir = dir
	return m, nil
}

var (
	yamlUnknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type \S+$`)
	yamlWrongType    = regexp.MustCompile("^line (\\d+): cannot unmarshal !!\\w+ (`.*` )?into (\\S+)$")
)

// parseManifest decodes a manifest strictly: an unknown field is an error,
// since a misspelt one would otherwise be ignored without a word.
func parseManifest(file string, b []byte) (*manifest, error) {
	var m manifest
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	err := d.Decode(&m)
	var te *yaml.TypeError
	switch {
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%s is empty: give at least a name and an entry, e.g.\n\n%s", file, indent(manifestExample, "  "))
	case errors.As(err, &te):
		msgs := make([]string, len(te.Errors))
		for i, e := range te.Errors {
			msgs[i] = file + ": " + explainYAML(e)
		}
		return nil, errors.New(strings.Join(msgs, "\n"))
	case err != nil:
		return nil, fmt.Errorf("%s is not valid YAML: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return &m, nil
}

// explainYAML rewords the YAML library's complaints about a manifest's
// fields.
func explainYAML(msg string) string {
	if m := yamlUnknownField.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("line %s: unknown field %q; the fields are %s", m[1], m[2], manifestFields)
	}
	if m := yamlWrongType.FindStringSubmatch(msg); m != nil {
		want := map[string]string{"int": "a whole number", "string": "a single value", "[]string": "a list, such as [a, b]"}[m[3]]
		switch {
		case want != "" && m[2] != "":
			return fmt.Sprintf("line %s: %s is not %s", m[1], strings.TrimSpace(m[2]), want)
		case want != "":
			return fmt.Sprintf("line %s: expected %s", m[1], want)
		}
	}
	return msg
}

// manifestFlags override a manifest's fields, each with a flag of the same
// name ('-' for '_').
type manifestFlags struct {
	name, runtime, entry string
	events, hooks        []string
	limits               outlet.FunctionLimits
}

// add adds the flags to cmd; bindings adds --events and --hooks too.
func (f *manifestFlags) add(cmd *cobra.Command, bindings bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "the function's name, instead of outlet.yaml's")
	fl.StringVar(&f.runtime, "runtime", "", "javascript, typescript or wasm, instead of outlet.yaml's")
	fl.StringVar(&f.entry, "entry", "", "the entry file (for wasm, the .wasm file), relative to the directory, instead of outlet.yaml's")
	fl.IntVar(&f.limits.TimeoutMs, "timeout-ms", 0, "milliseconds a run on an event may take, instead of outlet.yaml's timeout_ms")
	fl.IntVar(&f.limits.MemoryMB, "memory-mb", 0, "MiB of memory a run gets, instead of outlet.yaml's memory_mb")
	fl.IntVar(&f.limits.StackFrames, "stack-frames", 0, "JavaScript call depth a run may reach, instead of outlet.yaml's stack_frames")
	fl.IntVar(&f.limits.MaxInputKB, "max-input-kb", 0, "KiB of input a run takes, instead of outlet.yaml's max_input_kb")
	fl.IntVar(&f.limits.MaxOutputKB, "max-output-kb", 0, "KiB of output a run may return, instead of outlet.yaml's max_output_kb")
	fl.IntVar(&f.limits.MaxLogsKB, "max-logs-kb", 0, "KiB of console output a run keeps, instead of outlet.yaml's max_logs_kb")
	if bindings {
		fl.StringSliceVar(&f.events, "events", nil, "event types it runs on (repeat, or separate with commas), instead of outlet.yaml's")
		fl.StringSliceVar(&f.hooks, "hooks", nil, "hooks it serves (repeat, or separate with commas), instead of outlet.yaml's")
	}
}

// apply overrides the fields of m whose flags were given.
func (f *manifestFlags) apply(cmd *cobra.Command, m *manifest) {
	fl := cmd.Flags()
	set := func(name string, apply func()) {
		if fl.Changed(name) {
			apply()
		}
	}
	set("name", func() { m.Name = f.name })
	set("runtime", func() { m.Runtime = f.runtime })
	set("entry", func() { m.Entry = f.entry })
	set("events", func() { m.Events = f.events })
	set("hooks", func() { m.Hooks = f.hooks })
	set("timeout-ms", func() { m.TimeoutMs = f.limits.TimeoutMs })
	set("memory-mb", func() { m.MemoryMB = f.limits.MemoryMB })
	set("stack-frames", func() { m.StackFrames = f.limits.StackFrames })
	set("max-input-kb", func() { m.MaxInputKB = f.limits.MaxInputKB })
	set("max-output-kb", func() { m.MaxOutputKB = f.limits.MaxOutputKB })
	set("max-logs-kb", func() { m.MaxLogsKB = f.limits.MaxLogsKB })
}

// validate checks what can be checked before building, and fills in the
// runtime from the entry's extension when the manifest leaves it out.
func (m *manifest) validate() error {
	if m.Name == "" {
		return fmt.Errorf("%s has no name: give the function's name, e.g. name: discount (or pass --name)", manifestFile)
	}
	if err := outlet.ValidateFunctionName(m.Name); err != nil {
		return errors.New(outlet.ErrorMessage(err))
	}
	if m.Entry == "" {
		return fmt.Errorf("%s has no entry: give the file to run, e.g. entry: src/index.ts, or for wasm the .wasm file (or pass --entry)", manifestFile)
	}
	if m.Runtime == "" {
		switch strings.ToLower(filepath.Ext(m.Entry)) {
		case ".ts", ".mts", ".cts", ".tsx":
			m.Runtime = outlet.RuntimeTypeScript
		case ".js", ".mjs", ".cjs", ".jsx":
			m.Runtime = outlet.RuntimeJavaScript
		case ".wasm":
			m.Runtime = outlet.RuntimeWasm
		default:
			return fmt.Errorf("%s has no runtime and entry %s doesn't tell: give runtime: javascript, typescript or wasm", manifestFile, m.Entry)
		}
	}
	switch m.Runtime {
	case outlet.RuntimeJavaScript, outlet.RuntimeTypeScript, outlet.RuntimeWasm:
	default:
		return fmt.Errorf("runtime %q is not one of javascript, typescript or wasm", m.Runtime)
	}
	if l := m.limits(); min(l.TimeoutMs, l.MemoryMB, l.StackFrames, l.MaxInputKB, l.MaxOutputKB, l.MaxLogsKB) < 0 {
		return fmt.Errorf("limits can't be negative; leave them out for the operator's settings")
	}
	info, err := os.Stat(filepath.Join(m.dir, m.Entry))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("entry %s doesn't exist: there is no %s", m.Entry, filepath.Join(m.dir, m.Entry))
	case err != nil:
		return err
	case info.IsDir():
		return fmt.Errorf("entry %s is a directory; give a file, e.g. %s/index.ts", m.Entry, m.Entry)
	}
	return nil
}

// build returns what to deploy and in which runtime: a JavaScript or
// TypeScript entry bundled with what it imports (npm packages from the
// directory's node_modules included) into one JavaScript module, or the Wasm
// binary as it is.
func (m *manifest) build() (code []byte, runtime string, err error) {
	if m.Runtime == outlet.RuntimeWasm {
		b, err := os.ReadFile(filepath.Join(m.dir, m.Entry))
		if err != nil {
			return nil, "", err
		}
		if !bytes.HasPrefix(b, []byte("\x00asm")) {
			return nil, "", fmt.Errorf("%s is not a Wasm binary (it doesn't start with \\0asm)", m.Entry)
		}
		return b, outlet.RuntimeWasm, nil
	}
	dir, err := filepath.Abs(m.dir)
	if err != nil {
		return nil, "", err
	}
	code, err = sandbox.Bundle(dir, m.Entry)
	if err != nil {
		return nil, "", bundleError(err)
	}
	return code, outlet.RuntimeJavaScript, nil
}

// bundleError shows a bundling problem as file:line:column: message, the
// form editors and terminals link to the place.
func bundleError(err error) error {
	var ce *sandbox.CompileError
	if !errors.As(err, &ce) {
		return fmt.Errorf("bundling failed: %w", err)
	}
	if ce.File != "" {
		return ce
	}
	return fmt.Errorf("bundling failed: %s", ce.Error())
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// loadManifest reads dir's manifest, applies the flags that override it and
// checks the result.
func loadManifest(cmd *cobra.Command, dir string, f *manifestFlags) (*manifest, error) {
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	f.apply(cmd, m)
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}
