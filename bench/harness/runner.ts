/**
 * Runs a suite's cases. How it works: for each case, every peer whose programs exist runs once as
 * an unrecorded warm-up (full mode only), then N rounds run every peer once each, in an order rotated every round
 * (A B C, B C A, C A B, ...) so that slow drift of the machine (thermal, other tenants) spreads
 * over all peers. Every sample is a fresh process, wrapped in `bench/.build/harness/rusage` when
 * it is built so the harness gets the CPU the whole peer used (Node cannot read a child's
 * rusage). A peer whose program, needed files or imports are absent is "missing", with the
 * suite's `requires` hint; one that crashes is "failed" with the tail of its stderr.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import path from "node:path";
import type { BenchCase, PeerCommand, Suite } from "../suite.ts";
import type { CaseResult, PeerResult, Sample, SuiteResult } from "./results.ts";
import { machineInfo, repoRoot, versions } from "./results.ts";
import { costRatio, roundOrder, summarise } from "./stats.ts";
import { type LoadGateOptions, loadMark, waitForQuiet } from "./load.ts";

/** The wait4 wrapper built from bench/harness/rusage.c; peers run without it (no CPU figures) if absent. */
export const rusageBinary = path.join(repoRoot, "bench", ".build", "harness", "rusage");

/** How to run: --quick or full, a repetition override, where progress goes. */
export interface RunOptions {
  quick: boolean;
  /** Overrides every case's repetition count. */
  repetitions?: number;
  /** Progress lines go here (stderr by default). */
  log?: (line: string) => void;
  /** How `runSuite` waits for a quiet machine before the suite (see load.ts); false skips the check. */
  loadGate?: LoadGateOptions | false;
  /** The `npm run bench` invocation the suite belongs to, stored in its result. */
  runId?: string;
}

// Process groups of the peers running right now (at most one at a time), so Ctrl-C ends them too.
const runningGroups = new Set<number>();

function killGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // the group is already gone
  }
}

/** Ends the running peers' process groups; for the harness's SIGINT/SIGTERM handler. */
export function killRunningPeers(): void {
  for (const group of runningGroups) killGroup(group, "SIGKILL");
  runningGroups.clear();
}

/** Outcome of one process: a sample, or why there is none. */
type Attempt = { ok: true; sample: Sample } | { ok: false; missing: boolean; reason: string };

/** Whether `program` can be executed: an existing file if it has a slash, else found on PATH. */
export function programExists(program: string): boolean {
  const candidates = program.includes("/")
    ? [path.resolve(repoRoot, program)]
    : (process.env.PATH ?? "").split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, program));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why a peer cannot run at all (its program or a needed file/program is absent), or null. */
export function absentPrerequisite(peer: PeerCommand): string | null {
  const program = peer.command[0];
  if (program === undefined) return "empty command";
  if (!programExists(program)) return `program not found: ${program}`;
  for (const need of peer.needs ?? []) {
    const present = need.includes("/") ? existsSync(path.resolve(repoRoot, need)) : programExists(need);
    if (!present) return `${need.includes("/") ? "file" : "program"} not found: ${need}`;
  }
  return null;
}

// stderr lines that mean "something this peer needs is not installed", as opposed to a crash.
const missingPatterns: RegExp[] = [
  /ModuleNotFoundError: No module named '[^']+'/,
  /ImportError: [^\n]+/,
  /Cannot find (?:package|module) '[^']+'/,
  /ERR_MODULE_NOT_FOUND[^\n]*/,
  /spawn \S+ ENOENT/,
  /rusage: cannot run [^\n]+/,
  /[\w./-]+: (?:command )?not found/,
];

/** What to show for a crash: the last "SomeError: message" line (Node puts the stack after it), then the tail. */
function crashSummary(text: string, lines = 6): string {
  const all = text.trim().split("\n");
  const message = all.findLast((l) => /^\s*(?:\w+\.)*\w*(?:Error|Exception)\b.*:/.test(l));
  const last = all.slice(-lines);
  return (message !== undefined && !last.includes(message) ? [message.trim(), ...last] : last).join("\n");
}

/** Parses the peer's last stdout line: `{"value": n, "rssBytes"?, "heapBytes"?, "extra"?}`. */
export function parseReport(stdout: string): Omit<Sample, "wallMs"> | null {
  const last = stdout.trim().split("\n").pop() ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(last);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const r = parsed as Record<string, unknown>;
  if (typeof r.value !== "number" || !Number.isFinite(r.value)) return null;
  const sample: Omit<Sample, "wallMs"> = { value: r.value };
  if (typeof r.rssBytes === "number") sample.rssBytes = r.rssBytes;
  if (typeof r.heapBytes === "number") sample.heapBytes = r.heapBytes;
  if (typeof r.extra === "object" && r.extra !== null) sample.extra = r.extra as Record<string, unknown>;
  return sample;
}

