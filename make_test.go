package outlet

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMakeTestSaysWhenThePostgresSuiteIsSkipped runs 'make test' with go and
// gofmt that do nothing, so only what the target says is left.
func TestMakeTestSaysWhenThePostgresSuiteIsSkipped(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on PATH")
	}
	run := func(postgres string) string {
		t.Helper()
		cmd := exec.Command("make", "-s", "test", "GO=true", "GOFMT=true")
		cmd.Env = append(os.Environ(), "OUTLET_TEST_POSTGRES="+postgres)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make test: %v\n%s", err, out)
		}
		return string(out)
	}
	out := run("")
	if !strings.Contains(out, "Postgres store suite was SKIPPED") || !strings.Contains(out, "OUTLET_TEST_POSTGRES=") || strings.Count(out, "\n") != 1 {
		t.Errorf("make test without OUTLET_TEST_POSTGRES printed %q; want one line saying the Postgres suite was skipped and how to run it", out)
	}
	if out := run("postgres://postgres@127.0.0.1:5432/test?sslmode=disable"); strings.Contains(out, "SKIPPED") {
		t.Errorf("make test with OUTLET_TEST_POSTGRES printed %q; the suite runs", out)
	}
}
