// A function's page, loaded on demand (a chunk of its own: only function
// pages pay for CodeMirror): the editor with completions from the catalog,
// deploy with compile errors marked in the code, what it runs on and its
// limits, a test panel, versions with diffs and rollback, and its logs,
// followed live. A name without a function opens a new one from a template.
// A Wasm function shows what Outlet knows of it and takes a new .wasm.

import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, type Deploy, type EventType, type FunctionLimits, type FunctionTypes, type FunctionVersion, type OutletFunction, type TenantClient, type TenantHook } from "./api";
import { createEditor, type Editor, type Language } from "./code-editor";
import { type Binding, inputSchema, type Scope } from "./completions";
import { matchEventType } from "./event-types";
import { BindingsEditor, LimitsEditor, limitsOf, sameLimits } from "./function-bindings";
import { FunctionLogs } from "./function-logs";
import { TestPanel } from "./function-test";
import { VersionsPanel } from "./function-versions";
import { WasmPanel } from "./function-wasm";
import { Link, navigate, useLocation } from "./router";
import { hasFeature } from "./session";
import { type Runtime, type Start, template } from "./templates";
import { Badge, Button, ConfirmButton, ErrorNote, Loading, messageOf, PageTitle, type TenantPageProps, Time, useLoad, usePortal } from "./ui";

export interface Catalog {
  types: EventType[];
  hooks: TenantHook[];
  secrets: string[];
  // Outlet's TypeScript declarations, for templates; null if unavailable.
  code: FunctionTypes | null;
}

// The catalog and the secrets' names, for completions, templates, the test
// panel and the bindings. Secrets are names only; a session without the
// secrets feature completes none.
function useCatalog(t: TenantClient) {
  const { session } = usePortal();
  return useLoad(async (): Promise<Catalog> => {
    const [types, hooks, secrets, code] = await Promise.all([
      t.listEventTypes().then((p) => p.data),
      t.listHooks().then((p) => p.data),
      hasFeature(session, "secrets") ? t.listSecrets().then((p) => p.data.map((s) => s.name), () => []) : Promise.resolve([]),
      t.functionTypes().catch(() => null),
    ]);
    return { types, hooks, secrets, code };
  }, [t.id]);
}

// The catalog entries a function's bindings name: event patterns matched as
// Outlet matches them (an empty list is none, unlike an endpoint's).
export function boundTypes(types: EventType[], events: string[]): EventType[] {
  return events.length ? types.filter((ty) => matchEventType(events, ty.name)) : [];
}

export function binding(c: Catalog | undefined, events: string[], hooks: string[]): Binding {
  if (!c) return { events: [], hooks: [] };
  return { events: boundTypes(c.types, events), hooks: c.hooks.filter((h) => hooks.includes(h.name)) };
}

