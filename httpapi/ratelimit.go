package httpapi

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/outlethq/outlet"
)

// publishLimits holds each tenant's publish rate limiter on this node. A
// tenant's own publish_rate_limit wins over the operator's default; it is
// re-read from the store at most every ttl, so a change made on any node
// takes effect everywhere within ttl.
type publishLimits struct {
	store    outlet.TenantStore
	fallback int // events per second; 0: none
	ttl      time.Duration
	now      func() time.Time

	mu      sync.Mutex
	tenants map[string]*tenantLimit
}

type tenantLimit struct {
	perSecond int
	checked   time.Time
	limiter   *rate.Limiter // nil: no limit
}

// allow takes one publish from the tenant's allowance. When the tenant is
// over its limit it returns an ERATELIMIT error and how long until a
// publish would be accepted.
func (p *publishLimits) allow(ctx context.Context, tenantID string) (time.Duration, error) {
	return p.allowN(ctx, tenantID, 1)
}

// allowN takes n publishes from the tenant's allowance, all or none: when
// they don't all fit it takes none, and returns an ERATELIMIT error and how
// long until they would. More than the tenant may publish in a second never
// fit, which is ETOOLARGE. With n = 0 it only checks that the tenant exists.
func (p *publishLimits) allowN(ctx context.Context, tenantID string, n int) (time.Duration, error) {
	now := p.now()
	p.mu.Lock()
	tl := p.tenants[tenantID]
	stale := tl == nil || now.Sub(tl.checked) > p.ttl
	p.mu.Unlock()
	if stale {
		t, err := p.store.Tenant(ctx, tenantID)
		if err != nil {
			return 0, err
		}
		perSecond := t.PublishRateLimit
		if perSecond == 0 {
			perSecond = p.fallback
		}
		p.mu.Lock()
		if tl = p.tenants[tenantID]; tl == nil {
			if len(p.tenants) > 100000 {
				// Forget the tenants not seen for a while; their buckets
				// are full again by now anyway.
				for id, old := range p.tenants {
					if now.Sub(old.checked) > time.Minute+p.ttl {
						delete(p.tenants, id)
					}
				}
			}
			tl = &tenantLimit{}
			p.tenants[tenantID] = tl
		}
		if tl.perSecond != perSecond || (tl.limiter == nil) != (perSecond == 0) {
			tl.perSecond, tl.limiter = perSecond, nil
			if perSecond > 0 {
				// A second's worth may come at once.
				tl.limiter = rate.NewLimiter(rate.Limit(perSecond), perSecond)
			}
		}
		tl.checked = now
		p.mu.Unlock()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if tl.limiter == nil {
		return 0, nil
	}
	r := tl.limiter.ReserveN(now, n)
	if !r.OK() {
		return 0, outlet.Errorf(outlet.ETOOLARGE, "this batch holds %d events, more than tenant %q may publish in a second (%d) on this node; send batches of at most %d",
			n, tenantID, tl.perSecond, tl.perSecond)
	}
	wait := r.DelayFrom(now)
	if wait == 0 {
		return 0, nil
	}
	r.CancelAt(now)
	if n > 1 {
		return wait, outlet.Errorf(outlet.ERATELIMIT, "tenant %q may publish %d events per second on this node, and this batch of %d would go over it; nothing of it was stored: retry after the time in Retry-After",
			tenantID, tl.perSecond, n)
	}
	return wait, outlet.Errorf(outlet.ERATELIMIT, "tenant %q may publish %d events per second on this node; retry after the time in Retry-After",
		tenantID, tl.perSecond)
}

// forget makes the tenant's limit read again from the store on its next
// publish; a deleted tenant's bucket goes too.
func (p *publishLimits) forget(tenantID string, deleted bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if deleted {
		delete(p.tenants, tenantID)
	} else if tl := p.tenants[tenantID]; tl != nil {
		tl.checked = time.Time{}
	}
}

// setRetryAfter tells the caller to wait, in whole seconds, at least one.
func setRetryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
}
