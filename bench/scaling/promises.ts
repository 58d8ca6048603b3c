/**
 * Scaling peer, raw Node promises: the same work as aiots.ts without a library. `spawn N`: N async
 * functions that each yield once through setImmediate; `cancel N`: N timers raced against an
 * AbortSignal, aborted in batches of 10k. Prints the harness report line: total ms.
 */
import { report } from "../suite.ts";
import { heapAfterGc, scalingArgs } from "./common.ts";

const { mode, n, batch } = scalingArgs();

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function cancellableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }, { once: true });
  });
}

async function spawn(n: number): Promise<void> {
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < n; i++) tasks.push((async () => { await tick(); })());
  for (const t of tasks) await t;
}

async function cancel(n: number): Promise<void> {
  for (let done = 0; done < n; done += batch) {
    const controllers: AbortController[] = [];
    const tasks: Promise<void>[] = [];
    for (let i = 0; i < Math.min(batch, n - done); i++) {
      const c = new AbortController();
      controllers.push(c);
      tasks.push((async () => { await cancellableSleep(3_600_000, c.signal); })());
    }
    await tick();
    for (const c of controllers) c.abort();
    for (const t of tasks) {
      try {
        await t;
      } catch (e) {
        if (!(e instanceof DOMException && e.name === "AbortError")) throw e;
      }
    }
  }
}

const work = mode === "cancel" ? cancel : spawn;
await work(Math.ceil(n / 10)); // untimed 10% warm-up, as ANCHORS.md measured
const before = heapAfterGc();
const t0 = performance.now();
await work(n);
const ms = performance.now() - t0;
report(ms, { heapGrowthBytes: heapAfterGc() - before });
