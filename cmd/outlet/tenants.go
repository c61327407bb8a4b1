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

func newTenantsCmd(r *remote) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "tenants",
		Aliases: []string{"tenant"},
		Short:   "Manage tenants: your platform's customers (admin key)",
		Long: `A tenant is one customer of your platform. Everything it owns — API keys,
endpoints, events, deliveries — lives under its id, which is your own
identifier for the customer. Managing tenants needs the admin key.`,
	}
	cmd.AddCommand(newTenantsCreateCmd(r), newTenantsListCmd(r), newTenantsGetCmd(r),
		newTenantsUpdateCmd(r), newTenantsDeleteCmd(r), newTenantsUsageCmd(r))
	return cmd
}

func newTenantsCreateCmd(r *remote) *cobra.Command {
	var t client.TenantCreate
	cmd := &cobra.Command{
		Use:   "create ID",
		Short: "Create a tenant",
		Long: `Create a tenant. ID is your platform's identifier for the customer: 1 to 64
letters, digits, '_', '.' or '-', starting with a letter or digit.`,
		Example: `  outlet tenants create acme --name "Acme Inc" --metadata plan=pro`,
		Args:    args("ID"),
		RunE: r.run(func(c *call) error {
			t.ID = c.args[0]
			tn, err := c.client.Tenants.Create(c.ctx(), t, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printTenant(w, tn) })
		}),
	}
	cmd.Flags().StringVar(&t.Name, "name", "", "the customer's name, for people")
	cmd.Flags().StringToStringVar(&t.Metadata, "metadata", nil, "labels as key=value (repeat, or separate with commas)")
	cmd.Flags().StringSliceVar(&t.AllowedHosts, "allowed-host", nil, "a host its functions may fetch from, such as api.stripe.com or *.example.com (repeat); default any public host")
	cmd.Flags().IntVar(&t.PublishRateLimit, "publish-rate-limit", 0, "events per second it may publish to each node (default: the server's --publish-rate-limit)")
	return cmd
}

func newTenantsListCmd(r *remote) *cobra.Command {
	var lo client.ListOptions
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List tenants, newest first",
		Example: "  outlet tenants list --limit 20",
		Args:    args(),
		RunE: r.run(func(c *call) error {
			page, err := c.client.Tenants.List(c.ctx(), lo, c.keep())
			if err != nil {
				return err
			}
			return printPage(c, page, func(w io.Writer) {
				row(w, "ID", "NAME", "METADATA", "CREATED")
				for _, t := range page.Data {
					row(w, t.ID, dash(t.Name), cut(pairs(t.Metadata), 40), ago(t.CreatedAt))
				}
			})
		}),
	}
	pageFlags(cmd, &lo)
	return cmd
}

func newTenantsGetCmd(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:     "get ID",
		Short:   "Show a tenant",
		Example: "  outlet tenants get acme",
		Args:    args("ID"),
		RunE: r.run(func(c *call) error {
			tn, err := c.client.Tenants.Get(c.ctx(), c.args[0], c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printTenant(w, tn) })
		}),
	}
}

func newTenantsUpdateCmd(r *remote) *cobra.Command {
	var name string
	var metadata map[string]string
	var clearMetadata, anyHost bool
	var hosts []string
	var rateLimit int
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Change a tenant's name, metadata or allowed hosts",
		Long: `Change a tenant's name, metadata or the hosts its functions may fetch from.
Only what you pass changes; --metadata and --allowed-host replace the whole
list.`,
		Example: `  outlet tenants update acme --name "Acme Corporation"
  outlet tenants update acme --metadata plan=enterprise,region=eu
  outlet tenants update acme --clear-metadata
  outlet tenants update acme --allowed-host api.stripe.com --allowed-host '*.acme.example'`,
		Args: args("ID"),
		RunE: r.run(func(c *call) error {
			var u client.TenantUpdate
			if c.cmd.Flags().Changed("name") {
				u.Name = &name
			}
			if clearMetadata {
				metadata = map[string]string{}
			}
			if metadata != nil {
				u.Metadata = &metadata
			}
			if anyHost {
				hosts = []string{}
			}
			if anyHost || c.cmd.Flags().Changed("allowed-host") {
				u.AllowedHosts = &hosts
			}
			if c.cmd.Flags().Changed("publish-rate-limit") {
				u.PublishRateLimit = &rateLimit
			}
			tn, err := c.client.Tenants.Update(c.ctx(), c.args[0], u, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printTenant(w, tn) })
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "the customer's name")
	cmd.Flags().StringToStringVar(&metadata, "metadata", nil, "replace the labels with these key=value pairs")
	cmd.Flags().BoolVar(&clearMetadata, "clear-metadata", false, "remove every label")
	cmd.Flags().StringSliceVar(&hosts, "allowed-host", nil, "let its functions fetch from these hosts only (repeat); replaces the list")
	cmd.Flags().BoolVar(&anyHost, "any-host", false, "let its functions fetch from any public host")
	cmd.Flags().IntVar(&rateLimit, "publish-rate-limit", 0, "events per second it may publish to each node; 0 for the server's --publish-rate-limit")
	cmd.MarkFlagsMutuallyExclusive("metadata", "clear-metadata")
	cmd.MarkFlagsMutuallyExclusive("allowed-host", "any-host")
	return cmd
}

