// Functions: the customer's hosted code. This page lists them and starts a
// new one from a template; each one opens in the function editor
// (function-editor.tsx), loaded only when opened so the editor's weight
// stays off every other page.

import { useState } from "preact/hooks";
import { all, type TenantClient } from "./api";
import { Link, navigate, seg, withQuery } from "./router";
import { Badge, Button, Empty, ErrorNote, Field, Loading, PageTitle, TableWrap, type TenantPageProps, Time, useLoad, usePortal } from "./ui";

export function FunctionsPage({ t, base }: TenantPageProps) {
  const { canWrite } = usePortal();
  const fns = useLoad(() => all((c) => t.listFunctions(c), 4), [t.id]);
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageTitle
        actions={
          canWrite && (
            <Button variant="primary" onClick={() => setCreating(!creating)} aria-expanded={creating}>
              New function
            </Button>
          )
        }
      >
        Functions
      </PageTitle>
      <p class="lede">Code Outlet runs for you on your events and at the platform's hooks — instead of, or beside, a webhook endpoint.</p>
      {creating && <NewFunctionForm t={t} base={base} taken={new Set((fns.data ?? []).map((f) => f.name))} onCancel={() => setCreating(false)} />}
      <ErrorNote error={fns.error} />
      {fns.loading && !fns.data && <Loading what="functions" />}
      {fns.data && fns.data.length === 0 && (
        <Empty>
          No functions yet.{" "}
          {canWrite && !creating && (
            <>
              <a
                href="#new"
                onClick={(e) => {
                  e.preventDefault();
                  setCreating(true);
                }}
              >
                Write one
              </a>{" "}
              from a template for any of your events or hooks.
            </>
          )}
        </Empty>
      )}
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
                <td>
                  <span class="types">
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
                  </span>
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

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

// A name, a template (an event type's or a hook's) and a runtime; the editor
// opens with the template, and the first deploy creates the function.
function NewFunctionForm({ t, base, taken, onCancel }: { t: TenantClient; base: string; taken: Set<string>; onCancel: () => void }) {
  const catalog = useLoad(() => Promise.all([t.listEventTypes().then((p) => p.data), t.listHooks().then((p) => p.data)]), [t.id]);
  const [name, setName] = useState("");
  const [start, setStart] = useState("");
  const [runtime, setRuntime] = useState("typescript");
  const [error, setError] = useState("");
  const [types, hooks] = catalog.data ?? [[], []];
  return (
    <form
      class="card form"
      id="new"
      aria-label="New function"
      onSubmit={(e) => {
        e.preventDefault();
        const n = name.trim();
        if (!NAME.test(n)) return setError("A name is 1 to 64 letters, digits, '_', '.' or '-'.");
        if (taken.has(n)) return setError(`There is a function named ${n} already: choose another name, or open it from the list.`);
        navigate(withQuery(`${base}functions/${seg(n)}`, { start, runtime }));
      }}
    >
      <h2>New function</h2>
      <div class="filters top">
        <Field label="Name" hint="Letters, digits, '_', '.' or '-'.">
          {(id) => (
            <input
              id={id}
              required
              maxLength={64}
              pattern="[A-Za-z0-9_.\-]{1,64}"
              placeholder="notify-slack"
              value={name}
              onInput={(e) => {
                setName(e.currentTarget.value);
                setError("");
              }}
            />
          )}
        </Field>
        <Field label="Start from">
          {(id) => (
            <select id={id} value={start} onChange={(e) => setStart(e.currentTarget.value)}>
              <option value="">A blank function</option>
              {types.length > 0 && (
                <optgroup label="On an event">
                  {types.map((ty) => (
                    <option key={ty.name} value={`event:${ty.name}`}>
                      {ty.name}
                    </option>
                  ))}
                </optgroup>
              )}
              {hooks.length > 0 && (
                <optgroup label="At a hook">
                  {hooks.map((h) => (
                    <option key={h.name} value={`hook:${h.name}`}>
                      {h.name}
                    </option>
                  ))}
                </optgroup>
              )}
            </select>
          )}
        </Field>
        <Field label="Runtime">
          {(id) => (
            <select id={id} value={runtime} onChange={(e) => setRuntime(e.currentTarget.value)}>
              <option value="typescript">TypeScript</option>
              <option value="javascript">JavaScript</option>
              <option value="wasm">Wasm (upload a module)</option>
            </select>
          )}
        </Field>
      </div>
      <ErrorNote error={catalog.error} />
      {error && (
        <p class="note error" role="alert">
          {error}
        </p>
      )}
      <div class="actions">
        <Button type="submit" variant="primary">
          Open the editor
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
      <p class="hint">Nothing is created until you deploy from the editor.</p>
    </form>
  );
}
