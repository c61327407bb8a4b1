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
import { Transport } from "./transport.js";
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
export class Outlet {
    /** The platform's customers (admin key). */
    tenants;
    /** Keys for one tenant alone (admin key). */
    apiKeys;
    /** What a tenant used, per day, for billing. */
    usage;
    /** What a tenant may set for itself. */
    settings;
    /** The event catalog (admin key). */
    eventTypes;
    /** The event catalog as a tenant sees it. */
    catalog;
    /** A tenant's webhook endpoints. */
    endpoints;
    /** Publishing a tenant's events, and reading them back. */
    events;
    /** What was sent where, with its attempts; and sending again. */
    deliveries;
    /** The platform's hooks (admin key). */
    hooks;
    /** The hooks as a tenant sees them: what serves each, sync endpoints, invoking. */
    tenantHooks;
    /** A tenant's hosted functions: deploys, versions, test runs, logs. */
    functions;
    /** The secrets a tenant's functions read. */
    secrets;
    /** Links into the portal (admin key). */
    portalSessions;
    /** Who changed what, when. */
    auditLog;
    /** Health, readiness, metrics and the API's OpenAPI document. */
    server;
    constructor(options) {
        const t = new Transport(options);
        this.tenants = new TenantsService(t);
        this.apiKeys = new APIKeysService(t);
        this.usage = new UsageService(t);
        this.settings = new SettingsService(t);
        this.eventTypes = new EventTypesService(t);
        this.catalog = new CatalogService(t);
        this.endpoints = new EndpointsService(t);
        this.events = new EventsService(t);
        this.deliveries = new DeliveriesService(t);
        this.hooks = new HooksService(t);
        this.tenantHooks = new TenantHooksService(t);
        this.functions = new FunctionsService(t);
        this.secrets = new SecretsService(t);
        this.portalSessions = new PortalSessionsService(t);
        this.auditLog = new AuditLogService(t);
        this.server = new ServerService(t);
    }
}
