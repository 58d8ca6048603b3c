/**
 * Sync: the synchronization primitives and queues — producer/consumer through a bounded Queue,
 * contended Lock (held across a sleep(0), and held across nothing), Event fan-out, Semaphore(10) —
 * for aiots beside a minimal hand-rolled JavaScript version, CPython asyncio, uvloop, and the npm
 * libraries people reach for (async-mutex, p-queue). ANCHORS.md has the pre-aiots figures.
 */
import type { BenchCase, PeerCommand, Suite } from "../suite.ts";

const node = process.execPath;
const python = "/usr/bin/python3";
const dir = "bench/sync";
const RAW = "hand-rolled JS";

function peers(name: string, npm: { label: string; lib: string } | null): Record<string, PeerCommand> {
  const all: Record<string, PeerCommand> = {
    aiots: { command: [node, `${dir}/aiots.ts`, name] },
    [RAW]: { command: [node, `${dir}/raw.ts`, name] },
    asyncio: { command: [python, `${dir}/asyncio_peer.py`, name], requires: "Debian's python3 (/usr/bin/python3)" },
    uvloop: { command: [python, `${dir}/asyncio_peer.py`, name, "uvloop"], requires: "apt-get install python3-uvloop (bench/setup.sh)" },
  };
  if (npm !== null) {
    all[npm.label] = { command: [node, `${dir}/npm-peers.ts`, npm.lib, name], requires: `npm install (${npm.lib} is a devDependency)` };
  }
  return all;
}

function syncCase(name: string, title: string, npm: { label: string; lib: string } | null, target: string, quickN: number): BenchCase {
  return {
    name: title,
    unit: "ms",
    lowerIsBetter: true,
    peers: peers(name, npm),
    baseline: RAW,
    target,
    repetitions: { full: 3, quick: 1 },
    quickArgs: [String(quickN)],
  };
}

const asyncMutex = { label: "async-mutex", lib: "async-mutex" };

export const suite: Suite = {
  name: "sync",
  description: "Locks, events, semaphores and queues under contention (ms for the whole run, lower is better).",
  cases: [
    syncCase("queue", "producer/consumer, Queue(100), 1M items", { label: "p-queue", lib: "p-queue" }, "aiots <= 1.5x hand-rolled; >= 3x faster than uvloop", 200_000),
    syncCase("lock-held", "100 tasks x 10k Lock acquire/release, held across a sleep(0)", asyncMutex, "aiots <= 1.2x hand-rolled; >= 2x faster than uvloop and async-mutex", 100_000),
    syncCase("lock-free", "100 tasks x 10k Lock acquire/release, nothing awaited while held", asyncMutex, "aiots <= hand-rolled; >= 4x faster than async-mutex", 100_000),
    syncCase("event", "Event fan-out to 100k waiting tasks", null, "aiots ahead of uvloop", 20_000),
    syncCase("semaphore", "Semaphore(10), 100 tasks x 10k acquisitions held across a sleep(0)", asyncMutex, "aiots ahead of uvloop", 100_000),
  ],
};
