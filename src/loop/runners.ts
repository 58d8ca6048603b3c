/**
 * `run(main)` and `Runner`: the entry point of an aiots program (asyncio.run / asyncio.Runner).
 *
 * A runner owns one loop. `run(fn)` runs `fn` as the main task; a first SIGINT (Ctrl-C) cancels
 * the main task, a second one ends the process as Node would. A SIGINT handler installed while it
 * runs (`loop.addSignalHandler("SIGINT", h)`) replaces this handling, as in asyncio. A
 * `KeyboardInterrupt` nobody catches exits the process with status 130. `close()` cancels the tasks left
 * over and waits for them, shuts the default executor down, and closes the loop.
 * @module
 */
import {
  CancelledError,
  setEventLoop,
  type AbstractEventLoop,
  gatherOn,
  getRunningLoopOrNull,
  allTasks,
  type Task,
} from "../core/index.ts";
import { inspect } from "node:util";
import { newEventLoop } from "./base-events.ts";

/** Thrown by `run()` when SIGINT cancelled the main task (Python's KeyboardInterrupt). */
export class KeyboardInterrupt extends Error {
  override name = "KeyboardInterrupt";
}

export interface RunnerOptions {
  /** Debug mode for the loop (default: `AIOTS_DEBUG` from the environment). */
  debug?: boolean;
  /** Makes the loop (default: `newEventLoop()`); e.g. `() => new VirtualTimeLoop()`. */
  loopFactory?: () => AbstractEventLoop;
}

type RunnerState = "created" | "initialized" | "closed";

let exitHookInstalled = false;

/**
 * A `KeyboardInterrupt` that nobody catches ends the process with status 130, as Python's does
 * (128 + SIGINT), not with Node's 1 for an uncaught error. Installed when run() first throws one;
 * an `uncaughtException` listener of the program's own takes precedence.
 */
function exitWith130WhenUncaught(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("uncaughtExceptionMonitor", (error) => {
    if (!(error instanceof KeyboardInterrupt) || process.listenerCount("uncaughtException") > 0) return;
    process.stderr.write(`${inspect(error)}\n`);
    process.exit(130);
  });
}

/**
 * Runs several top-level functions on one loop, then closes it (asyncio.Runner).
 * @example
 * ```ts
 * import { Runner, sleep } from "aiots";
 * await using runner = new Runner();
 * await runner.run(() => sleep(0.01));
 * console.log(await runner.run(async () => 42)); // same loop
 * ```
 */
export class Runner implements AsyncDisposable {
  readonly #options: RunnerOptions;
  #state: RunnerState = "created";
  #loop: AbstractEventLoop | null = null;
  #setAsCurrent = false;
  #interrupts = 0;

  constructor(options: RunnerOptions = {}) {
    this.#options = options;
  }

  /** The runner's loop (created on first use). */
  getLoop(): AbstractEventLoop {
    return this.#init();
  }

  /**
   * Runs `fn` as a task on the runner's loop and resolves to its result.
   * @throws {Error} if called while a loop is running (await the work there instead).
   * @throws {KeyboardInterrupt} if SIGINT cancelled it.
   */
  async run<T>(fn: () => PromiseLike<T> | T, options: { name?: string } = {}): Promise<T> {
    if (typeof fn !== "function") {
      throw new TypeError("run() takes an async function, e.g. run(main) or run(() => main(args)), not a promise");
    }
    if (getRunningLoopOrNull() !== null) {
      throw new Error("run() cannot be called while an event loop is running: await the function in the running loop instead");
    }
    const loop = this.#init();
    const task = loop.createTask(fn, options);
    this.#interrupts = 0;
    const onSigint = (): void => {
      // A SIGINT handler installed since (loop.addSignalHandler, or process.on) replaces run()'s own
      // Ctrl-C handling, as asyncio's add_signal_handler does: that handler decides what happens.
      if (process.listeners("SIGINT").some((listener) => listener !== onSigint)) return;
      this.#interrupts += 1;
      if (this.#interrupts === 1 && !task.done()) {
        task.cancel();
        return;
      }
      // A second Ctrl-C: give the signal back to Node's default behaviour.
      process.removeListener("SIGINT", onSigint);
      process.kill(process.pid, "SIGINT");
    };
    const handleSigint = process.listenerCount("SIGINT") === 0;
    if (handleSigint) process.on("SIGINT", onSigint);
    try {
      return await loop.runUntilComplete(task);
    } catch (error) {
      if (error instanceof CancelledError && this.#interrupts > 0 && task.uncancel() === 0) {
        exitWith130WhenUncaught();
        throw new KeyboardInterrupt("interrupted by SIGINT", { cause: error });
      }
      throw error;
    } finally {
      if (handleSigint) process.removeListener("SIGINT", onSigint);
    }
  }

  /** Cancels leftover tasks, shuts down the default executor, closes the loop. Idempotent. */
  async close(): Promise<void> {
    if (this.#state !== "initialized") {
      this.#state = "closed";
      return;
    }
    const loop = this.#loop!;
    try {
      await cancelAllTasks(loop);
      await loop.runUntilComplete(loop.shutdownAsyncgens());
      await loop.runUntilComplete(loop.shutdownDefaultExecutor());
    } finally {
      if (this.#setAsCurrent) setEventLoop(null);
      loop.close();
      this.#loop = null;
      this.#state = "closed";
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #init(): AbstractEventLoop {
    if (this.#state === "closed") throw new Error("Runner is closed: create a new Runner");
    if (this.#state === "initialized") return this.#loop!;
    const factory = this.#options.loopFactory;
    const loop = factory === undefined ? newEventLoop() : factory();
    if (factory === undefined) {
      setEventLoop(loop);
      this.#setAsCurrent = true;
    }
    if (this.#options.debug !== undefined) loop.setDebug(this.#options.debug);
    this.#loop = loop;
    this.#state = "initialized";
    return loop;
  }
}

async function cancelAllTasks(loop: AbstractEventLoop): Promise<void> {
  const leftover = [...allTasks(loop)] as Task<unknown>[];
  if (leftover.length === 0) return;
  for (const task of leftover) task.cancel();
  await loop.runUntilComplete(gatherOn(loop, leftover, true));
  for (const task of leftover) {
    if (task.cancelled()) continue;
    const exception = task.exception();
    if (exception !== null) {
      loop.callExceptionHandler({ message: "unhandled exception during run() shutdown", exception, task });
    }
  }
}

/**
 * Runs `main` as the main task of a new loop, then cleans up and closes the loop (asyncio.run).
 * Resolves to `main`'s result. Leftover tasks are cancelled and awaited first.
 * @throws {Error} if called while a loop is running.
 * @example
 * ```ts
 * import { run, sleep } from "aiots";
 * const answer = await run(async () => { await sleep(0.1); return 42; });
 * ```
 */
export async function run<T>(main: () => PromiseLike<T> | T, options: RunnerOptions = {}): Promise<T> {
  if (getRunningLoopOrNull() !== null) {
    throw new Error("run() cannot be called while an event loop is running: await the function in the running loop instead");
  }
  const runner = new Runner(options);
  try {
    return await runner.run(main);
  } finally {
    await runner.close();
  }
}
