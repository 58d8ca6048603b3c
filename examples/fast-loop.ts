/**
 * Demo 5 — the "fast loop": 100,000 tasks, each awaiting `sleep(0)` once, on aiots, beside the
 * same work done with raw promises and `setImmediate` (a floor, not a framework).
 *
 *   node examples/fast-loop.ts
 */
import { createTask, gather, run, sleep } from "../src/index.ts";

async function aiotsRound(n: number): Promise<number> {
  const started = performance.now();
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(createTask(async () => sleep(0)));
  await gather(...tasks);
  return performance.now() - started;
}

async function rawRound(n: number): Promise<number> {
  const started = performance.now();
  const work = [];
  for (let i = 0; i < n; i++) work.push((async () => new Promise<void>((resolve) => setImmediate(resolve)))());
  await Promise.all(work);
  return performance.now() - started;
}

export async function fastLoopDemo(n = 100_000, print: (line: string) => void = console.log): Promise<void> {
  await aiotsRound(n / 10); // warm-up, as any benchmark does
  await rawRound(n / 10);
  const aiotsMs = await aiotsRound(n);
  const rawMs = await rawRound(n);
  const count = n.toLocaleString("en-US");
  print(`    aiots: ${count} tasks, each awaiting sleep(0), in ${aiotsMs.toFixed(0)} ms`);
  print(`    raw promises + setImmediate, same work: ${rawMs.toFixed(0)} ms (aiots/raw = ${(aiotsMs / rawMs).toFixed(2)}x)`);
}

if (import.meta.main) await run(() => fastLoopDemo());