// What the page is about to deploy.
export interface Draft {
  runtime: Deploy["runtime"];
  events: string[];
  hooks: string[];
  limits: FunctionLimits;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export default function FunctionEditor({ t, base, name }: TenantPageProps & { name: string }) {
  const { canWrite } = usePortal();
  const loc = useLocation();
  const fn = useLoad(async () => {
    try {
      return await t.getFunction(name);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }, [t.id, name]);
  const catalog = useCatalog(t);
  const crumbs = (
    <p class="crumbs">
      <Link to={`${base}functions`}>Functions</Link> /
    </p>
  );
  if (fn.error) return <ErrorNote error={fn.error} />;
  if (fn.data === undefined) return <Loading what="the function" />;
  if (fn.data === null) {
    const validName = NAME.test(name);
    if (!canWrite || !validName) {
      return (
        <>
          {crumbs}
          <PageTitle>
            <code>{name}</code>
          </PageTitle>
          <p class="note info">
            {!validName
              ? "A function's name is 1 to 64 letters, digits, '_', '.' or '-'."
              : "There is no function by this name, and this session is read-only, so it can't create one."}
          </p>
        </>
      );
    }
    if (!catalog.data && !catalog.error) return <Loading what="the catalog" />;
  }
  // One workbench from the new function's template to its later versions:
  // the first deploy doesn't replace the editor, so its undo history, place
  // and the page's note stay.
  const runtime = loc.query.get("runtime");
  return (
    <>
      {crumbs}
      <Workbench
        key={name}
        t={t}
        base={base}
        fn={fn.data}
        name={name}
        start={fn.data ? undefined : startFrom(loc.query, catalog.data)}
        startRuntime={runtime === "javascript" || runtime === "wasm" ? runtime : "typescript"}
        catalog={catalog.data}
        catalogError={catalog.error}
        reload={() => fn.reload()}
      />
    </>
  );
}

// ---- A new function starts from a template.

// The start a link asks for: ?start=event:invoice.paid or hook:checkout.discount.
function startFrom(q: URLSearchParams, c: Catalog | undefined): Start {
  const s = q.get("start") ?? "";
  const [kind, ...rest] = s.split(":");
  const n = rest.join(":");
  if (c && kind === "event") {
    const ty = c.types.find((x) => x.name === n);
    if (ty) return { kind: "event", name: ty.name, schema: ty.schema, sample: ty.sample };
  }
  if (c && kind === "hook") {
    const h = c.hooks.find((x) => x.name === n);
    if (h) return { kind: "hook", name: h.name, description: h.description, input_schema: h.input_schema, output_schema: h.output_schema };
  }
  return { kind: "blank" };
}

function startKey(s: Start): string {
  return s.kind === "blank" ? "" : `${s.kind}:${s.name}`;
}

// ---- The page of a function, or of one about to be created.

type Tab = "code" | "runs" | "test" | "versions" | "logs";

interface Outcome {
  kind: "ok" | "same" | "error";
  text: string;
  error?: unknown;
}

interface WorkbenchProps {
  t: TenantClient;
  base: string;
  fn: OutletFunction | null; // null until the first deploy creates it
  name: string;
  start?: Start;
  startRuntime?: Deploy["runtime"];
  catalog: Catalog | undefined;
  catalogError: unknown;
  reload: () => void;
}

function Workbench(props: WorkbenchProps) {
  const { t, fn, catalog } = props;
  const { canWrite } = usePortal();
  const name = props.name;
  const active = useLoad(() => (fn ? t.getVersion(name, fn.active_version) : Promise.resolve(null)), [t.id, name, fn?.active_version]);
  const loc = useLocation();
  // ?tab=versions opens on a tab: a link can point at a function's logs.
  const [tab, setTab] = useState<Tab>(() => {
    const q = loc.query.get("tab");
    return q === "runs" || q === "test" || q === "versions" || q === "logs" ? q : "code";
  });
  const [draft, setDraft] = useState<Draft | null>(null);
  const [code, setCode] = useState<string | null>(null); // the editor's text, as last typed
  const [wasm, setWasm] = useState<{ name: string; base64: string; size: number } | null>(null);
  const [wasmSeq, setWasmSeq] = useState(0);
  const [deploying, setDeploying] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [versionsSeq, setVersionsSeq] = useState(0);
  const editor = useRef<Editor | null>(null);
  const [start, setStart] = useState<Start>(props.start ?? { kind: "blank" });
  // The text the editor last took from a version, and whether the next
  // active version's text replaces the editor's (after a rollback).
  const synced = useRef<string | null>(null);
  const replace = useRef(false);

  // The draft starts as the active version (or the template's bindings), and
  // follows it: after a deploy the editor keeps what was typed since (its
  // undo history too); after a rollback it takes the version's text — as
  // one change, which Ctrl-Z undoes.
  useEffect(() => {
    if (fn && active.data) {
      const v = active.data;
      setDraft({ runtime: v.runtime as Draft["runtime"], events: v.events ?? [], hooks: v.hooks ?? [], limits: limitsOf(v.limits) });
      const src = v.source ?? "";
      const ed = editor.current;
      const now = ed ? ed.text() : code;
      if (now === null || replace.current || now === synced.current) {
        setCode(src);
        if (ed && v.runtime !== "wasm") {
          if (ed.text() !== src) ed.setText(src);
          ed.setLanguage(v.runtime as Language);
        }
      }
      synced.current = src;
      replace.current = false;
    } else if (!fn && !draft) {
      const runtime = props.startRuntime ?? "typescript";
      setDraft({
        runtime,
        events: start.kind === "event" ? [start.name] : [],
        hooks: start.kind === "hook" ? [start.name] : [],
        limits: {},
      });
      setCode(runtime === "wasm" ? "" : template(start, runtime, catalog?.code ?? null));
    }
  }, [active.data]);

  const bindingNow = useMemo(() => binding(catalog, draft?.events ?? [], draft?.hooks ?? []), [catalog, draft?.events, draft?.hooks]);
  const scope = useRef<Scope | null>(null);
  scope.current = catalog ? { input: inputSchema(bindingNow), secrets: catalog.secrets } : null;

  const v = active.data;
  const dirty =
    !!draft &&
    (!v ||
      (draft.runtime === "wasm" ? !!wasm : code !== (v.source ?? "")) ||
      draft.runtime !== v.runtime ||
      !same(draft.events, v.events ?? []) ||
      !same(draft.hooks, v.hooks ?? []) ||
      !sameLimits(draft.limits, v.limits));

  // A page with changes not deployed asks before the tab closes.
  useEffect(() => {
    if (!dirty || !canWrite) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty, canWrite]);

  const deploy = async () => {
    if (!draft || deploying || !canWrite) return;
    const text = editor.current?.text() ?? code ?? "";
    const body: Deploy = { runtime: draft.runtime, events: draft.events, hooks: draft.hooks, ...draft.limits };
    if (draft.runtime === "wasm") {
      if (!wasm) {
        setOutcome({ kind: "error", text: "Choose a .wasm file to deploy." });
        return;
      }
      body.wasm = wasm.base64;
    } else {
      body.code = text;
    }
    setDeploying(true);
    setOutcome(null);
    editor.current?.clearProblems();
    try {
      const was = fn?.active_version ?? 0;
      const got = await t.deploy(name, body);
      if (fn && got.version === was) {
        setOutcome({ kind: "same", text: `No change: v${got.version} is active and already runs exactly this.` });
      } else {
        setOutcome({ kind: "ok", text: `Deployed v${got.version}${fn ? "" : ": the function is created"}. It is active now.` });
      }
      if (body.wasm) {
        // The module is deployed (or was already): a fresh file field.
        setWasm(null);
        setWasmSeq((n) => n + 1);
      }
      setVersionsSeq((n) => n + 1);
      props.reload();
    } catch (e) {
      const message = messageOf(e);
      const marked = e instanceof ApiError && e.status === 422 && draft.runtime !== "wasm" && !!editor.current?.showProblem(message);
      if (marked) setTab("code");
      setOutcome({ kind: "error", text: marked ? "The code doesn't compile: the problem is marked in the editor." : "", error: e });
    } finally {
      setDeploying(false);
    }
  };

  if (fn && active.error) return <ErrorNote error={active.error} />;
  if (!draft) return <Loading what="the function's code" />;
  const isWasm = draft.runtime === "wasm";
  const tabs: [Tab, string][] = [
    ["code", isWasm ? "Module" : "Code"],
    ["runs", "Runs on & limits"],
    ["test", "Test"],
    ...(fn ? ([["versions", "Versions"], ["logs", "Logs"]] as [Tab, string][]) : []),
  ];

  return (
    <>
      <PageTitle
        actions={
          canWrite && (
            <>
              {dirty && fn && <Badge kind="warn">not deployed</Badge>}
              <Button variant="primary" busy={deploying} onClick={deploy} title="Deploy (Ctrl-S / ⌘-S in the editor)">
                {fn ? "Deploy" : "Create and deploy"}
              </Button>
            </>
          )
        }
      >
        <code>{name}</code>
      </PageTitle>
      <dl class="facts">
        <dt>Runtime</dt>
        <dd>{fn ? fn.runtime : "new"}</dd>
        {fn && (
          <>
            <dt>Active</dt>
            <dd>
              v{fn.active_version}
              {fn.latest_version !== fn.active_version && <span class="muted"> (latest v{fn.latest_version})</span>}
            </dd>
            <dt>Updated</dt>
            <dd>
              <Time value={fn.updated_at} />
            </dd>
          </>
        )}
      </dl>
      <div aria-live="polite">
        {outcome?.kind === "ok" && <p class="note ok">{outcome.text}</p>}
        {outcome?.kind === "same" && <p class="note info">{outcome.text}</p>}
        {outcome?.kind === "error" && (outcome.error ? <ErrorNote error={outcome.error} /> : <p class="note error">{outcome.text}</p>)}
        {outcome?.kind === "error" && outcome.error != null && outcome.text && <p class="muted small">{outcome.text}</p>}
      </div>
      <ErrorNote error={props.catalogError} />

      <div class="tabs" role="tablist" aria-label="Function">
        {tabs.map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`panel-${id}`}
            tabIndex={tab === id ? 0 : -1}
            class="tab"
            onClick={() => setTab(id)}
            onKeyDown={(e) => {
              const i = tabs.findIndex(([x]) => x === id);
              const to = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : e.key === "Home" ? 0 : e.key === "End" ? tabs.length - 1 : null;
              if (to === null) return;
              e.preventDefault();
              const next = tabs[(to + tabs.length) % tabs.length][0];
              setTab(next);
              document.getElementById(`tab-${next}`)?.focus();
            }}
          >
            {label}
          </button>
        ))}
      </div>

