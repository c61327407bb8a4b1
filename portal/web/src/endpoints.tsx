// Endpoints: the customer's webhook URLs — their health, the events they
// receive, flow control, the signing secret, and a test event.

import { useEffect, useMemo, useState } from "preact/hooks";
import { all, type Delivery, type Endpoint, type EndpointInput, type EventType, type PublishResult, type TenantClient } from "./api";
import { DeliveryTable, RecoverFailed, useDeliveryFeed } from "./deliveries";
import { EventTypeDetails, EventTypePicker } from "./event-type-picker";
import { matchEventType } from "./event-types";
import { Link, navigate, seg, useLocation, withQuery } from "./router";
import {
  Badge,
  Button,
  ConfirmButton,
  Empty,
  ErrorNote,
  Field,
  HeadersEditor,
  headersToRows,
  limited,
  Loading,
  PageTitle,
  parseJSON,
  pretty,
  rowsToHeaders,
  SecretValue,
  StatusBadge,
  TableWrap,
  type TenantPageProps,
  Time,
  useAction,
  useLoad,
  usePoll,
  usePortal,
} from "./ui";

interface Health {
  succeeded: number;
  failed: number;
  pending: number;
}

// Recent health from the endpoint's latest 50 deliveries: the share of the
// finished ones that succeeded.
function useHealth(t: TenantClient, endpoints: Endpoint[] | undefined) {
  const ids = (endpoints ?? []).map((e) => e.id).join(",");
  return useLoad(async () => {
    const list = endpoints ?? [];
    const pages = await limited(list, 4, (e) => t.listDeliveries({ endpoint_id: e.id }).catch(() => null));
    const out = new Map<string, Health | null>();
    list.forEach((e, i) => {
      const p = pages[i];
      if (!p) {
        out.set(e.id, null);
        return;
      }
      const h: Health = { succeeded: 0, failed: 0, pending: 0 };
      for (const d of p.data) h[d.status]++;
      out.set(e.id, h);
    });
    return out;
  }, [t.id, ids]);
}

function HealthBadge({ ep, h }: { ep: Endpoint; h: Health | null | undefined }) {
  if (ep.disabled) {
    return <Badge kind="bad">{ep.disabled_reason && ep.disabled_reason !== "manual" ? "disabled by Outlet" : "disabled"}</Badge>;
  }
  const finished = h ? h.succeeded + h.failed : 0;
  const rate = finished ? Math.round((100 * h!.succeeded) / finished) : null;
  return (
    <span class="health">
      {ep.failing_since && <Badge kind="bad">failing</Badge>}
      {rate === null ? (
        <span class="muted">{h === undefined ? "…" : h && h.pending > 0 ? `${h.pending} pending, none finished yet` : "no deliveries yet"}</span>
      ) : (
        <>
          <Badge kind={rate >= 95 ? "ok" : rate >= 70 ? "warn" : "bad"}>
            {rate}% of last {finished}
          </Badge>
          {h!.pending > 0 && <span class="muted">{h!.pending} pending</span>}
        </>
      )}
    </span>
  );
}

