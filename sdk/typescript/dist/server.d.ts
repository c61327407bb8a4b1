import type { RequestOptions, Transport } from "./transport.js";
import type { Status } from "./types.js";
/** The server itself: health, readiness, metrics and its API's description. No key needed. */
export declare class ServerService {
    #private;
    constructor(t: Transport);
    /** Answers when the process is up. */
    health(opts?: RequestOptions): Promise<Status>;
    /** Answers when the server can take work; an OutletError (503) when it can't. */
    ready(opts?: RequestOptions): Promise<Status>;
    /** The API's OpenAPI 3.1 document, the one this client's types are generated from. */
    openapi(opts?: RequestOptions): Promise<Record<string, unknown>>;
    /** Prometheus metrics, in its text format. */
    metrics(opts?: RequestOptions): Promise<string>;
}
