// The operator's catalog: the event types the platform publishes (with the
// schemas and samples customers see in their pickers) and the hooks it
// offers.

import { useState } from "preact/hooks";
import type { EventType, Hook } from "./api";
import { Link, navigate, seg } from "./router";
import { Badge, Button, ConfirmButton, Empty, ErrorNote, Field, Loading, PageTitle, parseJSON, pretty, TableWrap, Time, useAction, useLoad, usePortal } from "./ui";

export function CatalogPage() {
  const { api, canWrite } = usePortal();
  const types = useLoad(() => api.listEventTypes(), []);
  const hooks = useLoad(() => api.listHooks(), []);
  return (
    <>
      <PageTitle>Event types and hooks</PageTitle>
      <section aria-labelledby="types-title">
        <div class="section-title">
          <h2 id="types-title">Event types</h2>
          {canWrite && (
            <Link class="btn primary" to="catalog/event-types/new">
              New event type
            </Link>
          )}
        </div>
        <p class="muted">What customers subscribe to. A schema checks every published event of the type; the sample is what customers see and test with.</p>
        <ErrorNote error={types.error} />
        {types.loading && !types.data && <Loading what="event types" />}
        {types.data && types.data.data.length === 0 && <Empty>No event types yet.</Empty>}
        {types.data && types.data.data.length > 0 && (
          <TableWrap label="Event types">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col">Schema</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {types.data.data.map((t) => (
                <tr key={t.name}>
                  <td>
                    <Link to={`catalog/event-types/${seg(t.name)}`}>
                      <code>{t.name}</code>
                    </Link>{" "}
                    {t.deprecated && <Badge kind="warn">deprecated</Badge>}
                    {isOperational(t.name) && <Badge kind="info">Outlet's own</Badge>}
                  </td>
                  <td class="wrap">{t.description}</td>
                  <td>{t.schema != null ? "yes" : <span class="muted">none</span>}</td>
                  <td>
                    <Time value={t.updated_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
        )}
      </section>
      <section aria-labelledby="hooks-title">
        <div class="section-title">
          <h2 id="hooks-title">Hooks</h2>
          {canWrite && (
            <Link class="btn primary" to="catalog/hooks/new">
              New hook
            </Link>
          )}
        </div>
        <p class="muted">Extension points your platform calls mid-request; each tenant serves them with functions or a sync endpoint.</p>
        <ErrorNote error={hooks.error} />
        {hooks.data && hooks.data.data.length === 0 && <Empty>No hooks yet.</Empty>}
        {hooks.data && hooks.data.data.length > 0 && (
          <TableWrap label="Hooks">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col">Deadline</th>
                <th scope="col">On error</th>
              </tr>
            </thead>
            <tbody>
              {hooks.data.data.map((h) => (
                <tr key={h.name}>
                  <td>
                    <Link to={`catalog/hooks/${seg(h.name)}`}>
                      <code>{h.name}</code>
                    </Link>
                  </td>
                  <td class="wrap">{h.description}</td>
                  <td>{h.timeout_ms} ms</td>
                  <td>{h.on_error === "fail_closed" ? "fail closed" : "fail open"}</td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
        )}
      </section>
    </>
  );
}

// A JSON box whose empty value means "none".
function optionalJSON(text: string, what: string): unknown {
  if (!text.trim()) return null;
  const p = parseJSON(text, what);
  if (!p.ok) throw new Error(p.message);
  return p.value;
}

function JSONField(props: { label: string; hint: string; value: string; onInput: (v: string) => void }) {
  return (
    <Field label={props.label} hint={props.hint}>
      {(id) => <textarea id={id} class="mono" rows={10} spellcheck={false} value={props.value} onInput={(e) => props.onInput(e.currentTarget.value)} />}
    </Field>
  );
}

// Outlet's operational event types (outlet.…) are part of every catalog,
// described by Outlet: nobody may change or delete them.
export function isOperational(name: string): boolean {
  return name.startsWith("outlet.");
}

export function EventTypePage({ name }: { name?: string }) {
  const { api, canWrite } = usePortal();
  const existing = useLoad<EventType | null>(() => (name ? api.getEventType(name) : Promise.resolve(null)), [name]);
  if (existing.error) return <ErrorNote error={existing.error} />;
  if (name && !existing.data) return <Loading what="the event type" />;
  return (
    <>
      <p class="crumbs">
        <Link to="catalog">Event types and hooks</Link> /
      </p>
      <PageTitle>{name ? <code>{name}</code> : "New event type"}</PageTitle>
      {name && isOperational(name) && (
        <p class="note" role="note">
          One of Outlet's operational event types: Outlet raises it and describes it, and it can't be changed or deleted. Subscribe to it by naming it on an endpoint of your operator tenant <code>_operator</code> (see docs/api.md, Operational webhooks).
        </p>
      )}
      <EventTypeForm key={name ?? ""} initial={existing.data ?? null} disabled={!canWrite || (!!name && isOperational(name))} />
    </>
  );
}

function EventTypeForm({ initial, disabled }: { initial: EventType | null; disabled: boolean }) {
  const { api } = usePortal();
  const [name, setName] = useState(initial?.name ?? "");
  const [description, setDescription] = useState(initial?.description ?? "");
  const [schema, setSchema] = useState(initial?.schema != null ? pretty(initial.schema) : "");
  const [sample, setSample] = useState(initial?.sample != null ? pretty(initial.sample) : "");
  const [deprecated, setDeprecated] = useState(initial?.deprecated ?? false);
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    setSaved(false);
    const body = { description, schema: optionalJSON(schema, "The schema"), sample: optionalJSON(sample, "The sample"), deprecated };
    if (initial) {
      await api.updateEventType(initial.name, body);
      setSaved(true);
    } else {
      const created = await api.createEventType({
        name: name.trim(),
        description,
        deprecated,
        ...(body.schema !== null ? { schema: body.schema } : {}),
        ...(body.sample !== null ? { sample: body.sample } : {}),
      });
      navigate(`catalog/event-types/${seg(created.name)}`, { replace: true });
    }
  });
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <fieldset class="plain" disabled={disabled}>
        {!initial && (
          <Field label="Name" hint="Dot-separated parts of letters, digits, _ and -: invoice.paid">
            {(id) => <input id={id} required value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="invoice.paid" />}
          </Field>
        )}
        <Field label="Description" hint="Shown to customers in their picker.">
          {(id) => <textarea id={id} rows={2} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />}
        </Field>
        <JSONField label="JSON Schema" hint="Every published event's data must match it (draft 2020-12 unless it says $schema). Empty: none." value={schema} onInput={setSchema} />
        <JSONField label="Sample data" hint="What customers see and send as a test event; checked against the schema. Empty: none." value={sample} onInput={setSample} />
        <label class="check">
          <input type="checkbox" checked={deprecated} onChange={(e) => setDeprecated(e.currentTarget.checked)} />
          Deprecated: customers see it marked so; publishing it still works
        </label>
        <ErrorNote error={save.error} />
        {saved && (
          <p class="note ok" role="status">
            Saved.
          </p>
        )}
        {!disabled && (
          <div class="actions">
            <Button type="submit" variant="primary" busy={save.busy}>
              {initial ? "Save" : "Create event type"}
            </Button>
            {initial && (
              <ConfirmButton
                label="Delete"
                confirm={`Delete ${initial.name} from the catalog? Endpoints keep their subscriptions.`}
                onConfirm={async () => {
                  await api.deleteEventType(initial.name);
                  navigate("catalog");
                }}
              />
            )}
          </div>
        )}
      </fieldset>
    </form>
  );
}

export function HookPage({ name }: { name?: string }) {
  const { api, canWrite } = usePortal();
  const existing = useLoad<Hook | null>(() => (name ? api.getHook(name) : Promise.resolve(null)), [name]);
  if (existing.error) return <ErrorNote error={existing.error} />;
  if (name && !existing.data) return <Loading what="the hook" />;
  return (
    <>
      <p class="crumbs">
        <Link to="catalog">Event types and hooks</Link> /
      </p>
      <PageTitle>{name ? <code>{name}</code> : "New hook"}</PageTitle>
      <HookForm key={name ?? ""} initial={existing.data ?? null} disabled={!canWrite} />
    </>
  );
}

function HookForm({ initial, disabled }: { initial: Hook | null; disabled: boolean }) {
  const { api } = usePortal();
  const [name, setName] = useState(initial?.name ?? "");
  const [description, setDescription] = useState(initial?.description ?? "");
  const [timeout, setTimeoutMs] = useState(String(initial?.timeout_ms ?? 1000));
  const [onError, setOnError] = useState<Hook["on_error"]>(initial?.on_error ?? "fail_open");
  const [input, setInput] = useState(initial?.input_schema != null ? pretty(initial.input_schema) : "");
  const [output, setOutput] = useState(initial?.output_schema != null ? pretty(initial.output_schema) : "");
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    setSaved(false);
    const body = {
      description,
      timeout_ms: Number(timeout),
      on_error: onError,
      input_schema: optionalJSON(input, "The input schema"),
      output_schema: optionalJSON(output, "The output schema"),
    };
    if (initial) {
      await api.updateHook(initial.name, body);
      setSaved(true);
    } else {
      const { input_schema, output_schema, ...rest } = body;
      const created = await api.createHook({
        name: name.trim(),
        ...rest,
        ...(input_schema !== null ? { input_schema } : {}),
        ...(output_schema !== null ? { output_schema } : {}),
      });
      navigate(`catalog/hooks/${seg(created.name)}`, { replace: true });
    }
  });
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <fieldset class="plain" disabled={disabled}>
        {!initial && (
          <Field label="Name" hint="checkout.discount, login.post">
            {(id) => <input id={id} required value={name} onInput={(e) => setName(e.currentTarget.value)} />}
          </Field>
        )}
        <Field label="Description">{(id) => <textarea id={id} rows={2} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />}</Field>
        <div class="row">
          <Field label="Deadline (ms)" hint="1 to 30,000: the whole invocation's.">
            {(id) => <input id={id} type="number" min={1} max={30000} required value={timeout} onInput={(e) => setTimeoutMs(e.currentTarget.value)} />}
          </Field>
          <Field label="When the tenant's code fails">
            {(id) => (
              <select id={id} value={onError} onChange={(e) => setOnError(e.currentTarget.value as Hook["on_error"])}>
                <option value="fail_open">Fail open: answer the input unchanged</option>
                <option value="fail_closed">Fail closed: answer null</option>
              </select>
            )}
          </Field>
        </div>
        <JSONField label="Input schema" hint="What your platform sends; input that doesn't match is refused (422). Empty: any JSON." value={input} onInput={setInput} />
        <JSONField label="Output schema" hint="What the tenant's code must answer; output that doesn't match counts as its failure. Empty: any JSON." value={output} onInput={setOutput} />
        <ErrorNote error={save.error} />
        {saved && (
          <p class="note ok" role="status">
            Saved.
          </p>
        )}
        <div class="actions">
          <Button type="submit" variant="primary" busy={save.busy}>
            {initial ? "Save" : "Create hook"}
          </Button>
          {initial && (
            <ConfirmButton
              label="Delete"
              confirm={`Delete ${initial.name}? Every tenant's sync endpoint for it goes too.`}
              onConfirm={async () => {
                await api.deleteHook(initial.name);
                navigate("catalog");
              }}
            />
          )}
        </div>
      </fieldset>
    </form>
  );
}
