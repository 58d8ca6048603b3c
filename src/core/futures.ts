/**
 * `Future`: a result that will exist later, bound to one event loop.
 *
 * How awaiting works: a Future is a thenable. `await fut` makes V8 call `fut.then(resolve, reject)`
 * inside the awaiting code's async context, so `then()` can read the current task and record that
 * the task is now suspended on this future. `task.cancel()` then cancels exactly the futures the task
 * is suspended on, and the `CancelledError` surfaces at that `await`. The native promise behind
 * `then()` is created only when someone awaits, so futures observed only through callbacks (as
 * `gather` does) never allocate one.
 *
 * Done callbacks (`addDoneCallback`) are scheduled with `callSoon`, as in asyncio; awaiters are woken
 * by settling the native promise, which resumes them as microtasks.
 * @module
 */
import { CancelledError, InvalidStateError } from "./exceptions.ts";
import { AbstractEventLoop, getRunningLoop } from "./events.ts";
import { currentAwaitingTask, kDeferrableCancel, newCancelledError, type AwaitingTask, type Cancellable } from "./internal/context.ts";
import { inspectSymbol, shortRepr } from "./internal/inspect.ts";
import { kAwaiters } from "./internal/awaited-by.ts";
import { markLoopBound, neverAwaited, trackUnawaitedResult } from "./internal/never-awaited.ts";
import { checkCallback } from "./internal/validate.ts";
import { kScheduleRunnable, type Runnable } from "./internal/runnable.ts";

export const kCancelledError: unique symbol = Symbol("aiots.cancelledError");
export const kObserve: unique symbol = Symbol("aiots.observe");
const kWakeAwaiters: unique symbol = Symbol("aiots.wakeAwaiters");
const kWakeDirect: unique symbol = Symbol("aiots.wakeDirect");

function wakeAwaitersOf(future: Future<unknown>): void {
  future[kWakeAwaiters]();
}

const PENDING = 0;
const FINISHED = 1;
const CANCELLED = 2;
type State = typeof PENDING | typeof FINISHED | typeof CANCELLED;

/** A done callback. Declared as a method so that `Future<T>` stays assignable to `Future<unknown>`. */
export type DoneCallback<T> = { callback(future: Future<T>): unknown }["callback"];

/**
 * A result that will exist later (asyncio.Future). Await it, or inspect it once `done()`.
 * @example
 * ```ts
 * import { run, getRunningLoop } from "aiots";
 * await run(async () => {
 *   const fut = getRunningLoop().createFuture<number>();
 *   getRunningLoop().callLater(0.01, () => fut.setResult(42));
 *   console.log(await fut); // 42
 * });
 * ```
 */
export class Future<T = unknown> implements PromiseLike<T> {
  readonly #loop: AbstractEventLoop;
  #state: State = PENDING;
  // Every field is a slot in every future and task (8 bytes each): a cancelled future keeps its
  // cancel message in #result and its CancelledError (made on demand) in #exception, which are
  // otherwise unused in that state.
  #result: T | undefined = undefined;
  #exception: unknown = undefined;
  // Done callbacks, scheduled with callSoon when the future settles. null once settled.
  #callbacks: ((future: never) => unknown)[] | null = null;
  // The native promise awaiters are attached to; created on the first then().
  #promise: Promise<T> | undefined = undefined;
  #resolve: ((value: never) => void) | undefined = undefined;
  #reject: ((reason: unknown) => void) | undefined = undefined;
  // When #resolve/#reject are an await's own resolving functions (see then()): the awaiting task,
  // asked for a cancel that landed after the settlement; null for an adopted promise's future.
  #directTask: AwaitingTask | null = null;
  // Internal observers (gather, shield) called synchronously when the future settles.
  #observers: ((future: never) => void)[] | null = null;
  // Tasks suspended on this future right now (one, or several in an array).
  #awaiters: AwaitingTask | AwaitingTask[] | null = null;
  // True while an exception is set that nobody has looked at.
  #unretrieved = false;

  /** Binds the future to `options.loop` (or the loop itself, passed directly), else the running loop. */
  constructor(options?: { loop?: AbstractEventLoop } | AbstractEventLoop) {
    this.#loop = (options instanceof AbstractEventLoop ? options : options?.loop) ?? getRunningLoop();
    if (neverAwaited.on) markLoopBound(this); // debug mode: posting it to a worker is a DataCloneError
  }

  getLoop(): AbstractEventLoop {
    return this.#loop;
  }

  done(): boolean {
    return this.#state !== PENDING;
  }

  cancelled(): boolean {
    return this.#state === CANCELLED;
  }

