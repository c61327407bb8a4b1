package outlet

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestJSONTimeHasExactlyThreeFractionalDigitsInUTC(t *testing.T) {
	t.Parallel()
	cet := time.FixedZone("CET", 3600)
	for _, tt := range []struct {
		name string
		in   time.Time
		want string
	}{
		{"trailing zeros of the milliseconds are kept", time.Date(2026, 3, 1, 7, 15, 53, 640_000_000, time.UTC), `"2026-03-01T07:15:53.640Z"`},
		{"a whole second has .000", time.Date(2026, 3, 1, 3, 4, 5, 0, time.UTC), `"2026-03-01T03:04:05.000Z"`},
		{"digits past the millisecond are cut", time.Date(2026, 3, 1, 3, 4, 5, 123_999_999, time.UTC), `"2026-03-01T03:04:05.123Z"`},
		{"another zone is written in UTC", time.Date(2026, 3, 1, 8, 0, 0, 5_000_000, cet), `"2026-03-01T07:00:00.005Z"`},
	} {
		b, err := json.Marshal(JSONTime(tt.in))
		if err != nil || string(b) != tt.want {
			t.Errorf("%s: %s, %v; want %s", tt.name, b, err, tt.want)
		}
		var back time.Time
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(tt.in.Truncate(time.Millisecond)) {
			t.Errorf("%s: time.Time reads %s back as %v, %v", tt.name, b, back, err)
		}
		var own JSONTime
		if err := json.Unmarshal(b, &own); err != nil || !time.Time(own).Equal(tt.in.Truncate(time.Millisecond)) {
			t.Errorf("%s: JSONTime reads %s back as %v, %v", tt.name, b, time.Time(own), err)
		}
	}
	if b, _ := json.Marshal(JSONTimePtr(nil)); string(b) != "null" {
		t.Errorf("no time is %s, want null", b)
	}
}

// typesWithTimes lists the root package's struct types that have a time
// field in their JSON, by reading the package's source.
func typesWithTimes(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fld := range st.Fields.List {
				typ := fld.Type
				if star, ok := typ.(*ast.StarExpr); ok {
					typ = star.X
				}
				sel, ok := typ.(*ast.SelectorExpr)
				isTime := ok && sel.Sel.Name == "Time" && sel.X.(*ast.Ident).Name == "time"
				if isTime && fld.Tag != nil && strings.Contains(fld.Tag.Value, `json:"`) && !strings.Contains(fld.Tag.Value, `json:"-"`) {
					out[ts.Name.Name] = true
				}
			}
			return true
		})
	}
	return out
}

