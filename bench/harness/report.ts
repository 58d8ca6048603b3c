/**
 * Generates BENCHMARKS.md and its SVG charts from the newest result file of every suite, so the
 * report always shows each suite's latest run even when only one suite was rerun.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { anchorFor, anchorTolerance } from "./anchors.ts";
import { type Bar, type BarGroup, type Series, formatRatio, ratioBarChart, scalingLineChart } from "./charts.ts";
import type { CaseResult, PeerResult, Sample, SuiteResult } from "./results.ts";
import { repoRoot } from "./results.ts";
import { costRatio, median } from "./stats.ts";
import { loadMark } from "./load.ts";

/** The generated report, at the repository root. */
export const reportFile = path.join(repoRoot, "BENCHMARKS.md");
/** Where the report's SVG charts go (linked from BENCHMARKS.md and the README). */
export const chartsDir = path.join(repoRoot, "bench", "charts");

function formatValue(v: number, unit: string): string {
  if (unit === "ms") return v >= 100 ? v.toFixed(0) : v.toFixed(1);
  if (v >= 10_000) return `${(v / 1000).toFixed(1)}k`;
  return v >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

function mb(bytes: number | undefined): string {
  if (bytes === undefined) return "";
  const m = bytes / 2 ** 20;
  if (Math.abs(m) >= 10) return `${m.toFixed(0)} MB`;
  return Math.abs(m) >= 1 ? `${m.toFixed(1)} MB` : `${(bytes / 1024).toFixed(0)} KB`;
}

function medianOf(samples: Sample[], pick: (s: Sample) => number | undefined): number | undefined {
  const values = samples.map(pick).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  return values.length === 0 ? undefined : median(values);
}

/** Numeric extras (e.g. serverCpu, clientCpu, heapBeforeBytes), each as the median over samples. */
export function extrasSummary(samples: Sample[]): string {
  const keys = new Set(samples.flatMap((s) => Object.keys(s.extra ?? {})));
  const parts: string[] = [];
  for (const key of [...keys].sort()) {
    const m = medianOf(samples, (s) => (typeof s.extra?.[key] === "number" ? s.extra[key] : undefined));
    if (m === undefined) continue;
    parts.push(/bytes$/i.test(key) ? `${key} ${mb(m)}` : `${key} ${Number(m.toPrecision(3))}`);
  }
  return parts.join(", ");
}

/**
 * A warning when the load client used nearly as much CPU as the server: on 2 shared cores the
 * figure may then measure the client rather than the server.
 */
export function clientBound(samples: Sample[]): string {
  const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const client = medianOf(samples, (s) => num(s.extra?.clientCpu));
  const server = medianOf(samples, (s) => num(s.extra?.serverCpu));
  if (client === undefined || server === undefined || server <= 0) return "";
  return client >= 0.8 * server ? `⚠ client CPU ${Math.round((client / server) * 100)}% of the server's: possibly client-bound` : "";
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function peerRow(c: CaseResult, name: string, p: PeerResult, label: string): string {
  if (p.status !== "ok" || !p.stats) {
    const hint = p.status === "missing" && p.requires ? ` (requires: ${p.requires})` : "";
    const why = `${p.status}: ${(p.reason ?? "").split("\n")[0]}${hint}`;
    return `| ${label} | ${escapeCell(name)} | — | — | — | | | | ${escapeCell(why)} |`;
  }
  const s = p.stats;
  const ratio = name === c.baseline ? "baseline" : p.ratio !== undefined && Number.isFinite(p.ratio) ? `**${formatRatio(p.ratio)}**` : "";
  const cpu = medianOf(p.samples, (x) => (x.cpuUserSec === undefined ? undefined : x.cpuUserSec + (x.cpuSysSec ?? 0)));
  const wall = medianOf(p.samples, (x) => x.wallMs);
  const cpuText = cpu === undefined ? "" : `${cpu.toFixed(2)} s${wall ? ` (${Math.round((cpu * 1000 * 100) / wall)}%)` : ""}`;
  const notes = [extrasSummary(p.samples), clientBound(p.samples), p.errors.length ? `${p.errors.length} failed sample(s)` : ""]
    .filter(Boolean)
    .join("; ");
  const range = `${formatValue(s.min, c.unit)} – ${formatValue(s.max, c.unit)}`;
  const memory = `${mb(medianOf(p.samples, (x) => x.rssBytes))} | ${mb(medianOf(p.samples, (x) => x.heapBytes))}`;
  return `| ${label} | ${escapeCell(name)} | ${formatValue(s.median, c.unit)} | ${range} | ${ratio} | ${cpuText} | ${memory} | ${escapeCell(notes)} |`;
}

function suiteTable(r: SuiteResult): string[] {
  const lines = [
    "| case | peer | median | min – max | cost × baseline | CPU, whole process (of wall) | peak RSS | heap after | notes |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const c of r.cases) {
    const about = `${c.unit}, ${c.lowerIsBetter ? "lower" : "higher"} is better, ${c.repetitions} sample${c.repetitions === 1 ? "" : "s"}`;
    const quick = c.extraArgs ? `<br>--quick workload: arguments ${escapeCell(c.extraArgs.join(" "))} appended` : "";
    const label = `**${escapeCell(c.name)}**<br>${about}${quick}${c.target ? `<br>target: ${escapeCell(c.target)}` : ""}`;
    // the baseline first, then the other peers in the suite's order
    if (allSkipped(c)) {
      lines.push(`| ${label} | ${Object.keys(c.peers).map(escapeCell).join(", ")} | — | — | — | | | | skipped: full mode only |`);
      continue;
    }
    const names = [c.baseline, ...Object.keys(c.peers).filter((n) => n !== c.baseline)].filter((n) => c.peers[n]);
    names.forEach((name, i) => lines.push(peerRow(c, name, c.peers[name]!, i === 0 ? label : "")));
  }
  return lines;
}

function allSkipped(c: CaseResult): boolean {
  return Object.values(c.peers).every((p) => p.status === "skipped");
}

function caseBars(c: CaseResult): Bar[] {
  return Object.entries(c.peers)
    .filter(([name]) => name !== c.baseline)
    .map(([name, p]) => ({
      peer: name,
      ratio: p.ratio !== undefined && Number.isFinite(p.ratio) ? p.ratio : null,
      note: p.status === "ok" ? "no baseline" : p.status,
    }));
}

function baselineLabel(cases: CaseResult[]): string {
  const names = [...new Set(cases.map((c) => c.baseline))];
  return names.join(" / ");
}

function scalingCharts(r: SuiteResult): { series: string; file: string; svg: string }[] {
  const bySeries = new Map<string, CaseResult[]>();
  for (const c of r.cases) {
    if (!c.scaling) continue;
    bySeries.set(c.scaling.series, [...(bySeries.get(c.scaling.series) ?? []), c]);
  }
  const out: { series: string; file: string; svg: string }[] = [];
  for (const [series, cases] of bySeries) {
    const peers = [...new Set(cases.flatMap((c) => Object.keys(c.peers)))];
    const perItem = cases.every((c) => c.scaling?.perItem);
    const unit = cases[0]!.unit;
    const lines: Series[] = peers.map((peer) => ({
      peer,
      points: cases.flatMap((c) => {
        const m = c.peers[peer]?.stats?.median;
        if (m === undefined) return [];
        const x = c.scaling!.x;
        return [{ x, y: perItem ? (unit === "ms" ? (m * 1000) / x : m / x) : m }];
      }),
    }));
    const yLabel = perItem ? (unit === "ms" ? "µs per item" : `${unit} per item`) : unit;
    const slug = series.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    out.push({ series, file: `${r.suite}-${slug}.svg`, svg: scalingLineChart(series, cases[0]!.scaling!.xLabel, yLabel, lines) });
  }
  return out;
}

interface AnchorCheck {
  suite: string;
  caseName: string;
  peer: string;
  unit: string;
  anchor: number;
  measured: number;
  source: string;
}

/** Every peer of every result that has an ANCHORS.md figure, with this run's median. */
export function anchorChecks(results: SuiteResult[]): AnchorCheck[] {
  const checks: AnchorCheck[] = [];
  for (const r of results) {
    for (const c of r.cases) {
      if (c.extraArgs !== undefined) continue; // a --quick workload is not the work ANCHORS.md measured
      for (const [peer, p] of Object.entries(c.peers)) {
        const table = anchorFor(r.suite, c.name, peer);
        const anchor = p.anchor ?? table?.value;
        if (anchor === undefined || !p.stats) continue;
        const source = p.anchor !== undefined ? "given by the suite" : table!.source;
        checks.push({ suite: r.suite, caseName: c.name, peer, unit: c.unit, anchor, measured: p.stats.median, source });
      }
    }
  }
  return checks;
}

function anchorSection(results: SuiteResult[]): string[] {
  const checks = anchorChecks(results);
  if (checks.length === 0) return [];
  const inside = checks.filter((a) => Math.abs(a.measured / a.anchor - 1) <= anchorTolerance).length;
  const lines = [
    "## Anchors reproduced",
    "",
    `The peers' figures from ANCHORS.md (measured on this kind of machine before aiots existed) against this run: ` +
      `${inside} of ${checks.length} within ±${anchorTolerance * 100}%, the machine's run-to-run noise. ` +
      "A peer far from its anchor means the machine or the harness differs, and its ratios should be read with care.",
    "",
    "| suite | case | peer | ANCHORS.md | this run | difference |",
    "|---|---|---|---|---|---|",
  ];
  for (const a of checks) {
    const diff = a.measured / a.anchor - 1;
    const mark = Math.abs(diff) <= anchorTolerance ? "" : " ⚠";
    lines.push(
      `| ${a.suite} | ${escapeCell(a.caseName)} | ${escapeCell(a.peer)} | ${formatValue(a.anchor, a.unit)} ${a.unit} | ${formatValue(a.measured, a.unit)} ${a.unit} | ${diff >= 0 ? "+" : ""}${(diff * 100).toFixed(0)}%${mark} |`,
    );
  }
  const busiest = Math.max(...results.map((r) => r.machine.loadAverageAtStart[0] ?? 0));
  const cores = results[0]?.machine.cores ?? 1;
  if (busiest > cores) {
    lines.splice(
      3,
      0,
      "",
      `⚠ The machine was busy during this run (1-minute load average up to ${busiest} on ${cores} cores, from other ` +
        "processes), so absolute figures are depressed against ANCHORS.md; the ratios, measured side by side with the " +
        "peers alternating in the same run, are the comparable part.",
    );
  }
  return [...lines, ""];
}

/** The peers of a case in the headline's four columns: aiots variants, asyncio's, uvloop's, raw Node. */
export interface HeadlinePeers {
  aiots: string[];
  asyncio: string[];
  uvloop: string[];
  /** The raw Node reference: the case's baseline, or its first "raw ..." peer when the baseline is aiots, asyncio or uvloop. */
  raw: string | undefined;
}

/** Sorts a case's peers into the headline's columns (Effection, p-queue and the like stay out). */
export function headlinePeers(c: CaseResult): HeadlinePeers {
  const names = Object.keys(c.peers);
  // vmbench's baseline is uvloop: the raw Node column then takes its "raw ..." peer
  const peerLibrary = /^(?:aiots|asyncio|uvloop)/.test(c.baseline);
  const raw = peerLibrary ? names.find((n) => n.startsWith("raw")) : c.baseline;
  return {
    aiots: names.filter((n) => n.startsWith("aiots")),
    asyncio: names.filter((n) => n.startsWith("asyncio")),
    uvloop: names.filter((n) => n.startsWith("uvloop")),
    raw,
  };
}

const familyColour = { aiots: "#e15759", asyncio: "#4e79a7", uvloop: "#f28e2b" } as const;

function headlineCases(results: SuiteResult[]): { suite: SuiteResult; c: CaseResult }[] {
  return results.flatMap((r) => r.cases.filter((c) => !allSkipped(c)).map((c) => ({ suite: r, c })));
}

/** A peer's cost relative to the case's raw Node reference, or null. */
function headlineRatio(c: CaseResult, name: string, raw: string | undefined): number | null {
  const base = raw === undefined ? undefined : c.peers[raw]?.stats?.median;
  const p = c.peers[name]?.stats;
  if (base === undefined || !p) return null;
  const ratio = costRatio(p.median, base, c.lowerIsBetter);
  return Number.isFinite(ratio) ? ratio : null;
}

function headline(results: SuiteResult[]): string {
  const groups: BarGroup[] = headlineCases(results).map(({ suite, c }) => {
    const h = headlinePeers(c);
    const mark = suite.load?.underLoad ? " (L)" : "";
    const label = `${suite.suite}${mark}: ${c.name}${h.raw !== undefined ? ` (vs ${h.raw})` : ""}`;
    if (h.aiots.length === 0 || h.raw === undefined) return { label, bars: [{ peer: "aiots", ratio: null, note: "no aiots or raw peer", colour: familyColour.aiots }] };
    const bars = (["aiots", "asyncio", "uvloop"] as const).flatMap((family) =>
      h[family].map((name): Bar => {
        const p = c.peers[name]!;
        return { peer: name, ratio: headlineRatio(c, name, h.raw), note: p.status === "ok" ? "no baseline" : p.status, colour: familyColour[family] };
      }),
    );
    return { label, bars };
  });
  return ratioBarChart("aiots beside asyncio and uvloop: cost relative to raw Node, every suite", "raw Node", groups, 300);
}

function headlineValue(c: CaseResult, name: string | undefined): string {
  if (name === undefined) return "—";
  const p = c.peers[name];
  if (!p?.stats) return p === undefined ? "—" : p.status;
  return formatValue(p.stats.median, c.unit);
}

/** The headline table: each case's aiots, asyncio, uvloop and raw Node medians, and aiots's ratios. */
function headlineTable(results: SuiteResult[]): string[] {
  const lines = [
    "| suite | case | unit | aiots | asyncio | uvloop | raw Node | aiots cost × raw Node | aiots cost × uvloop |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const { suite, c } of headlineCases(results)) {
    const h = headlinePeers(c);
    if (h.aiots.length === 0) continue;
    const cell = (names: string[]): string => (names.length === 0 ? "—" : names.map((n) => (names.length > 1 ? `${headlineValue(c, n)} (${n})` : headlineValue(c, n))).join("<br>"));
    const uv = h.uvloop[0];
    const ratios = (ref: string | undefined): string =>
      ref === undefined
        ? "—"
        : h.aiots
            .map((n) => {
              const base = c.peers[ref]?.stats?.median;
              const mine = c.peers[n]?.stats?.median;
              const r = base === undefined || mine === undefined ? Number.NaN : costRatio(mine, base, c.lowerIsBetter);
              return Number.isFinite(r) ? `${formatRatio(r)}${h.aiots.length > 1 ? ` (${n})` : ""}` : "—";
            })
            .join("<br>");
    const name = `${escapeCell(suite.suite)}${suite.load?.underLoad ? " (L)" : ""}`;
    lines.push(
      `| ${name} | ${escapeCell(c.name)} | ${c.unit} | ${escapeCell(cell(h.aiots))} | ${escapeCell(cell(h.asyncio))} | ${escapeCell(cell(h.uvloop))} | ${escapeCell(h.raw === undefined ? "—" : `${headlineValue(c, h.raw)} (${h.raw})`)} | ${escapeCell(ratios(h.raw))} | ${escapeCell(ratios(uv))} |`,
    );
  }
  return lines;
}

/** Whether the results come from one `npm run bench` invocation, and which. */
function provenance(results: SuiteResult[]): string {
  const runs = [...new Set(results.map((r) => r.runId ?? `suite run ${r.startedAt}`))];
  const loaded = results.filter((r) => r.load?.underLoad).map((r) => `${r.suite} (${r.load!.atStart})`);
  const gate = results.every((r) => r.load !== undefined)
    ? loaded.length === 0
      ? "Every suite started with the 1-minute load average under 1.5 (the harness waits for it)."
      : `Measured under load (L), the 1-minute load average still at or above 1.5 when the suite started: ${loaded.join(", ")}; read those suites' absolute figures with care (the ratios are measured side by side).`
    : "Some suites predate the load gate (no load check recorded).";
  const one = runs.length === 1 && results.every((r) => r.mode === "full")
    ? `Every suite below comes from one full run (started ${runs[0]!.slice(0, 16).replace("T", " ")} UTC).`
    : `The suites below come from ${runs.length} separate run${runs.length === 1 ? "" : "s"} (${[...new Set(results.map((r) => r.mode))].join(" and ")} mode): \`npm run bench\` regenerates them all from one.`;
  return `${one} ${gate}`;
}

function versionsLine(r: SuiteResult): string {
  return Object.entries(r.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
}

/** The report as text: BENCHMARKS.md's contents and each chart by file name (in bench/charts/). */
export function renderReport(results: SuiteResult[]): { markdown: string; charts: Map<string, string> } {
  const charts = new Map<string, string>();
  const md: string[] = [
    "# aiots benchmarks",
    "",
    "<!-- Generated by `npm run bench` (bench/run.ts, bench/harness/report.ts): do not edit by hand. -->",
    "",
    "Every case runs aiots beside its peers in the same run: peers alternate in rotated order (A B C, B C A, …),",
    "each sample is a fresh process, after one unrecorded warm-up per peer (full mode; `--quick` takes one sample",
    "per peer, no warm-up, often a smaller workload, so its figures are rough). Figures are medians; **cost × baseline**",
    "is how many times the baseline's cost a peer pays (for durations peer/baseline, for throughput",
    "baseline/peer), so below 1× is faster than the baseline and above is slower. CPU is user+sys of the whole",
    "peer process tree (servers and load clients it waited for), with its share of the wall time (200% = both",
    "cores busy); suites that run a client and a server also report each side's CPU in the notes, so a",
    "client-bound figure is visible. Raw results with every sample: `bench/results/`. Rerun with",
    "`bench/setup.sh && npm run bench` (or `npm run bench -- --quick`, or `npm run bench -- <suite>`).",
    "",
  ];
  if (results.length === 0) {
    md.push("No results yet: run `bench/setup.sh`, then `npm run bench -- --quick`.", "");
  } else {
    const m = results[0]!.machine;
    const newest = results.reduce((a, b) => (a.startedAt > b.startedAt ? a : b));
    const common = versionsLine(newest);
    md.push(
      `Machine: ${m.cpuModel}, ${m.cores} cores, ${(m.totalMemBytes / 2 ** 30).toFixed(1)} GiB, ${m.os}.`,
      `Versions: ${common}.`,
      "",
      "| suite | run (1-minute load average at start) | mode | samples per peer |",
      "|---|---|---|---|",
      ...results.map((r) => {
        const reps = [...new Set(r.cases.filter((c) => !allSkipped(c)).map((c) => c.repetitions))].join(", ");
        const other = versionsLine(r) === common ? "" : ` (versions: ${versionsLine(r)})`;
        const mark = r.load?.underLoad ? ` **(L)**, after waiting ${r.load.waitedSeconds} s` : r.load && r.load.waitedSeconds > 0 ? ` (waited ${r.load.waitedSeconds} s for it)` : "";
        return `| [${r.suite}](#${r.suite}) | ${r.startedAt.slice(0, 16).replace("T", " ")} UTC, load ${r.load?.atStart ?? r.machine.loadAverageAtStart[0] ?? "?"}${mark}${other} | ${r.mode} | ${reps} |`;
      }),
      "",
      provenance(results),
      "",
      "## Headline",
      "",
      "![aiots beside asyncio and uvloop: cost relative to raw Node, every suite](bench/charts/headline.svg)",
      "",
      ...headlineTable(results),
      "",
    );
    charts.set("headline.svg", headline(results));
    md.push(...anchorSection(results));
  }
  for (const r of results) {
    const mark = loadMark(r.load);
    md.push(`## ${r.suite}`, "", r.description, "", `Run ${r.startedAt.slice(0, 16).replace("T", " ")} UTC, ${r.mode} mode${mark ? `, **${mark}**` : ""}.`, "");
    const shown = r.cases.filter((c) => !allSkipped(c));
    // one baseline for the suite goes in the title; several go beside each case
    const several = new Set(shown.map((c) => c.baseline)).size > 1;
    const groups: BarGroup[] = shown.map((c) => ({ label: several ? `${c.name} (vs ${c.baseline})` : c.name, bars: caseBars(c) }));
    const base = several ? "each case's baseline" : baselineLabel(r.cases);
    charts.set(`${r.suite}.svg`, ratioBarChart(`${r.suite}: cost relative to ${base}`, base, groups));
    md.push(`![${r.suite}: cost relative to ${base}](bench/charts/${r.suite}.svg)`, "");
    for (const s of scalingCharts(r)) {
      charts.set(s.file, s.svg);
      md.push(`![${s.series}](bench/charts/${s.file})`, "");
    }
    md.push(...suiteTable(r), "");
  }
  return { markdown: `${md.join("\n").trimEnd()}\n`, charts };
}

/** Writes BENCHMARKS.md and bench/charts/*.svg from `results`; returns the files written. */
export function writeReport(results: SuiteResult[]): string[] {
  const { markdown, charts } = renderReport(results);
  mkdirSync(chartsDir, { recursive: true });
  const written: string[] = [];
  for (const [file, svg] of charts) {
    writeFileSync(path.join(chartsDir, file), svg);
    written.push(path.relative(repoRoot, path.join(chartsDir, file)));
  }
  writeFileSync(reportFile, markdown);
  written.push(path.relative(repoRoot, reportFile));
  return written;
}
