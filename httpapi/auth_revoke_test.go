package httpapi

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// gatedKeys is a key store whose first lookup reads the key, then waits for
// the test before answering: a revocation can commit meanwhile.
type gatedKeys struct {
	mu      sync.Mutex
	key     *outlet.APIKey
	read    chan struct{}
	proceed chan struct{}
	gated   bool
}

func (g *gatedKeys) APIKeyByHash(ctx context.Context, hash []byte) (*outlet.APIKey, error) {
	g.mu.Lock()
	k, gate := g.key, !g.gated
	g.gated = true
	g.mu.Unlock()
	if gate {
		g.read <- struct{}{}
		<-g.proceed
	}
	if k == nil {
		return nil, outlet.Errorf(outlet.ENOTFOUND, "no such key")
	}
	return k, nil
}

func (g *gatedKeys) TouchAPIKey(ctx context.Context, id string, at time.Time) error { return nil }

func TestAKeyRevokedDuringItsLookupIsNotCached(t *testing.T) {
	t.Parallel()
	for _, forget := range []struct {
		name string
		do   func(a *authenticator)
	}{
		{"the key deleted", func(a *authenticator) { a.forgetKey("key_1") }},
		{"its tenant deleted", func(a *authenticator) { a.forgetTenant("acme") }},
	} {
		ks := &gatedKeys{key: &outlet.APIKey{ID: "key_1", TenantID: "acme"}, read: make(chan struct{}), proceed: make(chan struct{})}
		a := newAuthenticator("olk_admin_0123456789abcdef", ks, time.Hour, time.Now, 0, 1)
		hash := outlet.HashAPIKey("olk_tenant_key")
		done := make(chan struct{})
		go func() {
			a.lookup(context.Background(), hash, "127.0.0.1")
			close(done)
		}()
		<-ks.read // the lookup has read the key; now it is revoked and forgotten
		ks.mu.Lock()
		ks.key = nil
		ks.mu.Unlock()
		forget.do(a)
		close(ks.proceed)
		<-done
		if k, err := a.lookup(context.Background(), hash, "127.0.0.1"); err == nil && k != nil {
			t.Errorf("%s while it was being looked up: the key still authenticates, from the cache", forget.name)
		}
	}
}