export function EndpointsPage({ t, base }: TenantPageProps) {
  const { canWrite } = usePortal();
  const eps = useLoad(() => all((c) => t.listEndpoints(c), 5), [t.id]);
  const health = useHealth(t, eps.data);
  return (
    <>
      <PageTitle
        actions={
          canWrite && (
            <Link class="btn primary" to={`${base}endpoints/new`}>
              New endpoint
            </Link>
          )
        }
      >
        Endpoints
      </PageTitle>
      <p class="lede">The URLs that receive your events as signed webhooks. Health is the share of each endpoint's latest 50 deliveries that succeeded.</p>
      <ErrorNote error={eps.error} />
      {eps.loading && !eps.data && <Loading what="endpoints" />}
      {eps.data && eps.data.length === 0 && (
        <Empty>
          No endpoints yet.{" "}
          {canWrite && (
            <>
              <Link to={`${base}endpoints/new`}>Add one</Link> to start receiving events.
            </>
          )}
        </Empty>
      )}
      {eps.data && eps.data.length > 0 && (
        <TableWrap label="Endpoints">
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">Health</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {eps.data.map((ep) => (
              <tr key={ep.id}>
                <td class="wrap">
                  <Link to={`${base}endpoints/${seg(ep.id)}`} class="url">
                    {ep.url}
                  </Link>
                  {ep.description && <div class="muted">{ep.description}</div>}
                </td>
                <td>
                  <TypesSummary types={ep.event_types} />
                </td>
                <td>
                  <HealthBadge ep={ep} h={health.data?.get(ep.id)} />
                </td>
                <td>
                  <Time value={ep.created_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
    </>
  );
}

function TypesSummary({ types }: { types: string[] }) {
  if (!types.length) return <span class="muted">every type</span>;
  const shown = types.slice(0, 3);
  return (
    <span class="types">
      {shown.map((x) => (
        <code key={x}>{x}</code>
      ))}
      {types.length > 3 && <span class="muted"> +{types.length - 3}</span>}
    </span>
  );
}

function useCatalog(t: TenantClient) {
  return useLoad(() => all(() => t.listEventTypes(), 1), [t.id]);
}

function toInput(e: Endpoint): EndpointInput {
  return {
    url: e.url,
    description: e.description,
    event_types: e.event_types ?? [],
    headers: e.headers ?? {},
    max_in_flight: e.max_in_flight,
    rate_limit: e.rate_limit,
    ordered: e.ordered,
  };
}

const emptyInput: EndpointInput = { url: "", description: "", event_types: [], headers: {}, max_in_flight: 0, rate_limit: 0, ordered: false };

function EndpointForm(props: { initial: EndpointInput; catalog: EventType[]; submit: string; onSubmit: (v: EndpointInput) => Promise<void>; disabled?: boolean }) {
  const [v, setV] = useState(props.initial);
  const [headers, setHeaders] = useState(headersToRows(props.initial.headers));
  const act = useAction(async () => props.onSubmit({ ...v, headers: rowsToHeaders(headers) }));
  const set = <K extends keyof EndpointInput>(k: K, x: EndpointInput[K]) => setV({ ...v, [k]: x });
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        void act.run();
      }}
    >
      <fieldset class="plain" disabled={props.disabled}>
        <Field label="URL" hint="Where Outlet POSTs each event: https://, your receiver's full address.">
          {(id) => <input id={id} type="url" required placeholder="https://example.com/webhooks" value={v.url} onInput={(e) => set("url", e.currentTarget.value)} />}
        </Field>
        <Field label="Description">{(id) => <input id={id} value={v.description} onInput={(e) => set("description", e.currentTarget.value)} />}</Field>
        <EventTypePicker catalog={props.catalog} value={v.event_types} onChange={(x) => set("event_types", x)} />
        <HeadersEditor value={headers} onChange={setHeaders} />
        <fieldset>
          <legend>Flow control</legend>
          <div class="row">
            <Field label="Max in flight" hint="Requests at once, per Outlet node. 0: the server's default (10).">
              {(id) => <input id={id} type="number" min={0} max={1000} value={v.max_in_flight} onInput={(e) => set("max_in_flight", Number(e.currentTarget.value) || 0)} />}
            </Field>
            <Field label="Rate limit (per second)" hint="Per Outlet node. 0: no limit.">
              {(id) => <input id={id} type="number" min={0} max={100000} value={v.rate_limit} onInput={(e) => set("rate_limit", Number(e.currentTarget.value) || 0)} />}
            </Field>
          </div>
          <label class="check">
            <input type="checkbox" checked={v.ordered} onChange={(e) => set("ordered", e.currentTarget.checked)} />
            Ordered: one event at a time, in publish order (a failing event holds up the rest through its retries)
          </label>
        </fieldset>
        <ErrorNote error={act.error} />
        <div class="actions">
          <Button type="submit" variant="primary" busy={act.busy}>
            {props.submit}
          </Button>
        </div>
      </fieldset>
    </form>
  );
}

