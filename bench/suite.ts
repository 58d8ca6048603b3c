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
  /**
   * Programs (looked up on PATH) or files (paths containing "/", relative to the repo root) the
   * peer needs besides `command[0]`, e.g. `["wrk"]` or `["bench/.build/echo/client"]`. If one is
   * absent the peer is reported as missing without being run.
   */
  needs?: string[];
  /**
   * This peer's figure in /work/shared/ANCHORS.md for the same work, in the case's unit; the report
   * checks the run reproduces it (within ±20%, the machine's noise) so aiots is compared on the
   * same ground. The harness also keeps a table of anchors by suite/case/peer (bench/harness/anchors.ts).
   */
  anchor?: number;
  /** Too slow for --quick: this peer runs in full mode only (a quick run lists it as skipped). */
  fullOnly?: boolean;
}

export interface BenchCase {
  /** Short name, e.g. "create+await 100k tasks (sleep(0) each)". */
  name: string;
  /** Unit of `value`: "ms" for durations, "req/s" or "msg/s" for throughput, "bytes" for memory per item. */
  unit: "ms" | "req/s" | "msg/s" | "ops/s" | "MB" | "bytes";
  /** true for durations, false for throughput. */
  lowerIsBetter: boolean;
  /** Peer names → commands. The aiots peer is named "aiots". */
  peers: Record<string, PeerCommand>;
  /** Peer the ratios are computed against (usually the raw Node baseline). */
  baseline: string;
  /** The target from the issue, as text, for the report (e.g. "aiots <= 1.5x raw"). */
  target?: string;
  /** Samples per peer in full mode and in --quick mode (defaults 5 and 1: --quick must stay under 2 minutes). */
  repetitions?: { full: number; quick: number };
  /** Arguments appended to every peer's command in --quick mode (e.g. a smaller N). */
  quickArgs?: string[];
  /**
   * false skips the unrecorded warm-up process (default true in full mode; --quick never warms
   * up): for heavy cases whose peers already warm up inside their own process.
   */
  warmup?: boolean;
  /** Too slow for --quick: run only in full mode (a quick run lists it as skipped). */
  fullOnly?: boolean;
  /** Kill a sample after this many seconds (default 300; 90 in --quick mode). */
  timeoutSeconds?: number;
  /**
   * Marks the case as one point of a scaling curve: cases sharing `series` are plotted together,
   * `x` (e.g. the number of tasks) on a log axis, with each peer's value divided by `x` when
   * `perItem` is true (cost per task rather than total).
   */
  scaling?: { series: string; x: number; xLabel: string; perItem?: boolean };
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
