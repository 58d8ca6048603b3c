/** aiots side of the tasks suite: `<case> <N>`; a 10% warm-up, then the timed run, in ms. */
import { run, createTask, gather, sleep, type Task } from "../../src/index.ts";
import { report } from "../suite.ts";

const [name = "spawn", nArg] = process.argv.slice(2);

async function spawn(n: number): Promise<void> {
  const tasks: Task<void>[] = new Array<Task<void>>(n);
  for (let i = 0; i < n; i++) tasks[i] = createTask(() => sleep(0));
  for (const t of tasks) await t;
}

async function gatherTrivial(n: number): Promise<void> {
  const trivial = async (i: number): Promise<number> => i;
  const promises: Promise<number>[] = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) promises[i] = trivial(i);
  await gather(promises);
}

async function sleepZero(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await sleep(0);
}

async function cancelSleeping(n: number): Promise<void> {
  const tasks: Task<void>[] = new Array<Task<void>>(n);
  for (let i = 0; i < n; i++) tasks[i] = createTask(() => sleep(10));
  await sleep(0); // every task is now suspended in sleep(10)
  for (const t of tasks) t.cancel();
  await gather(tasks, { returnExceptions: true });
}

const cases: Record<string, [(n: number) => Promise<void>, number]> = {
  spawn: [spawn, 100_000],
  gather: [gatherTrivial, 100_000],
  sleep0: [sleepZero, 1_000_000],
  cancel: [cancelSleeping, 100_000],
};

const [work, defaultN] = cases[name] ?? [];
if (work === undefined || defaultN === undefined) throw new Error(`unknown case ${name}; one of ${Object.keys(cases).join(", ")}`);
const n = nArg === undefined ? defaultN : Number(nArg);
const ms = await run(async () => {
  await work(Math.max(1, Math.floor(n / 10)));
  const start = performance.now();
  await work(n);
  return performance.now() - start;
});
report(ms, { n });
