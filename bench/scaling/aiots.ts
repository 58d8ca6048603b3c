/**
 * Scaling peer, aiots: `aiots.ts spawn N` creates N tasks that each `await sleep(0)`, then awaits
 * them all; `aiots.ts cancel N` creates, starts and cancels N tasks in batches of 10k (each task
 * suspended in a long sleep) and reports the heap growth after a forced GC (run with --expose-gc).
 * Prints the harness report line: total ms.
 */
import { CancelledError, createTask, run, sleep, type Task } from "../../src/index.ts";
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

await run(async () => {
  const work = mode === "cancel" ? cancel : spawn;
  await work(Math.ceil(n / 10)); // untimed 10% warm-up, as ANCHORS.md measured
  const before = heapAfterGc();
  const t0 = performance.now();
  await work(n);
  const ms = performance.now() - t0;
  const after = heapAfterGc();
  report(ms, { heapGrowthBytes: after - before });
});
