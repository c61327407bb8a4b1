/** One event sent to one target (an endpoint or a function), with its attempts. */
export class DeliveriesService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    /**
     * The deliveries the filter selects, newest first:
     *
     * ```ts
     * for await (const d of outlet.deliveries.list("acme", { status: "failed" })) { … }
     * ```
     */
    list(tenant, filter = {}, opts) {
        return this.#t.list("listDeliveries", { path: { tenant }, query: filter }, opts);
    }
    get(tenant, id, opts) {
        return this.#t.call("getDelivery", { path: { tenant, id } }, opts);
    }
    /** Every attempt of a delivery, first to last. */
    attempts(tenant, id, opts) {
        return this.#t.list("listAttempts", { path: { tenant, id } }, opts);
    }
    /**
     * Makes one more attempt of a delivery now, and answers the delivery as it
     * is when the attempt starts. A finished delivery gets that one attempt; a
     * pending one keeps its schedule afterwards.
     */
    retry(tenant, id, opts) {
        return this.#t.call("retryDelivery", { path: { tenant, id }, body: {} }, opts);
    }
}
