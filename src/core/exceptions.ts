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

  /**
   * The errors that match (recursing into nested groups, keeping their nesting), or `null` if none
   * do. `condition` is an error class, an array of classes, or a predicate, as for `split`.
   * @example
   * ```ts
   * import { ExceptionGroup } from "aiots";
   * const eg = new ExceptionGroup("batch", [new TypeError("t"), new ExceptionGroup("inner", [new RangeError("r")])]);
   * console.log(eg.subgroup(RangeError)?.exceptions.length); // 1 (the nested group, holding the RangeError)
   * ```
   * @throws {TypeError} if `condition` is neither a class, an array of classes nor a function.
   */
  subgroup(condition: ErrorMatcher): ExceptionGroup | null {
    return this.split(condition)[0];
  }

  /**
   * Splits into `[matching, rest]` as Python's `except*` does: leaf errors are tested one by one,
   * nested groups are split recursively and keep their structure, and a group that matches as a
   * whole goes to the matching side intact. Either side is `null` when empty. `condition` is an
   * error class (`instanceof`), an array of classes (any of them), or a predicate called with each
   * error and each group. Derived groups keep this group's message, stack and `cause`.
   * @example
   * ```ts
   * import { ExceptionGroup } from "aiots";
   * const eg = new ExceptionGroup("two", [new TypeError("t"), new Error("e")]);
   * const [types, rest] = eg.split(TypeError);
   * console.log(types?.exceptions.length, rest?.exceptions.length); // 1 1
   * ```
   * @throws {TypeError} if `condition` is neither a class, an array of classes nor a function.
   */
  split(condition: ErrorMatcher): [ExceptionGroup | null, ExceptionGroup | null] {
    return this.#split(toPredicate(condition));
  }

  #split(predicate: (error: unknown) => boolean): [ExceptionGroup | null, ExceptionGroup | null] {
    if (predicate(this)) return [this, null];
    const matched: unknown[] = [];
    const rest: unknown[] = [];
    for (const error of this.exceptions) {
      if (error instanceof ExceptionGroup) {
        const [m, r] = error.#split(predicate);
        if (m !== null) matched.push(m);
        if (r !== null) rest.push(r);
      } else if (predicate(error)) {
        matched.push(error);
      } else {
        rest.push(error);
      }
    }
    if (rest.length === 0) return [this, null];
    if (matched.length === 0) return [null, this];
    return [this.#derive(matched), this.#derive(rest)];
  }

  #derive(list: unknown[]): ExceptionGroup | null {
    const group = new ExceptionGroup(this.message, list);
    group.stack = this.stack;
    if ("cause" in this) group.cause = this.cause;
    return group;
  }
}

/** An error class (matched with `instanceof`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any constructor signature is a class to match
export type ErrorClass = abstract new (...args: any[]) => unknown;

/** What `ExceptionGroup#split` and `#subgroup` accept: a class, an array of classes, or a predicate. */
export type ErrorMatcher = ErrorClass | readonly ErrorClass[] | ((error: unknown) => boolean);

function isClass(value: unknown): value is ErrorClass {
  if (typeof value !== "function") return false;
  const proto = (value as { prototype?: unknown }).prototype;
  // Arrow functions have no prototype; a plain function used as a predicate has an Object one.
  if (proto === undefined || proto === null) return false;
  if (value === Error || proto instanceof Error) return true;
  return /^class[\s{]/.test(Function.prototype.toString.call(value));
}

function toPredicate(condition: ErrorMatcher): (error: unknown) => boolean {
  if (Array.isArray(condition)) {
    const classes = condition as readonly unknown[];
    for (const c of classes) {
      if (!isClass(c)) throw new TypeError(`ExceptionGroup split()/subgroup(): the array must hold error classes, got ${typeof c}`);
    }
    return (error) => classes.some((c) => error instanceof (c as ErrorClass));
  }
  if (isClass(condition)) return (error) => error instanceof condition;
  if (typeof condition === "function") return condition;
  throw new TypeError(
    `ExceptionGroup split()/subgroup() take an error class, an array of classes or a predicate (error) => boolean, got ${condition === null ? "null" : typeof condition}`,
  );
}
