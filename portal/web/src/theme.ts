// The platform's look: brand colour, logo, name and light/dark mode. Styles
// are set through CSSOM (element.style.setProperty), which the portal's CSP
// allows, never through style attributes, which it forbids.

import type { Theme, ThemeMode } from "./session";

type RGB = [number, number, number];

const DEFAULT_BRAND: RGB = [79, 70, 229]; // #4f46e5
const LIGHT_SURFACE: RGB = [255, 255, 255];
const DARK_SURFACE: RGB = [27, 27, 32]; // --surface in dark mode, styles.css

const MODE_KEY = "outlet-portal-theme";

export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  const brand = (theme.brand_color && parseColor(theme.brand_color)) || DEFAULT_BRAND;
  const s = root.style;
  s.setProperty("--brand", css(brand));
  // Text on a brand-coloured button: whichever of white and near-black reads
  // better on it.
  s.setProperty("--brand-fg", contrast(brand, [255, 255, 255]) >= contrast(brand, [17, 17, 20]) ? "#ffffff" : "#111114");
  // Links and accents in the brand colour, shaded until they reach WCAG AA
  // (4.5:1) on each mode's surface: a pale brand still gives readable links.
  s.setProperty("--brand-ink-light", css(readable(brand, LIGHT_SURFACE, [0, 0, 0])));
  s.setProperty("--brand-ink-dark", css(readable(brand, DARK_SURFACE, [255, 255, 255])));
  setMode(storedMode() ?? theme.mode ?? "auto", root);
  if (theme.name) document.title = theme.name;
}

// The mode the person chose here overrides the platform's default. It is kept
// in localStorage when the browser allows it (a third-party iframe may not).
export function setMode(mode: ThemeMode, root: HTMLElement = document.documentElement, remember = false): void {
  if (mode === "auto") delete root.dataset.theme;
  else root.dataset.theme = mode;
  if (remember) {
    try {
      localStorage.setItem(MODE_KEY, mode);
    } catch {
      // storage blocked: the choice lasts for this page only
    }
  }
}

export function currentMode(root: HTMLElement = document.documentElement): ThemeMode {
  const t = root.dataset.theme;
  return t === "light" || t === "dark" ? t : "auto";
}

function storedMode(): ThemeMode | null {
  try {
    const v = localStorage.getItem(MODE_KEY);
    return v === "auto" || v === "light" || v === "dark" ? v : null;
  } catch {
    return null;
  }
}

// The logo is shown only from https: or data: URLs, the ones the CSP's
// img-src allows; anything else would be a broken image.
export function logoURL(theme: Theme): string | null {
  const u = theme.logo_url;
  if (!u) return null;
  try {
    const p = new URL(u, window.location.href);
    if (p.protocol === "https:" || p.protocol === "data:" || p.origin === window.location.origin) return p.href;
  } catch {
    // not a URL
  }
  return null;
}

// Any CSS colour, read back as the browser computes it.
export function parseColor(value: string): RGB | null {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value.trim());
  if (hex) {
    let h = hex[1];
    if (h.length === 3) h = h.replace(/./g, (c) => c + c);
    return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
  }
  if (typeof CSS === "undefined" || !CSS.supports("color", value)) return null;
  const probe = document.createElement("span");
  probe.style.color = value;
  document.body.append(probe);
  const m = /rgba?\((\d+)[ ,]+(\d+)[ ,]+(\d+)/.exec(getComputedStyle(probe).color);
  probe.remove();
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function css([r, g, b]: RGB): string {
  return `rgb(${r}, ${g}, ${b})`;
}

function luminance([r, g, b]: RGB): number {
  const lin = (c: number) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrast(a: RGB, b: RGB): number {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

export function readable(c: RGB, surface: RGB, toward: RGB): RGB {
  let out = c;
  for (let i = 1; i <= 10 && contrast(out, surface) < 4.5; i++) {
    const t = i / 10;
    out = [0, 1, 2].map((k) => Math.round(c[k] + (toward[k] - c[k]) * t)) as RGB;
  }
  return out;
}
