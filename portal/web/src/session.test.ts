import { parseSession } from "./session";
import { done, eq, test } from "./testing";

const good = {
  id: "ps_1",
  tenant: "acme",
  admin: false,
  read_only: true,
  features: { functions: false, endpoints: true, hooks: true, secrets: true, usage: true },
  theme: { brand_color: "#4f46e5", logo_url: "https://x/logo.png", name: "Acme", mode: "dark" },
  csrf: "tok",
  expires_at: "2026-12-03T12:00:00.000Z",
  api: "/v1",
};

test("a tenant's session is read whole", () => {
  const s = parseSession(JSON.stringify(good))!;
  eq(s.tenant, "acme");
  eq(s.read_only, true);
  eq(s.features.functions, false);
  eq(s.theme.mode, "dark");
  eq(s.csrf, "tok");
});

test("null, empty, broken JSON and non-objects are no session", () => {
  for (const raw of [null, "", "null", "{", "[]", "42", '"x"']) eq(parseSession(raw), null, String(raw));
});

test("a session without a CSRF token is no session", () => {
  eq(parseSession(JSON.stringify({ ...good, csrf: undefined })), null);
});

test("a session for neither a tenant nor the operator is no session", () => {
  eq(parseSession(JSON.stringify({ ...good, tenant: null, admin: false })), null);
});

test("an operator's session has no tenant", () => {
  const s = parseSession(JSON.stringify({ ...good, tenant: null, admin: true }))!;
  eq(s.tenant, null);
  eq(s.admin, true);
});

test("fields of the wrong type fall back to safe defaults", () => {
  const s = parseSession(JSON.stringify({ ...good, read_only: "yes", features: { functions: "no", bogus: true }, theme: { mode: "neon", name: 5 }, api: "http://evil" }))!;
  eq(s.read_only, false);
  eq(s.features, {});
  eq(s.theme.mode, undefined);
  eq(s.theme.name, undefined);
  eq(s.api, "/v1");
});

done();
