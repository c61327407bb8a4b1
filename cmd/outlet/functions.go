package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

func newFunctionsCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:     "functions",
		Aliases: []string{"function"},
		Short:   "Deploy a tenant's hosted functions and follow their logs",
		Long: `A function is a tenant's code that Outlet runs: on the tenant's events, like
a webhook endpoint that lives inside Outlet, and at the hooks it serves, where
its answer is the hook's. Each deploy is a new, immutable version; a rollback
makes an earlier one active again.

A function lives in a directory with an outlet.yaml that describes it:

  name: discount
  runtime: typescript          # javascript, typescript or wasm
  entry: src/index.ts          # for wasm, the .wasm file
  events: [order.*]            # event types it runs on
  hooks: [checkout.discount]   # hooks it serves
  timeout_ms: 2000             # limits, each optional: absent takes the
  memory_mb: 64                #   operator's setting (also stack_frames,
                               #   max_input_kb, max_output_kb, max_logs_kb)

'outlet functions deploy DIR' bundles the entry with the npm packages it
imports from DIR/node_modules and deploys the result; 'outlet dev DIR' runs it
on this machine first.`,
	}
	tenantFlag(cmd, &tenant)
	cmd.AddCommand(newFunctionsDeployCmd(r, &tenant), newFunctionsListCmd(r, &tenant), newFunctionsGetCmd(r, &tenant),
		newFunctionsVersionsCmd(r, &tenant), newFunctionsVersionCmd(r, &tenant), newFunctionsRollbackCmd(r, &tenant),
		newFunctionsDeleteCmd(r, &tenant), newFunctionsTestCmd(r, &tenant), newFunctionsLogsCmd(r, &tenant))
	return cmd
}

func newFunctionsDeployCmd(r *remote, tenant *string) *cobra.Command {
	var f manifestFlags
	cmd := &cobra.Command{
		Use:   "deploy [DIR]",
		Short: "Deploy the function in DIR (default .) as its next version",
		Long: `Deploy the function described by DIR/outlet.yaml (DIR is . by default) as its
next version, and make it active.

A JavaScript or TypeScript entry is bundled here, with the npm packages it
imports from DIR/node_modules (run npm install first; the server never runs
npm), into one JavaScript module, which is what the server stores and runs.
A wasm entry is deployed as it is.

Flags override the fields of outlet.yaml with the same name.`,
		Example: `  outlet functions deploy --tenant acme
  outlet functions deploy ./discount --tenant acme --hooks checkout.discount
  outlet functions deploy ./discount --tenant acme --name discount-canary --events ''`,
		Args: cobra.MaximumNArgs(1),
		RunE: r.runTenant(tenant, func(c *call) error {
			m, err := loadManifest(c.cmd, dirArg(c.args), &f)
			if err != nil {
				return err
			}
			code, runtime, err := m.build()
			if err != nil {
				return err
			}
			d := client.FunctionDeploy{Runtime: runtime, Events: m.Events, Hooks: m.Hooks, FunctionLimits: m.limits()}
			if runtime == outlet.RuntimeWasm {
				d.Wasm = code
			} else {
				d.Code = string(code)
			}
			v, err := c.client.Functions.Deploy(c.ctx(), c.tenant, m.Name, d, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				built := fmt.Sprintf("%s %s, %s", m.Runtime, m.Entry, size(len(code)))
				if runtime != m.Runtime {
					built = fmt.Sprintf("%s %s, bundled into %s of %s", m.Runtime, m.Entry, size(len(code)), runtime)
				}
				fmt.Fprintf(w, "Deployed %s version %d for tenant %s (%s): %s.\n", v.Function, v.Version, c.tenant, built, bindings(v.Events, v.Hooks))
			})
		}),
	}
	f.add(cmd, true)
	return cmd
}

func dirArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

// bindings says what a version runs on.
func bindings(events, hooks []string) string {
	if len(events) == 0 && len(hooks) == 0 {
		return "runs on no event and serves no hook yet"
	}
	var parts []string
	if len(events) > 0 {
		parts = append(parts, "runs on "+strings.Join(events, ", "))
	}
	if len(hooks) > 0 {
		parts = append(parts, "serves "+strings.Join(hooks, ", "))
	}
	return strings.Join(parts, "; ")
}

