// A Wasm function has no source Outlet can show: the page shows what Outlet
// knows of the active module and takes a new .wasm to deploy in its place.

import { useState } from "preact/hooks";
import type { FunctionVersion } from "./api";
import { limitsText } from "./function-bindings";
import { Badge, Field, Time } from "./ui";

export interface WasmFile {
  name: string;
  base64: string;
  size: number;
}

// Outlet takes at most 8 MiB of code (outlet.MaxFunctionCode).
const MAX_BYTES = 8 << 20;

export function WasmPanel(props: { version: FunctionVersion | null; file: WasmFile | null; onFile: (f: WasmFile | null) => void; canWrite: boolean }) {
  const v = props.version;
  const [error, setError] = useState("");
  return (
    <div class="wasm">
      {v ? (
        <dl class="facts">
          <dt>Runtime</dt>
          <dd>Wasm (Extism plugin)</dd>
          <dt>Version</dt>
          <dd>
            v{v.version} {v.active && <Badge kind="ok">active</Badge>}
          </dd>
          <dt>SHA-256</dt>
          <dd>
            <code>{v.sha256}</code>
          </dd>
          <dt>Deployed</dt>
          <dd>
            <Time value={v.created_at} />
          </dd>
          <dt>Runs on</dt>
          <dd>{[...(v.events ?? []), ...(v.hooks ?? []).map((h) => `hook ${h}`)].join(", ") || "nothing bound"}</dd>
          <dt>Limits</dt>
          <dd>{limitsText(v.limits)}</dd>
        </dl>
      ) : (
        <p class="muted">A Wasm function is an Extism plugin exporting <code>handle</code>; build it with an Extism PDK (Go, Rust, …).</p>
      )}
      {props.canWrite && (
        <Field
          label={v ? "Replace the module" : "The module"}
          hint="A .wasm file, up to 8 MiB. Outlet compiles it when you deploy, and refuses imports other than Extism's and WASI's."
        >
          {(id) => (
            <input
              id={id}
              type="file"
              accept=".wasm,application/wasm"
              onChange={async (e) => {
                const f = e.currentTarget.files?.[0];
                setError("");
                props.onFile(null);
                if (!f) return;
                if (f.size > MAX_BYTES) {
                  setError(`${f.name} is ${f.size.toLocaleString()} bytes; a module may be 8 MiB at most.`);
                  return;
                }
                const bytes = new Uint8Array(await f.arrayBuffer());
                if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
                  setError(`${f.name} isn't a WebAssembly module (it doesn't start with \\0asm).`);
                  return;
                }
                props.onFile({ name: f.name, size: f.size, base64: toBase64(bytes) });
              }}
            />
          )}
        </Field>
      )}
      {error && (
        <p class="note error" role="alert">
          {error}
        </p>
      )}
      {props.file && (
        <p class="note info">
          Ready to deploy <code>{props.file.name}</code> ({props.file.size.toLocaleString()} bytes) with the bindings and limits under {"“Runs on & limits”"}.
        </p>
      )}
    </div>
  );
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
