// Verifying the requests Outlet sends to webhook endpoints and hooks' sync
// endpoints: Standard Webhooks signatures, checked with node:crypto.
import { createHmac, timingSafeEqual } from "node:crypto";
/** A request that is not what Outlet sent: unsigned, mis-signed, or too old. */
export class WebhookVerificationError extends Error {
    name = "WebhookVerificationError";
}
const defaultTolerance = 300;
const secretPrefix = "whsec_";
/**
 * Checks that a request came from Outlet, signed with the endpoint's secret,
 * within the tolerance, and answers its body parsed. It throws a
 * WebhookVerificationError otherwise.
 *
 * body must be the request's raw body, exactly as received (a string, or
 * bytes): parsing and re-encoding JSON changes it, and the signature with it.
 * During a secret rotation a request carries two signatures; either verifies.
 *
 * ```ts
 * const event = verifyWebhook(rawBody, req.headers, process.env.WEBHOOK_SECRET);
 * ```
 *
 * The webhook-id header is the same on every retry of a delivery: deduplicate
 * on it.
 */
export function verifyWebhook(body, headers, secret, options = {}) {
    if (typeof body !== "string" && !(body instanceof Uint8Array)) {
        throw new TypeError("verifyWebhook: pass the raw request body (a string or bytes), not parsed JSON");
    }
    const id = header(headers, "webhook-id");
    const timestamp = header(headers, "webhook-timestamp");
    const signatures = header(headers, "webhook-signature");
    if (!id || !timestamp || !signatures) {
        throw new WebhookVerificationError("the request lacks a webhook-id, webhook-timestamp or webhook-signature header: it was not sent by Outlet");
    }
    if (!/^\d+$/.test(timestamp)) {
        throw new WebhookVerificationError(`webhook-timestamp ${JSON.stringify(timestamp)} is not Unix seconds`);
    }
    const tolerance = options.tolerance ?? defaultTolerance;
    const now = Math.floor(Number(options.now ?? Date.now()) / 1000);
    const age = now - Number(timestamp);
    if (age > tolerance) {
        throw new WebhookVerificationError(`webhook-timestamp is ${age}s old, more than the ${tolerance}s allowed`);
    }
    if (-age > tolerance) {
        throw new WebhookVerificationError(`webhook-timestamp is ${-age}s in the future, more than the ${tolerance}s allowed`);
    }
    const want = Buffer.from(sign(secret, id, timestamp, body), "base64");
    const valid = signatures.split(" ").some((part) => {
        if (!part.startsWith("v1,"))
            return false;
        const got = Buffer.from(part.slice(3), "base64");
        return got.length === want.length && timingSafeEqual(got, want);
    });
    if (!valid) {
        throw new WebhookVerificationError("no signature in webhook-signature matches this secret and body");
    }
    const text = typeof body === "string" ? body : Buffer.from(body).toString("utf8");
    try {
        return JSON.parse(text);
    }
    catch {
        throw new WebhookVerificationError("the signed body is not JSON");
    }
}
/**
 * The webhook-signature header Outlet sends for a message: "v1," and the
 * base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the secret's key. For
 * testing a receiver.
 */
export function signWebhook(secret, id, timestamp, body) {
    return "v1," + sign(secret, id, String(timestamp), body);
}
function sign(secret, id, timestamp, body) {
    const raw = secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret;
    const key = Buffer.from(raw, "base64");
    if (key.length === 0) {
        throw new TypeError("webhook secret must be whsec_ followed by base64, as Outlet gives it");
    }
    return createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64");
}
function header(headers, name) {
    if (typeof headers.get === "function") {
        return headers.get(name) ?? undefined;
    }
    const record = headers;
    let v = record[name];
    if (v === undefined) {
        const key = Object.keys(record).find((k) => k.toLowerCase() === name);
        v = key === undefined ? undefined : record[key];
    }
    return Array.isArray(v) ? v[0] : v;
}
