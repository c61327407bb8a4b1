// A receiver verifies what Outlet really sends with verifyWebhook.

import assert from "node:assert/strict";
import { test } from "node:test";

import { signWebhook, verifyWebhook, WebhookVerificationError } from "@outlethq/outlet/webhooks";

import { admin, eventually, needsServer, receiver, tenant } from "./helpers.js";

test("a delivery Outlet sent verifies with its endpoint's secret, and nothing else does", needsServer, async (t) => {
  const outlet = admin();
  const acme = await tenant(outlet);
  const rx = await receiver(t);
  const ep = await outlet.endpoints.create(acme.id, { url: rx.url });
  const published = await outlet.events.publish(acme.id, { type: "invoice.paid", data: { invoice: "1234", amount: 4200 } });

  const got = await eventually("the delivery", () => rx.received[0]);
  const event = verifyWebhook(got.body, got.headers, ep.secret);
  assert.equal(event.type, "invoice.paid");
  assert.deepEqual(event.data, { invoice: "1234", amount: 4200 });
  assert.equal(got.headers["webhook-id"], published.id);

  // The same from fetch's Headers and a string body.
  /** @type {[string, string][]} */
  const pairs = Object.entries(got.headers).map(([k, v]) => [k, String(v)]);
  assert.deepEqual(verifyWebhook(got.body.toString("utf8"), new Headers(pairs), ep.secret), event);

  const tampered = Buffer.from(got.body.toString("utf8").replace("4200", "1"));
  assert.throws(() => verifyWebhook(tampered, got.headers, ep.secret), WebhookVerificationError);
  const other = (await outlet.endpoints.create(acme.id, { url: rx.url + "/other", event_types: ["nothing"] })).secret;
  assert.throws(() => verifyWebhook(got.body, got.headers, other), /no signature/);

  // Replayed later than the tolerance, it is refused.
  const later = Number(got.headers["webhook-timestamp"]) * 1000 + 6 * 60 * 1000;
  assert.throws(() => verifyWebhook(got.body, got.headers, ep.secret, { now: later }), /old/);
  assert.doesNotThrow(() => verifyWebhook(got.body, got.headers, ep.secret, { now: later, tolerance: 600 }));
});

test("during a rotation either secret verifies", needsServer, async (t) => {
  const outlet = admin();
  const acme = await tenant(outlet);
  const rx = await receiver(t);
  const ep = await outlet.endpoints.create(acme.id, { url: rx.url });
  const rotated = await outlet.endpoints.rotateSecret(acme.id, ep.id, { overlap_seconds: 3600 });
  assert.notEqual(rotated.secret, ep.secret);

  await outlet.events.publish(acme.id, { type: "invoice.paid", data: {} });
  const got = await eventually("the delivery", () => rx.received[0]);
  assert.equal(String(got.headers["webhook-signature"]).split(" ").length, 2);
  verifyWebhook(got.body, got.headers, ep.secret);
  verifyWebhook(got.body, got.headers, rotated.secret);
});

test("signWebhook signs as Outlet does, so receivers can be tested", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const body = '{"type":"invoice.paid","timestamp":"2026-11-23T19:05:34.120Z","data":{}}';
  const headers = {
    "webhook-id": "evt_1",
    "webhook-timestamp": "1795460734",
    "webhook-signature": signWebhook(secret, "evt_1", 1795460734, body),
  };
  assert.match(headers["webhook-signature"], /^v1,[A-Za-z0-9+/]+=*$/);
  const event = verifyWebhook(body, headers, secret, { now: 1795460734 * 1000 });
  assert.equal(event.type, "invoice.paid");
});

test("a request without the headers, or with a bad timestamp, is refused", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  assert.throws(() => verifyWebhook("{}", {}, secret), /lacks a webhook-id/);
  assert.throws(
    () => verifyWebhook("{}", { "webhook-id": "a", "webhook-timestamp": "yesterday", "webhook-signature": "v1,x" }, secret),
    /Unix seconds/,
  );
  const now = 1795460734;
  const signed = { "webhook-id": "a", "webhook-timestamp": String(now + 600), "webhook-signature": signWebhook(secret, "a", now + 600, "{}") };
  assert.throws(() => verifyWebhook("{}", signed, secret, { now: now * 1000 }), /future/);
  // @ts-expect-error: a parsed body can't be verified
  assert.throws(() => verifyWebhook({}, signed, secret), TypeError);
});
