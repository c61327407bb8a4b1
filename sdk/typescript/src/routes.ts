// The API's operations, by the operationId the OpenAPI document gives each,
// and the types of their parts, read from the generated openapi.ts.

import type { operations, paths } from "./openapi.js";

export type OperationId = keyof operations;

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

// Route<K> is every [method, path] of the document whose operation is K's, so
// the table below can't name a path or a method the document doesn't give K.
type Route<K extends OperationId> = {
  [P in keyof paths]: {
    [M in Method]: paths[P][Lowercase<M>] extends operations[K]
      ? operations[K] extends paths[P][Lowercase<M>]
        ? readonly [M, P]
        : never
      : never;
  }[Method];
}[keyof paths];

/**
 * Every operation of the API with its method and path. Regenerating
 * openapi.ts from a document with another operation fails the build until it
 * is added here, and a test checks that every one is called by the client.
 */
export const routes: { readonly [K in OperationId]: Route<K> } = {
  createTenant: ["POST", "/v1/tenants"],
  listTenants: ["GET", "/v1/tenants"],
  getTenant: ["GET", "/v1/tenants/{tenant}"],
  updateTenant: ["PATCH", "/v1/tenants/{tenant}"],
  replaceTenant: ["PUT", "/v1/tenants/{tenant}"],
  deleteTenant: ["DELETE", "/v1/tenants/{tenant}"],
  getTenantSettings: ["GET", "/v1/tenants/{tenant}/settings"],
  putTenantSettings: ["PUT", "/v1/tenants/{tenant}/settings"],
  createAPIKey: ["POST", "/v1/tenants/{tenant}/api-keys"],
  listAPIKeys: ["GET", "/v1/tenants/{tenant}/api-keys"],
  deleteAPIKey: ["DELETE", "/v1/tenants/{tenant}/api-keys/{key}"],
  getUsage: ["GET", "/v1/tenants/{tenant}/usage"],
  createEventType: ["POST", "/v1/event-types"],
  listEventTypes: ["GET", "/v1/event-types"],
  getEventType: ["GET", "/v1/event-types/{name}"],
  updateEventType: ["PATCH", "/v1/event-types/{name}"],
  replaceEventType: ["PUT", "/v1/event-types/{name}"],
  deleteEventType: ["DELETE", "/v1/event-types/{name}"],
  listTenantEventTypes: ["GET", "/v1/tenants/{tenant}/event-types"],
  getTenantEventType: ["GET", "/v1/tenants/{tenant}/event-types/{name}"],
  createEndpoint: ["POST", "/v1/tenants/{tenant}/endpoints"],
  listEndpoints: ["GET", "/v1/tenants/{tenant}/endpoints"],
  getEndpoint: ["GET", "/v1/tenants/{tenant}/endpoints/{id}"],
  updateEndpoint: ["PATCH", "/v1/tenants/{tenant}/endpoints/{id}"],
  replaceEndpoint: ["PUT", "/v1/tenants/{tenant}/endpoints/{id}"],
  deleteEndpoint: ["DELETE", "/v1/tenants/{tenant}/endpoints/{id}"],
  getEndpointSecret: ["GET", "/v1/tenants/{tenant}/endpoints/{id}/secret"],
  rotateEndpointSecret: ["POST", "/v1/tenants/{tenant}/endpoints/{id}/rotate-secret"],
  recoverEndpoint: ["POST", "/v1/tenants/{tenant}/endpoints/{id}/recover"],
  publishEvent: ["POST", "/v1/tenants/{tenant}/events"],
  publishEventBatch: ["POST", "/v1/tenants/{tenant}/events/batch"],
  listEvents: ["GET", "/v1/tenants/{tenant}/events"],
  getEvent: ["GET", "/v1/tenants/{tenant}/events/{id}"],
  listDeliveries: ["GET", "/v1/tenants/{tenant}/deliveries"],
  getDelivery: ["GET", "/v1/tenants/{tenant}/deliveries/{id}"],
  listAttempts: ["GET", "/v1/tenants/{tenant}/deliveries/{id}/attempts"],
  retryDelivery: ["POST", "/v1/tenants/{tenant}/deliveries/{id}/retry"],
  createHook: ["POST", "/v1/hooks"],
  listHooks: ["GET", "/v1/hooks"],
  getHook: ["GET", "/v1/hooks/{hook}"],
  updateHook: ["PATCH", "/v1/hooks/{hook}"],
  replaceHook: ["PUT", "/v1/hooks/{hook}"],
  deleteHook: ["DELETE", "/v1/hooks/{hook}"],
  listTenantHooks: ["GET", "/v1/tenants/{tenant}/hooks"],
  getTenantHook: ["GET", "/v1/tenants/{tenant}/hooks/{hook}"],
  putHookEndpoint: ["PUT", "/v1/tenants/{tenant}/hooks/{hook}/endpoint"],
  getHookEndpoint: ["GET", "/v1/tenants/{tenant}/hooks/{hook}/endpoint"],
  deleteHookEndpoint: ["DELETE", "/v1/tenants/{tenant}/hooks/{hook}/endpoint"],
  getHookEndpointSecret: ["GET", "/v1/tenants/{tenant}/hooks/{hook}/endpoint/secret"],
  invokeHook: ["POST", "/v1/tenants/{tenant}/hooks/{hook}/invoke"],
  deployFunction: ["PUT", "/v1/tenants/{tenant}/functions/{name}"],
  getFunction: ["GET", "/v1/tenants/{tenant}/functions/{name}"],
  deleteFunction: ["DELETE", "/v1/tenants/{tenant}/functions/{name}"],
  listFunctions: ["GET", "/v1/tenants/{tenant}/functions"],
  listFunctionVersions: ["GET", "/v1/tenants/{tenant}/functions/{name}/versions"],
  getFunctionVersion: ["GET", "/v1/tenants/{tenant}/functions/{name}/versions/{version}"],
  rollbackFunction: ["POST", "/v1/tenants/{tenant}/functions/{name}/rollback"],
  testFunction: ["POST", "/v1/tenants/{tenant}/functions/{name}/test"],
  listFunctionLogs: ["GET", "/v1/tenants/{tenant}/functions/{name}/logs"],
  getFunctionTypes: ["GET", "/v1/tenants/{tenant}/function-types"],
  listSecrets: ["GET", "/v1/tenants/{tenant}/secrets"],
  putSecret: ["PUT", "/v1/tenants/{tenant}/secrets/{name}"],
  deleteSecret: ["DELETE", "/v1/tenants/{tenant}/secrets/{name}"],
  createPortalSession: ["POST", "/v1/tenants/{tenant}/portal-sessions"],
  listPortalSessions: ["GET", "/v1/tenants/{tenant}/portal-sessions"],
  revokePortalSession: ["DELETE", "/v1/tenants/{tenant}/portal-sessions/{id}"],
  createOperatorPortalSession: ["POST", "/v1/portal-sessions"],
  listOperatorPortalSessions: ["GET", "/v1/portal-sessions"],
  revokeOperatorPortalSession: ["DELETE", "/v1/portal-sessions/{id}"],
  listAuditLog: ["GET", "/v1/audit-log"],
  listTenantAuditLog: ["GET", "/v1/tenants/{tenant}/audit-log"],
  getOpenAPI: ["GET", "/v1/openapi.json"],
  healthz: ["GET", "/healthz"],
  readyz: ["GET", "/readyz"],
  metrics: ["GET", "/metrics"],
};

type Params<K extends OperationId> = operations[K]["parameters"];

/** The path parameters of an operation; never when it has none. */
export type PathParams<K extends OperationId> = NonNullable<Params<K>["path"]>;

/** The query parameters of an operation. */
export type Query<K extends OperationId> = NonNullable<Params<K>["query"]>;

/** The JSON request body of an operation; never when it takes none. */
export type Body<K extends OperationId> =
  NonNullable<operations[K]["requestBody"]> extends { content: { "application/json": infer B } } ? B : never;

type Responses<K extends OperationId> = operations[K]["responses"];

type Content<R> = R extends { content: infer C }
  ? C extends { "application/json": infer J }
    ? J
    : C extends { "text/plain": infer T }
      ? T
      : void
  : void;

/** What a successful call of an operation answers: its 2xx body, or void. */
export type Ok<K extends OperationId> = Content<Responses<K>[Extract<keyof Responses<K>, 200 | 201 | 202 | 204>]>;

/** The query of a list operation, where `since` and `before` may also be Dates. */
export type Filter<K extends OperationId> = {
  [P in keyof Query<K>]: P extends "since" | "before" ? Query<K>[P] | Date : Query<K>[P];
};
