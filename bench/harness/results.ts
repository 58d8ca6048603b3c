/**
 * The result files the harness writes, one per suite and run: `bench/results/<date>-<suite>.json`,
 * holding the machine, the runtime and peer versions, and every sample of every peer, so a report
 * can be regenerated (or questioned) later without rerunning anything.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { LoadCheck } from "./load.ts";
import type { Summary } from "./stats.ts";

/** One run of one peer process. */
export interface Sample {
  /** The figure the peer reported, in the case's unit. */
  value: number;
  /** Wall time of the whole process as seen by the harness (startup included), ms. */
  wallMs: number;
  /** CPU of the peer process and the children it waited for (from the rusage wrapper), seconds. */
  cpuUserSec?: number;
  cpuSysSec?: number;
  /** Peak RSS: as the peer reported it, else the wrapper's figure. */
  rssBytes?: number;
  /** Heap in use after the run, as the peer reported it. */
  heapBytes?: number;
  /** Whatever else the peer reported (e.g. serverCpu, clientCpu, heapBeforeBytes). */
  extra?: Record<string, unknown>;
}

/** "skipped": a full-mode-only case in a --quick run. */
export type PeerStatus = "ok" | "missing" | "failed" | "skipped";

/** Everything about one peer in one case: status, every sample, the summary and the ratio. */
export interface PeerResult {
  status: PeerStatus;
  /** For missing or failed peers: what was absent, or the tail of stderr. */
  reason?: string;
  /** The suite's hint on how to get a missing peer. */
  requires?: string;
  /** The suite's ANCHORS.md figure for this peer, if it gave one. */
  anchor?: number;
  command: string[];
  warmup?: Sample;
  samples: Sample[];
  /** Samples that failed after a successful warm-up (kept so flakiness is visible). */
  errors: string[];
  stats: Summary | null;
  /** Cost relative to the case's baseline (see costRatio); absent for the baseline itself. */
  ratio?: number;
}

/** One case of a run, as run (repetitions, --quick arguments) with each peer's result. */
export interface CaseResult {
  name: string;
  unit: string;
  lowerIsBetter: boolean;
  baseline: string;
  target?: string;
  scaling?: { series: string; x: number; xLabel: string; perItem?: boolean };
  repetitions: number;
  /** Arguments appended to every peer (the case's quickArgs in --quick mode): a smaller workload. */
  extraArgs?: string[];
  peers: Record<string, PeerResult>;
}

/** The machine a run was on, recorded with every result. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemBytes: number;
  os: string;
  loadAverageAtStart: number[];
}

/** One result file: a suite's whole run. */
export interface SuiteResult {
  suite: string;
  description: string;
  mode: "quick" | "full";
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  versions: Record<string, string>;
  /**
   * The `npm run bench` invocation this result belongs to (its start time, ISO): the report says
   * whether every suite it shows comes from one run.
   */
  runId?: string;
  /** What the quiet-machine gate saw before the suite (absent in results older than the gate). */
  load?: LoadCheck;
  cases: CaseResult[];
}

/** The repository root (bench/harness/../..). */
export const repoRoot = path.resolve(import.meta.dirname, "..", "..");
/** Where result files go: `bench/results/<date>-<suite>.json`. */
export const resultsDir = path.join(repoRoot, "bench", "results");

/** CPU model, cores, memory, OS and the load average right now. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: os.availableParallelism(),
    totalMemBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function tryRun(program: string, args: string[]): string | null {
  try {
    return execFileSync(program, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

const pythonProbe = `
import json, platform, importlib
v = {"python": platform.python_version()}
for m in ("uvloop", "aiohttp", "websockets"):
    try:
        v[m] = importlib.import_module(m).__version__
    except Exception:
        pass
print(json.dumps(v))
`;

/** Node, Python and every peer library's version, as installed right now. */
export function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  const py = tryRun("/usr/bin/python3", ["-c", pythonProbe]);
  if (py !== null) {
    try {
      Object.assign(out, JSON.parse(py) as Record<string, string>);
    } catch {
      // an unparsable probe leaves the Python versions out; peers using it will fail visibly
    }
  }
  for (const pkg of ["effection", "ws", "async-mutex", "p-queue", "undici"]) {
    const file = path.join(repoRoot, "node_modules", pkg, "package.json");
    if (existsSync(file)) out[pkg] = (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  }
  const wrk = tryRun("wrk", ["-v"]) ?? "";
  const m = /wrk (\S+)/.exec(wrk);
  if (m) out.wrk = m[1]!;
  return out;
}

/**
 * Writes `<date>-<suite>.json` for a full run, `<date>-<suite>-quick.json` for a --quick one (one
 * per suite, mode and day: a later run that day replaces it), so a quick check never replaces the
 * full figures the report is made from.
 */
export function saveResult(result: SuiteResult): string {
  mkdirSync(resultsDir, { recursive: true });
  const suffix = result.mode === "quick" ? "-quick" : "";
  const file = path.join(resultsDir, `${result.startedAt.slice(0, 10)}-${result.suite}${suffix}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
  return file;
}

/** Every result file in `dir` (half-written or foreign JSON files are skipped). */
export function readResults(dir = resultsDir): SuiteResult[] {
  if (!existsSync(dir)) return [];
  const out: SuiteResult[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    try {
      const r = JSON.parse(readFileSync(path.join(dir, name), "utf8")) as SuiteResult;
      if (typeof r.suite === "string" && Array.isArray(r.cases)) out.push(r);
    } catch {
      // a half-written or foreign file is not a result
    }
  }
  return out;
}

/**
 * The result the report shows for every suite: the newest full-mode run of each, or its newest
 * --quick run when it has never run in full. Sorted by suite name.
 */
export function pickLatest(results: SuiteResult[]): SuiteResult[] {
  const newest = new Map<string, SuiteResult>();
  const rank = (r: SuiteResult): string => `${r.mode === "full" ? 1 : 0}${r.startedAt}`;
  for (const r of results) {
    const prev = newest.get(r.suite);
    if (prev === undefined || rank(prev) < rank(r)) newest.set(r.suite, r);
  }
  return [...newest.values()].sort((a, b) => a.suite.localeCompare(b.suite));
}

/** The newest result of every suite found in bench/results (full runs first; see pickLatest). */
export function latestResults(): SuiteResult[] {
  return pickLatest(readResults());
}
