// Reading the catalog's JSON Schemas for the function editor: the
// properties a value has (for completions) and a value that fits (to
// prefill a test's input). (Templates' TypeScript types come from Outlet's
// own declarations, GET …/function-types.) Schemas are the
// platform's, so anything goes: every walk is bounded, and what a schema
// doesn't say is simply not offered.

export type Schema = Record<string, unknown>;

// A schema together with the document its local $refs point into.
export interface Node {
  schema: Schema;
  root: Schema;
}

const MAX_DEPTH = 12;

export function isObject(v: unknown): v is Schema {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

export function node(schema: unknown, root?: unknown): Node[] {
  if (!isObject(schema)) return [];
  return [{ schema, root: isObject(root) ? root : schema }];
}

// deref follows a local $ref ("#/$defs/Money", "#/definitions/x",
// "#/properties/a") within the node's own document.
function deref(n: Node): Node | null {
  let cur = n;
  for (let i = 0; i < MAX_DEPTH; i++) {
    const ref = cur.schema.$ref;
    if (typeof ref !== "string") return cur;
    if (!ref.startsWith("#")) return null;
    let target: unknown = cur.root;
    for (const raw of ref.slice(1).split("/").filter(Boolean)) {
      const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
      target = isObject(target) ? target[key] : undefined;
    }
    if (!isObject(target)) return null;
    cur = { schema: target, root: cur.root };
  }
  return null;
}

// flatten gives a schema and every branch of its allOf, anyOf and oneOf:
// a value may have the properties of any of them.
export function flatten(nodes: Node[], depth = 0): Node[] {
  const out: Node[] = [];
  for (const n0 of nodes) {
    const n = deref(n0);
    if (!n) continue;
    out.push(n);
    if (depth >= MAX_DEPTH) continue;
    for (const k of ["allOf", "anyOf", "oneOf"]) {
      const list = n.schema[k];
      if (Array.isArray(list)) out.push(...flatten(list.filter(isObject).map((s) => ({ schema: s, root: n.root })), depth + 1));
    }
  }
  return out;
}

export interface Property {
  name: string;
  nodes: Node[];
}

// properties lists what an object of these schemas may hold, in the order
// the schemas give, each name once with every schema that describes it.
export function properties(nodes: Node[]): Property[] {
  const byName = new Map<string, Property>();
  for (const n of flatten(nodes)) {
    const props = n.schema.properties;
    if (!isObject(props)) continue;
    for (const [name, s] of Object.entries(props)) {
      if (!isObject(s)) continue;
      let p = byName.get(name);
      if (!p) byName.set(name, (p = { name, nodes: [] }));
      p.nodes.push({ schema: s, root: n.root });
    }
  }
  return [...byName.values()];
}

// member is the schema of value[name]; "[]" is an element of an array.
export function member(nodes: Node[], name: string): Node[] {
  const out: Node[] = [];
  for (const n of flatten(nodes)) {
    if (name === "[]") {
      const items = n.schema.items;
      if (isObject(items)) out.push({ schema: items, root: n.root });
      else if (Array.isArray(items)) out.push(...items.filter(isObject).map((s) => ({ schema: s, root: n.root })));
      const prefix = n.schema.prefixItems;
      if (Array.isArray(prefix)) out.push(...prefix.filter(isObject).map((s) => ({ schema: s, root: n.root })));
      continue;
    }
    const props = n.schema.properties;
    if (isObject(props) && isObject(props[name])) {
      out.push({ schema: props[name] as Schema, root: n.root });
    } else if (isObject(n.schema.additionalProperties)) {
      out.push({ schema: n.schema.additionalProperties, root: n.root });
    }
  }
  return out;
}

// typeName says in a few characters what values a schema takes:
// "string", "number | null", "object", "Item[]", "\"eur\" | \"usd\"".
export function typeName(nodes: Node[]): string {
  const names = new Set<string>();
  for (const n of flatten(nodes)) {
    const s = n.schema;
    if (Array.isArray(s.enum) && s.enum.length) {
      for (const v of s.enum.slice(0, 4)) names.add(JSON.stringify(v));
      if (s.enum.length > 4) names.add("…");
      continue;
    }
    if ("const" in s) {
      names.add(JSON.stringify(s.const));
      continue;
    }
    const types = Array.isArray(s.type) ? s.type : typeof s.type === "string" ? [s.type] : [];
    for (const t of types) {
      if (t === "array") {
        const el = typeName(member([n], "[]"));
        names.add(el && !el.includes(" ") ? `${el}[]` : "array");
      } else if (t === "integer") names.add("number");
      else if (typeof t === "string") names.add(t);
    }
    if (!types.length && (isObject(s.properties) || isObject(s.additionalProperties))) names.add("object");
  }
  return [...names].join(" | ");
}

export function description(nodes: Node[]): string {
  for (const n of flatten(nodes)) {
    if (typeof n.schema.description === "string" && n.schema.description) return n.schema.description;
    if (typeof n.schema.title === "string" && n.schema.title) return n.schema.title;
  }
  return "";
}

// schemaOfValue describes a sample, so a type with a sample but no schema
// (or a loose one) still completes its fields.
export function schemaOfValue(v: unknown, depth = 0): Schema {
  if (v === null) return { type: "null" };
  if (Array.isArray(v)) return depth < MAX_DEPTH && v.length ? { type: "array", items: schemaOfValue(v[0], depth + 1) } : { type: "array" };
  switch (typeof v) {
    case "string":
      return { type: "string" };
    case "number":
      return { type: "number" };
    case "boolean":
      return { type: "boolean" };
    case "object": {
      const props: Schema = {};
      if (depth < MAX_DEPTH) for (const [k, x] of Object.entries(v as Schema)) props[k] = schemaOfValue(x, depth + 1);
      return { type: "object", properties: props };
    }
  }
  return {};
}

// sampleOf makes a value that fits a schema, for a test's input when the
// catalog gives no sample: its examples, default or const where it has
// them, else a plain value of its type, with every required property (and
// the others, when few).
export function sampleOf(schema: unknown, root?: unknown): unknown {
  return sample(node(schema, root), 0);
}

function sample(nodes: Node[], depth: number): unknown {
  const all = flatten(nodes);
  for (const n of all) {
    const s = n.schema;
    if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
    if ("example" in s) return s.example;
    if ("default" in s) return s.default;
    if ("const" in s) return s.const;
    if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  }
  const types = new Set<string>();
  for (const n of all) {
    const t = n.schema.type;
    for (const x of Array.isArray(t) ? t : [t]) if (typeof x === "string") types.add(x);
  }
  const props = properties(nodes);
  if (types.has("object") || (!types.size && props.length)) {
    const out: Record<string, unknown> = {};
    if (depth >= MAX_DEPTH) return out;
    const required = new Set<string>();
    for (const n of all) if (Array.isArray(n.schema.required)) for (const r of n.schema.required) if (typeof r === "string") required.add(r);
    for (const p of props) {
      if (required.has(p.name) || props.length <= 8) out[p.name] = sample(p.nodes, depth + 1);
    }
    return out;
  }
  if (types.has("array")) return depth >= MAX_DEPTH || !member(all, "[]").length ? [] : [sample(member(all, "[]"), depth + 1)];
  if (types.has("string")) {
    const fmt = all.map((n) => n.schema.format).find((f) => typeof f === "string");
    return fmt === "date-time" ? "2026-01-01T00:00:00Z" : fmt === "email" ? "someone@example.com" : fmt === "uri" ? "https://example.com" : "";
  }
  if (types.has("integer") || types.has("number")) {
    const min = all.map((n) => n.schema.minimum).find((m) => typeof m === "number");
    return typeof min === "number" ? min : 0;
  }
  if (types.has("boolean")) return false;
  if (types.has("null")) return null;
  return {};
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

export function isIdentifier(s: string): boolean {
  return IDENT.test(s);
}
