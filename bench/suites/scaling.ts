/**
 * Scaling: how the cost of a task grows with the number of tasks alive at once (1k to 1M), for
 * aiots, raw promises, asyncio and uvloop (and Effection 4 up to 10k), plus a leak check (heap growth after creating,
 * starting and cancelling up to a million tasks, 10k at a time, measured after a forced GC), and
 * how echo throughput holds up with 10, 100 and 1,000 concurrent connections.
 */
import type { BenchCase, PeerCommand, Suite } from "../suite.ts";

const node = process.execPath;
const python = "/usr/bin/python3";
const dir = "bench/scaling";

function peers(mode: "spawn" | "cancel", n: number): Record<string, PeerCommand> {
  const args = [mode, String(n)];
  return {
    "raw Node (promises)": { command: [node, "--expose-gc", `${dir}/promises.ts`, ...args] },
    aiots: { command: [node, "--expose-gc", `${dir}/aiots.ts`, ...args] },
    asyncio: { command: [python, `${dir}/asyncio_peer.py`, ...args], requires: "Debian's python3 (/usr/bin/python3)" },
    uvloop: {
      command: [python, `${dir}/asyncio_peer.py`, ...args, "uvloop"],
      requires: "apt-get install python3-uvloop (bench/setup.sh)",
    },
    // Effection only up to 10k (~0.5 ms per task here: 100k would take a minute per sample), and
    // at 10k in full mode only, to keep --quick short
    ...(n <= 10_000
      ? {
          "Effection 4": {
            command: [node, "--expose-gc", `${dir}/effection.ts`, ...args],
            requires: "npm install (effection is a devDependency)",
            ...(n > 1000 ? { fullOnly: true } : {}),
          },
        }
      : {}),
  };
}

const sizes = [1_000, 10_000, 100_000, 1_000_000];
const label = (n: number): string => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);

function scalingCase(mode: "spawn" | "cancel", n: number): BenchCase {
  const big = n >= 1_000_000;
  return {
    name:
      mode === "spawn"
        ? `create+await ${label(n)} tasks, each one sleep(0)`
        : `create, start and cancel ${label(n)} tasks, 10k at a time (leak check)`,
    unit: "ms",
    lowerIsBetter: true,
    peers: peers(mode, n),
    baseline: "raw Node (promises)",
    target: mode === "spawn" ? "cost per task flat from 1k to 1M" : "heap after the run back near the start",
    // the peers warm up in-process (10% of the work first); at 1M a separate warm-up process
    // would only double a multi-minute case
    repetitions: big ? { full: 2, quick: 1 } : { full: 3, quick: 1 },
    warmup: !big,
    scaling: {
      series: mode === "spawn" ? "cost per task: create+await, sleep(0) each" : "cost per task: create, start, cancel",
      x: n,
      xLabel: "tasks",
      perItem: true,
    },
    // --quick keeps the cheap points: spawn up to 100k, cancel at 10k
    ...(big || (mode === "cancel" && n > 10_000) ? { fullOnly: true } : {}),
  };
}

/** Heap per suspended task: ANCHORS.md's "memory per suspended task" row (bytes per task). */
function memoryCase(): BenchCase {
  const n = "200000";
  return {
    name: "memory per suspended task (200k tasks, each awaiting its own pending future)",
    unit: "bytes",
    lowerIsBetter: true,
    peers: {
      // no anchor: ANCHORS.md's 448 B floor keeps no resolver; this peer keeps one per promise, as a future must be settleable
      "raw Node (async function)": { command: [node, "--expose-gc", `${dir}/promises.ts`, "memory", n] },
      aiots: { command: [node, "--expose-gc", `${dir}/aiots.ts`, "memory", n] },
      asyncio: { command: [python, `${dir}/asyncio_peer.py`, "memory", n], requires: "Debian's python3 (/usr/bin/python3)", anchor: 814 },
      uvloop: {
        command: [python, `${dir}/asyncio_peer.py`, "memory", n, "uvloop"],
        requires: "apt-get install python3-uvloop (bench/setup.sh)",
      },
    },
    baseline: "raw Node (async function)",
    target: "aiots <= 800 B per task, below asyncio",
    // allocation is load-independent: one sample per round is as good as five
    repetitions: { full: 3, quick: 1 },
    warmup: false, // each peer warms up in-process (a 10% run first)
    quickArgs: ["50000"],
  };
}

function connectionsCase(conns: number): BenchCase {
  const peer = (kind: string, requires?: string): PeerCommand => ({
    command: [node, `${dir}/conns.ts`, kind, String(conns), "2"],
    needs: [`bench/.build/scaling/client-conns`],
    requires: requires ?? "gcc (bench/setup.sh builds bench/.build/scaling/client-conns)",
  });
  return {
    name: `echo round trips, ${conns} concurrent connections (1 KiB, request/response, C client)`,
    unit: "msg/s",
    lowerIsBetter: false,
    peers: {
      "raw node:net": peer("node"),
      aiots: peer("aiots"),
      "asyncio streams": peer("asyncio"),
      "uvloop streams": peer("uvloop", "apt-get install python3-uvloop (bench/setup.sh)"),
    },
    baseline: "raw node:net",
    target: "throughput holding up from 10 to 1,000 connections",
    repetitions: { full: 3, quick: 1 },
    warmup: false, // conns.ts warms each server up itself, with connections that then close
    quickArgs: ["1"], // seconds of load instead of 2
    timeoutSeconds: 60,
    scaling: { series: "echo throughput vs concurrent connections", x: conns, xLabel: "concurrent connections" },
    ...(conns !== 100 ? { fullOnly: true } : {}),
  };
}

export const suite: Suite = {
  name: "scaling",
  description:
    "How cost grows with size. Tasks: the cost per task from 1k to 1M tasks alive at once (a flat line means " +
    "linear cost), and a leak check, the heap growth after up to a million tasks are created, started and " +
    "cancelled (10k at a time; raw Node yields with setImmediate and cancels through AbortSignal; asyncio and " +
    "uvloop run the same Python script; Effection 4 joins up to 10k tasks, beyond which one sample takes minutes). Memory: heap bytes per task suspended on its own pending future, " +
    "200k at once (Node: heapUsed after a forced GC, --expose-gc; CPython: tracemalloc; the raw Node peer is a plain " +
    "async function awaiting a pending promise, the floor). Connections: echo round trips per second with 10, 100 and 1,000 " +
    "concurrent connections, each server (aiots streams and asyncio/uvloop streams awaiting drain() after every " +
    "write, raw node:net piping each socket into itself) in its own process, driven by a C epoll client; the " +
    "notes give both sides' CPU seconds, so a client-bound figure is visible. The 1M-task and the 10- and " +
    "1,000-connection points, and cancellation past 10k, run in full mode only.",
  cases: [
    ...sizes.map((n) => scalingCase("spawn", n)),
    ...[10_000, 100_000, 1_000_000].map((n) => scalingCase("cancel", n)),
    memoryCase(),
    ...[10, 100, 1000].map(connectionsCase),
  ],
};
