// One typed client over Outlet's public API (docs/api.md): the same routes a
// platform's SDK calls. The session cookie authenticates; writes carry the
// session's CSRF token.

export class ApiError extends Error {
  readonly status: number; // 0 when no answer came
  readonly code: string; // Outlet's error code: "invalid", "not_found", … or "network"
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
  has_more: boolean;
}

export interface Tenant {
  id: string;
  name: string;
  metadata: Record<string, string>;
  allowed_hosts: string[] | null;
  publish_rate_limit: number;
  created_at: string;
  updated_at: string;
}

export interface Endpoint {
  id: string;
  tenant_id: string;
  url: string;
  description: string;
  event_types: string[];
  headers: Record<string, string>;
  metadata: Record<string, string>;
  disabled: boolean;
  disabled_reason: string;
  disabled_at: string | null;
  failing_since: string | null;
  max_in_flight: number;
  rate_limit: number;
  ordered: boolean;
  created_at: string;
  updated_at: string;
  secret?: string; // only in the answer to a create
}

export interface EndpointInput {
  url: string;
  description: string;
  event_types: string[];
  headers: Record<string, string>;
  max_in_flight: number;
  rate_limit: number;
  ordered: boolean;
  disabled?: boolean;
}

export interface SigningSecret {
  secret: string;
  previous_secret?: string;
  previous_secret_expires_at?: string;
}

export interface EventType {
  name: string;
  description: string;
  schema: unknown;
  sample: unknown;
  deprecated: boolean;
  created_at: string;
  updated_at: string;
}

export interface EventTypeInput {
  name?: string;
  description?: string;
  schema?: unknown;
  sample?: unknown;
  deprecated?: boolean;
}

export interface Hook {
  name: string;
  description: string;
  input_schema: unknown;
  output_schema: unknown;
  timeout_ms: number;
  on_error: "fail_open" | "fail_closed";
  created_at: string;
  updated_at: string;
}

export type HookInput = Partial<Omit<Hook, "created_at" | "updated_at">>;

export interface HookEndpoint {
  tenant_id: string;
  hook: string;
  url: string;
  headers: Record<string, string>;
  created_at: string;
  updated_at: string;
  secret?: string; // only in the answer to a put
}

export interface TenantHook extends Hook {
  served_by: "functions" | "endpoint" | "passthrough" | null;
  functions: string[] | null;
  endpoint: HookEndpoint | null;
}

export interface OutletEvent {
  id: string;
  type: string;
  timestamp: string;
  data: unknown;
  created_at: string;
}

export interface PublishResult {
  id: string;
  type: string;
  timestamp: string;
  created_at: string;
  deliveries: number;
  replayed: boolean;
}

export type DeliveryStatus = "pending" | "succeeded" | "failed";

