// Activity: the audit log, as a tenant sees its own (who changed what, when,
// from where) and as the operator sees every tenant's and its own.

import { useState } from "preact/hooks";
import type { AuditEntry, AuditFilter, Page } from "./api";
import { Link, seg } from "./router";
import { Button, Code, Empty, ErrorNote, Field, Loading, PageTitle, TableWrap, Time, type TenantPageProps, useAction, useLoad, usePortal } from "./ui";

// The actions Outlet records (docs/api.md, "Audit log").
export const ACTIONS = [
  "tenant.created",
  "tenant.updated",
  "tenant.deleted",
  "api_key.created",
  "api_key.deleted",
  "event_type.created",
  "event_type.updated",
  "event_type.deleted",
  "endpoint.created",
  "endpoint.updated",
  "endpoint.deleted",
  "endpoint.secret_rotated",
  "endpoint.recovered",
  "delivery.retried",
  "hook.created",
  "hook.updated",
  "hook.deleted",
  "hook_endpoint.set",
  "hook_endpoint.deleted",
  "function.deployed",
  "function.rolled_back",
  "function.deleted",
  "secret.created",
  "secret.updated",
  "secret.deleted",
  "portal_session.created",
  "portal_session.revoked",
];

// What made a change, in words; its id follows.
export function actorLabel(e: Pick<AuditEntry, "actor_type">): string {
  switch (e.actor_type) {
    case "admin":
      return "The operator (admin key)";
    case "api_key":
      return "API key";
    case "portal_session":
      return "Portal session";
  }
  return e.actor_type;
}

// Where a changed resource's page is in the portal, when it has one.
export function resourcePath(e: Pick<AuditEntry, "resource_type" | "resource_id" | "action">): string | null {
  if (e.action.endsWith(".deleted")) return null;
  switch (e.resource_type) {
    case "endpoint":
      return `endpoints/${seg(e.resource_id)}`;
    case "delivery":
      return `deliveries/${seg(e.resource_id)}`;
    case "function":
      return `functions/${seg(e.resource_id)}`;
  }
  return null;
}

type Load = (f: AuditFilter & { tenant?: string }, cursor?: string) => Promise<Page<AuditEntry>>;

function AuditLog(props: { load: Load; base: string; operator: boolean }) {
  const [filter, setFilter] = useState<AuditFilter & { tenant?: string }>({});
  const [form, setForm] = useState<AuditFilter & { tenant?: string }>({});
  const [pages, setPages] = useState<AuditEntry[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const first = useLoad(async () => {
    const p = await props.load(filter);
    setPages([p.data]);
    setCursor(p.has_more ? p.next_cursor : null);
    return p;
  }, [JSON.stringify(filter)]);
  const more = useAction(async () => {
    if (!cursor) return;
    const p = await props.load(filter, cursor);
    setPages((old) => [...old, p.data]);
    setCursor(p.has_more ? p.next_cursor : null);
  });
  const entries = pages.flat();
  const trimmed = (v: string | undefined) => v?.trim() || undefined;
  return (
    <>
      <form
        class="filters"
        aria-label="Filter the activity"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter({ actor: trimmed(form.actor), action: form.action || undefined, resource_id: trimmed(form.resource_id), tenant: trimmed(form.tenant) });
        }}
      >
        {props.operator && (
          <Field label="Tenant">{(id) => <input id={id} type="search" value={form.tenant ?? ""} onInput={(e) => setForm({ ...form, tenant: e.currentTarget.value })} placeholder="acme" />}</Field>
        )}
        <Field label="Action">
          {(id) => (
            <select id={id} value={form.action ?? ""} onChange={(e) => setForm({ ...form, action: e.currentTarget.value })}>
              <option value="">Any</option>
              {ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Actor">
          {(id) => <input id={id} type="search" value={form.actor ?? ""} onInput={(e) => setForm({ ...form, actor: e.currentTarget.value })} placeholder="key_… or ps_…" />}
        </Field>
        <Field label="Resource id">{(id) => <input id={id} type="search" value={form.resource_id ?? ""} onInput={(e) => setForm({ ...form, resource_id: e.currentTarget.value })} placeholder="ep_…" />}</Field>
        <div class="filter-actions">
          <Button type="submit" variant="primary">
            Filter
          </Button>
        </div>
      </form>
      <ErrorNote error={first.error} />
      {first.loading && !first.data && <Loading what="the activity" />}
      {first.data && entries.length === 0 && <Empty>No changes match.</Empty>}
      {entries.length > 0 && (
        <TableWrap label="Changes">
          <thead>
            <tr>
              <th scope="col">When</th>
              {props.operator && <th scope="col">Tenant</th>}
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => {
              const to = resourcePath(e);
              const base = props.operator ? (e.tenant_id ? `tenants/${seg(e.tenant_id)}/` : null) : props.base;
              return (
                <tr key={e.id}>
                  <td>
                    <Time value={e.created_at} />
                  </td>
                  {props.operator && <td>{e.tenant_id ? <code>{e.tenant_id}</code> : <span class="muted">operator</span>}</td>}
                  <td class="audit-who">
                    {actorLabel(e)} <code>{e.actor_type === "admin" ? "" : e.actor_id}</code>
                    <div class="muted">from {e.address || "—"}</div>
                  </td>
                  <td class="audit-what">
                    <code>{e.action}</code>
                    <div>
                      {e.resource_type.replace(/_/g, " ")}{" "}
                      {to && base !== null ? (
                        <Link to={base + to}>
                          <code>{e.resource_id}</code>
                        </Link>
                      ) : (
                        <code>{e.resource_id}</code>
                      )}
                    </div>
                  </td>
                  <td>
                    {e.summary && Object.keys(e.summary).length > 0 ? (
                      <details>
                        <summary>Show</summary>
                        <Code text={JSON.stringify(e.summary)} label={`What ${e.action} set`} />
                      </details>
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </TableWrap>
      )}
      {cursor && (
        <p>
          <Button busy={more.busy} onClick={() => more.run()}>
            Load older changes
          </Button>
        </p>
      )}
      <ErrorNote error={more.error} />
    </>
  );
}

export function ActivityPage({ t, base }: TenantPageProps) {
  return (
    <>
      <PageTitle>Activity</PageTitle>
      <p class="lede">Every change to this account's endpoints, functions, hooks, secrets and keys: who made it, when and from where. Secret values and keys are never recorded.</p>
      <AuditLog load={(f, c) => t.auditLog(f, c)} base={base} operator={false} />
    </>
  );
}

export function AllActivityPage() {
  const { api } = usePortal();
  return (
    <>
      <PageTitle>Activity</PageTitle>
      <p class="lede">Every change made through the API, by the admin key, tenants' keys and portal sessions, across tenants and to the catalog.</p>
      <AuditLog load={(f, c) => api.auditLog(f, c)} base="" operator={true} />
    </>
  );
}
