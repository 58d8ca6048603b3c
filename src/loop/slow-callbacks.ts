/**
 * Debug mode's detector of code that blocks the loop.
 *
 * Callbacks run by the loop are timed one by one. Task code resumes in promise reactions, outside
 * any loop callback, so V8's promise hooks time each reaction while debug mode is on; the task is
 * the one whose async context the reaction runs in. A stretch longer than
 * `loop.slowCallbackDuration` is reported through the loop's exception handler with the task's name
 * and, when known, where it was created. Off (the default), none of this is installed.
 */
import { promiseHooks } from "node:v8";
import { performance } from "node:perf_hooks";
import {
  type AbstractEventLoop,
  currentAwaitingTask,
  type AwaitingTask,
  type Runnable,
  startAwaitSites,
  stopAwaitSites,
  startNeverAwaited,
  stopNeverAwaited,
  slowCallbackChannel,
} from "../core/index.ts";

interface StackAware {
  getCreationStack?(): string | undefined;
}

export class SlowCallbackMonitor {
  readonly #loop: AbstractEventLoop;
  #stopHooks: (() => void) | null = null;
  #depth = 0;
  #startedAt = 0;

  constructor(loop: AbstractEventLoop) {
    this.#loop = loop;
  }

  start(): void {
    startAwaitSites();
    startNeverAwaited();
    const stopBefore = promiseHooks.onBefore(() => {
      if (this.#depth++ === 0) this.#startedAt = performance.now();
    });
    const stopAfter = promiseHooks.onAfter(() => {
      if (this.#depth === 0) return;
      if (--this.#depth !== 0) return;
      const elapsedMs = performance.now() - this.#startedAt;
      // The culprit is looked up only for a slow reaction: reading it calls the current task's
      // done(), which would count as inspecting a task whose completion this reaction was (that
      // reaction runs in the task's context), and hide it from the never-awaited report.
      if (elapsedMs >= this.#loop.slowCallbackDuration * 1000) this.#check(elapsedMs, currentAwaitingTask());
    });
    this.#stopHooks = () => {
      (stopBefore as () => void)();
      (stopAfter as () => void)();
    };
  }

  stop(): void {
    if (this.#stopHooks !== null) stopAwaitSites();
    if (this.#stopHooks !== null) stopNeverAwaited();
    this.#stopHooks?.();
    this.#stopHooks = null;
  }

  timeCallback(runnable: Runnable): void {
    const started = performance.now();
    try {
      runnable.runScheduled();
    } finally {
      this.#check(performance.now() - started, runnable);
    }
  }

  #check(elapsedMs: number, culprit: AwaitingTask | Runnable | undefined): void {
    const seconds = elapsedMs / 1000;
    if (seconds < this.#loop.slowCallbackDuration) return;
    const stack = (culprit as StackAware | undefined)?.getCreationStack?.();
    const what = culprit === undefined ? "code outside any task" : String(culprit);
    if (slowCallbackChannel.hasSubscribers) slowCallbackChannel.publish({ loop: this.#loop, task: culprit, duration: seconds });
    this.#loop.callExceptionHandler({
      message: `Executing ${what} took ${seconds.toFixed(3)} seconds${stack === undefined ? "" : `\ncreated at:\n${stack}`}`,
      slowCallback: true,
      duration: seconds,
    });
  }
}