export interface Delivery {
  id: string;
  tenant_id: string;
  event_id: string;
  event_type: string;
  target: { type: "endpoint" | "function"; id: string };
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  in_flight: boolean;
  ordered?: boolean;
  last_attempt_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface Attempt {
  id: string;
  delivery_id: string;
  number: number;
  trigger: "scheduled" | "manual" | "recover";
  url: string;
  started_at: string;
  duration_ms: number;
  succeeded: boolean;
  status_code: number;
  response_headers: Record<string, string> | null;
  response_body: string;
  response_truncated: boolean;
  error: string;
  function_version?: number;
  logs?: string;
}

export interface DeliveryFilter {
  event_id?: string;
  endpoint_id?: string;
  function?: string;
  status?: DeliveryStatus | "";
  since?: string;
  before?: string;
}

export interface OutletFunction {
  tenant_id: string;
  name: string;
  active_version: number;
  latest_version: number;
  runtime: string;
  events: string[] | null;
  hooks: string[] | null;
  created_at: string;
  updated_at: string;
}

export interface FunctionLimits {
  timeout_ms?: number;
  memory_mb?: number;
  stack_frames?: number;
  max_input_kb?: number;
  max_output_kb?: number;
  max_logs_kb?: number;
}

export interface FunctionVersion {
  tenant_id: string;
  function: string;
  name: string;
  version: number;
  runtime: string;
  source?: string; // in the answer for one version
  sha256: string;
  events: string[] | null;
  hooks: string[] | null;
  limits: FunctionLimits;
  active: boolean;
  created_at: string;
}

export interface Deploy extends FunctionLimits {
  runtime: "javascript" | "typescript" | "wasm";
  code?: string;
  wasm?: string; // base64
  events?: string[];
  hooks?: string[];
}

export interface FunctionError {
  code: string;
  message: string;
}

export interface TestResult {
  version: number;
  output: unknown;
  error: FunctionError | null;
  logs: string;
  logs_truncated: boolean;
  duration_ms: number;
}

export interface Invocation {
  id: string;
  function: string;
  version: number;
  trigger: "event" | "hook";
  trigger_ref: string;
  started_at: string;
  duration_ms: number;
  outcome: string;
  error: string;
  logs: string;
  logs_truncated: boolean;
}

export interface SecretInfo {
  name: string;
  created_at: string;
  updated_at: string;
}

export interface UsageDay {
  day: string;
  events: number;
  deliveries: number;
  attempts: number;
  function_invocations: number;
  function_cpu_ms: number;
}

export interface UsageReport {
  tenant: string;
  since: string;
  before: string;
  total: UsageDay;
  days: UsageDay[];
}

type Query = Record<string, string | number | undefined | null>;

const writes = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class Api {
  readonly base: string;
  private readonly csrf: string;
  private readonly onUnauthorized: () => void;

  constructor(base: string, csrf: string, onUnauthorized: () => void) {
    this.base = base;
    this.csrf = csrf;
    this.onUnauthorized = onUnauthorized;
  }

  async request<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (writes.has(method)) headers["X-Outlet-CSRF"] = this.csrf;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await fetch(this.base + path + queryString(opts.query), {
        method,
        headers,
        body,
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "network", "Outlet didn't answer. Check your connection and try again.");
    }
    if (res.status === 401) this.onUnauthorized();
    if (!res.ok) throw await errorOf(res);
    const text = await res.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, "unknown", `Outlet answered ${res.status} with something other than JSON`);
    }
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>("GET", path, { query });
  }

  // GET /metrics is Prometheus text beside the API, not JSON under it.
  async metrics(): Promise<string> {
    const url = this.base.replace(/\/v1$/, "") + "/metrics";
    let res: Response;
    try {
      res = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    } catch {
      throw new ApiError(0, "network", "Outlet didn't answer. Check your connection and try again.");
    }
    if (!res.ok) throw new ApiError(res.status, "unavailable", `/metrics answered ${res.status}`);
    return res.text();
  }

  async ready(): Promise<boolean> {
    try {
      const res = await fetch(this.base.replace(/\/v1$/, "") + "/readyz", { cache: "no-store" });
      return res.ok;
    } catch {
      return false;
    }
  }

  tenant(id: string): TenantClient {
    return new TenantClient(this, id);
  }

  // The operator's routes.
  listTenants(cursor?: string, limit = 100) {
    return this.get<Page<Tenant>>("/tenants", { cursor, limit });
  }
  getTenant(id: string) {
    return this.get<Tenant>(`/tenants/${enc(id)}`);
  }
  listEventTypes() {
    return this.get<Page<EventType>>("/event-types", { limit: 250 });
  }
  getEventType(name: string) {
    return this.get<EventType>(`/event-types/${enc(name)}`);
  }
  createEventType(body: EventTypeInput) {
    return this.request<EventType>("POST", "/event-types", { body });
  }
  updateEventType(name: string, body: EventTypeInput | Record<string, unknown>) {
    return this.request<EventType>("PATCH", `/event-types/${enc(name)}`, { body });
  }
  deleteEventType(name: string) {
    return this.request<void>("DELETE", `/event-types/${enc(name)}`);
  }
  listHooks() {
    return this.get<Page<Hook>>("/hooks", { limit: 250 });
  }
  getHook(name: string) {
    return this.get<Hook>(`/hooks/${enc(name)}`);
  }
  createHook(body: HookInput) {
    return this.request<Hook>("POST", "/hooks", { body });
  }
  updateHook(name: string, body: HookInput | Record<string, unknown>) {
    return this.request<Hook>("PATCH", `/hooks/${enc(name)}`, { body });
  }
  deleteHook(name: string) {
    return this.request<void>("DELETE", `/hooks/${enc(name)}`);
  }
  // Every tenant's changes and the operator's own, or one tenant's.
  auditLog(f: AuditFilter & { tenant?: string }, cursor?: string) {
    return this.get<Page<AuditEntry>>("/audit-log", { ...f, cursor, limit: 50 });
  }
}

