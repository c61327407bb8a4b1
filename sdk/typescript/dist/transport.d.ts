import { PageRequest, type Page } from "./page.js";
import { type Body, type Filter, type Ok, type OperationId, type PathParams, type Query } from "./routes.js";
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
export declare const defaultRetries = 3;
export declare const defaultMaxRetryWait = 30000;
/** The parts of one call of operation K. */
export type CallArgs<K extends OperationId> = ([PathParams<K>] extends [never] ? {
    path?: undefined;
} : {
    path: PathParams<K>;
}) & {
    query?: ([Query<K>] extends [never] ? undefined : Filter<K>) | undefined;
    body?: Body<K> | undefined;
};
type QueryValue = string | number | boolean | Date | null | undefined | readonly (string | number)[];
/** Sends the API's calls for the resource groups of an Outlet. */
export declare class Transport {
    #private;
    constructor(o: OutletOptions);
    /**
     * Sends operation op and answers its body. A 429 or 503 is sent again, up
     * to the client's retries, after the wait its Retry-After asks for.
     */
    call<K extends OperationId>(op: K, args: CallArgs<K>, opts?: RequestOptions): Promise<Ok<K>>;
    /** Sends list operation op, page by page as the answer is used. */
    list<K extends OperationId>(op: K, args: CallArgs<K>, opts?: RequestOptions): PageRequest<Ok<K> & Page>;
}
/** Fills the {name} parameters of a path template, escaped. */
export declare function fillPath(template: string, params: Record<string, string | number>): string;
/** Encodes query parameters, leaving out those undefined, null or empty. */
export declare function queryString(params: Record<string, QueryValue>): string;
/**
 * Whether a refusal may be retried, and after how many milliseconds: undefined
 * for any status but 429 and 503; else the answer's Retry-After (seconds or
 * an HTTP date) when it has one, or a backoff doubling from half a second
 * with attempt (0 for the first retry).
 */
export declare function retryWait(res: Response, attempt: number, now?: number): number | undefined;
export {};
