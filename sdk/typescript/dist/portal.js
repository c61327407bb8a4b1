/** Links into the embedded portal, for one tenant's people or for the operator. Admin key. */
export class PortalSessionsService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    /**
     * Opens the portal for the tenant: answers a one-time `url` (absolute, or
     * relative to Outlet's address) that sets the session's cookie when opened.
     */
    create(tenant, session = {}, opts) {
        return this.#t.call("createPortalSession", { path: { tenant }, body: session }, opts);
    }
    /** Opens the operator's console: every tenant, read and written as the admin key may. */
    createOperator(session = {}, opts) {
        return this.#t.call("createOperatorPortalSession", { body: session }, opts);
    }
    /** The tenant's sessions, newest first, without their tokens. */
    list(tenant, filter = {}, opts) {
        return this.#t.list("listPortalSessions", { path: { tenant }, query: filter }, opts);
    }
    /** The operator's sessions, newest first, without their tokens. */
    listOperator(filter = {}, opts) {
        return this.#t.list("listOperatorPortalSessions", { query: filter }, opts);
    }
    /** Ends a session of the tenant by its id (`ps_…`). */
    async revoke(tenant, id, opts) {
        await this.#t.call("revokePortalSession", { path: { tenant, id } }, opts);
    }
    /** Ends an operator's session by its id (`ps_…`). */
    async revokeOperator(id, opts) {
        await this.#t.call("revokeOperatorPortalSession", { path: { id } }, opts);
    }
}