export function EndpointNewPage({ t, base }: TenantPageProps) {
  const { canWrite } = usePortal();
  const catalog = useCatalog(t);
  return (
    <>
      <p class="crumbs">
        <Link to={`${base}endpoints`}>Endpoints</Link> /
      </p>
      <PageTitle>New endpoint</PageTitle>
      <ErrorNote error={catalog.error} />
      {catalog.loading && !catalog.data ? (
        <Loading what="the event catalog" />
      ) : (
        <EndpointForm
          initial={emptyInput}
          catalog={catalog.data ?? []}
          submit="Create endpoint"
          disabled={!canWrite}
          onSubmit={async (v) => {
            const ep = await t.createEndpoint(v);
            navigate(withQuery(`${base}endpoints/${seg(ep.id)}`, { created: "1" }));
          }}
        />
      )}
    </>
  );
}

export function EndpointPage({ t, base, id }: TenantPageProps & { id: string }) {
  const { canWrite } = usePortal();
  const loc = useLocation();
  const ep = useLoad(() => t.getEndpoint(id), [t.id, id]);
  const catalog = useCatalog(t);
  const [editing, setEditing] = useState(false);
  const toggle = useAction(async () => {
    ep.setData(await t.updateEndpoint(id, { disabled: !ep.data!.disabled }));
  });
  const endpoints = useMemo(() => new Map(ep.data ? [[ep.data.id, ep.data]] : []), [ep.data]);

  if (ep.error) return <ErrorNote error={ep.error} />;
  if (!ep.data) return <Loading what="the endpoint" />;
  const e = ep.data;
  return (
    <>
      <p class="crumbs">
        <Link to={`${base}endpoints`}>Endpoints</Link> /
      </p>
      <PageTitle>
        <span class="url">{e.url}</span>
      </PageTitle>
      {loc.query.get("created") && (
        <p class="note ok" role="status">
          Endpoint created. Reveal its signing secret below to verify the webhooks it receives, then send it a test event.
        </p>
      )}
      {e.description && <p class="lede">{e.description}</p>}
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{e.id}</code>
        </dd>
        <dt>State</dt>
        <dd>
          {e.disabled ? (
            <>
              <Badge kind="bad">disabled</Badge>{" "}
              <span class="muted">
                {e.disabled_reason === "manual" || !e.disabled_reason ? "by hand" : e.disabled_reason} <Time value={e.disabled_at} />
              </span>
            </>
          ) : e.failing_since ? (
            <>
              <Badge kind="bad">failing</Badge> <span class="muted">every attempt has failed since</span> <Time value={e.failing_since} />
            </>
          ) : (
            <Badge kind="ok">enabled</Badge>
          )}
        </dd>
        <dt>Events</dt>
        <dd>
          <TypesSummary types={e.event_types} />
        </dd>
        <dt>Flow control</dt>
        <dd>
          {e.max_in_flight || "default"} in flight, {e.rate_limit ? `${e.rate_limit}/s` : "no rate limit"}
          {e.ordered ? ", ordered" : ""}
        </dd>
        {Object.keys(e.headers ?? {}).length > 0 && (
          <>
            <dt>Headers</dt>
            <dd>
              {Object.keys(e.headers).map((h) => (
                <code key={h}>{h} </code>
              ))}
            </dd>
          </>
        )}
      </dl>
      <p class="muted small">
        An open circuit (Outlet pausing a failing endpoint until a probe succeeds) lives in each node's memory and isn't shown here; "failing"
        says every attempt has failed since that time. After 5 days of that, Outlet disables the endpoint.
      </p>
      {canWrite && (
        <div class="actions">
          <Button onClick={() => setEditing(!editing)} aria-expanded={editing}>
            {editing ? "Close settings" : "Edit settings"}
          </Button>
          <Button busy={toggle.busy} onClick={() => toggle.run()}>
            {e.disabled ? "Enable" : "Disable"}
          </Button>
          <ConfirmButton
            label="Delete"
            confirm="Delete this endpoint and its deliveries?"
            onConfirm={async () => {
              await t.deleteEndpoint(id);
              navigate(`${base}endpoints`);
            }}
          />
        </div>
      )}
      <ErrorNote error={toggle.error} />
      {editing && (
        <section class="card" aria-labelledby="edit-title">
          <h2 id="edit-title">Settings</h2>
          <EndpointForm
            initial={toInput(e)}
            catalog={catalog.data ?? []}
            submit="Save"
            onSubmit={async (v) => {
              ep.setData(await t.updateEndpoint(id, v));
              setEditing(false);
            }}
          />
        </section>
      )}
      <SigningSecret t={t} id={id} />
      {canWrite && <TestEvent t={t} base={base} endpoint={e} catalog={catalog.data ?? []} />}
      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Recent deliveries</h2>
        <RecentDeliveries t={t} base={base} id={id} endpoints={endpoints} />
      </section>
      <RecoverFailed t={t} endpointId={id} endpoints={endpoints} />
    </>
  );
}

