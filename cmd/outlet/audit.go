package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet/client"
)

func newAuditCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show who changed what, from where and when",
		Long: `The audit log records every change made through the API — by the admin key,
a tenant's key or a portal session — with the key's or session's id (never
the key), the client's address, and what changed (never a secret's value).
Publishing events and invoking hooks are not changes, and aren't in it.`,
	}
	tenantFlag(cmd, &tenant)
	cmd.AddCommand(newAuditListCmd(r, &tenant))
	return cmd
}

func newAuditListCmd(r *remote, tenant *string) *cobra.Command {
	var f client.AuditFilter
	var wide bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the audit log, newest first: a tenant's with --tenant, else every tenant's (admin key)",
		Long: `List the audit log, newest first. With --tenant (or $OUTLET_TENANT) it is that
tenant's own log, which its key may read; without, the operator's log of
every tenant's changes and its own, which needs the admin key (--of-tenant
narrows it to one tenant, deleted ones included). --wide adds the address
and the summary of each change.`,
		Example: `  outlet audit list --tenant acme --since 24h
  outlet audit list --action secret.deleted --wide
  outlet audit list --of-tenant acme --actor key_01jq2w3e4r5t6y7u8i9o0p1a2s`,
		Args: args(),
		RunE: r.run(func(c *call) error {
			t, _ := optionalTenant(*tenant) // "": the operator's log
			page, err := c.client.AuditLog.List(c.ctx(), t, f, c.keep())
			if err != nil {
				return err
			}
			return printPage(c, page, func(w io.Writer) {
				head := []any{"WHEN", "TENANT", "ACTOR", "ACTION", "RESOURCE"}
				if wide {
					head = append(head, "ADDRESS", "SUMMARY")
				}
				row(w, head...)
				for _, e := range page.Data {
					cells := []any{ago(e.CreatedAt), dash(e.TenantID), string(e.ActorType) + " " + e.ActorID, e.Action, e.ResourceID}
					if wide {
						cells = append(cells, e.Address, string(e.Summary))
					}
					row(w, cells...)
				}
			})
		}),
	}
	fs := cmd.Flags()
	fs.BoolVar(&wide, "wide", false, "add the ADDRESS and SUMMARY columns")
	fs.StringVar(&f.Tenant, "of-tenant", "", "on the operator's log, only this tenant's changes")
	fs.StringVar(&f.Actor, "actor", "", "only changes by this key (key_…), portal session (ps_…), or admin")
	fs.StringVar(&f.Action, "action", "", "only changes of this action, e.g. endpoint.created")
	fs.StringVar(&f.ResourceType, "resource-type", "", "only changes of this kind of resource, e.g. endpoint")
	fs.StringVar(&f.ResourceID, "resource-id", "", "only changes of this resource: its id, or its name")
	fs.Var(newTimeValue(&f.Since), "since", "only changes made at or after this time: RFC 3339, or how long ago (30m, 24h, 7d)")
	fs.Var(newTimeValue(&f.Before), "before", "only changes made before this time: RFC 3339, or how long ago")
	fs.IntVar(&f.Limit, "limit", 0, "show at most this many (1 to 250; default 50)")
	fs.StringVar(&f.Cursor, "cursor", "", "show the page after this one: the next_cursor of the previous page")
	return cmd
}
