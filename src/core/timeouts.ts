/**
 * `timeout`, `timeoutAt`, `Timeout` and `waitFor`: deadlines for the current task.
 *
 * How it works (asyncio.timeouts): at the deadline the current task is cancelled, which interrupts
 * whatever the body awaits. When the body ends, the timeout takes its own cancel back with
 * `uncancel()`; if no other cancel is pending, the `CancelledError` becomes a `TimeoutError`. A
 * cancel that came from outside is left as it is, so a timeout never turns a real cancellation into
 * a `TimeoutError`.
 * @module
 */
import { CancelledError, TimeoutError } from "./exceptions.ts";
import { getRunningLoop, type TimerHandle, type Handle } from "./events.ts";
import { isFuture } from "./futures.ts";
import type { Awaitable } from "./gather.ts";
import { inspectSymbol } from "./internal/inspect.ts";
import { currentTask, ensureFuture, type Task } from "./tasks.ts";

type TimeoutState = "created" | "active" | "expiring" | "expired" | "finished";

/**
 * A deadline on the current task, handed to the body of `timeout()`/`timeoutAt()`.
 * @example
 * ```ts
 * import { run, timeout, sleep, getRunningLoop } from "aiots";
 * await run(async () => {
 *   await timeout(1, async (cm) => {
 *     cm.reschedule(getRunningLoop().time() + 2); // extend the deadline
 *     await sleep(1.5);
 *   });
 * });
 * ```
 */
export class Timeout {
  #when: number | null;
  #state: TimeoutState = "created";
  #task: Task<unknown> | null = null;
  #cancellingAtEntry = 0;
  #handle: TimerHandle | Handle | null = null;

  constructor(when: number | null) {
    if (when !== null && (typeof when !== "number" || Number.isNaN(when))) {
      throw new TypeError(`Timeout takes a loop time in seconds or null, got ${String(when)}`);
    }
    this.#when = when;
  }

  /** The deadline in loop time (seconds), or `null` for none. */
  when(): number | null {
    return this.#when;
  }

  /** Moves the deadline (`null` removes it). Only while the body runs. */
  reschedule(when: number | null): void {
    if (this.#state !== "active") {
      if (this.#state === "created") throw new Error("Timeout has not been entered: reschedule() works inside the timeout's body");
      throw new Error(`Cannot change the deadline of a timeout that is ${this.#state}`);
    }
    if (when !== null && (typeof when !== "number" || Number.isNaN(when))) {
      throw new TypeError(`reschedule() takes a loop time in seconds or null, got ${String(when)}`);
    }
    this.#when = when;
    this.#handle?.cancel();
    this.#handle = null;
    if (when === null) return;
    const loop = getRunningLoop();
    this.#handle = when <= loop.time() ? loop.callSoon(this.#onTimeout) : loop.callAt(when, this.#onTimeout);
  }

  /** Whether the deadline passed (and the body was cancelled because of it). */
  expired(): boolean {
    return this.#state === "expiring" || this.#state === "expired";
  }

  /** @internal starts the deadline for the current task. */
  enter(): void {
    if (this.#state !== "created") throw new Error("Timeout has already been entered");
    const task = currentTask();
    if (task === null) throw new Error("timeout() must be used inside a task (run(main) or createTask)");
    this.#task = task;
    this.#cancellingAtEntry = task.cancelling();
    this.#state = "active";
    this.reschedule(this.#when);
  }

  /** @internal ends the deadline; turns the body's CancelledError into TimeoutError if it was ours. */
  exit(error: unknown, failed: boolean): void {
    this.#handle?.cancel();
    this.#handle = null;
    if (this.#state === "expiring") {
      this.#state = "expired";
      if (this.#task!.uncancel() <= this.#cancellingAtEntry && failed && error instanceof CancelledError) {
        throw new TimeoutError("timed out", { cause: error });
      }
    } else if (this.#state === "active") {
      this.#state = "finished";
    }
  }

  toString(): string {
    return `<Timeout [${this.#state}]${this.#when === null ? "" : ` when=${this.#when.toFixed(3)}`}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  readonly #onTimeout = (): void => {
    this.#handle = null;
    if (this.#state !== "active") return;
    this.#task!.cancel();
    this.#state = "expiring";
  };
}

async function runWithin<R>(cm: Timeout, body: (cm: Timeout) => PromiseLike<R> | R): Promise<R> {
  if (typeof body !== "function") throw new TypeError("timeout(delay, body): body must be an async function (cm) => ...");
  cm.enter();
  let result: R;
  try {
    result = await body(cm);
  } catch (error) {
    cm.exit(error, true);
    throw error;
  }
  cm.exit(undefined, false);
  return result;
}

/**
 * Runs `body` with a deadline `delay` seconds from now (`null`: none); past it the body is
 * cancelled and `TimeoutError` is thrown. Resolves to the body's return value.
 * @throws {TimeoutError} when the deadline passed.
 * @example
 * ```ts
 * import { run, timeout, sleep, TimeoutError } from "aiots";
 * await run(async () => {
 *   try { await timeout(0.1, () => sleep(10)); } catch (e) { console.log(e instanceof TimeoutError); } // true
 * });
 * ```
 */
export async function timeout<R>(delay: number | null, body: (cm: Timeout) => PromiseLike<R> | R): Promise<R> {
  if (delay !== null && (typeof delay !== "number" || Number.isNaN(delay))) {
    throw new TypeError(`timeout() takes a delay in seconds or null, got ${String(delay)}`);
  }
  const when = delay === null ? null : getRunningLoop().time() + delay;
  return runWithin(new Timeout(when), body);
}

/** Like `timeout`, with the deadline as a loop time (`loop.time()` seconds). */
export async function timeoutAt<R>(when: number | null, body: (cm: Timeout) => PromiseLike<R> | R): Promise<R> {
  return runWithin(new Timeout(when), body);
}

/**
 * Awaits `awaitable` for at most `timeout` seconds (`null`: no limit). On expiry the awaited work
 * is cancelled, waited for, and `TimeoutError` is thrown (asyncio.wait_for). A promise aiots does
 * not own is adopted with `ensureFuture`, so the wait ends at the deadline even if the promise
 * never settles (its later outcome is ignored); a promise the calling task's own code drives (an
 * `async` function awaiting aiots things) receives the cancel and is waited for.
 * @throws {TimeoutError} when the time ran out.
 * @example
 * ```ts
 * import { run, waitFor, sleep } from "aiots";
 * await run(async () => {
 *   console.log(await waitFor(sleep(0.01, "fast"), 1)); // "fast"
 * });
 * ```
 */
export async function waitFor<T>(awaitable: Awaitable<T>, timeoutSeconds: number | null): Promise<T> {
  if (typeof awaitable === "function") {
    throw new TypeError("waitFor() takes a future, task or promise, not a function: call it (waitFor(work(), 5))");
  }
  if (timeoutSeconds !== null && timeoutSeconds <= 0 && isFuture(awaitable) && awaitable.done()) {
    return awaitable.result();
  }
  const fut = isFuture(awaitable) ? awaitable : ensureFuture(awaitable);
  return timeout(timeoutSeconds, () => fut);
}
