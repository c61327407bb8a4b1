import type { PageRequest } from "./page.js";
import type { Filter } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type { NewPortalSession, PortalSessionCreate, PortalSessionList } from "./types.js";

/** Links into the embedded portal, for one tenant's people or for the operator. Admin key. */
export class PortalSessionsService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /**
   * Opens the portal for the tenant: answers a one-time `url` (absolute, or
   * relative to Outlet's address) that sets the session's cookie when opened.
   */
  create(tenant: string, session: PortalSessionCreate = {}, opts?: RequestOptions): Promise<NewPortalSession> {
    return this.#t.call("createPortalSession", { path: { tenant }, body: session }, opts);
  }

  /** Opens the operator's console: every tenant, read and written as the admin key may. */
  createOperator(session: PortalSessionCreate = {}, opts?: RequestOptions): Promise<NewPortalSession> {
    return this.#t.call("createOperatorPortalSession", { body: session }, opts);
  }

  /** The tenant's sessions, newest first, without their tokens. */
  list(tenant: string, filter: Filter<"listPortalSessions"> = {}, opts?: RequestOptions): PageRequest<PortalSessionList> {
    return this.#t.list("listPortalSessions", { path: { tenant }, query: filter }, opts);
  }

  /** The operator's sessions, newest first, without their tokens. */
  listOperator(filter: Filter<"listOperatorPortalSessions"> = {}, opts?: RequestOptions): PageRequest<PortalSessionList> {
    return this.#t.list("listOperatorPortalSessions", { query: filter }, opts);
  }

  /** Ends a session of the tenant by its id (`ps_…`). */
  async revoke(tenant: string, id: string, opts?: RequestOptions): Promise<void> {
    await this.#t.call("revokePortalSession", { path: { tenant, id } }, opts);
  }

  /** Ends an operator's session by its id (`ps_…`). */
  async revokeOperator(id: string, opts?: RequestOptions): Promise<void> {
    await this.#t.call("revokeOperatorPortalSession", { path: { id } }, opts);
  }
}
