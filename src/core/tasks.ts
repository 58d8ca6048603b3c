/**
 * `Task`: a function run concurrently on the loop, with asyncio's cancellation model.
 *
 * How cancellation is delivered: while a task's code awaits aiots futures, each of those futures
 * is recorded as a wait of the task (see `futures.ts`). `cancel()` cancels every such future, so the
 * `CancelledError` is thrown at the very `await` the task is suspended on, and `try/finally` runs
 * there. A foreign promise adopted with `ensureFuture` is such a future, cancelled at once, unless
 * the task's own code drives it (see `foreign-futures.ts`). A task on a bare `await` of a foreign
 * promise cannot be interrupted; the request is kept (`mustCancel`) and delivered at its next aiots
 * await, or when it returns (debug mode reports it if that takes long). The task's `signal` is
 * aborted at once, for Node APIs that take an `AbortSignal`.
 *
 * The loop holds every pending task strongly (no "destroyed but pending" surprises). A task that
 * fails and whose error nobody retrieves is reported to the loop's exception handler when it is
 * garbage-collected, or when its loop closes, whichever comes first.
 * @module
 */
import { CancelledError } from "./exceptions.ts";
import { getRunningLoop, type AbstractEventLoop, type TaskFactory, type TaskOptions } from "./events.ts";
import { Future, isFuture, isThenable } from "./futures.ts";
import { currentAwaitingTask, kDeferrableCancel, newCancelledError, runTaskStep, setInLoopCallback, taskStorage, type Cancellable } from "./internal/context.ts";
import { undeliveredCancels, watchUndeliveredCancel } from "./internal/undelivered-cancels.ts";
import { adoptPromise } from "./foreign-futures.ts";
import { callbackName } from "./internal/inspect.ts";
import { kScheduleRunnable, taskActivity, taskSuspended, type Runnable } from "./internal/runnable.ts";
import { kWaitingOn } from "./internal/awaited-by.ts";
import { noteSuspended, tracking as awaitSites } from "./internal/await-sites.ts";
import { taskChannelsActive, taskCreated } from "./internal/diagnostics.ts";

let taskCounter = 0;

/**
 * Every pending task of a loop, as an intrusive doubly linked list through the tasks themselves:
 * strong references (a pending task is never collected), O(1) to add and remove, no hashing.
 */
interface PendingList {
  head: Task<unknown> | null;
}

const pendingLists = new WeakMap<AbstractEventLoop, PendingList>();

// The last loop's list, cached: nearly every lookup is for the one running loop.
let lastLoop: AbstractEventLoop | null = null;
let lastList: PendingList | null = null;

function pendingList(loop: AbstractEventLoop): PendingList {
  if (loop === lastLoop) return lastList!;
  let list = pendingLists.get(loop);
  if (list === undefined) {
    list = { head: null };
    pendingLists.set(loop, list);
  }
  lastLoop = loop;
  lastList = list;
  return list;
}

// What is left to report about a failed task once the task object itself is gone.
interface FailureRecord {
  loop: AbstractEventLoop;
  name: string;
  exception: unknown;
  creationStack: string | undefined;
  ref: WeakRef<Task<unknown>>;
}

const unretrieved = new Set<FailureRecord>();
const failureRegistry = new FinalizationRegistry<FailureRecord>((record) => {
  if (!unretrieved.delete(record)) return;
  reportNeverRetrieved(record, Task.revive(record));
});

function reportNeverRetrieved(record: FailureRecord, task: Task<unknown>): void {
  const stack = record.creationStack === undefined ? "" : `\ntask created at:\n${record.creationStack}`;
  record.loop.callExceptionHandler({
    message: `Task exception was never retrieved (task ${record.name})${stack}`,
    exception: record.exception,
    task,
  });
}

const kRevived: unique symbol = Symbol("aiots.revivedTask");

let onFnFulfilled: (value: unknown) => void;
let onFnRejected: (error: unknown) => void;
let runFnOf: (task: Task<unknown>) => void;

const STARTED = 1;
const MUST_CANCEL = 2;
const CANCEL_IN_FLIGHT = 4;
// A wait of this task settled and queued the task's resumption in the ready queue (see wokenBy).
const WOKEN = 8;

