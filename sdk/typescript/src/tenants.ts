import type { PageRequest } from "./page.js";
import type { Body, Filter } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type {
  APIKeyCreate,
  APIKeyList,
  NewAPIKey,
  Tenant,
  TenantCreate,
  TenantList,
  TenantSettings,
  TenantUpdate,
  UsageReport,
} from "./types.js";

/** The platform's customers. Every call but get needs the admin key. */
export class TenantsService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /** Makes a tenant. An id already in use is refused with 409 (`conflict`). */
  create(tenant: TenantCreate, opts?: RequestOptions): Promise<Tenant> {
    return this.#t.call("createTenant", { body: tenant }, opts);
  }

  /** Tenants, newest first. */
  list(filter: Filter<"listTenants"> = {}, opts?: RequestOptions): PageRequest<TenantList> {
    return this.#t.list("listTenants", { query: filter }, opts);
  }

  /** A tenant. Its own key may read it. */
  get(tenant: string, opts?: RequestOptions): Promise<Tenant> {
    return this.#t.call("getTenant", { path: { tenant } }, opts);
  }

  /** Changes the fields update sets and answers the tenant as it is now. */
  update(tenant: string, update: TenantUpdate, opts?: RequestOptions): Promise<Tenant> {
    return this.#t.call("updateTenant", { path: { tenant }, body: update }, opts);
  }

  /** Sets every field of the tenant: those left out take their defaults. */
  replace(tenant: string, replacement: Body<"replaceTenant">, opts?: RequestOptions): Promise<Tenant> {
    return this.#t.call("replaceTenant", { path: { tenant }, body: replacement }, opts);
  }

  /** Removes a tenant and everything it owns: keys, endpoints, events, deliveries, functions. */
  async delete(tenant: string, opts?: RequestOptions): Promise<void> {
    await this.#t.call("deleteTenant", { path: { tenant } }, opts);
  }
}

/** The keys a tenant's systems call the API with, for routes under that tenant alone. Admin key. */
export class APIKeysService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /** Makes a key for the tenant; its secret `key` can be read this once. */
  create(tenant: string, key: APIKeyCreate = {}, opts?: RequestOptions): Promise<NewAPIKey> {
    return this.#t.call("createAPIKey", { path: { tenant }, body: key }, opts);
  }

  /** The tenant's keys, without their secrets. */
  list(tenant: string, opts?: RequestOptions): PageRequest<APIKeyList> {
    return this.#t.list("listAPIKeys", { path: { tenant } }, opts);
  }

  /** Revokes a key by its id (`key_…`). */
  async delete(tenant: string, id: string, opts?: RequestOptions): Promise<void> {
    await this.#t.call("deleteAPIKey", { path: { tenant, key: id } }, opts);
  }
}

/** What a tenant used, per UTC day, for billing. */
export class UsageService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /**
   * The tenant's usage on the days from since to before (exclusive), each a
   * date such as "2026-11-01" or a Date (its UTC day). Left out: the first of
   * this month, and tomorrow. The tenant's own key may read it.
   */
  get(tenant: string, range: { since?: string | Date; before?: string | Date } = {}, opts?: RequestOptions): Promise<UsageReport> {
    return this.#t.call("getUsage", { path: { tenant }, query: { since: day(range.since), before: day(range.before) } }, opts);
  }
}

function day(d: string | Date | undefined): string | undefined {
  return d instanceof Date ? d.toISOString().slice(0, 10) : d;
}

/** What a tenant may set for itself. */
export class SettingsService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  get(tenant: string, opts?: RequestOptions): Promise<TenantSettings> {
    return this.#t.call("getTenantSettings", { path: { tenant } }, opts);
  }

  /** Replaces the tenant's settings and answers them as they are now. */
  put(tenant: string, settings: TenantSettings, opts?: RequestOptions): Promise<TenantSettings> {
    return this.#t.call("putTenantSettings", { path: { tenant }, body: settings }, opts);
  }
}
