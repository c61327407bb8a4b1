// Outlet's TypeScript SDK: `new Outlet({ url, key })` and its resource groups.
// Verifying the webhooks Outlet sends is in "@outlethq/outlet/webhooks".

export { Outlet } from "./outlet.js";
export { OutletError, type ErrorCode } from "./errors.js";
export { PageRequest, type Item, type Page } from "./page.js";
export type { OutletOptions, RequestOptions } from "./transport.js";
export type { Body, Filter, Ok, OperationId, PathParams, Query } from "./routes.js";
export type { FunctionDeploy } from "./functions.js";
export type { AuditLogService } from "./auditlog.js";
export type { DeliveriesService } from "./deliveries.js";
export type { EndpointsService } from "./endpoints.js";
export type { EventsService } from "./events.js";
export type { CatalogService, EventTypesService } from "./eventtypes.js";
export type { FunctionsService, SecretsService } from "./functions.js";
export type { HooksService, TenantHooksService } from "./hooks.js";
export type { PortalSessionsService } from "./portal.js";
export type { ServerService } from "./server.js";
export type { APIKeysService, SettingsService, TenantsService, UsageService } from "./tenants.js";
export type * from "./types.js";
export type { components, operations, paths } from "./openapi.js";
