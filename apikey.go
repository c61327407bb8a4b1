package outlet

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// APIKey lets one tenant's systems call the API for that tenant alone. Only a
// hash of the secret is stored; the secret is shown once, when created.
type APIKey struct {
	ID         string     `json:"id"`
	TenantID   string     `json:"tenant_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // the first characters of the secret, to recognise it
	Hash       []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// KeyPrefix starts every key Outlet generates, so secret scanners can find
// leaked ones.
const KeyPrefix = "olk_"

// NewAPIKeySecret returns a fresh random key secret.
func NewAPIKeySecret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashAPIKey returns the hash under which a key secret is stored and looked up.
func HashAPIKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// NewAPIKey builds the stored record for a fresh key of a tenant and returns
// it with the secret, which is not kept anywhere.
func NewAPIKey(tenantID, name string, now time.Time) (*APIKey, string, error) {
	if len(name) > 200 {
		return nil, "", Errorf(EINVALID, "key name is %d characters long; the limit is 200", len(name))
	}
	secret := NewAPIKeySecret()
	return &APIKey{
		ID:        NewID(PrefixAPIKey),
		TenantID:  tenantID,
		Name:      name,
		Prefix:    secret[:len(KeyPrefix)+6],
		Hash:      HashAPIKey(secret),
		CreatedAt: now,
	}, secret, nil
}
