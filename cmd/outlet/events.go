package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet/client"
)

func newEventsCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:     "events",
		Aliases: []string{"event"},
		Short:   "Publish a tenant's events and read them back",
		Long: `An event is something that happened on your platform, such as invoice.paid,
published once for a tenant and sent to each of its endpoints that subscribes
to the type.`,
	}
	tenantFlag(cmd, &tenant)
	cmd.AddCommand(newEventsPublishCmd(r, &tenant), newEventsListCmd(r, &tenant), newEventsGetCmd(r, &tenant))
	return cmd
}

func newEventsPublishCmd(r *remote, tenant *string) *cobra.Command {
	var p client.Publish
	var data, dataFile, idempotencyKey, file string
	var batchSize int
	var at time.Time
	cmd := &cobra.Command{
		Use:   "publish --type TYPE --data JSON | --file EVENTS.ndjson",
		Short: "Publish an event, or every event of a file",
		Long: `Publish an event for a tenant. It is stored durably before the command
returns, then sent to every matching endpoint. Publishing again with the same
--idempotency-key (or --id) answers with the first event and sends nothing
twice.

With --file, publish the events of a file of JSON lines (- for stdin), one
event a line, in the fields of a batch publish: {"type":…,"data":…} and
optionally "id", "timestamp" and "idempotency_key". They are sent in order,
in batches of --batch-size (at most 1,000), each stored in one commit, and
the command prints a result per line: accepted, replayed (published before
under that id or key) or failed, with why. A failed line doesn't stop the
others, but makes the command exit with status 1; a batch refused whole (a
rate limit that retries didn't get past, say) stops it, and it says from
which line on nothing was sent. Give every line an idempotency_key (or an
id) and running the command again after a failure publishes nothing twice.
--json prints each line's result as a line of JSON, with its "line" number.`,
		Example: `  outlet events publish --tenant acme --type invoice.paid --data '{"invoice":"in_123","amount":4200}'
  outlet events publish --tenant acme --type invoice.paid --data-file event.json --idempotency-key in_123-paid
  jq -c .data event.json | outlet events publish --tenant acme --type invoice.paid --data-file -
  outlet events publish --tenant acme --file backfill.ndjson
  outlet events publish --tenant acme --file backfill.ndjson --json | jq -c 'select(.error)'`,
		Args: args(),
		RunE: r.runTenant(tenant, func(c *call) error {
			if file != "" {
				if batchSize < 1 || batchSize > client.MaxBatch {
					return fmt.Errorf("--batch-size must be 1 to %d", client.MaxBatch)
				}
				return publishFile(c, file, batchSize)
			}
			if p.Type == "" {
				return fmt.Errorf("give the event's type with --type TYPE, or publish the events of a file with --file PATH")
			}
			raw, err := jsonInput(c.cmd, "data", data, dataFile)
			if err != nil {
				return err
			}
			if raw == nil {
				return fmt.Errorf("give the event's data with --data JSON or --data-file PATH")
			}
			p.Data = raw
			if !at.IsZero() {
				p.Timestamp = &at
			}
			p.IdempotencyKey = idempotencyKey
			res, err := c.client.Events.Publish(c.ctx(), c.tenant, p, c.keep())
			if err != nil {
				return err
			}
			if res.Replayed {
				c.note("Already published: this is the first event with that id or idempotency key; nothing new is sent.")
			}
			return c.print(func(w io.Writer) {
				field(w, "id", res.ID)
				field(w, "type", res.Type)
				field(w, "timestamp", stamp(res.Timestamp))
				field(w, "deliveries", res.Deliveries)
				field(w, "replayed", yesNo(res.Replayed))
			})
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&p.Type, "type", "", "the event type, such as invoice.paid")
	fs.StringVar(&data, "data", "", "the event's data as JSON: what receivers get as \"data\"")
	fs.StringVar(&dataFile, "data-file", "", "read the event's data from this file (- for stdin)")
	fs.StringVar(&idempotencyKey, "idempotency-key", "", "publish at most once per key")
	fs.StringVar(&p.ID, "id", "", "the event's id, chosen by you; default a new evt_… id")
	fs.Var(newTimeValue(&at), "timestamp", "when the event happened (RFC 3339); default now")
	fs.StringVar(&file, "file", "", "publish the events of this file of JSON lines, one event a line (- for stdin)")
	fs.IntVar(&batchSize, "batch-size", client.MaxBatch, "with --file, events sent in one request")
	cmd.MarkFlagsMutuallyExclusive("data", "data-file")
	for _, single := range []string{"type", "data", "data-file", "idempotency-key", "id", "timestamp"} {
		cmd.MarkFlagsMutuallyExclusive("file", single)
	}
	return cmd
}

func newEventsListCmd(r *remote, tenant *string) *cobra.Command {
	var f client.EventFilter
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's events, newest first",
		Example: `  outlet events list --tenant acme --type invoice.paid --since 24h
  outlet events list --tenant acme --json | jq -r '.data[].id'`,
		Args: args(),
		RunE: r.runTenant(tenant, func(c *call) error {
			page, err := c.client.Events.List(c.ctx(), c.tenant, f, c.keep())
			if err != nil {
				return err
			}
			return printPage(c, page, func(w io.Writer) {
				row(w, "ID", "TYPE", "TIMESTAMP", "CREATED")
				for _, e := range page.Data {
					row(w, e.ID, e.Type, ago(e.Timestamp), ago(e.CreatedAt))
				}
			})
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&f.Type, "type", "", "only events of this type")
	fs.Var(newTimeValue(&f.Since), "since", "only events created at or after this time: RFC 3339, or how long ago (30m, 24h, 7d)")
	fs.Var(newTimeValue(&f.Before), "before", "only events created before this time: RFC 3339, or how long ago")
	fs.IntVar(&f.Limit, "limit", 0, "show at most this many (1 to 250; default 50)")
	fs.StringVar(&f.Cursor, "cursor", "", "show the page after this one: the next_cursor of the previous page")
	return cmd
}

func newEventsGetCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "get EVENT_ID",
		Short:   "Show an event with its data",
		Example: "  outlet events get evt_01jq2w3e4r5t6y7u8i9o0p1a2s --tenant acme",
		Args:    args("EVENT_ID"),
		RunE: r.runTenant(tenant, func(c *call) error {
			e, err := c.client.Events.Get(c.ctx(), c.tenant, c.args[0], c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				field(w, "id", e.ID)
				field(w, "tenant", e.TenantID)
				field(w, "type", e.Type)
				field(w, "timestamp", stamp(e.Timestamp))
				field(w, "idempotency key", dash(e.IdempotencyKey))
				field(w, "created", stamp(e.CreatedAt))
				if e.Data == nil {
					field(w, "data", "- (removed after the retention period)")
				} else {
					indentJSON(w, "data", e.Data)
				}
			})
		}),
	}
}
