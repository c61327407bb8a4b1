// The portal's shell: header, navigation and the page for the address. A
// tenant's session sees its own pages; an operator's session sees the
// console, and any tenant's pages under tenants/{id}/.

import { type ComponentChildren, Fragment, type VNode } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ActivityPage, AllActivityPage } from "./activity";
import type { Api } from "./api";
import { CatalogPage, EventTypePage, HookPage } from "./catalog";
import { DeliveriesPage, DeliveryPage } from "./deliveries";
import { EndpointNewPage, EndpointPage, EndpointsPage } from "./endpoints";
import { FunctionsPage } from "./functions";
import { HealthPage } from "./health";
import { HooksPage } from "./hooks";
import { Link, match, navigate, seg, useLocation } from "./router";
import { SecretsPage } from "./secrets";
import { type Feature, hasFeature, type Session } from "./session";
import { TenantsPage } from "./tenants";
import { currentMode, logoURL, setMode } from "./theme";
import { Badge, ErrorNote, Loading, PageTitle, PortalContext, type TenantPageProps } from "./ui";
import { AllUsagePage, UsagePage } from "./usage";

type EditorModule = typeof import("./function-editor");
let editor: Promise<EditorModule> | null = null;

// The editor is a chunk of its own, fetched the first time a function page
// opens.
function FunctionEditorPage(props: TenantPageProps & { name: string }) {
  const [mod, setMod] = useState<EditorModule | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    editor ??= import("./function-editor");
    editor.then(setMod, (e) => {
      editor = null;
      setError(e);
    });
  }, []);
  if (error) return <ErrorNote error={new Error("The editor didn't load. Reload the page to try again.")} />;
  if (!mod) return <Loading what="the editor" />;
  const Editor = mod.default;
  return <Editor {...props} />;
}

interface TenantRoute {
  path: string;
  features: Feature[]; // shown when any of them is on
  write?: boolean; // a page only for sessions that may write
  page: (p: TenantPageProps, params: Record<string, string>) => VNode;
}

const tenantRoutes: TenantRoute[] = [
  { path: "endpoints", features: ["endpoints"], page: (p) => <EndpointsPage {...p} /> },
  { path: "endpoints/new", features: ["endpoints"], write: true, page: (p) => <EndpointNewPage {...p} /> },
  { path: "endpoints/:id", features: ["endpoints"], page: (p, x) => <EndpointPage {...p} id={x.id} /> },
  { path: "deliveries", features: ["endpoints", "functions"], page: (p) => <DeliveriesPage {...p} /> },
  { path: "deliveries/:id", features: ["endpoints", "functions"], page: (p, x) => <DeliveryPage {...p} id={x.id} /> },
  { path: "functions", features: ["functions"], page: (p) => <FunctionsPage {...p} /> },
  { path: "functions/:name", features: ["functions"], page: (p, x) => <FunctionEditorPage {...p} name={x.name} /> },
  { path: "hooks", features: ["hooks"], page: (p) => <HooksPage {...p} /> },
  { path: "secrets", features: ["secrets"], page: (p) => <SecretsPage {...p} /> },
  { path: "usage", features: ["usage"], page: (p) => <UsagePage {...p} /> },
  { path: "activity", features: ["endpoints", "functions", "hooks", "secrets", "usage"], page: (p) => <ActivityPage {...p} /> },
];

const tenantNav: { path: string; label: string; features: Feature[] }[] = [
  { path: "endpoints", label: "Endpoints", features: ["endpoints"] },
  { path: "deliveries", label: "Deliveries", features: ["endpoints", "functions"] },
  { path: "functions", label: "Functions", features: ["functions"] },
  { path: "hooks", label: "Hooks", features: ["hooks"] },
  { path: "secrets", label: "Secrets", features: ["secrets"] },
  { path: "usage", label: "Usage", features: ["usage"] },
  { path: "activity", label: "Activity", features: ["endpoints", "functions", "hooks", "secrets", "usage"] },
];

const operatorNav = [
  { path: "tenants", label: "Tenants" },
  { path: "catalog", label: "Event types & hooks" },
  { path: "health", label: "Node health" },
  { path: "usage", label: "Usage" },
  { path: "activity", label: "Activity" },
];

function shows(s: Session, fs: Feature[]): boolean {
  return fs.some((f) => hasFeature(s, f));
}

interface Resolved {
  tenant: string | null; // the tenant the page acts for
  base: string; // the route prefix of that tenant's links
  page: VNode | null; // null: no such page (for this session)
  home: string; // where this session starts
  redirect?: string; // a path that only leads elsewhere ("", tenants/acme)
}

