/**
 * The loop's FIFO of runnables: a growable ring buffer. It never shrinks and never moves its
 * items on removal, so pushing and shifting cost a store and an index increment.
 */
import type { AbstractEventLoop } from "../events.ts";
import type { Future } from "../futures.ts";
import type { Runnable } from "./runnable.ts";

export class ReadyQueue {
  // Invariant: items live at #buffer[(#head + i) & #mask] for 0 <= i < #size; capacity is a power of 2.
  #buffer: (Runnable | undefined)[] = new Array<Runnable | undefined>(1024).fill(undefined);
  #mask = 1023;
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: Runnable): void {
    if (this.#size > this.#mask) this.#grow();
    this.#buffer[(this.#head + this.#size) & this.#mask] = item;
    this.#size += 1;
  }

  /** Removes and returns the oldest item; the caller checks `size` first. */
  shift(): Runnable {
    const i = this.#head;
    const item = this.#buffer[i]!;
    this.#buffer[i] = undefined;
    this.#head = (i + 1) & this.#mask;
    this.#size -= 1;
    return item;
  }

  clear(): void {
    this.#buffer.fill(undefined);
    this.#head = 0;
    this.#size = 0;
  }

  #grow(): void {
    const old = this.#buffer;
    const capacity = old.length * 2;
    const next = new Array<Runnable | undefined>(capacity).fill(undefined);
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) & this.#mask];
    this.#buffer = next;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}

// --- the cooperative budget of awaits that complete without suspending ---
//
// The loop lets libuv poll at least every `IO_BUDGET` (512) callbacks. An await that completes
// without suspending (a `drain()` under the high-water mark) never reaches the loop, so a task
// looping on one would keep timers and I/O from running forever. Such fast paths spend this
// budget instead: once `FAST_PATH_BUDGET` of them ran with no libuv turn in between, the next
// one suspends until libuv has polled. The counter is reset by a `setImmediate` armed only once
// half the budget is spent, so the common case (a few fast awaits per I/O turn) costs an increment.

/** Awaits that may complete without suspending between two libuv polls (the loop's `IO_BUDGET`). */
export const FAST_PATH_BUDGET = 512;

let fastPathsUsed = 0;
let fastPathResetArmed = false;

function resetFastPathBudget(): void {
  fastPathsUsed = 0;
  fastPathResetArmed = false;
}

/**
 * Counts one await that completes without suspending; true when the budget is spent and the
 * caller must suspend until libuv has polled (see `yieldToIo`).
 */
export function spendFastPath(): boolean {
  fastPathsUsed += 1;
  if (fastPathsUsed < FAST_PATH_BUDGET / 2) return false;
  if (!fastPathResetArmed) {
    fastPathResetArmed = true;
    setImmediate(resetFastPathBudget);
    return false;
  }
  return fastPathsUsed > FAST_PATH_BUDGET;
}

/**
 * A future on `loop` that resolves once libuv has polled (a `setImmediate` turn): what a fast path
 * awaits when `spendFastPath()` says the budget is spent. Cancelling it (or the awaiting task)
 * takes effect at once.
 */
export function yieldToIo(loop: AbstractEventLoop): Future<void> {
  const turn = loop.createFuture<void>();
  setImmediate(() => {
    if (!turn.done() && !loop.isClosed()) turn.setResult(undefined);
  });
  return turn;
}
