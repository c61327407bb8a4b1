package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outlet types writes the declarations a customer's repository types its
// functions with, and a function typed with them deploys and runs.
func TestCLITypesWritesTheDeclarations(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.must(t, "tenants", "create", "acme", "--name", "Acme")
	s.must(t, "event-types", "create", "invoice.paid", "--schema", `{"type":"object","required":["amount"],"properties":{"amount":{"type":"integer"}}}`)
	s.must(t, "secrets", "set", "SLACK_URL", "--tenant", "acme", "--value", "https://hooks.example.com/x")
	dir := writeFiles(t, map[string]string{
		"outlet.yaml": "name: paid\nruntime: typescript\nentry: src/index.ts\nevents: [invoice.paid]\n",
		"src/index.ts": `import type { Context, Events } from "./outlet";
export default async function (event: Events["invoice.paid"], ctx: Context) {
  return { cents: event.data.amount, url: ctx.secrets.SLACK_URL !== undefined };
}
`,
	})
	out := s.must(t, "types", "--tenant", "acme", "--dir", filepath.Join(dir, "src"))
	if !strings.Contains(out, "outlet.d.ts") || !strings.Contains(out, " event types and 0 hooks of tenant acme") {
		t.Errorf("outlet types printed %q", out)
	}
	decl, err := os.ReadFile(filepath.Join(dir, "src", "outlet.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"invoice.paid": {`, "amount: number;", "readonly SLACK_URL?: string;"} {
		if !strings.Contains(string(decl), want) {
			t.Errorf("outlet.d.ts lacks %q:\n%s", want, decl)
		}
	}
	if strings.Contains(string(decl), "hooks.example.com") {
		t.Errorf("outlet.d.ts holds a secret's value")
	}
	if _, err := os.Stat(filepath.Join(dir, "src", "outlet-globals.d.ts")); err != nil {
		t.Error(err)
	}
	s.must(t, "functions", "deploy", dir, "--tenant", "acme")
	got := s.must(t, "functions", "test", "paid", "--tenant", "acme", "--input", `{"type":"invoice.paid","timestamp":"2026-01-01T00:00:00Z","data":{"amount":5}}`)
	if !strings.Contains(got, `"cents": 5`) || !strings.Contains(got, `"url": true`) {
		t.Errorf("the typed function answered %q", got)
	}

	// An unknown tenant says so.
	if _, errOut, err := s.outlet(t, "types", "--tenant", "nobody", "--dir", t.TempDir()); err == nil {
		t.Errorf("outlet types for an unknown tenant succeeded: %s", errOut)
	}
}
