package main

import (
	"encoding/json"
	"io"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

func newEventTypesCmd(r *remote) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "event-types",
		Aliases: []string{"event-type"},
		Short:   "Manage the event catalog: the types of event your platform publishes",
		Long: `The event catalog lists the types of event your platform publishes, such as
invoice.paid, for your customers to choose from. A type may carry a JSON
Schema (draft 2020-12 unless it says otherwise): events of the type whose data
doesn't match it are refused with 422. A sample shows customers what to expect.

Changing the catalog needs the admin key. Listing and reading it with --tenant
works with that tenant's key too.`,
	}
	cmd.AddCommand(newEventTypesCreateCmd(r), newEventTypesListCmd(r), newEventTypesGetCmd(r),
		newEventTypesUpdateCmd(r), newEventTypesDeleteCmd(r))
	return cmd
}

// eventTypeFlags are the flags that set an event type's content.
type eventTypeFlags struct {
	description            string
	schema, schemaFile     string
	sample, sampleFile     string
	deprecated             bool
	schemaJSON, sampleJSON json.RawMessage
}

func (f *eventTypeFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.description, "description", "", "what the event means, for your customers")
	fs.StringVar(&f.schema, "schema", "", "JSON Schema the event data must match, inline")
	fs.StringVar(&f.schemaFile, "schema-file", "", "JSON Schema the event data must match, from a file (- for stdin)")
	fs.StringVar(&f.sample, "sample", "", "example event data, inline; it must match the schema")
	fs.StringVar(&f.sampleFile, "sample-file", "", "example event data, from a file (- for stdin)")
	fs.BoolVar(&f.deprecated, "deprecated", false, "mark the type deprecated: still accepted, but customers are told to move on")
	cmd.MarkFlagsMutuallyExclusive("schema", "schema-file")
	cmd.MarkFlagsMutuallyExclusive("sample", "sample-file")
}

// read reads the schema and sample flags.
func (f *eventTypeFlags) read(cmd *cobra.Command) error {
	var err error
	if f.schemaJSON, err = jsonInput(cmd, "schema", f.schema, f.schemaFile); err != nil {
		return err
	}
	f.sampleJSON, err = jsonInput(cmd, "sample", f.sample, f.sampleFile)
	return err
}

func newEventTypesCreateCmd(r *remote) *cobra.Command {
	var f eventTypeFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Add an event type to the catalog",
		Long: `Add an event type to the catalog. NAME is dotted, such as invoice.paid: parts
of letters, digits, '_' or '-'.`,
		Example: `  outlet event-types create invoice.paid --description "An invoice was paid" \
    --schema-file invoice-paid.schema.json --sample '{"invoice":"in_123","amount":4200}'`,
		Args: args("NAME"),
		RunE: r.run(func(c *call) error {
			if err := f.read(c.cmd); err != nil {
				return err
			}
			et, err := c.client.EventTypes.Create(c.ctx(), client.EventTypeCreate{
				Name: c.args[0], Description: f.description, Schema: f.schemaJSON, Sample: f.sampleJSON, Deprecated: f.deprecated,
			}, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printEventType(w, et) })
		}),
	}
	f.add(cmd)
	return cmd
}

func newEventTypesListCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the event catalog",
		Long: `List the event catalog. With --tenant (or OUTLET_TENANT) it is read as that
tenant sees it, which works with the tenant's key.`,
		Example: `  outlet event-types list
  outlet event-types list --tenant acme --key $ACME_KEY`,
		Args: args(),
		RunE: r.run(func(c *call) error {
			var ets []*outlet.EventType
			var err error
			if t, ok := optionalTenant(tenant); ok {
				ets, err = c.client.Catalog.List(c.ctx(), t, c.keep())
			} else {
				ets, err = c.client.EventTypes.List(c.ctx(), c.keep())
			}
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				row(w, "NAME", "DESCRIPTION", "SCHEMA", "DEPRECATED", "UPDATED")
				for _, et := range ets {
					row(w, et.Name, cut(dash(et.Description), 50), yesNo(et.Schema != nil), yesNo(et.Deprecated), ago(et.UpdatedAt))
				}
			})
		}),
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "read the catalog as this tenant sees it [$OUTLET_TENANT]")
	return cmd
}

func newEventTypesGetCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Show an event type with its schema and sample",
		Example: `  outlet event-types get invoice.paid
  outlet event-types get invoice.paid --json | jq .schema`,
		Args: args("NAME"),
		RunE: r.run(func(c *call) error {
			var et *outlet.EventType
			var err error
			if t, ok := optionalTenant(tenant); ok {
				et, err = c.client.Catalog.Get(c.ctx(), t, c.args[0], c.keep())
			} else {
				et, err = c.client.EventTypes.Get(c.ctx(), c.args[0], c.keep())
			}
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printEventType(w, et) })
		}),
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "read the catalog as this tenant sees it [$OUTLET_TENANT]")
	return cmd
}

func newEventTypesUpdateCmd(r *remote) *cobra.Command {
	var f eventTypeFlags
	cmd := &cobra.Command{
		Use:   "update NAME",
		Short: "Change an event type's description, schema, sample or deprecation",
		Long: `Change an event type. Only what you pass changes. --schema null (or
--sample null) removes it; a new schema must accept the sample.`,
		Example: `  outlet event-types update invoice.paid --schema-file invoice-paid.v2.schema.json
  outlet event-types update invoice.paid --deprecated
  outlet event-types update invoice.paid --schema null --sample null`,
		Args: args("NAME"),
		RunE: r.run(func(c *call) error {
			if err := f.read(c.cmd); err != nil {
				return err
			}
			u := client.EventTypeUpdate{Schema: f.schemaJSON, Sample: f.sampleJSON}
			if c.cmd.Flags().Changed("description") {
				u.Description = &f.description
			}
			if c.cmd.Flags().Changed("deprecated") {
				u.Deprecated = &f.deprecated
			}
			et, err := c.client.EventTypes.Update(c.ctx(), c.args[0], u, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) { printEventType(w, et) })
		}),
	}
	f.add(cmd)
	return cmd
}

func newEventTypesDeleteCmd(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Remove an event type from the catalog",
		Long: `Remove an event type from the catalog. Events of the type already published
are kept; to retire a type gently, mark it --deprecated instead.`,
		Example: "  outlet event-types delete invoice.paid",
		Args:    args("NAME"),
		RunE: r.run(func(c *call) error {
			if err := c.client.EventTypes.Delete(c.ctx(), c.args[0], c.keep()); err != nil {
				return err
			}
			c.note("Deleted event type %s.", c.args[0])
			return nil
		}),
	}
}

func printEventType(w io.Writer, et *outlet.EventType) {
	field(w, "name", et.Name)
	field(w, "description", dash(et.Description))
	field(w, "deprecated", yesNo(et.Deprecated))
	field(w, "created", stamp(et.CreatedAt))
	field(w, "updated", stamp(et.UpdatedAt))
	indentJSON(w, "schema", et.Schema)
	indentJSON(w, "sample", et.Sample)
}
