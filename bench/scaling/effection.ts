/**
 * Scaling peer, Effection 4 (structured concurrency for JavaScript): the same work as aiots.ts.
 * `spawn N`: N spawned operations that each `sleep(0)`, then each awaited; `cancel N`: N spawned
 * operations suspended in a long sleep, halted in batches of 10k. Only the small sizes are run:
 * Effection's per-task cost (and its sleep(0), a 1 ms timer) makes 100k+ take minutes.
 */
import { run, sleep, spawn, type Operation, type Task } from "effection";
import { report } from "../suite.ts";
import { heapAfterGc, scalingArgs } from "./common.ts";

const { mode, n, batch } = scalingArgs();

function* spawnMany(n: number): Operation<void> {
  const tasks: Task<void>[] = [];
  for (let i = 0; i < n; i++) tasks.push(yield* spawn(() => sleep(0)));
  for (const t of tasks) yield* t;
}

function* cancelMany(n: number): Operation<void> {
  for (let done = 0; done < n; done += batch) {
    const tasks: Task<void>[] = [];
    for (let i = 0; i < Math.min(batch, n - done); i++) tasks.push(yield* spawn(() => sleep(3_600_000)));
    yield* sleep(0); // let every operation start and suspend in its sleep
    for (const t of tasks) yield* t.halt();
  }
}

const work = mode === "cancel" ? cancelMany : spawnMany;
const { ms, before } = await run(function* () {
  yield* work(Math.ceil(n / 10)); // untimed 10% warm-up, as ANCHORS.md measured
  const before = heapAfterGc();
  const t0 = performance.now();
  yield* work(n);
  return { ms: performance.now() - t0, before };
});
report(ms, { heapGrowthBytes: heapAfterGc() - before });
