/**
 * aiots's instrumentation: `diagnostics_channel` channels for APM tools and `NODE_DEBUG=aiots` logs.
 *
 * Channels (subscribe with `diagnostics_channel.subscribe(name, fn)`):
 * - `aiots:task:created` `{ task }` — a task was created (while someone listened on a task channel)
 * - `aiots:task:done` `{ task }` — such a task finished with a result or an error
 * - `aiots:task:cancelled` `{ task }` — such a task ended cancelled
 * - `aiots:connection:opened` `{ transport, kind }` / `aiots:connection:closed` `{ transport, kind }`
 * - `aiots:loop:slow-callback` `{ loop, message, duration }` — debug mode's slow-code report
 *
 * Publishing is guarded by `hasSubscribers`, so with nobody listening the cost is one property read.
 * A task created while nobody listens on any task channel is not followed: its end is not published.
 */
import diagnosticsChannel from "node:diagnostics_channel";
import { debuglog } from "node:util";
import { kObserve, type Future } from "../futures.ts";

export const taskCreatedChannel = diagnosticsChannel.channel("aiots:task:created");
export const taskDoneChannel = diagnosticsChannel.channel("aiots:task:done");
export const taskCancelledChannel = diagnosticsChannel.channel("aiots:task:cancelled");
export const connectionOpenedChannel = diagnosticsChannel.channel("aiots:connection:opened");
export const connectionClosedChannel = diagnosticsChannel.channel("aiots:connection:closed");
export const slowCallbackChannel = diagnosticsChannel.channel("aiots:loop:slow-callback");

/** Library logs, shown with `NODE_DEBUG=aiots` (never `console.log`). */
export const log = debuglog("aiots");

function publishTaskEnd(task: Future<unknown>): void {
  const channel = task.cancelled() ? taskCancelledChannel : taskDoneChannel;
  if (channel.hasSubscribers) channel.publish({ task });
}

/** Whether any task channel has a subscriber (the hook in `Task`'s constructor checks this first). */
export function taskChannelsActive(): boolean {
  return taskCreatedChannel.hasSubscribers || taskDoneChannel.hasSubscribers || taskCancelledChannel.hasSubscribers;
}

/** Called by `Task`'s constructor when `taskChannelsActive()`: publishes creation, follows the end. */
export function taskCreated(task: Future<unknown>): void {
  if (taskCreatedChannel.hasSubscribers) taskCreatedChannel.publish({ task });
  // A synchronous observer: no loop callback, and the task's own done callbacks keep their order.
  if (taskDoneChannel.hasSubscribers || taskCancelledChannel.hasSubscribers) task[kObserve](publishTaskEnd);
}

/** Publishes a connection (transport) opening or closing; `kind` is e.g. "tcp", "unix", "tls". */
export function connectionEvent(opened: boolean, transport: object, kind: string): void {
  const channel = opened ? connectionOpenedChannel : connectionClosedChannel;
  if (channel.hasSubscribers) channel.publish({ transport, kind });
  if (log.enabled) log("connection %s: %s %s", opened ? "opened" : "closed", kind, String(transport));
}
