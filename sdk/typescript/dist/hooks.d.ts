import type { PageRequest } from "./page.js";
import type { Body } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type { Hook, HookCreate, HookEndpoint, HookEndpointPut, HookList, HookResult, HookUpdate, NewHookEndpoint, TenantHook, TenantHookList } from "./types.js";
/** The platform's hooks: extension points it calls during its own requests. Admin key. */
export declare class HooksService {
    #private;
    constructor(t: Transport);
    create(hook: HookCreate, opts?: RequestOptions): Promise<Hook>;
    list(opts?: RequestOptions): PageRequest<HookList>;
    get(hook: string, opts?: RequestOptions): Promise<Hook>;
    /** Changes the fields update sets and answers the hook as it is now. */
    update(hook: string, update: HookUpdate, opts?: RequestOptions): Promise<Hook>;
    /** Sets every field of the hook: those left out take their defaults. */
    replace(hook: string, replacement: Body<"replaceHook">, opts?: RequestOptions): Promise<Hook>;
    delete(hook: string, opts?: RequestOptions): Promise<void>;
}
/** The hooks as a tenant sees them: what serves each, its sync endpoints, and invoking them. */
export declare class TenantHooksService {
    #private;
    constructor(t: Transport);
    list(tenant: string, opts?: RequestOptions): PageRequest<TenantHookList>;
    get(tenant: string, hook: string, opts?: RequestOptions): Promise<TenantHook>;
    /**
     * Serves the hook for the tenant with its own URL, called synchronously
     * and signed as a webhook is. The first answer holds the `whsec_` secret.
     */
    putEndpoint(tenant: string, hook: string, endpoint: HookEndpointPut, opts?: RequestOptions): Promise<NewHookEndpoint | HookEndpoint>;
    endpoint(tenant: string, hook: string, opts?: RequestOptions): Promise<HookEndpoint>;
    /** The `whsec_` secret the hook's sync endpoint verifies requests with. */
    endpointSecret(tenant: string, hook: string, opts?: RequestOptions): Promise<string>;
    deleteEndpoint(tenant: string, hook: string, opts?: RequestOptions): Promise<void>;
    /**
     * Runs the tenant's functions for the hook (or calls its sync endpoint) on
     * input, within the hook's deadline. A failing function answers with its
     * `error` set, not with an OutletError.
     */
    invoke(tenant: string, hook: string, input: unknown, opts?: RequestOptions): Promise<HookResult>;
}
