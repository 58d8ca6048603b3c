/**
 * Where each suspended task is suspended: the source location of its pending `await`.
 *
 * How it works: JavaScript cannot read a suspended async function's position, so the position is
 * taken when the `await` happens. Awaiting an aiots future (a thenable) makes V8 create a wrapper
 * promise and, at once, a second promise whose parent is that wrapper; with V8's promise hooks on,
 * a promise created whose parent is the promise created just before marks that moment, and a stack
 * captured there starts at the awaiting line. The task then calls `noteSuspended` when it suspends
 * on the future (a microtask later), which fixes that stack as the task's await site.
 *
 * It costs a promise hook on every promise and a stack capture per await, so it runs only while
 * enabled: in debug mode and while `enableInspection()` (or `AIOTS_INSPECT=1`) is on. Off, the only
 * cost is the `tracking.on` check in `Task.suspendOn`.
 */
import { promiseHooks } from "node:v8";
import { currentAwaitingTask } from "./context.ts";
import { framesIn } from "./own-frames.ts";

/** Read by `Task.suspendOn`; true while sites are recorded. */
export const tracking = { on: false };

let users = 0;
let stopHook: (() => void) | null = null;
let lastPromise: object | undefined;
// The stack of the task's latest await of a thenable, not yet fixed as a suspension.
const candidate = new WeakMap<object, Error>();
// The stack where the task is suspended now.
const sites = new WeakMap<object, Error>();

// Frames kept per capture: the await's function and a few callers. Walking fewer frames is what
// makes a capture cheap (formatting happens only when a graph is shown).
const FRAMES = 6;

function capture(): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = FRAMES;
  const error = new Error("await site");
  Error.stackTraceLimit = limit;
  return error;
}

// A task that just recorded its site synchronously (sleep): the `await` of the promise it returns
// comes next, and its capture would be thrown away.
let skipNextFor: object | null = null;

function onInit(promise: object, parent: object | undefined): void {
  if (parent !== undefined && parent === lastPromise) {
    const task = currentAwaitingTask();
    if (task !== undefined) {
      if (task === skipNextFor) skipNextFor = null;
      else candidate.set(task, capture());
    }
  }
  lastPromise = promise;
}

/** Starts recording await sites (counted: each `startAwaitSites` needs its `stopAwaitSites`). */
export function startAwaitSites(): void {
  if (users++ > 0) return;
  tracking.on = true;
  stopHook = promiseHooks.onInit(onInit) as () => void;
}

export function stopAwaitSites(): void {
  if (users === 0 || --users > 0) return;
  tracking.on = false;
  stopHook?.();
  stopHook = null;
  lastPromise = undefined;
}

/**
 * Called by a task when it suspends on `waited` while tracking is on. A thenable (an aiots future)
 * is being awaited: `Future.then` runs in a V8 job with no user frames, so the site is the
 * candidate recorded at the await. Anything else registered its wait synchronously from user code
 * (`sleep()` does, as it is called), so the stack here is the site. Stacks are kept unformatted
 * (capturing is cheap, formatting is not) and formatted only when shown.
 */
export function noteSuspended(task: object, waited: object): void {
  const thenable = typeof (waited as { then?: unknown }).then === "function";
  const site = thenable ? candidate.get(task) : capture();
  candidate.delete(task);
  skipNextFor = thenable ? null : task;
  if (site !== undefined) sites.set(task, site);
}

// sync/: the locks and semaphores register their waits with the task from inside acquire().
const OWN_FRAMES = framesIn(["core/futures", "core/tasks", "core/sleep", "core/internal/[a-z-]+", "loop/base-events", "sync/[a-z-]+", "sync/internal/[a-z-]+"]);
const INTERNAL = /node:internal|^Promise\./;

function userFrames(error: Error | undefined): string[] {
  if (error === undefined) return [];
  return (error.stack ?? "")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().replace(/^at /, ""))
    .filter((frame) => !INTERNAL.test(frame) && !OWN_FRAMES.test(frame));
}

/**
 * Where `task` is suspended, as `"fn (file:line:col)"` lines (innermost first), without aiots's
 * own frames and Node's internals; an empty array when unknown (tracking was off at that await).
 */
export function awaitSite(task: object, depth = 8): string[] {
  return userFrames(sites.get(task)).slice(0, depth);
}

/**
 * Where `task` last awaited something that was not an aiots wait (a foreign promise), when that
 * await was recorded: a task whose cancel cannot be delivered is suspended there. Empty if unknown.
 */
export function foreignAwaitSite(task: object, depth = 8): string[] {
  return userFrames(candidate.get(task)).slice(0, depth);
}
