package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/outlethq/outlet"
)

func TestWhatTheServerSaidBecomesACodedError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		err  *pgconn.PgError
		want string
	}{
		{"a row with no partition for its day, still, is worth a retry", &pgconn.PgError{Code: "23514", TableName: "events"}, outlet.EUNAVAILABLE},
		{"a check constraint's violation is a conflict", &pgconn.PgError{Code: "23514", TableName: "events", ConstraintName: "events_type_check"}, outlet.ECONFLICT},
		{"a seq another row holds is worth a retry", &pgconn.PgError{Code: "23505", TableName: "deliveries_p20261203", ConstraintName: "deliveries_p20261203_pkey"}, outlet.EUNAVAILABLE},
		{"an idempotency key taken is a conflict", &pgconn.PgError{Code: "23505", TableName: "event_keys", ConstraintName: "event_keys_idempotency"}, outlet.ECONFLICT},
	} {
		if got := outlet.ErrorCode(dbErr(c.err)); got != c.want {
			t.Errorf("%s: %s; want %s", c.name, got, c.want)
		}
	}
}
