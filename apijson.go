package outlet

import (
	"encoding/json"
	"reflect"
	"time"
)

// JSONTime is a time as the API and webhook bodies write it: RFC 3339 in
// UTC with exactly three fractional digits (2026-03-01T12:00:00.120Z), as
// TimestampFormat says. time.Time's own JSON drops trailing zeros
// (12:00:00.12Z, 12:00:00Z), so one answer would mix widths. Any RFC 3339
// reader, time.Time's included, reads it back.
type JSONTime time.Time

func (t JSONTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimestampFormat)+2)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, TimestampFormat)
	return append(b, '"'), nil
}

// UnmarshalJSON reads any RFC 3339 time, as time.Time does, so a type that
// writes a JSONTime reads its own JSON back.
func (t *JSONTime) UnmarshalJSON(b []byte) error {
	return (*time.Time)(t).UnmarshalJSON(b)
}

// JSONTimePtr is t as a JSONTime, nil (JSON null) when t is nil.
func JSONTimePtr(t *time.Time) *JSONTime {
	if t == nil {
		return nil
	}
	j := JSONTime(*t)
	return &j
}

// The MarshalJSON methods below write the domain's types as the API answers
// with them: every field as its tag says, times as JSONTime. Each shadows the
// time fields of a copy of the type without methods (plain), so a field
// added to the type appears in its JSON with no change here.
//
// A MarshalJSON is promoted to every struct that embeds the type, and would
// stand in for that struct's own JSON, dropping its other fields: a struct
// that embeds one of these types needs a MarshalJSON of its own (see
// MarshalView).

func (t Tenant) MarshalJSON() ([]byte, error) {
	type plain Tenant
	return json.Marshal(struct {
		plain
		CreatedAt JSONTime `json:"created_at"`
		UpdatedAt JSONTime `json:"updated_at"`
	}{plain(t), JSONTime(t.CreatedAt), JSONTime(t.UpdatedAt)})
}

func (k APIKey) MarshalJSON() ([]byte, error) {
	type plain APIKey
	return json.Marshal(struct {
		plain
		CreatedAt  JSONTime  `json:"created_at"`
		LastUsedAt *JSONTime `json:"last_used_at"`
	}{plain(k), JSONTime(k.CreatedAt), JSONTimePtr(k.LastUsedAt)})
}

func (et EventType) MarshalJSON() ([]byte, error) {
	type plain EventType
	return json.Marshal(struct {
		plain
		CreatedAt JSONTime `json:"created_at"`
		UpdatedAt JSONTime `json:"updated_at"`
	}{plain(et), JSONTime(et.CreatedAt), JSONTime(et.UpdatedAt)})
}

func (ep Endpoint) MarshalJSON() ([]byte, error) {
	type plain Endpoint
	return json.Marshal(struct {
		plain
		DisabledAt   *JSONTime `json:"disabled_at"`
		FailingSince *JSONTime `json:"failing_since"`
		CreatedAt    JSONTime  `json:"created_at"`
		UpdatedAt    JSONTime  `json:"updated_at"`
	}{plain(ep), JSONTimePtr(ep.DisabledAt), JSONTimePtr(ep.FailingSince), JSONTime(ep.CreatedAt), JSONTime(ep.UpdatedAt)})
}

func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	return json.Marshal(struct {
		plain
		Timestamp JSONTime `json:"timestamp"`
		CreatedAt JSONTime `json:"created_at"`
	}{plain(e), JSONTime(e.Timestamp), JSONTime(e.CreatedAt)})
}

func (d Delivery) MarshalJSON() ([]byte, error) {
	type plain Delivery
	return json.Marshal(struct {
		plain
		NextAttemptAt *JSONTime `json:"next_attempt_at"`
		LastAttemptAt *JSONTime `json:"last_attempt_at"`
		CreatedAt     JSONTime  `json:"created_at"`
		UpdatedAt     JSONTime  `json:"updated_at"`
	}{plain(d), JSONTimePtr(d.NextAttemptAt), JSONTimePtr(d.LastAttemptAt), JSONTime(d.CreatedAt), JSONTime(d.UpdatedAt)})
}

func (a Attempt) MarshalJSON() ([]byte, error) {
	type plain Attempt
	return json.Marshal(struct {
		plain
		StartedAt JSONTime `json:"started_at"`
	}{plain(a), JSONTime(a.StartedAt)})
}

func (h Hook) MarshalJSON() ([]byte, error) {
	type plain Hook
	return json.Marshal(struct {
		plain
		CreatedAt JSONTime `json:"created_at"`
		UpdatedAt JSONTime `json:"updated_at"`
	}{plain(h), JSONTime(h.CreatedAt), JSONTime(h.UpdatedAt)})
}

func (e HookEndpoint) MarshalJSON() ([]byte, error) {
	type plain HookEndpoint
	return json.Marshal(struct {
		plain
		CreatedAt JSONTime `json:"created_at"`
		UpdatedAt JSONTime `json:"updated_at"`
	}{plain(e), JSONTime(e.CreatedAt), JSONTime(e.UpdatedAt)})
}

