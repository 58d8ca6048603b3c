/**
 * `taskGroup` and `TaskGroup`: structured concurrency (asyncio.TaskGroup).
 *
 * The body runs in the calling task. When a child fails, the group cancels the other children and
 * the calling task (which interrupts the body at its current await), waits for every child to
 * finish, takes its own cancellation back, and throws an `ExceptionGroup` of the errors. A
 * cancellation from outside cancels the children and propagates. `tg.cancel()` (CPython 3.15) ends
 * the group early and cleanly: children and body are cancelled and the group returns normally.
 * @module
 */
import { CancelledError, ExceptionGroup } from "./exceptions.ts";
import { getRunningLoop, type AbstractEventLoop, type TaskOptions } from "./events.ts";
import type { Future } from "./futures.ts";
import { addAwaitedBy } from "./internal/awaited-by.ts";
import { inspectSymbol } from "./internal/inspect.ts";
import { currentTask, type Task } from "./tasks.ts";

/**
 * A group of tasks that live no longer than its body. Made by `taskGroup(body)`; `new TaskGroup()`
 * plus `tg.run(body)` lets code hold the group (to `cancel()` it) before it starts.
 * @example
 * ```ts
 * import { run, taskGroup, sleep } from "aiots";
 * await run(async () => {
 *   const results = await taskGroup(async (tg) => {
 *     const a = tg.createTask(() => sleep(0.1, 1));
 *     const b = tg.createTask(() => sleep(0.2, 2));
 *     return [a, b];
 *   });
 *   console.log(results.map((t) => t.result())); // [1, 2]
 * });
 * ```
 */
export class TaskGroup {
  #entered = false;
  #exiting = false;
  #aborting = false;
  #cancelOnEnter = false;
  #loop: AbstractEventLoop | null = null;
  #parent: Task<unknown> | null = null;
  // Whether the group itself cancelled the parent; if so it must uncancel it on exit.
  #parentCancelRequested = false;
  // Invariant: the children not yet done.
  #tasks = new Set<Task<unknown>>();
  #errors: unknown[] = [];
  #allDone: Future<void> | null = null;

