// Hooks: the extension points the platform offers, and what of the
// customer's serves each — their functions (a chain, in order), a sync
// endpoint, or nothing (the input passes through unchanged).

import { useRef, useState } from "preact/hooks";
import { all, type TenantHook } from "./api";
import { Link, seg } from "./router";
import { hasFeature } from "./session";
import {
  Badge,
  Button,
  Code,
  ConfirmButton,
  Empty,
  ErrorNote,
  Field,
  HeadersEditor,
  headersToRows,
  Loading,
  PageTitle,
  pretty,
  rowsToHeaders,
  SecretValue,
  type TenantPageProps,
  useAction,
  useLoad,
  usePortal,
} from "./ui";

export function HooksPage({ t, base }: TenantPageProps) {
  const hooks = useLoad(() => all(() => t.listHooks(), 1), [t.id]);
  return (
    <>
      <PageTitle>Hooks</PageTitle>
      <p class="lede">
        The platform calls a hook in the middle of its own work and waits for your answer. Serve one with your functions or with a sync endpoint
        of yours; served by neither, the input passes through unchanged.
      </p>
      <ErrorNote error={hooks.error} />
      {hooks.loading && !hooks.data && <Loading what="hooks" />}
      {hooks.data && hooks.data.length === 0 && <Empty>The platform offers no hooks yet.</Empty>}
      <ul class="cards">
        {(hooks.data ?? []).map((h) => (
          <HookCard key={h.name} h={h} base={base} onChange={() => hooks.reload()} t={t} />
        ))}
      </ul>
    </>
  );
}

function HookCard({ h, base, t, onChange }: { h: TenantHook; base: string; t: TenantPageProps["t"]; onChange: () => void }) {
  const { canWrite, session } = usePortal();
  const [editing, setEditing] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const reveal = useAction(async () => setSecret((await t.hookEndpointSecret(h.name)).secret));
  const fns = h.functions ?? [];
  return (
    <li class="card">
      <h2>
        <code>{h.name}</code>
      </h2>
      {h.description && <p>{h.description}</p>}
      <p class="muted small">
        Deadline {h.timeout_ms} ms; if your code fails, the platform gets{" "}
        {h.on_error === "fail_closed" ? "no output (fail closed)" : "the input unchanged (fail open)"}.
      </p>
      <details>
        <summary>Input and output schemas</summary>
        <h3>Input</h3>
        {h.input_schema != null ? <Code label={`Input schema of ${h.name}`} text={pretty(h.input_schema)} /> : <p class="muted">Any JSON.</p>}
        <h3>Output</h3>
        {h.output_schema != null ? <Code label={`Output schema of ${h.name}`} text={pretty(h.output_schema)} /> : <p class="muted">Any JSON.</p>}
      </details>
      <h3>Served by</h3>
      {h.served_by === "functions" && fns.length > 0 ? (
        <>
          <p>
            <Badge kind="info">functions</Badge> run as a chain in this order, each one's output the next one's input:
          </p>
          <ol class="chain">
            {fns.map((f) => (
              <li key={f}>{hasFeature(session, "functions") ? <Link to={`${base}functions/${seg(f)}`}>{f}</Link> : <code>{f}</code>}</li>
            ))}
          </ol>
        </>
      ) : h.served_by === "endpoint" && h.endpoint ? (
        <div class="stack">
          <p>
            <Badge kind="info">sync endpoint</Badge> <span class="url">{h.endpoint.url}</span>
          </p>
          {Object.keys(h.endpoint.headers ?? {}).length > 0 && (
            <p class="muted">
              Headers:{" "}
              {Object.keys(h.endpoint.headers).map((k) => (
                <code key={k}>{k} </code>
              ))}
            </p>
          )}
          {secret ? (
            <div>
              <SecretValue value={secret} label={`Signing secret of ${h.name}'s endpoint`} /> <Button onClick={() => setSecret(null)}>Hide</Button>
            </div>
          ) : (
            <div>
              <Button busy={reveal.busy} onClick={() => reveal.run()}>
                Reveal signing secret
              </Button>
            </div>
          )}
          <ErrorNote error={reveal.error} />
        </div>
      ) : (
        <p>
          <Badge kind="plain">nothing</Badge> <span class="muted">the input passes through unchanged</span>
        </p>
      )}
      {canWrite && h.served_by !== "functions" && (
        <div class="actions">
          <Button onClick={() => setEditing(!editing)} aria-expanded={editing}>
            {h.endpoint ? "Change sync endpoint" : "Set a sync endpoint"}
          </Button>
          {h.endpoint && (
            <ConfirmButton
              label="Remove"
              confirm="Remove the sync endpoint?"
              onConfirm={async () => {
                await t.deleteHookEndpoint(h.name);
                onChange();
              }}
            />
          )}
        </div>
      )}
      {canWrite && h.served_by === "functions" && (
        <p class="muted small">A hook served by functions can't also have a sync endpoint: unbind the functions first.</p>
      )}
      {editing && (
        <SyncEndpointForm
          h={h}
          t={t}
          onDone={(s) => {
            setEditing(false);
            setSecret(s);
            onChange();
          }}
        />
      )}
    </li>
  );
}

function SyncEndpointForm({ h, t, onDone }: { h: TenantHook; t: TenantPageProps["t"]; onDone: (secret: string | null) => void }) {
  const [url, setUrl] = useState(h.endpoint?.url ?? "");
  const [headers, setHeaders] = useState(headersToRows(h.endpoint?.headers));
  const secretRef = useRef<HTMLInputElement>(null);
  const save = useAction(async () => {
    const own = secretRef.current?.value ?? "";
    const res = await t.putHookEndpoint(h.name, { url, headers: rowsToHeaders(headers), ...(own ? { secret: own } : {}) });
    if (secretRef.current) secretRef.current.value = "";
    onDone(res.secret ?? null);
  });
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <Field label="URL" hint="Outlet POSTs the hook's input here, signed like a webhook, and takes your JSON answer as the output.">
        {(id) => <input id={id} type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} />}
      </Field>
      <HeadersEditor value={headers} onChange={setHeaders} />
      <Field label="Signing secret (optional)" hint={h.endpoint ? "Leave empty to keep the current one." : "Leave empty and Outlet makes one."}>
        {(id) => <input id={id} ref={secretRef} type="password" autocomplete="off" placeholder="whsec_…" />}
      </Field>
      <ErrorNote error={save.error} />
      <div class="actions">
        <Button type="submit" variant="primary" busy={save.busy}>
          Save
        </Button>
      </div>
    </form>
  );
}
