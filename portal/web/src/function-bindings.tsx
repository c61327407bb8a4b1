// What a function runs on — event types (names or `prefix.*` patterns, as
// an endpoint's filters, but none means none) and hooks from the catalog —
// and its own limits. Both belong to a version: the page deploys them.

import { useState } from "preact/hooks";
import type { FunctionLimits } from "./api";
import type { Catalog } from "./function-editor";
import { Badge, Field } from "./ui";

export function BindingsEditor(props: {
  catalog: Catalog | undefined;
  events: string[];
  hooks: string[];
  disabled: boolean;
  onChange: (events: string[], hooks: string[]) => void;
}) {
  const types = props.catalog?.types ?? [];
  const hooks = props.catalog?.hooks ?? [];
  const names = new Set(types.map((t) => t.name));
  const chosen = new Set(props.events);
  const [extra, setExtra] = useState(props.events.filter((e) => !names.has(e)).join(", "));
  const parse = (s: string) =>
    s
      .split(/[\s,]+/)
      .map((x) => x.trim())
      .filter(Boolean);
  const emitEvents = (catalogChosen: Set<string>, extraList: string[]) =>
    props.onChange([...types.map((t) => t.name).filter((n) => catalogChosen.has(n)), ...extraList], props.hooks);
  const hookNames = new Set(hooks.map((h) => h.name));
  const unknownHooks = props.hooks.filter((h) => !hookNames.has(h));
  return (
    <div class="bindings">
      <fieldset class="picker" disabled={props.disabled}>
        <legend>Events it runs on</legend>
        <p class="hint">Each event of a chosen type is delivered to the function, retried like a webhook when it fails. None chosen: it runs on no event.</p>
        <ul class="type-list">
          {types.map((t) => (
            <li key={t.name}>
              <label class="check">
                <input
                  type="checkbox"
                  checked={chosen.has(t.name)}
                  onChange={(e) => {
                    const next = new Set(chosen);
                    if (e.currentTarget.checked) next.add(t.name);
                    else next.delete(t.name);
                    emitEvents(next, parse(extra));
                  }}
                />
                <code>{t.name}</code>
                {t.deprecated && <Badge kind="warn">deprecated</Badge>}
              </label>
              {t.description && <p class="muted type-desc">{t.description}</p>}
            </li>
          ))}
          {types.length === 0 && <li class="muted">The catalog has no event types yet. Type names or patterns below.</li>}
        </ul>
        <Field label="Other names or patterns" hint={<>Comma-separated; <code>invoice.*</code> matches every type that starts with <code>invoice.</code></>}>
          {(id) => (
            <input
              id={id}
              placeholder="invoice.*"
              value={extra}
              onInput={(e) => {
                setExtra(e.currentTarget.value);
                emitEvents(chosen, parse(e.currentTarget.value));
              }}
            />
          )}
        </Field>
      </fieldset>
      <fieldset class="picker" disabled={props.disabled}>
        <legend>Hooks it serves</legend>
        <p class="hint">At a hook the platform waits for the answer. Several functions on one hook run as a chain, in the order they were bound.</p>
        <ul class="type-list">
          {hooks.map((h) => (
            <li key={h.name}>
              <label class="check">
                <input
                  type="checkbox"
                  checked={props.hooks.includes(h.name)}
                  onChange={(e) => props.onChange(props.events, e.currentTarget.checked ? [...props.hooks, h.name] : props.hooks.filter((x) => x !== h.name))}
                />
                <code>{h.name}</code>
                {h.served_by === "endpoint" && <Badge kind="warn">served by a sync endpoint</Badge>}
              </label>
              {h.description && <p class="muted type-desc">{h.description}</p>}
            </li>
          ))}
          {unknownHooks.map((h) => (
            <li key={h}>
              <label class="check">
                <input type="checkbox" checked onChange={() => props.onChange(props.events, props.hooks.filter((x) => x !== h))} />
                <code>{h}</code> <Badge kind="bad">not in the catalog</Badge>
              </label>
            </li>
          ))}
          {hooks.length === 0 && unknownHooks.length === 0 && <li class="muted">The platform offers no hooks.</li>}
        </ul>
      </fieldset>
    </div>
  );
}

const LIMITS: { key: keyof FunctionLimits; label: string; unit: string; hint: string }[] = [
  { key: "timeout_ms", label: "Time limit on an event", unit: "ms", hint: "At a hook, the hook's deadline applies instead." },
  { key: "memory_mb", label: "Memory", unit: "MiB", hint: "The engine's heap and call stack (Wasm: its memory)." },
  { key: "stack_frames", label: "Call depth", unit: "frames", hint: "JavaScript only." },
  { key: "max_input_kb", label: "Input size", unit: "KiB", hint: "" },
  { key: "max_output_kb", label: "Output size", unit: "KiB", hint: "" },
  { key: "max_logs_kb", label: "Console output kept", unit: "KiB", hint: "" },
];

export function limitsOf(l: FunctionLimits | null | undefined): FunctionLimits {
  const out: FunctionLimits = {};
  for (const { key } of LIMITS) if (l?.[key]) out[key] = l[key];
  return out;
}

export function sameLimits(a: FunctionLimits, b: FunctionLimits | null | undefined): boolean {
  return LIMITS.every(({ key }) => (a[key] ?? 0) === (b?.[key] ?? 0));
}

export function LimitsEditor(props: { value: FunctionLimits; disabled: boolean; onChange: (l: FunctionLimits) => void }) {
  return (
    <fieldset class="limits" disabled={props.disabled}>
      <legend>Limits</legend>
      <p class="hint">Empty takes the platform's setting at each run. Outlet refuses a deploy past the platform's maximum, saying the range.</p>
      <div class="limit-grid">
        {LIMITS.map((l) => (
          <Field key={l.key} label={`${l.label} (${l.unit})`} hint={l.hint || undefined}>
            {(id) => (
              <input
                id={id}
                type="number"
                min={1}
                step={1}
                inputMode="numeric"
                placeholder="platform's"
                value={props.value[l.key] ?? ""}
                onInput={(e) => {
                  const n = Number.parseInt(e.currentTarget.value, 10);
                  const next = { ...props.value };
                  if (Number.isFinite(n) && n > 0) next[l.key] = n;
                  else delete next[l.key];
                  props.onChange(next);
                }}
              />
            )}
          </Field>
        ))}
      </div>
    </fieldset>
  );
}

// A version's limits in a few words, for tables.
export function limitsText(l: FunctionLimits | null | undefined): string {
  const parts = LIMITS.filter(({ key }) => l?.[key]).map(({ key, unit }) => `${key.replace(/_(ms|mb|kb)$/, "")} ${l![key]} ${unit}`);
  return parts.length ? parts.join(", ") : "platform's";
}
