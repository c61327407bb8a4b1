// The committed generated files are what their sources make, so the SDK
// never drifts from the API's OpenAPI document, nor dist/ from src/.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { routes } from "../dist/routes.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

test("src/openapi.ts is what `npm run generate` makes of docs/openapi.yaml", async () => {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  await run(npm, ["run", "--silent", "generate", "--", "--check"], { cwd: root }).catch((err) => {
    assert.fail(
      "src/openapi.ts differs from what docs/openapi.yaml generates: run `npm run generate && npm run build` " +
        `in sdk/typescript, add any new operation to src/routes.ts and a method for it, and commit.\n${err.stdout}${err.stderr}`,
    );
  });
});

test("dist/ is what `npm run build` makes of src/", async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), "outlet-sdk-dist-"));
  t.after(() => rm(out, { recursive: true, force: true }));
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  await run(process.execPath, [tsc, "-p", "tsconfig.json", "--outDir", out], { cwd: root }).catch((err) => {
    assert.fail(`tsc failed:\n${err.stdout}${err.stderr}`);
  });
  const built = (await readdir(out)).sort();
  const committed = (await readdir(path.join(root, "dist"))).sort();
  assert.deepEqual(committed, built, "dist/ has other files than a build makes: run `npm run build` and commit dist/");
  for (const name of built) {
    const want = await readFile(path.join(out, name), "utf8");
    const got = await readFile(path.join(root, "dist", name), "utf8");
    assert.ok(got === want, `dist/${name} is not what src/ builds: run \`npm run build\` and commit dist/`);
  }
});

test("every operation of the API is called by a method of the client", async () => {
  const dir = path.join(root, "src");
  let sources = "";
  for (const name of await readdir(dir)) {
    if (name.endsWith(".ts") && name !== "routes.ts" && name !== "openapi.ts") {
      sources += await readFile(path.join(dir, name), "utf8");
    }
  }
  const uncalled = Object.keys(routes).filter((op) => !sources.includes(`"${op}"`));
  assert.deepEqual(uncalled, [], "operations without a method in src/");
});
