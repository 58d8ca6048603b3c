/**
 * Tasks: the core runtime's costs — creating and awaiting tasks, gathering, one task yielding a
 * million times, cancelling sleeping tasks — for aiots beside raw promises, CPython asyncio and
 * uvloop (the figures of ANCHORS.md's task rows). Effection 4 is not a peer here: it takes ~40 s
 * for 100k tasks (ANCHORS.md: 10 s on a quieter machine) and its sleep(0) is a 1 ms timer, so a
 * full run would take hours; `bench/tasks/effection.ts <case> <N>` runs it by hand.
 */
import type { BenchCase, PeerCommand, Suite } from "../suite.ts";

const node = process.execPath;
const python = "/usr/bin/python3";
const dir = "bench/tasks";

function peers(name: string, withRaw: string | null): Record<string, PeerCommand> {
  const all: Record<string, PeerCommand> = {
    aiots: { command: [node, `${dir}/aiots.ts`, name] },
    asyncio: { command: [python, `${dir}/asyncio_peer.py`, name], requires: "Debian's python3 (/usr/bin/python3)" },
    uvloop: { command: [python, `${dir}/asyncio_peer.py`, name, "uvloop"], requires: "apt-get install python3-uvloop (bench/setup.sh)" },
  };
  if (withRaw !== null) all[withRaw] = { command: [node, `${dir}/raw.ts`, name] };
  return all;
}

function taskCase(name: string, title: string, raw: string, target: string, quickN: number): BenchCase {
  return {
    name: title,
    unit: "ms",
    lowerIsBetter: true,
    peers: peers(name, raw),
    baseline: raw,
    target,
    repetitions: { full: 5, quick: 1 },
    quickArgs: [String(quickN)],
  };
}

export const suite: Suite = {
  name: "tasks",
  description: "Core runtime: task creation and switching, gather, sleep(0), cancellation (ms for the whole run, lower is better).",
  cases: [
    taskCase("spawn", "create+await 100k tasks, each one sleep(0)", "raw Node (promises, setImmediate)", "aiots <= 1.5x raw; >= 2.5x faster than uvloop", 20_000),
    taskCase("gather", "gather of 100k trivial coroutines", "raw Node (Promise.all)", "aiots <= 2x raw; >= 7x faster than uvloop", 20_000),
    taskCase("sleep0", "1M await sleep(0) in one task", "raw Node (setImmediate each)", "aiots <= 300 ms (3x faster than uvloop)", 200_000),
    taskCase("cancel", "cancel 100k tasks sleeping in sleep(10)", "raw Node (AbortController + timers/promises)", "aiots ahead of uvloop", 20_000),
  ],
};
