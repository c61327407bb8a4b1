// Deliveries: every event sent to every endpoint and function, followed live,
// filtered, each with its attempts; retry one, recover what failed.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { all, type Attempt, type Delivery, type DeliveryFilter, type DeliveryStatus, type Endpoint, type OutletEvent, type TenantClient } from "./api";
import { Link, navigate, seg, useLocation, withQuery } from "./router";
import { hasFeature } from "./session";
import {
  ago,
  Badge,
  Button,
  Code,
  Empty,
  ErrorNote,
  Field,
  fromLocalInput,
  limited,
  Loading,
  PageTitle,
  StatusBadge,
  TableWrap,
  type TenantPageProps,
  Time,
  toLocalInput,
  useAction,
  useLoad,
  usePoll,
  usePortal,
} from "./ui";

const POLL_MS = 3000;

// Labels for targets: an endpoint's URL rather than its id.
export function useTargets(t: TenantClient): Map<string, Endpoint> {
  const eps = useLoad(() => all((c) => t.listEndpoints(c), 5), [t.id]);
  return useMemo(() => new Map((eps.data ?? []).map((e) => [e.id, e])), [eps.data]);
}

export function TargetLabel({ d, base, endpoints }: { d: Delivery; base: string; endpoints: Map<string, Endpoint> }) {
  if (d.target.type === "function") {
    return (
      <span>
        <span class="muted">function </span>
        <Link to={`${base}functions/${seg(d.target.id)}`}>{d.target.id}</Link>
      </span>
    );
  }
  const ep = endpoints.get(d.target.id);
  return (
    <Link to={`${base}endpoints/${seg(d.target.id)}`} class="url">
      {ep ? ep.url : d.target.id}
    </Link>
  );
}

export function DeliveryTable(props: { rows: Delivery[]; base: string; endpoints: Map<string, Endpoint>; fresh?: Set<string>; showTarget?: boolean }) {
  const showTarget = props.showTarget ?? true;
  return (
    <TableWrap label="Deliveries">
      <thead>
        <tr>
          <th scope="col">Delivery</th>
          <th scope="col">Event type</th>
          {showTarget && <th scope="col">Target</th>}
          <th scope="col">Status</th>
          <th scope="col">Attempts</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((d) => (
          <tr key={d.id} class={props.fresh?.has(d.id) ? "fresh" : undefined}>
            <td>
              <Link to={`${props.base}deliveries/${seg(d.id)}`}>
                <code>{d.id}</code>
              </Link>
            </td>
            <td>
              <code>{d.event_type}</code>
            </td>
            {showTarget && (
              <td class="wrap">
                <TargetLabel d={d} base={props.base} endpoints={props.endpoints} />
              </td>
            )}
            <td>
              <StatusBadge status={d.status} />
              {d.in_flight && <span class="muted"> sending</span>}
              {d.status === "pending" && d.next_attempt_at && !d.in_flight && <span class="muted"> next {ago(d.next_attempt_at)}</span>}
            </td>
            <td>{d.attempts}</td>
            <td>
              <Time value={d.created_at} />
            </td>
          </tr>
        ))}
      </tbody>
    </TableWrap>
  );
}