/** The fields of a task that most tasks never set, allocated on first use (see Task). */
class TaskRare {
  cancelMessage: string | undefined = undefined;
  alsoWaitingOn: Set<Cancellable> | null = null;
  abort: AbortController | null = null;
  failure: FailureRecord | null = null;
  creationStack: string | undefined = undefined;
}

/** Options of the `Task` constructor. Use `createTask` or `loop.createTask` rather than `new Task`. */
export interface TaskConstructorOptions extends TaskOptions {
  loop?: AbstractEventLoop;
  /** @internal */
  [kRevived]?: FailureRecord;
}

/**
 * A task: runs `fn` concurrently and is a `Future` of its result.
 *
 * Await it for its result; `cancel()` it to throw `CancelledError` at the await it is suspended on.
 * Because tasks are thenables, an `async` function that *returns* a task returns the task's result:
 * return `{ task }` to hand the task itself over.
 * @example
 * ```ts
 * import { run, createTask, sleep } from "aiots";
 * await run(async () => {
 *   const t = createTask(async () => { await sleep(0.1); return "done"; }, { name: "worker" });
 *   console.log(await t); // "done"
 * });
 * ```
 */
export class Task<T = unknown> extends Future<T> implements Runnable {
  // Memory: every field below is 8 bytes in every task, and a program may hold 100,000s of them
  // suspended. So the three flags share one number and the fields most tasks never set live in a
  // TaskRare made on first use; private accessors keep the code reading them as plain fields.
  #fn: (() => PromiseLike<T> | T) | null;
  // The name, or the task number until a name is asked for (formatting it costs an allocation).
  #name: string | number;
  // STARTED | MUST_CANCEL (a cancel not delivered yet: it waits for the next aiots await, or the
  // return) | CANCEL_IN_FLIGHT (a CancelledError was delivered to an await and the task has not
  // awaited anything since: a further cancel() is only counted, as asyncio's consumes
  // `_must_cancel` with that delivery).
  #flags = 0;
  #cancelRequests = 0;
  // The futures this task is suspended on now (the first; more in rare.alsoWaitingOn). Invariant: each is pending.
  #waitingOn: Cancellable | null = null;
  #rare: TaskRare | null = null;
  // Links of the loop's pending list (see PendingList). Invariant: set exactly while pending.
  #prevPending: Task<unknown> | null = null;
  #nextPending: Task<unknown> | null = null;
  // The taskActivity epoch in which this task counted itself as running (0: suspended or done).
  #activeEpoch = 0;

