/**
 * Scaling peer, aiots: `aiots.ts spawn N` creates N tasks that each `await sleep(0)`, then awaits
 * them all; `aiots.ts cancel N` creates, starts and cancels N tasks in batches of 10k (each task
 * suspended in a long sleep) and reports the heap growth after a forced GC (run with --expose-gc);
 * `aiots.ts memory N` creates N tasks each awaiting its own pending future and reports the heap
 * growth per suspended task. Prints the harness report line: total ms (bytes per task for memory).
 */
import { CancelledError, createTask, getRunningLoop, run, sleep, type Future, type Task } from "../../src/index.ts";
import { report } from "../suite.ts";
import { heapAfterGc, scalingArgs } from "./common.ts";

const { mode, n, batch } = scalingArgs();

async function spawn(n: number): Promise<void> {
  const tasks: Task<void>[] = [];
  for (let i = 0; i < n; i++) tasks.push(createTask(async () => { await sleep(0); }));
  for (const t of tasks) await t;
}

async function cancel(n: number): Promise<void> {
  for (let done = 0; done < n; done += batch) {
    const tasks: Task<void>[] = [];
    for (let i = 0; i < Math.min(batch, n - done); i++) tasks.push(createTask(async () => { await sleep(3600); }));
    await sleep(0); // let every task start and suspend in its sleep
    for (const t of tasks) t.cancel();
    for (const t of tasks) {
      try {
        await t;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
      }
    }
  }
}

async function waitOn(future: Future<void>): Promise<void> {
  await future;
}

/** Heap bytes per task suspended on a pending future (the task, its function, its frame, the future). */
async function memory(n: number): Promise<{ perTask: number; ms: number }> {
  const loop = getRunningLoop();
  const futures = new Array<Future<void>>(n).fill(undefined as never);
  const tasks = new Array<Task<void>>(n).fill(undefined as never);
  const before = heapAfterGc();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const future = loop.createFuture<void>();
    futures[i] = future;
    tasks[i] = createTask(() => waitOn(future));
  }
  await sleep(0); // every task starts and suspends on its future
  const ms = performance.now() - t0;
  const perTask = (heapAfterGc() - before) / n;
  for (const f of futures) f.setResult();
  for (const t of tasks) await t;
  return { perTask, ms };
}

await run(async () => {
  if (mode === "memory") {
    await memory(Math.ceil(n / 10)); // untimed warm-up: compiled code and grown queues are not per-task memory
    const { perTask, ms } = await memory(n);
    report(perTask, { ms, tasks: n });
    return;
  }
  const work = mode === "cancel" ? cancel : spawn;
  await work(Math.ceil(n / 10)); // untimed 10% warm-up, as ANCHORS.md measured
  const before = heapAfterGc();
  const t0 = performance.now();
  await work(n);
  const ms = performance.now() - t0;
  const after = heapAfterGc();
  report(ms, { heapGrowthBytes: after - before });
});
