package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/format"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	esbuild "github.com/evanw/esbuild/pkg/api"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// functionsDoc is the customer's guide to functions. The tests below keep it
// true: its example files are written out and its shown sessions are run —
// through the real CLI, locally with 'outlet dev' and against a real server —
// and must print what the guide says they print.
//
// The guide marks what the tests use with an HTML comment on the line before
// a fenced block:
//
//	<!-- docsfn: file PATH -->   the block is the file PATH of the example repository
//	<!-- docsfn: run -->         a session: each "$ outlet …" line is run, and what
//	                             follows it, up to the next "$ ", is what it prints
//	<!-- docsfn: build DIR -->   shell lines (go commands only) that build DIR
//	<!-- docsfn: manifest -->    the outlet.yaml reference: it names every field
//
// Besides, every outlet command anywhere in the guide must exist with the
// flags it is given, every YAML and JSON block must parse, and every link
// must lead somewhere.
const functionsDoc = "../../docs/functions.md"

// docBlock is one fenced block of the guide.
type docBlock struct {
	line   int    // of the opening fence, 1-based
	info   string // the fence's info string: js, console, yaml…
	marker string // the docsfn comment before it, without "docsfn:"; "" if none
	body   string // without the fences and the indentation of the fence
}

var (
	docMarker = regexp.MustCompile(`^<!-- docsfn: (.+?) -->$`)
	docFence  = regexp.MustCompile("^( *)(```+)(.*)$")
)

// readDoc returns the guide's text and its fenced blocks.
func readDoc(t *testing.T) (string, []docBlock) {
	t.Helper()
	b, err := os.ReadFile(functionsDoc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	lines := strings.Split(text, "\n")
	var blocks []docBlock
	marker, markerLine := "", 0
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := docMarker.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			marker, markerLine = m[1], i+1
			continue
		}
		m := docFence.FindStringSubmatch(line)
		if m == nil {
			if marker != "" && strings.TrimSpace(line) != "" {
				t.Fatalf("%s:%d: the docsfn marker is not followed by a fenced block", functionsDoc, markerLine)
			}
			continue
		}
		indent, fence := m[1], m[2]
		blk := docBlock{line: i + 1, info: strings.TrimSpace(m[3]), marker: marker}
		marker = ""
		var body []string
		for i++; ; i++ {
			if i == len(lines) {
				t.Fatalf("%s:%d: the fenced block is never closed", functionsDoc, blk.line)
			}
			if strings.TrimSpace(lines[i]) == fence && strings.HasPrefix(lines[i], indent) {
				break
			}
			body = append(body, strings.TrimPrefix(lines[i], indent))
		}
		blk.body = strings.Join(body, "\n") + "\n"
		blocks = append(blocks, blk)
	}
	if marker != "" {
		t.Fatalf("%s:%d: the docsfn marker is not followed by a fenced block", functionsDoc, markerLine)
	}
	return text, blocks
}

// markerArg returns the argument of a marker of the given kind ("file",
// "build"…), and whether the marker is of that kind.
func markerArg(marker, kind string) (string, bool) {
	k, arg, _ := strings.Cut(marker, " ")
	return strings.TrimSpace(arg), k == kind
}

// shellWords splits a command line as a POSIX shell would for the simple
// commands the guide shows: words, '…' and "…" quoting, backslash escapes.
// A | outside quotes is a word of its own.
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unclosed ' in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte(`"\$`+"`", line[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i == len(line) {
				return nil, fmt.Errorf("unclosed \" in %q", line)
			}
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '|' && !inWord:
			words = append(words, "|")
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// runLine is one command of a shown session.
type runLine struct {
	line    int
	command string
	want    string
}

// sessionLines splits a run block into its commands and what each prints.
func sessionLines(t *testing.T, b docBlock) []runLine {
	t.Helper()
	var out []runLine
	for i, l := range strings.Split(strings.TrimSuffix(b.body, "\n"), "\n") {
		if cmd, ok := strings.CutPrefix(l, "$ "); ok {
			out = append(out, runLine{line: b.line + 1 + i, command: cmd})
			continue
		}
		if len(out) == 0 {
			t.Fatalf("%s:%d: a session must start with a \"$ \" command line", functionsDoc, b.line+1+i)
		}
		out[len(out)-1].want += l + "\n"
	}
	return out
}

