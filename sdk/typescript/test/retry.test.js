// Retries of 429 and 503, what a request carries, and how refusals read,
// against small HTTP servers on 127.0.0.1 that answer as a proxy or an
// overloaded Outlet would.

import assert from "node:assert/strict";
import http from "node:http";
import { test } from "node:test";

import { Outlet, OutletError } from "@outlethq/outlet";

import { retryWait } from "../dist/transport.js";

/**
 * @param {number} status
 * @param {Record<string, string>} [headers]
 */
function answer(status, headers = {}) {
  return new Response(null, { status, headers });
}

test("Retry-After decides the wait before a retry of 429 and 503", () => {
  const now = Date.parse("2026-11-23T19:05:34Z");
  assert.equal(retryWait(answer(503, { "retry-after": "2" }), 0, now), 2000);
  assert.equal(retryWait(answer(429, { "retry-after": " 0 " }), 3, now), 0);
  assert.equal(retryWait(answer(429, { "retry-after": "Mon, 23 Nov 2026 19:05:37 GMT" }), 0, now), 3000);
  assert.equal(retryWait(answer(503, { "retry-after": "Mon, 23 Nov 2026 19:05:00 GMT" }), 0, now), 0, "a date passed");
});

test("without a Retry-After, or with one that can't be read, waits double from half a second", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 6, 9].map((attempt) => retryWait(answer(503), attempt)),
    [500, 1000, 2000, 4000, 32000, 32000],
  );
  assert.equal(retryWait(answer(429, { "retry-after": "soon" }), 1), 1000);
  assert.equal(retryWait(answer(429, { "retry-after": "1.5" }), 0), 500);
});

test("other refusals are not retried", () => {
  for (const status of [400, 401, 404, 409, 422, 500, 502, 504]) {
    assert.equal(retryWait(answer(status, { "retry-after": "1" }), 0), undefined, `status ${status}`);
  }
});

/**
 * A server on 127.0.0.1 answering with the next of answers (the last
 * repeated), recording the requests; closed when the test ends.
 * @param {import("node:test").TestContext} t
 * @param {{ status: number, headers?: Record<string, string>, body?: string }[]} answers
 */
async function scripted(t, answers) {
  /** @type {{ method?: string, url?: string, headers: http.IncomingHttpHeaders, body: string }[]} */
  const requests = [];
  const srv = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const a = answers[Math.min(requests.length, answers.length) - 1] ?? { status: 500 };
      res.writeHead(a.status, { "content-type": "application/json", ...a.headers }).end(a.body ?? "");
    });
  });
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve(undefined)));
  t.after(() => new Promise((resolve) => srv.close(() => resolve(undefined))));
  const addr = /** @type {import("node:net").AddressInfo} */ (srv.address());
  return { url: `http://127.0.0.1:${addr.port}/outlet`, requests };
}

const unavailable = {
  status: 503,
  headers: { "retry-after": "0" },
  body: JSON.stringify({ error: { code: "unavailable", message: "the database is unavailable; retry shortly" } }),
};

test("a publish answered 503 is sent again, the same, until it is accepted", async (t) => {
  const accepted = { status: 202, body: JSON.stringify({ id: "evt_1", type: "invoice.paid", deliveries: 1 }) };
  const srv = await scripted(t, [unavailable, unavailable, accepted]);
  const outlet = new Outlet({ url: srv.url + "/", key: "olk_test" });

  const res = await outlet.events.publish("acme co", { type: "invoice.paid", data: { n: 1 } }, { idempotencyKey: "k-1", headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } });
  assert.equal(res.id, "evt_1");
  assert.equal(srv.requests.length, 3);
  for (const r of srv.requests) {
    assert.equal(r.method, "POST");
    assert.equal(r.url, "/outlet/v1/tenants/acme%20co/events", "the url's path is kept and the tenant escaped");
    assert.equal(r.headers["authorization"], "Bearer olk_test");
    assert.equal(r.headers["idempotency-key"], "k-1");
    assert.equal(r.headers["content-type"], "application/json");
    assert.equal(r.headers["user-agent"], "outlet-typescript");
    assert.ok(r.headers["traceparent"]);
    assert.deepEqual(JSON.parse(r.body), { type: "invoice.paid", data: { n: 1 } });
  }
});

test("past its retries, the refusal is thrown as an OutletError", async (t) => {
  const srv = await scripted(t, [unavailable]);
  const outlet = new Outlet({ url: srv.url, key: "k", retries: 2 });
  await assert.rejects(outlet.tenants.get("acme"), (err) => {
    assert.ok(err instanceof OutletError);
    assert.equal(err.status, 503);
    assert.equal(err.code, "unavailable");
    assert.equal(err.message, "the database is unavailable; retry shortly");
    return true;
  });
  assert.equal(srv.requests.length, 3);

  const once = await scripted(t, [unavailable]);
  await assert.rejects(new Outlet({ url: once.url, retries: 0 }).tenants.get("acme"), { status: 503 });
  assert.equal(once.requests.length, 1);
  await assert.rejects(new Outlet({ url: once.url }).tenants.get("acme", { retries: 0 }), { status: 503 });
  assert.equal(once.requests.length, 2, "a call's own retries win over the client's");
});

test("a long Retry-After is cut to maxRetryWait", async (t) => {
  const srv = await scripted(t, [{ status: 429, headers: { "retry-after": "3600" } }, { status: 200, body: "{}" }]);
  const outlet = new Outlet({ url: srv.url, maxRetryWait: 1 });
  assert.deepEqual(await outlet.settings.get("acme"), {});
  assert.equal(srv.requests.length, 2);
});

test("aborting during the wait for a retry throws the refusal at once", async (t) => {
  const srv = await scripted(t, [{ status: 429, headers: { "retry-after": "3600" }, body: '{"error":{"code":"rate_limited","message":"slow down"}}' }]);
  const controller = new AbortController();
  // The abort comes once the refusal is in, so it falls in the wait.
  /** @type {typeof fetch} */
  const fetchThenAbort = async (input, init) => {
    const res = await fetch(input, init);
    const answered = new Response(await res.text(), res);
    setTimeout(() => controller.abort(), 10);
    return answered;
  };
  const outlet = new Outlet({ url: srv.url, fetch: fetchThenAbort });
  const call = outlet.tenants.get("acme", { signal: controller.signal });
  await assert.rejects(call, { name: "OutletError", status: 429, code: "rate_limited", message: "slow down" });
  assert.equal(srv.requests.length, 1);
});

test("an answer that isn't Outlet's gets the code its status stands for and says what answered", async (t) => {
  const srv = await scripted(t, [{ status: 502, headers: { "content-type": "text/html" }, body: "<h1>Bad Gateway</h1>" }]);
  const outlet = new Outlet({ url: srv.url });
  await assert.rejects(outlet.tenants.get("acme"), {
    status: 502,
    code: "unavailable",
    message: "GET /v1/tenants/acme answered 502 Bad Gateway: <h1>Bad Gateway</h1>",
  });
  assert.equal(srv.requests.length, 1, "502 is not retried");
});

test("the client needs the server's address", () => {
  assert.throws(() => new Outlet({ url: "" }), /url/);
});
