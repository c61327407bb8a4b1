package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/outlethq/outlet/client"
)

// remote holds the root's flags that every command talking to a running
// Outlet shares.
type remote struct {
	url  string
	key  string
	json bool
}

const defaultURL = "http://127.0.0.1:8080"

// addRemoteCommands adds --url, --key and --json to root, and the commands
// that call a running Outlet through package client.
func addRemoteCommands(root *cobra.Command) {
	r := &remote{}
	fs := root.PersistentFlags()
	url := os.Getenv("OUTLET_URL")
	if url == "" {
		url = defaultURL
	}
	fs.StringVar(&r.url, "url", url, "address of the Outlet server [$OUTLET_URL]")
	// The key's default is read when a command runs, so help never shows it.
	fs.StringVar(&r.key, "key", "", "API key: the admin key, or a tenant's key for that tenant's commands [$OUTLET_KEY]")
	fs.BoolVar(&r.json, "json", false, "print the API's JSON answer instead of a table")
	root.AddCommand(
		newTenantsCmd(r), newAPIKeysCmd(r), newEventTypesCmd(r),
		newEndpointsCmd(r), newEventsCmd(r), newDeliveriesCmd(r),
		newHooksCmd(r), newFunctionsCmd(r), newSecretsCmd(r), newDevCmd(r),
		newPortalCmd(r), newTypesCmd(r), newAuditCmd(r),
	)
}

// call is one run of a command against the API.
type call struct {
	cmd    *cobra.Command
	args   []string
	tenant string // for commands under a tenant
	client *client.Client
	json   bool
	answer []byte // the body of the last answer, printed by --json
}

// run returns a RunE that connects to Outlet, calls f, and explains the
// failures people meet most.
func (r *remote) run(f func(c *call) error) func(*cobra.Command, []string) error {
	return r.runTenant(nil, f)
}

// runTenant is run for the commands under one tenant: c.tenant is *tenant,
// or $OUTLET_TENANT when that is empty.
func (r *remote) runTenant(tenant *string, f func(c *call) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := r.connect(cmd, args)
		if err != nil {
			return err
		}
		if tenant != nil {
			if c.tenant, err = tenantOf(*tenant); err != nil {
				return err
			}
		}
		return r.explain(f(c))
	}
}

func (r *remote) connect(cmd *cobra.Command, args []string) (*call, error) {
	key := r.key
	if key == "" {
		key = strings.TrimSpace(os.Getenv("OUTLET_KEY"))
	}
	if key == "" {
		return nil, errors.New(`no API key: pass --key or set OUTLET_KEY.
The admin key is printed by 'outlet serve' on first start and stored in <data>/admin.key
(./outlet-data/admin.key by default), so:  export OUTLET_KEY=$(cat ./outlet-data/admin.key)
A tenant's key comes from 'outlet api-keys create --tenant <tenant>'`)
	}
	c := client.New(r.url, key,
		client.WithUserAgent("outlet-cli/"+moduleVersion),
		client.WithHTTPClient(&http.Client{Timeout: time.Minute}))
	return &call{cmd: cmd, args: args, client: c, json: r.json}, nil
}

func (r *remote) explain(err error) error {
	var apiErr *client.Error
	var urlErr *url.Error
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		return fmt.Errorf("%s\n(check --key or OUTLET_KEY: the admin key is in <data>/admin.key of 'outlet serve')", apiErr.Message)
	case errors.As(err, &urlErr) && !errors.Is(err, context.Canceled):
		return fmt.Errorf("can't reach Outlet at %s: %v\n(is 'outlet serve' running there? set --url or OUTLET_URL)", r.url, urlErr.Err)
	}
	return err
}

func (c *call) ctx() context.Context { return c.cmd.Context() }

// keep is the option that saves the answer for --json.
func (c *call) keep() client.RequestOption { return client.WithRawResponse(&c.answer) }

