package sandbox

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

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

// Prepared is a deploy made ready to run.
type Prepared struct {
	Code      []byte // what runs: an ES2023 module, or the Wasm binary
	SourceMap []byte // maps Code back to what was deployed; nil for Wasm
}

// Prepare turns deployed source into the code that runs, and checks that it
// can, within the version's own limits: JavaScript and TypeScript are
// checked for syntax, transpiled to one ES2023 module and loaded once in a
// VM (so the module's top-level code runs, with the function's time and
// memory limits); a Wasm binary is compiled, and its declared memory and
// tables checked against the memory limit. A problem with the code is a
// *CompileError.
//
// Loading a JavaScript module is work done for the tenant like a call: it
// waits for one of the tenant's slots (so concurrent deploys are bounded
// too), and its CPU time is billed. Compiling Wasm is billed too, but waits
// for the compiler's own slots (see wasmCompileWait).
func (s *Sandbox) Prepare(ctx context.Context, fn Function, lim Limits) (*Prepared, error) {
	lim = s.limits(lim)
	if fn.Runtime == outlet.RuntimeWasm {
		return s.prepareWasm(ctx, fn, lim)
	}
	if fn.Runtime != outlet.RuntimeJavaScript && fn.Runtime != outlet.RuntimeTypeScript {
		return nil, &CompileError{Message: fmt.Sprintf("runtime %q is not known", fn.Runtime)}
	}
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	release, rerr := s.acquire(ctx, fn.Tenant)
	if rerr != nil {
		return nil, outlet.Errorf(outlet.EUNAVAILABLE, "the deploy waited past the function's time limit of %s for the sandbox, busy with this tenant's functions; try again", lim.Timeout)
	}
	defer release()
	var cpu time.Duration
	defer func() { s.charge(fn.Tenant, cpu) }()
	stop := measure(&cpu)
	defer stop()
	code, sourceMap, err := transpile(fn.Runtime, string(fn.Code))
	if err != nil {
		return nil, err
	}
	fn.Code, fn.SourceMap = code, sourceMap
	if deadline, ok := ctx.Deadline(); ok {
		lim.Timeout = max(time.Until(deadline), time.Millisecond)
	}
	vm, verr := newJSVM(fn, lim, s.fetch)
	if verr != nil {
		msg := s.maps.mapper(sourceMap).rewrite(verr.Message)
		switch verr.Code {
		case CodeTimeout:
			msg = fmt.Sprintf("its top-level code ran past the function's time limit of %s", lim.Timeout.Round(time.Millisecond))
		case CodeMemoryLimit:
			msg = fmt.Sprintf("its top-level code grew past the function's memory limit of %d MiB (memory_mb)", lim.MemoryMB)
		}
		return nil, &CompileError{Message: "the module doesn't load: " + msg}
	}
	vm.close()
	return &Prepared{Code: code, SourceMap: sourceMap}, nil
}

// wasmCompileWait bounds how long a deploy waits for a module to compile.
// Compiling is Outlet's work, not the function's: it runs outside the
// tenant's slots (a few at a time, node-wide) and isn't bounded by the
// function's time limit, but its CPU time is billed to the tenant, and a
// deploy that gives up waiting leaves it going, to be ready next time.
const wasmCompileWait = 2 * time.Minute

func (s *Sandbox) prepareWasm(ctx context.Context, fn Function, lim Limits) (*Prepared, error) {
	ctx, cancel := context.WithTimeout(ctx, wasmCompileWait)
	defer cancel()
	c, err := s.wasm.compiledFor(ctx, fn)
	if err != nil {
		return nil, outlet.Errorf(outlet.EUNAVAILABLE, "compiling the module takes longer than %s; it goes on in the background: try the deploy again shortly", wasmCompileWait)
	}
	if c.err != nil {
		return nil, &CompileError{Message: c.err.Error()}
	}
	if err := c.info.fits(lim.MemoryMB); err != nil {
		return nil, &CompileError{Message: err.Error()}
	}
	return &Prepared{Code: fn.Code}, nil
}

// esTarget is the language level QuickJS runs.
const esTarget = api.ES2023

// transpile checks one deployed source file and turns it into an ES2023
// module, TypeScript types removed, with a source map back to it. It
// doesn't bundle: a function with dependencies is bundled before it is
// deployed (outlet functions deploy does it, leaving its own source map in
// the bundle, which the map made here follows back to the customer's
// files), and a static import left in it fails when the module loads.
func transpile(runtime, source string) ([]byte, []byte, error) {
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
		// The map is kept with the version; the sources are in it already.
		Sourcemap:      api.SourceMapExternal,
		SourcesContent: api.SourcesContentExclude,
	})
	if err := firstError(res.Errors); err != nil {
		return nil, nil, err
	}
	return res.Code, res.Map, nil
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
		// Inline, so the map travels with the code to the server, which
		// follows it when it transpiles: errors then name the customer's
		// files, lines and columns.
		Sourcemap:      api.SourceMapInline,
		SourcesContent: api.SourcesContentExclude,
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
