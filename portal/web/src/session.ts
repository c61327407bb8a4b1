// The session the server put into the page: who the portal acts for and what
// it may show. The server writes it into <meta name="outlet-session"> (see
// notes in docs/portal.md); "null" there means no valid session cookie.

export type ThemeMode = "auto" | "light" | "dark";

export interface Theme {
  brand_color?: string;
  logo_url?: string;
  name?: string;
  mode?: ThemeMode;
}

export type Feature = "functions" | "endpoints" | "hooks" | "secrets" | "usage";

export interface Session {
  id: string;
  tenant: string | null; // null for an operator session
  admin: boolean;
  read_only: boolean;
  features: Partial<Record<Feature, boolean>>;
  theme: Theme;
  csrf: string;
  expires_at: string;
  api: string; // the API's base path, "/v1"
}

export function readSession(doc: Document = document): Session | null {
  return parseSession(doc.querySelector('meta[name="outlet-session"]')?.getAttribute("content") ?? null);
}

// parseSession reads the meta tag's content: anything but a session the
// server could have written is no session.
export function parseSession(raw: string | null): Session | null {
  if (!raw) return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  if (typeof o.csrf !== "string") return null;
  const tenant = typeof o.tenant === "string" && o.tenant !== "" ? o.tenant : null;
  const admin = o.admin === true;
  // A session must be for a tenant or for the operator; anything else is not
  // one the server made.
  if (!tenant && !admin) return null;
  return {
    id: typeof o.id === "string" ? o.id : "",
    tenant,
    admin,
    read_only: o.read_only === true,
    features: isObject(o.features) ? booleans(o.features as Record<string, unknown>) : {},
    theme: isObject(o.theme) ? theme(o.theme as Record<string, unknown>) : {},
    csrf: o.csrf,
    expires_at: typeof o.expires_at === "string" ? o.expires_at : "",
    api: typeof o.api === "string" && o.api.startsWith("/") ? o.api.replace(/\/+$/, "") : "/v1",
  };
}

function booleans(o: Record<string, unknown>): Session["features"] {
  const out: Session["features"] = {};
  for (const f of ["functions", "endpoints", "hooks", "secrets", "usage"] as Feature[]) {
    if (typeof o[f] === "boolean") out[f] = o[f] as boolean;
  }
  return out;
}

function theme(o: Record<string, unknown>): Theme {
  const str = (k: string) => (typeof o[k] === "string" && o[k] !== "" ? (o[k] as string) : undefined);
  const mode = str("mode");
  return {
    brand_color: str("brand_color"),
    logo_url: str("logo_url"),
    name: str("name"),
    mode: mode === "light" || mode === "dark" || mode === "auto" ? mode : undefined,
  };
}

function isObject(v: unknown): boolean {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

// A feature is shown unless the session switches it off.
export function hasFeature(s: Session, f: Feature): boolean {
  return s.features[f] !== false;
}
