package sqlite

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestHotStatementsReadOnlyWhatTheyNeed checks, from SQLite's own query
// plans, that the statements a delivery's life runs on every event never
// read a table whole, never sort (an ORDER BY an index doesn't give), and
// use the index meant for them: an endpoint's history grows without bound,
// what these statements look for doesn't. Plans are taken on an empty
// database and again with a long history for one endpoint and statistics
// gathered (ANALYZE), since statistics can change SQLite's choice.
func TestHotStatementsReadOnlyWhatTheyNeed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openStore(t)

	statements := []struct {
		name, sql string
		args      []any
		index     string // the plan must search this index
	}{
		{"claiming due deliveries", claimDueQuery, []any{"node-a", 9, 5, 10}, "deliveries_due"},
		{"pulling an endpoint's parked deliveries", claimParkedQuery, []any{"node-a", 9, 5, "ep_1", 10}, "deliveries_parked"},
		{"making an ordered endpoint's next delivery due", unparkQuery, []any{5, "ep_1"}, "deliveries_ordered"},
		{"recording an attempt's outcome", completeDeliveryQuery, []any{"succeeded", nil, 5, 5, 1, ""}, ""},
	}
	plans := func(when string) {
		for _, st := range statements {
			rows, err := s.w.QueryContext(ctx, `EXPLAIN QUERY PLAN `+st.sql, st.args...)
			if err != nil {
				t.Fatalf("explain %s: %v", st.name, err)
			}
			var lines []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				lines = append(lines, detail)
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(lines, "\n")
			for _, l := range lines {
				if strings.HasPrefix(l, "SCAN ") || strings.Contains(l, "TEMP B-TREE") {
					t.Errorf("%s, %s: %q reads a table whole or sorts\n%s", st.name, when, l, plan)
				}
			}
			if st.index != "" && !strings.Contains(plan, "INDEX "+st.index+" (") {
				t.Errorf("%s, %s: doesn't search %s\n%s", st.name, when, st.index, plan)
			}
		}
	}
	plans("on an empty database")

	// One endpoint's long history, a few of its deliveries parked, a few
	// ordered ones pending, and statistics gathered on all of it.
	const history = 5000
	for _, q := range []string{
		`INSERT INTO tenants (id, name, created_at, updated_at) VALUES ('acme', 'Acme', 0, 0)`,
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
			INSERT INTO events (seq, tenant_id, id, type, timestamp, data, payload_hash, created_at)
			SELECT i, 'acme', 'evt_' || i, 'invoice.paid', i, '{}', x'00', i FROM n`, history),
		`INSERT INTO deliveries (seq, tenant_id, event_seq, event_id, event_type, target_type, target_id, status, attempts,
			next_attempt_at, lease_owner, ordered, created_at, updated_at)
			SELECT seq, 'acme', seq, id, type, 'endpoint', CASE WHEN seq % 50 = 0 THEN 'ep_2' ELSE 'ep_1' END,
				CASE WHEN seq > 4990 THEN 'pending' ELSE 'succeeded' END, CASE WHEN seq > 4990 THEN 0 ELSE 1 END,
				CASE WHEN seq > 4990 THEN seq END, NULL, CASE WHEN seq % 50 = 0 THEN 1 ELSE 0 END, seq, seq
			FROM events`,
		`ANALYZE`,
	} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	plans("with a long history and statistics")
}

// openStore opens a store on a fresh database file, closed when the test
// ends.
func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "outlet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
