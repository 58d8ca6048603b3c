/**
 * `Barrier`: tasks wait until `parties` of them have arrived, then all go on together.
 *
 * How it works: the tasks waiting for the current round queue in a `WaiterList`; the arrival
 * that completes the round wakes them all with their arrival index and the barrier is at once
 * ready for the next round. (asyncio drains a round under a Condition before the next may fill;
 * waking the whole round at once gives the same indexes and outcomes without the lock traffic.)
 * A waiter cancelled before the round completes leaves it, so the round needs another arrival.
 * @module
 */
import { BrokenBarrierError, inspectSymbol } from "../core/index.ts";
import { RESOLVED_VOID, Waiter, WaiterList } from "./internal/waiter-list.ts";

function indexOf(waiter: Waiter): number {
  return waiter.item as number;
}

/**
 * A barrier for `parties` tasks (asyncio.Barrier). `wait()` resolves, for every task of a round,
 * once the last of them arrives, to the task's arrival index (0 .. parties-1).
 * @example
 * ```ts
 * import { run, Barrier, createTask, gather } from "aiots";
 * await run(async () => {
 *   const barrier = new Barrier(3);
 *   const worker = async (name: string) => {
 *     const index = await barrier.wait(); // all three continue together
 *     console.log(name, "passed as", index);
 *   };
 *   await gather(...["a", "b", "c"].map((n) => createTask(() => worker(n))));
 * });
 * ```
 */
export class Barrier {
  readonly #parties: number;
  // Invariant: #waiters.size < #parties, and #waiters is empty while #broken.
  readonly #waiters = new WaiterList();
  #broken = false;

  /**
   * @param parties how many tasks must arrive before they all pass.
   * @throws {TypeError} if `parties` is not an integer. {RangeError} if it is below 1.
   */
  constructor(parties: number) {
    if (typeof parties !== "number" || !Number.isInteger(parties)) {
      throw new TypeError(`Barrier(parties) takes an integer number of tasks, got ${String(parties)}`);
    }
    if (parties < 1) throw new RangeError(`Barrier(parties) needs parties >= 1, got ${parties}`);
    this.#parties = parties;
  }

  /** How many tasks must arrive for a round to pass. */
  get parties(): number {
    return this.#parties;
  }

  /** How many tasks are waiting in the current round. */
  get nWaiting(): number {
    return this.#waiters.size;
  }

  /** Whether the barrier is broken (by `abort()`); `reset()` mends it. */
  get broken(): boolean {
    return this.#broken;
  }

  /**
   * Waits for the round to fill and resolves to this task's arrival index.
   * @throws {BrokenBarrierError} if the barrier is broken, or is aborted or reset while waiting.
   * @throws {CancelledError} if the task is cancelled while waiting (it leaves the round).
   */
  wait(): Promise<number> {
    if (this.#broken) return Promise.reject(new BrokenBarrierError("Barrier aborted: reset() it before waiting again"));
    const index = this.#waiters.size;
    if (index + 1 === this.#parties) {
      for (let w = this.#waiters.shift(); w !== null; w = this.#waiters.shift()) w.setResult(indexOf(w));
      return Promise.resolve(index);
    }
    const waiter = new Waiter("Barrier.wait");
    waiter.item = index;
    this.#waiters.push(waiter);
    return waiter.then();
  }

  /**
   * Returns the barrier to its empty state: tasks waiting now get `BrokenBarrierError`; a broken
   * barrier is usable again.
   */
  reset(): Promise<void> {
    this.#broken = false;
    this.#waiters.failAll(() => new BrokenBarrierError("Barrier reset while waiting"));
    return RESOLVED_VOID;
  }

  /** Breaks the barrier: waiting and later `wait()` calls throw `BrokenBarrierError` until `reset()`. */
  abort(): Promise<void> {
    this.#broken = true;
    this.#waiters.failAll(() => new BrokenBarrierError("Barrier aborted"));
    return RESOLVED_VOID;
  }

  toString(): string {
    const state = this.#broken ? "broken" : "filling";
    return `<Barrier [${state}, waiters:${this.#waiters.size}/${this.#parties}]>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}
