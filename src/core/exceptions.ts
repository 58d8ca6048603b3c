/**
 * The exceptions of aiots, one class per asyncio exception.
 *
 * Every class sets `name` to its class name so that logs and `util.inspect` say what happened.
 * `CancelledError` is an ordinary `Error` here (JavaScript has no `BaseException`): a `catch` block
 * that swallows everything also swallows cancellation, so rethrow it (`if (e instanceof CancelledError)
 * throw e;`).
 * @module
 */

/**
 * The operation was cancelled. Thrown into a task at the `await` it is suspended on when
 * `task.cancel()` is called.
 * @example
 * ```ts
 * import { CancelledError, createTask, sleep } from "aiots";
 * const t = createTask(async () => {
 *   try { await sleep(10); } catch (e) { if (e instanceof CancelledError) console.log("stopped"); throw e; }
 * });
 * t.cancel();
 * ```
 */
export class CancelledError extends Error {
  override name = "CancelledError";
  constructor(message?: string, options?: ErrorOptions) {
    super(message ?? "", options);
  }
}

/** The operation exceeded its deadline (`timeout`, `waitFor`, `wait`, `asCompleted`). */
export class TimeoutError extends Error {
  override name = "TimeoutError";
  constructor(message?: string, options?: ErrorOptions) {
    super(message ?? "", options);
  }
}

/** A Future or Task was in the wrong state for the call (e.g. `result()` before it is done). */
export class InvalidStateError extends Error {
  override name = "InvalidStateError";
}

/**
 * `readExactly()` reached the end of the stream before `expected` bytes arrived.
 * `partial` holds the bytes that did arrive.
 */
export class IncompleteReadError extends Error {
  override name = "IncompleteReadError";
  readonly partial: Buffer;
  readonly expected: number | null;
  constructor(partial: Uint8Array, expected: number | null) {
    const got = partial.length;
    super(`${got} bytes read on a total of ${expected === null ? "undefined" : expected} expected bytes`);
    this.partial = Buffer.from(partial.buffer, partial.byteOffset, partial.byteLength);
    this.expected = expected;
  }
}

/**
 * A stream read looked for a separator past the reader's limit. `consumed` is how many bytes
 * would have to be consumed to continue.
 */
export class LimitOverrunError extends Error {
  override name = "LimitOverrunError";
  readonly consumed: number;
  constructor(message: string, consumed: number) {
    super(message);
    this.consumed = consumed;
  }
}

/** A `Barrier` was aborted or reset while tasks were waiting on it. */
export class BrokenBarrierError extends Error {
  override name = "BrokenBarrierError";
}

/** `loop.sendfile()` cannot use the zero-copy path for this transport or file. */
export class SendfileNotAvailableError extends Error {
  override name = "SendfileNotAvailableError";
}

/**
 * Several errors raised together, as by a task group whose children failed.
 * A subclass of the built-in `AggregateError` (so `errors` works too) with Python's `exceptions`.
 * @example
 * ```ts
 * import { ExceptionGroup, taskGroup } from "aiots";
 * try {
 *   await taskGroup(async (tg) => { tg.createTask(async () => { throw new Error("a"); }); });
 * } catch (e) {
 *   if (e instanceof ExceptionGroup) console.log(e.exceptions.length); // 1
 * }
 * ```
 */
export class ExceptionGroup extends AggregateError {
  override name = "ExceptionGroup";
  readonly exceptions: readonly unknown[];
  constructor(message: string, exceptions: Iterable<unknown>) {
    const list = [...exceptions];
    if (typeof message !== "string") throw new TypeError("ExceptionGroup(message, exceptions): message must be a string");
    if (list.length === 0) throw new TypeError("ExceptionGroup(message, exceptions): exceptions must be a non-empty list");
    super(list, message);
    this.exceptions = Object.freeze(list);
  }

  /** The errors matching `predicate` (recursing into nested groups), or `null` if none match. */
  subgroup(predicate: (error: unknown) => boolean): ExceptionGroup | null {
    return this.split(predicate)[0];
  }

  /** Splits into `[matching, rest]`, keeping the nesting; either side is `null` when empty. */
  split(predicate: (error: unknown) => boolean): [ExceptionGroup | null, ExceptionGroup | null] {
    if (predicate(this)) return [this, null];
    const matched: unknown[] = [];
    const rest: unknown[] = [];
    for (const error of this.exceptions) {
      if (error instanceof ExceptionGroup) {
        const [m, r] = error.split(predicate);
        if (m !== null) matched.push(m);
        if (r !== null) rest.push(r);
      } else if (predicate(error)) {
        matched.push(error);
      } else {
        rest.push(error);
      }
    }
    return [this.#derive(matched), this.#derive(rest)];
  }

  #derive(list: unknown[]): ExceptionGroup | null {
    if (list.length === 0) return null;
    const group = new ExceptionGroup(this.message, list);
    group.stack = this.stack;
    return group;
  }
}
