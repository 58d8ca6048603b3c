/**
 * Where "the current task" and "the running loop" live.
 *
 * The current task is carried by an AsyncLocalStorage: a task's function runs inside
 * `taskStorage.run(task, fn)`, and every continuation of every plain `async` function it calls,
 * however deep and however many run at once, keeps that store. On Node 24 (AsyncContextFrame)
 * reading it costs a few nanoseconds. Futures read it in `then()` to learn which task is about to
 * suspend on them; that is how cancellation reaches the exact `await` a task is waiting at.
 *
 * Only one loop runs at a time (as one asyncio loop per thread); `runningLoop` is that loop.
 */
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import { CancelledError } from "../exceptions.ts";

/** What a future needs to know about the task that awaits it. Implemented by `Task`. */
export interface AwaitingTask {
  /** The loop the task runs on; a task may only await futures of its own loop. */
  readonly loopRef: object;
  /** Called when the task starts awaiting a pending future; may cancel it if a cancel is due. */
  suspendOn(future: Cancellable): void;
  /** Called when a future the task was awaiting settles. */
  resumeFrom(future: Cancellable): void;
  /**
   * Called when a future the task was awaiting settles and queues the task's resumption in the
   * ready queue; `resumeFrom` follows when it runs.
   */
  wokenBy(future: Cancellable): void;
  /**
   * Called as the task resumes from a future that resolved: the `CancelledError` of a cancel that
   * landed after the resolution (it is consumed), or `null`.
   */
  takeLateCancel(): Error | null;
  /** A short description for error messages. */
  describe(): string;
  done(): boolean;
}

/**
 * Marks a future over a foreign promise that a cancel may leave pending when the cancel reached
 * the task's own code driving that promise (see `foreign-futures.ts` and `Task.cancel`).
 */
export const kDeferrableCancel: unique symbol = Symbol("aiots.deferrableCancel");

/** The part of a future that a task uses while awaiting it. */
export interface Cancellable {
  cancel(msg?: string): boolean;
  done(): boolean;
  readonly [kDeferrableCancel]?: boolean;
}

export const taskStorage = new AsyncLocalStorage<AwaitingTask>();

/**
 * True while the loop runs a plain callback (not a task step). The drain that runs callbacks is
 * scheduled from whatever context asked for it, possibly a task's; callbacks must not be mistaken
 * for that task, and switching the async context for every drain would cost ~300 ns.
 */
let inLoopCallback = false;

export function setInLoopCallback(value: boolean): boolean {
  const previous = inLoopCallback;
  inLoopCallback = value;
  return previous;
}

/**
 * The async context a loop drain started in, captured when its first task step runs (one object
 * per drain), and whether a drain runs. A task's first step enters the task's context inside it,
 * so the drain goes on in its own context afterwards: nothing the drain creates later (a timer, a
 * handle) keeps a finished task alive through that task's context. `run()` would restore the same
 * way at the cost of a second context frame per task.
 */
let drainContext: AsyncResource | null = null;
let drainDepth = 0;

/** The loop's drain begins (called by the loop around the callbacks it runs). */
export function enterDrain(): void {
  drainDepth += 1;
}

/** The loop's drain ends. */
export function leaveDrain(): void {
  drainDepth -= 1;
  if (drainDepth === 0) drainContext = null;
}

function stepInContext<T extends AwaitingTask>(task: T, step: (task: T) => void): void {
  taskStorage.enterWith(task);
  step(task);
}

/**
 * Runs a task's first step, `step(task)`, in the task's context: the context current now plus the
 * task, left again when it returns (see drainContext).
 */
export function runTaskStep<T extends AwaitingTask>(task: T, step: (task: T) => void): void {
  if (drainDepth === 0) {
    taskStorage.run(task, step, task);
    return;
  }
  (drainContext ??= new AsyncResource("aiots.drain")).runInAsyncScope(stepInContext, null, task, step);
}

/**
 * Runs `fn` with no current task. Node handles (sockets, servers, children) run their events in the
 * async context they were created in, and protocol callbacks run outside any task in asyncio: both
 * are created or called through this, or a connection opened by a task would look, in every later
 * callback, as if that task were running. Free when no task is current.
 */
export function outsideTasks<T>(fn: () => T): T {
  return taskStorage.getStore() === undefined ? fn() : taskStorage.exit(fn);
}

/** The task whose code is running now, if any and if it is not finished. */
export function currentAwaitingTask(): AwaitingTask | undefined {
  if (inLoopCallback) return undefined;
  const task = taskStorage.getStore();
  return task === undefined || task.done() ? undefined : task;
}

let runningLoop: object | null = null;

/**
 * Whether errors aiots creates internally (a CancelledError delivered to a task) capture a stack.
 * Capturing costs ~3 µs per error; the stack would show the code that cancelled, not the await that
 * was interrupted, so it is kept for debug mode only.
 */
let captureStacks = false;

export function setCaptureStacks(value: boolean): void {
  captureStacks = value;
}

// Runs build(arg) with no stack trace captured, unless debug mode is on. The argument is passed
// through so that hot callers (one CancelledError per cancelled task) need no closure.
function withoutStack<A, E extends Error>(build: (arg: A) => E, arg: A): E {
  if (captureStacks) return build(arg);
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build(arg);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function callBuild<E extends Error>(build: () => E): E {
  return build();
}

function buildCancelledError(message: string | undefined): CancelledError {
  return new CancelledError(message);
}

/** Builds an error, without a stack trace unless debug mode is on. */
export function makeInternalError<E extends Error>(build: () => E): E {
  return withoutStack(callBuild, build);
}

/** A `CancelledError` made as makeInternalError makes errors, without a closure per call. */
export function newCancelledError(message?: string): CancelledError {
  return withoutStack(buildCancelledError, message);
}

export function getRunningLoopOrNull(): object | null {
  return runningLoop;
}

export function setRunningLoop(loop: object | null): void {
  runningLoop = loop;
}