// size shows a number of bytes for people.
func size(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

func newFunctionsListCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List a tenant's functions",
		Example: "  outlet functions list --tenant acme",
		Args:    args(),
		RunE: r.runTenant(tenant, func(c *call) error {
			fns, err := c.client.Functions.List(c.ctx(), c.tenant, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				row(w, "NAME", "ACTIVE", "LATEST", "RUNTIME", "EVENTS", "HOOKS", "UPDATED")
				for _, f := range fns {
					row(w, f.Name, f.ActiveVersion, f.LatestVersion, f.Runtime, cut(list(f.Events), 30), cut(list(f.Hooks), 30), ago(f.UpdatedAt))
				}
			})
		}),
	}
}

func newFunctionsGetCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "get NAME",
		Short:   "Show a function",
		Example: "  outlet functions get discount --tenant acme",
		Args:    args("NAME"),
		RunE: r.runTenant(tenant, func(c *call) error {
			f, err := c.client.Functions.Get(c.ctx(), c.tenant, c.args[0], c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printFunction(w, f) })
		}),
	}
}

func newFunctionsVersionsCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "versions NAME",
		Short:   "List a function's versions, newest first",
		Example: "  outlet functions versions discount --tenant acme",
		Args:    args("NAME"),
		RunE: r.runTenant(tenant, func(c *call) error {
			vs, err := c.client.Functions.Versions(c.ctx(), c.tenant, c.args[0], c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				row(w, "VERSION", "ACTIVE", "RUNTIME", "EVENTS", "HOOKS", "SHA256", "CREATED")
				for _, v := range vs {
					row(w, v.Version, yesNo(v.Active), v.Runtime, cut(list(v.Events), 30), cut(list(v.Hooks), 30), v.SHA256[:min(12, len(v.SHA256))], ago(v.CreatedAt))
				}
			})
		}),
	}
}

func newFunctionsVersionCmd(r *remote, tenant *string) *cobra.Command {
	var sourceOnly bool
	cmd := &cobra.Command{
		Use:   "version NAME N",
		Short: "Show one version of a function, with its source",
		Long: `Show one version of a function with the source it was deployed with: for a
function deployed with 'outlet functions deploy', the bundle. Wasm versions
have no source.`,
		Example: `  outlet functions version discount 3 --tenant acme
  outlet functions version discount 3 --tenant acme --source > discount-v3.js`,
		Args: args("NAME", "N"),
		RunE: r.runTenant(tenant, func(c *call) error {
			n, err := versionArg(c.args[1])
			if err != nil {
				return err
			}
			v, err := c.client.Functions.Version(c.ctx(), c.tenant, c.args[0], n, c.keep())
			if err != nil {
				return err
			}
			out := c.cmd.OutOrStdout()
			if sourceOnly && !c.json {
				_, err := io.WriteString(out, v.Source)
				return err
			}
			if err := c.print(func(w io.Writer) { printVersion(w, v) }); err != nil || c.json || v.Source == "" {
				return err
			}
			_, err = fmt.Fprintf(out, "\n%s\n", strings.TrimRight(v.Source, "\n"))
			return err
		}),
	}
	cmd.Flags().BoolVar(&sourceOnly, "source", false, "print the source alone")
	return cmd
}

func versionArg(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a version number (1, 2, …); see 'outlet functions versions'", s)
	}
	return n, nil
}

func newFunctionsRollbackCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:   "rollback NAME N",
		Short: "Make an earlier version of a function active again",
		Long: `Make version N of a function active again: from now on it runs, on the events
and at the hooks that version is bound to. Later versions are kept.`,
		Example: "  outlet functions rollback discount 2 --tenant acme",
		Args:    args("NAME", "N"),
		RunE: r.runTenant(tenant, func(c *call) error {
			n, err := versionArg(c.args[1])
			if err != nil {
				return err
			}
			f, err := c.client.Functions.Rollback(c.ctx(), c.tenant, c.args[0], n, c.keep())
			if err != nil {
				return err
			}
			c.note("Version %d of %s is active again.", n, f.Name)
			return c.print(func(w io.Writer) { printFunction(w, f) })
		}),
	}
}

func newFunctionsDeleteCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a function with its versions and logs",
		Long:    "Delete a function with all its versions, deliveries and logs. This can't be undone.",
		Example: "  outlet functions delete discount --tenant acme",
		Args:    args("NAME"),
		RunE: r.runTenant(tenant, func(c *call) error {
			if err := c.client.Functions.Delete(c.ctx(), c.tenant, c.args[0], c.keep()); err != nil {
				return err
			}
			c.note("Deleted function %s.", c.args[0])
			return nil
		}),
	}
}

// runInput is the input of a test run, from --event, --input or
// --input-file.
type runInput struct {
	event, input, inputFile string
}

