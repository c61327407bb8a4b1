// Package tstypes writes the TypeScript declarations a tenant's functions
// are typed with: ctx (with the tenant's secret names), the world the
// sandbox gives a function (console, fetch, timers, crypto), and an
// interface per event type and per hook input and output, from the
// catalog's JSON Schemas.
//
// `outlet types` writes them into a customer's repository for their editor
// and tsc; the portal's editor types its templates with the same text, from
// GET /v1/tenants/{tenant}/function-types.
//
// Schemas are the platform's, so anything may come in: every walk is bounded
// in depth and in size, and what a schema doesn't say is `unknown`.
package tstypes

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Catalog is what the declarations are made from.
type Catalog struct {
	// Tenant is named in the file's heading.
	Tenant     string
	EventTypes []EventType
	Hooks      []Hook
	// Secrets are the tenant's secret names (never values).
	Secrets []string
}

// EventType is one event type of the catalog.
type EventType struct {
	Name        string
	Description string
	Schema      json.RawMessage
	Deprecated  bool
}

// Hook is one hook the platform offers.
type Hook struct {
	Name         string
	Description  string
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
}

// Types is the generated text.
type Types struct {
	// Declarations is outlet.d.ts: a module of types to import
	// (import type { Context, Events } from "./outlet").
	Declarations string `json:"declarations"`
	// Globals is outlet-globals.d.ts: what the sandbox puts on the global
	// object, for a tsconfig whose lib has no DOM.
	Globals string `json:"globals"`
	// Events is each event type's event, as a TypeScript type expression.
	Events map[string]string `json:"events"`
	// Hooks is each hook's input and output types.
	Hooks map[string]HookTypes `json:"hooks"`
	// Context is the Context interface alone, with the secret names, for a
	// function written as one file.
	Context string `json:"context"`
}

// HookTypes is a hook's input and output, as TypeScript type expressions.
// Output is the input's type when the hook declares no output schema (a
// function may pass its input on), else the output schema's.
type HookTypes struct {
	Input  string `json:"input"`
	Output string `json:"output"`
}

const (
	// maxDepth bounds how deep a schema is followed (nesting and $refs).
	maxDepth = 12
	// maxTypeBytes bounds one event's or hook's type: a schema that would
	// write more is `unknown` past that point.
	maxTypeBytes = 64 << 10
)

