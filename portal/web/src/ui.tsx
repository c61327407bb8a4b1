// The portal's building blocks: loading state, errors, times, forms, JSON.
// Everything a tenant wrote (payloads, bodies, descriptions, logs) goes
// through JSX text, which Preact writes with textContent: never as HTML.

import { type ButtonHTMLAttributes, type ComponentChildren, createContext } from "preact";
import { useCallback, useContext, useEffect, useId, useLayoutEffect, useRef, useState } from "preact/hooks";
import { type Api, ApiError, type TenantClient } from "./api";
import type { Session } from "./session";

export interface Portal {
  session: Session;
  api: Api;
  canWrite: boolean;
}

export const PortalContext = createContext<Portal>(null as unknown as Portal);

export function usePortal(): Portal {
  return useContext(PortalContext);
}

// What every tenant page gets: the tenant's client, and the route prefix its
// links start with ("" in a tenant's session, "tenants/acme/" for the operator).
export interface TenantPageProps {
  t: TenantClient;
  base: string;
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
  setData: (d: T) => void;
}

// useLoad runs load when deps change and keeps the last answer; an answer to
// an older request never overwrites a newer one.
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const reload = useCallback(async () => {
    const n = ++seq.current;
    setLoading(true);
    try {
      const d = await load();
      if (n === seq.current) {
        setData(d);
        setError(null);
      }
    } catch (e) {
      if (n === seq.current) setError(e);
    } finally {
      if (n === seq.current) setLoading(false);
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload, setData };
}

// useAction wraps a button's work: busy while it runs, its error kept to show.
export function useAction<A extends unknown[]>(run: (...args: A) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const go = async (...args: A) => {
    setBusy(true);
    setError(null);
    try {
      await run(...args);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run: go, setError };
}

// usePoll calls tick every ms while the page is visible.
export function usePoll(tick: () => void, ms: number, on: boolean): void {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (!on) return;
    const id = window.setInterval(() => {
      if (!document.hidden) saved.current();
    }, ms);
    return () => window.clearInterval(id);
  }, [ms, on]);
}

export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const code = error instanceof ApiError && error.code !== "unknown" ? error.code : null;
  return (
    <p class="note error" role="alert">
      {code && <span class="code">{code}</span>} {messageOf(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

export function ago(iso: string, now = Date.now()): string {
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (Number.isNaN(s)) return iso;
  const abs = Math.abs(s);
  const unit = abs < 60 ? [abs, "s"] : abs < 3600 ? [Math.floor(abs / 60), "min"] : abs < 86400 ? [Math.floor(abs / 3600), "h"] : [Math.floor(abs / 86400), "d"];
  return s >= 0 ? `${unit[0]} ${unit[1]} ago` : `in ${unit[0]} ${unit[1]}`;
}

export function Time({ value }: { value: string | null | undefined }) {
  if (!value) return <span class="muted">—</span>;
  return (
    <time dateTime={value} title={value}>
      {formatTime(value)}
    </time>
  );
}

export function pretty(v: unknown): string {
  if (v === undefined) return "";
  return JSON.stringify(v, null, 2);
}

// A block of text a tenant or receiver wrote: shown verbatim, never parsed
// as HTML. Bodies that are JSON are indented for reading.
export function Code({ text, label }: { text: string; label?: string }) {
  let shown = text;
  try {
    const t = text.trim();
    if (t.startsWith("{") || t.startsWith("[")) shown = JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    // not JSON: as it is
  }
  return (
    <pre class="code-block" tabIndex={0} aria-label={label}>
      <code>{shown}</code>
    </pre>
  );
}

export function Field(props: { label: string; hint?: ComponentChildren; children: (id: string) => ComponentChildren; class?: string }) {
  const id = useId();
  return (
    <div class={"field " + (props.class ?? "")}>
      <label for={id}>{props.label}</label>
      {props.children(id)}
      {props.hint && <p class="hint">{props.hint}</p>}
    </div>
  );
}

export function Badge({ kind, children }: { kind: "ok" | "bad" | "warn" | "info" | "plain"; children: ComponentChildren }) {
  return <span class={"badge " + kind}>{children}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  const kind = status === "succeeded" ? "ok" : status === "failed" ? "bad" : "warn";
  return <Badge kind={kind}>{status}</Badge>;
}

type ButtonProps = Omit<ButtonHTMLAttributes, "type"> & { busy?: boolean; variant?: "primary" | "danger" | "plain"; type?: "button" | "submit" };

export function Button({ busy, variant = "plain", children, type = "button", disabled, ...rest }: ButtonProps) {
  return (
    <button {...rest} type={type} class={"btn " + variant} disabled={disabled || busy} aria-busy={busy ? "true" : undefined}>
      {children}
      {busy ? "…" : ""}
    </button>
  );
}

// A destructive button that asks once more, in place: window.confirm may be
// blocked inside a sandboxed iframe.
export function ConfirmButton(props: { label: string; confirm: string; onConfirm: () => Promise<void>; disabled?: boolean }) {
  const [asking, setAsking] = useState(false);
  const act = useAction(props.onConfirm);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <Button variant="danger" disabled={props.disabled} onClick={() => setAsking(true)}>
        {props.label}
      </Button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={props.confirm}>
      <span>{props.confirm}</span>
      <button ref={yes} type="button" class="btn danger" disabled={act.busy} onClick={() => act.run()}>
        Yes, {props.label.toLowerCase()}
      </button>
      <Button onClick={() => setAsking(false)}>Cancel</Button>
      <ErrorNote error={act.error} />
    </span>
  );
}

// parseJSON reads what a person typed into a JSON box, with a message that
// says where it broke.
export function parseJSON(text: string, what: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, message: `${what} isn't valid JSON: ${messageOf(e)}` };
  }
}

