package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

func newEndpointsCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:     "endpoints",
		Aliases: []string{"endpoint"},
		Short:   "Manage a tenant's webhook endpoints",
		Long: `An endpoint is a URL of a tenant that receives its events: a signed POST per
event of the types it subscribes to, retried until it answers 2xx or the
retry schedule runs out.`,
	}
	tenantFlag(cmd, &tenant)
	cmd.AddCommand(newEndpointsCreateCmd(r, &tenant), newEndpointsListCmd(r, &tenant), newEndpointsGetCmd(r, &tenant),
		newEndpointsUpdateCmd(r, &tenant), newEndpointsDeleteCmd(r, &tenant), newEndpointsSecretCmd(r, &tenant),
		newEndpointsRotateSecretCmd(r, &tenant), newEndpointsRecoverCmd(r, &tenant))
	return cmd
}

func newEndpointsCreateCmd(r *remote, tenant *string) *cobra.Command {
	var ep client.EndpointCreate
	cmd := &cobra.Command{
		Use:   "create URL",
		Short: "Add a webhook endpoint",
		Long: `Add a webhook endpoint for a tenant. Without --event-type it receives every
type; a type may be a "prefix.*" wildcard. The answer shows the endpoint's
signing secret (whsec_…), which the receiver verifies requests with; read it
again later with 'outlet endpoints secret'.`,
		Example: `  outlet endpoints create https://acme.example/webhooks --tenant acme --event-type 'invoice.*'
  outlet endpoints create https://acme.example/hooks --tenant acme --header X-Team=billing`,
		Args: args("URL"),
		RunE: r.runTenant(tenant, func(c *call) error {
			ep.URL = c.args[0]
			created, err := c.client.Endpoints.Create(c.ctx(), c.tenant, ep, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				printEndpoint(w, created)
				field(w, "secret", created.Secret)
			})
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&ep.Description, "description", "", "what the endpoint is for, for people")
	fs.StringSliceVar(&ep.EventTypes, "event-type", nil, "send only events of this type (repeat; prefix.* wildcards work); default every type")
	fs.StringToStringVar(&ep.Headers, "header", nil, "send this header with every request, as Name=value (repeat)")
	fs.StringToStringVar(&ep.Metadata, "metadata", nil, "labels as key=value (repeat)")
	fs.BoolVar(&ep.Disabled, "disabled", false, "create it disabled: no deliveries until enabled")
	fs.StringVar(&ep.Secret, "secret", "", "use this signing secret (whsec_ and base64) instead of a new random one")
	fs.IntVar(&ep.MaxInFlight, "max-in-flight", 0, "attempts in flight to it at once, per node (default: the server's --endpoint-max-in-flight)")
	fs.IntVar(&ep.RateLimit, "rate-limit", 0, "attempts per second to it, per node (default: no limit)")
	fs.BoolVar(&ep.Ordered, "ordered", false, "send its events one at a time, in publish order")
	return cmd
}

func newEndpointsListCmd(r *remote, tenant *string) *cobra.Command {
	var lo client.ListOptions
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List a tenant's endpoints, newest first",
		Example: "  outlet endpoints list --tenant acme",
		Args:    args(),
		RunE: r.runTenant(tenant, func(c *call) error {
			page, err := c.client.Endpoints.List(c.ctx(), c.tenant, lo, c.keep())
			if err != nil {
				return err
			}
			return printPage(c, page, func(w io.Writer) {
				row(w, "ID", "URL", "EVENT TYPES", "STATUS", "CREATED")
				for _, ep := range page.Data {
					row(w, ep.ID, cut(ep.URL, 60), cut(eventTypes(ep.EventTypes), 40), endpointStatus(ep), ago(ep.CreatedAt))
				}
			})
		}),
	}
	pageFlags(cmd, &lo)
	return cmd
}

func newEndpointsGetCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "get ENDPOINT_ID",
		Short:   "Show an endpoint",
		Example: "  outlet endpoints get ep_01jq2w3e4r5t6y7u8i9o0p1a2s --tenant acme",
		Args:    args("ENDPOINT_ID"),
		RunE: r.runTenant(tenant, func(c *call) error {
			ep, err := c.client.Endpoints.Get(c.ctx(), c.tenant, c.args[0], c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printEndpoint(w, ep) })
		}),
	}
}

