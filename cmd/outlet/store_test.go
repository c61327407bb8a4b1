package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestTheDatabaseURLShowsWithoutItsPassword(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "",
		"postgres://outlet:s3cret@db:5432/outlet?search_path=o":         "postgres://outlet:xxxxx@db:5432/outlet?search_path=o",
		"postgresql://outlet@db/outlet?password=s3cret&sslmode=require": "postgresql://outlet@db/outlet?password=xxxxx&sslmode=require",
		"postgres://outlet@db/outlet":                                   "postgres://outlet@db/outlet",
	} {
		d := databaseURL(in)
		if got := d.String(); got != want {
			t.Errorf("%q shows as %q; want %q", in, got, want)
		}
	}
}

func TestADatabaseThatIsNotAPostgresURLIsRefusedNamingTheVariable(t *testing.T) {
	t.Setenv("OUTLET_DATABASE", "mysql://db/outlet")
	var c serveConfig
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.flags(fs)
	fs.Parse(nil)
	err := applyEnv(fs)
	if err == nil || !strings.Contains(err.Error(), "OUTLET_DATABASE") || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("error %v; want one naming OUTLET_DATABASE and saying what to give", err)
	}
}

func TestMigrateBringsTheEmbeddedDatabaseUpToDateAndPrintsItsVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The version is the number of the last migration.
	files, err := filepath.Glob("../../sqlite/migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations in sqlite/migrations: %v", err)
	}
	var last int
	if _, err := fmt.Sscanf(filepath.Base(slices.Max(files)), "%d_", &last); err != nil {
		t.Fatalf("migration %s has no number: %v", slices.Max(files), err)
	}
	for _, tc := range []struct{ args, want string }{
		{"", fmt.Sprintf("schema version %d\n", last)},
		{"--json", fmt.Sprintf("{\"version\":%d}\n", last)},
	} {
		var out strings.Builder
		cmd := newRootCmd()
		cmd.SetArgs(append([]string{"migrate", "--data", dir, "--database="}, strings.Fields(tc.args)...))
		cmd.SetOut(&out)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("outlet migrate %s: %v", tc.args, err)
		}
		if out.String() != tc.want {
			t.Errorf("outlet migrate %s printed %q; want %q", tc.args, out.String(), tc.want)
		}
	}
}