// print shows the answer: as the API sent it with --json, else as table
// writes it, aligned.
func (c *call) print(table func(w io.Writer)) error {
	out := c.cmd.OutOrStdout()
	if c.json {
		if len(bytes.TrimSpace(c.answer)) == 0 {
			return nil
		}
		var b bytes.Buffer
		if err := json.Indent(&b, bytes.TrimSpace(c.answer), "", "  "); err != nil {
			b.Reset()
			b.Write(bytes.TrimSpace(c.answer))
		}
		b.WriteByte('\n')
		_, err := out.Write(b.Bytes())
		return err
	}
	tw := newTable(out)
	table(tw)
	return tw.Flush()
}

// note tells people something beside the answer, on stderr; --json leaves it out.
func (c *call) note(format string, args ...any) {
	if !c.json {
		fmt.Fprintf(c.cmd.ErrOrStderr(), format+"\n", args...)
	}
}

// printPage prints one page of a list, then tells people how to see the
// next one.
func printPage[T any](c *call, p *client.Page[T], table func(w io.Writer)) error {
	if err := c.print(table); err != nil {
		return err
	}
	if p.HasMore {
		c.note("More on the next page: add --cursor %s", p.NextCursor)
	}
	return nil
}

// tenantFlag adds --tenant to cmd and its subcommands.
func tenantFlag(cmd *cobra.Command, tenant *string) {
	cmd.PersistentFlags().StringVar(tenant, "tenant", "", "the tenant's id [$OUTLET_TENANT]")
}

// tenantOf returns the tenant given by --tenant or $OUTLET_TENANT.
func tenantOf(flag string) (string, error) {
	if t, ok := optionalTenant(flag); ok {
		return t, nil
	}
	return "", errors.New("no tenant: pass --tenant or set OUTLET_TENANT")
}

// optionalTenant is --tenant or $OUTLET_TENANT, if either is set.
func optionalTenant(flag string) (string, bool) {
	if flag != "" {
		return flag, true
	}
	t := os.Getenv("OUTLET_TENANT")
	return t, t != ""
}

// args accepts exactly the named positional arguments.
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		takes := strings.Join(names, " ")
		if len(names) == 0 {
			takes = "no arguments, only flags"
		}
		given := "none"
		if len(args) > 0 {
			given = strings.Join(args, " ")
		}
		return fmt.Errorf("%s takes %s (given: %s); usage: %s", cmd.CommandPath(), takes, given, cmd.UseLine())
	}
}

// jsonInput reads a JSON value given inline (--name) or in a file
// (--name-file, "-" for stdin); nil if neither was given. Commands mark the
// two flags mutually exclusive.
func jsonInput(cmd *cobra.Command, name, inline, file string) (json.RawMessage, error) {
	var b []byte
	var err error
	switch {
	case inline != "":
		b = []byte(inline)
	case file == "-":
		b, err = io.ReadAll(cmd.InOrStdin())
	case file != "":
		b, err = os.ReadFile(file)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read --%s-file: %w", name, err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("--%s is not valid JSON", name)
	}
	return json.RawMessage(b), nil
}

// timeValue is a flag holding a time: RFC 3339, or a duration ago such as
// 30m, 24h or 7d.
type timeValue struct {
	t   *time.Time
	now func() time.Time
}

func newTimeValue(t *time.Time) *timeValue { return &timeValue{t: t, now: time.Now} }

func (v *timeValue) Type() string { return "time" }

func (v *timeValue) String() string {
	if v.t == nil || v.t.IsZero() {
		return ""
	}
	return v.t.Format(time.RFC3339)
}

func (v *timeValue) Set(s string) error {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		*v.t = t
		return nil
	}
	d, ok := parseAgo(s)
	if !ok {
		return fmt.Errorf("%q is not a time: give RFC 3339 (2026-01-02T15:04:05Z) or how long ago (30m, 24h, 7d)", s)
	}
	*v.t = v.now().Add(-d)
	return nil
}

// parseAgo reads a duration that may also be given in whole days (7d).
func parseAgo(s string) (time.Duration, bool) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		return time.Duration(n) * 24 * time.Hour, err == nil && n >= 0
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= 0
}

var _ pflag.Value = (*timeValue)(nil)
