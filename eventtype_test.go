package outlet

import "testing"

func TestMatchEventType(t *testing.T) {
	t.Parallel()
	cases := []struct {
		filters []string
		typ     string
		want    bool
	}{
		{nil, "invoice.paid", true},
		{[]string{}, "anything", true},
		{[]string{"*"}, "invoice.paid", true},
		{[]string{"invoice.paid"}, "invoice.paid", true},
		{[]string{"invoice.paid"}, "invoice.paid.late", false},
		{[]string{"invoice.*"}, "invoice.paid", true},
		{[]string{"invoice.*"}, "invoice.line.added", true},
		{[]string{"invoice.*"}, "invoice", false},
		{[]string{"invoice.*"}, "invoices.paid", false},
		{[]string{"user.created", "invoice.*"}, "user.created", true},
		{[]string{"user.created", "invoice.*"}, "user.deleted", false},
		// Outlet's operational events reach only those who name them.
		{nil, "outlet.endpoint.disabled", false},
		{[]string{"*"}, "outlet.endpoint.disabled", false},
		{[]string{"outlet.endpoint.disabled"}, "outlet.endpoint.disabled", true},
		{[]string{"outlet.*"}, "outlet.endpoint.disabled", true},
		{[]string{"outlet.endpoint.*"}, "outlet.endpoint.circuit_opened", true},
		{[]string{"outlet.function.*"}, "outlet.endpoint.disabled", false},
		{[]string{"*", "outlet.delivery.exhausted"}, "outlet.delivery.exhausted", true},
	}
	for _, c := range cases {
		if got := MatchEventType(c.filters, c.typ); got != c.want {
			t.Errorf("filters %v, type %q: %v; want %v", c.filters, c.typ, got, c.want)
		}
	}
}

func TestEventTypeNamesAndFilters(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"invoice.paid", "a", "user_profile.updated-v2", "A.B.C"} {
		if err := ValidateEventTypeName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".a", "a.", "a..b", "a b", "a.*", "é", string(make([]byte, 129))} {
		if ValidateEventTypeName(bad) == nil {
			t.Errorf("%q accepted as a name", bad)
		}
	}
	for _, ok := range []string{"*", "invoice.*", "invoice.paid", "a.b.*"} {
		if err := ValidateEventTypeFilter(ok); err != nil {
			t.Errorf("filter %q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "**", "invoice*", ".*", "*.paid", "a.*.b"} {
		if ValidateEventTypeFilter(bad) == nil {
			t.Errorf("filter %q accepted", bad)
		}
	}
}
