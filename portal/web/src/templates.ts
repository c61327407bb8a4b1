// Starting points for a new function: one per event type and per hook of
// the catalog, showing its sample and, in TypeScript, typed with the
// declarations Outlet makes from the catalog's JSON Schemas (the same that
// `outlet types` writes, from GET …/function-types), so the first deploy
// already reads the right fields.

import type { FunctionTypes } from "./api";
import { isIdentifier, sampleOf } from "./schema";

export type Runtime = "typescript" | "javascript";

export type Start =
  | { kind: "blank" }
  | { kind: "event"; name: string; schema: unknown; sample: unknown }
  | { kind: "hook"; name: string; description: string; input_schema: unknown; output_schema: unknown };

// contextOf is the Context interface, with the tenant's secret names when
// Outlet's declarations are at hand.
function contextOf(types: FunctionTypes | null): string {
  if (types?.context) return types.context;
  return `// What ctx holds (docs/functions.md).
interface Context {
  secrets: Readonly<Record<string, string | undefined>>;
  function: { name: string; version: number };
  tenant: string;
  trigger: "event" | "hook";
  hook?: string; // at a hook
  event_id?: string; // on an event: the same on every attempt
  delivery_id?: string; // on an event
  attempt?: number; // on an event: 1, 2, …
  test?: boolean; // in a test run
}
`;
}

// typeNameOf makes a TypeScript name from a catalog name: invoice.paid →
// InvoicePaid.
export function typeNameOf(name: string, fallback: string): string {
  const n = name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join("");
  return n && isIdentifier(n) ? n : fallback;
}

// comment writes a JSON value as // lines, at most a screenful.
function comment(label: string, v: unknown): string {
  const lines = JSON.stringify(v, null, 2).split("\n");
  const shown = lines.length > 30 ? [...lines.slice(0, 30), "…"] : lines;
  return `// ${label}\n${shown.map((l) => "//   " + l).join("\n")}\n`;
}

// The value a template's test input, and its comment, start from.
export function eventSample(schema: unknown, sample: unknown): unknown {
  return sample !== undefined && sample !== null ? sample : sampleOf(schema);
}

export function template(start: Start, runtime: Runtime, types: FunctionTypes | null = null): string {
  const ts = runtime === "typescript";
  const contextTS = contextOf(types);
  switch (start.kind) {
    case "blank":
      return ts
        ? `${contextTS}
export default async function (event: { type: string; timestamp: string; data: unknown }, ctx: Context) {
  console.log("running", ctx.function.name, "on", event.type);
  return { ok: true };
}
`
        : `// Runs on the events and hooks you bind it to. ctx holds secrets, the
// function's name and version, and why it runs (docs/functions.md).
export default async function (event, ctx) {
  console.log("running", ctx.function.name, "on", event.type);
  return { ok: true };
}
`;
    case "event": {
      const data = typeNameOf(start.name, "Data");
      const sample = { type: start.name, timestamp: "2026-01-01T12:00:00.000Z", data: eventSample(start.schema, start.sample) };
      const head =
        `// Runs on every ${start.name} event. \`event\` is the body a webhook\n` +
        `// receiver would get; what you return is kept with the delivery attempt.\n` +
        `// A throw fails the attempt, and Outlet retries it: deduplicate side\n` +
        `// effects on ctx.event_id.\n` +
        comment("An event of this type:", sample);
      if (!ts) {
        return `${head}
export default async function (event, ctx) {
  const data = event.data;
  console.log(\`\${event.type} (attempt \${ctx.attempt})\`, JSON.stringify(data));
  return { received: event.type };
}
`;
      }
      return `${head}
type ${data}Event = ${types?.events[start.name] ?? "{ type: string; timestamp: string; data: unknown }"};

${contextTS}
export default async function (event: ${data}Event, ctx: Context) {
  const data = event.data;
  console.log(\`\${event.type} (attempt \${ctx.attempt})\`, JSON.stringify(data));
  return { received: event.type };
}
`;
    }
    case "hook": {
      const base = typeNameOf(start.name, "Hook");
      const input = sampleOf(start.input_schema);
      const hasOutput = start.output_schema !== null && start.output_schema !== undefined;
      const head =
        `// Serves the ${start.name} hook${start.description ? ": " + start.description.replace(/\s+/g, " ") : "."}\n` +
        `// \`input\` is what the platform sends (or what the function before this\n` +
        `// one returned); what you return is the hook's answer${hasOutput ? ", and must match its\n// output schema" : ""}.\n` +
        comment("An input:", input);
      const body = hasOutput ? `  const output = ${indentJSON(sampleOf(start.output_schema), "  ")};\n  return output;` : "  return input;";
      if (!ts) {
        return `${head}
export default async function (input, ctx) {
  console.log("serving", ctx.hook);
${body}
}
`;
      }
      return `${head}
type ${base}Input = ${types?.hooks[start.name]?.input ?? "unknown"};
${hasOutput ? `\ntype ${base}Output = ${types?.hooks[start.name]?.output ?? "unknown"};\n` : ""}
${contextTS}
export default async function (input: ${base}Input, ctx: Context): Promise<${hasOutput ? base + "Output" : base + "Input"}> {
  console.log("serving", ctx.hook);
${hasOutput ? body.replace("const output =", `const output: ${base}Output =`) : body}
}
`;
    }
  }
}

function indentJSON(v: unknown, indent: string): string {
  return JSON.stringify(v, null, 2).replace(/\n/g, "\n" + indent);
}
