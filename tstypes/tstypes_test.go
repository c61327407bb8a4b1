package tstypes_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/outlethq/outlet/tstypes"
)

func TestSchemaTypes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, schema, want string
	}{
		{"no schema is unknown", ``, "unknown"},
		{"an empty schema is unknown", `{}`, "unknown"},
		{"false accepts nothing", `false`, "never"},
		{"scalars", `{"type":"integer"}`, "number"},
		{"a list of types is a union", `{"type":["string","null"]}`, "string | null"},
		{"an enum is a union of literals", `{"enum":["EUR","USD",1,null]}`, `"EUR" | "USD" | 1 | null`},
		{"a const is its literal", `{"const":"x\"y"}`, `"x\"y"`},
		{"an array of a union is parenthesized", `{"type":"array","items":{"type":["string","number"]}}`, "(string | number)[]"},
		{"a map", `{"type":"object","additionalProperties":{"type":"number"}}`, "Record<string, number>"},
		{"a bare object", `{"type":"object"}`, "Record<string, unknown>"},
		{"a tuple", `{"type":"array","prefixItems":[{"type":"string"},{"type":"number"}],"items":false}`, "[string, number]"},
		{"a local ref is followed", `{"$defs":{"m":{"type":"number"}},"$ref":"#/$defs/m"}`, "number"},
		{"a remote ref is unknown", `{"$ref":"https://example.com/s.json"}`, "unknown"},
		{"a ref to itself ends at the depth bound", `{"$ref":"#"}`, "unknown"},
		{"allOf is an intersection", `{"allOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},{"type":"object","properties":{"b":{"type":"number"}}}]}`, "{\n  a: string;\n} & {\n  b?: number;\n}"},
		{"invalid JSON is unknown", `{"type":`, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			types := tstypes.Generate(tstypes.Catalog{Tenant: "acme", Hooks: []tstypes.Hook{{Name: "h", InputSchema: json.RawMessage(tc.schema)}}})
			if got := types.Hooks["h"].Input; got != tc.want {
				t.Errorf("schema %s gave\n%s\nwant\n%s", tc.schema, got, tc.want)
			}
		})
	}
}

func TestAHookWithoutAnOutputSchemaAnswersItsInputsType(t *testing.T) {
	t.Parallel()
	types := tstypes.Generate(tstypes.Catalog{Hooks: []tstypes.Hook{
		{Name: "a", InputSchema: json.RawMessage(`{"type":"string"}`)},
		{Name: "b", InputSchema: json.RawMessage(`{"type":"string"}`), OutputSchema: json.RawMessage(`{"type":"number"}`)},
	}})
	if h := types.Hooks["a"]; h.Output != "string" {
		t.Errorf("hook without an output schema: output %q, want the input's type string", h.Output)
	}
	if h := types.Hooks["b"]; h.Output != "number" {
		t.Errorf("hook with an output schema: output %q, want number", h.Output)
	}
}

// catalog is a platform's catalog with the schema features seen in real
// catalogs, and some hostile ones.
var catalog = tstypes.Catalog{
	Tenant: "acme",
	EventTypes: []tstypes.EventType{
		{Name: "invoice.paid", Description: "An invoice was paid in full. */ alert(1)", Schema: json.RawMessage(`{
			"type": "object",
			"required": ["invoice", "amount", "currency"],
			"$defs": {"line": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}},
			"properties": {
				"invoice": {"type": "string", "description": "The invoice's id, in_…"},
				"amount": {"type": "integer", "description": "In cents"},
				"currency": {"enum": ["EUR", "USD"]},
				"lines": {"type": "array", "items": {"$ref": "#/$defs/line"}},
				"note": {"type": ["string", "null"]},
				"old-field": {"type": "string", "deprecated": true},
				"</script>": {"type": "boolean"}
			}
		}`)},
		{Name: "invoice_paid", Schema: json.RawMessage(`{"type":"object"}`)},
		{Name: "user.created", Deprecated: true},
		{Name: "loop", Schema: json.RawMessage(`{"type":"object","properties":{"next":{"$ref":"#"}}}`)},
	},
	Hooks: []tstypes.Hook{
		{Name: "checkout.discount", Description: "Change a cart's total.",
			InputSchema:  json.RawMessage(`{"type":"object","required":["total"],"properties":{"total":{"type":"number"},"coupon":{"type":"string"}}}`),
			OutputSchema: json.RawMessage(`{"type":"object","required":["total"],"properties":{"total":{"type":"number"},"discount":{"type":"number"}}}`)},
		{Name: "user.enrich", InputSchema: json.RawMessage(`{"type":"object","properties":{"email":{"type":"string"}}}`)},
	},
	Secrets: []string{"STAFF_COUPON", "SLACK_URL"},
}

