package postgres

import (
	"slices"
	"testing"
)

// Ordered deliveries from before ordinals keep their order, seq's, and the
// ones published after go behind them.
func TestMigratingNumbersExistingOrderedDeliveriesInSeqOrder(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, db := migrator(t, freshSchema(t))
	if _, err := p.UpTo(ctx, 9); err != nil {
		t.Fatalf("migrate to version 9: %v", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO deliveries (seq, tenant_id, event_seq, event_id, event_type, target_type, target_id,
			status, attempts, next_attempt_at, ordered, created_at, updated_at)
		VALUES (7, 'acme', 1, 'evt_1', 'invoice.paid', 'endpoint', 'ep_1', 'pending', 0, NULL, true, 0, 0),
		       (3, 'acme', 1, 'evt_1', 'invoice.paid', 'endpoint', 'ep_1', 'pending', 0, 1000, true, 0, 0),
		       (5, 'acme', 1, 'evt_1', 'invoice.paid', 'endpoint', 'ep_1', 'pending', 0, NULL, true, 0, 0),
		       (4, 'acme', 1, 'evt_1', 'invoice.paid', 'endpoint', 'ep_2', 'pending', 0, 1000, false, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 10); err != nil {
		t.Fatalf("migrate to version 10: %v", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO deliveries (seq, tenant_id, event_seq, event_id, event_type, target_type, target_id,
			status, attempts, ordered, created_at, updated_at)
		VALUES (2, 'acme', 1, 'evt_1', 'invoice.paid', 'endpoint', 'ep_1', 'pending', 0, true, 0, 0)`); err != nil {
		t.Fatalf("insert without an ordinal, as the release before does: %v", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT seq, ordinal IS NULL FROM deliveries WHERE ordered OR ordinal IS NOT NULL ORDER BY ordinal`)
	if err != nil {
		t.Fatal(err)
	}
	var order []int64
	for rows.Next() {
		var seq int64
		var null bool
		if err := rows.Scan(&seq, &null); err != nil {
			t.Fatal(err)
		}
		if null {
			t.Errorf("ordered delivery %d has no ordinal", seq)
		}
		order = append(order, seq)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []int64{3, 5, 7, 2}; !slices.Equal(order, want) {
		t.Errorf("deliveries by ordinal = %v; want %v (seq's order, then the one inserted after)", order, want)
	}

	if _, err := p.DownTo(ctx, 9); err != nil {
		t.Fatalf("migrate down to version 9: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM deliveries`).Scan(&n); err != nil || n != 5 {
		t.Errorf("after migrating down: %d deliveries, %v; want 5", n, err)
	}
}
