/** The platform's hooks: extension points it calls during its own requests. Admin key. */
export class HooksService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    create(hook, opts) {
        return this.#t.call("createHook", { body: hook }, opts);
    }
    list(opts) {
        return this.#t.list("listHooks", {}, opts);
    }
    get(hook, opts) {
        return this.#t.call("getHook", { path: { hook } }, opts);
    }
    /** Changes the fields update sets and answers the hook as it is now. */
    update(hook, update, opts) {
        return this.#t.call("updateHook", { path: { hook }, body: update }, opts);
    }
    /** Sets every field of the hook: those left out take their defaults. */
    replace(hook, replacement, opts) {
        return this.#t.call("replaceHook", { path: { hook }, body: replacement }, opts);
    }
    async delete(hook, opts) {
        await this.#t.call("deleteHook", { path: { hook } }, opts);
    }
}
/** The hooks as a tenant sees them: what serves each, its sync endpoints, and invoking them. */
export class TenantHooksService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    list(tenant, opts) {
        return this.#t.list("listTenantHooks", { path: { tenant } }, opts);
    }
    get(tenant, hook, opts) {
        return this.#t.call("getTenantHook", { path: { tenant, hook } }, opts);
    }
    /**
     * Serves the hook for the tenant with its own URL, called synchronously
     * and signed as a webhook is. The first answer holds the `whsec_` secret.
     */
    putEndpoint(tenant, hook, endpoint, opts) {
        return this.#t.call("putHookEndpoint", { path: { tenant, hook }, body: endpoint }, opts);
    }
    endpoint(tenant, hook, opts) {
        return this.#t.call("getHookEndpoint", { path: { tenant, hook } }, opts);
    }
    /** The `whsec_` secret the hook's sync endpoint verifies requests with. */
    async endpointSecret(tenant, hook, opts) {
        const r = await this.#t.call("getHookEndpointSecret", { path: { tenant, hook } }, opts);
        return r.secret;
    }
    async deleteEndpoint(tenant, hook, opts) {
        await this.#t.call("deleteHookEndpoint", { path: { tenant, hook } }, opts);
    }
    /**
     * Runs the tenant's functions for the hook (or calls its sync endpoint) on
     * input, within the hook's deadline. A failing function answers with its
     * `error` set, not with an OutletError.
     */
    invoke(tenant, hook, input, opts) {
        return this.#t.call("invokeHook", { path: { tenant, hook }, body: { input } }, opts);
    }
}
