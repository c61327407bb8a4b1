package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newTypesCmd(r *remote) *cobra.Command {
	var tenant, dir string
	cmd := &cobra.Command{
		Use:   "types",
		Short: "Write the TypeScript declarations your functions are typed with (outlet.d.ts, outlet-globals.d.ts)",
		Long: `Writes two files for your editor and tsc, made by the server from the
event catalog, the hooks and your tenant's secret names:

  outlet.d.ts          types to import: Context (with your secret names),
                       Events (each event type's event, from its schema),
                       HookInputs and HookOutputs, EventFunction, HookFunction
  outlet-globals.d.ts  what a function can reach besides the language:
                       console, fetch, Headers, Response, timers, crypto

Use them with "lib": ["ES2023"] in tsconfig.json (not "DOM": a function has
no DOM), and import with 'import type', which a deploy strips:

  import type { Context, Events } from "./outlet";
  export default async function (event: Events["invoice.paid"], ctx: Context) { … }

Run it again when the catalog or your secrets change.`,
		Example: "  outlet types --tenant acme --dir src",
		Args:    args(),
		RunE: r.runTenant(&tenant, func(c *call) error {
			types, err := c.client.Functions.Types(c.ctx(), c.tenant, c.keep())
			if err != nil {
				return err
			}
			files := []struct{ name, text string }{
				{"outlet.d.ts", types.Declarations},
				{"outlet-globals.d.ts", types.Globals},
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			for _, f := range files {
				if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.text), 0o644); err != nil {
					return err
				}
			}
			return c.print(func(w io.Writer) {
				for _, f := range files {
					fmt.Fprintf(w, "Wrote %s (%d B).\n", filepath.Join(dir, f.name), len(f.text))
				}
				fmt.Fprintf(w, "Types for %d event types and %d hooks of tenant %s; import them with: import type { Context, Events } from \"./outlet\"\n",
					len(types.Events), len(types.Hooks), c.tenant)
			})
		}),
	}
	tenantFlag(cmd, &tenant)
	cmd.Flags().StringVar(&dir, "dir", ".", "directory to write the files into (made if missing)")
	return cmd
}
