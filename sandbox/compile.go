package sandbox

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/outlethq/outlet"
)

// CompileError is a deploy that can't run, with where the problem is when
// that is known.
type CompileError struct {
	File    string // the file of a bundle the problem is in; "" for a deployed source
	Line    int    // 1-based; 0 when unknown
	Column  int    // 1-based
	Message string
}

func (e *CompileError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
	case e.Line > 0:
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
	}
	return e.Message
}

// Prepare turns deployed source into the code that runs, and checks that it
// can: JavaScript and TypeScript are checked for syntax, transpiled to one
// ES2023 module and loaded once in a VM; a Wasm binary is compiled. A problem
// is a *CompileError.
func (s *Sandbox) Prepare(ctx context.Context, fn Function) ([]byte, error) {
	switch fn.Runtime {
	case outlet.RuntimeJavaScript, outlet.RuntimeTypeScript:
		code, err := transpile(fn.Runtime, string(fn.Code))
		if err != nil {
			return nil, err
		}
		fn.Code = code
		vm, rerr := newJSVM(fn, s.limits(Limits{}), s.fetch)
		if rerr != nil {
			return nil, &CompileError{Message: "the module doesn't load: " + rerr.Message}
		}
		vm.close()
		return code, nil
	case outlet.RuntimeWasm:
		if err := s.wasm.compile(ctx, fn); err != nil {
			return nil, &CompileError{Message: err.Error()}
		}
		return fn.Code, nil
	default:
		return nil, &CompileError{Message: fmt.Sprintf("runtime %q is not known", fn.Runtime)}
	}
}

// esTarget is the language level QuickJS runs.
const esTarget = api.ES2023

// transpile checks one deployed source file and turns it into an ES2023
// module, TypeScript types removed. It doesn't bundle: a function with
// dependencies is bundled before it is deployed (outlet functions deploy does
// it), and a static import left in it fails when the module loads.
func transpile(runtime, source string) ([]byte, error) {
	loader, file := api.LoaderJS, "function.js"
	if runtime == outlet.RuntimeTypeScript {
		loader, file = api.LoaderTS, "function.ts"
	}
	res := api.Transform(source, api.TransformOptions{
		Loader:     loader,
		Sourcefile: file,
		Format:     api.FormatESModule,
		Target:     esTarget,
		Platform:   api.PlatformNeutral,
		Charset:    api.CharsetUTF8,
		LogLevel:   api.LogLevelSilent,
	})
	if err := firstError(res.Errors); err != nil {
		return nil, err
	}
	return res.Code, nil
}

// Bundle builds a function from a project directory, as a customer's
// repository holds it: the entry file and everything it imports, npm
// packages from node_modules included, in one ES2023 module. Node's own
// modules (fs, net, child_process…) don't exist in functions.
func Bundle(dir, entry string) ([]byte, error) {
	res := api.Build(api.BuildOptions{
		AbsWorkingDir: dir,
		EntryPoints:   []string{entry},
		Bundle:        true,
		Format:        api.FormatESModule,
		Target:        esTarget,
		Platform:      api.PlatformBrowser,
		MainFields:    []string{"module", "main"},
		Conditions:    []string{"worker", "import", "default"},
		Charset:       api.CharsetUTF8,
		LogLevel:      api.LogLevelSilent,
		Write:         false,
		Outfile:       filepath.Join(dir, "out.js"),
	})
	if err := firstError(res.Errors); err != nil {
		var ce *CompileError
		if errors.As(err, &ce) && res.Errors[0].Location != nil {
			ce.File = res.Errors[0].Location.File
		}
		return nil, err
	}
	if len(res.OutputFiles) == 0 {
		return nil, &CompileError{Message: "the bundle is empty"}
	}
	return res.OutputFiles[0].Contents, nil
}

func firstError(msgs []api.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	m := msgs[0]
	ce := &CompileError{Message: m.Text}
	if m.Location != nil {
		ce.Line, ce.Column = m.Location.Line, m.Location.Column+1
	}
	if len(msgs) > 1 {
		ce.Message += fmt.Sprintf(" (and %d more %s)", len(msgs)-1, plural(len(msgs)-1, "error", "errors"))
	}
	ce.Message = strings.TrimSpace(ce.Message)
	return ce
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
