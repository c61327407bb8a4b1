package sqlite

import (
	"sync"

	"github.com/outlethq/outlet"
)

// fanout caches, per tenant, the targets a publish fans out to: enabled
// endpoints and functions bound to events.
//
// It is exact, not eventually right: every write to the database goes through
// this store's writer, and every write that changes a tenant or its endpoints
// drops that tenant's entry in the same transaction. Entries are filled inside
// the writer's transaction, so they may hold writes of the batch not yet
// committed; if a commit fails, the whole cache is dropped.
type fanout struct {
	mu       sync.Mutex
	byTenant map[string]*targets // present: the tenant exists
}

// targets is what one tenant's events fan out to.
type targets struct {
	endpoints []*outlet.Endpoint // enabled ones
	functions []eventFunction    // active versions bound to some event type
}

type eventFunction struct {
	name   string
	events []string
}

func newFanout() *fanout { return &fanout{byTenant: map[string]*targets{}} }

func (f *fanout) get(tenantID string) (*targets, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	eps, ok := f.byTenant[tenantID]
	return eps, ok
}

func (f *fanout) put(tenantID string, t *targets) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.byTenant) > 100000 {
		clear(f.byTenant)
	}
	f.byTenant[tenantID] = t
}

func (f *fanout) drop(tenantID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.byTenant, tenantID)
}

func (f *fanout) dropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.byTenant)
}
