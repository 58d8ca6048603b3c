/**
 * Minimal hand-rolled JavaScript peers of the sync suite: `<case> <N>`. A promise-per-waiter lock,
 * semaphore, event and bounded queue, each written the short way a JavaScript developer would,
 * with `setImmediate` as `sleep(0)`. A 10% warm-up, then the timed run, in ms.
 */
import { report } from "../suite.ts";
import { TASKS, contended, sleep0 } from "./drivers.ts";

const [name = "queue", nArg] = process.argv.slice(2);

class Semaphore {
  #value: number;
  readonly #waiters: (() => void)[] = [];
  constructor(value: number) {
    this.#value = value;
  }
  acquire(): Promise<void> {
    if (this.#value > 0 && this.#waiters.length === 0) {
      this.#value -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next(); // hand the permit over
    else this.#value += 1;
  }
}

class Lock extends Semaphore {
  constructor() {
    super(1);
  }
}

class Event {
  #set = false;
  #waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return this.#set ? Promise.resolve() : new Promise((resolve) => this.#waiters.push(resolve));
  }
  set(): void {
    this.#set = true;
    for (const wake of this.#waiters) wake();
    this.#waiters = [];
  }
}

class BoundedQueue<T> {
  readonly #items: T[] = [];
  readonly #getters: ((item: T) => void)[] = [];
  readonly #putters: (() => void)[] = [];
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  async put(item: T): Promise<void> {
    while (this.#items.length >= this.#max) await new Promise<void>((resolve) => this.#putters.push(resolve));
    const getter = this.#getters.shift();
    if (getter !== undefined) getter(item);
    else this.#items.push(item);
  }
  async get(): Promise<T> {
    if (this.#items.length === 0) return new Promise<T>((resolve) => this.#getters.push(resolve));
    const item = this.#items.shift() as T;
    this.#putters.shift()?.();
    return item;
  }
}

async function queue(n: number): Promise<void> {
  const q = new BoundedQueue<number>(100);
  let sum = 0;
  const producer = (async () => {
    for (let i = 0; i < n; i++) await q.put(i);
  })();
  const consumer = (async () => {
    for (let i = 0; i < n; i++) sum += await q.get();
  })();
  await Promise.all([producer, consumer]);
  if (sum !== (n * (n - 1)) / 2) throw new Error("lost items");
}

async function eventFanOut(n: number): Promise<void> {
  const event = new Event();
  const waiters: Promise<void>[] = new Array<Promise<void>>(n);
  for (let i = 0; i < n; i++) waiters[i] = (async () => event.wait())();
  await sleep0();
  event.set();
  await Promise.all(waiters);
}

const cases: Record<string, [(n: number) => Promise<void>, number]> = {
  queue: [queue, 1_000_000],
  "lock-held": [(n) => contended(new Lock(), n, true), 1_000_000],
  "lock-free": [(n) => contended(new Lock(), n, false), 1_000_000],
  event: [eventFanOut, 100_000],
  semaphore: [(n) => contended(new Semaphore(10), n, true), 1_000_000],
};

const [work, defaultN] = cases[name] ?? [];
if (work === undefined || defaultN === undefined) throw new Error(`unknown case ${name}; one of ${Object.keys(cases).join(", ")}`);
const n = nArg === undefined ? defaultN : Number(nArg);
await work(Math.max(TASKS, Math.floor(n / 10)));
const start = performance.now();
await work(n);
report(performance.now() - start, { n });
