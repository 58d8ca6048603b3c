/**
 * Debug mode's "never awaited" report: a task that finished with a result (other than `undefined`)
 * which nobody awaited or looked at, reported when it is garbage-collected.
 *
 * How it works: when such a future settles while debug mode runs and nobody awaits it yet (no
 * awaiter, no done callback, no observer), `Future.setResult` hands it here. Its reading methods
 * (`then`, `result`, `exception`, `done`, `addDoneCallback`, and the internal observer) get
 * instance-level wrappers that forget the future on first use; if none is ever called, the
 * FinalizationRegistry reports it with the task's creation stack. Results of `undefined` are left
 * alone: a fire-and-forget task returns nothing. Plain futures are not followed: library code sets
 * results for readers that may never come (waiters, "closed" notifications).
 * Outside debug mode this costs one flag check per `setResult`.
 */
import { markAsUncloneable } from "node:worker_threads";
import type { AbstractEventLoop } from "../events.ts";
import { shortRepr } from "./inspect.ts";

/** Read by `Future.setResult`; true while a debug-mode loop runs. */
export const neverAwaited = { on: false };
let users = 0;

interface Record {
  loop: WeakRef<AbstractEventLoop>;
  what: string;
  stack: string;
}

const registry = new FinalizationRegistry<Record>((record) => {
  const loop = record.loop.deref();
  const message = `${record.what} finished with a result nobody awaited or inspected (a missing await?)\n${record.stack}`;
  if (loop !== undefined) loop.callExceptionHandler({ message });
  else process.emitWarning(message, { type: "NeverAwaitedWarning" });
});

export function startNeverAwaited(): void {
  if (users++ === 0) neverAwaited.on = true;
}

export function stopNeverAwaited(): void {
  if (users > 0 && --users === 0) neverAwaited.on = false;
}

interface Trackable {
  getLoop(): AbstractEventLoop;
  getCreationStack?(): string | undefined;
  getName?(): string;
}

const READERS = ["then", "result", "exception", "done", "addDoneCallback", "catch", "finally"] as const;

/** Called by `Future.setResult` (debug mode, nobody waiting yet, a result other than undefined). */
export function trackUnawaitedResult(future: Trackable & object, result: unknown, observeKey: symbol): void {
  // Tasks only: a plain future's result is often set by library code for a reader that may never
  // come (a waiter, a closed-notification), and a report there would be noise.
  const creation = future.getCreationStack?.();
  if (creation === undefined) return;
  const stack = `task created at:\n${creation}`;
  const what = `${future.getName !== undefined ? `Task ${future.getName()}` : future.constructor.name} (result ${shortRepr(result)})`;
  registry.register(future, { loop: new WeakRef(future.getLoop()), what, stack }, future);
  const target = future as unknown as { [key: string | symbol]: unknown };
  const forget = (): void => {
    registry.unregister(future);
    for (const key of [...READERS, observeKey]) delete target[key];
  };
  for (const key of [...READERS, observeKey]) {
    const original = target[key] as (...args: unknown[]) => unknown;
    Object.defineProperty(future, key, {
      configurable: true,
      writable: true,
      value: function (this: unknown, ...args: unknown[]): unknown {
        forget();
        return original.apply(this, args);
      },
    });
  }
}

/**
 * Debug mode: a future or task posted to a worker thread (`postMessage`, `workerData`) throws
 * `DataCloneError` instead of arriving as an empty object (structured cloning drops `#private`
 * state; a loop-bound object means nothing on another thread's loop).
 */
export function markLoopBound(object: object): void {
  markAsUncloneable(object);
}
