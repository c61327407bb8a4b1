package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/outlethq/outlet/internal/app"
)

func newMigrateCmd() *cobra.Command {
	var cfg serveConfig
	var asJSON bool
	store := pflag.NewFlagSet("store", pflag.ContinueOnError)
	cfg.storeFlags(store)
	annotateEnv(store)
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database's schema up to date and print its version",
		Long: `Bring the database's schema up to date and print its version.

'outlet serve' migrates on start too; run this first to migrate as a step of
its own, such as before starting several nodes on a new release. With no
--database it migrates the embedded SQLite database under --data, which no
server may have open; a Postgres database may be migrated while nodes run,
and nodes starting at once wait for one another.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(store); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			v, err := app.Migrate(ctx, cfg.Config)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(struct {
					Version int64 `json:"version"`
				}{v})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "schema version %d\n", v)
			return nil
		},
	}
	cmd.Flags().AddFlagSet(store)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the version as JSON")
	return cmd
}
