package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outlethq/outlet"
)

// requestBodies seed the fuzzers of request bodies: what callers send, and
// what they send by mistake.
var requestBodies = []string{
	`{"id":"acme","name":"Acme Inc","metadata":{"plan":"pro"}}`,
	`{"url":"https://example.com/hook","event_types":["invoice.*"],"headers":{"X-Team":"billing"},"metadata":{},"disabled":false,"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`,
	`{"name":"invoice.paid","description":"Paid.","schema":{"type":"object","required":["amount"]},"sample":{"amount":1},"deprecated":true}`,
	`{"type":"invoice.paid","data":{"amount":100,"lines":[{"sku":"a"}]},"id":"inv_1","timestamp":"2026-01-02T15:04:05.123Z"}`,
	`{"since":"2026-01-02T15:04:05Z"}`,
	`{"type":"invoice.paid","data":null}`,
	`{"timestamp":"2026-13-45T99:99:99Z"}`,
	`{"since":"yesterday"}`,
	`{"since":1700000000}`,
	`{"url":5,"event_types":"x","headers":[1],"disabled":"yes","metadata":{"k":1}}`,
	`{"name":false,"deprecated":"no","schema":`,
	`{"data":` + strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200) + `}`,
	`{"data":` + strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001) + `}`,
	`{"event_types":[` + strings.Repeat(`"a",`, 200) + `"a"]}`,
	`{"metadata":{"` + strings.Repeat("k", 300) + `":"v"}}`,
	`{"` + strings.Repeat("z", 500) + `":1}`,
	`{"id":"\u0000\ud800","name":"\ufeff"}`,
	"{\"name\":\"\xff\xfe\"}",
	"\xef\xbb\xbf{}",
	`{"a":1}{}`,
	`{"type":"invoice.paid","type":"other"}`,
	`{"TYPE":"invoice.paid","Data":{}}`,
	`{"data":1e999}`,
	`{"data":-0.0e-0}`,
	`{"overlap_seconds":9223372036854775808}`,
	`{"timestamp":null,"id":null,"url":null}`,
	`{}`, `[]`, `null`, `""`, `0`, `true`, ``, ` `, `{`, `}`, `{"`, `{"a"`, `{"a":`, `{"a":}`, "\x00",
}

// FuzzDecodeJSON decodes any bytes into every request type the API reads: it
// never panics, accepts only one JSON object, and refuses anything else as
// malformed with a message of sensible length.
func FuzzDecodeJSON(f *testing.F) {
	for _, b := range requestBodies {
		f.Add([]byte(b), false)
	}
	f.Add([]byte(""), true)
	f.Add([]byte("  \n"), true)
	f.Fuzz(func(t *testing.T, body []byte, allowEmpty bool) {
		for _, dst := range []any{
			&tenantRequest{}, &endpointRequest{}, &eventTypeRequest{}, &publishRequest{}, &deployRequest{}, &hookRequest{},
			&struct {
				Since *timeField `json:"since"`
			}{},
			&struct{}{},
		} {
			err := decodeJSON(body, dst, allowEmpty)
			trimmed := bytes.TrimSpace(body)
			if err == nil {
				if len(trimmed) == 0 && allowEmpty {
					continue
				}
				if !utf8.Valid(body) || !json.Valid(body) || trimmed[0] != '{' {
					t.Fatalf("decodeJSON(%q) into %T accepted something that is not one UTF-8 JSON object", body, dst)
				}
				continue
			}
			if code := outlet.ErrorCode(err); code != outlet.EMALFORMED {
				t.Fatalf("decodeJSON(%q) into %T: code %q (%v), want malformed", body, dst, code, err)
			}
			if msg := outlet.ErrorMessage(err); msg == "" || len(msg) > 500 {
				t.Fatalf("decodeJSON(%q) into %T: message of %d bytes: %q", body, dst, len(msg), msg)
			}
		}
	})
}

