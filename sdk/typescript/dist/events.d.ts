import type { PageRequest } from "./page.js";
import type { Filter } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type { BatchEvent, Event, EventList, Publish, PublishBatchResult, PublishResult } from "./types.js";
/** Publishing a tenant's events, and reading them back. */
export declare class EventsService {
    #private;
    constructor(t: Transport);
    /**
     * Stores an event for the tenant and sends it to every matching endpoint
     * and function; answers once it is durably stored. With an
     * `idempotencyKey`, publishing again answers with the first event and sends
     * nothing twice:
     *
     * ```ts
     * await outlet.events.publish("acme", { type: "invoice.paid", data }, { idempotencyKey: "invoice-1234-paid" });
     * ```
     */
    publish(tenant: string, event: Publish, opts?: RequestOptions): Promise<PublishResult>;
    /**
     * Publishes up to 1,000 events in one call and answers one result per
     * event, in order: the event's id, or the error that refused it alone.
     * Every accepted event is durably stored before the answer. An event's
     * `idempotency_key` does what the Idempotency-Key header does for one.
     */
    publishBatch(tenant: string, events: BatchEvent[], opts?: RequestOptions): Promise<PublishBatchResult>;
    /** The tenant's events, newest first. */
    list(tenant: string, filter?: Filter<"listEvents">, opts?: RequestOptions): PageRequest<EventList>;
    /** An event with its data (null once the retention period removed it). */
    get(tenant: string, id: string, opts?: RequestOptions): Promise<Event>;
}
