// The client against a real `outlet serve`: each test is a journey a
// platform's backend takes through the SDK.

import assert from "node:assert/strict";
import { test } from "node:test";

import { Outlet, OutletError } from "@outlethq/outlet";

import { admin, eventually, needsServer, receiver, server, tenant, unique } from "./helpers.js";

test("creates a tenant, an event type and an endpoint, and reads them back", needsServer, async (t) => {
  const outlet = admin();
  const acme = await tenant(outlet, { name: "Acme Inc", metadata: { plan: "pro" } });
  assert.equal(acme.name, "Acme Inc");
  assert.deepEqual(acme.metadata, { plan: "pro" });

  const type = unique("invoice") + ".paid";
  const et = await outlet.eventTypes.create({
    name: type,
    description: "An invoice was paid.",
    schema: { type: "object", required: ["invoice"], properties: { invoice: { type: "string" } } },
  });
  assert.equal(et.name, type);
  assert.equal((await outlet.catalog.get(acme.id, type)).name, type);

  const { url } = await receiver(t);
  const ep = await outlet.endpoints.create(acme.id, { url, event_types: [type] });
  assert.match(ep.secret, /^whsec_/);
  assert.deepEqual(ep.event_types, [type]);

  const got = await outlet.endpoints.get(acme.id, ep.id);
  assert.equal(got.url, url);
  const updated = await outlet.endpoints.update(acme.id, ep.id, { description: "billing" });
  assert.equal(updated.description, "billing");
  assert.equal((await outlet.endpoints.secret(acme.id, ep.id)).secret, ep.secret);

  const listed = [];
  for await (const e of outlet.endpoints.list(acme.id)) listed.push(e.id);
  assert.deepEqual(listed, [ep.id]);

  // A tenant's own key reaches its tenant, and nothing else.
  const { key } = await outlet.apiKeys.create(acme.id, { name: "backend" });
  const own = new Outlet({ url: server.url, key });
  assert.equal((await own.tenants.get(acme.id)).id, acme.id);
  await assert.rejects(own.tenants.list(), (/** @type {unknown} */ err) => err instanceof OutletError && err.status === 403);

  // Data that breaks the type's schema is refused with the API's code.
  await assert.rejects(outlet.events.publish(acme.id, { type, data: { invoice: 1234 } }), {
    name: "OutletError",
    status: 422,
    code: "invalid",
  });

  // Each change is in the tenant's audit log, by the key that made it.
  const created = [];
  for await (const e of outlet.auditLog.list(acme.id, { action: "endpoint.created" })) created.push(e.resource_id);
  assert.deepEqual(created, [ep.id]);
  const byOperator = (await outlet.auditLog.listOperator({ tenant: acme.id, action: "api_key.created" })).data;
  assert.equal(byOperator[0]?.actor_type, "admin");

  await outlet.endpoints.delete(acme.id, ep.id);
  await outlet.eventTypes.delete(type);
  await outlet.tenants.delete(acme.id);
});

test("publishing twice with one idempotency key answers with the same event", needsServer, async () => {
  const outlet = admin();
  const acme = await tenant(outlet);
  const key = unique("invoice-1234-paid");
  const first = await outlet.events.publish(acme.id, { type: "invoice.paid", data: { invoice: "1234" } }, { idempotencyKey: key });
  const again = await outlet.events.publish(acme.id, { type: "invoice.paid", data: { invoice: "1234" } }, { idempotencyKey: key });
  assert.match(first.id, /^evt_/);
  assert.equal(again.id, first.id);

  const other = await outlet.events.publish(acme.id, { type: "invoice.paid", data: { invoice: "1235" } });
  assert.notEqual(other.id, first.id);

  const stored = await outlet.events.get(acme.id, first.id);
  assert.deepEqual(stored.data, { invoice: "1234" });
  const ids = [];
  for await (const e of outlet.events.list(acme.id, { type: "invoice.paid" })) ids.push(e.id);
  assert.deepEqual(ids.sort(), [first.id, other.id].sort());
});

