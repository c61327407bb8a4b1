/** A request that is not what Outlet sent: unsigned, mis-signed, or too old. */
export declare class WebhookVerificationError extends Error {
    readonly name = "WebhookVerificationError";
}
/** Request headers as fetch (a Headers) or node:http (an object of lower-case names) has them. */
export type WebhookHeaders = {
    get(name: string): string | null;
} | Record<string, string | string[] | undefined>;
/** What a webhook endpoint receives: the event as published. */
export interface WebhookEvent<T = unknown> {
    type: string;
    /** When the event happened, RFC 3339. */
    timestamp: string;
    data: T;
}
export interface VerifyOptions {
    /**
     * How far the request's webhook-timestamp may be from now, in seconds,
     * either way; default 300. It stops a captured request being replayed later.
     */
    tolerance?: number | undefined;
    /** The time to check the timestamp against; default now. */
    now?: Date | number | undefined;
}
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
export declare function verifyWebhook<T = WebhookEvent>(body: string | Uint8Array, headers: WebhookHeaders, secret: string, options?: VerifyOptions): T;
/**
 * The webhook-signature header Outlet sends for a message: "v1," and the
 * base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the secret's key. For
 * testing a receiver.
 */
export declare function signWebhook(secret: string, id: string, timestamp: number | string, body: string | Uint8Array): string;
