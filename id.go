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

// NewID returns a new identifier: the prefix and a ULID, so identifiers sort by
// creation time and are safe to show in URLs.
func NewID(prefix string) string {
	return prefix + strings.ToLower(ulid.Make().String())
}
