package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet/client"
)

func newAPIKeysCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:     "api-keys",
		Aliases: []string{"api-key", "keys"},
		Short:   "Manage a tenant's API keys (admin key)",
		Long: `A tenant's API key lets that customer's systems (or your platform acting for
them) call the API for that tenant alone: its endpoints, events and
deliveries. Creating, listing and revoking keys needs the admin key.`,
	}
	tenantFlag(cmd, &tenant)
	cmd.AddCommand(newAPIKeysCreateCmd(r, &tenant), newAPIKeysListCmd(r, &tenant), newAPIKeysDeleteCmd(r, &tenant))
	return cmd
}

func newAPIKeysCreateCmd(r *remote, tenant *string) *cobra.Command {
	var k client.APIKeyCreate
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an API key for a tenant",
		Long: `Create an API key for a tenant. Its secret is shown only this once: Outlet
keeps nothing but a hash of it.`,
		Example: `  outlet api-keys create --tenant acme --name "billing service"
  OUTLET_KEY=$(outlet api-keys create --tenant acme --json | jq -r .key)`,
		Args: args(),
		RunE: r.runTenant(tenant, func(c *call) error {
			key, err := c.client.APIKeys.Create(c.ctx(), c.tenant, k, c.keep())
			if err != nil {
				return err
			}
			c.note("Store the key now: it can't be shown again.")
			return c.print(func(w io.Writer) {
				field(w, "id", key.ID)
				field(w, "tenant", key.TenantID)
				field(w, "name", dash(key.Name))
				field(w, "key", key.Key)
				field(w, "created", stamp(key.CreatedAt))
			})
		}),
	}
	cmd.Flags().StringVar(&k.Name, "name", "", "who or what uses the key, for people")
	return cmd
}

func newAPIKeysListCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List a tenant's API keys",
		Long:    "List a tenant's API keys: their ids, names, and the first characters of their secrets to recognise them by.",
		Example: "  outlet api-keys list --tenant acme",
		Args:    args(),
		RunE: r.runTenant(tenant, func(c *call) error {
			keys, err := c.client.APIKeys.List(c.ctx(), c.tenant, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				row(w, "ID", "NAME", "PREFIX", "CREATED", "LAST USED")
				for _, k := range keys {
					row(w, k.ID, dash(k.Name), k.Prefix+"…", ago(k.CreatedAt), agoPtr(k.LastUsedAt))
				}
			})
		}),
	}
}

func newAPIKeysDeleteCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "delete KEY_ID",
		Aliases: []string{"revoke"},
		Short:   "Revoke an API key",
		Long: `Revoke an API key by its id (key_…). Requests with it are refused at once by
the server that revoked it, and by the others within their --cache-ttl.`,
		Example: "  outlet api-keys delete key_01jq2w3e4r5t6y7u8i9o0p1a2s --tenant acme",
		Args:    args("KEY_ID"),
		RunE: r.runTenant(tenant, func(c *call) error {
			if err := c.client.APIKeys.Delete(c.ctx(), c.tenant, c.args[0], c.keep()); err != nil {
				return err
			}
			c.note("Revoked key %s of tenant %s.", c.args[0], c.tenant)
			return nil
		}),
	}
}
