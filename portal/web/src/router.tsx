// A small client-side router over the History API. Every /portal/… path
// answers index.html, so each page has an address one can reload or share.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

export const BASE = "/portal/";

export interface Location {
  path: string; // without BASE and without a trailing slash, still percent-encoded: "endpoints/ep_1"
  query: URLSearchParams;
}

const listeners = new Set<() => void>();

function current(): Location {
  let p = window.location.pathname;
  p = p.startsWith(BASE) ? p.slice(BASE.length) : p.replace(/^\/+/, "");
  return {
    path: p.replace(/\/+$/, ""),
    query: new URLSearchParams(window.location.search),
  };
}

window.addEventListener("popstate", () => listeners.forEach((l) => l()));

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const url = BASE + to;
  if (opts.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  listeners.forEach((l) => l());
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const l = () => setLoc(current());
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return loc;
}

// match("endpoints/:id", "endpoints/ep_1") → {id: "ep_1"}; null when it
// doesn't match.
export function match(pattern: string, path: string): Record<string, string> | null {
  const ps = pattern.split("/");
  const xs = path.split("/");
  if (ps.length !== xs.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    if (ps[i].startsWith(":")) {
      if (!xs[i]) return null;
      try {
        params[ps[i].slice(1)] = decodeURIComponent(xs[i]);
      } catch {
        return null;
      }
    } else if (ps[i] !== xs[i]) {
      return null;
    }
  }
  return params;
}

// A path segment from a name the customer chose: never lets it add segments.
export function seg(s: string): string {
  return encodeURIComponent(s);
}

interface LinkProps {
  to: string;
  children?: ComponentChildren;
  class?: string;
  title?: string;
  "aria-current"?: "page";
  "aria-label"?: string;
}

export function Link({ to, children, ...rest }: LinkProps) {
  return (
    <a
      {...rest}
      href={BASE + to}
      onClick={(e) => {
        // Let the browser open new tabs and windows itself.
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

// Query parameters as a path suffix, leaving out empty ones.
export function withQuery(path: string, q: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}
