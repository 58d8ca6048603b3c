/** Signal names and numbers, checked with messages that say what to pass instead. */
import { constants } from "node:os";

const byName = constants.signals as Readonly<Record<string, number>>;
const byNumber = new Map<number, string>();
for (const [name, number] of Object.entries(byName)) if (!byNumber.has(number)) byNumber.set(number, name);

/** The signal's name (`"SIGTERM"`) for a name or a number. */
export function signalName(what: string, signal: unknown): NodeJS.Signals {
  if (typeof signal === "string") {
    if (Object.hasOwn(byName, signal)) return signal as NodeJS.Signals;
    const upper = signal.toUpperCase();
    const hint = Object.hasOwn(byName, upper) ? upper : Object.hasOwn(byName, `SIG${upper}`) ? `SIG${upper}` : null;
    throw new TypeError(`${what}: unknown signal "${signal}"${hint === null ? "; use a name such as \"SIGTERM\" or a number" : `; did you mean "${hint}"?`}`);
  }
  if (typeof signal === "number" && Number.isInteger(signal)) {
    const name = byNumber.get(signal);
    if (name !== undefined) return name as NodeJS.Signals;
    throw new RangeError(`${what}: ${signal} is not a signal number on this system; use a name such as "SIGTERM"`);
  }
  throw new TypeError(`${what} takes a signal name such as "SIGTERM" or a signal number, got ${signal === null ? "null" : typeof signal}`);
}

/** The signal's number (`15` for `"SIGTERM"`). */
export function signalNumber(name: string): number {
  return byName[name] ?? 0;
}
