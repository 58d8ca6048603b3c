/**
 * Waiting on things aiots does not own (Node promises, events) in a way `task.cancel()` can reach.
 *
 * How it works: the wait is an aiots Future settled from the foreign promise or event. A task that
 * awaits the Future is suspended on it, so a cancel request cancels the Future and the
 * `CancelledError` surfaces at that await; the `onCancel` hook then undoes what the wait started
 * (aborts a request, removes listeners). An optional deadline (loop time, seconds) settles the
 * Future with `TimeoutError` and runs the same hook.
 */
import { getRunningLoop } from "../events.ts";
import { TimeoutError } from "../exceptions.ts";
import type { Future } from "../futures.ts";

/** Options of `awaitForeign`. */
export interface ForeignWaitOptions {
  /** Runs when the wait ends without a result: cancelled or timed out. */
  onCancel?: () => void;
  /** Loop time (seconds) after which the wait fails with `TimeoutError`; `null` for none. */
  deadline?: number | null;
  /** Message of the `TimeoutError`. */
  timeoutMessage?: string;
}

/**
 * Awaits `promise` through an aiots Future, so that cancelling the calling task interrupts it.
 * @throws the promise's rejection, `CancelledError` when the task is cancelled, `TimeoutError` past
 * the deadline.
 */
export async function awaitForeign<T>(promise: PromiseLike<T>, options: ForeignWaitOptions = {}): Promise<T> {
  const loop = getRunningLoop();
  const fut = loop.createFuture<T>();
  promise.then(
    (value) => {
      if (!fut.done()) fut.setResult(value);
    },
    (error: unknown) => {
      if (!fut.done()) fut.setException(error);
    },
  );
  return await waitFuture(fut, options);
}

/**
 * Awaits a Future that an event source settles, with the deadline and cleanup of `awaitForeign`.
 * @throws as `awaitForeign`.
 */
export async function waitFuture<T>(fut: Future<T>, options: ForeignWaitOptions = {}): Promise<T> {
  const deadline = options.deadline ?? null;
  let timedOut = false;
  const timer =
    deadline === null
      ? null
      : fut.getLoop().callAt(deadline, () => {
          if (fut.done()) return;
          timedOut = true;
          fut.setException(new TimeoutError(options.timeoutMessage ?? "operation timed out"));
        });
  try {
    return await fut;
  } catch (error) {
    if (fut.cancelled() || timedOut) options.onCancel?.();
    throw error;
  } finally {
    timer?.cancel();
  }
}
