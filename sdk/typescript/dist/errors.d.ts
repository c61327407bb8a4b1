import type { components } from "./openapi.js";
/**
 * The API's error codes (`not_found`, `invalid`, `rate_limited`, …); the
 * HTTP status follows from the code.
 */
export type ErrorCode = components["schemas"]["Error"]["error"]["code"];
/**
 * The server's refusal of a call: any answer with a status other than 2xx.
 * Failures to reach the server (a refused connection, a DNS error, an abort)
 * are not OutletErrors: they are fetch's own errors, thrown as they are.
 *
 * ```ts
 * try {
 *   await outlet.tenants.get("globex");
 * } catch (err) {
 *   if (err instanceof OutletError && err.code === "not_found") { … }
 *   else throw err;
 * }
 * ```
 */
export declare class OutletError extends Error {
    readonly name = "OutletError";
    /** The HTTP status, such as 404. */
    readonly status: number;
    /**
     * The API's error code, such as "not_found". For an answer that did not
     * come from Outlet (a proxy in front of it), the code its status stands for.
     */
    readonly code: ErrorCode;
    /** message says what to change, for people: it may be shown as it is. */
    constructor(status: number, code: ErrorCode, message: string);
}
/** The error code an HTTP status stands for, as the Go client reads it. */
export declare function statusCode(status: number): ErrorCode;
/** Reads a refusal into an OutletError. */
export declare function refusal(res: Response, method: string, path: string): Promise<OutletError>;
