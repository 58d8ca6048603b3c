/**
 * Futures over promises aiots does not own: `ensureFuture(promise)`'s adoption and `abortable`.
 *
 * Why: a task suspended on a plain promise (a database driver's, `fetch`'s, `fs.promises`') cannot
 * be interrupted there, because nothing in the promise tells aiots that the task waits on it. An
 * adopted promise is an aiots Future: the task that awaits it is suspended on it, so
 * `task.cancel()` (and so `timeout()` and `waitFor()`) settles it cancelled at once and the
 * `CancelledError` surfaces at that await. The promise itself runs on; its later result is dropped
 * and its later rejection is handled (never reported as unhandled). `abortable` also aborts an
 * `AbortSignal`, so the work behind the promise stops too.
 *
 * One exception keeps structured code correct: a promise that the awaiting task's own code is
 * driving (an `async` function called in the task, such as `lock.acquire()` or a stream read) has
 * aiots waits of its own. When a cancel reaches those, or one of them has just woken the task, the
 * adoption is not cut short: the promise is left to settle, which it does at once with the
 * delivered `CancelledError` (or with whatever the interrupted code returns), so that its cleanup
 * and hand-overs (a lock, a queue item) happen before the awaiting code moves on. See
 * `Task.cancel`.
 * @module
 */
import { getRunningLoop, type AbstractEventLoop } from "./events.ts";
import { Future } from "./futures.ts";
import { kDeferrableCancel, newCancelledError } from "./internal/context.ts";

function rejectionOf(error: unknown): unknown {
  return error === undefined ? new Error("the promise rejected with undefined") : error;
}

/** A Future settled by a promise aiots does not own; cancellable at once. */
class AdoptedFuture<T> extends Future<T> {
  /** @internal a task may leave this future pending when its cancel reached the code driving it. */
  readonly [kDeferrableCancel] = true;

  constructor(promise: PromiseLike<T>, loop: AbstractEventLoop) {
    super({ loop });
    settleFrom(this, promise);
  }
}

function settleFrom<T>(fut: Future<T>, promise: PromiseLike<T>): void {
  const onValue = (value: T): void => {
    if (!fut.done()) fut.setResult(value);
  };
  const onError = (error: unknown): void => {
    if (!fut.done()) fut.setException(rejectionOf(error));
  };
  try {
    promise.then(onValue, onError);
  } catch (error) {
    onError(error); // a thenable whose then() throws
  }
}

/** @internal adopts a promise (any thenable) in a Future of `loop` (see `ensureFuture`). */
export function adoptPromise<T>(promise: PromiseLike<T>, loop: AbstractEventLoop): Future<T> {
  return new AdoptedFuture(promise, loop);
}

/** The Future `abortable` returns: cancelling it aborts the signal its function was given. */
class AbortableFuture<T> extends Future<T> {
  readonly #controller = new AbortController();

  constructor(fn: (signal: AbortSignal) => PromiseLike<T> | T, loop: AbstractEventLoop) {
    super({ loop });
    let out: PromiseLike<T> | T;
    try {
      out = fn(this.#controller.signal);
    } catch (error) {
      this.setException(rejectionOf(error));
      return;
    }
    if (out !== null && (typeof out === "object" || typeof out === "function") && typeof (out as PromiseLike<T>).then === "function") {
      settleFrom(this, out as PromiseLike<T>);
    } else {
      this.setResult(out as T);
    }
  }

  /** Cancels the future at once and aborts the signal (its reason is the `CancelledError`). */
  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this.#controller.abort(newCancelledError(msg));
    return true;
  }

  /** The signal given to the function (aborted once the future is cancelled). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
}

/**
 * Runs `fn` with a fresh `AbortSignal` and returns a Future of its result. Cancelling the future,
 * or the task awaiting it (so also `timeout()` and `waitFor()`), settles it cancelled at once,
 * throwing `CancelledError` at that await, and aborts the signal, whose `reason` is that
 * `CancelledError`; the work's later outcome is ignored (and never reported as unhandled). This is
 * how to bound an API that takes an `AbortSignal`.
 * @throws {TypeError} if `fn` is not a function.
 * @example
 * ```ts
 * import { run, abortable, timeout, TimeoutError } from "aiots";
 * import { setTimeout as delay } from "node:timers/promises";
 * await run(async () => {
 *   try {
 *     await timeout(0.05, () => abortable((signal) => delay(5000, "late", { signal })));
 *   } catch (e) {
 *     console.log(e instanceof TimeoutError); // true, after 50 ms; the Node timer was cleared
 *   }
 * });
 * ```
 */
export function abortable<T>(fn: (signal: AbortSignal) => PromiseLike<T> | T, options: { loop?: AbstractEventLoop } = {}): Future<T> {
  if (typeof fn !== "function") {
    throw new TypeError("abortable() takes a function (signal) => promise, e.g. abortable((signal) => fetch(url, { signal }))");
  }
  return new AbortableFuture(fn, options.loop ?? getRunningLoop());
}
