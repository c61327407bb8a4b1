import type { PageRequest } from "./page.js";
import type { Body, Filter } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type {
  Endpoint,
  EndpointCreate,
  EndpointList,
  EndpointSecret,
  EndpointUpdate,
  NewEndpoint,
  RotateSecret,
} from "./types.js";

/** A tenant's webhook endpoints: URLs that receive the events they subscribe to, signed. */
export class EndpointsService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /**
   * Adds an endpoint. Its answer holds the `whsec_` secret the receiver
   * verifies requests with (see verifyWebhook in "@outlethq/outlet/webhooks").
   */
  create(tenant: string, endpoint: EndpointCreate, opts?: RequestOptions): Promise<NewEndpoint> {
    return this.#t.call("createEndpoint", { path: { tenant }, body: endpoint }, opts);
  }

  list(tenant: string, filter: Filter<"listEndpoints"> = {}, opts?: RequestOptions): PageRequest<EndpointList> {
    return this.#t.list("listEndpoints", { path: { tenant }, query: filter }, opts);
  }

  get(tenant: string, id: string, opts?: RequestOptions): Promise<Endpoint> {
    return this.#t.call("getEndpoint", { path: { tenant, id } }, opts);
  }

  /** Changes the fields update sets and answers the endpoint as it is now. */
  update(tenant: string, id: string, update: EndpointUpdate, opts?: RequestOptions): Promise<Endpoint> {
    return this.#t.call("updateEndpoint", { path: { tenant, id }, body: update }, opts);
  }

  /** Sets every field of the endpoint: those left out take their defaults. */
  replace(tenant: string, id: string, replacement: Body<"replaceEndpoint">, opts?: RequestOptions): Promise<Endpoint> {
    return this.#t.call("replaceEndpoint", { path: { tenant, id }, body: replacement }, opts);
  }

  async delete(tenant: string, id: string, opts?: RequestOptions): Promise<void> {
    await this.#t.call("deleteEndpoint", { path: { tenant, id } }, opts);
  }

  /** The endpoint's signing secret (and, during a rotation, the previous one). */
  secret(tenant: string, id: string, opts?: RequestOptions): Promise<EndpointSecret> {
    return this.#t.call("getEndpointSecret", { path: { tenant, id } }, opts);
  }

  /**
   * Signs the endpoint's requests with a new secret from now on, and with the
   * old one beside it for `overlap_seconds` (default a day).
   */
  rotateSecret(tenant: string, id: string, rotation: RotateSecret = {}, opts?: RequestOptions): Promise<EndpointSecret> {
    return this.#t.call("rotateEndpointSecret", { path: { tenant, id }, body: rotation }, opts);
  }

  /**
   * Sends every delivery of the endpoint that failed since then once more,
   * now, and answers how many there were.
   */
  async recover(tenant: string, id: string, since: string | Date, opts?: RequestOptions): Promise<number> {
    const s = since instanceof Date ? since.toISOString() : since;
    const r = await this.#t.call("recoverEndpoint", { path: { tenant, id }, body: { since: s } }, opts);
    return r.recovered;
  }
}
