// The catalog of event types as a customer chooses from it: each type with
// its description, and its schema and sample on request.

import { useState } from "preact/hooks";
import type { EventType } from "./api";
import { Badge, Code, pretty } from "./ui";

export function EventTypeDetails({ type }: { type: EventType }) {
  return (
    <details class="type-details">
      <summary>Schema and sample</summary>
      {type.schema != null ? <Code label={`Schema of ${type.name}`} text={pretty(type.schema)} /> : <p class="muted">No schema: any JSON data is accepted.</p>}
      {type.sample != null ? <Code label={`Sample of ${type.name}`} text={pretty(type.sample)} /> : <p class="muted">No sample.</p>}
    </details>
  );
}

// A subscription: every type (an empty list), or chosen catalog types plus
// any names or `prefix.*` patterns typed in.
export function EventTypePicker(props: { catalog: EventType[]; value: string[]; onChange: (v: string[]) => void; disabled?: boolean }) {
  const names = new Set(props.catalog.map((t) => t.name));
  const chosen = new Set(props.value);
  const extra = props.value.filter((v) => !names.has(v));
  const [extraText, setExtraText] = useState(extra.join(", "));
  const [filter, setFilter] = useState("");
  const every = props.value.length === 0;

  const emit = (catalogChosen: Set<string>, extraList: string[]) => {
    props.onChange([...props.catalog.map((t) => t.name).filter((n) => catalogChosen.has(n)), ...extraList]);
  };
  const parseExtra = (s: string) =>
    s
      .split(/[\s,]+/)
      .map((x) => x.trim())
      .filter(Boolean);
  const shown = props.catalog.filter((t) => !filter || t.name.includes(filter) || t.description.toLowerCase().includes(filter.toLowerCase()));

  return (
    <fieldset class="picker" disabled={props.disabled}>
      <legend>Events to receive</legend>
      <label class="check">
        <input
          type="checkbox"
          checked={every}
          onChange={(e) => {
            if (e.currentTarget.checked) {
              setExtraText("");
              props.onChange([]);
            } else if (props.catalog.length) {
              props.onChange([props.catalog[0].name]);
            }
          }}
        />
        Every event type, including ones added later
      </label>
      {props.catalog.length > 6 && (
        <input class="picker-filter" type="search" aria-label="Filter event types" placeholder="Filter event types" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      )}
      <ul class="type-list">
        {shown.map((t) => (
          <li key={t.name}>
            <label class="check">
              <input
                type="checkbox"
                checked={chosen.has(t.name)}
                onChange={(e) => {
                  // Choosing a type while "every type" is on narrows to it.
                  const next = every ? new Set<string>() : new Set(chosen);
                  if (e.currentTarget.checked) next.add(t.name);
                  else next.delete(t.name);
                  emit(next, parseExtra(extraText));
                }}
              />
              <code>{t.name}</code>
              {t.deprecated && <Badge kind="warn">deprecated</Badge>}
            </label>
            {t.description && <p class="muted type-desc">{t.description}</p>}
            <EventTypeDetails type={t} />
          </li>
        ))}
        {props.catalog.length === 0 && <li class="muted">The catalog is empty: the platform hasn't described its events yet. Type names or patterns below.</li>}
      </ul>
      <div class="field">
        <label for="picker-extra">Other names or patterns</label>
        <input
          id="picker-extra"
          placeholder="invoice.*, user.created"
          value={extraText}
          onInput={(e) => {
            const v = e.currentTarget.value;
            setExtraText(v);
            const list = parseExtra(v);
            emit(every ? new Set<string>() : chosen, list);
          }}
        />
        <p class="hint">
          Comma-separated. A pattern like <code>invoice.*</code> matches every type that starts with <code>invoice.</code>. Choosing nothing
          means every type but Outlet's own <code>outlet.…</code> events, which are sent only when chosen.
        </p>
      </div>
    </fieldset>
  );
}