// The routes under /v1/tenants/{tenant}: what a tenant's key may call.
export class TenantClient {
  readonly id: string;
  private readonly api: Api;
  private readonly prefix: string;

  constructor(api: Api, id: string) {
    this.api = api;
    this.id = id;
    this.prefix = `/tenants/${enc(id)}`;
  }

  private get<T>(path: string, query?: Query) {
    return this.api.get<T>(this.prefix + path, query);
  }
  private send<T>(method: string, path: string, body?: unknown) {
    return this.api.request<T>(method, this.prefix + path, { body });
  }

  getTenant() {
    return this.get<Tenant>("");
  }
  auditLog(f: AuditFilter, cursor?: string) {
    return this.get<Page<AuditEntry>>("/audit-log", { ...f, cursor, limit: 50 });
  }

  listEndpoints(cursor?: string) {
    return this.get<Page<Endpoint>>("/endpoints", { cursor, limit: 100 });
  }
  getEndpoint(id: string) {
    return this.get<Endpoint>(`/endpoints/${enc(id)}`);
  }
  createEndpoint(body: EndpointInput) {
    return this.send<Endpoint>("POST", "/endpoints", body);
  }
  updateEndpoint(id: string, body: Partial<EndpointInput>) {
    return this.send<Endpoint>("PATCH", `/endpoints/${enc(id)}`, body);
  }
  deleteEndpoint(id: string) {
    return this.send<void>("DELETE", `/endpoints/${enc(id)}`);
  }
  endpointSecret(id: string) {
    return this.get<SigningSecret>(`/endpoints/${enc(id)}/secret`);
  }
  rotateSecret(id: string, overlapSeconds: number) {
    return this.send<SigningSecret>("POST", `/endpoints/${enc(id)}/rotate-secret`, { overlap_seconds: overlapSeconds });
  }
  recover(id: string, since: string) {
    return this.send<{ recovered: number }>("POST", `/endpoints/${enc(id)}/recover`, { since });
  }

  listEventTypes() {
    return this.get<Page<EventType>>("/event-types", { limit: 250 });
  }

  publish(type: string, data: unknown) {
    return this.send<PublishResult>("POST", "/events", { type, data });
  }
  getEvent(id: string) {
    return this.get<OutletEvent>(`/events/${enc(id)}`);
  }

  listDeliveries(f: DeliveryFilter, cursor?: string, limit = 50) {
    return this.get<Page<Delivery>>("/deliveries", { ...f, cursor, limit });
  }
  getDelivery(id: string) {
    return this.get<Delivery>(`/deliveries/${enc(id)}`);
  }
  attempts(id: string) {
    return this.get<Page<Attempt>>(`/deliveries/${enc(id)}/attempts`, { limit: 250 });
  }
  retry(id: string) {
    return this.send<Delivery>("POST", `/deliveries/${enc(id)}/retry`, {});
  }

