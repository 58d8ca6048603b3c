/**
 * `sleep(delay, value?)`. `sleep(0)` yields to the loop for exactly one iteration without touching
 * the timer heap; longer sleeps are one timer each, cancelled with the future.
 * @module
 */
import { getRunningLoop, type TimerHandle } from "./events.ts";
import { Future } from "./futures.ts";
import { kScheduleRunnable, type Runnable } from "./internal/runnable.ts";
import { checkDelay } from "./internal/validate.ts";

class SleepFuture<T> extends Future<T> implements Runnable {
  readonly #value: T;
  timer: TimerHandle | null = null;

  constructor(value: T) {
    super();
    this.#value = value;
  }

  runScheduled(): void {
    if (!this.done()) this.setResult(this.#value);
  }

  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this.timer?.cancel();
    this.timer = null;
    return true;
  }
}

function wake(future: SleepFuture<unknown>): void {
  future.timer = null;
  future.runScheduled();
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
export function sleep<T = void>(delay: number, value?: T): Future<T> {
  checkDelay("sleep()", delay);
  const loop = getRunningLoop();
  const future = new SleepFuture<T>(value as T);
  if (delay === 0) loop[kScheduleRunnable](future);
  else future.timer = loop.callLater(delay, wake, future as SleepFuture<unknown>);
  return future;
}
