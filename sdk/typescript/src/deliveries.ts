import type { PageRequest } from "./page.js";
import type { Filter } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type { AttemptList, Delivery, DeliveryList } from "./types.js";

/** One event sent to one target (an endpoint or a function), with its attempts. */
export class DeliveriesService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /**
   * The deliveries the filter selects, newest first:
   *
   * ```ts
   * for await (const d of outlet.deliveries.list("acme", { status: "failed" })) { … }
   * ```
   */
  list(tenant: string, filter: Filter<"listDeliveries"> = {}, opts?: RequestOptions): PageRequest<DeliveryList> {
    return this.#t.list("listDeliveries", { path: { tenant }, query: filter }, opts);
  }

  get(tenant: string, id: string, opts?: RequestOptions): Promise<Delivery> {
    return this.#t.call("getDelivery", { path: { tenant, id } }, opts);
  }

  /** Every attempt of a delivery, first to last. */
  attempts(tenant: string, id: string, opts?: RequestOptions): PageRequest<AttemptList> {
    return this.#t.list("listAttempts", { path: { tenant, id } }, opts);
  }

  /**
   * Makes one more attempt of a delivery now, and answers the delivery as it
   * is when the attempt starts. A finished delivery gets that one attempt; a
   * pending one keeps its schedule afterwards.
   */
  retry(tenant: string, id: string, opts?: RequestOptions): Promise<Delivery> {
    return this.#t.call("retryDelivery", { path: { tenant, id }, body: {} }, opts);
  }
}
