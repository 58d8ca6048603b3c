/**
 * Debug: what debug mode and the other developer aids cost on the tasks workload, beside raw
 * Node. "aiots" is the default (debug off, nothing subscribed): it must match the tasks suite's
 * aiots figures, i.e. the hooks cost nothing measurable when off. "debug on" pays for slow-callback
 * timing (promise hooks), creation stacks and await sites; "await sites on" for those alone (what
 * `AIOTS_INSPECT=sites` turns on; `AIOTS_INSPECT=1` costs nothing until asked); "channels" for a
 * subscriber on the task channels.
 */
import type { BenchCase, PeerCommand, Suite } from "../suite.ts";

const node = process.execPath;

function peers(name: string, raw: string): Record<string, PeerCommand> {
  const aiots = (mode: string): PeerCommand => ({ command: [node, "bench/debug/aiots.ts", name, mode], env: { AIOTS_DEBUG: "" } });
  return {
    aiots: aiots("off"),
    "aiots, debug on": aiots("on"),
    "aiots, await sites on (AIOTS_INSPECT=sites)": aiots("inspect"),
    "aiots, task channels subscribed": aiots("channels"),
    [raw]: { command: [node, "bench/tasks/raw.ts", name] },
  };
}

function debugCase(name: string, title: string, raw: string, quickN: number): BenchCase {
  return {
    name: title,
    unit: "ms",
    lowerIsBetter: true,
    peers: peers(name, raw),
    baseline: "aiots",
    target: "debug off costs nothing measurable (aiots = the tasks suite's aiots); debug on a few x, never pathological",
    repetitions: { full: 5, quick: 1 },
    quickArgs: [String(quickN)],
  };
}

export const suite: Suite = {
  name: "debug",
  description: "Developer aids: the tasks workload with debug mode off vs on, await sites on, task channels subscribed, and raw Node (ms, lower is better).",
  cases: [
    debugCase("spawn", "create+await 100k tasks, each one sleep(0)", "raw Node (promises, setImmediate)", 20_000),
    debugCase("sleep0", "1M await sleep(0) in one task", "raw Node (setImmediate each)", 200_000),
  ],
};