func TestTheDeclarationsTypeAFunctionWithTSC(t *testing.T) {
	t.Parallel()
	tsc := findTSC(t)
	types := tstypes.Generate(catalog)
	for _, tc := range []struct {
		name, source, wantError string
	}{
		{"a function on an event reads its fields", `
import type { Context, Events, InvoicePaidEvent } from "./outlet";
export default async function (event: Events["invoice.paid"], ctx: Context) {
  const cents: number = event.data.amount;
  const cur: "EUR" | "USD" = event.data.currency;
  const skus = (event.data.lines ?? []).map((l) => l.sku.toUpperCase());
  const url = ctx.secrets.SLACK_URL;
  const also: InvoicePaidEvent = event;
  const res = await fetch(url ?? "https://hooks.example.com", { method: "POST", body: { cents, cur, skus } });
  console.log(res.status, await res.text(), also.type, ctx.attempt, crypto.randomUUID());
  setTimeout((n: number) => console.log(n), 10, 1);
  return { ok: res.ok };
}
`, ""},
		{"a misspelt field is a type error", `
import type { Context, Events } from "./outlet";
export default async function (event: Events["invoice.paid"], ctx: Context) {
  return event.data.amout + ctx.tenant;
}
`, "amout"},
		{"a hook function must answer the output schema", `
import type { HookFunction } from "./outlet";
const f: HookFunction<"checkout.discount"> = (input) => ({ total: String(input.total) });
export default f;
`, "not assignable to type 'number'"},
		{"a hook without an output schema answers like its input", `
import type { HookFunction } from "./outlet";
const f: HookFunction<"user.enrich"> = (input, ctx) => ({ email: input.email ?? ctx.tenant });
export default f;
`, ""},
		{"the DOM isn't there", `
export default function () { return document.title; }
`, "document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write(t, dir, "outlet.d.ts", types.Declarations)
			write(t, dir, "outlet-globals.d.ts", types.Globals)
			write(t, dir, "index.ts", tc.source)
			write(t, dir, "tsconfig.json", `{"compilerOptions":{"target":"ES2022","module":"ESNext","moduleResolution":"Bundler","lib":["ES2023"],"types":[],"strict":true,"noEmit":true},"include":["*.ts"]}`)
			out, err := exec.Command(tsc, "-p", dir).CombinedOutput()
			switch {
			case tc.wantError == "" && err != nil:
				t.Fatalf("tsc refused it: %v\n%s\noutlet.d.ts:\n%s", err, out, types.Declarations)
			case tc.wantError != "" && err == nil:
				t.Fatalf("tsc accepted it; want an error naming %q", tc.wantError)
			case tc.wantError != "" && !strings.Contains(string(out), tc.wantError):
				t.Fatalf("tsc's error doesn't name %q:\n%s", tc.wantError, out)
			case tc.wantError != "" && strings.Contains(string(out), "outlet.d.ts"):
				t.Fatalf("the error is in the declarations, not the function:\n%s", out)
			}
		})
	}
}

func TestTheDeclarationsAreTheSameEachTime(t *testing.T) {
	t.Parallel()
	a := tstypes.Generate(catalog)
	for range 20 {
		if b := tstypes.Generate(catalog); b.Declarations != a.Declarations {
			t.Fatalf("two runs on one catalog wrote different declarations:\n%s\n---\n%s", a.Declarations, b.Declarations)
		}
	}
	for _, want := range []string{"/** @deprecated */", `"invoice.paid": {`, "export type InvoicePaidEvent", "readonly SLACK_URL?: string;", "export type CheckoutDiscountOutput"} {
		if !strings.Contains(a.Declarations, want) {
			t.Errorf("outlet.d.ts lacks %q", want)
		}
	}
	if strings.Contains(a.Declarations, "*/ alert") {
		t.Errorf("a description ended its comment early:\n%s", a.Declarations)
	}
	// invoice.paid and invoice_paid both make InvoicePaidEvent: neither
	// gets it twice.
	if n := strings.Count(a.Declarations, "export type InvoicePaidEvent"); n != 1 {
		t.Errorf("InvoicePaidEvent declared %d times", n)
	}
}

func FuzzSchemasAlwaysMakeDeclarations(f *testing.F) {
	for _, s := range []string{`{}`, `{"$ref":"#"}`, `{"type":"object","properties":{"a":{"anyOf":[{"type":"string"},{"const":1}]}}}`, `{"enum":[]}`, `{"allOf":[true,false]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, schema string) {
		types := tstypes.Generate(tstypes.Catalog{EventTypes: []tstypes.EventType{{Name: schema, Schema: json.RawMessage(schema)}}})
		if len(types.Declarations) > 1<<20 {
			t.Fatalf("a %d-byte schema made %d bytes of declarations", len(schema), len(types.Declarations))
		}
	})
}

func findTSC(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	tsc := filepath.Join(filepath.Dir(file), "..", "portal", "web", "node_modules", ".bin", "tsc")
	if _, err := os.Stat(tsc); err != nil {
		t.Skip("SKIPPED: no portal/web/node_modules/.bin/tsc; run `make portal` (npm ci) to check the declarations with tsc")
	}
	return tsc
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
