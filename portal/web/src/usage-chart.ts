// A bar chart of one number per day, drawn as SVG with DOM calls
// (createElementNS, textContent): small, and text set this way is never
// parsed as markup.

const NS = "http://www.w3.org/2000/svg";

export interface Bar {
  label: string; // the day, YYYY-MM-DD
  value: number;
}

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.append(e);
  return e;
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(undefined, { notation: n >= 10000 ? "compact" : "standard", maximumFractionDigits: 1 }).format(n);
}

// drawBars replaces host's content with the chart. Colours come from CSS
// classes (styles.css), so the chart follows the theme.
export function drawBars(host: HTMLElement, title: string, bars: Bar[], unit: string): void {
  // Drawn at about the size it is shown, so its text stays legible.
  const W = 400;
  const H = 170;
  const pad = { top: 12, right: 8, bottom: 26, left: 44 };
  const max = Math.max(1, ...bars.map((b) => b.value));
  const total = bars.reduce((s, b) => s + b.value, 0);
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img"});
  svg.setAttribute("aria-label", `${title}: ${formatNumber(total)} ${unit} over ${bars.length} days, at most ${formatNumber(max)} in a day`);
  const plotW = W - pad.left - pad.right;
  const plotH = H - pad.top - pad.bottom;

  // Whole-number ticks: 0, the middle when it is one, and the top.
  const ticks = max >= 2 ? [0, Math.round(max / 2), max] : [0, max];
  for (const v of ticks) {
    const y = pad.top + plotH * (1 - v / max);
    el("line", { x1: pad.left, x2: W - pad.right, y1: y, y2: y, class: "grid" }, svg);
    const t = el("text", { x: pad.left - 6, y: y + 4, class: "axis", "text-anchor": "end" }, svg);
    t.textContent = formatNumber(v);
  }
  const step = plotW / Math.max(1, bars.length);
  const bw = Math.max(1, step * 0.7);
  bars.forEach((b, i) => {
    const h = (b.value / max) * plotH;
    const x = pad.left + i * step + (step - bw) / 2;
    const r = el("rect", { x, y: pad.top + plotH - h, width: bw, height: Math.max(h, b.value > 0 ? 1 : 0), class: "bar" }, svg);
    const tip = el("title", {}, r);
    tip.textContent = `${b.label}: ${formatNumber(b.value)} ${unit}`;
  });
  // First, middle and last day under the axis.
  const marks = bars.length > 2 ? [0, Math.floor(bars.length / 2), bars.length - 1] : bars.map((_, i) => i);
  for (const i of marks) {
    // The first and last labels keep inside the chart.
    const anchor = bars.length > 1 && i === 0 ? "start" : bars.length > 1 && i === bars.length - 1 ? "end" : "middle";
    const x = anchor === "start" ? pad.left + i * step : anchor === "end" ? pad.left + (i + 1) * step : pad.left + i * step + step / 2;
    const t = el("text", { x, y: H - 8, class: "axis", "text-anchor": anchor }, svg);
    t.textContent = bars[i].label.slice(5);
  }
  host.replaceChildren(svg);
}