/** Runs one peer process to completion (or until `timeoutSeconds`) and reads its report. */
export function runPeerOnce(peer: PeerCommand, extraArgs: string[], timeoutSeconds: number, quick: boolean): Promise<Attempt> {
  const argv = [...peer.command, ...extraArgs];
  const wrapped = existsSync(rusageBinary);
  const [program, ...args] = wrapped ? [rusageBinary, "3", ...argv] : argv;
  const env = { ...process.env, ...peer.env, ...(quick ? { AIOTS_BENCH_QUICK: "1" } : {}) };
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    // detached: the peer leads its own process group, so a timeout (or Ctrl-C) also ends the
    // servers and load clients it started, not just the peer itself
    const child = spawn(program!, args, { cwd: repoRoot, env, detached: true, stdio: ["ignore", "pipe", "pipe", wrapped ? "pipe" : "ignore"] });
    const group = child.pid;
    if (group !== undefined) runningGroups.add(group);
    let stdout = "";
    let stderr = "";
    let usage = "";
    let timedOut = false;
    // both are pipes (stdio above), whatever the types say for a computed stdio array
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      // keep the tail only: a chatty peer must not grow the harness without bound
      stderr = (stderr + d).slice(-20_000);
    });
    const usagePipe = child.stdio[3];
    if (usagePipe && "setEncoding" in usagePipe) {
      (usagePipe as NodeJS.ReadableStream).setEncoding("utf8");
      usagePipe.on("data", (d: string) => (usage += d));
    }
    const timer = setTimeout(() => {
      timedOut = true;
      if (group !== undefined) killGroup(group, "SIGTERM");
      setTimeout(() => group !== undefined && killGroup(group, "SIGKILL"), 5000).unref();
    }, timeoutSeconds * 1000);
    child.on("error", (err) => {
      clearTimeout(timer);
      if (group !== undefined) runningGroups.delete(group);
      resolve({ ok: false, missing: (err as NodeJS.ErrnoException).code === "ENOENT", reason: err.message });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (group !== undefined) {
        runningGroups.delete(group);
        killGroup(group, "SIGKILL"); // whatever the peer left running (e.g. a server it did not stop)
      }
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (timedOut) return resolve({ ok: false, missing: false, reason: `timed out after ${timeoutSeconds} s` });
      const report = parseReport(stdout);
      if (code !== 0 || report === null) {
        for (const pattern of missingPatterns) {
          const m = pattern.exec(stderr);
          if (m) return resolve({ ok: false, missing: true, reason: m[0] });
        }
        const why = code !== 0 ? `exited with ${signal ?? code}` : "no JSON report on the last stdout line";
        return resolve({ ok: false, missing: false, reason: `${why}\n${crashSummary(stderr || stdout)}`.trim() });
      }
      const sample: Sample = { ...report, wallMs: Math.round(wallMs * 10) / 10 };
      try {
        const u = JSON.parse(usage.trim().split("\n").pop() ?? "") as { userSec: number; sysSec: number; maxRssKb: number };
        sample.cpuUserSec = u.userSec;
        sample.cpuSysSec = u.sysSec;
        sample.rssBytes ??= u.maxRssKb * 1024;
      } catch {
        // no wrapper figures: the sample keeps what the peer itself reported
      }
      resolve({ ok: true, sample });
    });
  });
}

function describeSample(unit: string, s: Sample): string {
  const value = unit === "ms" ? s.value.toFixed(1) : Math.round(s.value).toString();
  return `${value} ${unit}`;
}

