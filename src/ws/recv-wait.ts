/**
 * `RecvWait`: what a `recv()` (or a `for await` step) that found no message waits on.
 *
 * Why not an aiots Future: the wait is completed by the message itself (`settle(message)`), so
 * the waiting task resumes with its message one microtask after it arrived, with no async frame in
 * between and without the thenable protocol that awaiting a Future goes through; a `for await`
 * step gets its `{ value, done }` result built here, which spares the iterator an async frame of
 * its own. It is a native promise registered with the awaiting task (`suspendOn`), as the
 * StreamReader's reads and `sleep()` are, so cancelling the task (or a `timeout()` around the
 * recv) rejects it at once with `CancelledError`. A cancelled wait is done, and a done wait is
 * never given a message: the connection keeps the message queued for the next recv().
 * @module
 */
import { CancelledError, inspectSymbol, makeInternalError, type AwaitingTask, type Cancellable } from "../core/index.ts";

function noop(): void {}

/** One pending receive: resolves with the message (or, for an iterator step, its IteratorResult). */
export class RecvWait<M> implements Cancellable {
  readonly promise: Promise<M | IteratorResult<M>>;
  /** True for a `for await` step: settles with `{ value, done: false }`, ends with `{ done: true }`. */
  readonly iterating: boolean;
  readonly #task: AwaitingTask | undefined;
  readonly #resolve: (value: M | IteratorResult<M>) => void;
  readonly #reject: (reason: unknown) => void;
  #done = false;

  constructor(task: AwaitingTask | undefined, iterating: boolean) {
    const { promise, resolve, reject } = Promise.withResolvers<M | IteratorResult<M>>();
    this.promise = promise;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#task = task;
    this.iterating = iterating;
  }

  done(): boolean {
    return this.#done;
  }

  /** Hands `message` to the waiting receiver. */
  settle(message: M): void {
    if (this.#done) return;
    this.#done = true;
    this.#task?.resumeFrom(this);
    this.#resolve(this.iterating ? { value: message, done: false } : message);
  }

  /** Ends an iterator step (`{ done: true }`): the connection closed normally. */
  finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#task?.resumeFrom(this);
    this.#resolve({ value: undefined, done: true });
  }

  fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#task?.resumeFrom(this);
    this.#reject(error);
  }

  cancel(msg?: string): boolean {
    if (this.#done) return false;
    // a wait cancelled before its recv() was awaited must not crash the process
    this.promise.catch(noop);
    this.fail(makeInternalError(() => new CancelledError(msg)));
    return true;
  }

  toString(): string {
    return `<WebSocket ${this.iterating ? "iteration" : "recv"} ${this.#done ? "done" : "pending"}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}
