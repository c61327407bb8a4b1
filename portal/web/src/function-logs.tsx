// A function's logs: its latest runs on events and at hooks, and new ones as
// they come (GET …/logs?after= the newest seen, every 2 s while followed and
// on screen), as plain text: console output is the tenant's own and may hold
// anything.

import { useEffect, useRef, useState } from "preact/hooks";
import type { Invocation, TenantClient } from "./api";
import { Button, ErrorNote, formatTime, usePoll } from "./ui";

const KEEP = 500; // runs kept on the page
const FIRST = 50; // runs shown on opening

export function FunctionLogs({ t, name, visible }: { t: TenantClient; name: string; visible: boolean }) {
  const [runs, setRuns] = useState<Invocation[] | null>(null);
  const [follow, setFollow] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const busy = useRef(false);
  const box = useRef<HTMLDivElement>(null);
  const atEnd = useRef(true);

  const load = async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      const last = runs?.[runs.length - 1];
      if (!last) {
        // Newest first; shown oldest first, as a terminal does.
        const page = await t.functionLogs(name, { limit: FIRST });
        setRuns([...page.data].reverse());
      } else {
        const page = await t.functionLogs(name, { after: last.id, limit: 100 });
        if (page.data.length) setRuns((r) => [...(r ?? []), ...page.data].slice(-KEEP));
      }
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      busy.current = false;
    }
  };

  useEffect(() => {
    if (visible && runs === null) void load();
  }, [visible]);
  usePoll(() => void load(), 2000, visible && follow && runs !== null);

  // Stay at the end as runs arrive, unless the person scrolled up to read.
  useEffect(() => {
    const el = box.current;
    if (el && atEnd.current) el.scrollTop = el.scrollHeight;
  }, [runs]);

  return (
    <div class="function-logs">
      <div class="toolbar">
        <label class="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} />
          Follow new runs
        </label>
        {!follow && <Button onClick={() => void load()}>Fetch new runs</Button>}
        <span class="muted small">Runs on events and at hooks; tests are not recorded.</span>
      </div>
      <ErrorNote error={error} />
      <div
        class="log-box"
        ref={box}
        role="log"
        aria-label={`Logs of ${name}`}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          atEnd.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {runs === null && <p class="muted">Loading logs…</p>}
        {runs !== null && runs.length === 0 && <p class="muted">No runs yet. {follow ? "New ones appear here." : ""}</p>}
        {runs?.map((r) => (
          <LogEntry key={r.id} r={r} />
        ))}
      </div>
    </div>
  );
}

function LogEntry({ r }: { r: Invocation }) {
  const ok = r.outcome === "ok";
  const trigger = r.trigger === "hook" ? `hook ${r.trigger_ref}` : `event ${r.trigger_ref}`;
  return (
    <pre class={"log-entry " + (ok ? "ok" : "bad")}>
      <span class="log-head">
        {formatTime(r.started_at)}  v{r.version}  {trigger}  {r.duration_ms} ms  <span class="outcome">{r.outcome}</span>
      </span>
      {r.error && "\n    " + indent(r.error)}
      {r.logs && "\n    " + indent(r.logs.replace(/\n$/, ""))}
      {r.logs_truncated && "\n    … (cut at the limit)"}
    </pre>
  );
}

function indent(s: string): string {
  return s.replace(/\n/g, "\n    ");
}
