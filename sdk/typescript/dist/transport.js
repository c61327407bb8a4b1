import { refusal } from "./errors.js";
import { PageRequest } from "./page.js";
import { routes } from "./routes.js";
export const defaultRetries = 3;
export const defaultMaxRetryWait = 30_000;
/** Sends the API's calls for the resource groups of an Outlet. */
export class Transport {
    #base;
    #key;
    #retries;
    #maxWait;
    #fetch;
    #headers;
    constructor(o) {
        if (o.url === undefined || o.url === "") {
            throw new TypeError("Outlet: give the server's address as url, such as http://127.0.0.1:8080");
        }
        this.#base = String(o.url).replace(/\/+$/, "");
        this.#key = o.key;
        this.#retries = Math.max(0, Math.floor(o.retries ?? defaultRetries));
        this.#maxWait = Math.max(0, o.maxRetryWait ?? defaultMaxRetryWait);
        const f = o.fetch ?? globalThis.fetch;
        if (typeof f !== "function") {
            throw new TypeError("Outlet: this runtime has no global fetch; pass one as fetch");
        }
        this.#fetch = f;
        this.#headers = { "User-Agent": o.userAgent ?? "outlet-typescript", ...o.headers };
    }
    /**
     * Sends operation op and answers its body. A 429 or 503 is sent again, up
     * to the client's retries, after the wait its Retry-After asks for.
     */
    async call(op, args, opts = {}) {
        const [method, template] = routes[op];
        const path = fillPath(template, (args.path ?? {}));
        const url = this.#base + path + queryString((args.query ?? {}));
        const headers = { Accept: "application/json", ...this.#headers };
        if (this.#key) {
            headers["Authorization"] = `Bearer ${this.#key}`;
        }
        let body;
        if (args.body !== undefined) {
            body = JSON.stringify(args.body);
            headers["Content-Type"] = "application/json";
        }
        if (opts.idempotencyKey !== undefined) {
            headers["Idempotency-Key"] = opts.idempotencyKey;
        }
        Object.assign(headers, opts.headers);
        for (let attempt = 0;; attempt++) {
            const init = { method, headers };
            if (body !== undefined)
                init.body = body;
            if (opts.signal)
                init.signal = opts.signal;
            const res = await this.#fetch(url, init);
            if (res.ok) {
                return (await decode(res, method, path));
            }
            const wait = retryWait(res, attempt);
            const err = await refusal(res, method, path);
            if (wait === undefined || attempt >= (opts.retries ?? this.#retries)) {
                throw err;
            }
            if (!(await sleep(Math.min(wait, this.#maxWait), opts.signal))) {
                // Aborted while waiting: the refusal says more than the abort.
                throw err;
            }
        }
    }
    /** Sends list operation op, page by page as the answer is used. */
    list(op, args, opts) {
        const query = (args.query ?? {});
        return new PageRequest((cursor) => this.call(op, { ...args, query: { ...query, cursor } }, opts), typeof query["cursor"] === "string" ? query["cursor"] : undefined);
    }
}
/** Fills the {name} parameters of a path template, escaped. */
export function fillPath(template, params) {
    return template.replace(/\{([^}]+)\}/g, (_, name) => {
        const v = params[name];
        if (v === undefined || v === "") {
            throw new TypeError(`Outlet: ${template} needs its ${name}`);
        }
        return encodeURIComponent(String(v));
    });
}
/** Encodes query parameters, leaving out those undefined, null or empty. */
export function queryString(params) {
    const q = new URLSearchParams();
    for (const [name, v] of Object.entries(params)) {
        if (v === undefined || v === null || v === "")
            continue;
        if (Array.isArray(v)) {
            for (const item of v)
                q.append(name, String(item));
        }
        else if (v instanceof Date) {
            q.set(name, v.toISOString());
        }
        else {
            q.set(name, String(v));
        }
    }
    const s = q.toString();
    return s === "" ? "" : "?" + s;
}
/** Reads a successful answer: JSON, text, or nothing. */
async function decode(res, method, path) {
    const text = await res.text();
    if (text.trim() === "") {
        return undefined;
    }
    if (!/\bjson\b/i.test(res.headers.get("content-type") ?? "")) {
        return text;
    }
    try {
        return JSON.parse(text);
    }
    catch (e) {
        throw new Error(`Outlet: decode the answer to ${method} ${path}: ${e.message}`);
    }
}
// Retry-After as an HTTP date starts with the day's name (RFC 9110 §5.6.7).
const httpDate = /^[A-Za-z]{3},? /;
/**
 * Whether a refusal may be retried, and after how many milliseconds: undefined
 * for any status but 429 and 503; else the answer's Retry-After (seconds or
 * an HTTP date) when it has one, or a backoff doubling from half a second
 * with attempt (0 for the first retry).
 */
export function retryWait(res, attempt, now = Date.now()) {
    if (res.status !== 429 && res.status !== 503) {
        return undefined;
    }
    const v = (res.headers.get("retry-after") ?? "").trim();
    if (/^\d+$/.test(v)) {
        return Number(v) * 1000;
    }
    if (httpDate.test(v)) {
        const at = Date.parse(v);
        if (!Number.isNaN(at)) {
            return Math.max(0, at - now);
        }
    }
    return 500 * 2 ** Math.min(attempt, 6);
}
/** Waits ms; false if signal aborted first. */
function sleep(ms, signal) {
    if (signal?.aborted) {
        return Promise.resolve(false);
    }
    return new Promise((resolve) => {
        const done = (ok) => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            resolve(ok);
        };
        const onAbort = () => done(false);
        const timer = setTimeout(() => done(true), ms);
        signal?.addEventListener("abort", onAbort, { once: true });
    });
}