// Generate writes the declarations of c.
func Generate(c Catalog) Types {
	t := Types{Events: map[string]string{}, Hooks: map[string]HookTypes{}}
	events := slices.Clone(c.EventTypes)
	slices.SortFunc(events, func(a, b EventType) int { return strings.Compare(a.Name, b.Name) })
	hooks := slices.Clone(c.Hooks)
	slices.SortFunc(hooks, func(a, b Hook) int { return strings.Compare(a.Name, b.Name) })
	secrets := slices.Clone(c.Secrets)
	slices.Sort(secrets)
	secrets = slices.Compact(secrets)

	var b strings.Builder
	fmt.Fprintf(&b, "// Types for the functions of tenant %s, made by Outlet from its event\n", c.Tenant)
	b.WriteString("// catalog, hooks and secret names. `outlet types` writes this file again when\n")
	b.WriteString("// they change; don't edit it. A deploy strips types, so import them with\n")
	b.WriteString("// `import type`:\n")
	b.WriteString("//\n")
	b.WriteString("//   import type { Context, Events } from \"./outlet\";\n")
	b.WriteString("//   export default async function (event: Events[\"invoice.paid\"], ctx: Context) { … }\n\n")

	t.Context = contextDecl(secrets, "")
	b.WriteString(contextDecl(secrets, "export "))

	b.WriteString("\n/** Each event type of the catalog, by name: what a function it runs on gets as `event` (the body a webhook receiver gets). */\n")
	b.WriteString("export interface Events {\n")
	aliases := newNames()
	var eventAliases []string
	for _, e := range events {
		typ := eventType(e)
		t.Events[e.Name] = typ
		b.WriteString(doc("  ", e.Description, e.Deprecated))
		fmt.Fprintf(&b, "  %s: %s;\n", quote(e.Name), indent(typ, "  "))
		if n := pascal(e.Name) + "Event"; aliases.take(n) {
			eventAliases = append(eventAliases, fmt.Sprintf("export type %s = Events[%s];\n", n, str(e.Name)))
		}
	}
	b.WriteString("}\n\n")
	b.WriteString("/** An event type's name. */\nexport type EventType = keyof Events;\n")
	b.WriteString("/** Any event of the catalog. */\nexport type Event = Events[EventType];\n")
	for _, a := range eventAliases {
		b.WriteString(a)
	}

	b.WriteString("\n/** Each hook's input: what the platform sends, or what the function before yours in the chain returned. */\n")
	b.WriteString("export interface HookInputs {\n")
	var outputs strings.Builder
	var hookAliases []string
	for _, h := range hooks {
		in := schemaType(h.InputSchema)
		out := in
		if len(h.OutputSchema) > 0 && string(h.OutputSchema) != "null" {
			out = schemaType(h.OutputSchema)
		}
		t.Hooks[h.Name] = HookTypes{Input: in, Output: out}
		b.WriteString(doc("  ", h.Description, false))
		fmt.Fprintf(&b, "  %s: %s;\n", quote(h.Name), indent(in, "  "))
		fmt.Fprintf(&outputs, "  %s: %s;\n", quote(h.Name), indent(out, "  "))
		base := pascal(h.Name)
		if n := base + "Input"; aliases.take(n) {
			hookAliases = append(hookAliases, fmt.Sprintf("export type %s = HookInputs[%s];\n", n, str(h.Name)))
		}
		if n := base + "Output"; aliases.take(n) {
			hookAliases = append(hookAliases, fmt.Sprintf("export type %s = HookOutputs[%s];\n", n, str(h.Name)))
		}
	}
	b.WriteString("}\n\n")
	b.WriteString("/** Each hook's answer: what its output schema allows, or (without one) a value like its input. */\n")
	b.WriteString("export interface HookOutputs {\n")
	b.WriteString(outputs.String())
	b.WriteString("}\n\n")
	b.WriteString("/** A hook's name. */\nexport type HookName = keyof HookInputs;\n")
	for _, a := range hookAliases {
		b.WriteString(a)
	}

	b.WriteString(`
/** A function run on events of type T: what it returns is kept with the delivery attempt. */
export type EventFunction<T extends EventType = EventType> = (event: Events[T], ctx: Context) => unknown;

/** A function serving hook H: what it returns is the hook's answer (or the next function's input). */
export type HookFunction<H extends HookName> = (input: HookInputs[H], ctx: Context) => HookOutputs[H] | Promise<HookOutputs[H]>;
`)
	t.Declarations = b.String()
	t.Globals = globals
	return t
}

// contextDecl is the Context interface, with the secret names as optional
// properties (a secret may be deleted after a deploy) beside any name.
func contextDecl(secrets []string, export string) string {
	var b strings.Builder
	b.WriteString("/** What a run gets as `ctx` (docs/functions.md). Fields that don't apply to a run are absent. */\n")
	fmt.Fprintf(&b, "%sinterface Context {\n", export)
	b.WriteString("  /** The tenant's secrets, by name. */\n")
	b.WriteString("  secrets: {\n")
	for _, s := range secrets {
		fmt.Fprintf(&b, "    readonly %s?: string;\n", quote(s))
	}
	b.WriteString("    readonly [name: string]: string | undefined;\n")
	b.WriteString("  };\n")
	b.WriteString(`  /** The function and the version that runs. */
  function: { name: string; version: number };
  /** The tenant's id. */
  tenant: string;
  /** Why it runs. */
  trigger: "event" | "hook";
  /** At a hook: the hook's name. */
  hook?: string;
  /** On an event: the event's id, the same on every attempt. Deduplicate side effects on it. */
  event_id?: string;
  /** On an event: the delivery this attempt belongs to. */
  delivery_id?: string;
  /** On an event: 1 for the first attempt, 2 for the first retry, … */
  attempt?: number;
  /** true in a test run, of which nothing is recorded. */
  test?: boolean;
}
`)
	return b.String()
}

