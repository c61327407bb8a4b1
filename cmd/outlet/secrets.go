package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outlethq/outlet"
)

func newSecretsCmd(r *remote) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:     "secrets",
		Aliases: []string{"secret"},
		Short:   "Manage the secrets a tenant's functions read",
		Long: `A secret is a value a tenant's functions read as ctx.secrets.NAME (Wasm
functions, as config), such as an API key for a service they call. Values are
stored encrypted, masked in logs, and never shown again: no command prints
them.`,
	}
	tenantFlag(cmd, &tenant)
	cmd.AddCommand(newSecretsSetCmd(r, &tenant), newSecretsListCmd(r, &tenant), newSecretsDeleteCmd(r, &tenant))
	return cmd
}

func newSecretsSetCmd(r *remote, tenant *string) *cobra.Command {
	var value, fromFile string
	cmd := &cobra.Command{
		Use:   "set NAME (--value VALUE | --from-file PATH | < stdin)",
		Short: "Set a secret, replacing any of the same name",
		Long: `Set a secret of a tenant, replacing any of the same name. NAME is how functions
read it (ctx.secrets.NAME): letters, digits and '_', not starting with a digit.

The value comes from --value, from a file (--from-file, taken byte for byte),
or from stdin when it is piped in (one trailing newline is dropped). Prefer
the last two: a --value stays in your shell's history.`,
		Example: `  outlet secrets set STRIPE_KEY --tenant acme --from-file stripe.key
  printenv STRIPE_KEY | outlet secrets set STRIPE_KEY --tenant acme`,
		Args: args("NAME"),
		RunE: r.runTenant(tenant, func(c *call) error {
			v, err := secretValue(c.cmd, value, fromFile)
			if err != nil {
				return err
			}
			if err := c.client.Secrets.Put(c.ctx(), c.tenant, c.args[0], v, c.keep()); err != nil {
				return err
			}
			c.note("Set secret %s of tenant %s.", c.args[0], c.tenant)
			return nil
		}),
	}
	cmd.Flags().StringVar(&value, "value", "", "the value (it stays in your shell's history; prefer --from-file or stdin)")
	cmd.Flags().StringVar(&fromFile, "from-file", "", "read the value from this file, byte for byte")
	cmd.MarkFlagsMutuallyExclusive("value", "from-file")
	return cmd
}

// secretValue reads a secret's value from --value, --from-file or piped
// stdin.
func secretValue(cmd *cobra.Command, value, fromFile string) (string, error) {
	switch {
	case cmd.Flags().Changed("value"):
		return value, nil
	case fromFile != "":
		b, err := os.ReadFile(fromFile)
		if err != nil {
			return "", fmt.Errorf("read --from-file: %w", err)
		}
		return string(b), nil
	}
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return "", errors.New("no value: pass --value or --from-file, or pipe it in, e.g. printenv STRIPE_KEY | outlet secrets set STRIPE_KEY")
		}
	}
	b, err := io.ReadAll(io.LimitReader(in, outlet.MaxSecretValue+2))
	if err != nil {
		return "", fmt.Errorf("read the value from stdin: %w", err)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", errors.New("stdin was empty: pipe the value in, or pass --value or --from-file")
	}
	return v, nil
}

func newSecretsListCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List a tenant's secrets, by name",
		Example: "  outlet secrets list --tenant acme",
		Args:    args(),
		RunE: r.runTenant(tenant, func(c *call) error {
			ss, err := c.client.Secrets.List(c.ctx(), c.tenant, c.keep())
			if err != nil {
				return err
			}
			return c.print(func(w io.Writer) {
				row(w, "NAME", "CREATED", "UPDATED")
				for _, s := range ss {
					row(w, s.Name, ago(s.CreatedAt), ago(s.UpdatedAt))
				}
			})
		}),
	}
}

func newSecretsDeleteCmd(r *remote, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a secret",
		Long:    "Delete a secret. Functions that read it find it undefined from their next run.",
		Example: "  outlet secrets delete STRIPE_KEY --tenant acme",
		Args:    args("NAME"),
		RunE: r.runTenant(tenant, func(c *call) error {
			if err := c.client.Secrets.Delete(c.ctx(), c.tenant, c.args[0], c.keep()); err != nil {
				return err
			}
			c.note("Deleted secret %s of tenant %s.", c.args[0], c.tenant)
			return nil
		}),
	}
}
