import type { RequestOptions, Transport } from "./transport.js";
import type { Status } from "./types.js";

/** The server itself: health, readiness, metrics and its API's description. No key needed. */
export class ServerService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /** Answers when the process is up. */
  health(opts?: RequestOptions): Promise<Status> {
    return this.#t.call("healthz", {}, opts);
  }

  /** Answers when the server can take work; an OutletError (503) when it can't. */
  ready(opts?: RequestOptions): Promise<Status> {
    return this.#t.call("readyz", {}, opts);
  }

  /** The API's OpenAPI 3.1 document, the one this client's types are generated from. */
  openapi(opts?: RequestOptions): Promise<Record<string, unknown>> {
    return this.#t.call("getOpenAPI", {}, opts);
  }

  /** Prometheus metrics, in its text format. */
  metrics(opts?: RequestOptions): Promise<string> {
    return this.#t.call("metrics", {}, opts);
  }
}
