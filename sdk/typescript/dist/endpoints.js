/** A tenant's webhook endpoints: URLs that receive the events they subscribe to, signed. */
export class EndpointsService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    /**
     * Adds an endpoint. Its answer holds the `whsec_` secret the receiver
     * verifies requests with (see verifyWebhook in "@outlethq/outlet/webhooks").
     */
    create(tenant, endpoint, opts) {
        return this.#t.call("createEndpoint", { path: { tenant }, body: endpoint }, opts);
    }
    list(tenant, filter = {}, opts) {
        return this.#t.list("listEndpoints", { path: { tenant }, query: filter }, opts);
    }
    get(tenant, id, opts) {
        return this.#t.call("getEndpoint", { path: { tenant, id } }, opts);
    }
    /** Changes the fields update sets and answers the endpoint as it is now. */
    update(tenant, id, update, opts) {
        return this.#t.call("updateEndpoint", { path: { tenant, id }, body: update }, opts);
    }
    /** Sets every field of the endpoint: those left out take their defaults. */
    replace(tenant, id, replacement, opts) {
        return this.#t.call("replaceEndpoint", { path: { tenant, id }, body: replacement }, opts);
    }
    async delete(tenant, id, opts) {
        await this.#t.call("deleteEndpoint", { path: { tenant, id } }, opts);
    }
    /** The endpoint's signing secret (and, during a rotation, the previous one). */
    secret(tenant, id, opts) {
        return this.#t.call("getEndpointSecret", { path: { tenant, id } }, opts);
    }
    /**
     * Signs the endpoint's requests with a new secret from now on, and with the
     * old one beside it for `overlap_seconds` (default a day).
     */
    rotateSecret(tenant, id, rotation = {}, opts) {
        return this.#t.call("rotateEndpointSecret", { path: { tenant, id }, body: rotation }, opts);
    }
    /**
     * Sends every delivery of the endpoint that failed since then once more,
     * now, and answers how many there were.
     */
    async recover(tenant, id, since, opts) {
        const s = since instanceof Date ? since.toISOString() : since;
        const r = await this.#t.call("recoverEndpoint", { path: { tenant, id }, body: { since: s } }, opts);
        return r.recovered;
    }
}