test("a batch publish answers one result per event, in order, refusing only the bad ones", needsServer, async () => {
  const outlet = admin();
  const acme = await tenant(outlet);
  const key = unique("order-1");
  const batch = await outlet.events.publishBatch(acme.id, [
    { type: "order.created", data: { order: 1 }, idempotency_key: key },
    { type: "", data: {} },
    { type: "order.created", data: { order: 1 }, idempotency_key: key },
  ]);
  const [first, bad, again] = batch.results;
  assert.ok(first && "id" in first && again && "id" in again);
  assert.equal(again.id, first.id, "the same idempotency key answers the same event");
  assert.ok(bad && "error" in bad);
  assert.equal(bad.error.code, "invalid");
  assert.equal(batch.failed, 1);
});

test("iterating over deliveries walks every page through the cursors", needsServer, async (t) => {
  const outlet = admin();
  const acme = await tenant(outlet);
  const { url } = await receiver(t);
  await outlet.endpoints.create(acme.id, { url });
  const published = [];
  for (let i = 0; i < 5; i++) {
    published.push((await outlet.events.publish(acme.id, { type: "order.created", data: { order: i } })).id);
  }

  await eventually("5 deliveries", async () => {
    const page = await outlet.deliveries.list(acme.id, { limit: 50 });
    return page.data.length === 5 ? true : undefined;
  });

  const first = await outlet.deliveries.list(acme.id, { limit: 2 });
  assert.equal(first.data.length, 2);
  assert.equal(first.has_more, true);
  assert.ok(first.next_cursor);

  /** @type {import("@outlethq/outlet").Delivery[]} */
  const seen = [];
  for await (const d of outlet.deliveries.list(acme.id, { limit: 2 })) seen.push(d);
  assert.equal(seen.length, 5);
  assert.equal(new Set(seen.map((d) => d.id)).size, 5);
  assert.deepEqual(new Set(seen.map((d) => d.event_id)), new Set(published));

  let pages = 0;
  for await (const page of outlet.deliveries.list(acme.id, { limit: 2 }).pages()) {
    pages++;
    assert.ok(page.data.length <= 2);
  }
  assert.equal(pages, 3);

  // A filter goes with every page.
  const one = [];
  for await (const d of outlet.deliveries.list(acme.id, { event_id: published[0], limit: 1 })) one.push(d);
  assert.deepEqual(
    one.map((d) => d.event_id),
    [published[0]],
  );

  const delivered = await eventually("a delivery that succeeded", async () => {
    const d = await outlet.deliveries.get(acme.id, seen[0]?.id ?? "");
    return d.status === "succeeded" ? d : undefined;
  });
  const attempts = (await outlet.deliveries.attempts(acme.id, delivered.id)).data;
  assert.equal(attempts[0]?.status_code, 204);
});

test("a refusal is an OutletError with the API's code, status and message", needsServer, async () => {
  const outlet = admin();
  const name = unique("nobody");
  const err = await outlet.tenants.get(name).then(
    () => assert.fail("expected a 404"),
    (e) => e,
  );
  assert.ok(err instanceof OutletError);
  assert.ok(err instanceof Error);
  assert.equal(err.name, "OutletError");
  assert.equal(err.status, 404);
  assert.equal(err.code, "not_found");
  assert.match(err.message, new RegExp(name));

  const acme = await tenant(outlet);
  await assert.rejects(outlet.tenants.create({ id: acme.id }), { status: 409, code: "conflict" });

  const anonymous = new Outlet({ url: server.url, key: "olk_not_a_key" });
  await assert.rejects(anonymous.tenants.list(), { status: 401, code: "unauthorized" });
});

test("network failures are thrown as fetch's own errors, not OutletErrors", async () => {
  // Nothing listens on port 9 (discard) of loopback in the test machine.
  const outlet = new Outlet({ url: "http://127.0.0.1:9", key: "k" });
  await assert.rejects(outlet.tenants.list(), (/** @type {unknown} */ err) => err instanceof TypeError && !(err instanceof OutletError));
});

