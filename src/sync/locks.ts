/**
 * Synchronization primitives: `Lock`, `Event`, `Condition`, `Semaphore`, `BoundedSemaphore`.
 *
 * How it works: waiters queue in FIFO `WaiterList`s (see `sync/internal/waiter-list.ts`). A release
 * hands the lock or permit straight to the first waiter, so the primitive never looks free while
 * someone waits and a newcomer cannot barge in. An uncontended acquire takes the fast path: no
 * future, just a shared resolved promise. A waiter cancelled in line leaves the line and takes
 * nothing; a waiter woken and then cancelled before it ran again passes what it was given on to
 * the next waiter and throws `CancelledError` from the acquire (asyncio's behaviour).
 * @module
 */
import { CancelledError, inspectSymbol } from "../core/index.ts";
import { RESOLVED_TRUE, RESOLVED_VOID, Waiter, WaiterList, lateCancel } from "./internal/waiter-list.ts";
import { PermitWaiter, type PermitSource } from "./internal/permit-waiter.ts";

/** Something `enter()` can take and give back: what `await using` needs. */
interface Acquirable {
  acquire(): Promise<true>;
  release(): void;
}

// One disposable per primitive, made on first use: releasing is all disposing does.
function releaserOf(target: Acquirable): AsyncDisposable {
  return {
    [Symbol.asyncDispose](): Promise<void> {
      target.release();
      return RESOLVED_VOID;
    },
  };
}

function waitersText(list: WaiterList<Waiter> | WaiterList<PermitWaiter>): string {
  return list.size > 0 ? `, waiters:${list.size}` : "";
}

/**
 * A mutual-exclusion lock for tasks (asyncio.Lock). Not owned by a task: any task may release it.
 *
 * Waiters get the lock in arrival order; a task that calls `acquire()` while others wait queues
 * behind them even if the lock is between owners. A task cancelled while waiting does not get the
 * lock and leaves the line.
 * @example
 * ```ts
 * import { run, Lock, createTask, gather, sleep } from "aiots";
 * await run(async () => {
 *   const lock = new Lock();
 *   const worker = async (name: string) => {
 *     await using _ = await lock.enter(); // released when the block ends, even on error
 *     console.log(name, "has the lock");
 *     await sleep(0.01);
 *   };
 *   await gather(createTask(() => worker("a")), createTask(() => worker("b")));
 * });
 * ```
 */
export class Lock implements Acquirable {
  // Invariant: #waiters non-empty implies #locked (release hands the lock to the first waiter).
  #locked = false;
  readonly #waiters = new WaiterList<PermitWaiter>();
  readonly #releaser: AsyncDisposable = releaserOf(this);
  // A woken waiter cancelled before it ran again gives the lock on (see PermitWaiter).
  readonly #source: PermitSource = { passOn: () => this.release() };
  // A resolved promise of #releaser, made on the first uncontended enter().
  #entered: Promise<AsyncDisposable> | null = null;

  /** Whether the lock is held (or being handed to a woken waiter). */
  locked(): boolean {
    return this.#locked;
  }

