package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

func newDeliveriesCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:     "deliveries",
		Aliases: []string{"delivery"},
		Short:   "Show what was sent where, and send again",
		Long: `A delivery is one event sent to one endpoint, with its attempts. It is
pending until an attempt succeeds (a 2xx answer), or failed once the retry
schedule has run out.`,
	}
	tenantFlag(cmd, &tenant)
	cmd.AddCommand(newDeliveriesListCmd(r, &tenant), newDeliveriesGetCmd(r, &tenant),
		newDeliveriesAttemptsCmd(r, &tenant), newDeliveriesRetryCmd(r, &tenant))
	return cmd
}

func newDeliveriesListCmd(r *remote, tenant *string) *cobra.Command {
	var f client.DeliveryFilter
	var wide bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's deliveries, newest first",
		Long: `List a tenant's deliveries, newest first. Ids are shown whole, to paste into
the next command; --wide adds when the last attempt was and when the delivery
was created.`,
		Example: `  outlet deliveries list --tenant acme --status failed --since 24h
  outlet deliveries list --tenant acme --event-id evt_01jq2w3e4r5t6y7u8i9o0p1a2s`,
		Args: args(),
		RunE: r.runTenant(tenant, func(c *call) error {
			page, err := c.client.Deliveries.List(c.ctx(), c.tenant, f, c.keep())
			if err != nil {
				return err
			}
			return printPage(c, page, func(w io.Writer) {
				// Three whole ids make a wide table: the times that matter
				// less make room for them unless --wide.
				head := []any{"ID", "EVENT", "TYPE", "ENDPOINT", "STATUS", "ATTEMPTS", "NEXT ATTEMPT"}
				if wide {
					head = append(head, "LAST ATTEMPT", "CREATED")
				}
				row(w, head...)
				for _, d := range page.Data {
					cells := []any{d.ID, d.EventID, d.EventType, d.Target.ID, d.Status, d.Attempts, agoPtr(d.NextAttemptAt)}
					if wide {
						cells = append(cells, agoPtr(d.LastAttemptAt), ago(d.CreatedAt))
					}
					row(w, cells...)
				}
			})
		}),
	}
	fs := cmd.Flags()
	fs.BoolVar(&wide, "wide", false, "add the LAST ATTEMPT and CREATED columns")
	fs.StringVar(&f.EventID, "event-id", "", "only deliveries of this event")
	fs.StringVar(&f.EndpointID, "endpoint-id", "", "only deliveries to this endpoint")
	fs.StringVar(&f.Function, "function", "", "only deliveries to this function")
	fs.StringVar((*string)(&f.Status), "status", "", "only deliveries in this state: pending, succeeded or failed")
	fs.Var(newTimeValue(&f.Since), "since", "only deliveries created at or after this time: RFC 3339, or how long ago (30m, 24h, 7d)")
	fs.Var(newTimeValue(&f.Before), "before", "only deliveries created before this time: RFC 3339, or how long ago")
	fs.IntVar(&f.Limit, "limit", 0, "show at most this many (1 to 250; default 50)")
	fs.StringVar(&f.Cursor, "cursor", "", "show the page after this one: the next_cursor of the previous page")
	return cmd
}

func newDeliveriesGetCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "get DELIVERY_ID",
		Short:   "Show a delivery",
		Example: "  outlet deliveries get dlv_01jq2w3e4r5t6y7u8i9o0p1a2s --tenant acme",
		Args:    args("DELIVERY_ID"),
		RunE: r.runTenant(tenant, func(c *call) error {
			d, err := c.client.Deliveries.Get(c.ctx(), c.tenant, c.args[0], c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printDelivery(w, d) })
		}),
	}
}

func newDeliveriesAttemptsCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:   "attempts DELIVERY_ID",
		Short: "List a delivery's attempts, first to last",
		Long: `List a delivery's attempts, first to last: why each was made, the receiver's
status code, how long it took, and what went wrong. --json adds the
receiver's answer headers and body.`,
		Example: "  outlet deliveries attempts dlv_01jq2w3e4r5t6y7u8i9o0p1a2s --tenant acme",
		Args:    args("DELIVERY_ID"),
		RunE: r.runTenant(tenant, func(c *call) error {
			as, err := c.client.Deliveries.Attempts(c.ctx(), c.tenant, c.args[0], c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				row(w, "#", "TRIGGER", "STARTED", "STATUS", "DURATION", "RESULT")
				for _, a := range as {
					row(w, a.Number, a.Trigger, ago(a.StartedAt), statusCode(a.StatusCode), fmt.Sprintf("%dms", a.DurationMs), result(a))
				}
			})
		}),
	}
}

func newDeliveriesRetryCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:   "retry DELIVERY_ID",
		Short: "Make one more attempt of a delivery now",
		Long: `Make one more attempt of a delivery now. A delivery that had failed or
succeeded gets that one attempt; a pending one keeps its schedule afterwards.`,
		Example: "  outlet deliveries retry dlv_01jq2w3e4r5t6y7u8i9o0p1a2s --tenant acme",
		Args:    args("DELIVERY_ID"),
		RunE: r.runTenant(tenant, func(c *call) error {
			d, err := c.client.Deliveries.Retry(c.ctx(), c.tenant, c.args[0], c.keep())
			if err != nil {
				return err
			}
			c.note("Attempting %s again now; see 'outlet deliveries attempts %s --tenant %s'.", d.ID, d.ID, c.tenant)
			return c.print(func(w io.Writer) { printDelivery(w, d) })
		}),
	}
}

func printDelivery(w io.Writer, d *outlet.Delivery) {
	field(w, "id", d.ID)
	field(w, "tenant", d.TenantID)
	field(w, "event", d.EventID)
	field(w, "event type", d.EventType)
	field(w, "target", string(d.Target.Type)+" "+d.Target.ID)
	field(w, "status", d.Status)
	field(w, "attempts", d.Attempts)
	field(w, "last attempt", stampPtr(d.LastAttemptAt))
	field(w, "next attempt", stampPtr(d.NextAttemptAt))
	field(w, "created", stamp(d.CreatedAt))
	field(w, "updated", stamp(d.UpdatedAt))
}

func statusCode(code int) string {
	if code == 0 {
		return "-"
	}
	return fmt.Sprint(code)
}

// result sums up an attempt: ok, or what went wrong.
func result(a *outlet.Attempt) string {
	switch {
	case a.Succeeded:
		return "ok"
	case a.Error != "":
		return cut(a.Error, 60)
	default:
		return "failed"
	}
}