// Header rows edited as pairs; empty names are dropped.
export function HeadersEditor(props: { value: [string, string][]; onChange: (v: [string, string][]) => void; disabled?: boolean }) {
  const rows = props.value.length ? props.value : [["", ""] as [string, string]];
  const set = (i: number, k: 0 | 1, v: string) => {
    const next = rows.map((r) => [...r] as [string, string]);
    next[i][k] = v;
    props.onChange(next);
  };
  return (
    <fieldset class="headers">
      <legend>Custom headers</legend>
      {rows.map((r, i) => (
        <div class="header-row" key={i}>
          <input aria-label={`Header ${i + 1} name`} placeholder="x-api-key" value={r[0]} disabled={props.disabled} onInput={(e) => set(i, 0, e.currentTarget.value)} />
          <input aria-label={`Header ${i + 1} value`} placeholder="value" value={r[1]} disabled={props.disabled} onInput={(e) => set(i, 1, e.currentTarget.value)} />
          <Button aria-label={`Remove header ${i + 1}`} disabled={props.disabled} onClick={() => props.onChange(rows.filter((_, j) => j !== i))}>
            ✕
          </Button>
        </div>
      ))}
      <Button disabled={props.disabled} onClick={() => props.onChange([...rows, ["", ""]])}>
        Add header
      </Button>
    </fieldset>
  );
}

export function headersToRows(h: Record<string, string> | null | undefined): [string, string][] {
  return Object.entries(h ?? {});
}

export function rowsToHeaders(rows: [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of rows) if (k.trim()) out[k.trim()] = v;
  return out;
}

// A secret shown on request, hidden again on request; copying doesn't need
// it to stay on screen.
export function SecretValue({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <span class="secret-value">
      <code aria-label={label}>{value}</code>
      <Button
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(value);
            setCopied(true);
          } catch {
            setCopied(false);
          }
        }}
      >
        {copied ? "Copied" : "Copy"}
      </Button>
    </span>
  );
}

// PageTitle is the page's h1; it takes focus when the page changes so a
// screen reader announces where the person landed.
export function PageTitle({ children, actions }: { children: ComponentChildren; actions?: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (document.activeElement && document.activeElement !== document.body && !document.activeElement.closest("nav")) return;
    ref.current?.focus({ preventScroll: true });
  }, []);
  return (
    <div class="page-title">
      <h1 ref={ref} tabIndex={-1}>
        {children}
      </h1>
      {actions && <div class="actions">{actions}</div>}
    </div>
  );
}

// A table. On a narrow screen a table with column headers shows each row as
// a small card, every cell labelled with its column (a data-label the
// stylesheet shows); others scroll sideways instead of squeezing.
export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  const ref = useRef<HTMLTableElement>(null);
  useLayoutEffect(() => {
    const table = ref.current;
    if (!table) return;
    const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent ?? "");
    table.classList.toggle("stackable", heads.length > 0);
    if (!heads.length) return;
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, i) => cell.setAttribute("data-label", heads[i] ?? ""));
    }
  });
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table ref={ref}>{children}</table>
    </div>
  );
}

// Runs fns with at most n at once, in order of the list.
export async function limited<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

// ISO time from a datetime-local input's value (local time), or "".
export function fromLocalInput(v: string): string {
  if (!v) return "";
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

export function toLocalInput(iso: string | undefined | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
