/**
 * aiots side of the sync suite: `<case> <N>`; a 10% warm-up, then the timed run, in ms. The lock
 * rows use acquire/try/finally/release like the hand-rolled peer: V8's `await using` itself costs
 * ~0.5 µs per block (measured on Node 24 with a no-op disposable), which would swamp the lock.
 */
import { Event, Lock, Queue, Semaphore, createTask, gather, run, sleep, type Task } from "../../src/index.ts";
import { report } from "../suite.ts";

const [name = "queue", nArg] = process.argv.slice(2);
const TASKS = 100;

async function queue(n: number): Promise<void> {
  const q = new Queue<number>(100);
  let sum = 0;
  const producer = createTask(async () => {
    for (let i = 0; i < n; i++) await q.put(i);
  });
  const consumer = createTask(async () => {
    for (let i = 0; i < n; i++) sum += await q.get();
  });
  await gather(producer, consumer);
  if (sum !== (n * (n - 1)) / 2) throw new Error("lost items");
}

async function lockHeld(n: number): Promise<void> {
  const lock = new Lock();
  const each = Math.floor(n / TASKS);
  const worker = async (): Promise<void> => {
    for (let i = 0; i < each; i++) {
      await lock.acquire();
      try {
        await sleep(0);
      } finally {
        lock.release();
      }
    }
  };
  await gather(...Array.from({ length: TASKS }, () => createTask(worker)));
}

async function lockFree(n: number): Promise<void> {
  const lock = new Lock();
  const each = Math.floor(n / TASKS);
  let counter = 0;
  const worker = async (): Promise<void> => {
    for (let i = 0; i < each; i++) {
      await lock.acquire();
      try {
        counter += 1;
      } finally {
        lock.release();
      }
    }
  };
  await gather(...Array.from({ length: TASKS }, () => createTask(worker)));
  if (counter !== each * TASKS) throw new Error("lost increments");
}

async function eventFanOut(n: number): Promise<void> {
  const event = new Event();
  const tasks: Task<true>[] = new Array<Task<true>>(n);
  for (let i = 0; i < n; i++) tasks[i] = createTask(() => event.wait());
  await sleep(0); // every task now waits
  event.set();
  await gather(tasks);
}

async function semaphore(n: number): Promise<void> {
  const sem = new Semaphore(10);
  const each = Math.floor(n / TASKS);
  const worker = async (): Promise<void> => {
    for (let i = 0; i < each; i++) {
      await sem.acquire();
      try {
        await sleep(0);
      } finally {
        sem.release();
      }
    }
  };
  await gather(...Array.from({ length: TASKS }, () => createTask(worker)));
}

const cases: Record<string, [(n: number) => Promise<void>, number]> = {
  queue: [queue, 1_000_000],
  "lock-held": [lockHeld, 1_000_000],
  "lock-free": [lockFree, 1_000_000],
  event: [eventFanOut, 100_000],
  semaphore: [semaphore, 1_000_000],
};

const [work, defaultN] = cases[name] ?? [];
if (work === undefined || defaultN === undefined) throw new Error(`unknown case ${name}; one of ${Object.keys(cases).join(", ")}`);
const n = nArg === undefined ? defaultN : Number(nArg);
const ms = await run(async () => {
  await work(Math.max(TASKS, Math.floor(n / 10)));
  const start = performance.now();
  await work(n);
  return performance.now() - start;
});
report(ms, { n });
