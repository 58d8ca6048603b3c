/**
 * npm peers of the sync suite: `async-mutex <case> <N>` (its Mutex and Semaphore) and
 * `p-queue queue <N>` (a PQueue with concurrency 1 as the consumer, the producer keeping at most
 * 100 jobs queued with onSizeLessThan). `setImmediate` is `sleep(0)`, as in the hand-rolled peer.
 * A 10% warm-up, then the timed run, in ms.
 */
import { Mutex, Semaphore } from "async-mutex";
import PQueue from "p-queue";
import { report } from "../suite.ts";
import { TASKS, contended } from "./drivers.ts";

const [lib = "async-mutex", name = "lock-held", nArg] = process.argv.slice(2);

async function pQueue(n: number): Promise<void> {
  const queue = new PQueue({ concurrency: 1 });
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (queue.size >= 100) await queue.onSizeLessThan(100);
    void queue.add(() => {
      sum += i;
    });
  }
  await queue.onIdle();
  if (sum !== (n * (n - 1)) / 2) throw new Error("lost items");
}

const cases: Record<string, [(n: number) => Promise<void>, number]> = {
  "async-mutex/lock-held": [(n) => contended(new Mutex(), n, true), 1_000_000],
  "async-mutex/lock-free": [(n) => contended(new Mutex(), n, false), 1_000_000],
  "async-mutex/semaphore": [(n) => contended(new Semaphore(10), n, true), 1_000_000],
  "p-queue/queue": [pQueue, 1_000_000],
};

const [work, defaultN] = cases[`${lib}/${name}`] ?? [];
if (work === undefined || defaultN === undefined) throw new Error(`unknown case ${lib} ${name}; one of ${Object.keys(cases).join(", ")}`);
const n = nArg === undefined ? defaultN : Number(nArg);
await work(Math.max(TASKS, Math.floor(n / 10)));
const start = performance.now();
await work(n);
report(performance.now() - start, { n });
