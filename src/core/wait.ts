/**
 * `wait` and `asCompleted`: watching a set of awaitables finish.
 * @module
 */
import { TimeoutError } from "./exceptions.ts";
import { getRunningLoop, type AbstractEventLoop, type TimerHandle } from "./events.ts";
import { Future } from "./futures.ts";
import type { Awaitable } from "./gather.ts";
import { ensureFuture } from "./tasks.ts";

export const FIRST_COMPLETED = "FIRST_COMPLETED";
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
export const ALL_COMPLETED = "ALL_COMPLETED";
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

export interface WaitOptions {
  /** Seconds to wait at most (`null`: no limit). On expiry `wait` returns; it does not throw. */
  timeout?: number | null;
  returnWhen?: ReturnWhen;
}

function toFutures<T>(what: string, awaitables: Iterable<Awaitable<T>>, loop: AbstractEventLoop): Set<Future<T>> {
  if (awaitables === null || typeof awaitables !== "object" || !(Symbol.iterator in awaitables)) {
    throw new TypeError(`${what} takes an iterable (an array or set) of futures, tasks or promises`);
  }
  const futures = new Set<Future<T>>();
  for (const aw of new Set(awaitables)) futures.add(ensureFuture(aw, loop));
  return futures;
}

function checkTimeout(what: string, timeout: unknown): asserts timeout is number | null {
  if (timeout !== null && (typeof timeout !== "number" || Number.isNaN(timeout))) {
    throw new TypeError(`${what}: timeout must be a number of seconds or null, got ${String(timeout)}`);
  }
}

/**
 * Waits until the given awaitables complete as `returnWhen` says (`ALL_COMPLETED` by default,
 * `FIRST_COMPLETED`, `FIRST_EXCEPTION`) or `timeout` seconds pass; resolves to `[done, pending]`.
 * Nothing is cancelled, and a timeout does not throw. Promises are adopted with `ensureFuture`:
 * the sets hold those futures, and the wait ends at the timeout even if a promise never settles.
 * @throws {TypeError} for an empty set or an unknown `returnWhen`.
 * @example
 * ```ts
 * import { run, wait, createTask, sleep, FIRST_COMPLETED } from "aiots";
 * await run(async () => {
 *   const fast = createTask(() => sleep(0.1)), slow = createTask(() => sleep(1));
 *   const [done, pending] = await wait([fast, slow], { returnWhen: FIRST_COMPLETED });
 *   console.log(done.has(fast), pending.has(slow)); // true true
 *   slow.cancel();
 * });
 * ```
 */
export async function wait<T>(
  awaitables: Iterable<Awaitable<T>>,
  options: WaitOptions = {},
): Promise<[Set<Future<T>>, Set<Future<T>>]> {
  const { timeout = null, returnWhen = ALL_COMPLETED } = options;
  if (returnWhen !== FIRST_COMPLETED && returnWhen !== FIRST_EXCEPTION && returnWhen !== ALL_COMPLETED) {
    throw new TypeError(`wait(): invalid returnWhen ${String(returnWhen)}; use FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED`);
  }
  checkTimeout("wait()", timeout);
  const loop = getRunningLoop();
  const futures = toFutures("wait()", awaitables, loop);
  if (futures.size === 0) throw new TypeError("wait() needs at least one future, task or promise");
  const waiter = loop.createFuture<void>();
  let timer: TimerHandle | null = null;
  if (timeout !== null) timer = loop.callLater(Math.max(0, timeout), () => {
    if (!waiter.done()) waiter.setResult();
  });
  let left = futures.size;
  const onDone = (future: Future<T>): void => {
    left -= 1;
    if (
      left <= 0 ||
      returnWhen === FIRST_COMPLETED ||
      (returnWhen === FIRST_EXCEPTION && !future.cancelled() && future.exception() !== null)
    ) {
      timer?.cancel();
      if (!waiter.done()) waiter.setResult();
    }
  };
  for (const f of futures) f.addDoneCallback(onDone);
  try {
    await waiter;
  } finally {
    timer?.cancel();
    for (const f of futures) f.removeDoneCallback(onDone);
  }
  const done = new Set<Future<T>>();
  const pending = new Set<Future<T>>();
  for (const f of futures) (f.done() ? done : pending).add(f);
  return [done, pending];
}