func (in *runInput) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&in.event, "event", "", `run as on this event: a JSON file (- for stdin) with "type" and "data", and optionally "timestamp"`)
	fl.StringVar(&in.input, "input", "", "run as at a hook, on this JSON input")
	fl.StringVar(&in.inputFile, "input-file", "", "run as at a hook, on the JSON input in this file (- for stdin)")
	cmd.MarkFlagsMutuallyExclusive("event", "input", "input-file")
	cmd.MarkFlagsOneRequired("event", "input", "input-file")
}

// eventFile is the event of a run, as --event gives it: a webhook's body.
type eventFile struct {
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	Timestamp *time.Time      `json:"timestamp"`
}

// read returns the event, or else the input.
func (in *runInput) read(cmd *cobra.Command) (*eventFile, json.RawMessage, error) {
	if in.event == "" {
		input, err := jsonInput(cmd, "input", in.input, in.inputFile)
		return nil, input, err
	}
	var b []byte
	var err error
	if in.event == "-" {
		b, err = io.ReadAll(cmd.InOrStdin())
	} else {
		b, err = os.ReadFile(in.event)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read --event: %w", err)
	}
	var ev eventFile
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, nil, fmt.Errorf("--event %s is not a JSON event: %v", in.event, err)
	}
	if ev.Type == "" || len(ev.Data) == 0 {
		return nil, nil, fmt.Errorf(`--event %s needs "type" and "data", e.g. {"type": "invoice.paid", "data": {"amount": 42}}`, in.event)
	}
	return &ev, nil, nil
}

// errFunctionFailed is the exit status of a run whose function failed; the
// failure itself is printed with the result.
func errFunctionFailed(e *client.FunctionError) error {
	return fmt.Errorf("the function failed (%s)", e.Code)
}

func newFunctionsTestCmd(r *remote, tenant *string) *cobra.Command {
	var in runInput
	var t client.FunctionTest
	cmd := &cobra.Command{
		Use:   "test NAME (--event FILE | --input JSON | --input-file FILE)",
		Short: "Run a deployed function once, with the tenant's secrets",
		Long: `Run a version of a deployed function once (the active one unless --version
says otherwise), on an event or on a hook's input, with the tenant's secrets,
and show its output, logs, error and duration. Nothing is recorded.

The command fails (exit status 1) when the function does, after showing why;
with --json it prints the API's answer either way. To run a function before
deploying it, use 'outlet dev'.`,
		Example: `  outlet functions test discount --tenant acme --input '{"total": 100}'
  outlet functions test discount --tenant acme --event order-placed.json
  outlet functions test discount --tenant acme --input-file cart.json --hook checkout.discount --version 2`,
		Args: args("NAME"),
		RunE: r.runTenant(tenant, func(c *call) error {
			ev, input, err := in.read(c.cmd)
			if err != nil {
				return err
			}
			if ev != nil {
				t.Event = &client.TestEvent{Type: ev.Type, Data: ev.Data, Timestamp: ev.Timestamp}
			}
			if input != nil {
				t.Input = input
			}
			res, err := c.client.Functions.Test(c.ctx(), c.tenant, c.args[0], t, c.keep())
			if err != nil {
				return err
			}
			if err := c.print(func(w io.Writer) {
				field(w, "version", res.Version)
				printRun(w, res.Output, res.Error, res.DurationMs, res.Logs, res.LogsTruncated)
			}); err != nil {
				return err
			}
			if res.Error != nil {
				return errFunctionFailed(res.Error)
			}
			return nil
		}),
	}
	in.add(cmd)
	cmd.Flags().StringVar(&t.Hook, "hook", "", "run within this hook's deadline instead of the function's time limit")
	cmd.Flags().IntVar(&t.Version, "version", 0, "run this version; default the active one")
	return cmd
}

// printRun shows one run of a function.
func printRun(w io.Writer, output json.RawMessage, fnErr *client.FunctionError, durationMs int64, logs string, truncated bool) {
	if fnErr != nil {
		field(w, "error", fnErr.Code+": "+oneLine(fnErr.Message))
	} else {
		indentJSON(w, "output", output)
	}
	field(w, "duration", fmt.Sprintf("%d ms", durationMs))
	if logs == "" {
		field(w, "logs", "-")
		return
	}
	io.WriteString(w, "logs:\n")
	writeLogLines(w, logs, "  ", truncated)
}

