package client

import "github.com/outlethq/outlet"

// These types embed a domain type, whose MarshalJSON would otherwise be
// promoted and write the record alone, dropping the fields they add.

func (k CreatedAPIKey) MarshalJSON() ([]byte, error) { return outlet.MarshalView(k) }
func (h TenantHook) MarshalJSON() ([]byte, error)    { return outlet.MarshalView(h) }
