// Usage: per day, what the customer's account did — events, deliveries,
// attempts, function runs and their CPU time. The operator also sees it
// across tenants.

import { useEffect, useRef, useState } from "preact/hooks";
import { all, type Tenant, type UsageDay, type UsageReport } from "./api";
import { Link, seg } from "./router";
import { type Bar, drawBars, formatNumber } from "./usage-chart";
import { Empty, ErrorNote, Field, limited, Loading, PageTitle, TableWrap, type TenantPageProps, useLoad, usePortal } from "./ui";

type Metric = Exclude<keyof UsageDay, "day">;

const METRICS: { key: Metric; label: string; unit: string }[] = [
  { key: "events", label: "Events", unit: "events" },
  { key: "deliveries", label: "Deliveries", unit: "deliveries" },
  { key: "attempts", label: "Attempts", unit: "attempts" },
  { key: "function_invocations", label: "Function runs", unit: "runs" },
  { key: "function_cpu_ms", label: "Function CPU", unit: "ms" },
];

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function addDays(day: string, n: number): string {
  const d = new Date(day + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return isoDay(d);
}

// Every day from since to before (exclusive), zero where the API left a day
// out for having no use.
export function fillDays(since: string, before: string, days: UsageDay[]): UsageDay[] {
  const by = new Map(days.map((d) => [d.day, d]));
  const out: UsageDay[] = [];
  for (let d = since; d < before && out.length < 400; d = addDays(d, 1)) {
    out.push(by.get(d) ?? { day: d, events: 0, deliveries: 0, attempts: 0, function_invocations: 0, function_cpu_ms: 0 });
  }
  return out;
}

function sumDays(reports: UsageReport[], since: string, before: string): UsageDay[] {
  const days = fillDays(since, before, []);
  const by = new Map(days.map((d) => [d.day, d]));
  for (const r of reports) {
    for (const d of r.days) {
      const acc = by.get(d.day);
      if (!acc) continue;
      for (const m of METRICS) acc[m.key] += d[m.key];
    }
  }
  return days;
}

function Chart({ title, bars, unit }: { title: string; bars: Bar[]; unit: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (host.current) drawBars(host.current, title, bars, unit);
  }, [title, unit, JSON.stringify(bars)]);
  return <div class="chart-host" ref={host} />;
}

function useRange() {
  const today = isoDay(new Date());
  const [since, setSince] = useState(addDays(today, -29));
  const [before, setBefore] = useState(addDays(today, 1));
  const picker = (
    <form class="filters" aria-label="Period" onSubmit={(e) => e.preventDefault()}>
      <Field label="From (UTC day)">{(id) => <input id={id} type="date" value={since} max={addDays(before, -1)} onChange={(e) => e.currentTarget.value && setSince(e.currentTarget.value)} />}</Field>
      <Field label="To (UTC day)">
        {(id) => <input id={id} type="date" value={addDays(before, -1)} min={since} onChange={(e) => e.currentTarget.value && setBefore(addDays(e.currentTarget.value, 1))} />}
      </Field>
    </form>
  );
  return { since, before, picker };
}

function UsageCharts({ days }: { days: UsageDay[] }) {
  return (
    <div class="charts">
      {METRICS.map((m) => {
        const total = days.reduce((s, d) => s + d[m.key], 0);
        return (
          <figure class="card" key={m.key}>
            <figcaption>
              <strong>{m.label}</strong> <span class="muted">{formatNumber(total)} {m.unit} in all</span>
            </figcaption>
            <Chart title={m.label} unit={m.unit} bars={days.map((d) => ({ label: d.day, value: d[m.key] }))} />
          </figure>
        );
      })}
    </div>
  );
}

function DaysTable({ days }: { days: UsageDay[] }) {
  const used = days.filter((d) => METRICS.some((m) => d[m.key] > 0));
  return (
    <details>
      <summary>As a table</summary>
      {used.length === 0 ? (
        <p class="muted">No use in this period.</p>
      ) : (
        <TableWrap label="Usage per day">
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              {METRICS.map((m) => (
                <th scope="col" class="num" key={m.key}>
                  {m.label}
                  {m.key === "function_cpu_ms" ? " (ms)" : ""}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {used.map((d) => (
              <tr key={d.day}>
                <td>{d.day}</td>
                {METRICS.map((m) => (
                  <td class="num" key={m.key}>
                    {d[m.key].toLocaleString()}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
    </details>
  );
}

export function UsagePage({ t }: TenantPageProps) {
  const range = useRange();
  const report = useLoad(() => t.usage(range.since, range.before), [t.id, range.since, range.before]);
  const days = report.data ? fillDays(report.data.since, report.data.before, report.data.days) : [];
  return (
    <>
      <PageTitle>Usage</PageTitle>
      <p class="lede">What your account did each day (UTC). Function runs and CPU time are written every few seconds; the rest at once.</p>
      {range.picker}
      <ErrorNote error={report.error} />
      {report.loading && !report.data && <Loading what="usage" />}
      {report.data && (
        <>
          <UsageCharts days={days} />
          <DaysTable days={days} />
        </>
      )}
    </>
  );
}

const MAX_TENANTS = 200;

// The operator's view: every tenant's usage for the period, summed, and a
// table of tenants by events. The API answers usage per tenant, so this asks
// each tenant in turn (at most MAX_TENANTS).
export function AllUsagePage() {
  const { api } = usePortal();
  const range = useRange();
  const data = useLoad(async () => {
    const tenants = await all((c) => api.listTenants(c), Math.ceil(MAX_TENANTS / 100));
    const shown = tenants.slice(0, MAX_TENANTS);
    const reports = await limited(shown, 4, (tn: Tenant) => api.tenant(tn.id).usage(range.since, range.before));
    return { tenants: shown, reports, more: tenants.length > MAX_TENANTS };
  }, [range.since, range.before]);
  const rows = data.data ? data.data.reports.map((r, i) => ({ t: data.data!.tenants[i], r })).sort((a, b) => b.r.total.events - a.r.total.events) : [];
  return (
    <>
      <PageTitle>Usage across tenants</PageTitle>
      {range.picker}
      <ErrorNote error={data.error} />
      {data.loading && !data.data && <Loading what="every tenant's usage" />}
      {data.data && (
        <>
          {data.data.more && <p class="note info">Showing the first {MAX_TENANTS} tenants.</p>}
          <UsageCharts days={sumDays(data.data.reports, range.since, range.before)} />
          {rows.length === 0 ? (
            <Empty>No tenants yet.</Empty>
          ) : (
            <TableWrap label="Usage by tenant">
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  {METRICS.map((m) => (
                    <th scope="col" class="num" key={m.key}>
                      {m.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map(({ t, r }) => (
                  <tr key={t.id}>
                    <td>
                      <Link to={`tenants/${seg(t.id)}/usage`}>{t.name || t.id}</Link>
                    </td>
                    {METRICS.map((m) => (
                      <td class="num" key={m.key}>
                        {r.total[m.key].toLocaleString()}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </TableWrap>
          )}
        </>
      )}
    </>
  );
}
