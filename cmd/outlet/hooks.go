package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

func newHooksCmd(r *remote) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "hooks",
		Aliases: []string{"hook"},
		Short:   "Manage hooks: the calls your platform makes to its tenants' code",
		Long: `A hook is an extension point: a call your platform makes during its own
request, such as checkout.discount, which each tenant serves with its functions
or its own sync endpoint, and which answers within the hook's deadline.

Declaring hooks (create, update, delete) needs the admin key. Seeing them as a
tenant does (list and get with --tenant), setting a tenant's sync endpoint and
invoking a hook work with that tenant's key too.`,
	}
	cmd.AddCommand(newHooksCreateCmd(r), newHooksListCmd(r), newHooksGetCmd(r), newHooksUpdateCmd(r),
		newHooksDeleteCmd(r), newHooksEndpointCmd(r), newHooksInvokeCmd(r))
	return cmd
}

// hookFlags are the flags that set a hook's content.
type hookFlags struct {
	description                       string
	timeoutMs                         int
	onError                           string
	inputSchema, inputSchemaFile      string
	outputSchema, outputSchemaFile    string
	inputSchemaJSON, outputSchemaJSON json.RawMessage
}

func (f *hookFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.description, "description", "", "what the hook is for, for your tenants")
	fl.IntVar(&f.timeoutMs, "timeout-ms", 0, fmt.Sprintf("the hook's deadline in milliseconds, 1 to %d (default %d)", outlet.MaxHookTimeoutMs, outlet.DefaultHookTimeoutMs))
	fl.StringVar(&f.onError, "on-error", "", "when the tenant's code fails, answer with the input unchanged (fail_open, the default) or with no output (fail_closed)")
	fl.StringVar(&f.inputSchema, "input-schema", "", "JSON Schema the hook's input must match, inline")
	fl.StringVar(&f.inputSchemaFile, "input-schema-file", "", "JSON Schema the hook's input must match, from a file (- for stdin)")
	fl.StringVar(&f.outputSchema, "output-schema", "", "JSON Schema the tenant's answer must match, inline")
	fl.StringVar(&f.outputSchemaFile, "output-schema-file", "", "JSON Schema the tenant's answer must match, from a file (- for stdin)")
	cmd.MarkFlagsMutuallyExclusive("input-schema", "input-schema-file")
	cmd.MarkFlagsMutuallyExclusive("output-schema", "output-schema-file")
}

func (f *hookFlags) read(cmd *cobra.Command) error {
	var err error
	if f.inputSchemaJSON, err = jsonInput(cmd, "input-schema", f.inputSchema, f.inputSchemaFile); err != nil {
		return err
	}
	f.outputSchemaJSON, err = jsonInput(cmd, "output-schema", f.outputSchema, f.outputSchemaFile)
	return err
}

func newHooksCreateCmd(r *remote) *cobra.Command {
	var f hookFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Declare a hook (admin key)",
		Long: `Declare a hook. NAME is dotted, such as checkout.discount. Tenants then serve
it by deploying functions bound to it, or with a sync endpoint.`,
		Example: `  outlet hooks create checkout.discount --timeout-ms 200 --on-error fail_open \
    --input-schema-file cart.schema.json --description "Adjust a cart's total"`,
		Args: args("NAME"),
		RunE: r.run(func(c *call) error {
			if err := f.read(c.cmd); err != nil {
				return err
			}
			h, err := c.client.Hooks.Create(c.ctx(), client.HookCreate{
				Name: c.args[0], Description: f.description, TimeoutMs: f.timeoutMs, OnError: f.onError,
				InputSchema: f.inputSchemaJSON, OutputSchema: f.outputSchemaJSON,
			}, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printHook(w, h) })
		}),
	}
	f.add(cmd)
	return cmd
}

func newHooksListCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List hooks",
		Long: `List the hooks. With --tenant (or OUTLET_TENANT) they are shown as that tenant
sees them, with what of the tenant's serves each, which works with the
tenant's key.`,
		Example: `  outlet hooks list
  outlet hooks list --tenant acme`,
		Args: args(),
		RunE: r.run(func(c *call) error {
			if t, ok := optionalTenant(tenant); ok {
				ths, err := c.client.TenantHooks.List(c.ctx(), t, c.keep())
				if err != nil {
					return err
				}
				return c.print(func(w io.Writer) {
					row(w, "NAME", "SERVED BY", "TIMEOUT", "ON ERROR")
					for _, th := range ths {
						row(w, th.Name, cut(servedBy(th), 60), fmt.Sprintf("%d ms", th.TimeoutMs), th.OnError)
					}
				})
			}
			hs, err := c.client.Hooks.List(c.ctx(), c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				row(w, "NAME", "TIMEOUT", "ON ERROR", "DESCRIPTION", "UPDATED")
				for _, h := range hs {
					row(w, h.Name, fmt.Sprintf("%d ms", h.TimeoutMs), h.OnError, cut(dash(h.Description), 50), ago(h.UpdatedAt))
				}
			})
		}),
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "show the hooks as this tenant sees them [$OUTLET_TENANT]")
	return cmd
}

func newHooksGetCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Show a hook",
		Long: `Show a hook. With --tenant (or OUTLET_TENANT) it is shown as that tenant sees
it, with what of the tenant's serves it.`,
		Example: `  outlet hooks get checkout.discount
  outlet hooks get checkout.discount --tenant acme`,
		Args: args("NAME"),
		RunE: r.run(func(c *call) error {
			if t, ok := optionalTenant(tenant); ok {
				th, err := c.client.TenantHooks.Get(c.ctx(), t, c.args[0], c.keep())
				if err != nil {
					return err
				}
				return c.print(func(w io.Writer) {
					printHook(w, &th.Hook)
					field(w, "served by", servedBy(th))
				})
			}
			h, err := c.client.Hooks.Get(c.ctx(), c.args[0], c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printHook(w, h) })
		}),
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "show the hook as this tenant sees it [$OUTLET_TENANT]")
	return cmd
}

func newHooksUpdateCmd(r *remote) *cobra.Command {
	var f hookFlags
	cmd := &cobra.Command{
		Use:   "update NAME",
		Short: "Change a hook (admin key)",
		Long: `Change a hook. Only what you pass changes; a schema of null removes it. A hook
can't be renamed.`,
		Example: `  outlet hooks update checkout.discount --timeout-ms 300
  outlet hooks update checkout.discount --on-error fail_closed --output-schema null`,
		Args: args("NAME"),
		RunE: r.run(func(c *call) error {
			if err := f.read(c.cmd); err != nil {
				return err
			}
			u := client.HookUpdate{InputSchema: f.inputSchemaJSON, OutputSchema: f.outputSchemaJSON}
			fl := c.cmd.Flags()
			if fl.Changed("description") {
				u.Description = &f.description
			}
			if fl.Changed("timeout-ms") {
				u.TimeoutMs = &f.timeoutMs
			}
			if fl.Changed("on-error") {
				u.OnError = &f.onError
			}
			h, err := c.client.Hooks.Update(c.ctx(), c.args[0], u, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printHook(w, h) })
		}),
	}
	f.add(cmd)
	return cmd
}

func newHooksDeleteCmd(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a hook (admin key)",
		Long: `Delete a hook and every tenant's sync endpoint for it. Functions bound to it
keep the name, and are no longer called for it.`,
		Example: "  outlet hooks delete checkout.discount",
		Args:    args("NAME"),
		RunE: r.run(func(c *call) error {
			if err := c.client.Hooks.Delete(c.ctx(), c.args[0], c.keep()); err != nil {
				return err
			}
			c.note("Deleted hook %s.", c.args[0])
			return nil
		}),
	}
}

func newHooksEndpointCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "endpoint",
		Short: "Serve a hook with a tenant's own URL instead of functions",
		Long: `A sync endpoint is a tenant's own URL that serves a hook: Outlet posts it the
hook's input, signed like a webhook, and takes its JSON answer as the hook's
output. A tenant serves a hook with functions or with an endpoint, not both.`,
	}
	tenantFlag(cmd, &tenant)
	cmd.AddCommand(newHooksEndpointSetCmd(r, &tenant), newHooksEndpointGetCmd(r, &tenant),
		newHooksEndpointSecretCmd(r, &tenant), newHooksEndpointDeleteCmd(r, &tenant))
	return cmd
}

func newHooksEndpointSetCmd(r *remote, tenant *string) *cobra.Command {
	var e client.HookEndpointPut
	cmd := &cobra.Command{
		Use:   "set HOOK URL",
		Short: "Set a tenant's sync endpoint for a hook",
		Long: `Set the URL that serves a hook for a tenant, replacing any it had; its headers
are replaced too. The signing secret is kept (a new endpoint gets one) unless
--secret gives another; the answer shows it.`,
		Example: `  outlet hooks endpoint set checkout.discount https://acme.example/hooks/discount --tenant acme
  outlet hooks endpoint set login.post https://acme.example/hooks/login --tenant acme --header X-Team=auth`,
		Args: args("HOOK", "URL"),
		RunE: r.runTenant(tenant, func(c *call) error {
			e.URL = c.args[1]
			ep, err := c.client.TenantHooks.PutEndpoint(c.ctx(), c.tenant, c.args[0], e, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				printHookEndpoint(w, ep)
				field(w, "secret", ep.Secret)
			})
		}),
	}
	cmd.Flags().StringToStringVar(&e.Headers, "header", nil, "send this header with every call, as Name=value (repeat)")
	cmd.Flags().StringVar(&e.Secret, "secret", "", "sign calls with this secret (whsec_ and base64) instead of the current one")
	return cmd
}

func newHooksEndpointGetCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "get HOOK",
		Short:   "Show a tenant's sync endpoint for a hook",
		Example: "  outlet hooks endpoint get checkout.discount --tenant acme",
		Args:    args("HOOK"),
		RunE: r.runTenant(tenant, func(c *call) error {
			ep, err := c.client.TenantHooks.Endpoint(c.ctx(), c.tenant, c.args[0], c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printHookEndpoint(w, ep) })
		}),
	}
}

func newHooksEndpointSecretCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "secret HOOK",
		Short:   "Show the secret that signs the calls to a tenant's sync endpoint",
		Example: "  outlet hooks endpoint secret checkout.discount --tenant acme",
		Args:    args("HOOK"),
		RunE: r.runTenant(tenant, func(c *call) error {
			s, err := c.client.TenantHooks.EndpointSecret(c.ctx(), c.tenant, c.args[0], c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { field(w, "secret", s) })
		}),
	}
}

func newHooksEndpointDeleteCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "delete HOOK",
		Short:   "Remove a tenant's sync endpoint for a hook",
		Example: "  outlet hooks endpoint delete checkout.discount --tenant acme",
		Args:    args("HOOK"),
		RunE: r.runTenant(tenant, func(c *call) error {
			if err := c.client.TenantHooks.DeleteEndpoint(c.ctx(), c.tenant, c.args[0], c.keep()); err != nil {
				return err
			}
			c.note("Removed the sync endpoint of %s for tenant %s.", c.args[0], c.tenant)
			return nil
		}),
	}
}

func newHooksInvokeCmd(r *remote) *cobra.Command {
	var tenant, input, inputFile string
	cmd := &cobra.Command{
		Use:   "invoke HOOK (--input JSON | --input-file FILE)",
		Short: "Call a hook for a tenant, as your platform does",
		Long: `Call a hook for a tenant as your platform does during its own requests, and
show its answer: the output, what served it, the error of the tenant's code if
it failed, and how long it took.

When the tenant's code fails, the hook still answers, as its on_error says
(the input unchanged, or no output), so the command succeeds (exit status 0)
and shows the error beside the output. It fails only when the call is
refused: an unknown hook or tenant, or input its schema rejects.`,
		Example: `  outlet hooks invoke checkout.discount --tenant acme --input '{"total": 100}'
  outlet hooks invoke checkout.discount --tenant acme --input-file cart.json --json`,
		Args: args("HOOK"),
		RunE: r.runTenant(&tenant, func(c *call) error {
			in, err := jsonInput(c.cmd, "input", input, inputFile)
			if err != nil {
				return err
			}
			res, err := c.client.TenantHooks.Invoke(c.ctx(), c.tenant, c.args[0], in, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				field(w, "served by", res.ServedBy)
				indentJSON(w, "output", res.Output)
				if res.Error != nil {
					field(w, "error", res.Error.Code+": "+oneLine(res.Error.Message))
				} else {
					field(w, "error", "-")
				}
				field(w, "duration", fmt.Sprintf("%d ms", res.DurationMs))
			})
		}),
	}
	tenantFlag(cmd, &tenant)
	cmd.Flags().StringVar(&input, "input", "", "the hook's input, as JSON")
	cmd.Flags().StringVar(&inputFile, "input-file", "", "the hook's input, from a JSON file (- for stdin)")
	cmd.MarkFlagsMutuallyExclusive("input", "input-file")
	cmd.MarkFlagsOneRequired("input", "input-file")
	return cmd
}

func printHook(w io.Writer, h *outlet.Hook) {
	field(w, "name", h.Name)
	field(w, "description", dash(h.Description))
	field(w, "timeout", fmt.Sprintf("%d ms", h.TimeoutMs))
	field(w, "on error", h.OnError)
	indentJSON(w, "input schema", h.InputSchema)
	indentJSON(w, "output schema", h.OutputSchema)
	field(w, "created", stamp(h.CreatedAt))
	field(w, "updated", stamp(h.UpdatedAt))
}

func printHookEndpoint(w io.Writer, ep *outlet.HookEndpoint) {
	field(w, "hook", ep.Hook)
	field(w, "tenant", ep.TenantID)
	field(w, "url", ep.URL)
	field(w, "headers", pairs(ep.Headers))
	field(w, "created", stamp(ep.CreatedAt))
	field(w, "updated", stamp(ep.UpdatedAt))
}

// servedBy says what of a tenant's serves a hook.
func servedBy(th *client.TenantHook) string {
	switch {
	case th.Endpoint != nil:
		return "endpoint " + th.Endpoint.URL
	case len(th.Functions) > 0:
		return plural(len(th.Functions), "function ", "functions ") + list(th.Functions)
	default:
		return "nothing: the input passes through"
	}
}
