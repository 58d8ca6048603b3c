/**
 * `npm run bench`: runs every benchmark suite (or the ones named), each aiots case beside its
 * peers, saves `bench/results/<date>-<suite>.json` and regenerates BENCHMARKS.md with its charts.
 *
 *   npm run bench                      every suite, full mode: BENCHMARKS.md is then made from this one run
 *   npm run bench -- --quick           every suite, short (under 2 minutes in total; saved as *-quick.json,
 *                                      which never replaces a full result in the report)
 *   npm run bench -- tasks scaling     the named suites only
 *   npm run bench -- --reps 7          override every case's repetition count
 *   npm run bench -- --no-save         print only; write no result file and no report
 *   npm run bench -- --report          regenerate BENCHMARKS.md from the saved results, run nothing
 *   npm run bench -- --list            list the suites and their cases
 *   npm run bench -- --max-wait 300    wait up to 300 s (default 180) before each suite for the 1-minute
 *                                      load average to fall under 1.5; a suite started above it is marked
 *                                      "measured under load (L)". --max-wait 0 checks without waiting.
 *
 * Run `bench/setup.sh` first on a fresh clone: it installs the peers and builds the C clients.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Suite } from "./suite.ts";
import { buildCPrograms } from "./harness/build.ts";
import { formatRatio } from "./harness/charts.ts";
import { latestResults, repoRoot, saveResult, type SuiteResult } from "./harness/results.ts";
import { writeReport } from "./harness/report.ts";
import { loadMark } from "./harness/load.ts";
import { killRunningPeers, runSuite, suiteProblems } from "./harness/runner.ts";

interface Args {
  quick: boolean;
  reps?: number;
  save: boolean;
  reportOnly: boolean;
  list: boolean;
  maxWaitSeconds: number;
  suites: string[];
}

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\nusage: npm run bench -- [--quick] [--reps N] [--max-wait S] [--no-save] [--report] [--list] [suite ...]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, save: true, reportOnly: false, list: false, maxWaitSeconds: 180, suites: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") args.quick = true;
    else if (a === "--full") args.quick = false;
    else if (a === "--no-save") args.save = false;
    else if (a === "--report") args.reportOnly = true;
    else if (a === "--list") args.list = true;
    else if (a === "--reps") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) usageError(`--reps needs a positive integer, got ${argv[i]}`);
      args.reps = n;
    } else if (a === "--max-wait") {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n < 0) usageError(`--max-wait needs a number of seconds >= 0, got ${argv[i]}`);
      args.maxWaitSeconds = n;
    } else if (a.startsWith("-")) usageError(`unknown option ${a}`);
    else args.suites.push(a);
  }
  return args;
}

/** Imports every bench/suites/*.ts; a suite that fails to load is reported, not fatal. */
async function loadSuites(wanted: string[]): Promise<Suite[]> {
  const dir = path.join(repoRoot, "bench", "suites");
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts")).sort();
  const available = files.map((f) => f.replace(/\.ts$/, ""));
  for (const name of wanted) {
    if (!available.includes(name)) usageError(`no suite named ${name} (have: ${available.join(", ")})`);
  }
  const suites: Suite[] = [];
  for (const name of available) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    try {
      const mod = (await import(pathToFileURL(path.join(dir, `${name}.ts`)).href)) as { suite?: Suite };
      if (!mod.suite || !Array.isArray(mod.suite.cases)) throw new TypeError("it does not export `suite: Suite`");
      const problems = suiteProblems(mod.suite);
      if (problems.length > 0) throw new TypeError(problems.join("; "));
      suites.push(mod.suite);
    } catch (err) {
      process.stderr.write(`bench: skipping suite ${name}: cannot load bench/suites/${name}.ts: ${String(err)}\n`);
    }
  }
  return suites;
}

function printSummary(r: SuiteResult): void {
  const mark = loadMark(r.load);
  const out: string[] = [`\n== ${r.suite} (${r.mode})${mark ? ` (L) ==\n${mark}` : " =="}`];
  for (const c of r.cases) {
    if (Object.values(c.peers).every((p) => p.status === "skipped")) {
      out.push(`${c.name}  [skipped: full mode only]`);
      continue;
    }
    out.push(`${c.name}  [${c.unit}, ${c.lowerIsBetter ? "lower" : "higher"} is better; ratio = cost vs ${c.baseline}]`);
    for (const [name, p] of Object.entries(c.peers)) {
      if (p.status !== "ok" || !p.stats) {
        const hint = p.status === "missing" && p.requires ? ` (requires: ${p.requires})` : "";
        out.push(`  ${name.padEnd(28)} ${p.status.toUpperCase()}: ${(p.reason ?? "").split("\n")[0]}${hint}`);
        continue;
      }
      const { median, min, max } = p.stats;
      const fmt = (v: number): string => (c.unit === "ms" ? v.toFixed(1) : Math.round(v).toString());
      const ratio = name === c.baseline ? "baseline" : p.ratio !== undefined ? formatRatio(p.ratio) : "";
      out.push(`  ${name.padEnd(28)} ${fmt(median).padStart(10)}  (${fmt(min)} – ${fmt(max)})  ${ratio}`);
    }
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      killRunningPeers(); // peers run in their own process groups, out of reach of the terminal's Ctrl-C
      process.stderr.write(`bench: interrupted (${signal}); nothing saved for the suite in progress\n`);
      process.exit(130);
    });
  }
  if (args.reportOnly) {
    const files = writeReport(latestResults());
    process.stdout.write(`wrote ${files.join(", ")}\n`);
    return;
  }
  const suites = await loadSuites(args.suites);
  if (args.list) {
    for (const s of suites) {
      process.stdout.write(`${s.name}: ${s.description}\n${s.cases.map((c) => `  - ${c.name} (${Object.keys(c.peers).join(", ")})`).join("\n")}\n`);
    }
    return;
  }
  for (const message of buildCPrograms()) process.stderr.write(`bench: ${message}\n`);
  const started = Date.now();
  const runId = new Date(started).toISOString();
  const durations: string[] = [];
  const underLoad: string[] = [];
  for (const suite of suites) {
    const suiteStarted = Date.now();
    const result = await runSuite(suite, {
      quick: args.quick,
      runId,
      loadGate: { maxWaitSeconds: args.maxWaitSeconds },
      ...(args.reps !== undefined ? { repetitions: args.reps } : {}),
    });
    if (result.load?.underLoad) underLoad.push(`${suite.name} (${result.load.atStart})`);
    durations.push(`${suite.name} ${((Date.now() - suiteStarted) / 1000).toFixed(0)} s`);
    printSummary(result);
    if (args.save) process.stderr.write(`bench: saved ${path.relative(repoRoot, saveResult(result))}\n`);
  }
  if (args.save) process.stderr.write(`bench: wrote ${writeReport(latestResults()).join(", ")}\n`);
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(`bench: ${suites.length} suite(s) in ${seconds.toFixed(0)} s, ${args.quick ? "quick" : "full"} mode (${durations.join(", ")})\n`);
  if (underLoad.length > 0) {
    process.stderr.write(`bench: measured under load (L), 1-minute load average >= 1.5 at the start: ${underLoad.join(", ")}\n`);
  }
  if (args.quick && args.suites.length === 0 && seconds > 120) {
    process.stderr.write("bench: --quick is meant to stay under 2 minutes; shorten the slowest suites' quick repetitions or quickArgs\n");
  }
}

await main();
