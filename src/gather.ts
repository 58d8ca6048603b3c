/**
 * `gather` and `shield`: futures that combine or protect other awaitables.
 * @module
 */
import { CancelledError } from "./exceptions.ts";
import { getRunningLoop, type AbstractEventLoop } from "./events.ts";
import { Future, isFuture, isThenable, kCancelledError, kObserve } from "./futures.ts";
import { Task, ensureFuture } from "./tasks.ts";

/** Something `gather`, `wait` and friends accept: an aiots future or task, or any promise. */
export type Awaitable<T> = Future<T> | PromiseLike<T>;

type Results<A extends readonly unknown[]> = { -readonly [K in keyof A]: Awaited<A[K]> };
type Outcomes<A extends readonly unknown[]> = { -readonly [K in keyof A]: Awaited<A[K]> | Error };

export interface GatherOptions {
  /** Return errors (and `CancelledError`s) in the results instead of failing on the first one. */
  returnExceptions?: boolean;
}

/** The future `gather` returns; cancelling it cancels every child. */
class GatheringFuture<T> extends Future<T> {
  readonly #children: readonly Future<unknown>[];
  cancelRequested = false;

  constructor(children: readonly Future<unknown>[], loop: AbstractEventLoop) {
    super({ loop });
    this.#children = children;
  }

  override cancel(msg?: string): boolean {
    if (this.done()) return false;
    let cancelledAny = false;
    for (const child of this.#children) if (child.cancel(msg)) cancelledAny = true;
    if (cancelledAny) this.cancelRequested = true;
    return cancelledAny;
  }
}

function outcomeOf(child: Future<unknown>): unknown {
  if (child.cancelled()) return child[kCancelledError]();
  const error = child.exception();
  return error !== null ? error : child.result();
}

/**
 * A child for a promise: a plain future that settles with it. Lighter than the task `ensureFuture`
 * makes, and cancelling it is immediate (a foreign promise cannot be interrupted anyway; its own
 * aiots awaits belong to the task that started it and are cancelled with that task).
 */
function adoptPromise(promise: PromiseLike<unknown>, loop: AbstractEventLoop): Future<unknown> {
  const future = new Future<unknown>({ loop });
  promise.then(
    (value) => {
      if (!future.done()) future.setResult(value);
    },
    (error: unknown) => {
      if (future.done()) return;
      if (error instanceof CancelledError) future.cancel(error.message);
      else future.setException(error === undefined ? new Error("promise rejected with undefined") : error);
    },
  );
  return future;
}

function childFor(aw: Awaitable<unknown>, loop: AbstractEventLoop): Future<unknown> {
  if (isFuture(aw)) {
    if (aw.getLoop() !== loop) throw new Error(`gather(): ${String(aw)} belongs to a different loop than the other awaitables`);
    return aw;
  }
  if (isThenable(aw)) return adoptPromise(aw, loop);
  return ensureFuture(aw, loop); // throws the explanatory TypeError
}

/** @internal gather on a given loop (used by the runner, whose loop is not running yet). */
export function gatherOn(loop: AbstractEventLoop, awaitables: readonly Awaitable<unknown>[], returnExceptions: boolean): Future<unknown[]> {
  const children: Future<unknown>[] = new Array<Future<unknown>>(awaitables.length);
  // The same awaitable passed twice is one child, as in asyncio.
  const byInput = new Map<unknown, Future<unknown>>();
  for (let i = 0; i < awaitables.length; i++) {
    const aw = awaitables[i]!;
    let child = byInput.get(aw);
    if (child === undefined) {
      child = childFor(aw, loop);
      byInput.set(aw, child);
    }
    children[i] = child;
  }
  const distinct = byInput.size;
  const outer = new GatheringFuture<unknown[]>(children, loop);
  if (children.length === 0) {
    outer.setResult([]);
    return outer;
  }
  let finished = 0;
  const onChildDone = (child: Future<unknown>): void => {
    finished += 1;
    if (outer.done()) {
      if (!child.cancelled()) child.exception(); // mark it retrieved: gather saw it
      return;
    }
    if (!returnExceptions) {
      if (child.cancelled()) {
        outer.setException(child[kCancelledError]());
        return;
      }
      const error = child.exception();
      if (error !== null) {
        outer.setException(error);
        return;
      }
    }
    if (finished === distinct) {
      if (outer.cancelRequested) {
        // Cancelled from outside while children finished: report cancellation, as asyncio does.
        const cancelled = children.find((c) => c.cancelled());
        outer.setException(cancelled !== undefined ? cancelled[kCancelledError]() : new CancelledError());
      } else {
        outer.setResult(children.map(outcomeOf));
      }
    }
  };
  for (const child of byInput.values()) child[kObserve](onChildDone);
  return outer;
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
 * returned future cancels every child. Promises are wrapped in tasks (`ensureFuture`); a promise
 * started inside the current task stays tied to that task (its awaits are cancelled with it).
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
export function gather<A extends readonly unknown[]>(...awaitables: A): Future<Results<A>>;
export function gather<A extends readonly unknown[]>(awaitables: A, options: GatherOptions & { returnExceptions: true }): Future<Outcomes<A>>;
export function gather<A extends readonly unknown[]>(awaitables: A, options?: GatherOptions): Future<Results<A>>;
export function gather(...args: unknown[]): Future<unknown[]> {
  const [awaitables, returnExceptions] = splitGatherArgs(args);
  const loop = awaitables.find(isFuture)?.getLoop() ?? getRunningLoop();
  return gatherOn(loop, awaitables, returnExceptions);
}

// Shielded work must not be collected while only the shield refers to it.
const shieldedInner = new Set<Future<unknown>>();

/**
 * Protects an awaitable from cancellation (asyncio.shield): cancelling the task that awaits the
 * shield throws `CancelledError` there, while the inner work keeps running. Pass a task (or a
 * function, which is run as a new task): a promise started in the current task belongs to it, and
 * its own awaits are cancelled with it.
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