// eventType is the body a function on an event of e gets.
func eventType(e EventType) string {
	return fmt.Sprintf("{\n  type: %s;\n  /** When it was published: RFC 3339, UTC, milliseconds. */\n  timestamp: string;\n  data: %s;\n}",
		str(e.Name), indent(schemaType(e.Schema), "  "))
}

// schemaType is the TypeScript type of the values a JSON Schema accepts.
func schemaType(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "unknown"
	}
	var s any
	if err := json.Unmarshal(raw, &s); err != nil {
		return "unknown"
	}
	g := &gen{root: s, budget: maxTypeBytes}
	return g.typeOf(s, 0)
}

type gen struct {
	root   any
	budget int
}

func (g *gen) typeOf(s any, depth int) string {
	if depth > maxDepth || g.budget <= 0 {
		return "unknown"
	}
	out := g.typeOfSchema(s, depth)
	g.budget -= len(out)
	return out
}

func (g *gen) typeOfSchema(s any, depth int) string {
	switch s := s.(type) {
	case bool:
		if s {
			return "unknown"
		}
		return "never"
	case map[string]any:
		if ref, ok := s["$ref"].(string); ok {
			target, ok := g.resolve(ref)
			if !ok {
				return "unknown"
			}
			return g.typeOf(target, depth+1)
		}
		if c, ok := s["const"]; ok {
			return literal(c)
		}
		if e, ok := s["enum"].([]any); ok && len(e) > 0 {
			var parts []string
			for _, v := range e {
				parts = append(parts, literal(v))
			}
			return union(parts)
		}
		var parts []string
		if own := g.ownType(s, depth); own != "" {
			parts = append(parts, own)
		}
		for _, k := range []string{"anyOf", "oneOf"} {
			if list, ok := s[k].([]any); ok && len(list) > 0 {
				var alts []string
				for _, sub := range list {
					alts = append(alts, g.typeOf(sub, depth+1))
				}
				parts = append(parts, union(alts))
			}
		}
		if list, ok := s["allOf"].([]any); ok {
			for _, sub := range list {
				parts = append(parts, g.typeOf(sub, depth+1))
			}
		}
		parts = slices.DeleteFunc(parts, func(p string) bool { return p == "unknown" })
		switch len(parts) {
		case 0:
			return "unknown"
		case 1:
			return parts[0]
		}
		for i, p := range parts {
			parts[i] = paren(p)
		}
		return strings.Join(parts, " & ")
	}
	return "unknown"
}

// ownType is the type a schema's own "type" (or, without one, its
// properties or items) says; "" when it says nothing.
func (g *gen) ownType(s map[string]any, depth int) string {
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, v := range t {
			if v, ok := v.(string); ok {
				types = append(types, v)
			}
		}
	default:
		if _, ok := s["properties"]; ok {
			types = []string{"object"}
		} else if _, ok := s["items"]; ok {
			types = []string{"array"}
		} else if _, ok := s["prefixItems"]; ok {
			types = []string{"array"}
		}
	}
	var parts []string
	for _, t := range types {
		switch t {
		case "string":
			parts = append(parts, "string")
		case "number", "integer":
			parts = append(parts, "number")
		case "boolean":
			parts = append(parts, "boolean")
		case "null":
			parts = append(parts, "null")
		case "array":
			parts = append(parts, g.arrayType(s, depth))
		case "object":
			parts = append(parts, g.objectType(s, depth))
		}
	}
	return union(parts)
}

