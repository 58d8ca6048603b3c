/**
 * Waiting for a Node event as an aiots Future, so that the wait is interrupted by task cancellation
 * and `timeout()` (a native promise from `events.once` would not be).
 */
import type { EventEmitter } from "node:events";
import type { AbstractEventLoop } from "../../core/index.ts";

export interface WaitEventOptions {
  /** Seconds before failing with `onTimeout()`'s error; `null`/absent for no limit. */
  timeout?: number | null;
  onTimeout?: () => Error;
  /** Maps the emitter's `error` event to the error thrown (e.g. to add the address). */
  wrapError?: (error: Error) => Error;
}

function noop(): void {}

/**
 * Resolves with the first argument of `event`, rejects on `error`. On cancellation the listeners are
 * removed and the error propagates; the caller destroys the emitter. A no-op `error` listener stays
 * attached so an error emitted between here and the caller's own listener is never unhandled
 * (streams keep it in `.errored`).
 */
export async function waitEvent<T = unknown>(
  loop: AbstractEventLoop,
  emitter: EventEmitter,
  event: string,
  options: WaitEventOptions = {},
): Promise<T> {
  const fut = loop.createFuture<T>();
  const onEvent = (value: T): void => {
    if (!fut.done()) fut.setResult(value);
  };
  const onError = (error: Error): void => {
    if (!fut.done()) fut.setException(options.wrapError?.(error) ?? error);
  };
  emitter.on(event, onEvent);
  emitter.on("error", onError);
  emitter.on("error", noop);
  const timer =
    options.timeout === undefined || options.timeout === null
      ? null
      : loop.callLater(options.timeout, () => {
          if (!fut.done()) fut.setException(options.onTimeout?.() ?? new Error(`no ${event} event within ${options.timeout} s`));
        });
  try {
    return await fut;
  } finally {
    timer?.cancel();
    emitter.off(event, onEvent);
    emitter.off("error", onError);
  }
}
