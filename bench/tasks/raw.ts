/**
 * Raw Node baseline of the tasks suite, the way a careful JavaScript programmer would write it:
 * promises, `setImmediate` for a yield, `Promise.all`. `<case> <N>`; 10% warm-up; ms.
 */
import { report } from "../suite.ts";

const [name = "spawn", nArg] = process.argv.slice(2);
const yieldOnce = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function spawn(n: number): Promise<void> {
  const tasks: Promise<void>[] = new Array<Promise<void>>(n);
  for (let i = 0; i < n; i++) tasks[i] = (async () => { await yieldOnce(); })();
  for (const t of tasks) await t;
}

async function gatherTrivial(n: number): Promise<void> {
  const trivial = async (i: number): Promise<number> => i;
  const promises: Promise<number>[] = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) promises[i] = trivial(i);
  await Promise.all(promises);
}

async function sleepZero(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await yieldOnce();
}

// Cancellable sleeps with AbortController and timers/promises: the idiomatic Node equivalent.
async function cancelSleeping(n: number): Promise<void> {
  const { setTimeout: sleepFor } = await import("node:timers/promises");
  const controllers: AbortController[] = new Array<AbortController>(n);
  const tasks: Promise<unknown>[] = new Array<Promise<unknown>>(n);
  for (let i = 0; i < n; i++) {
    const c = (controllers[i] = new AbortController());
    tasks[i] = sleepFor(10_000, undefined, { signal: c.signal });
  }
  await yieldOnce();
  for (const c of controllers) c.abort();
  await Promise.allSettled(tasks);
}

const cases: Record<string, [(n: number) => Promise<void>, number]> = {
  spawn: [spawn, 100_000],
  gather: [gatherTrivial, 100_000],
  sleep0: [sleepZero, 1_000_000],
  cancel: [cancelSleeping, 100_000],
};
const [work, defaultN] = cases[name] ?? [];
if (work === undefined || defaultN === undefined) throw new Error(`unknown case ${name}`);
const n = nArg === undefined ? defaultN : Number(nArg);
await work(Math.max(1, Math.floor(n / 10)));
const start = performance.now();
await work(n);
report(performance.now() - start, { n });