function resolve(s: Session, api: Api, path: string): Resolved {
  let tenant = s.tenant;
  let base = "";
  let rest = path;
  if (s.admin && !s.tenant) {
    const m = /^tenants\/([^/]+)(?:\/(.*))?$/.exec(path);
    if (!m) {
      const at = (page: VNode | null): Resolved => ({ tenant: null, base, page, home: "tenants" });
      if (path === "") return { ...at(null), redirect: "tenants" };
      const ops: [string, (x: Record<string, string>) => VNode][] = [
        ["tenants", () => <TenantsPage />],
        ["catalog", () => <CatalogPage />],
        ["catalog/event-types/new", () => <EventTypePage />],
        ["catalog/event-types/:name", (x) => <EventTypePage name={x.name} />],
        ["catalog/hooks/new", () => <HookPage />],
        ["catalog/hooks/:name", (x) => <HookPage name={x.name} />],
        ["health", () => <HealthPage />],
        ["usage", () => <AllUsagePage />],
        ["activity", () => <AllActivityPage />],
      ];
      for (const [p, render] of ops) {
        const x = match(p, path);
        if (x) return at(render(x));
      }
      return at(null);
    }
    try {
      tenant = decodeURIComponent(m[1]);
    } catch {
      return { tenant: null, base, page: null, home: "tenants" };
    }
    base = `tenants/${seg(tenant)}/`;
    rest = m[2] ?? "";
  }
  const first = tenantNav.find((n) => shows(s, n.features));
  const home = base + (first?.path ?? "");
  if (!tenant) return { tenant: null, base, page: null, home };
  if (rest === "") return { tenant, base, page: null, home, redirect: home };
  const props: TenantPageProps = { t: api.tenant(tenant), base };
  for (const r of tenantRoutes) {
    const params = match(r.path, rest);
    if (!params) continue;
    if (!shows(s, r.features) || (r.write && s.read_only)) break;
    return { tenant, base, page: r.page(props, params), home };
  }
  return { tenant, base, page: null, home };
}

export function App({ session, api }: { session: Session; api: Api }) {
  const loc = useLocation();
  const portal = useMemo(() => ({ session, api, canWrite: !session.read_only }), [session, api]);
  const r = resolve(session, api, loc.path);

  useEffect(() => {
    if (r.redirect !== undefined && r.redirect !== loc.path) navigate(r.redirect, { replace: true });
  }, [r.redirect, loc.path]);

  return (
    <PortalContext.Provider value={portal}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Header session={session} tenant={r.tenant} />
      <div class="layout">
        <Nav session={session} path={loc.path} tenant={r.tenant} base={r.base} />
        <main id="main" tabIndex={-1}>
          {/* A new address is a new page: no state carries over from the last one. */}
          <Fragment key={loc.path}>{r.page ?? (r.redirect !== undefined ? null : <NotFound home={r.home} />)}</Fragment>
        </main>
      </div>
    </PortalContext.Provider>
  );
}

function NotFound({ home }: { home: string }) {
  return (
    <>
      <PageTitle>No such page</PageTitle>
      <p>
        This address doesn't name a page of the portal, or not one this session may see. <Link to={home}>Go to the start</Link>.
      </p>
    </>
  );
}

function Header({ session, tenant }: { session: Session; tenant: string | null }) {
  const logo = logoURL(session.theme);
  const name = session.theme.name || (session.admin && !session.tenant ? "Outlet console" : "Outlet");
  return (
    <header class="top">
      <div class="brand">
        {logo && <img src={logo} alt="" class="logo" />}
        <span class="brand-name">{name}</span>
      </div>
      <div class="top-right">
        {session.admin && !session.tenant && tenant && (
          <span class="chip" title="The tenant whose pages you are looking at">
            Tenant <code>{tenant}</code> <Link to="tenants">change</Link>
          </span>
        )}
        {session.read_only && <Badge kind="plain">read-only</Badge>}
        <ThemeToggle />
      </div>
    </header>
  );
}

const modes = ["auto", "light", "dark"] as const;

function ThemeToggle() {
  const [mode, set] = useState(currentMode());
  const next = modes[(modes.indexOf(mode) + 1) % modes.length];
  return (
    <button
      type="button"
      class="btn plain theme-toggle"
      aria-label={`Colour theme: ${mode}. Switch to ${next}.`}
      title={`Theme: ${mode}`}
      onClick={() => {
        setMode(next, undefined, true);
        set(next);
      }}
    >
      {mode === "auto" ? "◐" : mode === "light" ? "☀" : "☾"}
      <span class="theme-label">{mode}</span>
    </button>
  );
}

function NavLink({ to, path, children }: { to: string; path: string; children: ComponentChildren }) {
  const active = path === to || path.startsWith(to + "/");
  return (
    <li>
      <Link to={to} aria-current={active ? "page" : undefined}>
        {children}
      </Link>
    </li>
  );
}

function Nav({ session, path, tenant, base }: { session: Session; path: string; tenant: string | null; base: string }) {
  const operator = session.admin && !session.tenant;
  const tenantLinks = tenantNav.filter((n) => shows(session, n.features));
  const ref = useRef<HTMLElement>(null);
  // On a narrow screen the navigation scrolls sideways: keep the current
  // page's link in view.
  useEffect(() => {
    ref.current?.querySelector('[aria-current="page"]')?.scrollIntoView({ block: "nearest", inline: "nearest" });
  }, [path]);
  return (
    <nav class="side" aria-label="Sections" ref={ref}>
      {operator && (
        <>
          <p class="nav-heading">Console</p>
          <ul>
            {operatorNav.map((n) => (
              <NavLink key={n.path} to={n.path} path={tenant ? "tenants" : path}>
                {n.label}
              </NavLink>
            ))}
          </ul>
        </>
      )}
      {tenant && (
        <>
          {operator && (
            <p class="nav-heading">
              Tenant <code>{tenant}</code>
            </p>
          )}
          <ul>
            {tenantLinks.map((n) => (
              <NavLink key={n.path} to={base + n.path} path={path}>
                {n.label}
              </NavLink>
            ))}
          </ul>
        </>
      )}
    </nav>
  );
}

export function SessionEnded() {
  return (
    <main id="main" class="ended">
      <h1>Your session ended</h1>
      <p>Open the portal again from your platform.</p>
    </main>
  );
}
