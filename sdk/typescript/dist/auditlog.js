/** Every change: who made it, what, when and from where; never a secret's value. */
export class AuditLogService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    /** The changes to what the tenant owns, newest first. */
    list(tenant, filter = {}, opts) {
        return this.#t.list("listTenantAuditLog", { path: { tenant }, query: filter }, opts);
    }
    /**
     * The operator's log: every tenant's changes and the operator's own,
     * newest first; `tenant` in the filter selects one tenant's (admin key).
     */
    listOperator(filter = {}, opts) {
        return this.#t.list("listAuditLog", { query: filter }, opts);
    }
}
