/**
 * `gather` and `shield`: futures that combine or protect other awaitables.
 * @module
 */
import { CancelledError } from "./exceptions.ts";
import { getRunningLoop, type AbstractEventLoop } from "./events.ts";
import { Future, isFuture, isThenable, kCancelledError, kObserve } from "./futures.ts";
import { registerWaitsOn } from "./internal/awaited-by.ts";
import { newCancelledError } from "./internal/context.ts";
import { Task, ensureFuture } from "./tasks.ts";

/** Something `gather`, `wait` and friends accept: an aiots future or task, or any promise. */
export type Awaitable<T> = Future<T> | PromiseLike<T>;

/** What `gather` resolves to: each awaitable's result, in argument order. */
export type GatherResults<A extends readonly unknown[]> = { -readonly [K in keyof A]: Awaited<A[K]> };
/** What `gather(..., { returnExceptions: true })` resolves to: each result, or the error it failed with. */
export type GatherOutcomes<A extends readonly unknown[]> = { -readonly [K in keyof A]: Awaited<A[K]> | Error };

export interface GatherOptions {
  /** Return errors (and `CancelledError`s) in the results instead of failing on the first one. */
  returnExceptions?: boolean;
}

/**
 * The future `gather` returns; it tracks its children itself.
 *
 * How it works: each argument is a slot. A future (or task) slot is watched with a synchronous
 * observer. The promise slots are handed to one `Promise.all` (`Promise.allSettled` with
 * `returnExceptions`), V8's own combinator, which costs less per promise than any handlers of ours
 * could; their outcomes are filled in together when it settles. No wrapper task, no wrapper
 * future. Cancelling the gather cancels every future child; a promise child cannot be interrupted
 * (its own aiots awaits belong to the task that started it, and are cancelled with that task), so
 * its slot counts as cancelled at once and its later outcome is ignored.
 */
class GatheringFuture extends Future<unknown[]> {
  readonly #awaitables: readonly Awaitable<unknown>[];
  readonly #returnExceptions: boolean;
  readonly #results: unknown[];
  // Invariant: #settled[i] is 1 once slot i has an outcome; #remaining counts the zeros.
  readonly #settled: Uint8Array;
  #remaining: number;
  // The promise slots, while their outcomes are still to come (null: none, or filled in).
  #promiseSlots: number[] | null = null;
  #cancelRequested = false;
  #lastCancel: CancelledError | null = null;