func (g *gen) arrayType(s map[string]any, depth int) string {
	if prefix, ok := s["prefixItems"].([]any); ok && len(prefix) > 0 {
		var items []string
		for _, p := range prefix {
			items = append(items, g.typeOf(p, depth+1))
		}
		rest := ""
		if it, ok := s["items"]; ok && it != false {
			rest = ", ..." + paren(g.typeOf(it, depth+1)) + "[]"
		}
		return "[" + strings.Join(items, ", ") + rest + "]"
	}
	items, ok := s["items"]
	if !ok {
		return "unknown[]"
	}
	return paren(g.typeOf(items, depth+1)) + "[]"
}

func (g *gen) objectType(s map[string]any, depth int) string {
	props, _ := s["properties"].(map[string]any)
	required := map[string]bool{}
	if r, ok := s["required"].([]any); ok {
		for _, v := range r {
			if name, ok := v.(string); ok {
				required[name] = true
			}
		}
	}
	var extra string
	switch ap := s["additionalProperties"].(type) {
	case map[string]any:
		extra = g.typeOf(ap, depth+1)
	case bool:
		if ap && len(props) == 0 {
			extra = "unknown"
		}
	}
	if len(props) == 0 {
		if extra == "" {
			extra = "unknown"
		}
		return "Record<string, " + extra + ">"
	}
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("{\n")
	for _, name := range names {
		if g.budget <= 0 {
			b.WriteString("  [key: string]: unknown;\n")
			break
		}
		p := props[name]
		desc, deprecated := "", false
		if pm, ok := p.(map[string]any); ok {
			desc, _ = pm["description"].(string)
			deprecated, _ = pm["deprecated"].(bool)
		}
		b.WriteString(doc("  ", desc, deprecated))
		opt := "?"
		if required[name] {
			opt = ""
		}
		fmt.Fprintf(&b, "  %s%s: %s;\n", quote(name), opt, indent(g.typeOf(p, depth+1), "  "))
	}
	if extra != "" {
		// Every property must fit the index signature's type.
		fmt.Fprintf(&b, "  [key: string]: unknown;\n")
	}
	b.WriteString("}")
	return b.String()
}