      <Panel id="code" tab={tab}>
        {isWasm ? (
          <WasmPanel key={wasmSeq} version={v ?? null} file={wasm} onFile={setWasm} canWrite={canWrite} />
        ) : (
          <CodePanel
            name={name}
            code={code ?? ""}
            runtime={draft.runtime as Language}
            editor={editor}
            scope={() => scope.current}
            onChange={setCode}
            onDeploy={deploy}
            canWrite={canWrite}
            onRuntime={(r) => setDraft({ ...draft, runtime: r })}
            start={fn ? undefined : start}
            catalog={catalog}
            onStart={(s, r) => {
              setStart(s);
              setDraft({ ...draft, runtime: r, events: s.kind === "event" ? [s.name] : [], hooks: s.kind === "hook" ? [s.name] : [] });
              if (r !== "wasm") {
                const text = template(s, r, catalog?.code ?? null);
                setCode(text);
                editor.current?.setText(text);
                editor.current?.setLanguage(r);
              }
            }}
          />
        )}
      </Panel>
      <Panel id="runs" tab={tab}>
        <BindingsEditor key={v?.version ?? 0} catalog={catalog} events={draft.events} hooks={draft.hooks} disabled={!canWrite} onChange={(events, hooks) => setDraft({ ...draft, events, hooks })} />
        <LimitsEditor value={draft.limits} disabled={!canWrite} onChange={(limits) => setDraft({ ...draft, limits })} />
        <p class="muted small">What a function runs on and its limits belong to a version: they take effect when you deploy.</p>
        {fn && canWrite && <DeleteFunction t={t} base={props.base} name={name} />}
      </Panel>
      <Panel id="test" tab={tab}>
        {fn ? (
          <TestPanel
            t={t}
            fn={fn}
            catalog={catalog}
            bound={binding(catalog, v?.events ?? [], v?.hooks ?? [])}
            versionsSeq={versionsSeq}
            onRuntimeError={(version, message) => {
              // Mark a run's error in the code when the editor shows that version's text unchanged.
              if (!dirty && version === v?.version) editor.current?.showProblem(message, "warning");
            }}
          />
        ) : (
          <p class="muted">Deploy the function first: tests run a deployed version, with your tenant's real secrets, and record nothing.</p>
        )}
      </Panel>
      {fn && (
        <>
          <Panel id="versions" tab={tab}>
            <VersionsPanel
              t={t}
              fn={fn}
              seq={versionsSeq}
              onRolledBack={(n) => {
                replace.current = true;
                setOutcome({ kind: "ok", text: `Rolled back: v${n} is active again, with its code, bindings and limits; the editor holds its code.` });
                props.reload();
              }}
              onEdit={(version: FunctionVersion) => {
                if (version.source == null) return;
                setCode(version.source);
                editor.current?.setText(version.source);
                setDraft({ ...draft, runtime: version.runtime as Draft["runtime"], events: version.events ?? [], hooks: version.hooks ?? [], limits: limitsOf(version.limits) });
                editor.current?.setLanguage(version.runtime as Language);
                setTab("code");
                setOutcome({ kind: "same", text: `The editor holds v${version.version}'s code, bindings and limits now; deploy to make them a new version.` });
              }}
            />
          </Panel>
          <Panel id="logs" tab={tab}>
            <FunctionLogs t={t} name={name} visible={tab === "logs"} />
          </Panel>
        </>
      )}
    </>
  );
}

