// The README's examples work: those marked `<!-- readme-test: run -->` run,
// in order as one module, against the server under test, and every marked
// one type-checks as TypeScript against the SDK's declarations (with these
// tests, in the same tsc run).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { needsServer, server } from "./helpers.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const marker = /^<!-- readme-test: (run|typecheck) -->$/;

/**
 * The README's marked blocks, in order.
 * @returns {Promise<{ mode: string, line: number, code: string }[]>}
 */
async function examples() {
  const lines = (await readFile(path.join(root, "README.md"), "utf8")).split("\n");
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const m = marker.exec(lines[i] ?? "");
    if (!m) continue;
    const fence = lines[i + 1] ?? "";
    assert.match(fence, /^```(js|ts)$/, `README.md:${i + 2}: a readme-test marker must be followed by a js or ts block`);
    const end = lines.indexOf("```", i + 2);
    assert.ok(end > 0, `README.md:${i + 2}: the block is not closed`);
    blocks.push({ mode: m[1] ?? "", line: i + 3, code: lines.slice(i + 2, end).join("\n") });
    i = end;
  }
  return blocks;
}

/**
 * A directory inside the package (so its imports of "@outlethq/outlet"
 * resolve to this package), removed when the test ends.
 * @param {import("node:test").TestContext} t
 */
async function scratch(t) {
  const dir = await mkdtemp(path.join(root, "test", ".readme-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("the README's examples type-check, as do these tests", async (t) => {
  const blocks = await examples();
  assert.ok(blocks.length >= 5, "README.md has fewer marked examples than expected");
  const dir = await scratch(t);
  const runs = blocks.filter((b) => b.mode === "run").map((b) => `// README.md:${b.line}\n${b.code}`);
  await writeFile(path.join(dir, "run.ts"), runs.join("\n\n") + "\n");
  for (const [i, b] of blocks.entries()) {
    if (b.mode === "typecheck") await writeFile(path.join(dir, `example-${i}.ts`), `// README.md:${b.line}\n${b.code}\nexport {};\n`);
  }
  await writeFile(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({ extends: "../tsconfig.json", include: ["*.ts", "../*.js"] }),
  );
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  await run(process.execPath, [tsc, "-p", path.join(dir, "tsconfig.json")], { cwd: root }).catch((err) => {
    assert.fail(`tsc found errors in README.md's examples (run.ts holds the run blocks, in order) or in test/:\n${err.stdout}${err.stderr}`);
  });
});

test("the README's examples run against the server", needsServer, async (t) => {
  const suffix = randomBytes(4).toString("hex");
  // Names the examples create are made unique, so they run again on the
  // same server: "acme" becomes "acme-1a2b3c4d", and so on.
  const names = ["acme", "checkout.discount"];
  let code = (await examples())
    .filter((b) => b.mode === "run")
    .map((b) => `// README.md:${b.line}\n${b.code}`)
    .join("\n\n");
  for (const name of names) code = code.replaceAll(`"${name}"`, `"${name}-${suffix}"`).replaceAll(`["${name}"]`, `["${name}-${suffix}"]`);
  const dir = await scratch(t);
  const file = path.join(dir, "run.mjs");
  await writeFile(file, code + "\n");
  const env = { ...process.env, OUTLET_URL: server.url, OUTLET_KEY: server.key };
  const { stdout } = await run(process.execPath, [file], { cwd: dir, env, timeout: 30_000 }).catch((err) => {
    assert.fail(`README.md's examples failed (${dir}/run.mjs, each block headed by its line):\n${err.stdout}${err.stderr}`);
  });
  assert.match(stdout, /the receiver verifies with whsec_/);
  assert.match(stdout, /404 tenant "globex" not found/);
});
