// What the function editor offers as you type, worked out from the text alone
// (no type checker): after `event.data.` the properties the catalog's JSON
// Schemas give the event's data, after `ctx.` what ctx holds
// (docs/functions.md), after `ctx.secrets.` the tenant's secret names, and
// the globals a function has (fetch, console…). The editor wraps this in a
// CodeMirror completion source (code-editor.ts); this module has no
// CodeMirror in it, so Node tests it.

import { description, isIdentifier, member, type Node, node, properties, type Schema, schemaOfValue, typeName } from "./schema";

export interface Option {
  label: string;
  type: "property" | "function" | "method" | "variable" | "constant" | "namespace" | "class";
  detail?: string;
  info?: string;
  // For a name that isn't an identifier after a dot: the text that replaces
  // the dot and what was typed after it (["first-name"]).
  apply?: string;
  applyFromDot?: boolean;
}

export interface Result {
  from: number;
  options: Option[];
}

// What the completions know of the function's world.
export interface Scope {
  input: Node[]; // the first argument: the event's body, or the hook's input
  secrets: string[];
}

// The catalog's description of what the function runs on.
export interface Binding {
  events: { name: string; schema: unknown; sample: unknown }[];
  hooks: { name: string; input_schema: unknown }[];
}

// inputSchema is the first argument's schema: on an event, the webhook's
// body with the data of each bound type's schema (and its sample, for what a
// loose schema leaves out); at a hook, the hook's input.
export function inputSchema(b: Binding): Node[] {
  const out: Node[] = [];
  if (b.events.length) {
    const data: Schema[] = [];
    for (const e of b.events) {
      if (e.schema && typeof e.schema === "object") data.push(e.schema as Schema);
      if (e.sample !== undefined && e.sample !== null) data.push(sampleExtras(e.schema, e.sample));
    }
    const body: Schema = {
      type: "object",
      properties: {
        type: { type: "string", enum: b.events.map((e) => e.name), description: "The event's type." },
        timestamp: { type: "string", description: "When the event happened: RFC 3339, UTC, milliseconds." },
        data: { description: "What the platform published." },
      },
    };
    out.push(...node(body));
    // Each type's schema stays the root of its own $refs ("#/$defs/…"),
    // though it sits under the body's data.
    for (const d of data) out.push({ schema: { type: "object", properties: { data: d } }, root: d });
  }
  for (const h of b.hooks) out.push(...node(h.input_schema));
  return out;
}

// sampleExtras describes what a sample holds beyond the schema's declared
// properties: the schema's word wins where it has one.
function sampleExtras(schema: unknown, sample: unknown): Schema {
  const s = schemaOfValue(sample);
  const declared = schema && typeof schema === "object" ? (schema as Schema).properties : null;
  if (s.properties && declared && typeof declared === "object") {
    const rest: Schema = {};
    for (const [k, v] of Object.entries(s.properties as Schema)) if (!(k in declared)) rest[k] = v;
    s.properties = rest;
  }
  return s;
}

const fn = (d: string): Schema => ({ type: "function", description: d });
const ro = (t: string, d: string): Schema => ({ type: t, description: d });

// What ctx holds (docs/functions.md, "What ctx holds").
export function ctxSchema(secrets: string[]): Schema {
  const s: Schema = {};
  for (const name of secrets) s[name] = ro("string", `Your tenant's secret ${name}, as a string.`);
  return {
    type: "object",
    properties: {
      secrets: { type: "object", properties: s, description: "Your tenant's secrets by name, as strings; undefined for a name that has none." },
      function: {
        type: "object",
        description: "The function that runs.",
        properties: { name: ro("string", "The function's name."), version: ro("number", "The version that is running (1, 2, …).") },
      },
      tenant: ro("string", "Your tenant's id."),
      trigger: { type: "string", enum: ["event", "hook"], description: "Why it runs: on an event or at a hook." },
      hook: ro("string", "At a hook: the hook's name."),
      event_id: ro("string", "On an event: the event's id, the same on every attempt. Deduplicate side effects on it."),
      delivery_id: ro("string", "On an event: the delivery this attempt belongs to."),
      attempt: ro("number", "On an event: 1 for the first attempt, 2 for the first retry, …"),
      test: ro("boolean", "true in a test run, of which nothing is recorded; absent otherwise."),
    },
  };
}

