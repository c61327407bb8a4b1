package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/outlethq/outlet"
)

// maxBody caps request bodies other than publishes.
const maxBody = 1 << 20

// readBody reads the whole body, refusing more than limit bytes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(nil, r.Body, limit)
	var b []byte
	var err error
	if n := r.ContentLength; n > 0 && n <= limit {
		// The size is known (and the server reads no further than it): one
		// allocation, not io.ReadAll's doublings.
		b = make([]byte, n)
		_, err = io.ReadFull(body, b)
	} else {
		b, err = io.ReadAll(body)
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, outlet.Errorf(outlet.ETOOLARGE, "request body is larger than %d bytes; send less", limit)
	}
	if err != nil {
		return nil, outlet.Errorf(outlet.EMALFORMED, "could not read the request body: %v", err)
	}
	return b, nil
}

// decodeJSON reads a JSON object into dst, refusing unknown fields, values
// of the wrong type and trailing data, with a message naming what to fix. An
// empty body reads as {} when allowEmpty.
func decodeJSON(body []byte, dst any, allowEmpty bool) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		if allowEmpty {
			return nil
		}
		return outlet.Errorf(outlet.EMALFORMED, "request body is empty; send a JSON object")
	}
	// encoding/json would quietly replace invalid UTF-8 inside strings, and
	// read null as an empty object.
	if !utf8.Valid(body) {
		return outlet.Errorf(outlet.EMALFORMED, "request body is not valid UTF-8; send JSON encoded as UTF-8")
	}
	if string(trimmed) == "null" {
		return outlet.Errorf(outlet.EMALFORMED, "request body must be a JSON object, not null")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return describeJSONError(err, dst)
	}
	if _, err := dec.Token(); err != io.EOF {
		return outlet.Errorf(outlet.EMALFORMED, "request body has data after the JSON object; send exactly one object")
	}
	return nil
}

func describeJSONError(err error, dst any) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return outlet.Errorf(outlet.EMALFORMED, "request body is not valid JSON: %v (at byte %d)", syntax, syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return outlet.Errorf(outlet.EMALFORMED, "request body must be a JSON object, not %s", jsonValue(typ.Value))
		}
		field := fieldType(reflect.TypeOf(dst), typ.Field)
		if field == nil {
			field = typ.Type
		}
		if deref(field).Kind() != deref(typ.Type).Kind() {
			// The mismatch is inside the field: an element of an array or a
			// value of an object.
			return outlet.Errorf(outlet.EMALFORMED, "field %q must be %s; it holds %s", typ.Field, describeType(field), jsonValue(typ.Value))
		}
		return outlet.Errorf(outlet.EMALFORMED, "field %q must be %s, not %s", typ.Field, describeType(field), jsonValue(typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return outlet.Errorf(outlet.EMALFORMED, "request body is not valid JSON: it ends too early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if len(name) > 100 {
			name = name[:100] + "…"
		}
		return outlet.Errorf(outlet.EMALFORMED, "request body has unknown field %s; check its spelling against the API reference", name)
	}
	var ce *outlet.Error
	if errors.As(err, &ce) {
		return err
	}
	return outlet.Errorf(outlet.EMALFORMED, "request body can't be read: %v", err)
}

// fieldType finds the Go type of the field at a dotted JSON path in t; nil
// if there is none.
func fieldType(t reflect.Type, path string) reflect.Type {
	for _, name := range strings.Split(path, ".") {
		t = deref(t)
		if t == nil || t.Kind() != reflect.Struct {
			return nil
		}
		var found reflect.Type
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == name || (tag == "" && f.Name == name) {
				found = f.Type
				break
			}
		}
		if found == nil {
			return nil
		}
		t = found
	}
	return t
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	rawJSONType = reflect.TypeFor[json.RawMessage]()
)

// describeType says in JSON's words what a value of Go type t looks like.
func describeType(t reflect.Type) string {
	t = deref(t)
	switch t {
	case timeType, reflect.TypeFor[timeField]():
		return `an RFC 3339 time such as "2026-01-02T15:04:05Z"`
	case rawJSONType:
		return "any JSON value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array of " + plural(t.Elem())
	case reflect.Map:
		return "an object of " + plural(t.Elem())
	default:
		return "an object"
	}
}

func plural(t reflect.Type) string {
	switch d := describeType(t); d {
	case "true or false":
		return "true or false values"
	case "any JSON value":
		return "JSON values"
	default:
		_, noun, _ := strings.Cut(d, " ")
		return noun + "s"
	}
}

// jsonValue puts an UnmarshalTypeError's Value into words.
func jsonValue(v string) string {
	switch v {
	case "string", "number":
		return "a " + v
	case "object", "array":
		return "an " + v
	case "bool":
		return "a boolean"
	}
	if n, ok := strings.CutPrefix(v, "number "); ok {
		if len(n) > 40 {
			n = n[:40] + "…"
		}
		return "the number " + n
	}
	return v
}

// timeField is a time in a request body. Unlike time.Time's, its decoding
// error is a type error, which encoding/json labels with the field's name.
type timeField struct{ time.Time }

func (t *timeField) UnmarshalJSON(b []byte) error {
	if err := t.Time.UnmarshalJSON(b); err != nil {
		return &json.UnmarshalTypeError{Value: jsonValueOf(b), Type: timeType}
	}
	return nil
}

// jsonValueOf names a JSON value for a message: a string by its text, others
// by their kind.
func jsonValueOf(b []byte) string {
	switch b[0] {
	case '"':
		var s string
		json.Unmarshal(b, &s)
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return strconv.Quote(s)
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	default:
		return "number " + string(b) // jsonValue shortens it
	}
}
