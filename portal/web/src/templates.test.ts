import { locate, offset } from "./deploy-errors";
import type { FunctionTypes } from "./api";
import { sampleOf } from "./schema";
import { template, typeNameOf } from "./templates";
import { done, eq, test } from "./testing";

test("a compile error's line and column are read from Outlet's message", () => {
  eq(locate(`the function doesn't compile: line 3, column 14: Expected ";" but found "}"`), { line: 3, column: 14, message: `Expected ";" but found "}"` });
});

test("a module that throws at load is located by its stack frame", () => {
  const m = "the function doesn't compile: the module doesn't load: ReferenceError: nope is not defined\n    at <anonymous> (function.ts:7:3)";
  eq(locate(m)?.line, 7);
  eq(locate(m)?.column, 3);
  eq(locate("TypeError: cannot read property 'x' of null at index_default (src/discount.ts:12:7)")?.line, 12);
});

test("a message without a place is not located", () => {
  eq(locate("the function's code is empty"), null);
});

test("line and column become an offset, clamped to the text", () => {
  eq(offset("ab\ncd\nef", 2, 2), 4);
  eq(offset("ab\ncd", 2, 99), 5, "past the line's end");
  eq(offset("ab", 9, 1), 2, "past the last line");
  eq(offset("ab", 1, 0), 0);
});

const schema = {
  type: "object",
  required: ["invoice", "amount"],
  properties: {
    invoice: { type: "string", description: "The invoice's id." },
    amount: { type: "integer" },
    status: { enum: ["paid", "void"] },
    tags: { type: "array", items: { type: "string" } },
    customer: { $ref: "#/$defs/C" },
  },
  $defs: { C: { type: "object", properties: { email: { type: "string", format: "email" } } } },
};

test("a sample is made from a schema when the catalog has none", () => {
  eq(sampleOf(schema), { invoice: "", amount: 0, status: "paid", tags: [""], customer: { email: "someone@example.com" } });
  eq(sampleOf({ type: "object", properties: { n: { type: "number", default: 5 } } }), { n: 5 });
  eq(sampleOf({ examples: [{ a: 1 }] }), { a: 1 });
  eq(sampleOf({ $ref: "#/x" }), {}, "a dangling $ref gives an empty object");
});

test("type names come from catalog names", () => {
  eq(typeNameOf("invoice.paid", "Data"), "InvoicePaid");
  eq(typeNameOf("checkout.discount-v2", "Hook"), "CheckoutDiscountV2");
  eq(typeNameOf("9lives", "Data"), "Data");
});

// As GET …/function-types answers (tstypes in Go makes them; its tests check
// them with tsc).
const types: FunctionTypes = {
  declarations: "",
  globals: "",
  context: "interface Context {\n  secrets: {\n    readonly STRIPE_KEY?: string;\n    readonly [name: string]: string | undefined;\n  };\n}\n",
  events: { "invoice.paid": '{\n  type: "invoice.paid";\n  timestamp: string;\n  data: {\n    amount: number;\n  };\n}' },
  hooks: { "checkout.discount": { input: "{\n  total?: number;\n}", output: "{\n  discount: number;\n}" } },
};

test("an event template types the event with Outlet's declarations and shows its sample", () => {
  const code = template({ kind: "event", name: "invoice.paid", schema, sample: { invoice: "in_1", amount: 4200 } }, "typescript", types);
  for (const want of ['type InvoicePaidEvent = {\n  type: "invoice.paid";', "readonly STRIPE_KEY?: string;", '//       "amount": 4200', "export default async function (event: InvoicePaidEvent, ctx: Context)"]) {
    if (!code.includes(want)) throw new Error(`the template lacks ${JSON.stringify(want)}:\n${code}`);
  }
  const js = template({ kind: "event", name: "invoice.paid", schema, sample: null }, "javascript");
  if (!js.includes("export default async function (event, ctx)") || js.includes("interface")) throw new Error(js);
});

test("without Outlet's declarations a template still compiles, with what it can't know unknown", () => {
  const code = template({ kind: "event", name: "invoice.paid", schema, sample: null }, "typescript", null);
  if (!code.includes("type InvoicePaidEvent = { type: string; timestamp: string; data: unknown };") || !code.includes("interface Context")) throw new Error(code);
});

test("a hook template takes the input and returns an answer of the output schema", () => {
  const code = template(
    { kind: "hook", name: "checkout.discount", description: "Adjust a cart.", input_schema: { type: "object", properties: { total: { type: "number" } } }, output_schema: { type: "object", required: ["discount"], properties: { discount: { type: "number" } } } },
    "typescript",
    types,
  );
  for (const want of ["Serves the checkout.discount hook: Adjust a cart.", "type CheckoutDiscountInput = {\n  total?: number;\n}", "type CheckoutDiscountOutput = {\n  discount: number;\n}", "Promise<CheckoutDiscountOutput>", 'const output: CheckoutDiscountOutput = {\n    "discount": 0\n  };']) {
    if (!code.includes(want)) throw new Error(`the template lacks ${JSON.stringify(want)}:\n${code}`);
  }
});

done();
