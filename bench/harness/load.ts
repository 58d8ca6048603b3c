/**
 * The quiet-machine gate run before each suite. How it works: the 1-minute load average is read;
 * under the threshold (1.5 on this 2-core machine: one benchmark process plus a little noise) the
 * suite starts at once. Otherwise the harness polls it until it falls under, for at most `maxWaitSeconds`
 * (a 1-minute average needs ~20 s to decay from 2 to 1.5 after the previous suite). If it never does, the
 * suite runs anyway and its result is marked "measured under load (L)", which the summary and
 * BENCHMARKS.md show beside its figures.
 */
import os from "node:os";

/** What the gate saw before a suite, stored with its result. */
export interface LoadCheck {
  /** The 1-minute load average the gate waited for the machine to fall under. */
  threshold: number;
  /** The 1-minute load average when the gate started waiting. */
  before: number;
  /** The 1-minute load average when the suite started. */
  atStart: number;
  /** Seconds spent waiting for the machine to quieten. */
  waitedSeconds: number;
  /** true when the machine was still at or above `threshold` when the suite started: marked (L). */
  underLoad: boolean;
}

/** How the gate waits; every field has a default (threshold 1.5, up to 180 s, polling every 5 s). */
export interface LoadGateOptions {
  threshold?: number;
  maxWaitSeconds?: number;
  pollSeconds?: number;
  /** Reads the 1-minute load average (injectable for tests). */
  read?: () => number;
  /** Waits `ms` (injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Progress lines while waiting. */
  log?: (line: string) => void;
}

/** The default threshold: a 1-minute load average under this counts as a quiet machine. */
export const quietLoad = 1.5;

const round2 = (v: number): number => Math.round(v * 100) / 100;

/**
 * Waits (bounded) for the 1-minute load average to fall under the threshold.
 * @example
 * const load = await waitForQuiet({ maxWaitSeconds: 60 });
 * if (load.underLoad) console.log(`measured under load (L): ${load.atStart}`);
 */
export async function waitForQuiet(options: LoadGateOptions = {}): Promise<LoadCheck> {
  const threshold = options.threshold ?? quietLoad;
  const maxWait = options.maxWaitSeconds ?? 180;
  const poll = options.pollSeconds ?? 5;
  const read = options.read ?? ((): number => os.loadavg()[0]!);
  const sleep = options.sleep ?? ((ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)));
  const before = read();
  let now = before;
  let waited = 0;
  if (now >= threshold && maxWait > 0) {
    options.log?.(`bench: load average ${round2(now)} >= ${threshold}: waiting up to ${maxWait} s for the machine to quieten`);
  }
  while (now >= threshold && waited < maxWait) {
    const step = Math.min(poll, maxWait - waited);
    await sleep(step * 1000);
    waited += step;
    now = read();
  }
  return { threshold, before: round2(before), atStart: round2(now), waitedSeconds: waited, underLoad: now >= threshold };
}

/** The mark a suite measured under load carries in summaries and the report ("" when quiet). */
export function loadMark(load: LoadCheck | undefined): string {
  if (load === undefined || !load.underLoad) return "";
  return `measured under load (L): 1-minute load average ${load.atStart} >= ${load.threshold} after waiting ${load.waitedSeconds} s`;
}
