/**
 * Dependency-free SVG charts for BENCHMARKS.md. How it works: both charts use a log axis, because
 * peers differ by up to two orders of magnitude (Effection vs raw promises) and a ratio of 2 and
 * of 0.5 should look equally far from 1. The bar chart draws each peer's cost ratio as a bar
 * growing from the baseline's 1.0 line (right = slower); the line chart plots cost against size on
 * log-log axes, where a flat line means cost grows linearly with size.
 */

export interface Bar {
  peer: string;
  /** Cost relative to the baseline (> 1 = slower); null when the peer is missing or failed. */
  ratio: number | null;
  note?: string;
  /** Overrides the peer's colour (the headline chart colours by suite, not by peer). */
  colour?: string;
}

/** One case of a bar chart: its label and a bar per peer. */
export interface BarGroup {
  label: string;
  bars: Bar[];
}

/** One peer's line in a scaling chart. */
export interface Series {
  peer: string;
  points: { x: number; y: number }[];
}

const font = `font-family="system-ui, -apple-system, Segoe UI, sans-serif"`;
const palette = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"];
const aiotsColour = "#e15759";

/**
 * A colour per peer for one chart: aiots (and its variants) always red, the other peers take
 * palette slots in order of first use, so no two peers of a chart share a colour (up to 9).
 */
export function colourScheme(): (peer: string) => string {
  const assigned = new Map<string, string>();
  return (peer) => {
    if (peer.startsWith("aiots")) return aiotsColour;
    let colour = assigned.get(peer);
    if (colour === undefined) {
      colour = palette[assigned.size % palette.length]!;
      assigned.set(peer, colour);
    }
    return colour;
  };
}

/** `text` made safe inside SVG text and attributes. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Round log-scale tick values (1-2-5 steps) covering [lo, hi]. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)) + 1; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(Number(v.toPrecision(3)));
    }
  }
  return ticks;
}

/** A ratio as the report prints it: "1.23×", "14×". */
export function formatRatio(r: number): string {
  if (r >= 10) return `${r.toFixed(0)}×`;
  if (r >= 1) return `${r.toFixed(2)}×`;
  return `${r.toFixed(2)}×`;
}

function formatTick(v: number): string {
  if (v >= 1000) return `${v / 1000}k`;
  return `${v}`;
}

/**
 * A horizontal bar chart of cost ratios, one group of bars per case.
 * @param title - drawn at the top.
 * @param baselineLabel - what the 1.0 line stands for (e.g. "raw Node").
 * @param labelWidth - pixels for the bar labels (the headline chart labels bars with case names).
 */
