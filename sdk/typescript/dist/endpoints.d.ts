import type { PageRequest } from "./page.js";
import type { Body, Filter } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type { Endpoint, EndpointCreate, EndpointList, EndpointSecret, EndpointUpdate, NewEndpoint, RotateSecret } from "./types.js";
/** A tenant's webhook endpoints: URLs that receive the events they subscribe to, signed. */
export declare class EndpointsService {
    #private;
    constructor(t: Transport);
    /**
     * Adds an endpoint. Its answer holds the `whsec_` secret the receiver
     * verifies requests with (see verifyWebhook in "@outlethq/outlet/webhooks").
     */
    create(tenant: string, endpoint: EndpointCreate, opts?: RequestOptions): Promise<NewEndpoint>;
    list(tenant: string, filter?: Filter<"listEndpoints">, opts?: RequestOptions): PageRequest<EndpointList>;
    get(tenant: string, id: string, opts?: RequestOptions): Promise<Endpoint>;
    /** Changes the fields update sets and answers the endpoint as it is now. */
    update(tenant: string, id: string, update: EndpointUpdate, opts?: RequestOptions): Promise<Endpoint>;
    /** Sets every field of the endpoint: those left out take their defaults. */
    replace(tenant: string, id: string, replacement: Body<"replaceEndpoint">, opts?: RequestOptions): Promise<Endpoint>;
    delete(tenant: string, id: string, opts?: RequestOptions): Promise<void>;
    /** The endpoint's signing secret (and, during a rotation, the previous one). */
    secret(tenant: string, id: string, opts?: RequestOptions): Promise<EndpointSecret>;
    /**
     * Signs the endpoint's requests with a new secret from now on, and with the
     * old one beside it for `overlap_seconds` (default a day).
     */
    rotateSecret(tenant: string, id: string, rotation?: RotateSecret, opts?: RequestOptions): Promise<EndpointSecret>;
    /**
     * Sends every delivery of the endpoint that failed since then once more,
     * now, and answers how many there were.
     */
    recover(tenant: string, id: string, since: string | Date, opts?: RequestOptions): Promise<number>;
}