  /**
   * Starts `fn` as a child task of the group.
   * @throws {Error} if the group has not started, has finished, or is shutting down.
   */
  createTask<T>(fn: () => PromiseLike<T> | T, options?: TaskOptions): Task<T> {
    if (typeof fn !== "function") {
      throw new TypeError("tg.createTask() takes a function, e.g. tg.createTask(() => work()), not a promise");
    }
    if (!this.#entered) throw new Error(`${this} has not been entered: create tasks inside taskGroup(async (tg) => ...)`);
    if (this.#exiting && this.#tasks.size === 0) throw new Error(`${this} is finished`);
    if (this.#aborting) throw new Error(`${this} is shutting down`);
    const task = this.#loop!.createTask(fn, options);
    addAwaitedBy(task, this.#parent);
    this.#tasks.add(task);
    task.addDoneCallback(this.#onTaskDone as (t: Future<T>) => void);
    // An eager task may have cancelled the group before joining it.
    if (this.#aborting && !task.done()) task.cancel();
    return task;
  }

  /**
   * Ends the group early: cancels the children and the body; the group then returns normally
   * (no `CancelledError`). Before the group starts, it makes the group cancel itself on entry.
   * Idempotent.
   */
  cancel(): void {
    if (!this.#entered) {
      this.#cancelOnEnter = true;
      return;
    }
    if (this.#exiting && this.#tasks.size === 0) return;
    if (this.#aborting) return;
    this.#abort();
    if (this.#parent !== null && !this.#parentCancelRequested) {
      this.#parentCancelRequested = true;
      this.#parent.cancel();
    }
  }

  /** Runs `body` as the group's body and waits for every child. Resolves to the body's value. */
  async run<R>(body: (tg: TaskGroup) => PromiseLike<R> | R): Promise<R> {
    if (typeof body !== "function") throw new TypeError("taskGroup(body): body must be an async function (tg) => ...");
    this.#enter();
    let result: R;
    try {
      result = await body(this);
    } catch (error) {
      // #exit throws what must propagate; if it returns, the error was the group's own cancel.
      await this.#exit(error, true);
      return undefined as R;
    }
    await this.#exit(undefined, false);
    return result;
  }

  toString(): string {
    const state = this.#aborting ? " cancelling" : this.#entered ? " entered" : "";
    return `<TaskGroup tasks=${this.#tasks.size} errors=${this.#errors.length}${state}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #enter(): void {
    if (this.#entered) throw new Error(`${this} has already been entered`);
    this.#loop = getRunningLoop();
    this.#parent = currentTask();
    if (this.#parent === null) throw new Error("taskGroup() must be used inside a task (run(main) or createTask)");
    this.#entered = true;
    if (this.#cancelOnEnter) this.cancel();
  }

  async #exit(error: unknown, failed: boolean): Promise<void> {
    this.#exiting = true;
    let propagateCancel: CancelledError | null = failed && error instanceof CancelledError ? error : null;
    let pendingCancel: CancelledError | null = null;
    if (failed && !this.#aborting) this.#abort();
    while (this.#tasks.size > 0) {
      this.#allDone ??= this.#loop!.createFuture<void>();
      try {
        await this.#allDone;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        pendingCancel = e;
        // The parent is being cancelled from outside while children still run.
        if (!this.#aborting) {
          propagateCancel = e;
          this.#abort();
        }
      }
      this.#allDone = null;
    }
    if (this.#parentCancelRequested) {
      // Only our own cancel was pending: do not let it escape. Otherwise keep the outside one.
      if (this.#parent!.uncancel() === 0) propagateCancel = null;
      else propagateCancel ??= pendingCancel;
    }
    if (propagateCancel !== null && this.#errors.length === 0) throw propagateCancel;
    if (failed && !(error instanceof CancelledError)) this.#errors.push(error);
    if (this.#errors.length > 0) {
      // Keep an outside cancel of the parent counted once.
      if (this.#parent!.cancelling() > 0) {
        this.#parent!.uncancel();
        this.#parent!.cancel();
      }
      const errors = this.#errors;
      this.#errors = [];
      throw new ExceptionGroup("unhandled errors in a TaskGroup", errors);
    }
  }

  #abort(): void {
    this.#aborting = true;
    for (const task of this.#tasks) if (!task.done()) task.cancel();
  }

  readonly #onTaskDone = (task: Task<unknown>): void => {
    this.#tasks.delete(task);
    if (this.#allDone !== null && this.#tasks.size === 0 && !this.#allDone.done()) this.#allDone.setResult();
    if (task.cancelled()) return;
    const error = task.exception();
    if (error === null) return;
    this.#errors.push(error);
    const parent = this.#parent!;
    if (parent.done()) {
      this.#loop!.callExceptionHandler({
        message: `Task ${task.getName()} has errored out but its parent task ${parent.getName()} is already completed`,
        exception: error,
        task,
      });
      return;
    }
    if (!this.#aborting && !this.#parentCancelRequested) {
      // Interrupt the body wherever it awaits; #exit takes this cancel back.
      this.#abort();
      this.#parentCancelRequested = true;
      parent.cancel();
    }
  };
}

/**
 * Runs `body` with a new task group and waits for all its tasks (asyncio's `async with
 * TaskGroup() as tg`). Resolves to the body's value (`undefined` if `tg.cancel()` ended the body).
 * @throws {ExceptionGroup} holding the errors of failed children (and of the body).
 * @example
 * ```ts
 * import { run, taskGroup, sleep } from "aiots";
 * await run(async () => {
 *   await taskGroup(async (tg) => {
 *     tg.createTask(async () => { await sleep(0.1); console.log("one"); });
 *     tg.createTask(async () => { await sleep(0.2); console.log("two"); });
 *   }); // both have finished here
 * });
 * ```
 */
export function taskGroup<R>(body: (tg: TaskGroup) => PromiseLike<R> | R): Promise<R> {
  return new TaskGroup().run(body);
}
