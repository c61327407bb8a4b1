import { AuditLogService } from "./auditlog.js";
import { DeliveriesService } from "./deliveries.js";
import { EndpointsService } from "./endpoints.js";
import { EventsService } from "./events.js";
import { CatalogService, EventTypesService } from "./eventtypes.js";
import { FunctionsService, SecretsService } from "./functions.js";
import { HooksService, TenantHooksService } from "./hooks.js";
import { PortalSessionsService } from "./portal.js";
import { ServerService } from "./server.js";
import { APIKeysService, SettingsService, TenantsService, UsageService } from "./tenants.js";
import { type OutletOptions } from "./transport.js";
/**
 * A client of one Outlet server with one key, its calls grouped by resource.
 * Answers and requests are typed from Outlet's OpenAPI document.
 *
 * ```ts
 * const outlet = new Outlet({ url: "http://127.0.0.1:8080", key: process.env.OUTLET_KEY });
 * await outlet.events.publish("acme", { type: "invoice.paid", data: { invoice: "1234" } });
 * ```
 *
 * A refusal throws an OutletError (with `status`, `code` and `message`);
 * a 429 or 503 is first sent again after the wait its Retry-After asks for,
 * up to `retries` times. Failures to reach the server are thrown as they are.
 */
export declare class Outlet {
    /** The platform's customers (admin key). */
    readonly tenants: TenantsService;
    /** Keys for one tenant alone (admin key). */
    readonly apiKeys: APIKeysService;
    /** What a tenant used, per day, for billing. */
    readonly usage: UsageService;
    /** What a tenant may set for itself. */
    readonly settings: SettingsService;
    /** The event catalog (admin key). */
    readonly eventTypes: EventTypesService;
    /** The event catalog as a tenant sees it. */
    readonly catalog: CatalogService;
    /** A tenant's webhook endpoints. */
    readonly endpoints: EndpointsService;
    /** Publishing a tenant's events, and reading them back. */
    readonly events: EventsService;
    /** What was sent where, with its attempts; and sending again. */
    readonly deliveries: DeliveriesService;
    /** The platform's hooks (admin key). */
    readonly hooks: HooksService;
    /** The hooks as a tenant sees them: what serves each, sync endpoints, invoking. */
    readonly tenantHooks: TenantHooksService;
    /** A tenant's hosted functions: deploys, versions, test runs, logs. */
    readonly functions: FunctionsService;
    /** The secrets a tenant's functions read. */
    readonly secrets: SecretsService;
    /** Links into the portal (admin key). */
    readonly portalSessions: PortalSessionsService;
    /** Who changed what, when. */
    readonly auditLog: AuditLogService;
    /** Health, readiness, metrics and the API's OpenAPI document. */
    readonly server: ServerService;
    constructor(options: OutletOptions);
}
