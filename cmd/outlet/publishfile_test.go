package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLIPublishesTheEventsOfAFileInBatchesAndSaysWhatCameOfEachLine(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.must(t, "tenants", "create", "acme")
	s.must(t, "endpoints", "create", s.receiver+"/ok", "--tenant", "acme")
	file := filepath.Join(t.TempDir(), "events.ndjson")
	lines := []string{
		`{"type":"invoice.paid","data":{"n":1},"idempotency_key":"k-1"}`,
		``,
		`{"type":"invoice.paid","data":`,
		`{"type":"invoice.paid","idempotency_key":"k-2"}`,
		`{"type":"Not A Type!","data":{}}`,
		`{"type":"invoice.paid","data":{"n":1},"idempotency_key":"k-1"}`,
		`{"type":"order.placed","data":null,"id":"order-7.placed","timestamp":"2026-03-01T12:00:00Z"}`,
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	out, errOut, err := s.outlet(t, "events", "publish", "--tenant", "acme", "--file", file, "--batch-size", "2")
	if err == nil || !strings.Contains(err.Error(), "3 of 6 events failed") {
		t.Errorf("a file with 3 bad lines: error %v; want one saying 3 of 6 failed", err)
	}
	if !strings.Contains(errOut, "6 events: 2 accepted, 1 replayed, 3 failed") {
		t.Errorf("stderr %q doesn't sum the lines up", errOut)
	}
	for _, want := range [][]string{
		{"LINE", "RESULT", "ID", "DELIVERIES / ERROR"},
		{"1", "accepted", "*", "1"},
		{"3", "failed", "-", "*"},
		{"4", "failed", "-", `invalid: data is required: the JSON value receivers get as "data" (any JSON value, null included)`},
		{"5", "failed", "-", "*"},
		{"6", "replayed", "*", "1"},
		{"7", "accepted", "order-7.placed", "1"},
	} {
		if !hasRow(out, want...) {
			t.Errorf("no row %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\n2 ") {
		t.Errorf("the blank line 2 has a row:\n%s", out)
	}

	// Again, as JSON: every event published before is replayed.
	out, _, err = s.outlet(t, "events", "publish", "--tenant", "acme", "--file", file, "--json")
	if err == nil {
		t.Errorf("a file with bad lines succeeded")
	}
	var got []struct {
		Line     int
		ID       string
		Replayed bool
		Error    *struct{ Code, Message string }
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Line     int
			ID       string
			Replayed bool
			Error    *struct{ Code, Message string }
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("--json printed a line that isn't JSON: %q", l)
		}
		got = append(got, r)
	}
	if len(got) != 6 {
		t.Fatalf("--json printed %d lines; want 6:\n%s", len(got), out)
	}
	for i, want := range []struct {
		line     int
		replayed bool
		code     string
	}{{1, true, ""}, {3, false, "malformed"}, {4, false, "invalid"}, {5, false, "invalid"}, {6, true, ""}, {7, true, ""}} {
		r := got[i]
		code := ""
		if r.Error != nil {
			code = r.Error.Code
		}
		if r.Line != want.line || r.Replayed != want.replayed || code != want.code {
			t.Errorf("result %d is %+v; want line %d, replayed %v, error %q", i, r, want.line, want.replayed, want.code)
		}
	}

	if _, _, err := s.outlet(t, "events", "publish", "--tenant", "acme", "--file", file, "--type", "invoice.paid"); err == nil {
		t.Errorf("--file with --type was taken")
	}
}
