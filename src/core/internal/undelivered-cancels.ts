/**
 * Debug mode's report of a cancellation that cannot reach its task.
 *
 * A task suspended on a promise aiots does not own (a plain `await somePromise` in its code) cannot
 * be interrupted there: the cancel waits for the task's next aiots await. In debug mode `Task.cancel`
 * hands such a task to `watchUndeliveredCancel`, which checks after `loop.slowCallbackDuration`
 * whether the cancel is still waiting and, if so, reports it through the loop's exception handler,
 * with the task and the await site when it was recorded, and says how to fix it (wrap the await).
 * @module
 */
import type { AbstractEventLoop, ExceptionContext } from "../events.ts";
import { foreignAwaitSite } from "./await-sites.ts";

/** What the watcher needs of a task. */
interface CancelWatched {
  readonly loopRef: AbstractEventLoop;
  getName(): string;
  cancelUndelivered(): boolean;
}

/** Read by `Task.cancel`: whether to watch undelivered cancels (a loop in debug mode runs). */
export const undeliveredCancels = { on: false };

const watched = new WeakSet<object>();

/** Sets whether cancels that cannot be delivered are watched (the loop does, in debug mode). */
export function setWatchUndeliveredCancels(on: boolean): void {
  undeliveredCancels.on = on;
}

/** Reports `task`'s cancel if it is still undelivered after the loop's `slowCallbackDuration`. */
export function watchUndeliveredCancel(task: CancelWatched): void {
  const loop = task.loopRef;
  if (!loop.getDebug() || loop.isClosed() || watched.has(task)) return;
  watched.add(task);
  const since = loop.time();
  // The await site is read now: the task is suspended, so its latest recorded await is the one.
  const site = foreignAwaitSite(task);
  loop.callLater(loop.slowCallbackDuration, () => {
    watched.delete(task);
    if (!task.cancelUndelivered()) return;
    const waited = loop.time() - since;
    const where = site.length === 0 ? "" : `, at:\n    ${site.join("\n    ")}\n`;
    loop.callExceptionHandler({
      message:
        `Task ${task.getName()} was cancelled ${waited.toFixed(3)} seconds ago and the cancellation could not be delivered: ` +
        `the task is suspended on a promise aiots does not own${where === "" ? ". " : where}` +
        "To bound such an await, wrap it: await ensureFuture(promise), or abortable((signal) => ...) for an API that takes an AbortSignal.",
      task: task as unknown as ExceptionContext["task"],
      undeliveredCancel: true,
      duration: waited,
    });
  });
}