function RecentDeliveries({ t, base, id, endpoints }: { t: TenantClient; base: string; id: string; endpoints: Map<string, Endpoint> }) {
  const feed = useDeliveryFeed(t, { endpoint_id: id }, "", true);
  return (
    <>
      <ErrorNote error={feed.error} />
      {feed.loading ? (
        <Loading what="deliveries" />
      ) : feed.rows.length === 0 ? (
        <Empty>No deliveries yet.</Empty>
      ) : (
        <DeliveryTable rows={feed.rows.slice(0, 10)} base={base} endpoints={endpoints} fresh={feed.fresh} showTarget={false} />
      )}
      <p>
        <Link to={withQuery(`${base}deliveries`, { endpoint: id })}>All of this endpoint's deliveries</Link>
      </p>
    </>
  );
}

function SigningSecret({ t, id }: { t: TenantClient; id: string }) {
  const { canWrite } = usePortal();
  const [shown, setShown] = useState<{ secret: string; previous_secret?: string; previous_secret_expires_at?: string } | null>(null);
  const [overlap, setOverlap] = useState("86400");
  const reveal = useAction(async () => setShown(await t.endpointSecret(id)));
  const rotate = useAction(async () => setShown(await t.rotateSecret(id, Number(overlap))));
  // Leaving the page forgets the secret.
  useEffect(() => () => setShown(null), [id]);
  return (
    <section class="card" aria-labelledby="secret-title">
      <h2 id="secret-title">Signing secret</h2>
      <p class="muted">
        Each request carries a <code>webhook-signature</code> made with this secret (Standard Webhooks). Verify it in your receiver.
      </p>
      {shown ? (
        <div class="stack">
          <SecretValue value={shown.secret} label="Signing secret" />
          {shown.previous_secret && (
            <p class="muted">
              The previous secret <SecretValue value={shown.previous_secret} label="Previous signing secret" /> also signs until{" "}
              <Time value={shown.previous_secret_expires_at} />.
            </p>
          )}
          <div>
            <Button onClick={() => setShown(null)}>Hide</Button>
          </div>
        </div>
      ) : (
        <Button busy={reveal.busy} onClick={() => reveal.run()}>
          Reveal secret
        </Button>
      )}
      <ErrorNote error={reveal.error} />
      {canWrite && (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void rotate.run();
          }}
        >
          <Field label="Keep the old secret signing for">
            {(fid) => (
              <select id={fid} value={overlap} onChange={(e) => setOverlap(e.currentTarget.value)}>
                <option value="0">no time: stop at once</option>
                <option value="3600">1 hour</option>
                <option value="86400">24 hours</option>
                <option value="604800">7 days</option>
              </select>
            )}
          </Field>
          <Button type="submit" busy={rotate.busy}>
            Rotate secret
          </Button>
        </form>
      )}
      <ErrorNote error={rotate.error} />
    </section>
  );
}

