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
export class OutletError extends Error {
    name = "OutletError";
    /** The HTTP status, such as 404. */
    status;
    /**
     * The API's error code, such as "not_found". For an answer that did not
     * come from Outlet (a proxy in front of it), the code its status stands for.
     */
    code;
    /** message says what to change, for people: it may be shown as it is. */
    constructor(status, code, message) {
        super(message);
        this.status = status;
        this.code = code;
    }
}
/** The error code an HTTP status stands for, as the Go client reads it. */
export function statusCode(status) {
    switch (status) {
        case 401:
            return "unauthorized";
        case 403:
            return "forbidden";
        case 404:
            return "not_found";
        case 409:
            return "conflict";
        case 413:
            return "too_large";
        case 429:
            return "rate_limited";
        case 502:
        case 503:
        case 504:
            return "unavailable";
    }
    return status >= 400 && status < 500 ? "invalid" : "internal";
}
const maxErrorText = 200;
/** Reads a refusal into an OutletError. */
export async function refusal(res, method, path) {
    let text = "";
    try {
        text = await res.text();
    }
    catch {
        // The body broke off: the status still says what happened.
    }
    try {
        const body = JSON.parse(text);
        const e = body?.error;
        if (e && typeof e.message === "string" && e.message !== "") {
            const code = typeof e.code === "string" && e.code !== "" ? e.code : statusCode(res.status);
            return new OutletError(res.status, code, e.message);
        }
    }
    catch {
        // Not Outlet's JSON: described below.
    }
    let message = `${method} ${path} answered ${res.status}${res.statusText ? " " + res.statusText : ""}`;
    const trimmed = text.trim();
    if (trimmed !== "" && trimmed.length < maxErrorText) {
        message += ": " + trimmed;
    }
    return new OutletError(res.status, statusCode(res.status), message);
}
