package postgres

import (
	"fmt"
	"os"
	"testing"
)

// TestMain says, once, when the suite can't run: a skipped test is easy to
// miss among passing ones. go test shows this with -v or when the package
// fails; make test says it either way.
func TestMain(m *testing.M) {
	if os.Getenv(testDatabaseEnv) == "" {
		fmt.Fprintf(os.Stderr, "postgres: the Postgres store suite is SKIPPED: %s is not set. Run it with %s=%q go test ./postgres/\n",
			testDatabaseEnv, testDatabaseEnv, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	os.Exit(m.Run())
}