func newTenantsDeleteCmd(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a tenant and everything it owns",
		Long: `Delete a tenant and everything it owns: its API keys, endpoints, events,
deliveries and attempts. This can't be undone.`,
		Example: "  outlet tenants delete acme",
		Args:    args("ID"),
		RunE: r.run(func(c *call) error {
			if err := c.client.Tenants.Delete(c.ctx(), c.args[0], c.keep()); err != nil {
				return err
			}
			c.note("Deleted tenant %s and everything it owned.", c.args[0])
			return nil
		}),
	}
}

func printTenant(w io.Writer, t *outlet.Tenant) {
	field(w, "id", t.ID)
	field(w, "name", dash(t.Name))
	field(w, "metadata", pairs(t.Metadata))
	field(w, "allowed hosts", allowedHosts(t.AllowedHosts))
	if t.PublishRateLimit > 0 {
		field(w, "publish rate limit", fmt.Sprintf("%d events/s per node", t.PublishRateLimit))
	} else {
		field(w, "publish rate limit", "the server's default")
	}
	field(w, "created", stamp(t.CreatedAt))
	field(w, "updated", stamp(t.UpdatedAt))
}

func allowedHosts(hosts []string) string {
	if len(hosts) == 0 {
		return "any public host"
	}
	return strings.Join(hosts, ", ")
}

// pageFlags adds --limit and --cursor to a list command.
func pageFlags(cmd *cobra.Command, lo *client.ListOptions) {
	cmd.Flags().IntVar(&lo.Limit, "limit", 0, "show at most this many (1 to 250; default 50)")
	cmd.Flags().StringVar(&lo.Cursor, "cursor", "", "show the page after this one: the next_cursor of the previous page")
}

func newTenantsUsageCmd(r *remote) *cobra.Command {
	var since, before string
	cmd := &cobra.Command{
		Use:   "usage ID",
		Short: "Show what a tenant used, per day, for billing",
		Long: `Show a tenant's usage per UTC day — events published, deliveries made,
attempts, function runs and their CPU time — and the total. By default from
the first of this month to today; --since and --before (exclusive) take days
as YYYY-MM-DD. A tenant's own key may read its usage.`,
		Example: `  outlet tenants usage acme
  outlet tenants usage acme --since 2026-10-01 --before 2026-11-01 --json`,
		Args: args("ID"),
		RunE: r.run(func(c *call) error {
			var s, b time.Time
			var err error
			if since != "" {
				if s, err = time.Parse(time.DateOnly, since); err != nil {
					return fmt.Errorf("--since %q is not a day such as 2026-11-01", since)
				}
			}
			if before != "" {
				if b, err = time.Parse(time.DateOnly, before); err != nil {
					return fmt.Errorf("--before %q is not a day such as 2026-12-01", before)
				}
			}
			u, err := c.client.Tenants.Usage(c.ctx(), c.args[0], s, b, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				row(w, "DAY", "EVENTS", "DELIVERIES", "ATTEMPTS", "FUNCTION RUNS", "FUNCTION CPU")
				for _, d := range u.Days {
					row(w, d.Day, d.Events, d.Deliveries, d.Attempts, d.FunctionInvocations, fmt.Sprintf("%d ms", d.FunctionCPUMs))
				}
				t := u.Total
				row(w, "total "+u.Since+" to "+u.Before, t.Events, t.Deliveries, t.Attempts, t.FunctionInvocations, fmt.Sprintf("%d ms", t.FunctionCPUMs))
			})
		}),
	}
	cmd.Flags().StringVar(&since, "since", "", "the first day, YYYY-MM-DD (default: the first of this month)")
	cmd.Flags().StringVar(&before, "before", "", "the day after the last, YYYY-MM-DD (default: tomorrow)")
	return cmd
}
