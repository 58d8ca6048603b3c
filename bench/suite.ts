/**
 * The shape every benchmark suite exports. A suite is a module `bench/suites/<name>.ts` exporting
 * `suite: Suite`. The harness (`bench/run.ts`) runs each case's peers alternately (A/B/C, A/B/C,
 * ...), every sample in a fresh process, after a warm-up run, and reports median, min, max and the
 * ratio of each peer to the case's `baseline` peer.
 *
 * A peer is a command. It must print, as its last line of stdout, one JSON object:
 * `{"value": <number>, "rssBytes"?: <peak RSS>, "heapBytes"?: <heap after the run>, "extra"?: {...}}`
 * where `value` is in the case's `unit`. A command whose program is missing makes that peer
 * "missing" (reported, never silently skipped).
 */
export interface PeerCommand {
  /** argv: `[program, ...args]`. Use `process.execPath` for Node (the pinned Node 24). */
  command: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Why this peer may be missing and how to get it (e.g. "apt-get install python3-uvloop"). */
  requires?: string;
}

export interface BenchCase {
  /** Short name, e.g. "create+await 100k tasks (sleep(0) each)". */
  name: string;
  /** Unit of `value`: "ms" for durations, "req/s" or "msg/s" for throughput. */
  unit: "ms" | "req/s" | "msg/s" | "ops/s" | "MB";
  /** true for durations, false for throughput. */
  lowerIsBetter: boolean;
  /** Peer names → commands. The aiots peer is named "aiots". */
  peers: Record<string, PeerCommand>;
  /** Peer the ratios are computed against (usually the raw Node baseline). */
  baseline: string;
  /** The target from the issue, as text, for the report (e.g. "aiots <= 1.5x raw"). */
  target?: string;
  /** Samples per peer in full mode and in --quick mode (defaults 5 and 3). */
  repetitions?: { full: number; quick: number };
  /** Arguments appended to every peer's command in --quick mode (e.g. a smaller N). */
  quickArgs?: string[];
}

export interface Suite {
  name: string;
  description: string;
  cases: BenchCase[];
}

/** For peer scripts: print the result line the harness reads. */
export function report(value: number, extra?: Record<string, unknown>): void {
  const usage = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ value, rssBytes: process.resourceUsage().maxRSS * 1024, heapBytes: usage.heapUsed, extra })}\n`,
  );
}