// writeLogLines writes a run's console output, each line indented. Tabs
// become spaces, since a table writer would read them as cell ends.
func writeLogLines(w io.Writer, logs, prefix string, truncated bool) {
	for line := range strings.Lines(logs) {
		fmt.Fprintf(w, "%s%s\n", prefix, strings.ReplaceAll(strings.TrimRight(line, "\r\n"), "\t", "    "))
	}
	if truncated {
		fmt.Fprintf(w, "%s… (the rest was cut: a run keeps the first part of its logs)\n", prefix)
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func newFunctionsLogsCmd(r *remote, tenant *string) *cobra.Command {
	var f client.LogFilter
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Show a function's recent invocations and their console output",
		Long: `Show a function's recent invocations, oldest first: when each started, the
version, what triggered it (an event's delivery or a hook), how long it took,
its outcome and error, then its console output, indented.

With --follow, keep printing new invocations as they come (checking every
second) until interrupted with Ctrl-C; --json then prints one JSON object per
line.`,
		Example: `  outlet functions logs discount --tenant acme
  outlet functions logs discount --tenant acme --follow`,
		Args: args("NAME"),
		RunE: r.runTenant(tenant, func(c *call) error {
			if follow {
				return followLogs(c, f)
			}
			page, err := c.client.Functions.Logs(c.ctx(), c.tenant, c.args[0], f, c.keep())
			if err != nil {
				return err
			}
			if err := c.print(func(w io.Writer) {
				for i := len(page.Data) - 1; i >= 0; i-- {
					printInvocation(w, page.Data[i])
				}
			}); err != nil {
				return err
			}
			if page.HasMore {
				c.note("Older invocations: add --cursor %s", page.NextCursor)
			}
			return nil
		}),
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new invocations until interrupted")
	cmd.Flags().IntVar(&f.Limit, "limit", 0, "show at most this many recent invocations (1 to 250; default 50)")
	cmd.Flags().StringVar(&f.Cursor, "cursor", "", "show the invocations before these: the cursor the previous page gave")
	cmd.MarkFlagsMutuallyExclusive("follow", "cursor")
	return cmd
}

// followLogs prints invocations as they are recorded, until the command's
// context ends or the user interrupts it.
func followLogs(c *call, f client.LogFilter) error {
	ctx, stop := signal.NotifyContext(c.ctx(), os.Interrupt)
	defer stop()
	out := c.cmd.OutOrStdout()
	for inv, err := range c.client.Functions.Follow(ctx, c.tenant, c.args[0], f, time.Second) {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		if err != nil {
			return err
		}
		if c.json {
			b, err := json.Marshal(inv)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s\n", b)
			continue
		}
		printInvocation(out, inv)
	}
	return nil
}

// printInvocation writes one invocation as a log line, then its console
// output.
func printInvocation(w io.Writer, inv *outlet.Invocation) {
	line := fmt.Sprintf("%s  v%d  %s %s  %d ms  %s", inv.StartedAt.Local().Format("2006-01-02 15:04:05.000"),
		inv.Version, inv.Trigger, inv.TriggerRef, inv.DurationMs, inv.Outcome)
	if inv.Error != "" {
		line += ": " + oneLine(inv.Error)
	}
	fmt.Fprintln(w, line)
	writeLogLines(w, inv.Logs, "    ", inv.Truncated)
}

func printFunction(w io.Writer, f *outlet.Function) {
	field(w, "name", f.Name)
	field(w, "tenant", f.TenantID)
	field(w, "active version", f.ActiveVersion)
	field(w, "latest version", f.LatestVersion)
	field(w, "runtime", f.Runtime)
	field(w, "events", list(f.Events))
	field(w, "hooks", list(f.Hooks))
	field(w, "created", stamp(f.CreatedAt))
	field(w, "updated", stamp(f.UpdatedAt))
}

func printVersion(w io.Writer, v *outlet.FunctionVersion) {
	field(w, "function", v.Function)
	field(w, "version", v.Version)
	field(w, "active", yesNo(v.Active))
	field(w, "runtime", v.Runtime)
	field(w, "events", list(v.Events))
	field(w, "hooks", list(v.Hooks))
	field(w, "timeout", limit(v.Limits.TimeoutMs, "ms"))
	field(w, "memory", limit(v.Limits.MemoryMB, "MiB"))
	field(w, "stack frames", limit(v.Limits.StackFrames, ""))
	field(w, "max input", limit(v.Limits.MaxInputKB, "KiB"))
	field(w, "max output", limit(v.Limits.MaxOutputKB, "KiB"))
	field(w, "max logs", limit(v.Limits.MaxLogsKB, "KiB"))
	field(w, "sha256", v.SHA256)
	field(w, "created", stamp(v.CreatedAt))
}

func limit(n int, unit string) string {
	if n == 0 {
		return "the operator's setting"
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", n, unit))
}

// list shows names, or "-" for none.
func list(names []string) string {
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ", ")
}
