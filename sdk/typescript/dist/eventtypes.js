/** The catalog of events the platform publishes, with optional JSON Schemas. Admin key. */
export class EventTypesService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    /**
     * Adds an event type to the catalog. Events of a type with a schema are
     * checked against it when published (422 when their data doesn't match).
     */
    create(eventType, opts) {
        return this.#t.call("createEventType", { body: eventType }, opts);
    }
    list(opts) {
        return this.#t.list("listEventTypes", {}, opts);
    }
    get(name, opts) {
        return this.#t.call("getEventType", { path: { name } }, opts);
    }
    /** Changes the fields update sets and answers the event type as it is now. */
    update(name, update, opts) {
        return this.#t.call("updateEventType", { path: { name }, body: update }, opts);
    }
    /** Sets every field of the event type: those left out take their defaults. */
    replace(name, replacement, opts) {
        return this.#t.call("replaceEventType", { path: { name }, body: replacement }, opts);
    }
    async delete(name, opts) {
        await this.#t.call("deleteEventType", { path: { name } }, opts);
    }
}
/** The event catalog as a tenant sees it: what its endpoints and functions may subscribe to. */
export class CatalogService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    list(tenant, opts) {
        return this.#t.list("listTenantEventTypes", { path: { tenant } }, opts);
    }
    get(tenant, name, opts) {
        return this.#t.call("getTenantEventType", { path: { tenant, name } }, opts);
    }
}