test("publishes past the tenant's rate limit succeed after the waits Retry-After asks for", needsServer, async () => {
  const outlet = admin();
  const acme = await tenant(outlet, { publish_rate_limit: 1 });

  // Without retries, the limit shows: the second publish within a second is refused.
  const impatient = admin({ retries: 0 });
  await impatient.events.publish(acme.id, { type: "ping", data: {} });
  await assert.rejects(impatient.events.publish(acme.id, { type: "ping", data: {} }), { status: 429, code: "rate_limited" });

  const ids = [];
  for (let i = 0; i < 3; i++) {
    ids.push((await outlet.events.publish(acme.id, { type: "ping", data: { i } })).id);
  }
  assert.equal(new Set(ids).size, 3);
});

test("a portal session for a tenant opens the portal through its one-time link", needsServer, async () => {
  const outlet = admin();
  const acme = await tenant(outlet);
  const session = await outlet.portalSessions.create(acme.id, { expires_in: 600, read_only: true });
  assert.equal(session.tenant_id, acme.id);
  assert.equal(session.read_only, true);
  assert.ok(session.token);

  const link = new URL(session.url, server.url);
  const res = await fetch(link, { redirect: "manual" });
  assert.ok(res.status < 400, `opening ${link} answered ${res.status}`);
  assert.match(res.headers.get("set-cookie") ?? "", /HttpOnly/i);

  const listed = (await outlet.portalSessions.list(acme.id)).data;
  assert.deepEqual(
    listed.map((s) => s.id),
    [session.id],
  );
  await outlet.portalSessions.revoke(acme.id, session.id);
});

test("a function is deployed, tested, versioned and rolled back", needsServer, async () => {
  const outlet = admin();
  const acme = await tenant(outlet);
  await outlet.secrets.put(acme.id, "RATE", "2");

  const v1 = await outlet.functions.deploy(acme.id, "double", {
    runtime: "javascript",
    code: "export default (event, ctx) => { console.log('doubling'); return { n: event.n * Number(ctx.secrets.RATE) }; }",
  });
  assert.equal(v1.version, 1);

  const run = await outlet.functions.test(acme.id, "double", { input: { n: 21 } });
  assert.equal(run.error, null);
  assert.deepEqual(run.output, { n: 42 });
  assert.match(run.logs, /doubling/);

  // Code that doesn't compile is refused with where the problem is.
  await assert.rejects(outlet.functions.deploy(acme.id, "double", { runtime: "javascript", code: "export default (" }), {
    status: 422,
    code: "invalid",
  });

  const v2 = await outlet.functions.deploy(acme.id, "double", { runtime: "typescript", code: "export default (e: { n: number }) => ({ n: -e.n });" });
  assert.equal(v2.version, 2);
  assert.deepEqual((await outlet.functions.test(acme.id, "double", { input: { n: 1 } })).output, { n: -1 });

  const versions = (await outlet.functions.versions(acme.id, "double")).data.map((v) => v.version);
  assert.deepEqual(versions, [2, 1]);
  await outlet.functions.rollback(acme.id, "double", 1);
  assert.deepEqual((await outlet.functions.test(acme.id, "double", { input: { n: 1 } })).output, { n: 2 });

  const secrets = (await outlet.secrets.list(acme.id)).data.map((s) => s.name);
  assert.deepEqual(secrets, ["RATE"]);
});

test("a hook invoked for a tenant answers with its function's output", needsServer, async () => {
  const outlet = admin();
  const acme = await tenant(outlet);
  const hook = unique("checkout") + ".discount";
  await outlet.hooks.create({ name: hook, timeout_ms: 2000, on_error: "fail_open" });
  await outlet.functions.deploy(acme.id, "discount", {
    runtime: "javascript",
    code: "export default (input) => ({ ...input, discount: 10 });",
    hooks: [hook],
  });
  const result = await outlet.tenantHooks.invoke(acme.id, hook, { total: 100 });
  assert.equal(result.error, null);
  assert.deepEqual(result.output, { total: 100, discount: 10 });
  await outlet.hooks.delete(hook);
});

test("the server's own routes answer without a key", needsServer, async () => {
  const outlet = new Outlet({ url: server.url });
  assert.equal((await outlet.server.health()).status, "ok");
  assert.equal((await outlet.server.ready()).status, "ready");
  assert.equal((await outlet.server.openapi())["openapi"], "3.1.0");
  assert.match(await outlet.server.metrics(), /^# (HELP|TYPE) /m);
});