export function ratioBarChart(title: string, baselineLabel: string, groups: BarGroup[], labelWidth = 300): string {
  const width = 560 + labelWidth;
  const plotLeft = labelWidth + 10;
  const plotWidth = width - plotLeft - 80;
  const barHeight = 14;
  const gap = 4;
  const top = 56;
  const ratios = groups.flatMap((g) => g.bars.map((b) => b.ratio)).filter((r): r is number => r !== null && r > 0);
  // room left of the smallest bar for its "0.19×" label
  const lo = Math.min(0.5, ...ratios.map((r) => r / 2));
  const hi = Math.max(2, ...ratios.map((r) => r * 1.3));
  const peerColour = colourScheme();
  const x = (v: number): number => plotLeft + ((Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * plotWidth;
  const parts: string[] = [];
  let y = top;
  for (const g of groups) {
    parts.push(`<text x="8" y="${y + 11}" font-size="12" font-weight="600" ${font}>${escapeXml(clip(g.label, 110))}</text>`);
    y += 18;
    for (const b of g.bars) {
      parts.push(`<text x="${labelWidth}" y="${y + 11}" font-size="11" text-anchor="end" ${font}>${escapeXml(clip(b.peer, Math.floor(labelWidth / 6.5)))}</text>`);
      if (b.ratio === null || !(b.ratio > 0)) {
        parts.push(`<text x="${x(1) + 6}" y="${y + 11}" font-size="11" fill="#888" font-style="italic" ${font}>${escapeXml(b.note ?? "missing")}</text>`);
      } else {
        const x0 = Math.min(x(1), x(b.ratio));
        const w = Math.max(1, Math.abs(x(b.ratio) - x(1)));
        parts.push(`<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${b.colour ?? peerColour(b.peer)}"/>`);
        const tx = b.ratio >= 1 ? x(b.ratio) + 4 : x(b.ratio) - 4;
        parts.push(`<text x="${tx.toFixed(1)}" y="${y + 11}" font-size="11" text-anchor="${b.ratio >= 1 ? "start" : "end"}" ${font}>${formatRatio(b.ratio)}</text>`);
      }
      y += barHeight + gap;
    }
    y += 10;
  }
  const height = y + 30;
  const axis: string[] = [];
  for (const t of logTicks(lo, hi)) {
    axis.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 6}" x2="${x(t).toFixed(1)}" y2="${y}" stroke="#e4e4e4"/>`);
    axis.push(`<text x="${x(t).toFixed(1)}" y="${y + 14}" font-size="10" text-anchor="middle" fill="#555" ${font}>${formatTick(t)}×</text>`);
  }
  axis.push(`<line x1="${x(1).toFixed(1)}" y1="${top - 6}" x2="${x(1).toFixed(1)}" y2="${y}" stroke="#333" stroke-width="1.5"/>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="20" font-size="15" font-weight="700" ${font}>${escapeXml(title)}</text>`,
    `<text x="8" y="38" font-size="11" fill="#444" ${font}>${escapeXml(`cost relative to ${baselineLabel} (1× line), log scale: left of the line is faster, right is slower`)}</text>`,
    ...axis,
    ...parts,
    `</svg>`,
  ].join("\n");
}

/** A log-log line chart: one line per peer, `x` = size, `y` = cost. */
export function scalingLineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const width = 720;
  const height = 380;
  const left = 70;
  const right = 170;
  const top = 44;
  const bottom = 50;
  const pts = series.flatMap((s) => s.points).filter((p) => p.x > 0 && p.y > 0);
  if (pts.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="60"><text x="8" y="30" font-size="13" ${font}>${escapeXml(title)}: no data</text></svg>`;
  }
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  // half a decade of padding on each side so the end points and their labels stay inside
  const xlo = Math.min(...xs) / 2 || 1;
  const xhi = Math.max(...xs, xlo * 10) * 2;
  const ylo = Math.min(...ys) / 1.5 || 0.001;
  const yhi = Math.max(...ys) * 1.5 || 1;
  const peerColour = colourScheme();
  const pw = width - left - right;
  const ph = height - top - bottom;
  const sx = (v: number): number => left + ((Math.log(v) - Math.log(xlo)) / (Math.log(xhi) - Math.log(xlo) || 1)) * pw;
  const sy = (v: number): number => top + ph - ((Math.log(v) - Math.log(ylo)) / (Math.log(yhi) - Math.log(ylo) || 1)) * ph;
  const parts: string[] = [];
  for (const t of logTicks(ylo, yhi)) {
    parts.push(`<line x1="${left}" y1="${sy(t).toFixed(1)}" x2="${left + pw}" y2="${sy(t).toFixed(1)}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${left - 6}" y="${(sy(t) + 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#555" ${font}>${formatTick(t)}</text>`);
  }
  for (const t of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(`<line x1="${sx(t).toFixed(1)}" y1="${top}" x2="${sx(t).toFixed(1)}" y2="${top + ph}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${top + ph + 16}" font-size="10" text-anchor="middle" fill="#555" ${font}>${t >= 1e6 ? `${t / 1e6}M` : formatTick(t)}</text>`);
  }
  series.forEach((s, i) => {
    const valid = s.points.filter((p) => p.x > 0 && p.y > 0).sort((a, b) => a.x - b.x);
    const colour = peerColour(s.peer);
    if (valid.length > 1) {
      const d = valid.map((p, j) => `${j === 0 ? "M" : "L"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ");
      parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    }
    for (const p of valid) parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${colour}"/>`);
    const ly = top + 10 + i * 18;
    parts.push(`<rect x="${left + pw + 14}" y="${ly - 8}" width="12" height="10" fill="${colour}"/>`);
    parts.push(`<text x="${left + pw + 30}" y="${ly + 1}" font-size="11" ${font}>${escapeXml(clip(s.peer, 22))}</text>`);
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="20" font-size="15" font-weight="700" ${font}>${escapeXml(title)}</text>`,
    `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
    ...parts,
    `<text x="${left + pw / 2}" y="${height - 10}" font-size="11" text-anchor="middle" ${font}>${escapeXml(xLabel)} (log scale)</text>`,
    `<text x="14" y="${top + ph / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 14 ${top + ph / 2})" ${font}>${escapeXml(yLabel)} (log scale)</text>`,
    `</svg>`,
  ].join("\n");
}
