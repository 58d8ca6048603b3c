/**
 * Scaling peer, raw Node promises: the same work as aiots.ts without a library. `spawn N`: N async
 * functions that each yield once through setImmediate; `cancel N`: N timers raced against an
 * AbortSignal, aborted in batches of 10k; `memory N`: N async functions each awaiting its own pending
 * promise, reporting the heap growth per suspended function. Prints the harness report line: total
 * ms (bytes per async function for memory).
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

async function waitOn(promise: Promise<void>): Promise<void> {
  await promise;
}

/** Heap bytes per async function suspended on a pending promise (its frame, its promise, the awaited promise and its resolver). */
async function memory(n: number): Promise<{ perTask: number; ms: number }> {
  const resolvers = new Array<() => void>(n).fill(undefined as never);
  const running = new Array<Promise<void>>(n).fill(undefined as never);
  const before = heapAfterGc();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const { promise, resolve } = Promise.withResolvers<void>();
    resolvers[i] = resolve;
    running[i] = waitOn(promise);
  }
  await tick();
  const ms = performance.now() - t0;
  const perTask = (heapAfterGc() - before) / n;
  for (const resolve of resolvers) resolve();
  for (const p of running) await p;
  return { perTask, ms };
}

if (mode === "memory") {
  await memory(Math.ceil(n / 10)); // untimed warm-up, as the aiots peer does
  const { perTask, ms } = await memory(n);
  report(perTask, { ms, tasks: n });
  process.exit(0);
}

const work = mode === "cancel" ? cancel : spawn;
await work(Math.ceil(n / 10)); // untimed 10% warm-up, as ANCHORS.md measured
const before = heapAfterGc();
const t0 = performance.now();
await work(n);
const ms = performance.now() - t0;
report(ms, { heapGrowthBytes: heapAfterGc() - before });