// The globals a function has besides the language's own (docs/functions.md,
// "The runtime").
const globals: Schema = {
  fetch: fn("fetch(url, {method, headers, body}): outbound HTTP to public hosts, within the run's time and request budget. Resolves to a Response."),
  console: {
    type: "namespace",
    description: "Writes lines to the run's logs (secret values masked).",
    properties: {
      log: fn("Writes a line to the run's logs."),
      info: fn("Writes a line to the run's logs."),
      debug: fn("Writes a line prefixed [debug]."),
      warn: fn("Writes a line prefixed [warn]."),
      error: fn("Writes a line prefixed [error]."),
    },
  },
  Headers: { type: "class", description: "HTTP headers for fetch." },
  Response: { type: "class", description: "What fetch resolves to: status, ok, headers, text(), json()." },
  setTimeout: fn("A timer within the run's time; await what you start."),
  setInterval: fn("A repeating timer within the run's time."),
  clearTimeout: fn("Cancels a timer."),
  clearInterval: fn("Cancels a repeating timer."),
  crypto: {
    type: "namespace",
    description: "Randomness from the host.",
    properties: {
      randomUUID: fn("A random UUID (v4) string."),
      getRandomValues: fn("Fills an integer typed array (up to 65,536 bytes) with random values."),
    },
  },
};

// paramNames reads the names of the default export's two parameters:
// `export default async function (cart: Cart, c)` gives ["cart", "c"].
export function paramNames(text: string): [string | null, string | null] {
  const m =
    /export\s+default\s+(?:async\s+)?function\s*\*?\s*[\w$]*\s*(?:<[^>]*>)?\s*\(([^)]*)\)/.exec(text) ??
    /export\s+default\s+(?:async\s+)?\(([^)]*)\)\s*(?::[^=]*)?=>/.exec(text) ??
    /export\s+default\s+(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(text);
  if (!m) return [null, null];
  const names = splitParams(m[1]).map((p) => /^\s*([A-Za-z_$][\w$]*)/.exec(p)?.[1] ?? null);
  return [names[0] ?? null, names[1] ?? null];
}

// splitParams splits a parameter list at its top-level commas, so a type
// like Record<string, number> stays whole.
function splitParams(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of s) {
    if ("<([{".includes(c)) depth++;
    else if (">)]}".includes(c)) depth--;
    if (c === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur.trim()) out.push(cur);
  return out;
}

// The roots a path may start from: the parameters, by the names the code
// gives them (event/input and ctx until it names them), and the globals.
function roots(text: string, scope: Scope): Map<string, Node[]> {
  const [input, ctx] = paramNames(text);
  const m = new Map<string, Node[]>();
  for (const [k, v] of Object.entries(globals)) m.set(k, node(v));
  const inputs = input ? [input] : ["event", "input"];
  for (const n of inputs) m.set(n, scope.input);
  m.set(ctx ?? "ctx", node(ctxSchema(scope.secrets)));
  return m;
}

// An expression's path as written before the cursor: `event.data.items[0].`
// is ["event", "data", "items", "[]"].
interface Access {
  path: string[]; // the chain before the member being typed
  from: number; // where the typed part starts
  dot: number; // where the `.` (or `?.`) before it starts
  quoted: boolean; // inside ["…"]: complete the key as a string
}

const WORD = /[\w$]/;

function skipSpaceBack(text: string, i: number): number {
  while (i > 0 && /\s/.test(text[i - 1])) i--;
  return i;
}

