import type { PageRequest } from "./page.js";
import type { Body, Filter } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type { APIKeyCreate, APIKeyList, NewAPIKey, Tenant, TenantCreate, TenantList, TenantSettings, TenantUpdate, UsageReport } from "./types.js";
/** The platform's customers. Every call but get needs the admin key. */
export declare class TenantsService {
    #private;
    constructor(t: Transport);
    /** Makes a tenant. An id already in use is refused with 409 (`conflict`). */
    create(tenant: TenantCreate, opts?: RequestOptions): Promise<Tenant>;
    /** Tenants, newest first. */
    list(filter?: Filter<"listTenants">, opts?: RequestOptions): PageRequest<TenantList>;
    /** A tenant. Its own key may read it. */
    get(tenant: string, opts?: RequestOptions): Promise<Tenant>;
    /** Changes the fields update sets and answers the tenant as it is now. */
    update(tenant: string, update: TenantUpdate, opts?: RequestOptions): Promise<Tenant>;
    /** Sets every field of the tenant: those left out take their defaults. */
    replace(tenant: string, replacement: Body<"replaceTenant">, opts?: RequestOptions): Promise<Tenant>;
    /** Removes a tenant and everything it owns: keys, endpoints, events, deliveries, functions. */
    delete(tenant: string, opts?: RequestOptions): Promise<void>;
}
/** The keys a tenant's systems call the API with, for routes under that tenant alone. Admin key. */
export declare class APIKeysService {
    #private;
    constructor(t: Transport);
    /** Makes a key for the tenant; its secret `key` can be read this once. */
    create(tenant: string, key?: APIKeyCreate, opts?: RequestOptions): Promise<NewAPIKey>;
    /** The tenant's keys, without their secrets. */
    list(tenant: string, opts?: RequestOptions): PageRequest<APIKeyList>;
    /** Revokes a key by its id (`key_…`). */
    delete(tenant: string, id: string, opts?: RequestOptions): Promise<void>;
}
/** What a tenant used, per UTC day, for billing. */
export declare class UsageService {
    #private;
    constructor(t: Transport);
    /**
     * The tenant's usage on the days from since to before (exclusive), each a
     * date such as "2026-11-01" or a Date (its UTC day). Left out: the first of
     * this month, and tomorrow. The tenant's own key may read it.
     */
    get(tenant: string, range?: {
        since?: string | Date;
        before?: string | Date;
    }, opts?: RequestOptions): Promise<UsageReport>;
}
/** What a tenant may set for itself. */
export declare class SettingsService {
    #private;
    constructor(t: Transport);
    get(tenant: string, opts?: RequestOptions): Promise<TenantSettings>;
    /** Replaces the tenant's settings and answers them as they are now. */
    put(tenant: string, settings: TenantSettings, opts?: RequestOptions): Promise<TenantSettings>;
}
