/** The platform's customers. Every call but get needs the admin key. */
export class TenantsService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    /** Makes a tenant. An id already in use is refused with 409 (`conflict`). */
    create(tenant, opts) {
        return this.#t.call("createTenant", { body: tenant }, opts);
    }
    /** Tenants, newest first. */
    list(filter = {}, opts) {
        return this.#t.list("listTenants", { query: filter }, opts);
    }
    /** A tenant. Its own key may read it. */
    get(tenant, opts) {
        return this.#t.call("getTenant", { path: { tenant } }, opts);
    }
    /** Changes the fields update sets and answers the tenant as it is now. */
    update(tenant, update, opts) {
        return this.#t.call("updateTenant", { path: { tenant }, body: update }, opts);
    }
    /** Sets every field of the tenant: those left out take their defaults. */
    replace(tenant, replacement, opts) {
        return this.#t.call("replaceTenant", { path: { tenant }, body: replacement }, opts);
    }
    /** Removes a tenant and everything it owns: keys, endpoints, events, deliveries, functions. */
    async delete(tenant, opts) {
        await this.#t.call("deleteTenant", { path: { tenant } }, opts);
    }
}
/** The keys a tenant's systems call the API with, for routes under that tenant alone. Admin key. */
export class APIKeysService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    /** Makes a key for the tenant; its secret `key` can be read this once. */
    create(tenant, key = {}, opts) {
        return this.#t.call("createAPIKey", { path: { tenant }, body: key }, opts);
    }
    /** The tenant's keys, without their secrets. */
    list(tenant, opts) {
        return this.#t.list("listAPIKeys", { path: { tenant } }, opts);
    }
    /** Revokes a key by its id (`key_…`). */
    async delete(tenant, id, opts) {
        await this.#t.call("deleteAPIKey", { path: { tenant, key: id } }, opts);
    }
}
/** What a tenant used, per UTC day, for billing. */
export class UsageService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    /**
     * The tenant's usage on the days from since to before (exclusive), each a
     * date such as "2026-11-01" or a Date (its UTC day). Left out: the first of
     * this month, and tomorrow. The tenant's own key may read it.
     */
    get(tenant, range = {}, opts) {
        return this.#t.call("getUsage", { path: { tenant }, query: { since: day(range.since), before: day(range.before) } }, opts);
    }
}
function day(d) {
    return d instanceof Date ? d.toISOString().slice(0, 10) : d;
}
/** What a tenant may set for itself. */
export class SettingsService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    get(tenant, opts) {
        return this.#t.call("getTenantSettings", { path: { tenant } }, opts);
    }
    /** Replaces the tenant's settings and answers them as they are now. */
    put(tenant, settings, opts) {
        return this.#t.call("putTenantSettings", { path: { tenant }, body: settings }, opts);
    }
}
