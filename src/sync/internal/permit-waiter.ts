/**
 * `PermitWaiter`: what a `Lock` or `Semaphore` acquire waits on when nothing is free.
 *
 * Why not a `Waiter` (a Future): awaiting a future's chained promise costs a native promise, a
 * derived promise and a reaction closure per wait. This is one object with a native promise,
 * registered with the awaiting task (`suspendOn`), as `sleep()` and a WebSocket `recv()` are, so
 * cancelling the task rejects it at once and takes it out of the line.
 *
 * A release hands the permit over with `wake()`: the waiter is done from then on, and its task
 * resumes from the loop's ready queue, behind the callbacks already due, as asyncio's
 * `Task.__wakeup` does. When it runs, a cancel that landed in between (the task's `takeLateCancel`)
 * is thrown from the acquire instead, and the permit goes on to the next in line (`passOn`), as
 * asyncio's `Lock.acquire` does in its `except CancelledError` branch.
 */
import {
  CancelledError,
  getRunningLoop,
  inspectSymbol,
  kScheduleRunnable,
  makeInternalError,
  currentAwaitingTask,
  type AbstractEventLoop,
  type AwaitingTask,
  type Cancellable,
  type Runnable,
} from "../../core/index.ts";
import type { LineNode, WaiterList } from "./waiter-list.ts";

/** The primitive a permit waiter waits on: gives a permit it was handed to the next in line. */
export interface PermitSource {
  passOn(): void;
}

const PENDING = 0;
const WOKEN = 1;
const DONE = 2;

function noop(): void {}

export class PermitWaiter implements Cancellable, Runnable, LineNode {
  // Invariant: list !== null exactly while this waiter is pending and linked into list.
  list: WaiterList<PermitWaiter> | null = null;
  prev: PermitWaiter | null = null;
  next: PermitWaiter | null = null;
  readonly promise: Promise<unknown>;
  readonly #source: PermitSource;
  // What the acquire resolves to: true, or the primitive's releaser for enter().
  readonly #value: unknown;
  // For reprs ("Lock.acquire").
  readonly #what: string;
  readonly #task: AwaitingTask | undefined;
  readonly #loop: AbstractEventLoop;
  #resolve: (value: unknown) => void = noop;
  #reject: (reason: unknown) => void = noop;
  #state = PENDING;

  constructor(source: PermitSource, what: string, value: unknown) {
    this.#source = source;
    this.#what = what;
    this.#value = value;
    this.#task = currentAwaitingTask();
    this.#loop = getRunningLoop();
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Joins `line` (unless a cancel due now ends the wait at once) and returns the acquire's promise. */
  waitIn(line: WaiterList<PermitWaiter>): Promise<unknown> {
    // Suspend first: a cancel due now settles the wait at once (as sleep() does).
    this.#task?.suspendOn(this);
    if (this.#state === PENDING) line.push(this);
    return this.promise;
  }

  done(): boolean {
    return this.#state !== PENDING;
  }

  /** Hands the permit to this waiter (it must be out of its line: see `WaiterList.shift`). */
  wake(): void {
    if (this.#state !== PENDING) return;
    this.#state = WOKEN;
    this.#task?.wokenBy(this);
    this.#loop[kScheduleRunnable](this);
  }

  /** @internal run from the ready queue: the woken task resumes with the permit, or passes it on. */
  runScheduled(): void {
    this.#state = DONE;
    const task = this.#task;
    if (task === undefined) {
      this.#resolve(this.#value);
      return;
    }
    task.resumeFrom(this);
    const late = task.takeLateCancel();
    if (late === null) {
      this.#resolve(this.#value);
    } else {
      this.#source.passOn();
      this.#reject(late);
    }
  }

  cancel(msg?: string): boolean {
    if (this.#state !== PENDING) return false;
    this.#state = DONE;
    this.list?.remove(this);
    this.#task?.resumeFrom(this);
    // an acquire cancelled before it was awaited must not crash the process
    this.promise.catch(noop);
    this.#reject(makeInternalError(() => new CancelledError(msg)));
    return true;
  }

  toString(): string {
    const state = this.#state === PENDING ? "pending" : this.#state === WOKEN ? "woken" : "done";
    return `<${this.#what} ${state}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}
