package httpapi

import (
	"encoding/json"

	"github.com/outlethq/outlet"
)

// The views below embed a domain type, whose MarshalJSON would otherwise be
// promoted and write the record alone, dropping the fields they add.

func (v endpointView) MarshalJSON() ([]byte, error)     { return outlet.MarshalView(v) }
func (v keyView) MarshalJSON() ([]byte, error)          { return outlet.MarshalView(v) }
func (v versionView) MarshalJSON() ([]byte, error)      { return outlet.MarshalView(v) }
func (v tenantHook) MarshalJSON() ([]byte, error)       { return outlet.MarshalView(v) }
func (v hookEndpointView) MarshalJSON() ([]byte, error) { return outlet.MarshalView(v) }

// secretView's time is written as every other time of the API.
func (v secretView) MarshalJSON() ([]byte, error) {
	type plain secretView
	return json.Marshal(struct {
		plain
		PreviousSecretExpiresAt *outlet.JSONTime `json:"previous_secret_expires_at,omitempty"`
	}{plain(v), outlet.JSONTimePtr(v.PreviousSecretExpiresAt)})
}