  get #started(): boolean {
    return (this.#flags & STARTED) !== 0;
  }
  set #started(on: boolean) {
    this.#flags = on ? this.#flags | STARTED : this.#flags & ~STARTED;
  }
  get #mustCancel(): boolean {
    return (this.#flags & MUST_CANCEL) !== 0;
  }
  set #mustCancel(on: boolean) {
    this.#flags = on ? this.#flags | MUST_CANCEL : this.#flags & ~MUST_CANCEL;
  }
  get #cancelInFlight(): boolean {
    return (this.#flags & CANCEL_IN_FLIGHT) !== 0;
  }
  set #cancelInFlight(on: boolean) {
    this.#flags = on ? this.#flags | CANCEL_IN_FLIGHT : this.#flags & ~CANCEL_IN_FLIGHT;
  }
  get #woken(): boolean {
    return (this.#flags & WOKEN) !== 0;
  }
  set #woken(on: boolean) {
    this.#flags = on ? this.#flags | WOKEN : this.#flags & ~WOKEN;
  }
  get #cancelMessage(): string | undefined {
    return this.#rare?.cancelMessage;
  }
  set #cancelMessage(message: string | undefined) {
    if (message !== undefined || this.#rare !== null) (this.#rare ??= new TaskRare()).cancelMessage = message;
  }
  get #alsoWaitingOn(): Set<Cancellable> | null {
    return this.#rare?.alsoWaitingOn ?? null;
  }
  set #alsoWaitingOn(set: Set<Cancellable> | null) {
    if (set !== null || this.#rare !== null) (this.#rare ??= new TaskRare()).alsoWaitingOn = set;
  }
  get #abort(): AbortController | null {
    return this.#rare?.abort ?? null;
  }
  set #abort(controller: AbortController | null) {
    if (controller !== null || this.#rare !== null) (this.#rare ??= new TaskRare()).abort = controller;
  }
  get #failure(): FailureRecord | null {
    return this.#rare?.failure ?? null;
  }
  set #failure(record: FailureRecord | null) {
    if (record !== null || this.#rare !== null) (this.#rare ??= new TaskRare()).failure = record;
  }
  get #creationStack(): string | undefined {
    return this.#rare?.creationStack;
  }
  set #creationStack(stack: string | undefined) {
    if (stack !== undefined || this.#rare !== null) (this.#rare ??= new TaskRare()).creationStack = stack;
  }

  /** The loop the task runs on (the future's loop; for the futures it awaits). */
  get loopRef(): AbstractEventLoop {
    return this.getLoop();
  }

  constructor(fn: () => PromiseLike<T> | T, options: TaskConstructorOptions = {}) {
    const loop = options.loop ?? getRunningLoop();
    super(loop);
    if (options.name !== undefined && typeof options.name !== "string") {
      throw new TypeError(`Task name must be a string, got ${typeof options.name}`);
    }
    this.#name = options.name ?? ++taskCounter;
    this.#creationStack = loop.getDebug() ? creationStack() : undefined;
    const revived = options[kRevived];
    if (revived !== undefined) {
      this.#fn = null;
      super.setException(revived.exception);
      this.markRetrieved();
      return;
    }
    if (typeof fn !== "function") throw new TypeError(describeNotFunction("Task", fn));
    this.#fn = fn;
    this.#linkPending(pendingList(loop));
    if (taskChannelsActive()) taskCreated(this);
    if (options.eagerStart === true && loop.isRunning()) {
      this.#start(true);
    } else {
      loop[kScheduleRunnable](this);
    }
  }

  /** @internal the pending tasks of `loop`, oldest first. */
  static pendingOf(loop: AbstractEventLoop): Task<unknown>[] {
    const out: Task<unknown>[] = [];
    for (let t = pendingList(loop).head; t !== null; t = t.#nextPending) out.push(t);
    return out.reverse();
  }

  /** @internal forgets every pending task of `loop` (it is closing). */
  static dropPending(loop: AbstractEventLoop): void {
    const list = pendingList(loop);
    for (let t = list.head; t !== null; ) {
      const next = t.#nextPending;
      t.#prevPending = t.#nextPending = null;
      t = next;
    }
    list.head = null;
  }

  #linkPending(list: PendingList): void {
    const head = list.head;
    this.#nextPending = head;
    if (head !== null) head.#prevPending = this;
    list.head = this;
  }

  #unlinkPending(list: PendingList): void {
    const prev = this.#prevPending;
    const next = this.#nextPending;
    if (prev === null && list.head !== (this as Task<unknown>)) return; // not linked
    if (prev !== null) prev.#nextPending = next;
    else list.head = next;
    if (next !== null) next.#prevPending = prev;
    this.#prevPending = this.#nextPending = null;
  }

  /** @internal builds a finished stand-in for a collected task, for its "never retrieved" report. */
  static revive(record: FailureRecord): Task<unknown> {
    return new Task(() => undefined, { loop: record.loop, name: record.name, [kRevived]: record });
  }

  getName(): string {
    if (typeof this.#name === "number") this.#name = `Task-${this.#name}`;
    return this.#name;
  }

  setName(name: string): void {
    this.#name = String(name);
  }

  /** The function this task runs (asyncio's `get_coro`). */
  getCoro(): (() => PromiseLike<T> | T) | null {
    return this.#fn;
  }

  /** Where the task was created, in debug mode (`undefined` otherwise). */
  getCreationStack(): string | undefined {
    return this.#creationStack;
  }

  /** How many cancellation requests are pending (`cancel()` calls not matched by `uncancel()`). */
  cancelling(): number {
    return this.#cancelRequests;
  }

  /**
   * Takes back one cancellation request; returns how many remain. Used by `timeout()` and task
   * groups to absorb the cancellations they made themselves. At zero, a pending undelivered cancel is
   * dropped and `signal` becomes a fresh, unaborted signal.
   */
  uncancel(): number {
    if (this.#cancelRequests > 0) {
      this.#cancelRequests -= 1;
      if (this.#cancelRequests === 0) {
        this.#mustCancel = false;
        if (this.#abort?.signal.aborted === true) this.#abort = null;
      }
    }
    return this.#cancelRequests;
  }

  /**
   * Requests cancellation: `CancelledError` is thrown into the task at the aiots await it is
   * suspended on (or its next one). Returns `false` if the task is already done.
   */
  override cancel(msg?: string): boolean {
    if (this.done()) return false;
    this.#cancelRequests += 1;
    this.#abort?.abort(newCancelledError(msg));
    let delivered = false;
    let adopted: Cancellable[] | null = null;
    // Wait registrations stay: a child task may ignore the cancel and need cancelling again.
    const first = this.#waitingOn;
    if (first !== null) {
      if (first[kDeferrableCancel] === true) adopted = [first];
      else if (first.cancel(msg)) delivered = true;
    }
    if (this.#alsoWaitingOn !== null) {
      for (const future of [...this.#alsoWaitingOn]) {
        if (future[kDeferrableCancel] === true) (adopted ??= []).push(future);
        else if (future.cancel(msg)) delivered = true;
      }
    }
    if (adopted !== null && !delivered) {
      if (this.#activeEpoch === taskActivity.epoch || this.#woken) {
        // A wait of this task's own code has just woken it (or will, from the ready queue): that
        // code is about to settle the adopted promise (a lock hand-over, a read). Deliver the
        // cancel there, not by cutting it short.
        this.#mustCancel = true;
        this.#cancelMessage = msg;
        return true;
      }
      for (const future of adopted) if (future.cancel(msg)) delivered = true;
    }
    if (delivered) {
      this.#cancelInFlight = true;
      return true;
    }
    if (this.#cancelInFlight) return true;
    this.#mustCancel = true;
    this.#cancelMessage = msg;
    if (undeliveredCancels.on) watchUndeliveredCancel(this);
    return true;
  }

  /** @internal whether a cancel is requested and waits for the task's next aiots await. */
  cancelUndelivered(): boolean {
    return this.#mustCancel && !this.done();
  }

  /**
   * An `AbortSignal` aborted (with a `CancelledError` reason) when cancellation is requested, for
   * Node APIs such as `fetch`, `fs.promises` or `stream.pipeline`. Read it where you use it: after
   * `uncancel()` brings `cancelling()` back to 0 it is replaced by a fresh one.
   */
  get signal(): AbortSignal {
    if (this.#abort === null) {
      this.#abort = new AbortController();
      if (this.#cancelRequests > 0 || this.cancelled()) this.#abort.abort(this.#newCancelledError());
    }
    return this.#abort.signal;
  }

  /** Tasks are settled by their function: `setResult` is not allowed. */
  override setResult(_result: T): never {
    throw new Error("Task does not support setResult(): return a value from the task's function instead");
  }

  /** Tasks are settled by their function: `setException` is not allowed. */
  override setException(_exception: unknown): never {
    throw new Error("Task does not support setException(): throw from the task's function instead");
  }

  /** @internal first step, from the loop's drain: run the function in the task's context. */
  runScheduled(): void {
    this.#start(false);
  }

  // Runs the function in the task's async context: from the loop's drain (see runTaskStep), or,
  // for an eager start (`inCreator`), inside the creator's code, whose context it extends.
  #start(inCreator: boolean): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#mustCancel) {
      this.#mustCancel = false;
      this.#finishCancelled(this.#newCancelledError());
      return;
    }
    this.#markRunning();
    if (inCreator) taskStorage.run(this, runFnOf, this);
    else runTaskStep(this, runFnOf);
  }

  // Calls the function and follows what it returns; the task's context is the current one.
  #runFn(): void {
    const fn = this.#fn!;
    const wasInCallback = setInLoopCallback(false);
    let out: PromiseLike<T> | T;
    try {
      out = fn();
    } catch (error) {
      this.#fail(error);
      return;
    } finally {
      setInLoopCallback(wasInCallback);
    }
    if (out instanceof Promise) {
      if (Object.getPrototypeOf(out) === Promise.prototype) {
        // A native promise calls its reactions in the context current at then(), this task's:
        // they find the task there, so no closure is made per task (see onFnFulfilled).
        void promiseThen.call(out, onFnFulfilled, onFnRejected);
      } else {
        (out as Promise<T>).then(
          (value) => this.#succeed(value),
          (error: unknown) => this.#fail(error),
        );
      }
    } else if (isThenable(out)) {
      // An aiots future returned by the function is awaited as the task's own wait.
      // (outside loop-callback mode, or the future would not see this task awaiting it and a cancel would not reach it)
      const was = setInLoopCallback(false);
      try {
        this.#adopt(out);
      } finally {
        setInLoopCallback(was);
      }
    } else {
      this.#succeed(out);
    }
  }

  static {
    // The reactions to a function's native promise: they run in the task's context (see #runFn).
    onFnFulfilled = (value) => taskOfContext().#succeed(value);
    onFnRejected = (error) => taskOfContext().#fail(error);
    runFnOf = (task) => task.#runFn();
  }

  /** @internal the task starts awaiting `future` (called from `Future.then`). */
  suspendOn(future: Cancellable): void {
    if (awaitSites.on) noteSuspended(this, future);
    this.#cancelInFlight = false;
    if (this.#mustCancel && future.cancel(this.#cancelMessage)) {
      this.#mustCancel = false;
      this.#cancelInFlight = true;
    }
    if (future.done()) return;
    if (this.#activeEpoch === taskActivity.epoch) {
      this.#activeEpoch = 0;
      taskSuspended();
    }
    if (this.#waitingOn === null) this.#waitingOn = future;
    else if (this.#waitingOn !== future) (this.#alsoWaitingOn ??= new Set()).add(future);
  }

  /** @internal resuming from a resolved future: a cancel that landed since is thrown there. */
  takeLateCancel(): CancelledError | null {
    if (!this.#mustCancel || this.done()) return null;
    this.#mustCancel = false;
    this.#cancelInFlight = true;
    return this.#newCancelledError();
  }

  /** @internal the futures this task is suspended on now (for call graphs). */
  [kWaitingOn](): Cancellable[] {
    const out = this.#waitingOn === null ? [] : [this.#waitingOn];
    if (this.#alsoWaitingOn !== null) out.push(...this.#alsoWaitingOn);
    return out;
  }

  /** @internal a future this task awaited has settled. */
  resumeFrom(future: Cancellable): void {
    if (this.#waitingOn === future) this.#waitingOn = null;
    else this.#alsoWaitingOn?.delete(future);
    this.#woken = false;
    this.#markRunning();
  }

  /**
   * @internal a future this task awaited has settled and queued the task's resumption (it calls
   * `resumeFrom` when that runs). Until then the task is not running, but a cancel is delivered
   * at the await it resumes from, as for a task already running.
   */
  wokenBy(future: Cancellable): void {
    if (this.#waitingOn === future) this.#waitingOn = null;
    else this.#alsoWaitingOn?.delete(future);
    this.#woken = true;
  }

  #markRunning(): void {
    if (this.#activeEpoch === taskActivity.epoch) return;
    this.#activeEpoch = taskActivity.epoch;
    taskActivity.running += 1;
  }

  /** @internal */
  describe(): string {
    return `Task ${this.getName()}`;
  }

  protected override reprInfo(): string[] {
    const info = super.reprInfo();
    info.splice(2, 0, `name=${this.getName()}`);
    if (this.#fn !== null) info.push(`fn=${callbackName(this.#fn)}`);
    if (!this.done()) {
      if (this.#cancelRequests > 0) info.push("cancelling");
      if (this.#waitingOn !== null) info.push(`awaiting ${String(this.#waitingOn)}`);
    }
    return info;
  }

  protected override exceptionRetrieved(): void {
    if (this.#failure !== null) {
      unretrieved.delete(this.#failure);
      failureRegistry.unregister(this);
      this.#failure = null;
    }
  }

  #newCancelledError(): CancelledError {
    const message = this.#cancelMessage;
    return newCancelledError(message);
  }

  #adopt(thenable: PromiseLike<T>): void {
    thenable.then(
      (value) => this.#succeed(value),
      (error: unknown) => this.#fail(error),
    );
  }

  #succeed(value: T): void {
    if (this.done()) return;
    const wasRunning = this.#finishing();
    if (this.#mustCancel) {
      // Cancelled right before the function returned: the task ends cancelled (asyncio).
      this.#mustCancel = false;
      this.#finishCancelled(this.#newCancelledError());
    } else {
      super.setResult(value);
    }
    // Counted out after the settlement, which may have woken awaiters: the loop then waits for them.
    if (wasRunning) taskSuspended();
  }

  #fail(error: unknown): void {
    if (this.done()) return;
    const wasRunning = this.#finishing();
    const cancellation = this.#asCancellation(error) ?? (error instanceof CancelledError ? error : null);
    if (cancellation !== null) {
      this.#finishCancelled(cancellation);
    } else {
      super.setException(error === undefined ? new Error("task threw undefined") : error);
      if (this.hasUnretrievedException()) this.#trackFailure(error);
    }
    if (wasRunning) taskSuspended();
  }

  // Node APIs given `task.signal` reject with an AbortError whose cause is our CancelledError:
  // a task that ends with one was cancelled, not failed.
  #asCancellation(error: unknown): CancelledError | null {
    if (this.#cancelRequests === 0 || !(error instanceof Error) || error.name !== "AbortError") return null;
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof CancelledError ? cause : null;
  }

  #finishCancelled(error: CancelledError): void {
    this.#finishing();
    this.setCancelledError(error);
    super.cancel(error.message);
  }

  // Leaves the pending state; returns whether the task counted as running (the caller counts it
  // out once it has settled: see taskSuspended).
  #finishing(): boolean {
    const wasRunning = this.#activeEpoch === taskActivity.epoch;
    this.#activeEpoch = 0;
    this.#waitingOn = null;
    this.#alsoWaitingOn = null;
    this.#unlinkPending(pendingList(this.loopRef));
    return wasRunning;
  }

  #trackFailure(exception: unknown): void {
    // Format the stack now: V8 keeps call-site objects (which reference this task, a receiver on
    // the stack) until then, and the record below must not keep the task alive.
    if (exception instanceof Error) void exception.stack;
    const record: FailureRecord = {
      loop: this.loopRef,
      name: this.getName(),
      exception,
      creationStack: this.#creationStack,
      ref: new WeakRef(this),
    };
    this.#failure = record;
    unretrieved.add(record);
    failureRegistry.register(this, record, this);
  }
}

// eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(promise) above
const promiseThen = Promise.prototype.then;

// The task whose context a reaction of its function's promise runs in (see Task#runFn).
function taskOfContext(): Task<unknown> {
  const task = taskStorage.getStore();
  if (!(task instanceof Task)) throw new Error("aiots internal error: a task's completion ran outside the task's context");
  return task;
}

function creationStack(): string {
  const stack = new Error().stack ?? "";
  return stack.split("\n").slice(3).join("\n");
}

function describeNotFunction(what: string, value: unknown): string {
  if (isThenable(value)) {
    return `${what} takes a function that returns a promise, e.g. createTask(() => work()), not a promise: a promise has already started and cannot be run as a task (to wrap one, use ensureFuture(promise))`;
  }
  return `${what} takes a function, got ${value === null ? "null" : typeof value}`;
}

/**
 * Runs `fn` as a new task on the running loop (asyncio.create_task). It starts on the next loop
 * iteration, or at once, up to its first suspension, with `{ eagerStart: true }` (or
 * `eagerTaskFactory`).
 * @throws {TypeError} if `fn` is not a function (pass `() => work()`, not `work()`).
 * @example
 * ```ts
 * import { run, createTask, sleep } from "aiots";
 * await run(async () => {
 *   const a = createTask(async () => { await sleep(0.2); console.log("a"); });
 *   const b = createTask(async () => { await sleep(0.1); console.log("b"); });
 *   await a; await b; // prints b, then a
 * });
 * ```
 */
export function createTask<T>(fn: () => PromiseLike<T> | T, options?: TaskOptions): Task<T> {
  if (typeof fn !== "function") throw new TypeError(describeNotFunction("createTask()", fn));
  return getRunningLoop().createTask(fn, options);
}

/** The task running the calling code, or `null` outside any task. */
export function currentTask(): Task<unknown> | null {
  const task = currentAwaitingTask();
  return task instanceof Task ? task : null;
}

/** The set of pending tasks of `loop` (default: the running loop). */
export function allTasks(loop?: AbstractEventLoop): Set<Task<unknown>> {
  const target = loop ?? getRunningLoop();
  return new Set(Task.pendingOf(target));
}

/** @internal reports, at loop close, tasks left pending and failures nobody retrieved. */
export function reportAbandonedTasks(loop: AbstractEventLoop): void {
  for (const task of Task.pendingOf(loop)) {
    loop.callExceptionHandler({ message: "Task was destroyed but it is pending!", task });
  }
  Task.dropPending(loop);
  for (const record of [...unretrieved]) {
    if (record.loop !== loop) continue;
    const task = record.ref.deref();
    unretrieved.delete(record);
    if (task !== undefined) failureRegistry.unregister(task);
    reportNeverRetrieved(record, task ?? Task.revive(record));
  }
}

/**
 * A task factory whose tasks start running synchronously inside `createTask`, up to their first
 * suspension (asyncio.eager_task_factory). Install with `loop.setTaskFactory(eagerTaskFactory)`.
 * Unlike Python, a JavaScript task that finishes without suspending still completes a microtask
 * later, because its function returns a promise.
 */
export const eagerTaskFactory: TaskFactory = (loop, fn, options) => new Task(fn, { ...options, loop, eagerStart: options.eagerStart ?? true });

/**
 * Wraps an awaitable in a Future: a Future or Task is returned as is; a promise (any thenable) is
 * adopted in a Future that settles with it (asyncio's `wrap_future`). Cancelling that Future, or
 * the task awaiting it, settles it cancelled at once: the promise's later result is ignored and its
 * later rejection is not reported as unhandled. That is how to bound a foreign await: `await
 * ensureFuture(promise)` inside `timeout()` or a task that may be cancelled (`waitFor`, `wait`,
 * `gather`, `asCompleted` and `shield` adopt the promises they are given the same way). The
 * promise's own work runs on: to stop it too, use `abortable`. A promise that the awaiting task's
 * own code drives (an `async` function it called, whose aiots awaits receive the cancel) is left to
 * settle with that cancel, so its cleanup runs first.
 * @example
 * ```ts
 * import { run, ensureFuture, waitFor, TimeoutError } from "aiots";
 * await run(async () => {
 *   const slow = new Promise((resolve) => setTimeout(resolve, 300, "late"));
 *   try { await waitFor(ensureFuture(slow), 0.05); } catch (e) { console.log(e instanceof TimeoutError); } // true, at 50 ms
 * });
 * ```
 * @throws {TypeError} for functions (call them, or use `createTask(fn)`) and non-awaitables.
 */
export function ensureFuture<T>(awaitable: Future<T> | PromiseLike<T>, loop?: AbstractEventLoop): Future<T> {
  if (isFuture(awaitable)) {
    if (loop !== undefined && awaitable.getLoop() !== loop) {
      throw new Error(`ensureFuture(): ${String(awaitable)} belongs to a different loop than the one given`);
    }
    return awaitable;
  }
  if (isThenable(awaitable)) return adoptPromise(awaitable, loop ?? getRunningLoop());
  if (typeof awaitable === "function") {
    throw new TypeError("expected a future, task or promise but got a function: call it (work()) or run it as a task (createTask(work))");
  }
  throw new TypeError(`An aiots Future, a Task or a promise is required, got ${awaitable === null ? "null" : typeof awaitable}`);
}
