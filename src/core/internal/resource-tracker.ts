/**
 * Debug mode's unclosed-resource reports (asyncio's ResourceWarning).
 *
 * How it works: transports, servers, subprocess transports and event loops call `resourceOpened`
 * when they open and `resourceClosed` when they are closed (by `close()`, `abort()`, or the peer).
 * In debug mode an opened resource gets a record: its kind, its repr and the stack where it was
 * opened. The record is kept in a set per loop and in a FinalizationRegistry; whichever comes first
 * reports a resource still open: its loop closing (`run()`'s end, `loop.close()`), or the garbage
 * collector finding it unreachable. Reports go to the loop's exception handler (`{ message,
 * resource? }`), or, once the loop itself is gone, to `process.emitWarning` as a "ResourceWarning".
 * Outside debug mode `resourceOpened` is one `getDebug()` check (plus the connection channels'
 * `hasSubscribers`), and nothing is recorded.
 */
import type { AbstractEventLoop } from "../events.ts";
import { connectionEvent } from "./diagnostics.ts";
import { markLoopBound } from "./never-awaited.ts";
import { framesIn } from "./own-frames.ts";

interface ResourceRecord {
  kind: string;
  // The class name: a repr (toString) is taken at report time, as it is not ready in a constructor.
  className: string;
  stack: string;
  loop: WeakRef<AbstractEventLoop> | null;
  ref: WeakRef<object>;
}

const records = new WeakMap<object, ResourceRecord>();
// Open resources by loop (strong records, weak resources); the loop itself is tracked with itself as key.
const openByLoop = new WeakMap<AbstractEventLoop, Set<ResourceRecord>>();

const collected = new FinalizationRegistry<ResourceRecord>((record) => {
  const loop = record.loop?.deref();
  if (loop !== undefined) openByLoop.get(loop)?.delete(record);
  report(record, loop, "garbage-collected while open");
});

// The tracker and the other core internals that open resources on the user's behalf.
const INTERNAL_FRAMES = framesIn(["core/internal/[a-z-]+"]);

function openedAt(): string {
  return (new Error().stack ?? "")
    .split("\n")
    .slice(1)
    .filter((line) => !INTERNAL_FRAMES.test(line))
    .join("\n");
}

function report(record: ResourceRecord, loop: AbstractEventLoop | undefined, how: string): void {
  const fix = record.kind === "event loop" ? "call loop.close() when done with it (run() does)" : "close it (close(), or await using) before run() ends";
  const resource = record.ref.deref();
  const repr = resource === undefined ? `<${record.className}>` : String(resource);
  const message = `unclosed ${record.kind} ${repr} (${how}): ${fix}\nopened at:\n${record.stack}`;
  if (loop !== undefined) {
    loop.callExceptionHandler({ message, resource });
  } else {
    process.emitWarning(message, { type: "ResourceWarning" });
  }
}

function remember(resource: object, kind: string, loop: AbstractEventLoop | null): void {
  if (records.has(resource)) return;
  const record: ResourceRecord = { kind, className: resource.constructor.name, stack: openedAt(), loop: loop === null ? null : new WeakRef(loop), ref: new WeakRef(resource) };
  records.set(resource, record);
  collected.register(resource, record, resource);
  if (loop !== null) {
    let set = openByLoop.get(loop);
    if (set === undefined) openByLoop.set(loop, (set = new Set()));
    set.add(record);
  }
}

/**
 * A transport, server or subprocess transport of `loop` was opened. `connection: true` also
 * publishes `aiots:connection:opened` (and its close, `aiots:connection:closed`).
 */
export function resourceOpened(resource: object, kind: string, loop: AbstractEventLoop, options?: { connection?: boolean }): void {
  if (options?.connection === true) connectionEvent(true, resource, kind);
  if (loop.getDebug()) remember(resource, kind, loop);
}

/** The resource was closed (idempotent; a resource never recorded is ignored). */
export function resourceClosed(resource: object, options?: { connection?: boolean; kind?: string }): void {
  if (options?.connection === true) connectionEvent(false, resource, options.kind ?? "transport");
  const record = records.get(resource);
  if (record === undefined) return;
  records.delete(resource);
  collected.unregister(resource);
  const loop = record.loop?.deref();
  if (loop !== undefined) openByLoop.get(loop)?.delete(record);
}

/** An event loop in debug mode: reported if it is collected without `close()`. Idempotent. */
export function loopDebugEnabled(loop: AbstractEventLoop): void {
  markLoopBound(loop);
  remember(loop, "event loop", null);
}

/** The loop is closing: reports its resources still open, and the loop counts as closed. */
export function loopClosing(loop: AbstractEventLoop): void {
  const open = openByLoop.get(loop);
  if (open !== undefined) {
    openByLoop.delete(loop);
    for (const record of open) {
      const resource = record.ref.deref();
      if (resource !== undefined) {
        records.delete(resource);
        collected.unregister(resource);
      }
      report(record, loop, "left open when its event loop closed");
    }
  }
  resourceClosed(loop);
}
