package main

import (
	"regexp"
	"strings"
	"testing"
)

// cells splits a table's line on runs of two or more spaces.
func cells(line string) []string {
	return regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
}

// column returns the cells under the heading name, one per row.
func column(t *testing.T, table, name string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	head := cells(lines[0])
	for i, h := range head {
		if h == name {
			var out []string
			for _, l := range lines[1:] {
				if c := cells(l); len(c) == len(head) {
					out = append(out, c[i])
				} else {
					t.Fatalf("row %q doesn't have the heading's %d cells:\n%s", l, len(head), table)
				}
			}
			return out
		}
	}
	t.Fatalf("no column %s in:\n%s", name, table)
	return nil
}

func TestIDsInTablesPasteIntoTheNextCommand(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.must(t, "tenants", "create", "acme")
	s.must(t, "endpoints", "create", s.receiver+"/ok", "--tenant", "acme")
	s.must(t, "events", "publish", "--tenant", "acme", "--type", "invoice.paid", "--data", `{"amount": 42}`)

	out := s.must(t, "deliveries", "list", "--tenant", "acme")
	for _, c := range []struct{ column, get string }{
		{"ID", "deliveries"},
		{"EVENT", "events"},
		{"ENDPOINT", "endpoints"},
	} {
		ids := column(t, out, c.column)
		if len(ids) != 1 {
			t.Fatalf("deliveries list shows %d rows, want 1:\n%s", len(ids), out)
		}
		if strings.Contains(ids[0], "…") {
			t.Errorf("deliveries list cuts the %s id to %q:\n%s", c.column, ids[0], out)
		}
		if _, errOut, err := s.outlet(t, c.get, "get", ids[0], "--tenant", "acme"); err != nil {
			t.Errorf("%s get %s, pasted from the %s column: %v\n%s", c.get, ids[0], c.column, err, errOut)
		}
	}
	if hasRow(out, "*", "*", "*", "*", "*", "*", "*", "LAST ATTEMPT") {
		t.Errorf("deliveries list without --wide shows the columns that make room for the ids:\n%s", out)
	}
	if wide := s.must(t, "deliveries", "list", "--tenant", "acme", "--wide"); !hasRow(wide, "ID", "EVENT", "TYPE", "ENDPOINT", "STATUS", "ATTEMPTS", "NEXT ATTEMPT", "LAST ATTEMPT", "CREATED") {
		t.Errorf("deliveries list --wide printed:\n%s", wide)
	}
}