func newEndpointsUpdateCmd(r *remote, tenant *string) *cobra.Command {
	var (
		u                              client.EndpointUpdate
		url, description               string
		types                          []string
		headers, metadata              map[string]string
		allTypes, clearHeaders         bool
		clearMetadata, disable, enable bool
		maxInFlight, rateLimit         int
		ordered                        bool
	)
	cmd := &cobra.Command{
		Use:   "update ENDPOINT_ID",
		Short: "Change an endpoint, or disable or enable it",
		Long: `Change an endpoint. Only what you pass changes; --event-type, --header and
--metadata replace the whole list. Enabling an endpoint also clears its
failing streak. To change the secret, use 'outlet endpoints rotate-secret'.`,
		Example: `  outlet endpoints update ep_01jq… --tenant acme --endpoint-url https://acme.example/v2/webhooks
  outlet endpoints update ep_01jq… --tenant acme --event-type invoice.paid --event-type invoice.voided
  outlet endpoints update ep_01jq… --tenant acme --disable`,
		Args: args("ENDPOINT_ID"),
		RunE: r.runTenant(tenant, func(c *call) error {
			fs := c.cmd.Flags()
			if fs.Changed("endpoint-url") {
				u.URL = &url
			}
			if fs.Changed("description") {
				u.Description = &description
			}
			if allTypes {
				types = []string{}
			}
			if allTypes || fs.Changed("event-type") {
				u.EventTypes = &types
			}
			u.Headers = replacement(headers, clearHeaders)
			u.Metadata = replacement(metadata, clearMetadata)
			if disable || enable {
				u.Disabled = &disable
			}
			if fs.Changed("max-in-flight") {
				u.MaxInFlight = &maxInFlight
			}
			if fs.Changed("rate-limit") {
				u.RateLimit = &rateLimit
			}
			if fs.Changed("ordered") {
				u.Ordered = &ordered
			}
			ep, err := c.client.Endpoints.Update(c.ctx(), c.tenant, c.args[0], u, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printEndpoint(w, ep) })
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&url, "endpoint-url", "", "send to this URL from now on")
	fs.StringVar(&description, "description", "", "what the endpoint is for")
	fs.StringSliceVar(&types, "event-type", nil, "send only events of these types (repeat); replaces the list")
	fs.BoolVar(&allTypes, "all-event-types", false, "send events of every type")
	fs.StringToStringVar(&headers, "header", nil, "send these headers, as Name=value (repeat); replaces them all")
	fs.BoolVar(&clearHeaders, "clear-headers", false, "send no custom headers")
	fs.StringToStringVar(&metadata, "metadata", nil, "replace the labels with these key=value pairs")
	fs.BoolVar(&clearMetadata, "clear-metadata", false, "remove every label")
	fs.BoolVar(&disable, "disable", false, "stop deliveries to the endpoint")
	fs.BoolVar(&enable, "enable", false, "resume deliveries to the endpoint")
	fs.IntVar(&maxInFlight, "max-in-flight", 0, "attempts in flight to it at once, per node; 0 for the server's default")
	fs.IntVar(&rateLimit, "rate-limit", 0, "attempts per second to it, per node; 0 for no limit")
	fs.BoolVar(&ordered, "ordered", false, "send its events one at a time in publish order (--ordered=false to stop)")
	cmd.MarkFlagsMutuallyExclusive("event-type", "all-event-types")
	cmd.MarkFlagsMutuallyExclusive("header", "clear-headers")
	cmd.MarkFlagsMutuallyExclusive("metadata", "clear-metadata")
	cmd.MarkFlagsMutuallyExclusive("disable", "enable")
	return cmd
}

// replacement is the map an update sends: nil keeps, empty clears.
func replacement(m map[string]string, clear bool) *map[string]string {
	if clear {
		m = map[string]string{}
	}
	if m == nil {
		return nil
	}
	return &m
}

func newEndpointsDeleteCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "delete ENDPOINT_ID",
		Short:   "Delete an endpoint",
		Long:    "Delete an endpoint. Its deliveries stay listed, and are not attempted again.",
		Example: "  outlet endpoints delete ep_01jq2w3e4r5t6y7u8i9o0p1a2s --tenant acme",
		Args:    args("ENDPOINT_ID"),
		RunE: r.runTenant(tenant, func(c *call) error {
			if err := c.client.Endpoints.Delete(c.ctx(), c.tenant, c.args[0], c.keep()); err != nil {
				return err
			}
			c.note("Deleted endpoint %s.", c.args[0])
			return nil
		}),
	}
}

func newEndpointsSecretCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:   "secret ENDPOINT_ID",
		Short: "Show an endpoint's signing secret",
		Long: `Show the secrets that sign an endpoint's requests: the current one and, for a
while after a rotation, the previous one, which still signs beside it.`,
		Example: "  outlet endpoints secret ep_01jq2w3e4r5t6y7u8i9o0p1a2s --tenant acme",
		Args:    args("ENDPOINT_ID"),
		RunE: r.runTenant(tenant, func(c *call) error {
			s, err := c.client.Endpoints.Secret(c.ctx(), c.tenant, c.args[0], c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printSecret(w, s) })
		}),
	}
}

