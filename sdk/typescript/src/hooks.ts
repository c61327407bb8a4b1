import type { PageRequest } from "./page.js";
import type { Body } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type {
  Hook,
  HookCreate,
  HookEndpoint,
  HookEndpointPut,
  HookList,
  HookResult,
  HookUpdate,
  NewHookEndpoint,
  TenantHook,
  TenantHookList,
} from "./types.js";

/** The platform's hooks: extension points it calls during its own requests. Admin key. */
export class HooksService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  create(hook: HookCreate, opts?: RequestOptions): Promise<Hook> {
    return this.#t.call("createHook", { body: hook }, opts);
  }

  list(opts?: RequestOptions): PageRequest<HookList> {
    return this.#t.list("listHooks", {}, opts);
  }

  get(hook: string, opts?: RequestOptions): Promise<Hook> {
    return this.#t.call("getHook", { path: { hook } }, opts);
  }

  /** Changes the fields update sets and answers the hook as it is now. */
  update(hook: string, update: HookUpdate, opts?: RequestOptions): Promise<Hook> {
    return this.#t.call("updateHook", { path: { hook }, body: update }, opts);
  }

  /** Sets every field of the hook: those left out take their defaults. */
  replace(hook: string, replacement: Body<"replaceHook">, opts?: RequestOptions): Promise<Hook> {
    return this.#t.call("replaceHook", { path: { hook }, body: replacement }, opts);
  }

  async delete(hook: string, opts?: RequestOptions): Promise<void> {
    await this.#t.call("deleteHook", { path: { hook } }, opts);
  }
}

/** The hooks as a tenant sees them: what serves each, its sync endpoints, and invoking them. */
export class TenantHooksService {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  list(tenant: string, opts?: RequestOptions): PageRequest<TenantHookList> {
    return this.#t.list("listTenantHooks", { path: { tenant } }, opts);
  }

  get(tenant: string, hook: string, opts?: RequestOptions): Promise<TenantHook> {
    return this.#t.call("getTenantHook", { path: { tenant, hook } }, opts);
  }

  /**
   * Serves the hook for the tenant with its own URL, called synchronously
   * and signed as a webhook is. The first answer holds the `whsec_` secret.
   */
  putEndpoint(tenant: string, hook: string, endpoint: HookEndpointPut, opts?: RequestOptions): Promise<NewHookEndpoint | HookEndpoint> {
    return this.#t.call("putHookEndpoint", { path: { tenant, hook }, body: endpoint }, opts);
  }

  endpoint(tenant: string, hook: string, opts?: RequestOptions): Promise<HookEndpoint> {
    return this.#t.call("getHookEndpoint", { path: { tenant, hook } }, opts);
  }

  /** The `whsec_` secret the hook's sync endpoint verifies requests with. */
  async endpointSecret(tenant: string, hook: string, opts?: RequestOptions): Promise<string> {
    const r = await this.#t.call("getHookEndpointSecret", { path: { tenant, hook } }, opts);
    return r.secret;
  }

  async deleteEndpoint(tenant: string, hook: string, opts?: RequestOptions): Promise<void> {
    await this.#t.call("deleteHookEndpoint", { path: { tenant, hook } }, opts);
  }

  /**
   * Runs the tenant's functions for the hook (or calls its sync endpoint) on
   * input, within the hook's deadline. A failing function answers with its
   * `error` set, not with an OutletError.
   */
  invoke(tenant: string, hook: string, input: unknown, opts?: RequestOptions): Promise<HookResult> {
    return this.#t.call("invokeHook", { path: { tenant, hook }, body: { input } }, opts);
  }
}
