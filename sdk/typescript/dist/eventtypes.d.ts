import type { PageRequest } from "./page.js";
import type { Body } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type { EventType, EventTypeCreate, EventTypeList, EventTypeUpdate } from "./types.js";
/** The catalog of events the platform publishes, with optional JSON Schemas. Admin key. */
export declare class EventTypesService {
    #private;
    constructor(t: Transport);
    /**
     * Adds an event type to the catalog. Events of a type with a schema are
     * checked against it when published (422 when their data doesn't match).
     */
    create(eventType: EventTypeCreate, opts?: RequestOptions): Promise<EventType>;
    list(opts?: RequestOptions): PageRequest<EventTypeList>;
    get(name: string, opts?: RequestOptions): Promise<EventType>;
    /** Changes the fields update sets and answers the event type as it is now. */
    update(name: string, update: EventTypeUpdate, opts?: RequestOptions): Promise<EventType>;
    /** Sets every field of the event type: those left out take their defaults. */
    replace(name: string, replacement: Body<"replaceEventType">, opts?: RequestOptions): Promise<EventType>;
    delete(name: string, opts?: RequestOptions): Promise<void>;
}
/** The event catalog as a tenant sees it: what its endpoints and functions may subscribe to. */
export declare class CatalogService {
    #private;
    constructor(t: Transport);
    list(tenant: string, opts?: RequestOptions): PageRequest<EventTypeList>;
    get(tenant: string, name: string, opts?: RequestOptions): Promise<EventType>;
}