/** Runs one case: warm-up, then rotated rounds; returns every sample and the summaries. */
export async function runCase(c: BenchCase, options: RunOptions): Promise<CaseResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const reps = options.repetitions ?? (options.quick ? (c.repetitions?.quick ?? 1) : (c.repetitions?.full ?? 5));
  const extraArgs = options.quick ? (c.quickArgs ?? []) : [];
  const timeoutSeconds = c.timeoutSeconds ?? (options.quick ? 90 : 300);
  const peers: Record<string, PeerResult> = {};
  for (const [name, peer] of Object.entries(c.peers)) {
    const command = [...peer.command, ...extraArgs].map((a) => a.replace(repoRoot + path.sep, ""));
    const result: PeerResult = { status: "ok", command, samples: [], errors: [], stats: null };
    if (peer.requires !== undefined) result.requires = peer.requires;
    if (peer.anchor !== undefined) result.anchor = peer.anchor;
    const absent = absentPrerequisite(peer);
    if (options.quick && (c.fullOnly || peer.fullOnly)) {
      result.status = "skipped";
      result.reason = "full mode only (too slow for --quick)";
    } else if (absent !== null) {
      result.status = "missing";
      result.reason = absent;
    }
    peers[name] = result;
  }
  const runnable = (): string[] => Object.keys(peers).filter((n) => peers[n]!.status === "ok");

  // Warm-up: one unrecorded run each (disk cache, CPU frequency, the compile cache of each runtime).
  // --quick skips it to stay short; its first samples may then read a little slow.
  for (const name of options.quick || c.warmup === false ? [] : runnable()) {
    const attempt = await runPeerOnce(c.peers[name]!, extraArgs, timeoutSeconds, options.quick);
    const result = peers[name]!;
    if (attempt.ok) {
      result.warmup = attempt.sample;
    } else {
      result.status = attempt.missing ? "missing" : "failed";
      result.reason = attempt.reason;
      log(`  ${name}: ${result.status}: ${attempt.reason.split("\n")[0]}`);
    }
  }
  const order = runnable();
  for (let round = 0; round < reps; round++) {
    for (const name of roundOrder(order, round)) {
      const result = peers[name]!;
      if (result.status !== "ok") continue; // found missing in an earlier round
      const attempt = await runPeerOnce(c.peers[name]!, extraArgs, timeoutSeconds, options.quick);
      if (attempt.ok) {
        result.samples.push(attempt.sample);
        log(`  [${round + 1}/${reps}] ${name}: ${describeSample(c.unit, attempt.sample)}`);
      } else if (attempt.missing) {
        result.status = "missing";
        result.reason = attempt.reason;
        log(`  ${name}: missing: ${attempt.reason}`);
      } else {
        result.errors.push(attempt.reason);
        log(`  [${round + 1}/${reps}] ${name}: failed: ${attempt.reason.split("\n")[0]}`);
      }
    }
  }
  for (const result of Object.values(peers)) {
    result.stats = summarise(result.samples.map((s) => s.value));
    if (result.status === "ok" && result.stats === null) {
      result.status = "failed";
      result.reason = result.errors[0] ?? "no samples";
    }
  }
  const base = peers[c.baseline]?.stats;
  for (const [name, result] of Object.entries(peers)) {
    if (name === c.baseline || !result.stats || !base) continue;
    result.ratio = costRatio(result.stats.median, base.median, c.lowerIsBetter);
  }
  const out: CaseResult = {
    name: c.name,
    unit: c.unit,
    lowerIsBetter: c.lowerIsBetter,
    baseline: c.baseline,
    repetitions: reps,
    peers,
  };
  if (extraArgs.length > 0) out.extraArgs = extraArgs;
  if (c.target !== undefined) out.target = c.target;
  if (c.scaling !== undefined) out.scaling = c.scaling;
  return out;
}

const units = ["ms", "req/s", "msg/s", "ops/s", "MB", "bytes"];

/** What is wrong with a suite's shape (empty when nothing), in words its author can act on. */
export function suiteProblems(suite: Suite): string[] {
  const problems: string[] = [];
  if (typeof suite.name !== "string" || suite.name === "") problems.push("`name` must be a non-empty string");
  for (const c of suite.cases) {
    const where = `case ${JSON.stringify(c.name)}`;
    if (!units.includes(c.unit)) problems.push(`${where}: unit must be one of ${units.join(", ")}, got ${JSON.stringify(c.unit)}`);
    if (!(c.baseline in c.peers)) problems.push(`${where}: baseline ${JSON.stringify(c.baseline)} is not one of its peers (${Object.keys(c.peers).join(", ")})`);
    for (const [name, peer] of Object.entries(c.peers)) {
      if (!Array.isArray(peer.command) || peer.command.length === 0 || !peer.command.every((a) => typeof a === "string")) {
        problems.push(`${where}: peer ${JSON.stringify(name)} needs command: [program, ...args] (strings)`);
      }
    }
  }
  return problems;
}

/** Runs every case of `suite` and returns the whole result, ready to save. */
export async function runSuite(suite: Suite, options: RunOptions): Promise<SuiteResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const load = options.loadGate === false ? undefined : await waitForQuiet({ log, ...options.loadGate });
  if (load?.underLoad) log(`[${suite.name}] ${loadMark(load)}`);
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const cases: CaseResult[] = [];
  for (const c of suite.cases) {
    log(`[${suite.name}] ${c.name}`);
    cases.push(await runCase(c, options));
  }
  return {
    suite: suite.name,
    description: suite.description,
    mode: options.quick ? "quick" : "full",
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    versions: versions(),
    ...(options.runId !== undefined ? { runId: options.runId } : {}),
    ...(load !== undefined ? { load } : {}),
    cases,
  };
}
