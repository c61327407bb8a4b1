package httpapi

import (
	"net/http"
	"time"

	"github.com/outlethq/outlet"
)

type usageAPI struct {
	store outlet.UsageStore
	now   func() time.Time
}

func (a *usageAPI) routes(s *Server) {
	s.handle("GET /v1/tenants/{tenant}/usage", tenantScope, a.get)
}

// maxUsageDays bounds one usage query.
const maxUsageDays = 400

// get answers a tenant's usage per UTC day from since (default: the first
// of this month) to before (default: tomorrow), and the total.
func (a *usageAPI) get(w http.ResponseWriter, r *http.Request) error {
	today := a.now().UTC().Truncate(24 * time.Hour)
	since, err := dayParam(r, "since", time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	before, err := dayParam(r, "before", today.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	switch days := before.Sub(since) / (24 * time.Hour); {
	case days < 1:
		return outlet.Errorf(outlet.EINVALID, "before (%s) must be after since (%s)", before.Format(time.DateOnly), since.Format(time.DateOnly))
	case days > maxUsageDays:
		return outlet.Errorf(outlet.EINVALID, "since to before spans %d days; ask for at most %d at a time", days, maxUsageDays)
	}
	tenant := r.PathValue("tenant")
	days, err := a.store.Usage(r.Context(), tenant, since, before)
	if err != nil {
		return err
	}
	ans := outlet.UsageReport{Tenant: tenant, Since: since.Format(time.DateOnly), Before: before.Format(time.DateOnly), Days: days}
	for _, d := range days {
		ans.Total.Add(d)
	}
	writeJSON(w, http.StatusOK, ans)
	return nil
}

// dayParam reads a day, as YYYY-MM-DD or an RFC 3339 time (whose UTC day is
// taken), or returns def if the parameter is absent.
func dayParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC().Truncate(24 * time.Hour), nil
	}
	return time.Time{}, outlet.Errorf(outlet.EINVALID, "%s %q is not a day such as 2026-01-02 (or an RFC 3339 time)", name, v)
}
