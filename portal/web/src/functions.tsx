// Functions: the customer's hosted code. This page lists them; each one opens
// in the function editor (function-editor.tsx), loaded only when opened so the
// editor's weight stays off every other page.

import { all } from "./api";
import { Link, seg } from "./router";
import { Badge, Empty, ErrorNote, Loading, PageTitle, TableWrap, type TenantPageProps, Time, useLoad } from "./ui";

export function FunctionsPage({ t, base }: TenantPageProps) {
  const fns = useLoad(() => all((c) => t.listFunctions(c), 4), [t.id]);
  return (
    <>
      <PageTitle>Functions</PageTitle>
      <p class="lede">Code Outlet runs for you on your events and at the platform's hooks — instead of, or beside, a webhook endpoint.</p>
      <ErrorNote error={fns.error} />
      {fns.loading && !fns.data && <Loading what="functions" />}
      {fns.data && fns.data.length === 0 && <Empty>No functions yet.</Empty>}
      {fns.data && fns.data.length > 0 && (
        <TableWrap label="Functions">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Runtime</th>
              <th scope="col">Version</th>
              <th scope="col">Runs on</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {fns.data.map((f) => (
              <tr key={f.name}>
                <td>
                  <Link to={`${base}functions/${seg(f.name)}`}>
                    <code>{f.name}</code>
                  </Link>
                </td>
                <td>{f.runtime}</td>
                <td>
                  v{f.active_version}
                  {f.latest_version !== f.active_version && <span class="muted"> (latest v{f.latest_version})</span>}
                </td>
                <td class="types">
                  {(f.events ?? []).map((e) => (
                    <Badge key={"e" + e} kind="info">
                      {e}
                    </Badge>
                  ))}
                  {(f.hooks ?? []).map((h) => (
                    <Badge key={"h" + h} kind="plain">
                      hook {h}
                    </Badge>
                  ))}
                  {!(f.events ?? []).length && !(f.hooks ?? []).length && <span class="muted">nothing bound</span>}
                </td>
                <td>
                  <Time value={f.updated_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
    </>
  );
}