func TestEveryDomainTypeWritesItsTimesWithMilliseconds(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 3, 4, 5, 0, time.UTC)
	ptr := &at
	// One of each type with times, every time set.
	values := map[string]any{
		"Tenant":          &Tenant{ID: "acme", UID: "hidden", CreatedAt: at, UpdatedAt: at},
		"APIKey":          &APIKey{ID: "key_1", Hash: []byte("hidden"), CreatedAt: at, LastUsedAt: ptr},
		"EventType":       &EventType{Name: "a.b", CreatedAt: at, UpdatedAt: at},
		"Endpoint":        &Endpoint{ID: "ep_1", Secret: "hidden", DisabledAt: ptr, FailingSince: ptr, CreatedAt: at, UpdatedAt: at, PreviousSecretExpiresAt: ptr},
		"Event":           &Event{ID: "evt_1", Data: json.RawMessage(`{"a":1}`), Timestamp: at, CreatedAt: at, PayloadHash: []byte("hidden")},
		"Delivery":        &Delivery{ID: "dlv_1", NextAttemptAt: ptr, LastAttemptAt: ptr, CreatedAt: at, UpdatedAt: at},
		"Attempt":         &Attempt{ID: "att_1", StartedAt: at},
		"Hook":            &Hook{Name: "a.b", CreatedAt: at, UpdatedAt: at},
		"HookEndpoint":    &HookEndpoint{Hook: "a.b", Secret: "hidden", CreatedAt: at, UpdatedAt: at},
		"Function":        &Function{Name: "f", CreatedAt: at, UpdatedAt: at},
		"FunctionVersion": &FunctionVersion{Function: "f", UID: "hidden", Code: []byte("hidden"), CreatedAt: at},
		"Invocation":      &Invocation{ID: "inv_1", StartedAt: at},
		"Secret":          &Secret{Name: "S", CreatedAt: at, UpdatedAt: at},
		"PublishResult":   &PublishResult{ID: "evt_1", Timestamp: at, CreatedAt: at},
		"PortalSession": &PortalSession{ID: "ps_1", TenantID: "acme", ExpiresAt: at, CreatedAt: at, ExchangedAt: ptr, RevokedAt: ptr,
			TokenHash: []byte("hidden"), SecretHash: []byte("hidden")},
		"AuditEntry": &AuditEntry{ID: "aud_1", TenantID: "acme", Summary: json.RawMessage(`{}`), CreatedAt: at},
	}
	for name := range typesWithTimes(t) {
		if _, ok := values[name]; !ok {
			t.Errorf("%s has a time in its JSON: add it to this test, and give it a MarshalJSON in apijson.go", name)
		}
	}
	anyTime := regexp.MustCompile(`"\d{4}-\d\d-\d\dT[^"]*"`)
	for name, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		times := anyTime.FindAllString(string(b), -1)
		for _, s := range times {
			if s != `"2026-03-01T03:04:05.000Z"` {
				t.Errorf("%s writes a time as %s: %s", name, s, b)
			}
		}
		// Every other field is as its tag says: the same keys as the
		// type's default JSON.
		plain := reflect.New(reflect.StructOf(structFields(reflect.TypeOf(v).Elem()))).Elem()
		plain.Set(reflect.ValueOf(v).Elem().Convert(plain.Type()))
		want, _ := json.Marshal(plain.Interface())
		if keys(t, b) != keys(t, want) {
			t.Errorf("%s writes the keys %s; its tags say %s", name, keys(t, b), keys(t, want))
		}
		if strings.Contains(string(b), "hidden") {
			t.Errorf("%s writes a field its tag hides: %s", name, b)
		}
		if got, want := len(times), strings.Count(string(want), `"2026-03-01T03:04:05Z"`); got != want {
			t.Errorf("%s writes %d times; its tags say %d", name, got, want)
		}
	}
}

// structFields are t's fields, for a struct type of the same fields
// without t's methods.
func structFields(t reflect.Type) []reflect.StructField {
	out := make([]reflect.StructField, t.NumField())
	for i := range out {
		out[i] = t.Field(i)
	}
	return out
}

func keys(t *testing.T, b []byte) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

func TestMarshalViewKeepsTheFieldsBesideTheRecord(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 3, 4, 5, 0, time.UTC)
	type keyView struct {
		*APIKey
		Key   string `json:"key,omitempty"`
		Extra int    `json:"extra"`
	}
	b, err := MarshalView(keyView{APIKey: &APIKey{ID: "key_1", CreatedAt: at}, Key: "olk_x", Extra: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(b, &got)
	if got["id"] != "key_1" || got["created_at"] != "2026-03-01T03:04:05.000Z" || got["key"] != "olk_x" || got["extra"] != 2.0 {
		t.Errorf("MarshalView wrote %s; want the key's fields, then key and extra", b)
	}
	if b, _ := MarshalView(keyView{APIKey: &APIKey{ID: "key_1"}}); strings.Contains(string(b), `"key"`) {
		t.Errorf("MarshalView wrote %s; want omitempty honoured", b)
	}
	if b, err := MarshalView(keyView{Extra: 1}); err != nil || string(b) != `{"extra":1}` {
		t.Errorf("MarshalView of a view without its record wrote %s, %v", b, err)
	}
}
