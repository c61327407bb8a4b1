// Node health for the operator: what this node's GET /metrics says about its
// queue and receivers, refreshed every few seconds, and a scan for failing
// endpoints across tenants.

import { useRef, useState } from "preact/hooks";
import { all, type Endpoint, type Tenant } from "./api";
import { metric, parseMetrics, type Sample } from "./prometheus";
import { Link, seg } from "./router";
import { Badge, Button, Empty, ErrorNote, limited, PageTitle, TableWrap, Time, useAction, useLoad, usePoll, usePortal } from "./ui";
import { formatNumber } from "./usage-chart";

const REFRESH_MS = 5000;

interface Scrape {
  at: number;
  samples: Sample[];
  ready: boolean;
}

function duration(s: number): string {
  if (s < 1) return "none late";
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function HealthPage() {
  const { api } = usePortal();
  const prev = useRef<Scrape | null>(null);
  const [rates, setRates] = useState<{ attempts: number; failures: number } | null>(null);
  const scrape = useLoad(async (): Promise<Scrape> => {
    const [text, ready] = await Promise.all([api.metrics(), api.ready()]);
    const s: Scrape = { at: Date.now(), samples: parseMetrics(text), ready };
    const p = prev.current;
    if (p) {
      const secs = (s.at - p.at) / 1000;
      const d = (name: string, labels: Record<string, string>) => ((metric(s.samples, name, labels) ?? 0) - (metric(p.samples, name, labels) ?? 0)) / secs;
      setRates({ attempts: d("outlet_attempts_total", {}), failures: d("outlet_attempts_total", { result: "failure" }) });
    }
    prev.current = s;
    return s;
  }, []);
  usePoll(() => void scrape.reload(), REFRESH_MS, true);

  const s = scrape.data?.samples ?? [];
  const m = (name: string, labels?: Record<string, string>) => metric(s, name, labels);
  const depth = m("outlet_queue_depth");
  const oldest = m("outlet_queue_oldest_due_age_seconds");
  const circuits = m("outlet_endpoint_circuits_open");
  const tiles: { label: string; value: string; kind: "ok" | "warn" | "bad" | "plain"; hint: string }[] = [
    {
      label: "Ready",
      value: scrape.data ? (scrape.data.ready ? "yes" : "no") : "…",
      kind: scrape.data ? (scrape.data.ready ? "ok" : "bad") : "plain",
      hint: "GET /readyz: the database answers and the node isn't shutting down.",
    },
    { label: "Queue depth", value: depth == null ? "—" : formatNumber(depth), kind: "plain", hint: "Deliveries pending: waiting, retrying or in flight." },
    {
      label: "Oldest due",
      value: oldest == null ? "—" : duration(oldest),
      kind: oldest == null ? "plain" : oldest > 300 ? "bad" : oldest > 30 ? "warn" : "ok",
      hint: "How long the longest-waiting due delivery has waited.",
    },
    {
      label: "Open circuits",
      value: circuits == null ? "—" : formatNumber(circuits),
      kind: circuits ? "warn" : "ok",
      hint: "Endpoints this node stopped sending to after consecutive failures, until a probe succeeds.",
    },
    {
      label: "Attempts",
      value: rates ? `${rates.attempts.toFixed(1)}/s` : "…",
      kind: "plain",
      hint: "Over the last refresh.",
    },
    {
      label: "Failing attempts",
      value: rates ? `${rates.failures.toFixed(1)}/s` : "…",
      kind: rates && rates.failures > 0 ? "warn" : "plain",
      hint: "Over the last refresh.",
    },
  ];
  const totals: [string, number | null][] = [
    ["Events published", m("outlet_events_published_total")],
    ["Deliveries succeeded", m("outlet_deliveries_total", { outcome: "succeeded" })],
    ["Deliveries failed", m("outlet_deliveries_total", { outcome: "failed" })],
    ["Deferred by open circuits", m("outlet_deliveries_deferred_total", { reason: "circuit_open" })],
    ["Function runs", m("outlet_function_invocations_total")],
    ["Hook invocations", m("outlet_hook_invocations_total")],
    ["Publishes throttled", m("outlet_publish_throttled_total")],
    ["Warm function engines", m("outlet_function_warm_engines")],
  ];
  return (
    <>
      <PageTitle>Node health</PageTitle>
      <p class="lede">This node's view, from its GET /metrics, refreshed every {REFRESH_MS / 1000} seconds. Other nodes report their own.</p>
      <ErrorNote error={scrape.error} />
      <ul class="tiles">
        {tiles.map((x) => (
          <li class={"tile " + x.kind} key={x.label}>
            <span class="tile-label">{x.label}</span>
            <span class="tile-value">{x.value}</span>
            <span class="tile-hint">{x.hint}</span>
          </li>
        ))}
      </ul>
      <h2>Since this node started</h2>
      <TableWrap label="Counters since start">
        <tbody>
          {totals.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td class="num">{v == null ? "—" : formatNumber(v)}</td>
            </tr>
          ))}
        </tbody>
      </TableWrap>
      <FailingEndpoints />
    </>
  );
}

const SCAN_TENANTS = 200;

// Failing and disabled endpoints are per tenant in the API; the scan asks
// each tenant (at most SCAN_TENANTS) when the operator wants it.
function FailingEndpoints() {
  const { api } = usePortal();
  const [found, setFound] = useState<{ t: Tenant; e: Endpoint }[] | null>(null);
  const [scanned, setScanned] = useState(0);
  const scan = useAction(async () => {
    const tenants = (await all((c) => api.listTenants(c), Math.ceil(SCAN_TENANTS / 100))).slice(0, SCAN_TENANTS);
    const per = await limited(tenants, 4, async (t) => {
      const eps = await all((c) => api.tenant(t.id).listEndpoints(c), 5);
      return eps.filter((e) => e.failing_since || e.disabled).map((e) => ({ t, e }));
    });
    setScanned(tenants.length);
    setFound(per.flat());
  });
  return (
    <section aria-labelledby="failing-title">
      <h2 id="failing-title">Failing endpoints</h2>
      <p class="muted">Endpoints whose every attempt has failed for a while, or that are disabled, across tenants.</p>
      <Button busy={scan.busy} onClick={() => scan.run()}>
        {found ? "Scan again" : "Scan tenants"}
      </Button>
      <ErrorNote error={scan.error} />
      {found && found.length === 0 && <Empty>None among {scanned} tenants.</Empty>}
      {found && found.length > 0 && (
        <TableWrap label="Failing endpoints">
          <thead>
            <tr>
              <th scope="col">Tenant</th>
              <th scope="col">Endpoint</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {found.map(({ t, e }) => (
              <tr key={e.id}>
                <td>
                  <Link to={`tenants/${seg(t.id)}/endpoints`}>{t.name || t.id}</Link>
                </td>
                <td class="wrap">
                  <Link class="url" to={`tenants/${seg(t.id)}/endpoints/${seg(e.id)}`}>
                    {e.url}
                  </Link>
                </td>
                <td>
                  {e.disabled ? <Badge kind="bad">disabled</Badge> : <Badge kind="warn">failing</Badge>}{" "}
                  <span class="muted">
                    since <Time value={e.disabled ? e.disabled_at : e.failing_since} />
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
    </section>
  );
}
