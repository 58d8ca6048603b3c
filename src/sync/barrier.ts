/**
 * `Barrier`: tasks wait until `parties` of them have arrived, then all go on together.
 *
 * How it works (asyncio's states): while *filling*, arrivals queue in a `WaiterList` with their
 * arrival index. The arrival that completes the round passes at once and the barrier turns
 * *draining*: the others are woken on the next loop iteration (as asyncio's `notify_all` wakes
 * them), and the barrier is *filling* again once every one of them has resumed. A task that arrives
 * while the barrier drains waits for the drain to end before it joins the next round, so rounds
 * never mix. A waiter cancelled before the round completes leaves it, so the round needs another
 * arrival. `abort()` makes it *broken* until `reset()`.
 * @module
 */
import { BrokenBarrierError, getRunningLoop, inspectSymbol } from "../core/index.ts";
import { RESOLVED_VOID, Waiter, WaiterList } from "./internal/waiter-list.ts";

/** What `Barrier#enter()` resolves to: the arrival index, and a no-op async dispose. */
export interface BarrierPosition extends AsyncDisposable {
  /** This task's arrival index in its round (0 .. parties-1), as `async with barrier as i`. */
  readonly index: number;
}

type BarrierState = "filling" | "draining" | "broken";

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
  // Invariant: #waiters.size < #parties; #waiters is empty unless filling.
  readonly #waiters = new WaiterList();
  // Arrivals that came while the barrier was draining; they join the next round, in order.
  readonly #blocked = new WaiterList();
  // The woken waiters of the round that passed that have not resumed yet (draining while non-empty).
  readonly #passing = new Set<Waiter>();
  #state: BarrierState = "filling";

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

  /** How many tasks are waiting in the current round (0 while the barrier drains, as asyncio). */
  get nWaiting(): number {
    return this.#state === "filling" ? this.#waiters.size : 0;
  }

  /** Whether the barrier is broken (by `abort()`); `reset()` mends it. */
  get broken(): boolean {
    return this.#state === "broken";
  }

  /**
   * Waits for the round to fill and resolves to this task's arrival index. While the barrier is
   * draining (the last round's tasks have not all resumed), waits for that first.
   * @throws {BrokenBarrierError} if the barrier is broken, or is aborted or reset while waiting.
   * @throws {CancelledError} if the task is cancelled while waiting (it leaves the round).
   */
  wait(): Promise<number> {
    if (this.#state === "broken") return Promise.reject(new BrokenBarrierError("Barrier aborted: reset() it before waiting again"));
    const waiter = new Waiter("Barrier.wait");
    if (this.#state === "draining") {
      this.#blocked.push(waiter);
    } else {
      const index = this.#waiters.size;
      if (index + 1 === this.#parties) {
        this.#pass();
        return Promise.resolve(index);
      }
      waiter.item = index;
      this.#waiters.push(waiter);
    }
    return waiter.then(this.#resumed(waiter));
  }

  /**
   * `wait()`, as an async-disposable position: `await using pos = await barrier.enter();` is
   * asyncio's `async with barrier as pos:`, and `pos.index` the arrival index. Leaving the block
   * does nothing (as asyncio's `__aexit__`).
   * @throws as `wait()`.
   * @example
   * ```ts
   * import { run, Barrier, createTask, gather } from "aiots";
   * await run(async () => {
   *   const barrier = new Barrier(2);
   *   const party = async () => {
   *     await using pos = await barrier.enter();
   *     return pos.index;
   *   };
   *   console.log(await gather(createTask(party), createTask(party))); // [ 0, 1 ]
   * });
   * ```
   */
  async enter(): Promise<BarrierPosition> {
    const index = await this.wait();
    return { index, [Symbol.asyncDispose]: () => RESOLVED_VOID };
  }

  /**
   * Returns the barrier to its empty state: tasks waiting in the round now get
   * `BrokenBarrierError`; a broken barrier is usable again.
   */
  reset(): Promise<void> {
    this.#waiters.failAll(() => new BrokenBarrierError("Barrier reset while waiting"));
    if (this.#state === "broken") this.#state = "filling";
    this.#admitBlocked();
    return RESOLVED_VOID;
  }

  /** Breaks the barrier: waiting and later `wait()` calls throw `BrokenBarrierError` until `reset()`. */
  abort(): Promise<void> {
    this.#state = "broken";
    this.#passing.clear();
    this.#waiters.failAll(() => new BrokenBarrierError("Barrier aborted"));
    this.#blocked.failAll(() => new BrokenBarrierError("Barrier aborted"));
    return RESOLVED_VOID;
  }

  toString(): string {
    return `<Barrier [${this.#state}, waiters:${this.nWaiting}/${this.#parties}]>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  // The round is complete: the waiting tasks pass on the next loop iteration, draining meanwhile.
  #pass(): void {
    const woken: Waiter[] = [];
    for (let w = this.#waiters.shift(); w !== null; w = this.#waiters.shift()) woken.push(w);
    if (woken.length === 0) return; // parties == 1: nothing to drain
    this.#state = "draining";
    for (const w of woken) this.#passing.add(w);
    getRunningLoop().callSoon(() => {
      for (const w of woken) {
        if (!w.done()) w.setResult(w.item as number);
        else this.#left(w); // cancelled before the wake-up: it will not resume through #resumed
      }
    });
  }

  // Run in the task, as a waiter resumes with its index.
  #resumed(waiter: Waiter): (index: number) => number {
    return (index) => {
      this.#left(waiter);
      return index;
    };
  }

  #left(waiter: Waiter): void {
    if (!this.#passing.delete(waiter) || this.#passing.size > 0 || this.#state !== "draining") return;
    this.#state = "filling";
    this.#admitBlocked();
  }

  // Arrivals that waited for the drain join the round in order; one may complete it.
  #admitBlocked(): void {
    while (this.#state === "filling" && this.#blocked.size > 0) {
      const waiter = this.#blocked.shift()!;
      const index = this.#waiters.size;
      if (index + 1 === this.#parties) {
        this.#pass();
        waiter.setResult(index);
      } else {
        waiter.item = index;
        this.#waiters.push(waiter);
      }
    }
  }
}
