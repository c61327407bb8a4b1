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

test("Outlet's operational events are taken only by filters that name them", () => {
  eq(matchEventType([], "outlet.endpoint.disabled"), false);
  eq(matchEventType(["*"], "outlet.endpoint.disabled"), false);
  eq(matchEventType(["outlet.*"], "outlet.endpoint.disabled"), true);
  eq(matchEventType(["outlet.endpoint.*"], "outlet.endpoint.circuit_opened"), true);
  eq(matchEventType(["outlet.delivery.exhausted"], "outlet.delivery.exhausted"), true);
  eq(matchEventType(["outlet.function.*"], "outlet.endpoint.disabled"), false);
});

done();