  /**
   * Waits until the lock is free, takes it and resolves to `true`. Cancelling the waiting task
   * throws `CancelledError` here and leaves the lock untouched.
   * @throws {CancelledError} if the task is cancelled while waiting.
   */
  acquire(): Promise<true> {
    if (!this.#locked) {
      this.#locked = true;
      return RESOLVED_TRUE;
    }
    return new PermitWaiter(this.#source, "Lock.acquire", true).waitIn(this.#waiters) as Promise<true>;
  }

  /**
   * Releases the lock: the first waiter, if any, gets it.
   * @throws {Error} if the lock is not held.
   */
  release(): void {
    if (!this.#locked) throw new Error("Lock.release() called on an unlocked lock: release only a lock you acquired");
    const next = this.#waiters.shift();
    if (next === null) this.#locked = false;
    else next.wake();
  }

  /**
   * Acquires the lock and resolves to a disposable that releases it: `await using _ = await
   * lock.enter();` is asyncio's `async with lock:`.
   * @throws {CancelledError} if the task is cancelled while waiting.
   */
  enter(): Promise<AsyncDisposable> {
    if (!this.#locked) {
      this.#locked = true;
      return (this.#entered ??= Promise.resolve(this.#releaser));
    }
    return new PermitWaiter(this.#source, "Lock.acquire", this.#releaser).waitIn(this.#waiters) as Promise<AsyncDisposable>;
  }

  toString(): string {
    return `<Lock [${this.#locked ? "locked" : "unlocked"}${waitersText(this.#waiters)}]>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

function wokenTrue(mark: number): true {
  const late = lateCancel(mark);
  if (late !== null) throw late;
  return true;
}

/**
 * A flag tasks can wait for (asyncio.Event): `set()` wakes every waiter, `clear()` resets it.
 * @example
 * ```ts
 * import { run, Event, createTask } from "aiots";
 * await run(async () => {
 *   const ready = new Event();
 *   const t = createTask(async () => { await ready.wait(); console.log("go"); });
 *   ready.set();
 *   await t;
 * });
 * ```
 */
export class Event {
  #value = false;
  // Invariant: #waiters is empty while #value is true.
  readonly #waiters = new WaiterList();

  /** Whether the flag is set. */
  isSet(): boolean {
    return this.#value;
  }

  /** Sets the flag and wakes every waiting task, in the order they started waiting. */
  set(): void {
    if (this.#value) return;
    this.#value = true;
    this.#waiters.wakeAll();
  }

  /** Resets the flag: later `wait()` calls block until the next `set()`. */
  clear(): void {
    this.#value = false;
  }

  /**
   * Resolves to `true` once the flag is set (at once if it is).
   * @throws {CancelledError} if the task is cancelled while waiting.
   */
  wait(): Promise<true> {
    if (this.#value) return RESOLVED_TRUE;
    const waiter = new Waiter("Event.wait");
    this.#waiters.push(waiter);
    return waiter.then(wokenTrue);
  }

  toString(): string {
    return `<Event [${this.#value ? "set" : "unset"}${waitersText(this.#waiters)}]>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

/**
 * A condition variable (asyncio.Condition): tasks holding its lock wait for a notification.
 *
 * `wait()` releases the lock, waits for `notify()`/`notifyAll()`, and takes the lock back before
 * returning, even when cancelled. A task that was notified but is cancelled before it resumes
 * passes its notification to the next waiter. Several conditions may share one `Lock`.
 * @example
 * ```ts
 * import { run, Condition, createTask } from "aiots";
 * await run(async () => {
 *   const cond = new Condition();
 *   const items: number[] = [];
 *   const consumer = createTask(async () => {
 *     await using _ = await cond.enter();
 *     await cond.waitFor(() => items.length > 0);
 *     return items.shift();
 *   });
 *   {
 *     await using _ = await cond.enter();
 *     items.push(1);
 *     cond.notify();
 *   }
 *   console.log(await consumer); // 1
 * });
 * ```
 */
export class Condition implements Acquirable {
  readonly #lock: Lock;
  readonly #waiters = new WaiterList();

  /**
   * @param lock the lock to use (default: a new `Lock`).
   * @throws {TypeError} if `lock` is not a `Lock`.
   */
  constructor(lock?: Lock | null) {
    if (lock !== undefined && lock !== null && !(lock instanceof Lock)) {
      throw new TypeError("Condition(lock) takes an aiots Lock (or nothing, for a new one)");
    }
    this.#lock = lock ?? new Lock();
  }

  /** Whether the underlying lock is held. */
  locked(): boolean {
    return this.#lock.locked();
  }

  /** Acquires the underlying lock (see `Lock.acquire`). */
  acquire(): Promise<true> {
    return this.#lock.acquire();
  }

  /** Releases the underlying lock (see `Lock.release`). */
  release(): void {
    this.#lock.release();
  }

  /** Acquires the underlying lock for `await using _ = await cond.enter();`. */
  enter(): Promise<AsyncDisposable> {
    return this.#lock.enter();
  }

  /**
   * Releases the lock, waits until notified, re-acquires the lock and resolves to `true`. The lock
   * is held again when this returns or throws.
   * @throws {Error} if the lock is not held.
   * @throws {CancelledError} if the task is cancelled (after the lock is taken back).
   */
  async wait(): Promise<true> {
    if (!this.#lock.locked()) {
      throw new Error("Condition.wait() needs the condition's lock: acquire it first (await using _ = await cond.enter())");
    }
    const waiter = new Waiter("Condition.wait");
    this.#lock.release();
    this.#waiters.push(waiter);
    let failure: Error | null;
    try {
      failure = lateCancel(await waiter);
    } catch (error) {
      failure = error as Error;
    }
    // Take the lock back whatever happened: the caller's cleanup expects to hold it.
    for (;;) {
      try {
        await this.#lock.acquire();
        break;
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        failure = error;
      }
    }
    if (failure !== null) {
      // A notification this task will not act on goes to another waiter.
      if (waiter.done() && !waiter.cancelled()) this.#notify(1);
      throw failure;
    }
    return true;
  }

  /**
   * Waits until `predicate()` is truthy, checking it now and after each notification; resolves to
   * its last value. Call with the lock held.
   * @throws {Error} if the lock is not held and the predicate is false.
   */
  async waitFor<T>(predicate: () => T): Promise<T> {
    if (typeof predicate !== "function") throw new TypeError("Condition.waitFor() takes a predicate function");
    let result = predicate();
    while (!result) {
      await this.wait();
      result = predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` waiting tasks (default 1), in the order they started waiting. Each returns from
   * `wait()` once it gets the lock back, so release it after notifying.
   * @throws {Error} if the lock is not held. {RangeError} if `n` is negative or not a number.
   */
  notify(n = 1): void {
    if (typeof n !== "number" || Number.isNaN(n) || n < 0) {
      throw new RangeError(`Condition.notify(n) takes a count >= 0, got ${String(n)}`);
    }
    if (!this.#lock.locked()) {
      throw new Error("Condition.notify() needs the condition's lock: acquire it first (await using _ = await cond.enter())");
    }
    this.#notify(n);
  }

  /**
   * Wakes every waiting task.
   * @throws {Error} if the lock is not held.
   */
  notifyAll(): void {
    this.notify(this.#waiters.size);
  }

  #notify(n: number): void {
    for (let i = 0; i < n; i++) {
      const waiter = this.#waiters.shift();
      if (waiter === null) return;
      waiter.wake();
    }
  }

  toString(): string {
    return `<Condition [${this.#lock.locked() ? "locked" : "unlocked"}${waitersText(this.#waiters)}]>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

/**
 * A counter of permits (asyncio.Semaphore): `acquire()` takes one, waiting while there are none;
 * `release()` gives one back, to the first waiter if any.
 * @example
 * ```ts
 * import { run, Semaphore, createTask, gather, sleep } from "aiots";
 * await run(async () => {
 *   const slots = new Semaphore(2); // at most two downloads at once
 *   const download = async (i: number) => {
 *     await using _ = await slots.enter();
 *     await sleep(0.01);
 *     return i;
 *   };
 *   console.log(await gather(...[1, 2, 3, 4].map((i) => createTask(() => download(i)))));
 * });
 * ```
 */
export class Semaphore implements Acquirable {
  // Invariant: #waiters non-empty implies #value === 0 (a release hands its permit to the first waiter).
  #value: number;
  readonly #waiters = new WaiterList<PermitWaiter>();
  readonly #releaser: AsyncDisposable = releaserOf(this);
  // A woken waiter cancelled before it ran again gives the permit on (see PermitWaiter).
  readonly #source: PermitSource = { passOn: () => this.#giveBack() };
  // For reprs: "Semaphore.acquire" or "BoundedSemaphore.acquire".
  readonly #what: string = `${this.constructor.name}.acquire`;
  // A resolved promise of #releaser, made on the first uncontended enter().
  #entered: Promise<AsyncDisposable> | null = null;

  /**
   * @param value the initial number of permits (default 1).
   * @throws {TypeError} if `value` is not an integer. {RangeError} if it is negative.
   */
  constructor(value = 1) {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new TypeError(`${new.target.name}(value) takes an integer number of permits, got ${String(value)}`);
    }
    if (value < 0) throw new RangeError(`${new.target.name} initial value must be >= 0, got ${value}`);
    this.#value = value;
  }

  /** Whether `acquire()` would wait (no permit is free). */
  locked(): boolean {
    return this.#value === 0;
  }

  /**
   * Takes a permit, waiting for one if none is free; resolves to `true`.
   * @throws {CancelledError} if the task is cancelled while waiting (no permit is taken).
   */
  acquire(): Promise<true> {
    if (this.#value > 0) {
      this.#value -= 1;
      return RESOLVED_TRUE;
    }
    return new PermitWaiter(this.#source, this.#what, true).waitIn(this.#waiters) as Promise<true>;
  }

  /** Gives a permit back: to the first waiter, or to the pool. */
  release(): void {
    this.#giveBack();
  }

  /** Takes a permit for `await using _ = await sem.enter();` (asyncio's `async with sem:`). */
  enter(): Promise<AsyncDisposable> {
    if (this.#value > 0) {
      this.#value -= 1;
      return (this.#entered ??= Promise.resolve(this.#releaser));
    }
    return new PermitWaiter(this.#source, this.#what, this.#releaser).waitIn(this.#waiters) as Promise<AsyncDisposable>;
  }

  /** @internal free permits, for BoundedSemaphore's check. */
  protected get value(): number {
    return this.#value;
  }

  #giveBack(): void {
    const next = this.#waiters.shift();
    if (next === null) this.#value += 1;
    else next.wake();
  }

  toString(): string {
    const state = this.#value === 0 ? "locked" : `unlocked, value:${this.#value}`;
    return `<${this.constructor.name} [${state}${waitersText(this.#waiters)}]>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

/**
 * A `Semaphore` that refuses to be released more times than it was acquired
 * (asyncio.BoundedSemaphore): a release past the initial value throws.
 * @example
 * ```ts
 * import { BoundedSemaphore } from "aiots";
 * const sem = new BoundedSemaphore(1);
 * sem.release(); // throws: released more times than acquired
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  readonly #bound: number;

  /**
   * @param value the initial and maximum number of permits (default 1).
   * @throws {TypeError} if `value` is not an integer. {RangeError} if it is negative.
   */
  constructor(value = 1) {
    super(value);
    this.#bound = value;
  }

  /**
   * Gives a permit back.
   * @throws {Error} if that would exceed the initial value (released too many times).
   */
  override release(): void {
    if (this.value >= this.#bound) {
      throw new Error(`BoundedSemaphore released too many times: it already holds its initial ${this.#bound} permit(s)`);
    }
    super.release();
  }
}
