package outlet

import (
	"strings"

	"github.com/oklog/ulid/v2"
)

// ID prefixes tell a reader what an identifier points at, as Stripe's do.
const (
	PrefixEvent      = "evt_"
	PrefixEndpoint   = "ep_"
	PrefixDelivery   = "dlv_"
	PrefixAttempt    = "att_"
	PrefixAPIKey     = "key_"
	PrefixInvocation = "inv_"
)

// NewUID returns an internal identity: 128 random bits, never reused, never
// shown. Records whose public ids a caller may reuse (a tenant deleted and
// created again, a function deleted and deployed again) get a new one each
// time, so that nothing kept for the old record can ever match the new one.
func NewUID() string {
	return strings.ToLower(ulid.Make().String())
}

// NewID returns a new identifier: the prefix and a ULID, so identifiers sort by
// creation time and are safe to show in URLs.
func NewID(prefix string) string {
	return prefix + strings.ToLower(ulid.Make().String())
}