/**
 * What `asCompleted` returns: iterate it with `for...of` to get promises of the results in
 * completion order, or with `for await` to get the finished futures themselves (CPython 3.13).
 */
export class AsCompleted<T> implements Iterable<Promise<T>>, AsyncIterable<Future<T>> {
  #todo: Set<Future<T>>;
  #left: number;
  // Finished futures not handed out yet; `null` marks the timeout.
  #finished: (Future<T> | null)[] = [];
  #waiters: Future<void>[] = [];
  #timer: TimerHandle | null = null;
  readonly #loop: AbstractEventLoop;

  constructor(awaitables: Iterable<Awaitable<T>>, timeout: number | null) {
    checkTimeout("asCompleted()", timeout);
    this.#loop = getRunningLoop();
    this.#todo = toFutures("asCompleted()", awaitables, this.#loop);
    this.#left = this.#todo.size;
    if (timeout !== null) this.#timer = this.#loop.callLater(Math.max(0, timeout), this.#onTimeout);
    for (const f of this.#todo) f.addDoneCallback(this.#onDone);
  }

  *[Symbol.iterator](): Iterator<Promise<T>> {
    while (this.#left > 0) {
      this.#left -= 1;
      yield this.#next().then(([f]) => f.result());
    }
  }

  // Written by hand: an async generator would await each yielded future and yield its result.
  [Symbol.asyncIterator](): AsyncIterator<Future<T>> {
    return {
      next: async (): Promise<IteratorResult<Future<T>>> => {
        if (this.#left <= 0) return { done: true, value: undefined };
        this.#left -= 1;
        const [f] = await this.#next();
        return { done: false, value: f };
      },
    };
  }

  // Resolves to a one-element array: a future itself would be adopted (awaited) by the promise.
  async #next(): Promise<[Future<T>]> {
    while (this.#finished.length === 0) {
      const waiter = this.#loop.createFuture<void>();
      this.#waiters.push(waiter);
      try {
        await waiter;
      } finally {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
      }
    }
    const f = this.#finished.shift()!;
    if (f === null) {
      this.#finished.unshift(null); // every later call times out too
      throw new TimeoutError("asCompleted() timed out");
    }
    return [f];
  }

  #wake(): void {
    for (let waiter = this.#waiters.shift(); waiter !== undefined; waiter = this.#waiters.shift()) {
      if (!waiter.done()) {
        waiter.setResult();
        return;
      }
    }
  }

  readonly #onDone = (f: Future<T>): void => {
    if (!this.#todo.delete(f)) return;
    this.#finished.push(f);
    if (this.#todo.size === 0) this.#timer?.cancel();
    this.#wake();
  };

  readonly #onTimeout = (): void => {
    for (const f of this.#todo) f.removeDoneCallback(this.#onDone);
    this.#todo.clear();
    this.#finished.push(null);
    for (const waiter of this.#waiters.splice(0)) if (!waiter.done()) waiter.setResult();
  };
}

/**
 * Yields the given awaitables as they complete (asyncio.as_completed). With `for...of`, each item
 * is a promise of the next result; with `for await`, each item is the next finished future or
 * task itself (promises were adopted in futures by `ensureFuture`). Past `timeout` seconds, awaiting the next item
 * throws `TimeoutError`.
 * @example
 * ```ts
 * import { run, asCompleted, sleep } from "aiots";
 * await run(async () => {
 *   for (const next of asCompleted([sleep(0.2, "slow"), sleep(0.1, "fast")])) console.log(await next);
 *   // fast, slow
 * });
 * ```
 */
export function asCompleted<T>(awaitables: Iterable<Awaitable<T>>, options: { timeout?: number | null } = {}): AsCompleted<T> {
  return new AsCompleted(awaitables, options.timeout ?? null);
}
