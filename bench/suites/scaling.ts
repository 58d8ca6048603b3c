/**
 * Scaling: how the cost of a task grows with the number of tasks alive at once (1k to 1M), for
 * aiots, raw promises, asyncio and uvloop, plus a leak check: heap growth after creating,
 * starting and cancelling up to a million tasks (10k at a time), measured after a forced GC.
 * Concurrent-connection scaling (10/100/1,000 connections) is not measured yet: aiots streams did
 * not exist when this suite was written.
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
        : `create, start and cancel ${label(n)} tasks, 10k at a time (leak check: heap growth after GC)`,
    unit: "ms",
    lowerIsBetter: true,
    peers: peers(mode, n),
    baseline: "raw Node (promises)",
    target: mode === "spawn" ? "cost per task flat from 1k to 1M" : "heap after the run back near the start",
    repetitions: big ? { full: 3, quick: 1 } : { full: 5, quick: 1 },
    scaling: {
      series: mode === "spawn" ? "cost per task: create+await, sleep(0) each" : "cost per task: create, start, cancel",
      x: n,
      xLabel: "tasks",
      perItem: true,
    },
    ...(big ? { fullOnly: true } : {}),
  };
}

export const suite: Suite = {
  name: "scaling",
  description:
    "How the cost per task grows from 1k to 1M tasks (a flat line means linear cost), and a leak check: heap " +
    "growth after a million tasks are created, started and cancelled. raw Node yields with setImmediate and " +
    "cancels through AbortSignal; asyncio and uvloop run the same Python script. The 1M points run in full " +
    "mode only. Connection scaling (10/100/1,000) is not included yet: aiots streams did not exist when this " +
    "suite was written.",
  cases: [...sizes.map((n) => scalingCase("spawn", n)), ...[10_000, 100_000, 1_000_000].map((n) => scalingCase("cancel", n))],
};