function same(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// Panels stay mounted while hidden, so the editor keeps its text, undo
// history and place when the person looks at another tab.
function Panel({ id, tab, children }: { id: Tab; tab: Tab; children: ComponentChildren }) {
  return (
    <section class="tab-panel" role="tabpanel" id={`panel-${id}`} aria-labelledby={`tab-${id}`} hidden={tab !== id}>
      {children}
    </section>
  );
}

function CodePanel(props: {
  name: string;
  code: string;
  runtime: Language;
  editor: { current: Editor | null };
  scope: () => Scope | null;
  onChange: (s: string) => void;
  onDeploy: () => void;
  onRuntime: (r: Runtime) => void;
  canWrite: boolean;
  start?: Start;
  catalog: Catalog | undefined;
  onStart: (s: Start, r: Deploy["runtime"]) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const deploy = useRef(props.onDeploy);
  deploy.current = props.onDeploy;
  useEffect(() => {
    const ed = createEditor(host.current!, {
      doc: props.code,
      language: props.runtime,
      label: `Code of the function ${props.name}`,
      readOnly: !props.canWrite,
      scope: props.scope,
      onChange: props.onChange,
      onSave: () => deploy.current(),
    });
    props.editor.current = ed;
    return () => {
      ed.destroy();
      props.editor.current = null;
    };
  }, []);
  return (
    <>
      {props.start && props.catalog && <StartChooser catalog={props.catalog} start={props.start} runtime={props.runtime} onStart={props.onStart} />}
      <div class="toolbar editor-bar">
        <label class="inline">
          Language{" "}
          <select
            value={props.runtime}
            disabled={!props.canWrite}
            onChange={(e) => {
              const r = e.currentTarget.value as Runtime;
              props.onRuntime(r);
              props.editor.current?.setLanguage(r);
            }}
          >
            <option value="typescript">TypeScript</option>
            <option value="javascript">JavaScript</option>
          </select>
        </label>
        <span class="muted small">
          {props.canWrite ? (
            <>
              Ctrl-Space completes (<code>event.</code>, <code>ctx.</code>, <code>ctx.secrets.</code>), Ctrl-F searches, Ctrl-S deploys; Esc then
              Tab leaves the editor.
            </>
          ) : (
            "Ctrl-F searches; Esc then Tab leaves the editor."
          )}
        </span>
      </div>
      <div class="code-editor" ref={host} />
      {!props.canWrite && <p class="muted small">This session is read-only: the code can be read, not changed.</p>}
    </>
  );
}

// The template a new function starts from: blank, an event type's or a
// hook's, in TypeScript, JavaScript or as a Wasm module to upload.
function StartChooser(props: { catalog: Catalog; start: Start; runtime: Language; onStart: (s: Start, r: Deploy["runtime"]) => void }) {
  const [key, setKey] = useState(startKey(props.start));
  const [runtime, setRuntime] = useState<Deploy["runtime"]>(props.runtime);
  const chosen = (): Start => startFrom(new URLSearchParams(key ? { start: key } : {}), props.catalog);
  return (
    <fieldset class="start">
      <legend>Start from a template</legend>
      <div class="row">
        <label class="inline">
          Template{" "}
          <select value={key} onChange={(e) => setKey(e.currentTarget.value)}>
            <option value="">Blank</option>
            {props.catalog.types.length > 0 && (
              <optgroup label="On an event">
                {props.catalog.types.map((ty) => (
                  <option key={ty.name} value={`event:${ty.name}`}>
                    {ty.name}
                  </option>
                ))}
              </optgroup>
            )}
            {props.catalog.hooks.length > 0 && (
              <optgroup label="At a hook">
                {props.catalog.hooks.map((h) => (
                  <option key={h.name} value={`hook:${h.name}`}>
                    {h.name}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </label>
        <label class="inline">
          Runtime{" "}
          <select value={runtime} onChange={(e) => setRuntime(e.currentTarget.value as Deploy["runtime"])}>
            <option value="typescript">TypeScript</option>
            <option value="javascript">JavaScript</option>
            <option value="wasm">Wasm (upload a module)</option>
          </select>
        </label>
        <Button onClick={() => props.onStart(chosen(), runtime)}>Use this template</Button>
      </div>
      <p class="hint">The template replaces the code in the editor, and binds the function to the event type or hook.</p>
    </fieldset>
  );
}

function DeleteFunction({ t, base, name }: { t: TenantClient; base: string; name: string }) {
  return (
    <div class="danger-zone">
      <h2>Delete</h2>
      <p class="muted">Deletes the function, every version, its deliveries and its logs. It can't be undone.</p>
      <ConfirmButton
        label="Delete function"
        confirm={`Delete ${name} and all its versions?`}
        onConfirm={async () => {
          await t.deleteFunction(name);
          navigate(`${base}functions`);
        }}
      />
    </div>
  );
}
