import { matchEventType } from "./event-types";
import { done, eq, test } from "./testing";

test("no filters, or *, take every type", () => {
  eq(matchEventType([], "invoice.paid"), true);
  eq(matchEventType(null, "invoice.paid"), true);
  eq(matchEventType(["*"], "user.created"), true);
});

test("a prefix pattern takes the types that start with it", () => {
  eq(matchEventType(["invoice.*"], "invoice.paid"), true);
  eq(matchEventType(["invoice.*"], "invoices.paid"), false);
  eq(matchEventType(["invoice.*"], "user.created"), false);
});

test("a name takes only itself", () => {
  eq(matchEventType(["invoice.paid"], "invoice.paid"), true);
  eq(matchEventType(["invoice.paid"], "invoice.paid.late"), false);
});

done();