// FuzzPublish sends any body and Idempotency-Key to the real publish route:
// it never answers 5xx, refuses with the JSON error shape, and stores nothing
// when it refuses.
func FuzzPublish(f *testing.F) {
	b := setup(f)
	for _, body := range requestBodies {
		f.Add([]byte(body), "")
	}
	for _, c := range []struct{ body, key string }{
		{`{"type":"invoice.paid","data":{"amount":1}}`, "order-1"},
		{`{"type":"invoice.paid","data":{"amount":2}}`, "order-1"},
		{`{"type":"invoice.paid","data":{"amount":"x"}}`, ""},
		{`{"type":"invoice.paid","data":{"amount":1},"id":"evt_custom"}`, ""},
		{`{"type":"invoice.paid","data":{"amount":1},"id":"evt_custom"}`, "other"},
		{`{"type":"a.b","data":"` + strings.Repeat("x", 300<<10) + `"}`, ""},
		{`{"type":"a.b","data":{}}`, strings.Repeat("k", 257)},
		{`{"type":"a.b","data":{}}`, "key\nwith\x00controls"},
		{`{"type":"a.b","data":{}}`, "ключ"},
		{`{"type":"` + strings.Repeat("a", 129) + `","data":{}}`, ""},
		{`{"type":"a..b","data":{}}`, ""},
		{`{"type":"a.b","data":{},"timestamp":"0001-01-01T00:00:00Z"}`, ""},
		{`{"type":"a.b","data":{},"timestamp":"9999-12-31T23:59:59.999999999+14:00"}`, ""},
	} {
		f.Add([]byte(c.body), c.key)
	}
	ctx := context.Background()
	newest := func(t *testing.T) string {
		evs, _, err := b.store.ListEvents(ctx, b.other, outlet.EventFilter{Page: outlet.Page{Limit: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return ""
		}
		return evs[0].ID
	}
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		before := newest(t)
		r := httptest.NewRequest("POST", "/v1/tenants/globex/events", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+b.otherKey)
		if key != "" {
			r.Header["Idempotency-Key"] = []string{key}
		}
		w := httptest.NewRecorder()
		b.api.ServeHTTP(w, r)
		a := answer{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
		switch {
		case a.status == http.StatusAccepted:
			var out outlet.PublishResult
			if err := json.Unmarshal(a.body, &out); err != nil || out.ID == "" {
				t.Fatalf("202 without an event id: %s", a.body)
			}
		default:
			if _, problem := a.checkError(); problem != "" {
				t.Fatalf("body %q, key %q: %s; answered %d %s", body, key, problem, a.status, a.body)
			}
			if after := newest(t); after != before {
				t.Fatalf("body %q, key %q answered %d but stored event %s", body, key, a.status, after)
			}
		}
	})
}

// FuzzDeploy sends any body to the real deploy route, with the tenant's key:
// it never answers 5xx, refuses with the JSON error shape, and a refused
// deploy stores nothing.
func FuzzDeploy(f *testing.F) {
	b := setup(f)
	for _, body := range requestBodies {
		f.Add([]byte(body))
	}
	for _, body := range []string{
		deployJS,
		deploy("export default async (input, ctx) => { console.log(ctx.secrets.STRIPE_KEY); return input }", `"events":["invoice.*","*"]`),
		`{"runtime":"typescript","code":"type T = {a: number}\nexport default (e: T): T => e","hooks":["checkout.discount"],"max_logs_kb":16}`,
		`{"runtime":"wasm","wasm":"` + minimalWasm + `","memory_mb":1,"stack_frames":1}`,
		`{"runtime":"wasm","wasm":"AGFzbQEAAAA="}`,
		`{"runtime":"wasm","wasm":"AGFzbQ-_"}`,
		`{"runtime":"wasm","wasm":"aGVsbG8=","code":"x"}`,
		`{"runtime":"wasm","wasm":"\u0000"}`,
		deploy("export default function (e) {\n  return e +;\n}", ""),
		deploy("export default 5", ""),
		deploy("throw new Error('at load')", ""),
		deploy("import x from 'x'\nexport default x", ""),
		deploy("export default (e) => e\u0000 + 1", ""),
		deploy("export default (e) => '\\ud800' + \"\xff\"", ""),
		deploy("export default (e) => e", `"hooks":["login.post"]`),
		deploy("export default (e) => e", `"hooks":["checkout.tax"]`),
		deploy("export default (e) => e", `"hooks":["Bad Hook"],"events":["a..b"]`),
		deploy("export default (e) => e", `"timeout_ms":-1,"memory_mb":9223372036854775807`),
		deploy("export default (e) => e", `"max_input_kb":1024,"max_output_kb":1024,"timeout_ms":60000,"memory_mb":256`),
		`{"runtime":"javascript","code":""}`,
		`{"runtime":"python","code":"print(1)"}`,
		`{"runtime":null,"code":null,"wasm":null,"events":null,"hooks":null}`,
		`{"code":"export default (e) => e"}`,
	} {
		f.Add([]byte(body))
	}
	ctx := context.Background()
	functions := func(t *testing.T) string {
		fs, err := b.store.ListFunctions(ctx, b.tenant)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(fs)
		return string(out)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		before := functions(t)
		r := httptest.NewRequest("PUT", "/v1/tenants/acme/functions/fuzzed", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+b.key)
		w := httptest.NewRecorder()
		b.api.ServeHTTP(w, r)
		a := answer{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
		b.checkNoSecret(t, req{method: "PUT", path: r.URL.Path}, a)
		switch a.status {
		case http.StatusOK, http.StatusCreated:
			var v struct {
				Name    string
				Version int
				Active  bool
			}
			if err := json.Unmarshal(a.body, &v); err != nil || v.Name != "fuzzed" || v.Version < 1 || !v.Active {
				t.Fatalf("body %q: a deploy answered %d %s", body, a.status, a.body)
			}
		default:
			if _, problem := a.checkError(); problem != "" {
				t.Fatalf("body %q: %s; answered %d %s", body, problem, a.status, a.body)
			}
			if after := functions(t); after != before {
				t.Fatalf("body %q answered %d but changed the functions: %s", body, a.status, diff(before, after))
			}
		}
	})
}

// FuzzQueryParams reads any query string as paging and time parameters: it
// never panics, and what it accepts is in range.
func FuzzQueryParams(f *testing.F) {
	for _, q := range []string{
		"", "limit=10", "limit=250&cursor=" + outlet.EncodeCursor(42), "cursor=MTIz", "since=2026-01-02T15:04:05Z&before=2026-01-03T00:00:00.5%2B02:00",
		"limit=0", "limit=-1", "limit=251", "limit=1e3", "limit=0x10", "limit=%2B5", "limit= 5", "limit=99999999999999999999",
		"limit=1&limit=x", "cursor=", "cursor=!!!", "cursor=MA", "cursor=LTE", "cursor=%00", "cursor=" + strings.Repeat("A", 300),
		"since=yesterday", "since=2026-13-01T00:00:00Z", "since=2026-01-02T15:04:05", "before=%FF%FE", "since=0000-01-01T00:00:00Z",
		"since=2026-01-02T24:00:00Z", "%", "&&&", "limit=%", ";limit=5", "since=" + strings.Repeat("9", 300),
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest("GET", "/v1/tenants/acme/events", nil)
		r.URL.RawQuery = query
		p, err := pageParams(r)
		if err != nil {
			checkInvalid(t, "pageParams", query, err)
		} else {
			if p.Limit < 1 || p.Limit > outlet.MaxPageLimit {
				t.Fatalf("pageParams(%q) accepted limit %d", query, p.Limit)
			}
			if p.Cursor != "" {
				if _, err := outlet.DecodeCursor(p.Cursor); err != nil {
					t.Fatalf("pageParams(%q) accepted cursor %q: %v", query, p.Cursor, err)
				}
			}
		}
		for _, name := range []string{"since", "before"} {
			if _, err := timeParam(r, name); err != nil {
				checkInvalid(t, "timeParam "+name, query, err)
				if !strings.Contains(outlet.ErrorMessage(err), name) {
					t.Fatalf("timeParam(%q, %s): message %q doesn't name the parameter", query, name, outlet.ErrorMessage(err))
				}
			}
		}
	})
}

func checkInvalid(t *testing.T, what, input string, err error) {
	t.Helper()
	if code := outlet.ErrorCode(err); code != outlet.EINVALID {
		t.Fatalf("%s(%q): code %q (%v), want invalid", what, input, code, err)
	}
	if outlet.ErrorMessage(err) == "" {
		t.Fatalf("%s(%q): no message", what, input)
	}
}