// A test event is a real event published to the tenant: Outlet has no route
// that sends to one endpoint alone, and this page says so.
function TestEvent({ t, base, endpoint, catalog }: { t: TenantClient; base: string; endpoint: Endpoint; catalog: EventType[] }) {
  const [type, setType] = useState("");
  const [data, setData] = useState("{}");
  const [sent, setSent] = useState<PublishResult | null>(null);
  const [delivery, setDelivery] = useState<Delivery | null>(null);
  const [polls, setPolls] = useState(0);
  const chosen = catalog.find((c) => c.name === type);

  // Start with a type this endpoint receives.
  useEffect(() => {
    if (type || !catalog.length) return;
    const wanted = catalog.filter((c) => matchEventType(endpoint.event_types, c.name));
    const first = wanted.find((c) => !c.deprecated) ?? wanted[0] ?? catalog[0];
    choose(first.name);
  }, [catalog.length]);

  const choose = (name: string) => {
    setType(name);
    const c = catalog.find((x) => x.name === name);
    setData(c && c.sample != null ? pretty(c.sample) : "{}");
  };

  const send = useAction(async () => {
    const parsed = parseJSON(data, "The data");
    if (!parsed.ok) throw new Error(parsed.message);
    if (!type.trim()) throw new Error("Choose the event type to send.");
    setDelivery(null);
    const res = await t.publish(type.trim(), parsed.value);
    setSent(res);
    setPolls(30);
  });

  // Watch for this endpoint's delivery of the event until it finishes.
  usePoll(
    async () => {
      if (!sent) return;
      setPolls((n) => n - 1);
      try {
        const page = await t.listDeliveries({ event_id: sent.id, endpoint_id: endpoint.id });
        const d = page.data[0] ?? null;
        setDelivery(d);
        if (d && d.status !== "pending") setPolls(0);
      } catch {
        // the next poll tries again
      }
    },
    1000,
    polls > 0,
  );

  return (
    <section class="card" aria-labelledby="test-title">
      <h2 id="test-title">Send a test event</h2>
      <p class="note info">
        Outlet has no way to send to one endpoint alone, so this <strong>publishes a real event</strong> to your account: every endpoint and
        function subscribed to its type receives it, this one included if it subscribes.
      </p>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void send.run();
        }}
      >
        <Field label="Event type">
          {(id) =>
            catalog.length ? (
              <select id={id} value={type} onChange={(e) => choose(e.currentTarget.value)}>
                {catalog.map((c) => (
                  <option key={c.name} value={c.name}>
                    {c.name}
                    {c.deprecated ? " (deprecated)" : ""}
                    {matchEventType(endpoint.event_types, c.name) ? "" : " — not sent to this endpoint"}
                  </option>
                ))}
              </select>
            ) : (
              <input id={id} required placeholder="invoice.paid" value={type} onInput={(e) => setType(e.currentTarget.value)} />
            )
          }
        </Field>
        {chosen?.description && <p class="muted">{chosen.description}</p>}
        {chosen && <EventTypeDetails type={chosen} />}
        <Field label="Data (JSON)" hint={chosen?.sample != null ? "Prefilled from the type's sample." : undefined}>
          {(id) => <textarea id={id} class="mono" rows={8} spellcheck={false} value={data} onInput={(e) => setData(e.currentTarget.value)} />}
        </Field>
        <ErrorNote error={send.error} />
        <div class="actions">
          <Button type="submit" variant="primary" busy={send.busy}>
            Publish test event
          </Button>
        </div>
      </form>
      {sent && (
        <div class="stack" role="status" aria-live="polite">
          <p>
            Published <code>{sent.id}</code>: {sent.deliveries} {sent.deliveries === 1 ? "delivery" : "deliveries"} made.
          </p>
          {delivery ? (
            <p>
              This endpoint's delivery: <StatusBadge status={delivery.status} />{" "}
              <Link to={`${base}deliveries/${seg(delivery.id)}`}>see its attempts</Link>
            </p>
          ) : polls > 0 ? (
            <p class="muted">Waiting for this endpoint's delivery…</p>
          ) : (
            <p class="muted">
              No delivery to this endpoint: {endpoint.disabled ? "it is disabled" : "it doesn't subscribe to this type"}.{" "}
              <Link to={withQuery(`${base}deliveries`, { event: sent.id })}>See the event's deliveries</Link>
            </p>
          )}
        </div>
      )}
    </section>
  );
}
