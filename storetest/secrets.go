package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/outlethq/outlet"
)

// sealed stands for a value sealed outside the store: binary, NUL bytes and
// invalid UTF-8 included.
func sealed(s string) []byte {
	return append([]byte{0x00, 0xff, 0xfe, 0x80}, s...)
}

// putSecret stores a secret and reports whether it was new.
func (b *bundle) putSecret(t *testing.T, tenantID, name string, value []byte, now time.Time) bool {
	t.Helper()
	created, err := b.store.PutSecret(b.ctx, tenantID, name, value, now)
	check(t, err)
	return created
}

func (b *bundle) secrets(t *testing.T, tenantID string) []*outlet.Secret {
	t.Helper()
	ss, err := b.store.ListSecrets(b.ctx, tenantID)
	check(t, err)
	return ss
}

func (b *bundle) sealedSecrets(t *testing.T, tenantID string) map[string][]byte {
	t.Helper()
	m, err := b.store.SealedSecrets(b.ctx, tenantID)
	check(t, err)
	return m
}

func secretNames(ss []*outlet.Secret) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

// wantSealed compares sealed secrets byte for byte.
func wantSealed(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	names := func(m map[string][]byte) []string {
		out := []string{}
		for name := range m {
			out = append(out, name)
		}
		slices.Sort(out)
		return out
	}
	wantIDs(t, what, names(got), names(want))
	for name, w := range want {
		if g, ok := got[name]; ok && !bytes.Equal(g, w) {
			t.Errorf("%s: %s = %x; want %x", what, name, g, w)
		}
	}
}

func secretTests(t *testing.T, s suite) {
	s.test(t, "putting a secret reports it new, and putting it again reports it replaced and keeps its creation time", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		wantEqual(t, "created the first time", b.putSecret(t, "acme", "STRIPE_KEY", sealed("one"), base), true)
		wantEqual(t, "created the second time", b.putSecret(t, "acme", "STRIPE_KEY", sealed("two"), at(time.Hour)), false)
		ss := b.secrets(t, "acme")
		if len(ss) != 1 {
			t.Fatalf("got %d secrets; want 1", len(ss))
		}
		wantEqual(t, "secret name", ss[0].Name, "STRIPE_KEY")
		wantTime(t, "secret created_at", ss[0].CreatedAt, base)
		wantTime(t, "secret updated_at", ss[0].UpdatedAt, at(time.Hour))
		wantSealed(t, "sealed secrets", b.sealedSecrets(t, "acme"), map[string][]byte{"STRIPE_KEY": sealed("two")})
	})

	s.test(t, "secrets list sorted by name with their times", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		for i, name := range []string{"STRIPE_KEY", "API_TOKEN", "_private", "SLACK_HOOK"} {
			b.putSecret(t, "acme", name, sealed(name), at(time.Duration(i)*time.Minute))
		}
		ss := b.secrets(t, "acme")
		wantIDs(t, "secrets", secretNames(ss), []string{"API_TOKEN", "SLACK_HOOK", "STRIPE_KEY", "_private"})
		created := map[string]time.Time{"STRIPE_KEY": base, "API_TOKEN": at(time.Minute), "_private": at(2 * time.Minute), "SLACK_HOOK": at(3 * time.Minute)}
		for _, sec := range ss {
			wantTime(t, sec.Name+" created_at", sec.CreatedAt, created[sec.Name])
			wantTime(t, sec.Name+" updated_at", sec.UpdatedAt, created[sec.Name])
		}
	})

	s.test(t, "a tenant without secrets lists none and has none sealed", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		wantIDs(t, "secrets", secretNames(b.secrets(t, "acme")), []string{})
		wantSealed(t, "sealed secrets", b.sealedSecrets(t, "acme"), map[string][]byte{})
	})

	s.test(t, "sealed secrets read back byte for byte, by name", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		want := map[string][]byte{
			"STRIPE_KEY": sealed("sk_live_Zoë"),
			"EMPTY":      {},
			"LARGE":      bytes.Repeat([]byte{0x00, 0x9f, 0xc3}, outlet.MaxSecretValue/3+100),
		}
		for name, v := range want {
			b.putSecret(t, "acme", name, v, base)
		}
		wantSealed(t, "sealed secrets", b.sealedSecrets(t, "acme"), want)
	})

	s.test(t, "a deleted secret is gone and deleting it again is ENOTFOUND", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.putSecret(t, "acme", "STRIPE_KEY", sealed("one"), base)
		b.putSecret(t, "acme", "SLACK_HOOK", sealed("two"), base)
		check(t, b.store.DeleteSecret(b.ctx, "acme", "STRIPE_KEY"))
		wantIDs(t, "secrets", secretNames(b.secrets(t, "acme")), []string{"SLACK_HOOK"})
		wantSealed(t, "sealed secrets", b.sealedSecrets(t, "acme"), map[string][]byte{"SLACK_HOOK": sealed("two")})
		wantCode(t, b.store.DeleteSecret(b.ctx, "acme", "STRIPE_KEY"), outlet.ENOTFOUND)
		wantEqual(t, "created when put again", b.putSecret(t, "acme", "STRIPE_KEY", sealed("three"), at(time.Hour)), true)
	})

	s.test(t, "putting, listing or deleting secrets of an unknown tenant is ENOTFOUND", func(t *testing.T, b *bundle) {
		_, err := b.store.PutSecret(b.ctx, "nobody", "STRIPE_KEY", sealed("one"), base)
		wantCode(t, err, outlet.ENOTFOUND)
		_, err = b.store.ListSecrets(b.ctx, "nobody")
		wantCode(t, err, outlet.ENOTFOUND)
		wantCode(t, b.store.DeleteSecret(b.ctx, "nobody", "STRIPE_KEY"), outlet.ENOTFOUND)
		b.tenant(t, "nobody")
		wantIDs(t, "secrets of a tenant created afterwards", secretNames(b.secrets(t, "nobody")), []string{})
	})

	s.test(t, "a tenant sees, replaces and deletes only its own secrets", func(t *testing.T, b *bundle) {
		b.tenant(t, "acme")
		b.tenant(t, "globex")
		b.putSecret(t, "acme", "STRIPE_KEY", sealed("acme's"), base)
		b.putSecret(t, "acme", "ACME_ONLY", sealed("acme's too"), base)
		wantEqual(t, "created for another tenant under a taken name", b.putSecret(t, "globex", "STRIPE_KEY", sealed("globex's"), at(time.Hour)), true)
		wantCode(t, b.store.DeleteSecret(b.ctx, "globex", "ACME_ONLY"), outlet.ENOTFOUND)

		wantIDs(t, "globex's secrets", secretNames(b.secrets(t, "globex")), []string{"STRIPE_KEY"})
		wantSealed(t, "globex's sealed secrets", b.sealedSecrets(t, "globex"), map[string][]byte{"STRIPE_KEY": sealed("globex's")})
		wantSealed(t, "acme's sealed secrets", b.sealedSecrets(t, "acme"),
			map[string][]byte{"STRIPE_KEY": sealed("acme's"), "ACME_ONLY": sealed("acme's too")})
		for _, sec := range b.secrets(t, "acme") {
			wantTime(t, "acme's "+sec.Name+" updated_at", sec.UpdatedAt, base)
		}
	})
}
