import { refusal } from "./errors.js";
import { PageRequest, type Page } from "./page.js";
import { routes, type Body, type Filter, type Ok, type OperationId, type PathParams, type Query } from "./routes.js";

/** How an Outlet client reaches its server. */
export interface OutletOptions {
  /** Outlet's address, such as "http://127.0.0.1:8080"; a path prefix is kept. */
  url: string | URL;
  /** The admin key, or a tenant's key for calls under that tenant alone. */
  key?: string | undefined;
  /**
   * How many times a call the server answers with 429 (too many requests) or
   * 503 (unavailable) is sent again before its OutletError is thrown; 0
   * never retries. Default 3. Both answers mean the server did nothing, so
   * any call may be retried; a publish should still carry an idempotency key,
   * for failures that aren't answers (a connection cut after the server
   * accepted), which are never retried.
   */
  retries?: number | undefined;
  /**
   * The longest wait before one retry, in milliseconds (default 30,000): a
   * longer Retry-After is cut to it. A request's signal bounds the waits as a
   * whole.
   */
  maxRetryWait?: number | undefined;
  /** The fetch to send requests with; default the global fetch. */
  fetch?: typeof globalThis.fetch | undefined;
  /** The User-Agent header; default "outlet-typescript". */
  userAgent?: string | undefined;
  /** Headers sent with every request. */
  headers?: Record<string, string> | undefined;
}

/** Options of one call. */
export interface RequestOptions {
  /**
   * Sent as the Idempotency-Key header. Publishing again with the same key
   * answers with the first event and sends nothing twice.
   */
  idempotencyKey?: string | undefined;
  /** Headers for this call alone, such as `traceparent`. */
  headers?: Record<string, string> | undefined;
  /** Aborts the call, including its waits between retries. */
  signal?: AbortSignal | undefined;
  /** The client's retries, for this call alone. */
  retries?: number | undefined;
}

export const defaultRetries = 3;
export const defaultMaxRetryWait = 30_000;

/** The parts of one call of operation K. */
export type CallArgs<K extends OperationId> = ([PathParams<K>] extends [never]
  ? { path?: undefined }
  : { path: PathParams<K> }) & {
  query?: ([Query<K>] extends [never] ? undefined : Filter<K>) | undefined;
  body?: Body<K> | undefined;
};

type QueryValue = string | number | boolean | Date | null | undefined | readonly (string | number)[];

/** Sends the API's calls for the resource groups of an Outlet. */
export class Transport {
  readonly #base: string;
  readonly #key: string | undefined;
  readonly #retries: number;
  readonly #maxWait: number;
  readonly #fetch: typeof globalThis.fetch;
  readonly #headers: Record<string, string>;

  constructor(o: OutletOptions) {
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
  async call<K extends OperationId>(op: K, args: CallArgs<K>, opts: RequestOptions = {}): Promise<Ok<K>> {
    const [method, template] = routes[op];
    const path = fillPath(template, (args.path ?? {}) as Record<string, string | number>);
    const url = this.#base + path + queryString((args.query ?? {}) as Record<string, QueryValue>);
    const headers: Record<string, string> = { Accept: "application/json", ...this.#headers };
    if (this.#key) {
      headers["Authorization"] = `Bearer ${this.#key}`;
    }
    let body: string | undefined;
    if (args.body !== undefined) {
      body = JSON.stringify(args.body);
      headers["Content-Type"] = "application/json";
    }
    if (opts.idempotencyKey !== undefined) {
      headers["Idempotency-Key"] = opts.idempotencyKey;
    }
    Object.assign(headers, opts.headers);

    for (let attempt = 0; ; attempt++) {
      const init: RequestInit = { method, headers };
      if (body !== undefined) init.body = body;
      if (opts.signal) init.signal = opts.signal;
      const res = await this.#fetch(url, init);
      if (res.ok) {
        return (await decode(res, method, path)) as Ok<K>;
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
  list<K extends OperationId>(op: K, args: CallArgs<K>, opts?: RequestOptions): PageRequest<Ok<K> & Page> {
    const query = (args.query ?? {}) as Record<string, QueryValue>;
    return new PageRequest(
      (cursor) =>
        this.call(op, { ...args, query: { ...query, cursor } } as unknown as CallArgs<K>, opts) as Promise<Ok<K> & Page>,
      typeof query["cursor"] === "string" ? query["cursor"] : undefined,
    );
  }
}

/** Fills the {name} parameters of a path template, escaped. */
export function fillPath(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined || v === "") {
      throw new TypeError(`Outlet: ${template} needs its ${name}`);
    }
    return encodeURIComponent(String(v));
  });
}

/** Encodes query parameters, leaving out those undefined, null or empty. */
export function queryString(params: Record<string, QueryValue>): string {
  const q = new URLSearchParams();
  for (const [name, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) {
      for (const item of v) q.append(name, String(item));
    } else if (v instanceof Date) {
      q.set(name, v.toISOString());
    } else {
      q.set(name, String(v));
    }
  }
  const s = q.toString();
  return s === "" ? "" : "?" + s;
}

/** Reads a successful answer: JSON, text, or nothing. */
async function decode(res: Response, method: string, path: string): Promise<unknown> {
  const text = await res.text();
  if (text.trim() === "") {
    return undefined;
  }
  if (!/\bjson\b/i.test(res.headers.get("content-type") ?? "")) {
    return text;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`Outlet: decode the answer to ${method} ${path}: ${(e as Error).message}`);
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
export function retryWait(res: Response, attempt: number, now: number = Date.now()): number | undefined {
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
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