// useDeliveryFeed lists deliveries newest first and, while live, merges the
// newest page in every few seconds: new deliveries appear on top, known ones
// update in place. eventType filters on the page (the API filters by event
// id, not by type).
export function useDeliveryFeed(t: TenantClient, filter: DeliveryFilter, eventType: string, live: boolean) {
  const [rows, setRows] = useState<Delivery[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const key = JSON.stringify([t.id, filter, eventType]);
  const keyRef = useRef(key);
  keyRef.current = key;
  const keep = (ds: Delivery[]) => (eventType ? ds.filter((d) => d.event_type === eventType) : ds);

  // Fetch pages until enough match the type filter (bounded).
  const fetchMore = async (from: string | undefined) => {
    const got: Delivery[] = [];
    let next: string | null = from ?? null;
    for (let i = 0; i < (eventType ? 5 : 1); i++) {
      const page = await t.listDeliveries(filter, next ?? undefined);
      got.push(...keep(page.data));
      next = page.has_more ? page.next_cursor : null;
      if (!next || got.length >= 20) break;
    }
    return { got, next };
  };

  useEffect(() => {
    let stale = false;
    setRows([]);
    setFresh(new Set());
    setLoading(true);
    fetchMore(undefined)
      .then(({ got, next }) => {
        if (stale) return;
        setRows(got);
        setCursor(next);
        setError(null);
      })
      .catch((e) => !stale && setError(e))
      .finally(() => !stale && setLoading(false));
    return () => {
      stale = true;
    };
  }, [key]);

  usePoll(
    async () => {
      const k = keyRef.current;
      try {
        const page = await t.listDeliveries(filter);
        if (k !== keyRef.current) return;
        const latest = keep(page.data);
        setRows((old) => {
          const known = new Map(old.map((d) => [d.id, d]));
          const added = latest.filter((d) => !known.has(d.id));
          for (const d of latest) if (known.has(d.id)) known.set(d.id, d);
          if (added.length) setFresh(new Set(added.map((d) => d.id)));
          return [...added, ...old.map((d) => known.get(d.id)!)];
        });
        setError(null);
      } catch (e) {
        setError(e);
      }
    },
    POLL_MS,
    live && !loading,
  );

  const more = useAction(async () => {
    if (!cursor) return;
    const { got, next } = await fetchMore(cursor);
    setRows((old) => [...old, ...got.filter((d) => !old.some((o) => o.id === d.id))]);
    setCursor(next);
  });
  return { rows, fresh, error, loading, hasMore: !!cursor, more };
}

export function DeliveriesPage({ t, base }: TenantPageProps) {
  const { session } = usePortal();
  const loc = useLocation();
  const q = loc.query;
  const filter: DeliveryFilter = {
    endpoint_id: q.get("endpoint") ?? undefined,
    function: q.get("function") ?? undefined,
    status: (q.get("status") as DeliveryStatus) ?? undefined,
    event_id: q.get("event") ?? undefined,
    since: q.get("since") ?? undefined,
    before: q.get("before") ?? undefined,
  };
  const eventType = q.get("type") ?? "";
  const [live, setLive] = useState(true);
  const endpoints = useTargets(t);
  const fns = useLoad(() => (hasFeature(session, "functions") ? all((c) => t.listFunctions(c), 2) : Promise.resolve([])), [t.id]);
  const catalog = useLoad(() => all(() => t.listEventTypes(), 1), [t.id]);
  const feed = useDeliveryFeed(t, filter, eventType, live);

  const setQuery = (k: string, v: string) => {
    const next: Record<string, string> = {};
    q.forEach((val, key) => (next[key] = val));
    next[k] = v;
    // The API takes an endpoint or a function, not both.
    if (k === "endpoint" && v) delete next.function;
    if (k === "function" && v) delete next.endpoint;
    navigate(withQuery(`${base}deliveries`, next), { replace: true });
  };

  return (
    <>
      <PageTitle>Deliveries</PageTitle>
      <form class="filters" aria-label="Filter deliveries" onSubmit={(e) => e.preventDefault()}>
        <Field label="Endpoint">
          {(id) => (
            <select id={id} value={filter.endpoint_id ?? ""} onChange={(e) => setQuery("endpoint", e.currentTarget.value)}>
              <option value="">Any</option>
              {[...endpoints.values()].map((ep) => (
                <option key={ep.id} value={ep.id}>
                  {ep.url}
                </option>
              ))}
            </select>
          )}
        </Field>
        {hasFeature(session, "functions") && (
          <Field label="Function">
            {(id) => (
              <select id={id} value={filter.function ?? ""} onChange={(e) => setQuery("function", e.currentTarget.value)}>
                <option value="">Any</option>
                {(fns.data ?? []).map((f) => (
                  <option key={f.name} value={f.name}>
                    {f.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <Field label="Status">
          {(id) => (
            <select id={id} value={filter.status ?? ""} onChange={(e) => setQuery("status", e.currentTarget.value)}>
              <option value="">Any</option>
              <option value="pending">Pending</option>
              <option value="succeeded">Succeeded</option>
              <option value="failed">Failed</option>
            </select>
          )}
        </Field>
        <Field label="Event type">
          {(id) => (
            <select id={id} value={eventType} onChange={(e) => setQuery("type", e.currentTarget.value)}>
              <option value="">Any</option>
              {(catalog.data ?? []).map((et) => (
                <option key={et.name} value={et.name}>
                  {et.name}
                </option>
              ))}
              {eventType && !(catalog.data ?? []).some((et) => et.name === eventType) && <option value={eventType}>{eventType}</option>}
            </select>
          )}
        </Field>
        <Field label="Since">
          {(id) => <input id={id} type="datetime-local" value={toLocalInput(filter.since)} onChange={(e) => setQuery("since", fromLocalInput(e.currentTarget.value))} />}
        </Field>
        <Field label="Before">
          {(id) => <input id={id} type="datetime-local" value={toLocalInput(filter.before)} onChange={(e) => setQuery("before", fromLocalInput(e.currentTarget.value))} />}
        </Field>
        {filter.event_id && (
          <p class="chip">
            Event <code>{filter.event_id}</code>{" "}
            <Button aria-label="Show every event" onClick={() => setQuery("event", "")}>
              ✕
            </Button>
          </p>
        )}
      </form>
      <div class="toolbar">
        <label class="check">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} />
          Follow new deliveries live
        </label>
        <span class="muted" aria-live="polite">
          {feed.fresh.size > 0 ? `${feed.fresh.size} new` : ""}
        </span>
      </div>
      <ErrorNote error={feed.error} />
      {feed.loading ? (
        <Loading what="deliveries" />
      ) : feed.rows.length === 0 ? (
        <Empty>No deliveries match. When an event is published to an endpoint or function of yours, its delivery shows here.</Empty>
      ) : (
        <DeliveryTable rows={feed.rows} base={base} endpoints={endpoints} fresh={feed.fresh} />
      )}
      {feed.hasMore && (
        <p>
          <Button busy={feed.more.busy} onClick={() => feed.more.run()}>
            Load older deliveries
          </Button>
          <ErrorNote error={feed.more.error} />
        </p>
      )}
      <RecoverFailed t={t} endpointId={filter.endpoint_id} endpoints={endpoints} />
    </>
  );
}

// Recover sends every delivery that failed since a time once more: for one
// endpoint, or for every endpoint of the tenant.
export function RecoverFailed({ t, endpointId, endpoints }: { t: TenantClient; endpointId?: string; endpoints: Map<string, Endpoint> }) {
  const { canWrite } = usePortal();
  const [since, setSince] = useState(() => toLocalInput(new Date(Date.now() - 24 * 3600 * 1000).toISOString()));
  const [result, setResult] = useState<string | null>(null);
  const act = useAction(async () => {
    const iso = fromLocalInput(since);
    if (!iso) throw new Error("Choose the time to recover from.");
    const ids = endpointId ? [endpointId] : [...endpoints.keys()];
    const counts = await limited(ids, 4, (id) => t.recover(id, iso));
    const n = counts.reduce((s, c) => s + c.recovered, 0);
    setResult(`${n} failed ${n === 1 ? "delivery" : "deliveries"} sent again${endpointId ? "" : ` across ${ids.length} endpoints`}.`);
  });
  if (!canWrite) return null;
  return (
    <section class="card" aria-labelledby="recover-title">
      <h2 id="recover-title">Recover failed deliveries</h2>
      <p class="muted">
        Send every delivery that finally failed since a time once more{endpointId ? " to this endpoint" : " to each of your endpoints"} — after
        fixing a receiver, say. Each is attempted once now; function deliveries are not included.
      </p>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setResult(null);
          void act.run();
        }}
      >
        <Field label="Failed since">{(id) => <input id={id} type="datetime-local" required value={since} onInput={(e) => setSince(e.currentTarget.value)} />}</Field>
        <Button type="submit" variant="primary" busy={act.busy}>
          Recover
        </Button>
      </form>
      <ErrorNote error={act.error} />
      {result && (
        <p class="note ok" role="status">
          {result}
        </p>
      )}
    </section>
  );
}

export function DeliveryPage({ t, base, id }: TenantPageProps & { id: string }) {
  const { canWrite } = usePortal();
  const d = useLoad(() => t.getDelivery(id), [t.id, id]);
  const atts = useLoad(() => t.attempts(id), [t.id, id]);
  const ev = useLoad<OutletEvent | null>(() => (d.data ? t.getEvent(d.data.event_id) : Promise.resolve(null)), [t.id, d.data?.event_id]);
  const ep = useLoad<Endpoint | null>(
    () => (d.data?.target.type === "endpoint" ? t.getEndpoint(d.data.target.id).catch(() => null) : Promise.resolve(null)),
    [t.id, d.data?.target.id],
  );
  const endpoints = useMemo(() => new Map(ep.data ? [[ep.data.id, ep.data]] : []), [ep.data]);
  const [watching, setWatching] = useState(0); // polls left after a retry
  const pending = d.data?.status === "pending";

  usePoll(
    async () => {
      await Promise.all([d.reload(), atts.reload()]);
      setWatching((n) => Math.max(0, n - 1));
    },
    1500,
    pending || watching > 0,
  );

  const retry = useAction(async () => {
    const next = await t.retry(id);
    d.setData(next);
    setWatching(20);
  });

  if (d.error) return <ErrorNote error={d.error} />;
  if (!d.data) return <Loading what="the delivery" />;
  const dl = d.data;
  const attempts = atts.data?.data ?? [];
  return (
    <>
      <p class="crumbs">
        <Link to={`${base}deliveries`}>Deliveries</Link> /
      </p>
      <PageTitle
        actions={
          canWrite && (
            <Button variant="primary" busy={retry.busy} disabled={dl.in_flight} onClick={() => retry.run()}>
              Retry now
            </Button>
          )
        }
      >
        Delivery <code>{dl.id}</code>
      </PageTitle>
      <ErrorNote error={retry.error} />
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={dl.status} />
          {dl.in_flight && <span class="muted"> being sent now</span>}
          {pending && dl.next_attempt_at && !dl.in_flight && (
            <span class="muted">
              {" "}
              next attempt <Time value={dl.next_attempt_at} />
            </span>
          )}
          {pending && !dl.next_attempt_at && !dl.in_flight && dl.ordered && <span class="muted"> waiting for the endpoint's earlier events (ordered)</span>}
        </dd>
        <dt>Event</dt>
        <dd>
          <code>{dl.event_type}</code> <Link to={withQuery(`${base}deliveries`, { event: dl.event_id })}>{dl.event_id}</Link>
        </dd>
        <dt>Target</dt>
        <dd class="wrap">
          <TargetLabel d={dl} base={base} endpoints={endpoints} />
        </dd>
        <dt>Attempts</dt>
        <dd>{dl.attempts}</dd>
        <dt>Created</dt>
        <dd>
          <Time value={dl.created_at} />
        </dd>
      </dl>
      <RequestSent delivery={dl} event={ev.data ?? null} endpoint={ep.data ?? null} first={attempts[attempts.length - 1]} />
      <section aria-labelledby="attempts-title">
        <h2 id="attempts-title">Attempts</h2>
        <ErrorNote error={atts.error} />
        {attempts.length === 0 && !atts.loading && <Empty>No attempt yet.</Empty>}
        <ol class="attempts" reversed>
          {[...attempts].reverse().map((a) => (
            <AttemptCard key={a.id} a={a} fn={dl.target.type === "function"} />
          ))}
        </ol>
      </section>
    </>
  );
}

function unix(iso: string): string {
  return String(Math.floor(new Date(iso).getTime() / 1000));
}

// What Outlet sent, rebuilt from the event: Outlet keeps the receiver's
// answer, not a copy of each request.
function RequestSent(props: { delivery: Delivery; event: OutletEvent | null; endpoint: Endpoint | null; first?: Attempt }) {
  const ev = props.event;
  if (!ev) return null;
  const body = JSON.stringify({ type: ev.type, timestamp: ev.timestamp, data: ev.data });
  if (props.delivery.target.type === "function") {
    return (
      <section class="card" aria-labelledby="request-title">
        <h2 id="request-title">Input</h2>
        <p class="muted">The function's first argument, event:</p>
        <Code label="Event given to the function" text={body} />
      </section>
    );
  }
  const headers: [string, string][] = [
    ["content-type", "application/json"],
    ["user-agent", "Outlet-Webhooks/1"],
    ["webhook-id", ev.id],
    ["webhook-timestamp", props.first ? `${unix(props.first.started_at)} (first attempt; each attempt sends its own)` : "the attempt's time"],
    ["webhook-signature", "v1,… (HMAC-SHA256 with the endpoint's signing secret; not stored)"],
    ...Object.entries(props.endpoint?.headers ?? {}),
  ];
  return (
    <section class="card" aria-labelledby="request-title">
      <h2 id="request-title">Request</h2>
      <p class="muted">
        Rebuilt from the event: Outlet keeps each answer, not a copy of each request. Custom headers are the endpoint's current ones.
        {ev.data === null && " The event's data is gone: retention removed it."}
      </p>
      <HeaderTable label="Request headers" headers={headers} />
      <h3>Body</h3>
      <Code label="Request body" text={body} />
    </section>
  );
}

function HeaderTable({ label, headers }: { label: string; headers: [string, string][] }) {
  if (!headers.length) return <p class="muted">No headers.</p>;
  return (
    <TableWrap label={label}>
      <tbody>
        {headers.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">
              <code>{k}</code>
            </th>
            <td class="wrap">
              <code>{v}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </TableWrap>
  );
}

function AttemptCard({ a, fn }: { a: Attempt; fn: boolean }) {
  return (
    <li class="card attempt">
      <h3>
        Attempt {a.number} <Badge kind={a.succeeded ? "ok" : "bad"}>{a.succeeded ? "succeeded" : "failed"}</Badge>{" "}
        {a.status_code > 0 && <Badge kind="plain">HTTP {a.status_code}</Badge>} <span class="muted">{a.trigger}</span>
      </h3>
      <dl class="facts">
        <dt>Started</dt>
        <dd>
          <Time value={a.started_at} />
        </dd>
        <dt>Duration</dt>
        <dd>{a.duration_ms} ms</dd>
        {!fn && (
          <>
            <dt>URL</dt>
            <dd class="wrap">
              <code>{a.url}</code>
            </dd>
          </>
        )}
        {a.function_version ? (
          <>
            <dt>Version</dt>
            <dd>{a.function_version}</dd>
          </>
        ) : null}
        {a.error && (
          <>
            <dt>Error</dt>
            <dd class="wrap error-text">{a.error}</dd>
          </>
        )}
      </dl>
      {!fn && (
        <details open={!a.succeeded}>
          <summary>Response{a.response_truncated ? " (first 16 KiB)" : ""}</summary>
          <HeaderTable label={`Response headers of attempt ${a.number}`} headers={Object.entries(a.response_headers ?? {})} />
          {a.response_body ? <Code label={`Response body of attempt ${a.number}`} text={a.response_body} /> : <p class="muted">Empty body.</p>}
        </details>
      )}
      {fn && (
        <details open={!!a.logs}>
          <summary>Output and logs</summary>
          {a.response_body && <Code label={`Output of attempt ${a.number}`} text={a.response_body} />}
          {a.logs ? <Code label={`Logs of attempt ${a.number}`} text={a.logs} /> : <p class="muted">No console output.</p>}
        </details>
      )}
    </li>
  );
}
