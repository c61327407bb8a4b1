// The operator's list of tenants: find one, open its pages.

import { useState } from "preact/hooks";
import { ApiError, type Tenant } from "./api";
import { Link, navigate, seg } from "./router";
import { Button, Empty, ErrorNote, Field, Loading, PageTitle, TableWrap, Time, useAction, useLoad, usePortal } from "./ui";

export function TenantsPage() {
  const { api } = usePortal();
  const [pages, setPages] = useState<Tenant[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const first = useLoad(async () => {
    const p = await api.listTenants();
    setPages([p.data]);
    setCursor(p.has_more ? p.next_cursor : null);
    return p;
  }, []);
  const more = useAction(async () => {
    if (!cursor) return;
    const p = await api.listTenants(cursor);
    setPages((old) => [...old, p.data]);
    setCursor(p.has_more ? p.next_cursor : null);
  });
  const [q, setQ] = useState("");
  const open = useAction(async () => {
    const id = q.trim();
    try {
      await api.getTenant(id);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new ApiError(404, "not_found", `No tenant has the id "${id}".`);
      throw e;
    }
    navigate(`tenants/${seg(id)}/endpoints`);
  });
  const tenants = pages.flat();
  const needle = q.trim().toLowerCase();
  const shown = needle ? tenants.filter((t) => t.id.toLowerCase().includes(needle) || t.name.toLowerCase().includes(needle)) : tenants;
  return (
    <>
      <PageTitle>Tenants</PageTitle>
      <p class="lede">Your customers. Open one to see and manage its endpoints, deliveries, functions, hooks, secrets and usage as it would.</p>
      <form
        class="inline-form"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          if (q.trim()) void open.run();
        }}
      >
        <Field label="Find a tenant" hint="Filters the tenants loaded below by id or name; press Enter to open a tenant by its exact id.">
          {(id) => <input id={id} type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="acme" />}
        </Field>
        <Button type="submit" busy={open.busy}>
          Open
        </Button>
      </form>
      <ErrorNote error={open.error} />
      <ErrorNote error={first.error} />
      {first.loading && !first.data && <Loading what="tenants" />}
      {first.data && shown.length === 0 && <Empty>{needle ? "No loaded tenant matches." : "No tenants yet: create them with POST /v1/tenants."}</Empty>}
      {shown.length > 0 && (
        <TableWrap label="Tenants">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((t) => (
              <tr key={t.id}>
                <td>
                  <Link to={`tenants/${seg(t.id)}/endpoints`}>
                    <code>{t.id}</code>
                  </Link>
                </td>
                <td>{t.name}</td>
                <td>
                  <Time value={t.created_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
      {cursor && (
        <p>
          <Button busy={more.busy} onClick={() => more.run()}>
            Load more tenants
          </Button>
        </p>
      )}
      <ErrorNote error={more.error} />
    </>
  );
}
