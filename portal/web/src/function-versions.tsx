// A function's versions: every deploy, newest first, with what each ran on
// and its limits; any one's source; a line diff between any two; and
// rollback, which makes an earlier version active again with its bindings.

import { useEffect, useRef, useState } from "preact/hooks";
import { all, type FunctionVersion, type OutletFunction, type TenantClient } from "./api";
import { createEditor, type Language } from "./code-editor";
import { limitsText } from "./function-bindings";
import { diffLines, hunks } from "./line-diff";
import { Badge, Button, ConfirmButton, Empty, ErrorNote, Field, Loading, TableWrap, Time, useLoad, usePortal } from "./ui";

export function VersionsPanel(props: {
  t: TenantClient;
  fn: OutletFunction;
  seq: number;
  onRolledBack: (n: number) => void;
  onEdit: (v: FunctionVersion) => void;
}) {
  const { t, fn } = props;
  const { canWrite } = usePortal();
  const list = useLoad(() => all((c) => t.listVersions(fn.name, c), 4), [t.id, fn.name, props.seq, fn.active_version]);
  const [viewing, setViewing] = useState<number | null>(null);
  const [a, setA] = useState("");
  const [b, setB] = useState("");
  const versions = list.data ?? [];
  // Compare the version before the newest with the newest, until chosen.
  useEffect(() => {
    if (versions.length) {
      setB(String(versions[0].version));
      setA(String(versions[Math.min(1, versions.length - 1)].version));
    }
  }, [list.data]);

  if (list.error) return <ErrorNote error={list.error} />;
  if (!list.data) return <Loading what="versions" />;
  if (!versions.length) return <Empty>No versions.</Empty>;
  return (
    <>
      <TableWrap label="Versions">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Deployed</th>
            <th scope="col">Runs on</th>
            <th scope="col">Limits</th>
            <th scope="col">SHA-256</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version}>
              <td>
                v{v.version} {v.active && <Badge kind="ok">active</Badge>}
                <div class="muted small">{v.runtime}</div>
              </td>
              <td>
                <Time value={v.created_at} />
              </td>
              <td>
                <span class="types">
                  <Bindings v={v} />
                </span>
              </td>
              <td class="small">{limitsText(v.limits)}</td>
              <td>
                <code title={v.sha256}>{v.sha256.slice(0, 12)}</code>
              </td>
              <td class="actions-cell">
                <div class="cell-actions">
                  {v.runtime !== "wasm" && (
                    <Button onClick={() => setViewing(viewing === v.version ? null : v.version)} aria-expanded={viewing === v.version}>
                      {viewing === v.version ? "Hide source" : "Source"}
                    </Button>
                  )}
                  {canWrite && !v.active && (
                    <ConfirmButton
                      label="Roll back"
                      confirm={`Make v${v.version} active again?`}
                      onConfirm={async () => {
                        await t.rollback(fn.name, v.version);
                        props.onRolledBack(v.version);
                        await list.reload();
                      }}
                    />
                  )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </TableWrap>
      {viewing !== null && <VersionSource t={t} name={fn.name} version={viewing} onEdit={canWrite ? props.onEdit : undefined} />}

      <h2>Compare versions</h2>
      <div class="filters">
        <Field label="From">
          {(id) => (
            <select id={id} value={a} onChange={(e) => setA(e.currentTarget.value)}>
              {versions.map((v) => (
                <option key={v.version} value={String(v.version)}>
                  v{v.version}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="To">
          {(id) => (
            <select id={id} value={b} onChange={(e) => setB(e.currentTarget.value)}>
              {versions.map((v) => (
                <option key={v.version} value={String(v.version)}>
                  v{v.version}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      {a && b && <VersionDiff t={t} name={fn.name} a={Number(a)} b={Number(b)} />}
    </>
  );
}

function Bindings({ v }: { v: FunctionVersion }) {
  const events = v.events ?? [];
  const hooks = v.hooks ?? [];
  if (!events.length && !hooks.length) return <span class="muted">nothing bound</span>;
  return (
    <>
      {events.map((e) => (
        <Badge key={"e" + e} kind="info">
          {e}
        </Badge>
      ))}
      {hooks.map((h) => (
        <Badge key={"h" + h} kind="plain">
          hook {h}
        </Badge>
      ))}
    </>
  );
}

// Versions never change, so each is fetched once per page.
const cache = new Map<string, Promise<FunctionVersion>>();

function getVersion(t: TenantClient, name: string, n: number): Promise<FunctionVersion> {
  const key = `${t.id}\u0000${name}\u0000${n}`;
  let p = cache.get(key);
  if (!p) {
    p = t.getVersion(name, n);
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

function VersionSource({ t, name, version, onEdit }: { t: TenantClient; name: string; version: number; onEdit?: (v: FunctionVersion) => void }) {
  const v = useLoad(() => getVersion(t, name, version), [t.id, name, version]);
  return (
    <section class="card" aria-label={`Source of v${version}`}>
      <div class="section-title">
        <h2>Source of v{version}</h2>
        {onEdit && v.data && (
          <Button onClick={() => onEdit(v.data!)} title="Puts this version's code, bindings and limits into the editor">
            Edit from this version
          </Button>
        )}
      </div>
      <ErrorNote error={v.error} />
      {!v.data && !v.error && <Loading what={`v${version}`} />}
      {v.data && <SourceView text={v.data.source ?? ""} language={v.data.runtime === "typescript" ? "typescript" : "javascript"} label={`Source of v${version}`} />}
    </section>
  );
}

// A read-only editor: highlighting, search and selection, no changes.
function SourceView({ text, language, label }: { text: string; language: Language; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const ed = createEditor(host.current!, { doc: text, language, label, readOnly: true });
    return () => ed.destroy();
  }, [text, language]);
  return <div class="code-editor read-only" ref={host} />;
}

function VersionDiff({ t, name, a, b }: { t: TenantClient; name: string; a: number; b: number }) {
  const pair = useLoad(() => Promise.all([getVersion(t, name, a), getVersion(t, name, b)]), [t.id, name, a, b]);
  if (pair.error) return <ErrorNote error={pair.error} />;
  if (!pair.data) return <Loading what="the versions" />;
  const [va, vb] = pair.data;
  const meta: [string, string, string][] = [];
  const add = (what: string, x: string, y: string) => x !== y && meta.push([what, x, y]);
  add("runtime", va.runtime, vb.runtime);
  add("events", (va.events ?? []).join(", ") || "none", (vb.events ?? []).join(", ") || "none");
  add("hooks", (va.hooks ?? []).join(", ") || "none", (vb.hooks ?? []).join(", ") || "none");
  add("limits", limitsText(va.limits), limitsText(vb.limits));
  const wasm = va.runtime === "wasm" || vb.runtime === "wasm";
  const hs = wasm ? [] : hunks(diffLines(va.source ?? "", vb.source ?? ""));
  const codeSame = wasm ? va.sha256 === vb.sha256 : hs.length === 0;
  return (
    <div class="diff" aria-label={`Changes from v${a} to v${b}`}>
      {meta.length > 0 && (
        <ul class="diff-meta">
          {meta.map(([what, x, y]) => (
            <li key={what}>
              <strong>{what}</strong>: <del>{x}</del> → <ins>{y}</ins>
            </li>
          ))}
        </ul>
      )}
      {codeSame ? (
        <p class="muted">{a === b ? "The same version." : wasm ? "The same module (same SHA-256)." : "The code is the same."}</p>
      ) : wasm ? (
        <p>
          The module changed: <code>{va.sha256.slice(0, 12)}</code> → <code>{vb.sha256.slice(0, 12)}</code>
        </p>
      ) : (
        <div class="diff-code" role="region" aria-label="Line changes" tabIndex={0}>
          {hs.map((h, i) => (
            <div class="hunk" key={i}>
              <div class="hunk-head">{h.header}</div>
              {h.ops.map((o, j) => (
                <div key={j} class={"diff-line " + (o.op === "+" ? "add" : o.op === "-" ? "del" : "same")}>
                  <span class="ln" aria-hidden="true">
                    {o.a ?? ""}
                  </span>
                  <span class="ln" aria-hidden="true">
                    {o.b ?? ""}
                  </span>
                  <span class="sign">{o.op === "+" ? "+" : o.op === "-" ? "−" : " "}</span>
                  <span class="text">{o.text}</span>
                </div>
              ))}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
