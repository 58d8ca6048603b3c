/** Argument checks shared by the public functions, with messages that say what to pass. */

/** A delay in seconds: a finite or infinite number, not negative. */
export function checkDelay(what: string, delay: unknown): asserts delay is number {
  if (typeof delay !== "number") {
    throw new TypeError(`${what} takes a delay in seconds as a number, got ${delay === null ? "null" : typeof delay}`);
  }
  if (Number.isNaN(delay) || delay < 0) {
    throw new RangeError(`${what} delay must be a number of seconds >= 0, got ${delay}; to run at a loop time use callAt()`);
  }
}

/** A point in loop time (seconds), or null for "never" where allowed. */
export function checkWhen(what: string, when: unknown): asserts when is number {
  if (typeof when !== "number" || Number.isNaN(when)) {
    throw new TypeError(`${what} takes a loop time in seconds (see loop.time()), got ${String(when)}`);
  }
}

export function checkCallback(what: string, callback: unknown): void {
  if (typeof callback !== "function") {
    throw new TypeError(`${what} takes a function as its callback, got ${callback === null ? "null" : typeof callback}`);
  }
  if ((callback as { constructor?: { name?: string } }).constructor?.name === "AsyncFunction") {
    throw new TypeError(`${what} cannot schedule an async function: loop callbacks are plain functions; run async work with createTask(fn)`);
  }
}
