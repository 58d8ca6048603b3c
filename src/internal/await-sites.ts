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

/** Read by `Task.suspendOn`; true while sites are recorded. */
export const tracking = { on: false };

let users = 0;
let stopHook: (() => void) | null = null;
let lastPromise: object | undefined;
// The stack of the task's latest await of a thenable, not yet fixed as a suspension.
const candidate = new WeakMap<object, Error>();
// Where the task is suspended now: the stack at suspendOn, and the candidate recorded before it.
const sites = new WeakMap<object, { here: Error; candidate: Error | undefined }>();

function onInit(promise: object, parent: object | undefined): void {
  if (parent !== undefined && parent === lastPromise) {
    const task = currentAwaitingTask();
    if (task !== undefined) candidate.set(task, new Error("await site"));
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
 * Called by a task when it suspends on a future while tracking is on. Called from `Future.then`
 * (a V8 job with no user frames below it), the site is the candidate recorded at the await; called
 * synchronously from user code (`sleep()` registers its wait as it is called), the stack here is it.
 * Both are kept unformatted (capturing is cheap, formatting is not) and chosen between when shown.
 */
export function noteSuspended(task: object): void {
  const candidateSite = candidate.get(task);
  candidate.delete(task);
  sites.set(task, { here: new Error("await site"), candidate: candidateSite });
}

const INTERNAL = /\/src\/(futures|tasks|sleep|base-events|internal\/[a-z-]+)\.ts|node:internal|^Promise\./;

function userFrames(error: Error | undefined): string[] {
  if (error === undefined) return [];
  return (error.stack ?? "")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().replace(/^at /, ""))
    .filter((frame) => !INTERNAL.test(frame));
}

/**
 * Where `task` is suspended, as `"fn (file:line:col)"` lines (innermost first), without aiots's
 * own frames and Node's internals; an empty array when unknown (tracking was off at that await).
 */
export function awaitSite(task: object, depth = 8): string[] {
  const site = sites.get(task);
  if (site === undefined) return [];
  const here = userFrames(site.here);
  return (here.length > 0 ? here : userFrames(site.candidate)).slice(0, depth);
}