// access scans back from pos over `a.b?.c[0]!.d` and says what is typed.
function access(text: string, pos: number): Access | null {
  let i = pos;
  while (i > 0 && WORD.test(text[i - 1])) i--;
  const from = i;
  let quoted = false;
  let j = skipSpaceBack(text, i);
  let dot: number;
  if (j > 0 && (text[j - 1] === '"' || text[j - 1] === "'") && text[skipSpaceBack(text, j - 1) - 1] === "[") {
    quoted = true;
    dot = skipSpaceBack(text, j - 1) - 1;
    j = dot;
  } else if (j > 0 && text[j - 1] === ".") {
    if (j > 1 && text[j - 2] === ".") return null; // a spread, or a number
    dot = j - 1;
    j = dot;
    if (j > 0 && text[j - 1] === "?") j--;
  } else {
    return null;
  }
  const path: string[] = [];
  for (let steps = 0; steps < 32; steps++) {
    j = skipSpaceBack(text, j);
    while (j > 0 && text[j - 1] === "!") j--; // TypeScript's non-null assertion
    if (j > 0 && text[j - 1] === "]") {
      const open = text.lastIndexOf("[", j - 1);
      if (open < 0) return null;
      const inner = text.slice(open + 1, j - 1).trim();
      const str = /^(["'])(.*)\1$/.exec(inner);
      path.unshift(str ? str[2] : "[]");
      j = open;
      // What is indexed comes right before the bracket: items[0].
      const k = skipSpaceBack(text, j);
      if (k > 0 && WORD.test(text[k - 1])) {
        j = k;
        continue;
      }
    } else {
      const end = j;
      while (j > 0 && WORD.test(text[j - 1])) j--;
      const name = text.slice(j, end);
      if (!isIdentifier(name)) return null;
      path.unshift(name);
    }
    const k = skipSpaceBack(text, j);
    if (k > 0 && text[k - 1] === ".") {
      if (k > 1 && text[k - 2] === ".") return { path, from, dot, quoted }; // ...spread
      j = k - 1;
      if (j > 0 && text[j - 1] === "?") j--;
      continue;
    }
    if (k > 0 && text[k - 1] === "]") {
      j = k;
      continue;
    }
    // A member of something else (a call's result, a string): not ours.
    if (k > 0 && /[)\]"'`]/.test(text[k - 1])) return null;
    return { path, from, dot, quoted };
  }
  return null;
}

// aliases finds `const d = event.data` and `let item = order.items[0]`, so
// d. completes as event.data. does.
function aliases(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const re = /\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=;\n]+)?=\s*((?:await\s+)?[A-Za-z_$][\w$]*(?:\s*(?:\?\.|\.)\s*[A-Za-z_$][\w$]*|\s*\[\s*(?:\d+|"[^"\n]*"|'[^'\n]*')\s*\])*)\s*(?=[;\n,)])/g;
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = re.exec(text)) && n++ < 500) {
    if (m[2].startsWith("await")) continue;
    const parts: string[] = [];
    for (const p of m[2].matchAll(/[A-Za-z_$][\w$]*|\[\s*(\d+|"[^"\n]*"|'[^'\n]*')\s*\]/g)) {
      if (p[0].startsWith("[")) {
        const inner = p[1];
        parts.push(/^\d+$/.test(inner) ? "[]" : inner.slice(1, -1));
      } else parts.push(p[0]);
    }
    out.set(m[1], parts);
  }
  return out;
}

function resolve(path: string[], rootsByName: Map<string, Node[]>, text: string): Node[] | null {
  const al = aliases(text);
  let p = path;
  for (let i = 0; i < 8 && !rootsByName.has(p[0]) && al.has(p[0]); i++) p = [...al.get(p[0])!, ...p.slice(1)];
  let nodes = rootsByName.get(p[0]);
  if (!nodes) return null;
  for (const seg of p.slice(1)) {
    nodes = member(nodes, seg);
    if (!nodes.length) return null;
  }
  return nodes;
}

function optionType(nodes: Node[], inNamespace: boolean): Option["type"] {
  const t = typeName(nodes);
  if (t === "function") return inNamespace ? "method" : "function";
  if (t === "namespace") return "namespace";
  if (t === "class") return "class";
  return "property";
}

// complete says what to offer at pos in text, or null when nothing: after
// a dot (or inside ["…"]) the members of what is before it, when its schema
// is known.
export function complete(text: string, pos: number, scope: Scope): Result | null {
  const a = access(text, pos);
  if (!a) return null;
  const r = roots(text, scope);
  const target = resolve(a.path, r, text);
  if (!target) return null;
  const ns = typeName(target) === "namespace";
  const isSecrets = a.path.length === 2 && a.path[1] === "secrets" && r.get(a.path[0]) !== scope.input;
  const options: Option[] = properties(target).map((p) => {
    const o: Option = { label: p.name, type: isSecrets ? "constant" : optionType(p.nodes, ns) };
    const t = typeName(p.nodes);
    if (isSecrets) o.detail = "secret";
    else if (t && !["namespace", "class", "function"].includes(t)) o.detail = t;
    const d = description(p.nodes);
    if (d) o.info = d;
    if (!a.quoted && !isIdentifier(p.name)) {
      o.apply = `[${JSON.stringify(p.name)}]`;
      o.applyFromDot = true;
    }
    return o;
  });
  if (!options.length) return null;
  return { from: a.from, options };
}

// The dot's position, for an option that replaces it (applyFromDot).
export function dotBefore(text: string, pos: number): number {
  return access(text, pos)?.dot ?? pos;
}

// The globals offered where a name starts (the language offers locals and
// keywords itself).
export function globalOptions(): Option[] {
  return Object.entries(globals).map(([label, s]) => {
    const n = node(s);
    const t = typeName(n);
    return { label, type: t === "function" ? "function" : t === "class" ? "class" : "namespace", info: description(n) };
  });
}
