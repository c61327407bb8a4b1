package secrets

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func box(t *testing.T) *Box {
	b, err := NewBox(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestASealedSecretOpensOnlyForItsTenantAndName(t *testing.T) {
	t.Parallel()
	b := box(t)
	sealed := b.Seal("acme", "STRIPE_KEY", "sk_live_abc123")
	if bytes.Contains(sealed, []byte("sk_live_abc123")) {
		t.Fatal("the sealed value holds the plain text")
	}
	if v, err := b.Open("acme", "STRIPE_KEY", sealed); err != nil || v != "sk_live_abc123" {
		t.Errorf("open: %q %v", v, err)
	}
	for _, c := range []struct{ tenant, name string }{{"globex", "STRIPE_KEY"}, {"acme", "OTHER"}} {
		if _, err := b.Open(c.tenant, c.name, sealed); err == nil {
			t.Errorf("a secret of acme/STRIPE_KEY opened as %s/%s", c.tenant, c.name)
		}
	}
	other, _ := NewBox(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open("acme", "STRIPE_KEY", sealed); err == nil {
		t.Error("a secret opened with another key")
	}
	if bytes.Equal(sealed, b.Seal("acme", "STRIPE_KEY", "sk_live_abc123")) {
		t.Error("sealing twice gave the same bytes; nonces must differ")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := b.Open("acme", "STRIPE_KEY", sealed); err == nil {
		t.Error("a tampered secret opened")
	}
}

func TestKeysLoadFromTheEnvironmentOrAFileMadeOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret.key")
	k1, gen, err := LoadKey("", path)
	if err != nil || !gen || len(k1) != KeySize {
		t.Fatalf("first load: %v %v", gen, err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v; want 0600", info.Mode().Perm())
	}
	k2, gen, err := LoadKey("", path)
	if err != nil || gen || !bytes.Equal(k1, k2) {
		t.Errorf("second load: generated %v, same %v, %v", gen, bytes.Equal(k1, k2), err)
	}
	hexKey := "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	k3, gen, err := LoadKey(hexKey, path)
	if err != nil || gen || k3[31] != 0x1f {
		t.Errorf("env key: %v %v", gen, err)
	}
	for _, bad := range []string{"short", "zz" + hexKey[2:], "AAAA"} {
		if _, _, err := LoadKey(bad, path); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
}
