// Command outlet runs the Outlet server and talks to a running one.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "outlet:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "outlet",
		Short: "Outlet: webhooks and hosted functions for your platform's customers",
		Long: `Outlet delivers your platform's events to your customers' webhook endpoints —
signed, retried, logged and never lost — behind one API.

Run the server with 'outlet serve'. The other commands talk to a running
server: give its address with --url (or OUTLET_URL) and a key with --key
(or OUTLET_KEY). 'outlet dev' alone needs no server: it runs a function on
this machine.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetVersionTemplate("outlet {{.Version}}\n")
	root.AddCommand(newServeCmd(), newMigrateCmd(), newBenchCmd(), newVersionCmd(), newConfigDocsCmd())
	addRemoteCommands(root)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version: the module's, the VCS revision it was built from, and Go's",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "outlet", version)
		},
	}
}

func newConfigDocsCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "config-docs",
		Short:  "Print the configuration reference as Markdown (docs/configuration.md)",
		Hidden: true,
		Args:   cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			writeConfigDocs(cmd.OutOrStdout())
		},
	}
}
