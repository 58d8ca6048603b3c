/**
 * `sleep(delay, value?)`.
 *
 * How it works: a sleep is a native promise plus a small wait object. The wait is registered with
 * the calling task when `sleep()` is called (the task is about to await it), so `task.cancel()`
 * rejects the promise with `CancelledError` and cancels the timer. Awaiting a native promise skips
 * the thenable protocol, which makes `await sleep(0)` about half the cost of awaiting a Future.
 * `sleep(0)` yields for exactly one loop iteration without touching the timer heap.
 * @module
 */
import { CancelledError } from "./exceptions.ts";
import { getRunningLoop, type TimerHandle } from "./events.ts";
import { currentAwaitingTask, newCancelledError, type AwaitingTask, type Cancellable } from "./internal/context.ts";
import { kScheduleRunnable, type Runnable } from "./internal/runnable.ts";
import { checkDelay } from "./internal/validate.ts";

function noop(): void {}

// A cancel settles a wait's promise with this thenable, which rejects it with the CancelledError.
// Resolving it with an already rejected promise would do the same in as many reactions, but such a
// promise has no handler when it is made, so Node's unhandled-rejection hooks run for it (two per
// cancel: ~10% of cancelling 100k sleeping tasks).
class CancelledSettlement {
  readonly #error: CancelledError;

  constructor(error: CancelledError) {
    this.#error = error;
  }

  then(_onFulfilled: unknown, onRejected: (error: unknown) => void): void {
    onRejected(this.#error);
  }
}

// The resolve function of the promise being built in SleepWait's constructor: an executor that
// stores it costs no closure and no {promise, resolve, reject} object, as Promise.withResolvers does.
let builtResolve: ((value: never) => void) | undefined;
function keepResolve(resolve: (value: never) => void): void {
  builtResolve = resolve;
}

// Memory: a program may hold 100,000s of sleeping tasks, each with one wait. The wait keeps only the
// promise's resolve function (a cancel resolves it with a CancelledSettlement), so the reject
// function is garbage at once.
class SleepWait<T> implements Runnable, Cancellable {
  readonly #value: T;
  readonly #task: AwaitingTask | undefined;
  readonly #resolve: (value: T | CancelledSettlement) => void;
  readonly promise: Promise<T>;
  #done = false;
  timer: TimerHandle | null = null;

  constructor(value: T, task: AwaitingTask | undefined) {
    this.#value = value;
    this.#task = task;
    this.promise = new Promise<T>(keepResolve);
    // a thenable is a valid resolution: the promise takes CancelledSettlement's rejection
    this.#resolve = builtResolve as (value: T | CancelledSettlement) => void;
    builtResolve = undefined;
  }

  done(): boolean {
    return this.#done;
  }

  runScheduled(): void {
    if (this.#done) return;
    this.#done = true;
    this.timer = null;
    this.#task?.resumeFrom(this);
    this.#resolve(this.#value);
  }

  cancel(msg?: string): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.timer?.cancel();
    this.timer = null;
    this.#task?.resumeFrom(this);
    // A sleep that was cancelled but never awaited must not crash the process.
    this.promise.catch(noop);
    this.#resolve(new CancelledSettlement(newCancelledError(msg)));
    return true;
  }

  toString(): string {
    return `<sleep ${this.#done ? "done" : "pending"}>`;
  }
}

function wake(wait: SleepWait<unknown>): void {
  wait.runScheduled();
}

/**
 * Suspends the calling task for `delay` seconds, then resolves to `value`. Cancelling the task
 * interrupts the sleep with `CancelledError`. `sleep(0)` lets every other ready task run once.
 * @throws {TypeError} if `delay` is not a number; {RangeError} if it is negative or NaN.
 * @example
 * ```ts
 * import { run, sleep } from "aiots";
 * await run(async () => {
 *   console.log(await sleep(0.1, "awake")); // "awake" after 100 ms
 * });
 * ```
 */
export function sleep<T = void>(delay: number, value?: T): Promise<T> {
  checkDelay("sleep()", delay);
  const loop = getRunningLoop();
  const task = currentAwaitingTask();
  const wait = new SleepWait<T>(value as T, task);
  // Suspend first: a cancel due now settles the wait at once, and the loop sees this task suspended
  // before it schedules the iteration that wakes it (see taskActivity).
  task?.suspendOn(wait);
  if (wait.done()) return wait.promise;
  if (delay === 0) loop[kScheduleRunnable](wait);
  else wait.timer = loop.callLater(delay, wake, wait as SleepWait<unknown>);
  return wait.promise;
}
