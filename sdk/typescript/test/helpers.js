// What the tests share: the Outlet server they run against, fresh names, a
// receiver for webhooks, and bounded waiting.

import { randomBytes } from "node:crypto";
import http from "node:http";

import { Outlet } from "@outlethq/outlet";

/** The server under test, as `go test ./sdk/typescript` starts it. */
export const server = {
  url: process.env.OUTLET_URL ?? "",
  key: process.env.OUTLET_ADMIN_KEY ?? "",
};

/**
 * Options for node:test that skip a test when no server is given, saying
 * how to get one.
 * @type {{ skip: string | false }}
 */
export const needsServer = {
  skip:
    server.url === ""
      ? "no Outlet server: set OUTLET_URL and OUTLET_ADMIN_KEY, or run go test ./sdk/typescript, which starts one"
      : false,
};

/**
 * A client of the server under test with the admin key.
 * @param {Partial<import("@outlethq/outlet").OutletOptions>} [options]
 */
export function admin(options = {}) {
  return new Outlet({ url: server.url, key: server.key, ...options });
}

/** A name no other test uses, such as "t-4f9c1a2b". */
export function unique(prefix = "t") {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/**
 * Makes a tenant of its own for a test.
 * @param {import("@outlethq/outlet").Outlet} outlet
 * @param {Partial<import("@outlethq/outlet").TenantCreate>} [fields]
 */
export async function tenant(outlet, fields = {}) {
  return outlet.tenants.create({ id: unique("tenant"), name: "SDK test", ...fields });
}

/**
 * @typedef {{ headers: http.IncomingHttpHeaders, body: Buffer }} Received
 */

/**
 * An HTTP server on 127.0.0.1 that answers every request with status and
 * keeps what it got; closed when the test ends.
 * @param {import("node:test").TestContext} t
 * @param {number} [status]
 */
export async function receiver(t, status = 204) {
  /** @type {Received[]} */
  const received = [];
  const srv = http.createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status).end();
    });
  });
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve(undefined)));
  t.after(() => new Promise((resolve) => srv.close(() => resolve(undefined))));
  const addr = /** @type {import("node:net").AddressInfo} */ (srv.address());
  return { url: `http://127.0.0.1:${addr.port}/webhooks`, received };
}

/**
 * Calls check every 50 ms until it answers something other than undefined,
 * for at most 15 seconds.
 * @template T
 * @param {string} what
 * @param {() => Promise<T | undefined> | T | undefined} check
 * @returns {Promise<T>}
 */
export async function eventually(what, check) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after 15s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