func newEndpointsRotateSecretCmd(r *remote, tenant *string) *cobra.Command {
	var secret string
	var overlap time.Duration
	cmd := &cobra.Command{
		Use:   "rotate-secret ENDPOINT_ID",
		Short: "Give an endpoint a new signing secret",
		Long: `Give an endpoint a new signing secret. The old one keeps signing beside it for
--overlap, so the receiver can switch without refusing a request; 0 stops it
at once.`,
		Example: `  outlet endpoints rotate-secret ep_01jq… --tenant acme
  outlet endpoints rotate-secret ep_01jq… --tenant acme --overlap 1h`,
		Args: args("ENDPOINT_ID"),
		RunE: r.runTenant(tenant, func(c *call) error {
			rot := client.SecretRotation{Secret: secret}
			if c.cmd.Flags().Changed("overlap") {
				rot.OverlapSeconds = new(int64(overlap / time.Second))
			}
			s, err := c.client.Endpoints.RotateSecret(c.ctx(), c.tenant, c.args[0], rot, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printSecret(w, s) })
		}),
	}
	cmd.Flags().StringVar(&secret, "secret", "", "the new secret (whsec_ and base64); default a new random one")
	cmd.Flags().DurationVar(&overlap, "overlap", 24*time.Hour, "how long the old secret keeps signing too (up to 720h)")
	return cmd
}

func newEndpointsRecoverCmd(r *remote, tenant *string) *cobra.Command {
	var since time.Time
	cmd := &cobra.Command{
		Use:   "recover ENDPOINT_ID --since TIME",
		Short: "Re-send an endpoint's failed deliveries",
		Long: `Re-send, now, every failed delivery of an endpoint created at or after
--since: after an outage of the receiver, for instance. Each gets one more
attempt.`,
		Example: `  outlet endpoints recover ep_01jq… --tenant acme --since 6h
  outlet endpoints recover ep_01jq… --tenant acme --since 2026-01-02T15:04:05Z`,
		Args: args("ENDPOINT_ID"),
		RunE: r.runTenant(tenant, func(c *call) error {
			n, err := c.client.Endpoints.Recover(c.ctx(), c.tenant, c.args[0], since, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				fmt.Fprintf(w, "Re-sending %d failed %s of endpoint %s created since %s.\n",
					n, plural(n, "delivery", "deliveries"), c.args[0], stamp(since))
			})
		}),
	}
	cmd.Flags().Var(newTimeValue(&since), "since", "re-send deliveries created at or after this time: RFC 3339, or how long ago (6h, 7d)")
	cmd.MarkFlagRequired("since")
	return cmd
}

func printEndpoint(w io.Writer, ep *outlet.Endpoint) {
	field(w, "id", ep.ID)
	field(w, "tenant", ep.TenantID)
	field(w, "url", ep.URL)
	field(w, "description", dash(ep.Description))
	field(w, "event types", eventTypes(ep.EventTypes))
	field(w, "status", endpointStatus(ep))
	field(w, "headers", pairs(ep.Headers))
	field(w, "metadata", pairs(ep.Metadata))
	field(w, "flow", endpointFlow(ep))
	field(w, "created", stamp(ep.CreatedAt))
	field(w, "updated", stamp(ep.UpdatedAt))
}

func printSecret(w io.Writer, s *client.EndpointSecret) {
	field(w, "secret", s.Secret)
	if s.PreviousSecret != "" {
		field(w, "previous secret", s.PreviousSecret)
		field(w, "previous signs until", stampPtr(s.PreviousSecretExpiresAt))
	}
}

// endpointStatus is enabled, failing (since when) or disabled (why).
func endpointStatus(ep *outlet.Endpoint) string {
	switch {
	case ep.Disabled && ep.DisabledReason != "":
		return "disabled (" + cut(ep.DisabledReason, 30) + ")"
	case ep.Disabled:
		return "disabled"
	case ep.FailingSince != nil:
		return "failing since " + ago(*ep.FailingSince)
	default:
		return "enabled"
	}
}

func eventTypes(types []string) string {
	if len(types) == 0 {
		return "*"
	}
	return strings.Join(types, ", ")
}

// endpointFlow says how deliveries flow to an endpoint.
func endpointFlow(ep *outlet.Endpoint) string {
	parts := []string{"in flight: server default"}
	if ep.MaxInFlight > 0 {
		parts[0] = fmt.Sprintf("at most %d in flight", ep.MaxInFlight)
	}
	if ep.RateLimit > 0 {
		parts = append(parts, fmt.Sprintf("at most %d/s", ep.RateLimit))
	}
	if ep.Ordered {
		parts = append(parts, "ordered")
	}
	return strings.Join(parts, ", ") + " (per node)"
}
