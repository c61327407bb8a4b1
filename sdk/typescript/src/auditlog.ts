import type { PageRequest } from "./page.js";
import type { Filter } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type { AuditEntryList } from "./types.js";

/** Every change: who made it, what, when and from where; never a secret's value. */
export class AuditLogService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /** The changes to what the tenant owns, newest first. */
  list(tenant: string, filter: Filter<"listTenantAuditLog"> = {}, opts?: RequestOptions): PageRequest<AuditEntryList> {
    return this.#t.list("listTenantAuditLog", { path: { tenant }, query: filter }, opts);
  }

  /**
   * The operator's log: every tenant's changes and the operator's own,
   * newest first; `tenant` in the filter selects one tenant's (admin key).
   */
  listOperator(filter: Filter<"listAuditLog"> = {}, opts?: RequestOptions): PageRequest<AuditEntryList> {
    return this.#t.list("listAuditLog", { query: filter }, opts);
  }
}