// Numbers that change from run to run, and the size of code esbuild makes.
var (
	unstableDuration = regexp.MustCompile(`\b\d+ ms\b`)
	unstableSize     = regexp.MustCompile(`\b\d+(\.\d+)? (B|KiB|MiB)\b`)
	unstableTime     = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\b`)
)

func stable(s string) string {
	s = unstableTime.ReplaceAllString(s, "YYYY-MM-DD hh:mm:ss.mmm")
	s = unstableDuration.ReplaceAllString(s, "N ms")
	return unstableSize.ReplaceAllString(s, "N B")
}

// slackStandIn answers as a Slack incoming webhook does, and keeps what it
// was sent.
type slackStandIn struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newSlackStandIn(t *testing.T) *slackStandIn {
	s := &slackStandIn{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, r.Method+" "+r.Header.Get("Content-Type")+" "+string(b))
		s.mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *slackStandIn) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.bodies)
}

// TestFunctionsDocExamplesRunAsShown writes the guide's example repository,
// builds its Go function, and runs every session the guide shows, comparing
// what each command prints with what the guide says it prints (durations,
// sizes and times aside). The sessions run in the repository's directory,
// with OUTLET_URL and OUTLET_KEY set — the key a tenant's, as a customer
// has — so the test can't run in parallel.
//
// Two things differ from a customer's machine, both on purpose: the Slack
// webhook URL in .env.local is pointed at a stand-in on loopback, and
// 'outlet dev' is given --allow-private-networks so it may reach it. The
// server side is set up as the platform would have it: tenant acme and the
// checkout.discount hook.
func TestFunctionsDocExamplesRunAsShown(t *testing.T) {
	_, blocks := readDoc(t)
	repo := t.TempDir()
	for _, b := range blocks {
		if path, ok := markerArg(b.marker, "file"); ok {
			p := filepath.Join(repo, filepath.FromSlash(path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(b.body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	slack := newSlackStandIn(t)
	envFile := filepath.Join(repo, ".env.local")
	env, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatalf("the guide has no .env.local for its examples: %v", err)
	}
	const slackURL = "https://hooks.slack.com"
	if !bytes.Contains(env, []byte(slackURL)) {
		t.Fatalf(".env.local has no %s URL to point at the stand-in:\n%s", slackURL, env)
	}
	os.WriteFile(envFile, bytes.ReplaceAll(env, []byte(slackURL), []byte(slack.srv.URL)), 0o644)

	s := startServer(t)
	s.must(t, "tenants", "create", "acme", "--name", "Acme Inc")
	// A deadline far above the run's few milliseconds: the race detector on a
	// busy machine makes them hundreds.
	s.must(t, "hooks", "create", "checkout.discount", "--timeout-ms", "10000", "--on-error", "fail_open")
	var key struct{ Key string }
	s.mustJSON(t, &key, "api-keys", "create", "--tenant", "acme", "--name", "docs")
	t.Setenv("OUTLET_URL", s.url)
	t.Setenv("OUTLET_KEY", key.Key)
	t.Setenv("OUTLET_TENANT", "")
	t.Chdir(repo)

	unbuilt := map[string]string{} // directories whose build was skipped, and why
	var ran, built int
	for _, b := range blocks {
		if dir, ok := markerArg(b.marker, "build"); ok {
			t.Run(fmt.Sprintf("build %s (line %d)", dir, b.line), func(t *testing.T) {
				unbuilt[dir] = "its build didn't finish"
				buildDocExample(t, repo, dir, b)
				delete(unbuilt, dir)
				built++
			})
		}
		if b.marker != "run" {
			continue
		}
		for _, rl := range sessionLines(t, b) {
			t.Run(fmt.Sprintf("line %d", rl.line), func(t *testing.T) {
				words, err := shellWords(rl.command)
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range words {
					if why, ok := unbuilt[w]; ok {
						t.Skipf("%s needs %s, and %s", rl.command, w, why)
					}
				}
				ran++
				got := runDocCommand(t, words)
				if isLogsCommand(words) {
					// Logs are written after a run answers: give them time.
					deadline := time.Now().Add(10 * time.Second)
					for stable(got) != stable(rl.want) && time.Now().Before(deadline) {
						time.Sleep(100 * time.Millisecond)
						got = runDocCommand(t, words)
					}
				}
				if stable(got) != stable(rl.want) {
					t.Errorf("%s:%d: $ %s\nprinted:\n%s\nthe guide shows:\n%s", functionsDoc, rl.line, rl.command, got, rl.want)
				}
			})
		}
	}
	if ran < 5 || (built == 0 && len(unbuilt) == 0) {
		t.Errorf("ran %d commands and %d builds; the guide's sessions or build markers went missing", ran, built)
	}

	// The Slack example posted what it says it posted, once.
	var posted string
	for _, b := range blocks {
		if m := regexp.MustCompile(`"posted": (".*")`).FindStringSubmatch(b.body); b.marker == "run" && m != nil {
			json.Unmarshal([]byte(m[1]), &posted)
		}
	}
	want := []string{`POST application/json {"text":` + strings.TrimSpace(mustMarshal(t, posted)) + `}`}
	if got := slack.received(); posted == "" || !slices.Equal(got, want) {
		t.Errorf("the Slack stand-in received %q; want %q", got, want)
	}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func isLogsCommand(words []string) bool {
	return len(words) >= 3 && words[0] == "outlet" && words[1] == "functions" && words[2] == "logs"
}

// runDocCommand runs one command of a session in-process and returns what a
// terminal would show: stdout, stderr, then the error main prints. "echo
// WORDS | outlet …" pipes the words in.
func runDocCommand(t *testing.T, words []string) string {
	t.Helper()
	stdin := ""
	if i := slices.Index(words, "|"); i >= 0 {
		if words[0] != "echo" {
			t.Fatalf("%q: the only pipe a session may show is echo … | outlet …", strings.Join(words, " "))
		}
		stdin, words = strings.Join(words[1:i], " ")+"\n", words[i+1:]
	}
	if len(words) < 2 || words[0] != "outlet" {
		t.Fatalf("%q: a session may only run outlet commands", strings.Join(words, " "))
	}
	args := slices.Clone(words[1:])
	if args[0] == "dev" {
		args = append(args, "--allow-private-networks")
	}
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	shown := out.String() + errOut.String()
	if err != nil {
		shown += "outlet: " + err.Error() + "\n"
	}
	return shown
}

// buildDocExample runs the guide's build lines for dir, each a go command,
// in repo/dir. Without a Go toolchain that can build for wasip1, or without
// the network to fetch the PDK, it skips: that is this machine's limit, not
// the guide's.
func buildDocExample(t *testing.T, repo, dir string, b docBlock) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH: the guide's Wasm example can't be built here")
	}
	if out, err := exec.Command(goBin, "tool", "dist", "list").Output(); err != nil || !strings.Contains(string(out), "wasip1/wasm") {
		t.Skipf("this Go toolchain can't build for wasip1/wasm (%v): the guide's Wasm example can't be built here", err)
	}
	for i, l := range strings.Split(strings.TrimSpace(b.body), "\n") {
		words, err := shellWords(l)
		if err != nil {
			t.Fatal(err)
		}
		var env []string
		for len(words) > 0 && strings.Contains(words[0], "=") {
			env, words = append(env, words[0]), words[1:]
		}
		if len(words) == 0 || words[0] != "go" {
			t.Fatalf("%s:%d: %q: a build block may only run go commands", functionsDoc, b.line+1+i, l)
		}
		cmd := exec.Command(goBin, words[1:]...)
		cmd.Dir = filepath.Join(repo, dir)
		// The example is a module of its own, outside any workspace.
		cmd.Env = append(append(os.Environ(), "GOWORK=off"), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			if words[1] == "get" {
				t.Skipf("%s failed, so the guide's Wasm example can't be built here (no network or module proxy?):\n%s", l, out)
			}
			t.Fatalf("%s:%d: %s failed: %v\n%s", functionsDoc, b.line+1+i, l, err, out)
		}
	}
}

// TestFunctionsDocCommandsExist checks every outlet command the guide shows,
// in code blocks and in running text: the command exists, and takes the
// flags and arguments it is given. Every --flag named in running text must
// be a flag of some command.
func TestFunctionsDocCommandsExist(t *testing.T) {
	t.Parallel()
	text, blocks := readDoc(t)
	var checked int
	for _, b := range blocks {
		switch b.info {
		case "js", "ts", "go", "json":
			continue
		}
		for i, l := range strings.Split(b.body, "\n") {
			l = strings.TrimSpace(l)
			l = strings.TrimPrefix(l, "$ ")
			l = strings.TrimPrefix(l, "- run: ")
			l = strings.TrimPrefix(l, "run: ")
			if !strings.Contains(l, "outlet ") || strings.HasPrefix(l, "#") {
				continue
			}
			words, err := shellWords(stripComment(l))
			if err != nil {
				t.Errorf("%s:%d: %v", functionsDoc, b.line+1+i, err)
				continue
			}
			for _, cmd := range pipeline(words) {
				if cmd[0] == "outlet" {
					checked++
					if err := checkCommand(cmd, true); err != nil {
						t.Errorf("%s:%d: %s: %v", functionsDoc, b.line+1+i, strings.Join(cmd, " "), err)
					}
				}
			}
		}
	}

	prose := proseOf(text, blocks)
	allFlags := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) { allFlags[f.Name] = true })
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd())
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(prose, -1) {
		span := strings.Join(strings.Fields(m[1]), " ")
		switch {
		case strings.HasPrefix(span, "outlet "):
			words, err := shellWords(span)
			if err == nil {
				err = checkCommand(words, false)
			}
			if err != nil {
				t.Errorf("%s: `%s`: %v", functionsDoc, span, err)
			}
			checked++
		case strings.HasPrefix(span, "--"):
			name, _, _ := strings.Cut(strings.TrimPrefix(strings.Fields(span)[0], "--"), "=")
			if !allFlags[name] {
				t.Errorf("%s: `%s`: no outlet command has a flag --%s", functionsDoc, span, name)
			}
		}
	}
	if checked < 30 {
		t.Errorf("checked only %d outlet commands; is the guide's command syntax still what this test reads?", checked)
	}
}

// stripComment drops a shell comment: a # at the start of a word, outside
// quotes (the guide's commands have none inside).
func stripComment(l string) string {
	if i := strings.Index(l, " #"); i >= 0 {
		return l[:i]
	}
	return l
}

// pipeline splits words at | into commands.
func pipeline(words []string) [][]string {
	var cmds [][]string
	cur := []string{}
	for _, w := range words {
		if w == "|" {
			cmds, cur = append(cmds, cur), []string{}
			continue
		}
		cur = append(cur, w)
	}
	return append(cmds, cur)
}

// checkCommand checks that words (starting with outlet) name a command that
// runs, with flags it has, of the right types, and as many arguments as it
// takes. A complete command line must also satisfy its flag groups (say,
// give one of --input and --event); a mention in running text need not.
func checkCommand(words []string, complete bool) error {
	root := newRootCmd()
	cmd, rest, err := root.Find(words[1:])
	if err != nil {
		return err
	}
	if !cmd.Runnable() {
		return fmt.Errorf("%q is not a command that runs; its subcommands are %s", cmd.CommandPath(), subcommands(cmd))
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		return err
	}
	if complete {
		return cmd.ValidateFlagGroups()
	}
	return nil
}

func subcommands(c *cobra.Command) string {
	var names []string
	for _, s := range c.Commands() {
		names = append(names, s.Name())
	}
	return strings.Join(names, ", ")
}

// proseOf is the guide's text without its fenced blocks.
func proseOf(text string, blocks []docBlock) string {
	lines := strings.Split(text, "\n")
	var keep []string
	in := false
	for _, l := range lines {
		if docFence.MatchString(l) {
			in = !in
			continue
		}
		if !in {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestFunctionsDocBlocksParse checks the guide's files and snippets with the
// parsers that read them: every outlet.yaml with the manifest's own strict
// parser, the reference manifest naming every field there is, .env files as
// 'outlet dev --secrets-file' reads them, other YAML and every JSON block as
// YAML and JSON, Go as gofmt would write it, JavaScript and TypeScript as
// esbuild reads them when deploying. Its links must lead to headings and
// files that exist.
func TestFunctionsDocBlocksParse(t *testing.T) {
	t.Parallel()
	text, blocks := readDoc(t)
	var manifests, references int
	for _, b := range blocks {
		where := fmt.Sprintf("%s:%d", functionsDoc, b.line)
		path, isFile := markerArg(b.marker, "file")
		_, isRef := markerArg(b.marker, "manifest")
		switch {
		case isRef || (isFile && filepath.Base(path) == manifestFile):
			manifests++
			m, err := parseManifest(where, []byte(b.body))
			if err != nil {
				t.Errorf("%v", err)
				continue
			}
			if !isRef {
				continue
			}
			references++
			var fields map[string]any
			yaml.Unmarshal([]byte(b.body), &fields)
			for _, f := range strings.Split(manifestFields, ", ") {
				if _, ok := fields[f]; !ok {
					t.Errorf("%s: the outlet.yaml reference doesn't show the field %s", where, f)
				}
			}
			if m.Name == "" || m.Entry == "" {
				t.Errorf("%s: the outlet.yaml reference lacks a name or an entry", where)
			}
		case isFile && strings.HasPrefix(filepath.Base(path), ".env"):
			secrets, err := parseEnv(where, strings.NewReader(b.body))
			if err != nil || len(secrets) == 0 {
				t.Errorf("%s: %v (%d secrets)", where, err, len(secrets))
			}
		case b.info == "yaml":
			var v any
			if err := yaml.Unmarshal([]byte(b.body), &v); err != nil {
				t.Errorf("%s: not valid YAML: %v", where, err)
			}
		case b.info == "json":
			if !json.Valid([]byte(b.body)) {
				t.Errorf("%s: not valid JSON:\n%s", where, b.body)
			}
		case b.info == "go":
			if formatted, err := format.Source([]byte(b.body)); err != nil || string(formatted) != b.body {
				t.Errorf("%s: the Go example isn't gofmt'ed Go (%v)", where, err)
			}
		case b.info == "js" || b.info == "ts":
			loader := esbuild.LoaderJS
			if b.info == "ts" {
				loader = esbuild.LoaderTS
			}
			res := esbuild.Transform(b.body, esbuild.TransformOptions{Loader: loader, Format: esbuild.FormatESModule, Target: esbuild.ES2023, LogLevel: esbuild.LogLevelSilent})
			for _, e := range res.Errors {
				line := 0
				if e.Location != nil {
					line = e.Location.Line
				}
				t.Errorf("%s:%d: %s", functionsDoc, b.line+line, e.Text)
			}
		}
	}
	if manifests < 3 || references != 1 {
		t.Errorf("found %d outlet.yaml blocks and %d references; want the examples' and one reference", manifests, references)
	}

	anchors := func(md string) map[string]bool {
		out := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(md, -1) {
			out[slug(m[1])] = true
		}
		return out
	}
	own := anchors(proseOf(text, blocks))
	for _, m := range regexp.MustCompile(`\]\(([^)\s]+)\)`).FindAllStringSubmatch(proseOf(text, blocks), -1) {
		target := m[1]
		if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
			continue
		}
		file, frag, _ := strings.Cut(target, "#")
		heads := own
		if file != "" {
			b, err := os.ReadFile(filepath.Join(filepath.Dir(functionsDoc), file))
			if err != nil {
				t.Errorf("%s: the link to %s leads nowhere: %v", functionsDoc, target, err)
				continue
			}
			heads = anchors(string(b))
		}
		if frag != "" && !heads[frag] {
			t.Errorf("%s: the link to %s leads to no heading", functionsDoc, target)
		}
	}
}

// slug is the anchor GitHub gives a heading.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}
