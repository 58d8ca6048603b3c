/** Effection 4 side of the tasks suite (structured concurrency for JavaScript). `<case> <N>`; ms. */
import { all, run, sleep, spawn as spawnTask, type Operation } from "effection";
import { report } from "../suite.ts";

const [name = "spawn", nArg] = process.argv.slice(2);

function* spawnMany(n: number): Operation<void> {
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(yield* spawnTask(() => sleep(0)));
  for (const t of tasks) yield* t;
}

function* gatherTrivial(n: number): Operation<void> {
  const ops: Operation<number>[] = [];
  // eslint-disable-next-line require-yield -- a trivial operation, like Python's trivial coroutine
  for (let i = 0; i < n; i++) ops.push((function* () { return i; })());
  yield* all(ops);
}

function* sleepZero(n: number): Operation<void> {
  for (let i = 0; i < n; i++) yield* sleep(0);
}

function* cancelSleeping(n: number): Operation<void> {
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(yield* spawnTask(() => sleep(10_000)));
  yield* sleep(0);
  for (const t of tasks) yield* t.halt();
}

const cases: Record<string, [(n: number) => Operation<void>, number]> = {
  spawn: [spawnMany, 100_000],
  gather: [gatherTrivial, 100_000],
  sleep0: [sleepZero, 1_000_000],
  cancel: [cancelSleeping, 100_000],
};
const [work, defaultN] = cases[name] ?? [];
if (work === undefined || defaultN === undefined) throw new Error(`unknown case ${name}`);
const n = nArg === undefined ? defaultN : Number(nArg);
const ms = await run(function* () {
  yield* work(Math.max(1, Math.floor(n / 10)));
  const start = performance.now();
  yield* work(n);
  return performance.now() - start;
});
report(ms, { n });
