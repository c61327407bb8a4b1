import type { PageRequest } from "./page.js";
import type { Body } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type { EventType, EventTypeCreate, EventTypeList, EventTypeUpdate } from "./types.js";

/** The catalog of events the platform publishes, with optional JSON Schemas. Admin key. */
export class EventTypesService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /**
   * Adds an event type to the catalog. Events of a type with a schema are
   * checked against it when published (422 when their data doesn't match).
   */
  create(eventType: EventTypeCreate, opts?: RequestOptions): Promise<EventType> {
    return this.#t.call("createEventType", { body: eventType }, opts);
  }

  list(opts?: RequestOptions): PageRequest<EventTypeList> {
    return this.#t.list("listEventTypes", {}, opts);
  }

  get(name: string, opts?: RequestOptions): Promise<EventType> {
    return this.#t.call("getEventType", { path: { name } }, opts);
  }

  /** Changes the fields update sets and answers the event type as it is now. */
  update(name: string, update: EventTypeUpdate, opts?: RequestOptions): Promise<EventType> {
    return this.#t.call("updateEventType", { path: { name }, body: update }, opts);
  }

  /** Sets every field of the event type: those left out take their defaults. */
  replace(name: string, replacement: Body<"replaceEventType">, opts?: RequestOptions): Promise<EventType> {
    return this.#t.call("replaceEventType", { path: { name }, body: replacement }, opts);
  }

  async delete(name: string, opts?: RequestOptions): Promise<void> {
    await this.#t.call("deleteEventType", { path: { name } }, opts);
  }
}

/** The event catalog as a tenant sees it: what its endpoints and functions may subscribe to. */
export class CatalogService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  list(tenant: string, opts?: RequestOptions): PageRequest<EventTypeList> {
    return this.#t.list("listTenantEventTypes", { path: { tenant } }, opts);
  }

  get(tenant: string, name: string, opts?: RequestOptions): Promise<EventType> {
    return this.#t.call("getTenantEventType", { path: { tenant, name } }, opts);
  }
}