  /**
   * The result. Throws the future's exception, `CancelledError` if it was cancelled, or
   * `InvalidStateError` if it is not done yet.
   */
  result(): T {
    if (this.#state === FINISHED) {
      if (this.#exception !== undefined) {
        this.markRetrieved();
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a future carries whatever was thrown
        throw this.#exception;
      }
      return this.#result as T;
    }
    if (this.#state === CANCELLED) throw this.makeCancelledError();
    throw new InvalidStateError("Result is not ready: await the future, or check done() before calling result()");
  }

  /** The exception (or `null`). Throws `CancelledError` if cancelled, `InvalidStateError` if pending. */
  exception(): unknown {
    if (this.#state === FINISHED) {
      this.markRetrieved();
      return this.#exception === undefined ? null : this.#exception;
    }
    if (this.#state === CANCELLED) throw this.makeCancelledError();
    throw new InvalidStateError("Exception is not set: the future is still pending; await it or check done() first");
  }

  /**
   * Marks the future done with `result` and wakes its awaiters.
   * @throws {InvalidStateError} if it is already done.
   */
  setResult(result: T): void {
    if (this.#state !== PENDING) throw new InvalidStateError(`setResult() on a future that is already done: ${this}`);
    this.#result = result;
    this.#state = FINISHED;
    if (neverAwaited.on && result !== undefined && this.#promise === undefined && this.#callbacks === null && this.#observers === null && this.#awaiters === null) trackUnawaitedResult(this, result, kObserve);
    this.#settle();
  }

  /**
   * Marks the future done with an error and wakes its awaiters.
   * @throws {InvalidStateError} if it is already done.
   */
  setException(exception: unknown): void {
    if (this.#state !== PENDING) throw new InvalidStateError(`setException() on a future that is already done: ${this}`);
    if (exception === undefined) throw new TypeError("setException() needs an error; undefined cannot be raised");
    this.#exception = exception;
    this.#state = FINISHED;
    // Someone awaiting it will receive it; otherwise it must be looked at later.
    this.#unretrieved = this.#promise === undefined && this.#resolve === undefined;
    this.#settle();
  }

  /** Cancels the future: returns `false` if it was already done, else `true`. */
  cancel(msg?: string): boolean {
    if (this.#state !== PENDING) return false;
    this.#state = CANCELLED;
    this.#result = msg as T | undefined;
    this.#settle();
    return true;
  }

  /** Schedules `callback(future)` with `callSoon` once the future is done (at once if it is). */
  addDoneCallback(callback: DoneCallback<T>): void {
    if (typeof callback !== "function") throw new TypeError("addDoneCallback() takes a function(future)");
    checkCallback("addDoneCallback()", callback); // an async function here would break setResult later, in callSoon
    if (this.#state !== PENDING) {
      this.#loop.callSoon(callback, this);
    } else if (this.#callbacks === null) {
      this.#callbacks = [callback];
    } else {
      this.#callbacks.push(callback);
    }
  }

  /** Removes every registration of `callback`; returns how many were removed. */
  removeDoneCallback(callback: DoneCallback<T>): number {
    const list = this.#callbacks;
    if (list === null) return 0;
    const kept = list.filter((cb) => cb !== (callback as unknown));
    this.#callbacks = kept;
    return list.length - kept.length;
  }

  /**
   * The thenable protocol: what `await future` calls. Records the awaiting task so that its
   * cancellation reaches this await.
   *
   * When a task's `await` is the first to wait on a pending future, V8 passes the resolving
   * functions of its own await promise: the future keeps those and calls them when it settles,
   * instead of making a native promise to chain them to (that saves ~350 bytes per suspended task
   * and a microtask hop per wake-up). `then` then returns an already resolved promise, as those
   * functions return `undefined`: code that passes promise resolving functions itself
   * (`future.then(resolve, reject)`) gets them called on settlement just the same.
   */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if (this.#state === PENDING) {
      const task = currentAwaitingTask();
      if (task !== undefined) {
        if (task.loopRef !== this.#loop) {
          const error = new Error(`${task.describe()} awaited ${this}, which is attached to a different loop; create futures with the loop the task runs on`);
          return Promise.reject(error).then(onFulfilled, onRejected);
        }
        if ((task as unknown) === this) {
          const error = new Error(`${task.describe()} cannot await itself (did an async function return its own task? return { task } instead)`);
          return Promise.reject(error).then(onFulfilled, onRejected);
        }
        task.suspendOn(this);
        if (this.#state === PENDING) {
          this.#addAwaiter(task);
          // An `await` (V8 passes both reactions): a cancel that lands after this future resolved
          // but before the task resumed is thrown at this await, as asyncio does. Not for an
          // adopted promise: its result may report an effect that happened (an item put, a row
          // written), so it is handed over and the cancel waits for the next aiots await.
          if (typeof onFulfilled === "function" && typeof onRejected === "function") {
            const deferrable = (this as Cancellable)[kDeferrableCancel] === true;
            if (this.#resolve === undefined && this.#promise === undefined && isResolvingPair(onFulfilled, onRejected)) {
              // V8's resolving functions, which return undefined (isResolvingPair): no promise is misused
              // eslint-disable-next-line @typescript-eslint/no-misused-promises
              this.#resolve = onFulfilled;
              // eslint-disable-next-line @typescript-eslint/no-misused-promises
              this.#reject = onRejected;
              this.#directTask = deferrable ? null : task;
              return resolvedUndefined as Promise<R1 | R2>;
            }
            if (!deferrable) {
              return this.#nativePromise().then((value) => {
                const late = task.takeLateCancel();
                return late === null ? onFulfilled(value) : onRejected(late);
              }, onRejected);
            }
          }
        }
      } else if (this.#loop.isClosed()) {
        // Outside any task (e.g. after run() returned): nothing can ever settle it; say so rather than hang.
        return Promise.reject(new Error(`awaited ${this}, which is attached to a closed event loop and can never complete: await it inside run(), before its loop closes`)).then(onFulfilled, onRejected);
      }
    } else if (this.#exception !== undefined) {
      this.markRetrieved();
    }
    return this.#nativePromise().then(onFulfilled, onRejected);
  }

  /** `promise.catch`, for code that treats a future as a promise. */
  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onRejected);
  }

  /** `promise.finally`, for code that treats a future as a promise. */
  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onFinally);
  }

  get [Symbol.toStringTag](): string {
    return this.constructor.name;
  }

  toString(): string {
    return `<${this.reprInfo().join(" ")}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  /** The words of the repr; subclasses add theirs. */
  protected reprInfo(): string[] {
    const info = [this.constructor.name, this.#state === PENDING ? "pending" : this.#state === CANCELLED ? "cancelled" : "finished"];
    if (this.#state === FINISHED) {
      info.push(this.#exception !== undefined ? `exception=${shortRepr(this.#exception)}` : `result=${shortRepr(this.#result)}`);
    }
    return info;
  }

  /** The `CancelledError` to raise for a cancelled future (tasks return the one their body threw). */
  protected makeCancelledError(): CancelledError {
    if (this.#exception === undefined) {
      const message = this.#result as string | undefined;
      this.#exception = newCancelledError(message);
    }
    return this.#exception as CancelledError;
  }

  /** For subclasses that settle with a specific CancelledError (a task keeps its body's). */
  protected setCancelledError(error: CancelledError): void {
    // only ever called right before cancel(): #exception is the CancelledError slot then
    this.#exception = error;
  }

  /** Whether an exception is set that nobody has retrieved (for "never retrieved" reports). */
  protected hasUnretrievedException(): boolean {
    return this.#unretrieved;
  }

  /** Marks the exception as seen (asyncio's `_log_traceback = False`). */
  protected markRetrieved(): void {
    if (!this.#unretrieved) return;
    this.#unretrieved = false;
    this.exceptionRetrieved();
  }

  /** Hook: the unretrieved exception was just looked at. Tasks stop tracking it. */
  protected exceptionRetrieved(): void {}

  /** @internal the CancelledError a cancelled future raises (no throw/catch needed). */
  [kCancelledError](): CancelledError {
    return this.makeCancelledError();
  }

  /**
   * @internal calls `observer(this)` synchronously when the future settles (at once if it has).
   * For aiots's own combinators: cheaper than a done callback, which costs a loop callback.
   */
  [kObserve](observer: (future: Future<T>) => void): void {
    if (this.#state !== PENDING) observer(this);
    else (this.#observers ??= []).push(observer);
  }

  /** @internal the tasks suspended on this future now (for call graphs). */
  [kAwaiters](): AwaitingTask[] {
    const awaiters = this.#awaiters;
    return awaiters === null ? [] : Array.isArray(awaiters) ? [...awaiters] : [awaiters];
  }

  #addAwaiter(task: AwaitingTask): void {
    const current = this.#awaiters;
    if (current === null) this.#awaiters = task;
    else if (Array.isArray(current)) {
      if (!current.includes(task)) current.push(task);
    } else if (current !== task) this.#awaiters = [current, task];
  }

  #nativePromise(): Promise<T> {
    if (this.#promise !== undefined) return this.#promise;
    if (this.#state === FINISHED) {
      this.#promise =
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a future carries whatever was thrown
        this.#exception !== undefined ? Promise.reject(this.#exception) : Promise.resolve(this.#result as T);
    } else if (this.#state === CANCELLED) {
      this.#promise = Promise.reject(this.makeCancelledError());
    } else {
      const { promise, resolve, reject } = Promise.withResolvers<T>();
      // A first awaiter holding our settlement directly (see then()) now waits on this promise.
      const directResolve = this.#resolve;
      const directReject = this.#reject;
      if (directResolve !== undefined && directReject !== undefined) {
        const task = this.#directTask;
        this.#directTask = null;
        void promise.then((value) => {
          const late = task?.takeLateCancel() ?? null;
          if (late === null) directResolve(value as never);
          else directReject(late);
        }, directReject);
      }
      this.#promise = promise;
      this.#resolve = resolve;
      this.#reject = reject;
    }
    return this.#promise;
  }

  #settle(): void {
    const awaiters = this.#awaiters;
    // The one awaiter holds our settlement directly (see then()): it is woken from the loop's ready
    // queue, as asyncio's Task.__wakeup is, and counts as running only from then on.
    const direct = this.#resolve !== undefined && this.#promise === undefined;
    if (awaiters !== null) {
      this.#awaiters = null;
      if (Array.isArray(awaiters)) for (const task of awaiters) task.resumeFrom(this);
      else if (!direct) awaiters.resumeFrom(this);
      else awaiters.wokenBy(this);
    }
    const callbacks = this.#callbacks;
    // With done callbacks, awaiters resume after them, as in asyncio, where a task's wake-up is one
    // more done callback in the same FIFO: code that awaits this future (or what it completes) sees
    // the callbacks' effects. Without, the awaiters of a native promise resume at once.
    if (!direct && this.#resolve !== undefined && callbacks === null) this.#wakeAwaiters();
    const observers = this.#observers;
    if (observers !== null) {
      this.#observers = null;
      for (const observer of observers) (observer as (future: Future<T>) => void)(this);
    }
    if (callbacks !== null) {
      this.#callbacks = null;
      for (const cb of callbacks) this.#loop.callSoon(cb as DoneCallback<T>, this);
      if (!direct && this.#resolve !== undefined) this.#loop.callSoon(wakeAwaitersOf, this);
    }
    if (direct) this.#loop[kScheduleRunnable](new DirectWake(this, Array.isArray(awaiters) ? null : awaiters));
  }

  /** @internal settles the native promise awaiters are attached to (see #settle). */
  [kWakeAwaiters](): void {
    if (this.#resolve !== undefined) this.#wakeAwaiters();
  }

  #wakeAwaiters(): void {
    if (this.#state === CANCELLED) this.#reject!(this.makeCancelledError());
    else if (this.#exception !== undefined) this.#reject!(this.#exception);
    else this.#resolve!(this.#result as never);
    this.#resolve = undefined;
    this.#reject = undefined;
  }

  /**
   * @internal wakes the await holding this future's settlement directly (see #settle), from the
   * ready queue: a cancel requested since the settlement (a late cancel) is thrown at the await.
   */
  [kWakeDirect](awaiter: AwaitingTask | null): void {
    awaiter?.resumeFrom(this);
    const resolve = this.#resolve;
    const reject = this.#reject;
    if (resolve === undefined || reject === undefined) return;
    const late = this.#directTask?.takeLateCancel() ?? null;
    this.#directTask = null;
    this.#resolve = undefined;
    this.#reject = undefined;
    if (late !== null) reject(late);
    else if (this.#state === CANCELLED) reject(this.makeCancelledError());
    else if (this.#exception !== undefined) reject(this.#exception);
    else resolve(this.#result as never);
  }
}

// A direct awaiter's wake-up in the ready queue (see Future#settle): one small object per wake-up.
class DirectWake implements Runnable {
  readonly #future: Future<unknown>;
  readonly #awaiter: AwaitingTask | null;

  constructor(future: Future<unknown>, awaiter: AwaitingTask | null) {
    this.#future = future;
    this.#awaiter = awaiter;
  }

  runScheduled(): void {
    this.#future[kWakeDirect](this.#awaiter);
  }
}

// What then() returns when it keeps an await's resolving functions (they return undefined).
const resolvedUndefined: Promise<unknown> = Promise.resolve(undefined);
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(f) below
const functionToString = Function.prototype.toString;

/**
 * Whether `f` and `r` look like the resolving functions V8 makes for a promise (what `await`
 * passes to a thenable): built-in, nameless, of length 1. A user function cannot be mistaken for
 * them (its source is not "[native code]"); bound functions are named "bound ...".
 */
function isResolvingPair(f: unknown, r: unknown): boolean {
  return (
    typeof f === "function" &&
    typeof r === "function" &&
    f.name === "" &&
    r.name === "" &&
    f.length === 1 &&
    r.length === 1 &&
    functionToString.call(f).endsWith("[native code] }") &&
    functionToString.call(r).endsWith("[native code] }")
  );
}

/** Whether `value` is an aiots `Future` (a `Task` is one too). */
export function isFuture(value: unknown): value is Future<unknown> {
  return value instanceof Future;
}

/** Whether `value` has a callable `then` (a promise, a future, any thenable). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