// resolve follows a local JSON pointer ("#/$defs/money") in the schema's
// own document; other documents aren't fetched.
func (g *gen) resolve(ref string) (any, bool) {
	if !strings.HasPrefix(ref, "#") {
		return nil, false
	}
	cur := g.root
	for _, raw := range strings.Split(strings.TrimPrefix(ref[1:], "/"), "/") {
		if raw == "" {
			continue
		}
		key := strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[key]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// literal is a JSON value as a TypeScript literal type; objects and
// arrays are unknown.
func literal(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return str(v)
	}
	return "unknown"
}

// union joins types with |, once each; any unknown makes the whole unknown.
func union(parts []string) string {
	var out []string
	for _, p := range parts {
		if p == "unknown" {
			return "unknown"
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return strings.Join(out, " | ")
}

// paren wraps a union or intersection so it can take [] or &.
func paren(t string) string {
	depth, quoted := 0, false
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case quoted:
			if c == '\\' {
				i++
			} else if c == '"' {
				quoted = false
			}
		case c == '"':
			quoted = true
		case c == '{' || c == '[' || c == '(' || c == '<':
			depth++
		case c == '}' || c == ']' || c == ')' || c == '>':
			depth--
		case depth == 0 && (c == '|' || c == '&'):
			return "(" + t + ")"
		}
	}
	return t
}

// indent indents every line of a multi-line type but the first.
func indent(t, by string) string {
	return strings.ReplaceAll(t, "\n", "\n"+by)
}

var identifier = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// quote is a property name as TypeScript writes it: bare when it is an
// identifier, else a string literal.
func quote(name string) string {
	if identifier.MatchString(name) {
		return name
	}
	return str(name)
}

// str is a string literal. (JSON's escapes of <, > and & for HTML are
// escapes TypeScript reads too.)
func str(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// doc is a JSDoc comment from a description, on one line.
func doc(ind, description string, deprecated bool) string {
	d := strings.Join(strings.Fields(description), " ")
	d = strings.ReplaceAll(d, "*/", "* /")
	switch {
	case d == "" && !deprecated:
		return ""
	case deprecated && d == "":
		return ind + "/** @deprecated */\n"
	case deprecated:
		return ind + "/** " + d + " @deprecated */\n"
	}
	return ind + "/** " + d + " */\n"
}

// pascal makes a type name from a catalog name: invoice.paid → InvoicePaid.
func pascal(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if up {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	s := b.String()
	if s == "" || unicode.IsDigit(rune(s[0])) {
		s = "T" + s
	}
	return s
}

// names hands out type names once: the first catalog name that makes a
// type name gets it; another that makes the same (invoice_paid after
// invoice.paid) gets none, and is reached through the Events and Hook*
// interfaces by its own name.
type names struct{ seen map[string]int }

func newNames() *names {
	n := &names{seen: map[string]int{}}
	for _, reserved := range []string{"Context", "Events", "EventType", "Event", "HookInputs", "HookOutputs", "HookName", "EventFunction", "HookFunction"} {
		n.seen[reserved] = 2
	}
	return n
}

// take reports whether name was free, and takes it.
func (n *names) take(name string) bool {
	n.seen[name]++
	return n.seen[name] == 1
}

// globals declares what the sandbox puts on a function's global object
// besides the language itself (sandbox/bootstrap.js): use it with a
// tsconfig whose "lib" is ["ES2023"], without DOM, which has more than a
// function can reach.
const globals = `// What an Outlet function can reach besides the language: console, fetch,
// Headers, Response, timers and crypto. Made by Outlet (outlet types); use
// it with "lib": ["ES2023"] in tsconfig.json — not "DOM", which declares
// much that a function doesn't have.

interface OutletConsole {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  debug(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
}
/** Lines go to the function's logs, secrets' values masked. */
declare var console: OutletConsole;

type HeadersInit = Headers | [string, string][] | Record<string, string>;

declare class Headers implements Iterable<[string, string]> {
  constructor(init?: HeadersInit);
  get(name: string): string | null;
  set(name: string, value: string): void;
  append(name: string, value: string): void;
  has(name: string): boolean;
  delete(name: string): void;
  forEach(fn: (value: string, name: string, headers: Headers) => void): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
  toJSON(): Record<string, string>;
}

interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

declare class Response {
  constructor(body?: string | null, init?: ResponseInit & { url?: string });
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly url: string;
  readonly ok: boolean;
  text(): Promise<string>;
  json(): Promise<any>;
}

interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  /** A string is sent as it is; anything else as its JSON. */
  body?: unknown;
}

/**
 * Sends an HTTP request to an allowed host (the tenant's allowed hosts,
 * within the operator's), within the run's time; never to a private address.
 */
declare function fetch(input: string | { url: string }, init?: RequestInit): Promise<Response>;

/** Runs fn after ms, within the run's time; at most 1,000 pending. */
declare function setTimeout<A extends unknown[]>(fn: (...args: A) => void, ms?: number, ...args: A): number;
declare function setInterval<A extends unknown[]>(fn: (...args: A) => void, ms?: number, ...args: A): number;
declare function clearTimeout(id: number | undefined): void;
declare function clearInterval(id: number | undefined): void;

declare class DOMException extends Error {
  constructor(message?: string, name?: string);
  readonly code: number;
}

type IntegerArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

declare var crypto: {
  /** A random version 4 UUID. */
  randomUUID(): string;
  /** Fills an integer array of at most 65,536 bytes with random values. */
  getRandomValues<T extends IntegerArray>(array: T): T;
};
`
