package schema

import (
	"strings"
	"testing"

	"github.com/outlethq/outlet"
)

// invoiceSchema is a realistic schema to fuzz from.
const invoiceSchema = `{
	"type": "object",
	"required": ["amount", "customer"],
	"additionalProperties": false,
	"properties": {
		"amount": {"type": "integer", "minimum": 0},
		"customer": {"type": "object", "properties": {"email": {"type": "string"}}},
		"items": {"type": "array", "items": {"type": "string"}},
		"currency": {"type": "string"}
	}
}`

// checkInvalid fails unless err is an EINVALID with a message.
func checkInvalid(t *testing.T, what, input string, err error) {
	t.Helper()
	if outlet.ErrorCode(err) != outlet.EINVALID || outlet.ErrorMessage(err) == "" {
		t.Errorf("%s(%.80q): %v (code %s); want EINVALID with a message", what, input, err, outlet.ErrorCode(err))
	}
}

func TestMismatchesNameTheFirstPlaceThatDiffers(t *testing.T) {
	t.Parallel()
	s, err := Compile([]byte(`{"type":"object","required":["amount"],"properties":{"amount":{"type":"integer"},"items":{"type":"array","items":{"type":"string"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for data, where := range map[string]string{`{"amount":"ten"}`: "/amount", `{}`: "at /:", `{"amount":1,"items":["a",2]}`: "/items/1"} {
		err := s.Validate([]byte(data), "data")
		if err == nil || !strings.Contains(outlet.ErrorMessage(err), where) {
			t.Errorf("%s: %v; want a message naming %s", data, err, where)
		}
	}
	if err := s.Validate([]byte(`{"amount":1,"items":["a"]}`), "data"); err != nil {
		t.Errorf("matching data refused: %v", err)
	}
}

func TestSchemasCantReachOutside(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{`{"$ref":"file:///etc/passwd"}`, `{"$ref":"http://127.0.0.1/x.json"}`, `{"$ref":"other.json"}`, `{"$ref":"#"}`} {
		if _, err := Compile([]byte(raw)); outlet.ErrorCode(err) != outlet.EINVALID {
			t.Errorf("%s: %v; want EINVALID", raw, err)
		}
	}
}

// FuzzSchema compiles any bytes as an event type's schema and validates any
// data against it: it never panics, never calls out, and every failure is a
// refusal with a message, never an internal error.
func FuzzSchema(f *testing.F) {
	for _, c := range [][2]string{
		{invoiceSchema, `{"amount":1,"customer":{"email":"a@example.com"}}`},
		{invoiceSchema, `{"amount":-1,"customer":{"email":5},"items":[1],"x":1}`},
		{`{"type":"object","properties":{"a":{"type":"array","items":{"$ref":"#"}}}}`, `{"a":[{"a":[{"a":[]}]}]}`},
		{`{"$defs":{"n":{"type":"integer","multipleOf":0.001}},"$ref":"#/$defs/n"}`, `1e308`},
		{`{"multipleOf":1e-300}`, `1e300`},
		{`{"pattern":"^(a+)+$"}`, `"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"`},
		{`{"pattern":"("}`, `"x"`},
		{`{"format":"email","minLength":2,"maxLength":1}`, `"a@b"`},
		{`{"uniqueItems":true}`, `[1,1.0,{"a":1},{"a":1.0}]`},
		{`{"$ref":"#"}`, `null`},
		{`{"$ref":"http://127.0.0.1:1/x.json"}`, `{}`},
		{`{"$ref":"file:///etc/passwd"}`, `{}`},
		{`{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`, `{"a":"x"}`},
		{`{"$schema":"http://json-schema.org/draft-07/schema#","if":{"type":"string"},"then":{"minLength":3},"else":{"type":"number"}}`, `"ab"`},
		{`{"$schema":"https://json-schema.org/draft/2020-12/schema","unevaluatedProperties":false,"allOf":[{"properties":{"a":true}}]}`, `{"a":1,"b":2}`},
		{`{"$dynamicAnchor":"x","$dynamicRef":"#x"}`, `{}`},
		{`{"$id":"urn:a","$ref":"b"}`, `{}`},
		{`{"contentEncoding":"base64","contentMediaType":"application/json"}`, `"e30="`},
		{`{"dependentRequired":{"a":["b"]},"dependentSchemas":{"c":false},"propertyNames":{"maxLength":2}}`, `{"a":1,"abc":2,"c":3}`},
		{`{"prefixItems":[{"type":"string"}],"items":false,"contains":{"const":1},"minContains":2}`, `["a",1]`},
		{`true`, `1`}, {`false`, `1`}, {`{}`, `{}`}, {`[]`, `[]`}, {`"x"`, `"x"`}, {`null`, `null`}, {`{`, `{`}, {``, ``},
		{strings.Repeat(`{"items":`, 500) + `{}` + strings.Repeat(`}`, 500), strings.Repeat(`[`, 500) + strings.Repeat(`]`, 500)},
	} {
		f.Add([]byte(c[0]), []byte(c[1]))
	}
	f.Fuzz(func(t *testing.T, schema, data []byte) {
		s, err := Compile(schema)
		if err != nil {
			checkInvalid(t, "Compile", string(schema), err)
			return
		}
		if err := s.Validate(data, "data"); err != nil {
			checkInvalid(t, "Validate", string(data), err)
		}
	})
}
