import { complete, inputSchema, paramNames, type Scope } from "./completions";
import { done, eq, test } from "./testing";

const invoicePaid = {
  name: "invoice.paid",
  schema: {
    type: "object",
    required: ["invoice", "amount"],
    properties: {
      invoice: { type: "string", description: "The invoice's id." },
      amount: { type: "integer", description: "In cents." },
      customer: {
        type: "object",
        properties: { email: { type: "string", format: "email" }, address: { $ref: "#/$defs/Address" } },
      },
      lines: { type: "array", items: { $ref: "#/$defs/Line" } },
      "first-name": { type: "string" },
    },
    $defs: {
      Address: { type: "object", properties: { city: { type: "string" }, zip: { type: "string" } } },
      Line: { type: "object", properties: { sku: { type: "string" }, qty: { type: "integer" } } },
    },
  },
  sample: { invoice: "in_1", amount: 4200, currency: "eur" },
};

const eventScope: Scope = { input: inputSchema({ events: [invoicePaid], hooks: [] }), secrets: ["SLACK_URL", "API_TOKEN"] };
const hookScope: Scope = {
  input: inputSchema({ events: [], hooks: [{ name: "checkout.discount", input_schema: { type: "object", properties: { total: { type: "number" }, coupon: { type: ["string", "null"] } } } }] }),
  secrets: [],
};

const fnTS = (body: string) => `export default async function (event: { data: Invoice }, ctx: Context) {\n  ${body}`;

// labels offered with the cursor at the end of the text.
function labels(text: string, scope = eventScope): string[] | null {
  const r = complete(text, text.length, scope);
  return r ? r.options.map((o) => o.label) : null;
}

test("event.data. offers the schema's properties, then the sample's", () => {
  eq(labels(fnTS("event.data.")), ["invoice", "amount", "customer", "lines", "first-name", "currency"]);
});

test("what was typed after the dot is where the completion starts", () => {
  const text = fnTS("const a = event.data.am");
  eq(complete(text, text.length, eventScope)?.from, text.length - 2);
});

test("an option says its type and the schema's description", () => {
  const r = complete(fnTS("event.data."), fnTS("event.data.").length, eventScope)!;
  const amount = r.options.find((o) => o.label === "amount")!;
  eq([amount.type, amount.detail, amount.info], ["property", "number", "In cents."]);
});

test("nested objects, $refs and array elements complete too", () => {
  eq(labels(fnTS("event.data.customer.")), ["email", "address"]);
  eq(labels(fnTS("event.data.customer.address.")), ["city", "zip"]);
  eq(labels(fnTS("event.data.lines[0].")), ["sku", "qty"]);
  eq(labels(fnTS("event.data?.customer?.address?.")), ["city", "zip"]);
  eq(labels(fnTS("event.data!.customer.")), ["email", "address"]);
  eq(labels(fnTS('event.data["customer"].')), ["email", "address"]);
});

test("the event's body has type, timestamp and data", () => {
  eq(labels(fnTS("event.")), ["type", "timestamp", "data"]);
});

test("a property that isn't an identifier is written with brackets", () => {
  const o = complete(fnTS("event.data."), fnTS("event.data.").length, eventScope)!.options.find((x) => x.label === "first-name")!;
  eq([o.apply, o.applyFromDot], ['["first-name"]', true]);
});

test("the parameters are completed by the names the code gives them", () => {
  const text = "export default (inv, c) => {\n  inv.data.customer.";
  eq(labels(text), ["email", "address"]);
  eq(labels("export default (inv, c) => c.function."), ["name", "version"]);
  eq(labels("export default (inv, c) => event.data."), null, "event is no parameter here");
});

test("ctx. offers what ctx holds, ctx.secrets. the tenant's secret names", () => {
  eq(labels(fnTS("ctx.")), ["secrets", "function", "tenant", "trigger", "hook", "event_id", "delivery_id", "attempt", "test"]);
  const r = complete(fnTS("ctx.secrets."), fnTS("ctx.secrets.").length, eventScope)!;
  eq(r.options.map((o) => [o.label, o.type, o.detail]), [["SLACK_URL", "constant", "secret"], ["API_TOKEN", "constant", "secret"]]);
});

test('ctx.secrets["… completes the name as a string', () => {
  const text = fnTS('ctx.secrets["SL');
  const r = complete(text, text.length, eventScope)!;
  eq([r.from, r.options.map((o) => o.label)], [text.length - 2, ["SLACK_URL", "API_TOKEN"]]);
});

test("console. and crypto. offer their functions", () => {
  eq(labels(fnTS("console.")), ["log", "info", "debug", "warn", "error"]);
  eq(labels(fnTS("crypto.")), ["randomUUID", "getRandomValues"]);
});

test("a hook's function completes the hook's input", () => {
  eq(labels("export default async function (cart, ctx) { return cart.", hookScope), ["total", "coupon"]);
  const r = complete("export default (cart) => cart.", 30, hookScope)!;
  eq(r.options.map((o) => o.detail), ["number", "string | null"]);
});

test("before the code names its parameters, event and input both complete", () => {
  eq(labels("input.", hookScope), ["total", "coupon"]);
  eq(labels("event.", eventScope), ["type", "timestamp", "data"]);
});

test("a local alias of a path completes as the path", () => {
  eq(labels(fnTS("const d = event.data;\n  const c = d.customer;\n  c.")), ["email", "address"]);
  eq(labels(fnTS("const first = event.data.lines[0];\n  first.")), ["sku", "qty"]);
});

test("nothing is offered where nothing is known", () => {
  eq(labels(fnTS("event.data.amount.")), null, "a number has no properties in the schema");
  eq(labels(fnTS("somethingElse.")), null);
  eq(labels(fnTS("foo().")), null);
  eq(labels(fnTS("event")), null, "no dot yet");
  eq(labels(fnTS("[...event.")), ["type", "timestamp", "data"], "a spread before the path is fine");
  eq(labels(fnTS("1..")), null);
});

test("parameter names are read from each way of writing the default export", () => {
  eq(paramNames("export default async function handler(cart: Record<string, number>, c: Context) {"), ["cart", "c"]);
  eq(paramNames("export default function(e){"), ["e", null]);
  eq(paramNames("export default async (input: Input, ctx) => {"), ["input", "ctx"]);
  eq(paramNames("export default x => x"), ["x", null]);
  eq(paramNames("const f = 1"), [null, null]);
});

test("schemas that point at themselves, or at nothing, end the walk", () => {
  const loop = { name: "loop", sample: null, schema: { $ref: "#/$defs/A", $defs: { A: { $ref: "#/$defs/A" } } } };
  const scope: Scope = { input: inputSchema({ events: [loop], hooks: [] }), secrets: [] };
  eq(labels("event.data.", scope), null);
  const tree = { name: "tree", sample: null, schema: { $ref: "#/$defs/N", $defs: { N: { type: "object", properties: { next: { $ref: "#/$defs/N" }, v: { type: "number" } } } } } };
  const s2: Scope = { input: inputSchema({ events: [tree], hooks: [] }), secrets: [] };
  eq(labels("event.data.next.next.next.", s2), ["next", "v"]);
  const broken = { name: "x", sample: null, schema: { properties: { a: { $ref: "https://example.com/s.json" }, b: { $ref: "#/nowhere" } } } };
  eq(labels("event.data.", { input: inputSchema({ events: [broken], hooks: [] }), secrets: [] }), ["a", "b"]);
  eq(labels("event.data.a.", { input: inputSchema({ events: [broken], hooks: [] }), secrets: [] }), null);
});

done();
