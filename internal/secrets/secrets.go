// Package secrets seals tenants' secrets with AES-256-GCM before they reach
// the store, and opens them for the tenant's functions. The key lives outside
// the database: in $OUTLET_SECRET_KEY, or in a file under --data.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the size of a secrets key: AES-256.
const KeySize = 32

// version prefixes every sealed value, so the format or key can change
// without guessing what an old value is.
const version = 1

// Box seals and opens secrets with one key.
type Box struct {
	aead cipher.AEAD
}

// NewBox makes a Box from a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("the secrets key must be %d bytes; it is %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// additional binds a sealed value to its tenant and name: moved to another
// row of the database, it no longer opens.
func additional(tenant, name string) []byte {
	return []byte(tenant + "\x00" + name)
}

// Seal encrypts a tenant's secret value.
func (b *Box) Seal(tenant, name, value string) []byte {
	nonce := make([]byte, b.aead.NonceSize(), 1+b.aead.NonceSize()+len(value)+b.aead.Overhead())
	rand.Read(nonce)
	out := append([]byte{version}, nonce...)
	return b.aead.Seal(out, nonce, []byte(value), additional(tenant, name))
}

// Open decrypts what Seal made for the same tenant and name.
func (b *Box) Open(tenant, name string, sealed []byte) (string, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != version {
		return "", errors.New("not a sealed secret of a version this Outlet knows")
	}
	plain, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], additional(tenant, name))
	if err != nil {
		return "", errors.New("the secret doesn't open with this key: was OUTLET_SECRET_KEY changed?")
	}
	return string(plain), nil
}

// ParseKey reads a key written as 64 hex digits or as base64.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("a secrets key is %d random bytes written as 64 hex digits or base64 (e.g. openssl rand -hex 32)", KeySize)
}

// LoadKey returns the key in env if it is set, or the key in the file at
// path, creating the file with a new key the first time. generated reports
// whether it did.
func LoadKey(env, path string) (key []byte, generated bool, err error) {
	if env != "" {
		k, err := ParseKey(env)
		if err != nil {
			return nil, false, fmt.Errorf("OUTLET_SECRET_KEY: %w", err)
		}
		return k, false, nil
	}
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	k := make([]byte, KeySize)
	rand.Read(k)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("store the secrets key: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		return nil, false, fmt.Errorf("store the secrets key: %w", err)
	}
	return k, true, nil
}
