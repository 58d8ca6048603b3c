/**
 * Unix signal handlers on the event loop (asyncio's `loop.add_signal_handler`), on Node's
 * `process.on(signal)`.
 *
 * How it works: each loop keeps one Node listener per signal it handles; when the signal arrives
 * the listener schedules the callback with `callSoon`, so it runs as an ordinary loop callback.
 * Adding a handler for a signal replaces the loop's previous handler for it; removing the last one
 * removes the Node listener, which gives the signal back to Node's default behaviour (or to other
 * listeners). Closing the loop removes its handlers; should a listener still see its signal after
 * the loop closed, it removes itself and re-raises the signal, so the signal is never swallowed.
 * @module
 */
import { type AbstractEventLoop, type Handle, checkCallback } from "../core/index.ts";
import { signalName } from "./internal/signal-names.ts";

// Signals a process cannot catch; and those after which JavaScript cannot safely run (a real fault)
// or that V8's profiler uses.
const UNCATCHABLE = new Set(["SIGKILL", "SIGSTOP"]);
const RESERVED = new Set(["SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGPROF"]);

interface Installed {
  readonly listener: () => void;
  readonly callback: (...args: never[]) => unknown;
  readonly args: readonly unknown[];
}

// loop -> signal name -> its installed handler.
const handlers = new WeakMap<AbstractEventLoop, Map<NodeJS.Signals, Installed>>();

function checkSignal(what: string, signal: unknown): NodeJS.Signals {
  const name = signalName(what, signal);
  if (UNCATCHABLE.has(name)) throw new RangeError(`${what}: ${name} cannot be caught, blocked or ignored, so it cannot have a handler`);
  if (RESERVED.has(name)) {
    throw new RangeError(`${what}: ${name} is reserved by Node.js (a fault signal, or V8's profiler) and cannot have a handler`);
  }
  return name;
}

/**
 * The body of `loop.addSignalHandler(signal, callback, ...args)`: from now on `signal` runs
 * `callback(...args)` as a loop callback instead of its default action.
 * @throws {TypeError|RangeError} for an unknown signal, SIGKILL or SIGSTOP, or a callback that is not a plain function.
 */
export function addSignalHandler<A extends unknown[]>(loop: AbstractEventLoop, signal: number | string, callback: (...args: A) => unknown, args: A): void {
  const name = checkSignal("addSignalHandler()", signal);
  checkCallback("addSignalHandler()", callback);
  if (loop.isClosed()) throw new Error("addSignalHandler(): the event loop is closed");
  let table = handlers.get(loop);
  if (table === undefined) {
    table = new Map();
    handlers.set(loop, table);
  }
  const previous = table.get(name);
  const listener = (): void => {
    if (loop.isClosed()) {
      // The loop is gone: stop handling the signal and let it do what it would have done.
      removeSignalHandler(loop, name);
      if (process.listenerCount(name) === 0) process.kill(process.pid, name);
      return;
    }
    loop.callSoon(callback, ...args) satisfies Handle;
  };
  table.set(name, { listener, callback: callback, args });
  process.on(name, listener);
  if (previous !== undefined) process.removeListener(name, previous.listener);
}

/**
 * The body of `loop.removeSignalHandler(signal)`: returns `true` if a handler was removed.
 * @throws {TypeError|RangeError} for an unknown signal.
 */
export function removeSignalHandler(loop: AbstractEventLoop, signal: number | string): boolean {
  const name = checkSignal("removeSignalHandler()", signal);
  const table = handlers.get(loop);
  const installed = table?.get(name);
  if (table === undefined || installed === undefined) return false;
  table.delete(name);
  process.removeListener(name, installed.listener);
  return true;
}

/** Removes every handler the loop installed (for closing a loop). */
export function removeAllSignalHandlers(loop: AbstractEventLoop): void {
  const table = handlers.get(loop);
  if (table === undefined) return;
  for (const name of [...table.keys()]) removeSignalHandler(loop, name);
}