  constructor(awaitables: readonly Awaitable<unknown>[], returnExceptions: boolean, loop: AbstractEventLoop) {
    super({ loop });
    const n = awaitables.length;
    this.#awaitables = awaitables;
    this.#returnExceptions = returnExceptions;
    this.#results = new Array<unknown>(n);
    this.#settled = new Uint8Array(n);
    this.#remaining = n;
    registerWaitsOn(this, awaitables);
    if (n === 0) {
      this.setResult([]);
      return;
    }
    let slots: number[] | null = null;
    try {
      for (let i = 0; i < n; i++) {
        const aw = awaitables[i]!;
        if (isFuture(aw)) {
          if (aw.getLoop() !== loop) throw new Error(`gather(): ${String(aw)} belongs to a different loop than the other awaitables`);
          aw[kObserve]((child) => this.#childDone(i, child));
        } else if (isThenable(aw)) {
          (slots ??= []).push(i);
        } else {
          ensureFuture(aw, loop); // throws the explanatory TypeError
        }
      }
    } finally {
      // Also when an argument is refused: the promises before it get their handlers (a later
      // rejection of theirs must not be reported as unhandled).
      if (slots !== null) this.#followPromises(slots);
    }
  }

  #followPromises(slots: number[]): void {
    this.#promiseSlots = slots;
    const all = this.#awaitables;
    const promises = (slots.length === all.length ? all : slots.map((i) => all[i])) as readonly PromiseLike<unknown>[];
    if (this.#returnExceptions) {
      void Promise.allSettled(promises).then((outcomes) => {
        if (this.#promiseSlots !== slots) return; // cancelled meanwhile
        this.#promiseSlots = null;
        for (let k = 0; k < slots.length; k++) {
          const outcome = outcomes[k]!;
          this.#fill(slots[k]!, outcome.status === "fulfilled" ? outcome.value : rejection(outcome.reason));
        }
        this.#remaining -= slots.length;
        this.#finishIfComplete();
      });
    } else {
      void Promise.all(promises).then(
        (values) => {
          if (this.#promiseSlots !== slots) return;
          this.#promiseSlots = null;
          for (let k = 0; k < slots.length; k++) this.#fill(slots[k]!, values[k]);
          this.#remaining -= slots.length;
          this.#finishIfComplete();
        },
        (error: unknown) => {
          // The first rejection fails the gather, whichever slot it is.
          if (this.#promiseSlots !== slots || this.done()) return;
          this.#promiseSlots = null;
          this.setException(rejection(error));
        },
      );
    }
  }

  override cancel(msg?: string): boolean {
    if (this.done()) return false;
    let cancelledAny = false;
    // Every future child first: counting the promise slots as cancelled may end the gather at
    // once, and the children after them must still be cancelled (asyncio cancels all of them).
    for (let i = 0; i < this.#awaitables.length; i++) {
      const aw = this.#awaitables[i]!;
      if (this.#settled[i] === 0 && isFuture(aw) && aw.cancel(msg)) cancelledAny = true;
    }
    if (this.#promiseSlots !== null && !this.done()) {
      this.#cancelRequested = true;
      this.#cancelPromiseSlots(msg);
      return true;
    }
    if (cancelledAny) this.#cancelRequested = true;
    return cancelledAny;
  }

  #cancelPromiseSlots(msg: string | undefined): void {
    const slots = this.#promiseSlots!;
    this.#promiseSlots = null;
    if (!this.#returnExceptions) {
      this.setException(newCancelledError(msg));
      return;
    }
    for (const i of slots) this.#fill(i, newCancelledError(msg));
    this.#remaining -= slots.length;
    this.#finishIfComplete();
  }

  #childDone(i: number, child: Future<unknown>): void {
    if (this.done() || this.#settled[i] === 1) return;
    let value: unknown;
    let failed = true;
    if (child.cancelled()) value = child[kCancelledError]();
    else {
      value = child.exception();
      if (value === null) {
        value = child.result();
        failed = false;
      }
    }
    if (failed && !this.#returnExceptions) {
      this.setException(value);
      return;
    }
    this.#fill(i, value);
    this.#remaining -= 1;
    this.#finishIfComplete();
  }

  #fill(i: number, value: unknown): void {
    this.#settled[i] = 1;
    if (value instanceof CancelledError) this.#lastCancel = value;
    this.#results[i] = value;
  }

  #finishIfComplete(): void {
    if (this.#remaining > 0) return;
    if (this.#cancelRequested) {
      // Cancelled from outside while the children finished: report the cancellation (asyncio).
      this.setException(this.#lastCancel ?? newCancelledError());
    } else {
      this.setResult(this.#results);
    }
  }
}

function rejection(error: unknown): unknown {
  return error === undefined ? new Error("promise rejected with undefined") : error;
}

/** @internal gather on a given loop (used by the runner, whose loop is not running yet). */
export function gatherOn(loop: AbstractEventLoop, awaitables: readonly Awaitable<unknown>[], returnExceptions: boolean): Future<unknown[]> {
  return new GatheringFuture(awaitables, returnExceptions, loop);
}

function splitGatherArgs(args: readonly unknown[]): [readonly Awaitable<unknown>[], boolean] {
  const [first, second] = args;
  if (Array.isArray(first) && args.length <= 2) {
    const options = (second ?? {}) as GatherOptions;
    if (typeof options !== "object" || options === null || isFuture(options) || "then" in options) {
      throw new TypeError("gather(awaitables, options): the second argument must be an options object like { returnExceptions: true }");
    }
    return [first as Awaitable<unknown>[], options.returnExceptions === true];
  }
  return [args as Awaitable<unknown>[], false];
}

/**
 * Runs awaitables concurrently and resolves to their results, in order (asyncio.gather).
 *
 * Without `returnExceptions`, the first error (or cancellation) of a child fails the gather and
 * the other children keep running. With it, errors are returned in the results. Cancelling the
 * returned future cancels every child. A promise child cannot be interrupted, so cancelling the
 * gather counts it as cancelled at once and ignores its later outcome (a rejection included); a
 * promise started inside the current task stays tied to that task (its aiots awaits are cancelled
 * with it).
 * @throws {TypeError} for a function (call it, or pass `createTask(fn)`).
 * @example
 * ```ts
 * import { run, gather, sleep } from "aiots";
 * await run(async () => {
 *   const [a, b] = await gather(sleep(0.1, "a"), sleep(0.2, "b"));
 *   const outcomes = await gather([Promise.reject(new Error("x")), sleep(0, 1)], { returnExceptions: true });
 *   console.log(a, b, outcomes); // a b [ Error: x, 1 ]
 * });
 * ```
 */
export function gather<const A extends readonly unknown[]>(awaitables: A, options: GatherOptions & { returnExceptions: true }): Future<GatherOutcomes<A>>;
export function gather<const A extends readonly unknown[]>(awaitables: A, options?: GatherOptions): Future<GatherResults<A>>;
export function gather<A extends readonly unknown[]>(...awaitables: A): Future<GatherResults<A>>;
export function gather(...args: unknown[]): Future<unknown[]> {
  const [awaitables, returnExceptions] = splitGatherArgs(args);
  const loop = awaitables.find(isFuture)?.getLoop() ?? getRunningLoop();
  return gatherOn(loop, awaitables, returnExceptions);
}

// Shielded work must not be collected while only the shield refers to it.
const shieldedInner = new Set<Future<unknown>>();

/**
 * Protects an awaitable from cancellation (asyncio.shield): cancelling the task that awaits the
 * shield throws `CancelledError` there at once, while the inner work keeps running. Pass a task
 * (or a function, which is run as a new task), or a promise, which is adopted with `ensureFuture`:
 * a promise started in the current task belongs to it, and its own aiots awaits are cancelled with it.
 * @example
 * ```ts
 * import { run, shield, createTask, sleep } from "aiots";
 * await run(async () => {
 *   const save = createTask(async () => { await sleep(0.1); return "saved"; });
 *   try { await shield(save); } catch { console.log(await save); } // "saved" even if cancelled
 * });
 * ```
 */
export function shield<T>(awaitable: Awaitable<T> | (() => PromiseLike<T>)): Future<T> {
  const inner: Future<T> =
    typeof awaitable === "function" && !isFuture(awaitable) ? new Task(awaitable) : ensureFuture(awaitable as Awaitable<T>);
  if (inner.done()) return inner;
  const outer = new Future<T>({ loop: inner.getLoop() });
  registerWaitsOn(outer, [inner]);
  shieldedInner.add(inner);
  const onInnerDone = (): void => {
    shieldedInner.delete(inner);
    if (outer.cancelled()) {
      if (!inner.cancelled()) inner.exception(); // mark retrieved: nobody is left to see it
      return;
    }
    if (inner.cancelled()) outer.cancel();
    else {
      const error = inner.exception();
      if (error !== null) outer.setException(error);
      else outer.setResult(inner.result());
    }
  };
  inner[kObserve](onInnerDone);
  return outer;
}