  listFunctions(cursor?: string) {
    return this.get<Page<OutletFunction>>("/functions", { cursor, limit: 250 });
  }
  getFunction(name: string) {
    return this.get<OutletFunction>(`/functions/${enc(name)}`);
  }
  deleteFunction(name: string) {
    return this.send<void>("DELETE", `/functions/${enc(name)}`);
  }
  deploy(name: string, body: Deploy) {
    return this.send<FunctionVersion>("PUT", `/functions/${enc(name)}`, body);
  }
  listVersions(name: string, cursor?: string) {
    return this.get<Page<FunctionVersion>>(`/functions/${enc(name)}/versions`, { cursor, limit: 250 });
  }
  getVersion(name: string, version: number) {
    return this.get<FunctionVersion>(`/functions/${enc(name)}/versions/${version}`);
  }
  rollback(name: string, version: number) {
    return this.send<OutletFunction>("POST", `/functions/${enc(name)}/rollback`, { version });
  }
  testFunction(name: string, body: { event?: { type: string; data: unknown }; input?: unknown; version?: number; hook?: string }) {
    return this.send<TestResult>("POST", `/functions/${enc(name)}/test`, body);
  }
  // The TypeScript declarations Outlet makes from the catalog's schemas and
  // the tenant's secret names (what `outlet types` writes).
  functionTypes() {
    return this.get<FunctionTypes>("/function-types");
  }
  // Newest first with a cursor, or oldest first after an invocation (to follow).
  functionLogs(name: string, q: { cursor?: string; after?: string; limit?: number }) {
    return this.get<Page<Invocation>>(`/functions/${enc(name)}/logs`, q);
  }

  listHooks() {
    return this.get<Page<TenantHook>>("/hooks", { limit: 250 });
  }
  putHookEndpoint(hook: string, body: { url: string; headers: Record<string, string>; secret?: string }) {
    return this.send<HookEndpoint>("PUT", `/hooks/${enc(hook)}/endpoint`, body);
  }
  hookEndpointSecret(hook: string) {
    return this.get<{ secret: string }>(`/hooks/${enc(hook)}/endpoint/secret`);
  }
  deleteHookEndpoint(hook: string) {
    return this.send<void>("DELETE", `/hooks/${enc(hook)}/endpoint`);
  }

  listSecrets() {
    return this.get<Page<SecretInfo>>("/secrets", { limit: 250 });
  }
  putSecret(name: string, value: string) {
    return this.send<void>("PUT", `/secrets/${enc(name)}`, { value });
  }
  deleteSecret(name: string) {
    return this.send<void>("DELETE", `/secrets/${enc(name)}`);
  }

  usage(since: string, before: string) {
    return this.get<UsageReport>("/usage", { since, before });
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function queryString(q?: Query): string {
  if (!q) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  }
  const s = p.toString();
  return s ? "?" + s : "";
}

async function errorOf(res: Response): Promise<ApiError> {
  let text = "";
  try {
    text = await res.text();
  } catch {
    // the status alone will do
  }
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body.error && typeof body.error.message === "string") {
      return new ApiError(res.status, typeof body.error.code === "string" ? body.error.code : "unknown", body.error.message);
    }
  } catch {
    // not Outlet's JSON error: a proxy's page, say
  }
  return new ApiError(res.status, "unknown", `Outlet answered ${res.status} ${res.statusText}`.trim());
}

// Every page of a list, for the small lists a page shows whole (the catalog,
// a tenant's endpoints); bounded, so a huge list can't stall the page.
export async function all<T>(next: (cursor?: string) => Promise<Page<T>>, maxPages = 20): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await next(cursor);
    out.push(...page.data);
    if (!page.has_more || !page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}

// GET …/function-types: TypeScript, as text, for the tenant's functions.
export interface FunctionTypes {
  declarations: string;
  globals: string;
  context: string;
  events: Record<string, string>;
  hooks: Record<string, { input: string; output: string }>;
}

// An entry of the audit log: who changed what, when, from where.
export interface AuditEntry {
  id: string;
  tenant_id: string | null;
  actor_type: "admin" | "api_key" | "portal_session";
  actor_id: string;
  action: string;
  resource_type: string;
  resource_id: string;
  summary: Record<string, unknown> | null;
  address: string;
  created_at: string;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  resource_type?: string;
  resource_id?: string;
  since?: string;
  before?: string;
}
