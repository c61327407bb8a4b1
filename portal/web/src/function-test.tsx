// The test panel: run a deployed version once — as on an event of a type
// (its data prefilled from the type's sample) or at a hook (its input made
// from the hook's input schema) — with the tenant's real secrets, and see
// the output, logs, duration and error. Outlet records nothing of a test.

import { useEffect, useState } from "preact/hooks";
import { all, type OutletFunction, type TenantClient, type TestResult } from "./api";
import type { Binding } from "./completions";
import type { Catalog } from "./function-editor";
import { sampleOf } from "./schema";
import { eventSample } from "./templates";
import { Badge, Button, Code, ErrorNote, Field, parseJSON, pretty, useAction, useLoad, usePortal } from "./ui";

export function TestPanel(props: {
  t: TenantClient;
  fn: OutletFunction;
  catalog: Catalog | undefined;
  bound: Binding;
  versionsSeq: number;
  onRuntimeError: (version: number, message: string) => void;
}) {
  const { t, fn, catalog, bound } = props;
  const { canWrite } = usePortal();
  const types = catalog?.types ?? [];
  const hooks = catalog?.hooks ?? [];
  const [mode, setMode] = useState<"event" | "hook">(bound.hooks.length && !bound.events.length ? "hook" : "event");
  const [type, setType] = useState(bound.events[0]?.name ?? types[0]?.name ?? "");
  const [hook, setHook] = useState(bound.hooks[0]?.name ?? hooks[0]?.name ?? "");
  const [input, setInput] = useState("");
  const [version, setVersion] = useState("");
  const [result, setResult] = useState<TestResult | null>(null);
  const [inputError, setInputError] = useState("");
  const versions = useLoad(() => all((c) => t.listVersions(fn.name, c), 4), [t.id, fn.name, props.versionsSeq]);

  // The input starts from the chosen type's sample or the hook's schema, and
  // again whenever the choice changes.
  const prefill = (m: "event" | "hook", ty: string, h: string) => {
    if (m === "event") {
      const et = types.find((x) => x.name === ty);
      setInput(pretty(et ? (eventSample(et.schema, et.sample) ?? {}) : {}));
    } else {
      const hk = hooks.find((x) => x.name === h);
      setInput(pretty(hk ? (sampleOf(hk.input_schema) ?? {}) : {}));
    }
    setInputError("");
  };
  useEffect(() => prefill(mode, type, hook), [catalog]);

  const run = useAction(async () => {
    const parsed = parseJSON(input, mode === "event" ? "The event's data" : "The input");
    if (!parsed.ok) {
      setInputError(parsed.message);
      return;
    }
    setInputError("");
    const v = version ? Number(version) : undefined;
    const body = mode === "event" ? { event: { type, data: parsed.value }, version: v } : { input: parsed.value, hook: hook || undefined, version: v };
    setResult(null);
    const res = await t.testFunction(fn.name, body);
    setResult(res);
    if (res.error) props.onRuntimeError(res.version, res.error.message);
  });

  return (
    <div class="test-panel">
      <p class="muted">
        Runs a deployed version once, with your tenant's real secrets (and real <code>fetch</code> requests). Nothing is recorded: no delivery, no
        log.
      </p>
      <fieldset class="plain">
        <legend>Run it</legend>
        <div class="choices">
          <label class="check">
            <input
              type="radio"
              name="test-mode"
              checked={mode === "event"}
              onChange={() => {
                setMode("event");
                prefill("event", type, hook);
              }}
            />
            as on an event
          </label>
          <label class="check">
            <input
              type="radio"
              name="test-mode"
              checked={mode === "hook"}
              disabled={!hooks.length}
              onChange={() => {
                setMode("hook");
                prefill("hook", type, hook);
              }}
            />
            at a hook
          </label>
        </div>
      </fieldset>
      <div class="filters">
        {mode === "event" ? (
          <Field label="Event type">
            {(id) => (
              <input
                id={id}
                list="test-types"
                value={type}
                onChange={(e) => {
                  setType(e.currentTarget.value);
                  prefill("event", e.currentTarget.value, hook);
                }}
              />
            )}
          </Field>
        ) : (
          <Field label="Hook">
            {(id) => (
              <select
                id={id}
                value={hook}
                onChange={(e) => {
                  setHook(e.currentTarget.value);
                  prefill("hook", type, e.currentTarget.value);
                }}
              >
                {hooks.map((h) => (
                  <option key={h.name} value={h.name}>
                    {h.name}
                    {bound.hooks.some((b) => b.name === h.name) ? " (bound)" : ""}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <Field label="Version">
          {(id) => (
            <select id={id} value={version} onChange={(e) => setVersion(e.currentTarget.value)}>
              <option value="">active (v{fn.active_version})</option>
              {(versions.data ?? []).map((v) => (
                <option key={v.version} value={String(v.version)}>
                  v{v.version}
                  {v.active ? " (active)" : ""}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <datalist id="test-types">
        {types.map((ty) => (
          <option key={ty.name} value={ty.name} />
        ))}
      </datalist>
      <Field
        label={mode === "event" ? "The event's data (JSON)" : "The hook's input (JSON)"}
        hint={mode === "event" ? "The function gets the webhook's body: {type, timestamp, data}, with this as data." : "Made from the hook's input schema; edit it to try other cases."}
      >
        {(id) => <textarea id={id} class="mono" rows={10} spellcheck={false} value={input} onInput={(e) => setInput(e.currentTarget.value)} />}
      </Field>
      {inputError && (
        <p class="note error" role="alert">
          {inputError}
        </p>
      )}
      <div class="actions">
        <Button variant="primary" busy={run.busy} disabled={!canWrite || (mode === "event" ? !type : !hook)} onClick={() => run.run()}>
          Run test
        </Button>
        {!canWrite && <span class="muted small">A test is a run, which a read-only session can't start.</span>}
      </div>
      <ErrorNote error={run.error} />
      {result && <TestResultView r={result} />}
    </div>
  );
}

function TestResultView({ r }: { r: TestResult }) {
  return (
    <div class="test-result" aria-live="polite">
      <h3>
        {r.error ? <Badge kind="bad">{r.error.code}</Badge> : <Badge kind="ok">ok</Badge>} v{r.version} in {r.duration_ms} ms
      </h3>
      {r.error && (
        <pre class="code-block error-text" tabIndex={0} aria-label="Error">
          <code>{r.error.message}</code>
        </pre>
      )}
      <h4>Output</h4>
      <Code label="Output" text={r.output === undefined ? "null" : pretty(r.output)} />
      <h4>Logs{r.logs_truncated && <span class="muted small"> (cut at the limit)</span>}</h4>
      {r.logs ? (
        <pre class="code-block logs" tabIndex={0} aria-label="Logs">
          <code>{r.logs}</code>
        </pre>
      ) : (
        <p class="muted">Nothing logged.</p>
      )}
    </div>
  );
}
