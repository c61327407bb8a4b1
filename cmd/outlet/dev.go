package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
	"github.com/outlethq/outlet/functions"
	"github.com/outlethq/outlet/internal/netguard"
	"github.com/outlethq/outlet/sandbox"
)

func newDevCmd(r *remote) *cobra.Command {
	var (
		f            manifestFlags
		in           runInput
		secretFlags  []string
		secretsFile  string
		allowPrivate bool
		local        localRun
	)
	cmd := &cobra.Command{
		Use:   "dev [DIR] (--event FILE | --input JSON | --input-file FILE)",
		Short: "Run the function in DIR once on this machine, in the server's sandbox",
		Long: `Run the function described by DIR/outlet.yaml (DIR is . by default) once, on
this machine, in the same sandbox and with the same limits as the server, and
show its output, logs, error and duration. No server is needed: this is how
to try a function, or test it in CI, before deploying it.

It is built as 'outlet functions deploy' builds it: a JavaScript or TypeScript
entry is bundled with the npm packages it imports from DIR/node_modules.
Secrets come from --secret NAME=VALUE flags and a --secrets-file in .env form
(NAME=VALUE lines); fetch reaches public hosts only, unless
--allow-private-networks.

ctx holds what it would on the server, and test: true, as in a test run: on
an --event, trigger "event", the tenant (--tenant, else $OUTLET_TENANT, else
"local"), a new event_id and delivery_id, and attempt 1 (--attempt to try a
retry); on an --input, trigger "hook" and the hook (--hook, else the one hook
outlet.yaml names).

The command fails (exit status 1) when the function does, after showing why.`,
		Example: `  outlet dev --input '{"total": 100}'
  outlet dev ./discount --event order-placed.json --secrets-file .env.local
  outlet dev --input-file cart.json --secret COUPON=SAVE10 --json
  outlet dev --event order-placed.json --attempt 2      # as the first retry`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadManifest(cmd, dirArg(args), &f)
			if err != nil {
				return err
			}
			ev, input, err := in.read(cmd)
			if err != nil {
				return err
			}
			meta, err := local.meta(m, ev != nil)
			if err != nil {
				return err
			}
			if ev != nil {
				at := time.Now()
				if ev.Timestamp != nil {
					at = *ev.Timestamp
				}
				input = functions.EventBody(ev.Type, ev.Data, at)
			}
			secrets, err := devSecrets(secretsFile, secretFlags)
			if err != nil {
				return err
			}
			code, runtime, err := m.build()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			res, err := runLocally(ctx, m, runtime, code, input, meta, secrets, netguard.Policy{AllowPrivate: allowPrivate}, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if r.json {
				b, err := json.MarshalIndent(res, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "%s\n", b)
			} else {
				tw := newTable(out)
				printRun(tw, res.Output, res.Error, res.DurationMs, res.Logs, res.LogsTruncated)
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			if res.Error != nil {
				return errFunctionFailed(res.Error)
			}
			return nil
		},
	}
	f.add(cmd, false)
	in.add(cmd)
	fl := cmd.Flags()
	fl.StringArrayVar(&secretFlags, "secret", nil, "a secret the function reads as ctx.secrets.NAME, as NAME=VALUE (repeat)")
	fl.StringVar(&secretsFile, "secrets-file", "", "read secrets from this file of NAME=VALUE lines (.env form); --secret wins over it")
	fl.BoolVar(&allowPrivate, "allow-private-networks", false, "let fetch reach loopback and private addresses, e.g. a mock of an API on localhost")
	fl.StringVar(&local.tenant, "tenant", "", `ctx.tenant: the tenant to run as (default $OUTLET_TENANT, else "local")`)
	fl.StringVar(&local.hook, "hook", "", "ctx.hook of an --input run: the hook it serves (default the one hook outlet.yaml names, if it names one)")
	fl.IntVar(&local.attempt, "attempt", 1, "ctx.attempt of an --event run: 1 for the first attempt, 2 for the first retry, …")
	return cmd
}

// localRun is what a local run's ctx says beside the secrets and the
// function: what the server would say for the same run.
type localRun struct {
	tenant  string
	hook    string
	attempt int
}

// meta builds ctx for a run on an event or, when !event, at a hook.
func (l *localRun) meta(m *manifest, event bool) (sandbox.Meta, error) {
	tenant := l.tenant
	if tenant == "" {
		tenant = os.Getenv("OUTLET_TENANT")
	}
	if tenant == "" {
		tenant = "local"
	}
	if err := outlet.ValidateTenantID(tenant); err != nil {
		return sandbox.Meta{}, fmt.Errorf("--tenant: %s", outlet.ErrorMessage(err))
	}
	if event {
		if l.hook != "" {
			return sandbox.Meta{}, errors.New("--hook is for --input runs, which run as at a hook; an --event run is a delivery")
		}
		if l.attempt < 1 {
			return sandbox.Meta{}, fmt.Errorf("--attempt is %d; the first attempt is 1", l.attempt)
		}
		// A delivery's ids, new for each run, as a new event's would be.
		return sandbox.Meta{Tenant: tenant, Trigger: outlet.TriggerEvent, EventID: outlet.NewID(outlet.PrefixEvent),
			DeliveryID: outlet.NewID(outlet.PrefixDelivery), Attempt: l.attempt, Test: true}, nil
	}
	if l.attempt != 1 {
		return sandbox.Meta{}, errors.New("--attempt is for --event runs: a hook's call is never retried")
	}
	hook := l.hook
	if hook != "" && outlet.ValidateEventTypeName(hook) != nil {
		return sandbox.Meta{}, fmt.Errorf("--hook %q is not a hook name such as checkout.discount", hook)
	}
	if hook == "" && len(m.Hooks) == 1 {
		hook = m.Hooks[0]
	}
	// Of several hooks, none is the one: ctx.hook is left out, as in a test
	// run on the server without --hook.
	return sandbox.Meta{Tenant: tenant, Trigger: outlet.TriggerHook, Hook: hook, Test: true}, nil
}

// devResult is what a local run came to: a test run's answer without the
// version, since nothing is deployed.
type devResult struct {
	Output        json.RawMessage       `json:"output"`
	Error         *client.FunctionError `json:"error"`
	Logs          string                `json:"logs"`
	LogsTruncated bool                  `json:"logs_truncated"`
	DurationMs    int64                 `json:"duration_ms"`
}

// runLocally prepares code as the server does on a deploy and runs it once
// on input. An error means the code can't run at all; a failed run is in the
// result.
func runLocally(ctx context.Context, m *manifest, runtime string, code []byte, input json.RawMessage, meta sandbox.Meta,
	secrets map[string]string, policy netguard.Policy, stderr io.Writer) (*devResult, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sb := sandbox.New(sandbox.Config{Policy: policy, Logger: log})
	defer sb.Close(context.Background())
	fn := sandbox.Function{Tenant: meta.Tenant, Name: m.Name, Version: 1, Runtime: runtime, Code: code, SHA256: sha256Hex(code)}
	// The operator's settings are unknown here: the sandbox's defaults,
	// which are the server's own, stand in for them.
	lim := functions.SandboxLimits(m.limits(), outlet.FunctionLimits{})
	lim.Timeout = time.Duration(m.limits().TimeoutMs) * time.Millisecond
	prepared, err := sb.Prepare(ctx, fn, lim)
	if err != nil {
		return nil, fmt.Errorf("%s doesn't load: %w", m.Entry, err)
	}
	fn.Code, fn.SourceMap, fn.SHA256 = prepared.Code, prepared.SourceMap, sha256Hex(prepared.Code)
	res := sb.Run(ctx, sandbox.Call{Function: fn, Input: input, Secrets: secrets, Limits: lim, Meta: meta})
	out := &devResult{Output: res.Output, Logs: res.Logs, LogsTruncated: res.LogsTruncated, DurationMs: res.Duration.Milliseconds()}
	if res.Error != nil {
		out.Error = &client.FunctionError{Code: res.Error.Code, Message: res.Error.Message}
	}
	return out, nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// devSecrets gathers the secrets of a local run: the file's, then the
// flags', which win.
func devSecrets(file string, flags []string) (map[string]string, error) {
	secrets := map[string]string{}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("read --secrets-file: %w", err)
		}
		defer f.Close()
		if secrets, err = parseEnv(file, f); err != nil {
			return nil, err
		}
	}
	for _, s := range flags {
		name, value, ok := strings.Cut(s, "=")
		if !ok {
			return nil, errors.New("--secret takes NAME=VALUE, and one has no '='") // the text may be a value: don't show it
		}
		if err := outlet.ValidateSecretName(name); err != nil {
			return nil, fmt.Errorf("--secret: %s", outlet.ErrorMessage(err))
		}
		secrets[name] = value
	}
	return secrets, nil
}

// parseEnv reads NAME=VALUE lines, as .env files hold them: blank lines and
// lines starting with # are skipped, "export " before a name is allowed, and
// a value may be quoted ("…" with Go's escapes such as \n, or '…' as it is).
// An unquoted value ends at " #", where a comment starts.
func parseEnv(file string, r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), outlet.MaxSecretValue+1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("%s line %d: expected NAME=VALUE", file, n)
		}
		if err := outlet.ValidateSecretName(name); err != nil {
			return nil, fmt.Errorf("%s line %d: %s", file, n, outlet.ErrorMessage(err))
		}
		value = strings.TrimSpace(value)
		switch {
		case len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"':
			v, err := strconv.Unquote(value)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: the quoted value of %s is not valid: %v", file, n, name, err)
			}
			value = v
		case len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'':
			value = value[1 : len(value)-1]
		default:
			if v, _, found := strings.Cut(value, " #"); found {
				value = strings.TrimSpace(v)
			}
		}
		out[name] = value
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s has a line longer than a secret may be (%d bytes)", file, outlet.MaxSecretValue)
		}
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return out, nil
}