func (f Function) MarshalJSON() ([]byte, error) {
	type plain Function
	return json.Marshal(struct {
		plain
		CreatedAt JSONTime `json:"created_at"`
		UpdatedAt JSONTime `json:"updated_at"`
	}{plain(f), JSONTime(f.CreatedAt), JSONTime(f.UpdatedAt)})
}

func (v FunctionVersion) MarshalJSON() ([]byte, error) {
	type plain FunctionVersion
	return json.Marshal(struct {
		plain
		CreatedAt JSONTime `json:"created_at"`
	}{plain(v), JSONTime(v.CreatedAt)})
}

func (inv Invocation) MarshalJSON() ([]byte, error) {
	type plain Invocation
	return json.Marshal(struct {
		plain
		StartedAt JSONTime `json:"started_at"`
	}{plain(inv), JSONTime(inv.StartedAt)})
}

func (s Secret) MarshalJSON() ([]byte, error) {
	type plain Secret
	return json.Marshal(struct {
		plain
		CreatedAt JSONTime `json:"created_at"`
		UpdatedAt JSONTime `json:"updated_at"`
	}{plain(s), JSONTime(s.CreatedAt), JSONTime(s.UpdatedAt)})
}

func (s PortalSession) MarshalJSON() ([]byte, error) {
	type plain PortalSession
	// The operator's sessions have a null tenant, which reads back as "".
	var tenant *string
	if s.TenantID != "" {
		tenant = &s.TenantID
	}
	return json.Marshal(struct {
		plain
		TenantID    *string   `json:"tenant_id"`
		ExpiresAt   JSONTime  `json:"expires_at"`
		CreatedAt   JSONTime  `json:"created_at"`
		ExchangedAt *JSONTime `json:"exchanged_at"`
		RevokedAt   *JSONTime `json:"revoked_at"`
	}{plain(s), tenant, JSONTime(s.ExpiresAt), JSONTime(s.CreatedAt), JSONTimePtr(s.ExchangedAt), JSONTimePtr(s.RevokedAt)})
}

func (e AuditEntry) MarshalJSON() ([]byte, error) {
	type plain AuditEntry
	// The operator's own changes have a null tenant, as its sessions do.
	var tenant *string
	if e.TenantID != "" {
		tenant = &e.TenantID
	}
	return json.Marshal(struct {
		plain
		TenantID  *string  `json:"tenant_id"`
		CreatedAt JSONTime `json:"created_at"`
	}{plain(e), tenant, JSONTime(e.CreatedAt)})
}

// MarshalView writes a struct that embeds one of the types above (or a
// pointer to one) and adds fields of its own — an endpoint with its secret, a
// key with its value — as one object: the embedded type's JSON, then the
// other fields as their tags say. Such a struct's MarshalJSON calls it, since
// the embedded type's MarshalJSON, promoted, would leave its fields out.
func MarshalView(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	rt := rv.Type()
	var base []byte
	var fields []reflect.StructField
	var values []reflect.Value
	for i := range rt.NumField() {
		f := rt.Field(i)
		switch {
		case f.Anonymous:
			if fv := rv.Field(i); !(fv.Kind() == reflect.Pointer && fv.IsNil()) {
				b, err := json.Marshal(fv.Interface())
				if err != nil {
					return nil, err
				}
				base = b
			}
		case f.IsExported():
			fields = append(fields, reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag})
			values = append(values, rv.Field(i))
		}
	}
	more := reflect.New(reflect.StructOf(fields)).Elem()
	for i, fv := range values {
		more.Field(i).Set(fv)
	}
	m, err := json.Marshal(more.Interface())
	if err != nil || base == nil {
		return m, err
	}
	return joinObjects(base, m)
}

// joinObjects joins two JSON objects' members into one object.
func joinObjects(a, b []byte) ([]byte, error) {
	if len(a) < 2 || a[0] != '{' || a[len(a)-1] != '}' || len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, Errorf(EINTERNAL, "joining JSON: %.40s and %.40s are not both objects", a, b)
	}
	if len(b) == 2 {
		return a, nil
	}
	out := make([]byte, 0, len(a)+len(b))
	out = append(out, a[:len(a)-1]...)
	if len(a) > 2 {
		out = append(out, ',')
	}
	return append(out, b[1:]...), nil
}

func (r PublishResult) MarshalJSON() ([]byte, error) {
	type plain PublishResult
	return json.Marshal(struct {
		plain
		Timestamp JSONTime `json:"timestamp"`
		CreatedAt JSONTime `json:"created_at"`
	}{plain(r), JSONTime(r.Timestamp), JSONTime(r.CreatedAt)})
}

// MarshalJSON writes the item as its PublishResult, or as {"error":…} when
// the event was refused.
func (it PublishBatchItem) MarshalJSON() ([]byte, error) {
	if it.Error != nil || it.PublishResult == nil {
		return json.Marshal(struct {
			Error *Error `json:"error"`
		}{it.Error})
	}
	return it.PublishResult.MarshalJSON()
}
