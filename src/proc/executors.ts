/**
 * Executors: run blocking or CPU-bound work off the loop (`loop.runInExecutor`, `toThread`,
 * `ThreadPoolExecutor`), on Node's `worker_threads`.
 *
 * How it works: the pool keeps up to `maxWorkers` worker threads and a FIFO queue of jobs. A job is
 * a self-contained function (sent by its source, checked for outer variables in
 * `proc/internal/job-source.ts`) or a module job (a module URL and an export, imported by the worker).
 * Arguments and results are structured-cloned (transfer lists are supported). A job waits in the
 * queue until a worker is idle; a new worker is started only when none is idle and the pool is
 * below `maxWorkers`. Each job is an aiots `Future`: cancelling it before it started removes it from
 * the queue; cancelling it while it runs lets it finish in the background (its result is dropped)
 * for at most `cancelGracePeriod` seconds, after which its worker is terminated and the pool starts
 * another in its place (at once with `terminateOnCancel`). Idle workers are unref'd so they never
 * keep a process alive; `shutdown()` ends them all, terminating the ones still busy after its
 * `timeout`. Buffers in arguments and results arrive as Buffers (structured clone alone makes them
 * plain Uint8Arrays), and a worker flushes what it printed before it answers, so a job's output
 * comes before the caller sees its result.
 * @module
 */
import { availableParallelism } from "node:os";
import { Worker, type Transferable } from "node:worker_threads";
import {
  type AbstractEventLoop,
  type Executor,
  getRunningLoop,
  isFuture,
  type Future,
  inspectSymbol,
  type Job,
  type JobOptions,
} from "../core/index.ts";
import { WORKER_SOURCE, findBuffers, reviveBuffers, type JobMessage, type ResultMessage } from "./internal/executor-worker.ts";
import { functionJobSource } from "./internal/job-source.ts";


/** An executor `loop.runInExecutor` can use: `submit` returns a future or promise of the result. */
export interface SubmittingExecutor extends Executor {
  submit(job: Job<never[], unknown>, ...args: unknown[]): PromiseLike<unknown>;
}

export interface ThreadPoolExecutorOptions {
  /** Most worker threads at once (default: `os.availableParallelism()`). */
  maxWorkers?: number;
  /** Worker thread name prefix, shown in debuggers and reprs (default `"ThreadPoolExecutor"`). */
  threadNamePrefix?: string;
  /** Default for jobs that do not say: terminate a running job's worker when the job is cancelled. */
  terminateOnCancel?: boolean;
  /**
   * Default for jobs that do not say: seconds a cancelled running job may go on before its worker is
   * terminated and replaced (default 2; `null`: let it run to its end).
   */
  cancelGracePeriod?: number | null;
}

/** Seconds a cancelled running job may go on before its worker is terminated (see `cancelGracePeriod`). */
export const DEFAULT_CANCEL_GRACE_PERIOD = 2;

function checkSeconds(what: string, value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw new TypeError(`${what} must be a number of seconds >= 0 or null, got ${String(value)}`);
  return value;
}

const QUEUED = 0;
const RUNNING = 1;
const FINISHED = 2;

interface WorkItem {
  readonly id: number;
  // Sent as is, except that `source` goes only to workers that have not compiled it yet.
  readonly message: JobMessage;
  readonly transfer: readonly Transferable[];
  readonly future: Future<unknown>;
  readonly terminateOnCancel: boolean;
  readonly cancelGracePeriod: number | null;
  // Armed when the job was cancelled while running: terminates its worker once the grace period is over.
  graceTimer: NodeJS.Timeout | null;
  state: typeof QUEUED | typeof RUNNING | typeof FINISHED;
  slot: WorkerSlot | null;
}

interface WorkerSlot {
  readonly worker: Worker;
  // Keys of the function sources this worker has compiled (see JobMessage.key).
  readonly known: Set<number>;
  // The job this worker runs now; null while idle.
  item: WorkItem | null;
  exited: boolean;
  // The uncaught error that is ending this worker. Its job is settled at "exit", not at "error":
  // the job's result may already be on its way (the two events come on different ports), and
  // Node delivers every message the worker posted before it emits "exit".
  failure: { error: unknown } | null;
}

let poolCounter = 0;
let jobCounter = 0;
// Function source -> a small key, so a worker receives each source once.
const sourceKeys = new Map<string, number>();

function functionMessage(id: number, source: string, args: unknown[], transferResult: boolean): JobMessage {
  let key = sourceKeys.get(source);
  if (key === undefined) {
    key = sourceKeys.size;
    sourceKeys.set(source, key);
  }
  const message: JobMessage = transferResult ? { id, key, source, args, transferResult } : { id, key, source, args };
  const buffers = findBuffers(args);
  if (buffers.length > 0) message.buffers = buffers;
  return message;
}

/**
 * A pool of worker threads that runs jobs (concurrent.futures.ThreadPoolExecutor).
 *
 * JavaScript threads share no objects, so a job is a self-contained function (it may use only its
 * arguments and globals; `process.getBuiltinModule("node:crypto")` loads a built-in) or a module
 * job `{ module, export }`. Arguments and results are structured-cloned.
 * @example
 * ```ts
 * import { run, getRunningLoop, ThreadPoolExecutor } from "aiots";
 * await run(async () => {
 *   const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 *   console.log(await getRunningLoop().runInExecutor(pool, (a: number, b: number) => a * b, 6, 7)); // 42
 *   await pool.shutdown();
 * });
 * ```
 */
export class ThreadPoolExecutor implements SubmittingExecutor, AsyncDisposable {
  readonly maxWorkers: number;
  readonly #prefix: string;
  readonly #terminateOnCancel: boolean;
  readonly #cancelGracePeriod: number | null;
  // Jobs waiting for a worker, FIFO; #queue[#head..] are live (cancelled ones are skipped when reached).
  #queue: WorkItem[] = [];
  #head = 0;
  // Every worker not yet exited; #idle ⊆ #workers, and an idle worker has item === null.
  readonly #workers = new Set<WorkerSlot>();
  #idle: WorkerSlot[] = [];
  #shutdown = false;
  // Resolved once shut down and every worker has exited.
  #allExited: Promise<void> | null = null;
  #resolveAllExited: (() => void) | null = null;

  constructor(options: ThreadPoolExecutorOptions = {}) {
    const maxWorkers = options.maxWorkers ?? Math.max(1, availableParallelism());
    if (!Number.isInteger(maxWorkers) || maxWorkers < 1) {
      throw new RangeError(`ThreadPoolExecutor maxWorkers must be an integer >= 1, got ${String(maxWorkers)}`);
    }
    this.maxWorkers = maxWorkers;
    this.#prefix = options.threadNamePrefix ?? `ThreadPoolExecutor-${poolCounter++}`;
    this.#terminateOnCancel = options.terminateOnCancel ?? false;
    this.#cancelGracePeriod = options.cancelGracePeriod === undefined ? DEFAULT_CANCEL_GRACE_PERIOD : checkSeconds("ThreadPoolExecutor cancelGracePeriod", options.cancelGracePeriod);
  }

  /** Worker threads alive now (running or idle). */
  get workerCount(): number {
    return this.#workers.size;
  }

  /** True once `shutdown()` was called: no more jobs are taken. */
  get isShutdown(): boolean {
    return this.#shutdown;
  }

  /** Jobs waiting for a worker. */
  get queuedCount(): number {
    let count = 0;
    for (let i = this.#head; i < this.#queue.length; i++) if (this.#queue[i]!.state === QUEUED) count++;
    return count;
  }

  /**
   * Schedules `job(...args)` on a worker; returns an aiots `Future` of its result, bound to the
   * running loop. Cancelling the future before the job starts means it never runs; cancelling it
   * while it runs drops the result (the job finishes in the background), and terminates the worker
   * if the job is still running after `cancelGracePeriod` seconds (at once with `terminateOnCancel`);
   * the pool starts a new worker in its place.
   * @throws {TypeError} for a job that is not a self-contained function or a module job.
   * @throws {Error} after `shutdown()`.
   */
  submit<A extends unknown[], R>(job: Job<A, R>, ...args: A): Future<Awaited<R>>;
  submit(job: Job<never[], unknown>, ...args: unknown[]): Future<unknown> {
    return this.submitOn(getRunningLoop(), job, args, "submit()");
  }

  /** `submit` for a given loop (what `loop.runInExecutor` calls). */
  submitOn(loop: AbstractEventLoop, job: Job<never[], unknown>, args: unknown[], what = "runInExecutor()"): Future<unknown> {
    if (this.#shutdown) throw new Error(`${what}: cannot schedule new jobs after the executor was shut down`);
    const item = this.#makeItem(loop, job, args, what);
    item.future.addDoneCallback((future) => {
      if (future.cancelled()) this.#cancelled(item);
    });
    this.#queue.push(item);
    this.#dispatch();
    return item.future;
  }

  /**
   * Stops taking jobs. Queued jobs still run unless `cancelFutures`; with `wait` (the default) the
   * returned promise resolves once every job has finished and every worker has exited. With
   * `timeout` (seconds), the workers still busy then are terminated, their jobs fail with an error
   * saying so, and the queued jobs are cancelled: the promise resolves after about `timeout` seconds
   * at most, whatever the jobs do.
   * @throws {TypeError} for a `timeout` that is not a number of seconds >= 0.
   */
  shutdown(wait = true, options: { cancelFutures?: boolean; timeout?: number | null } = {}): Promise<void> {
    const timeout = options.timeout === undefined ? null : checkSeconds("shutdown() timeout", options.timeout);
    this.#shutdown = true;
    if (options.cancelFutures === true) {
      for (let i = this.#head; i < this.#queue.length; i++) {
        const item = this.#queue[i]!;
        if (item.state === QUEUED && !item.future.getLoop().isClosed()) item.future.cancel();
        item.state = FINISHED;
      }
    }
    this.#allExited ??= new Promise<void>((resolve) => {
      this.#resolveAllExited = resolve;
    });
    this.#dispatch();
    if (timeout !== null && this.#resolveAllExited !== null) {
      const timer = setTimeout(() => this.#terminateAll(timeout), timeout * 1000);
      void this.#allExited.then(() => clearTimeout(timer));
    }
    return wait ? this.#allExited : Promise.resolve();
  }

  // shutdown()'s timeout is over: cancel what is queued, terminate every busy worker.
  #terminateAll(timeout: number): void {
    for (let i = this.#head; i < this.#queue.length; i++) {
      const item = this.#queue[i]!;
      if (item.state === QUEUED && !item.future.getLoop().isClosed()) item.future.cancel();
      item.state = FINISHED;
    }
    for (const slot of [...this.#workers]) {
      const item = slot.item;
      slot.item = null;
      if (item !== null) this.#settle(item, false, new Error(`the executor was shut down with a timeout of ${timeout}s while this job still ran: its worker thread was terminated`));
      this.#forget(slot);
      void slot.worker.terminate();
    }
    this.#checkAllExited();
  }

  /** `await using pool = new ThreadPoolExecutor()`: shuts down and waits, as Python's `with` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown(true);
  }

  toString(): string {
    const state = this.#shutdown ? "shutdown" : "running";
    const busy = this.#workers.size - this.#idle.length;
    return `<ThreadPoolExecutor ${this.#prefix} ${state} workers=${this.#workers.size}/${this.maxWorkers} busy=${busy} queued=${this.queuedCount}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #makeItem(loop: AbstractEventLoop, job: Job<never[], unknown>, args: unknown[], what: string): WorkItem {
    const id = jobCounter++;
    let options: JobOptions;
    let message: JobMessage;
    if (typeof job === "function") {
      options = {};
      message = functionMessage(id, functionJobSource(what, job), args, false);
    } else if (job !== null && typeof job === "object" && "fn" in job && typeof job.fn === "function") {
      options = job;
      message = functionMessage(id, functionJobSource(what, job.fn), args, job.transferResult === true);
    } else if (job !== null && typeof job === "object" && "module" in job) {
      options = job;
      message = { id, module: moduleSpecifier(job.module), export: exportName(job.export), args, transferResult: job.transferResult === true };
      const buffers = findBuffers(args);
      if (buffers.length > 0) message.buffers = buffers;
    } else {
      throw new TypeError(
        `${what} takes a self-contained function, { fn, transfer?, ... } or a module job { module: new URL("./work.ts", import.meta.url), export: "name" }, got ${describe(job)}`,
      );
    }
    const transfer = options.transfer ?? [];
    if (!Array.isArray(transfer)) throw new TypeError("job option transfer must be an array of ArrayBuffers or MessagePorts");
    return {
      id,
      message,
      transfer,
      future: loop.createFuture<unknown>(),
      terminateOnCancel: options.terminateOnCancel ?? this.#terminateOnCancel,
      cancelGracePeriod: options.cancelGracePeriod === undefined ? this.#cancelGracePeriod : checkSeconds("job option cancelGracePeriod", options.cancelGracePeriod),
      graceTimer: null,
      state: QUEUED,
      slot: null,
    };
  }

  // Starts queued jobs on idle workers (starting workers as allowed); ends idle workers after shutdown.
  #dispatch(): void {
    for (;;) {
      const item = this.#nextQueued();
      if (item === undefined) break;
      let slot = this.#idle.pop();
      if (slot === undefined) {
        if (this.#workers.size >= this.maxWorkers) break;
        slot = this.#startWorker();
      }
      this.#head++;
      this.#run(slot, item);
    }
    this.#compactQueue();
    if (this.#shutdown && this.#nextQueued() === undefined) {
      for (const slot of this.#idle) void slot.worker.terminate();
      this.#idle = [];
      this.#checkAllExited();
    }
  }

  #nextQueued(): WorkItem | undefined {
    while (this.#head < this.#queue.length) {
      const item = this.#queue[this.#head]!;
      if (item.state === QUEUED) return item;
      this.#head++;
    }
    return undefined;
  }

  #compactQueue(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #startWorker(): WorkerSlot {
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: `${this.#prefix}_${this.#workers.size}` });
    const slot: WorkerSlot = { worker, known: new Set(), item: null, exited: false, failure: null };
    this.#workers.add(slot);
    worker.on("message", (reply: ResultMessage) => this.#finished(slot, reply));
    worker.on("error", (error) => this.#workerFailed(slot, error));
    worker.on("exit", (code) => this.#workerExited(slot, code));
    return slot;
  }

  #run(slot: WorkerSlot, item: WorkItem): void {
    item.state = RUNNING;
    item.slot = slot;
    slot.item = item;
    slot.worker.ref();
    try {
      const message = item.message;
      const key = message.key;
      if (key === undefined || !slot.known.has(key)) {
        slot.worker.postMessage(message, item.transfer);
        if (key !== undefined) slot.known.add(key);
      } else {
        const { source: _, ...lean } = message;
        slot.worker.postMessage(lean, item.transfer);
      }
    } catch (error) {
      // Arguments that cannot be cloned: the worker never saw the job and is idle again.
      slot.item = null;
      this.#makeIdle(slot);
      const text = error instanceof Error ? error.message : String(error);
      this.#settle(item, false, new TypeError(`the job's arguments cannot be sent to a worker thread: ${text}`));
    }
  }

  #finished(slot: WorkerSlot, reply: ResultMessage): void {
    const item = slot.item;
    if (item === null || item.id !== reply.id) return;
    slot.item = null;
    let error = reply.error;
    if (!reply.ok && error instanceof Error && reply.errorName !== undefined && error.name !== reply.errorName) {
      error.name = reply.errorName;
    }
    if (error === undefined && !reply.ok) error = new Error("the job failed in its worker thread");
    this.#settle(item, reply.ok, reply.ok ? reviveBuffers(reply.value, reply.buffers) : error);
    this.#makeIdle(slot);
    this.#dispatch();
  }

  #makeIdle(slot: WorkerSlot): void {
    if (slot.exited || slot.failure !== null) return;
    slot.worker.unref();
    this.#idle.push(slot);
  }

  #settle(item: WorkItem, ok: boolean, value: unknown): void {
    item.state = FINISHED;
    item.slot = null;
    if (item.graceTimer !== null) clearTimeout(item.graceTimer);
    item.graceTimer = null;
    const future = item.future;
    // A cancelled job's result is dropped; a closed loop can no longer run done callbacks.
    if (future.done() || future.getLoop().isClosed()) return;
    if (ok) future.setResult(value);
    else future.setException(value);
  }

  #cancelled(item: WorkItem): void {
    if (item.state === QUEUED) {
      item.state = FINISHED;
      return;
    }
    if (item.state !== RUNNING || item.slot === null) return;
    const grace = item.terminateOnCancel ? 0 : item.cancelGracePeriod;
    if (grace === 0) this.#terminateCancelled(item);
    else if (grace !== null) item.graceTimer = setTimeout(() => this.#terminateCancelled(item), grace * 1000);
  }

  // A cancelled job still runs: end its worker; the pool starts another for the jobs waiting.
  #terminateCancelled(item: WorkItem): void {
    item.graceTimer = null;
    const slot = item.slot;
    if (item.state !== RUNNING || slot === null || slot.item !== item) return;
    item.state = FINISHED;
    item.slot = null;
    slot.item = null;
    this.#forget(slot);
    void slot.worker.terminate();
    this.#dispatch();
  }

  #workerFailed(slot: WorkerSlot, error: unknown): void {
    slot.failure ??= { error };
    // A dying worker takes no new job.
    const index = this.#idle.indexOf(slot);
    if (index >= 0) this.#idle.splice(index, 1);
  }

  #workerExited(slot: WorkerSlot, code: number): void {
    const item = slot.item;
    slot.item = null;
    if (item !== null) {
      const error = slot.failure?.error ?? new Error(`the worker thread running the job exited with code ${code}`);
      this.#settle(item, false, error);
    }
    this.#forget(slot);
    this.#dispatch();
  }

  #forget(slot: WorkerSlot): void {
    slot.exited = true;
    this.#workers.delete(slot);
    const index = this.#idle.indexOf(slot);
    if (index >= 0) this.#idle.splice(index, 1);
    this.#checkAllExited();
  }

  #checkAllExited(): void {
    if (this.#shutdown && this.#workers.size === 0 && this.#nextQueued() === undefined) {
      this.#resolveAllExited?.();
      this.#resolveAllExited = null;
    }
  }
}

function moduleSpecifier(module: unknown): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== "string" || module === "") {
    throw new TypeError(`a module job's module must be a URL or a string, e.g. new URL("./work.ts", import.meta.url), got ${describe(module)}`);
  }
  if (module.startsWith("./") || module.startsWith("../")) {
    throw new TypeError(`a module job cannot resolve the relative path "${module}" from a worker thread: pass new URL("${module}", import.meta.url)`);
  }
  if (module.startsWith("/")) return new URL(`file://${module}`).href;
  return module;
}

function exportName(name: unknown): string {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`a module job needs the name of an exported function, e.g. { module, export: "hash" }, got ${describe(name)}`);
  }
  return name;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}

// The default pools runInExecutor created, per loop: after loop.shutdownDefaultExecutor() shut one
// down, the loop takes no more default-executor jobs (asyncio's "Executor shutdown has been called").
const createdDefaults = new WeakMap<AbstractEventLoop, ThreadPoolExecutor>();

/**
 * The body of `loop.runInExecutor`: submits on `executor`, or on the loop's default pool (created
 * on first use).
 * @throws {Error} once the loop's default pool was shut down and `executor` is `null`.
 */
export function runInExecutor(
  loop: AbstractEventLoop,
  executor: Executor | null,
  job: Job<never[], unknown>,
  args: unknown[],
  what = "runInExecutor()",
): Future<unknown> {
  let target = executor ?? loop.getDefaultExecutor();
  if (target === null) {
    if (createdDefaults.get(loop)?.isShutdown === true) {
      throw new Error(`${what}: the loop's default executor was shut down (loop.shutdownDefaultExecutor()); pass an executor explicitly`);
    }
    const pool = new ThreadPoolExecutor({ threadNamePrefix: "asyncio" });
    createdDefaults.set(loop, pool);
    loop.setDefaultExecutor(pool);
    target = pool;
  }
  if (target instanceof ThreadPoolExecutor) return target.submitOn(loop, job, args, what);
  const submit = (target as Partial<SubmittingExecutor>).submit;
  if (typeof submit !== "function") {
    throw new TypeError("runInExecutor() needs an executor with submit(job, ...args), such as a ThreadPoolExecutor, or null for the default one");
  }
  const result = submit.call(target, job, ...args);
  if (isFuture(result)) return result;
  const future = loop.createFuture<unknown>();
  Promise.resolve(result).then(
    (value) => {
      if (!future.done() && !loop.isClosed()) future.setResult(value);
    },
    (error: unknown) => {
      if (!future.done() && !loop.isClosed()) future.setException(error);
    },
  );
  return future;
}

/**
 * Runs `job(...args)` in a worker thread of the running loop's default executor and resolves to
 * its result (asyncio.to_thread). `job` is a self-contained function, `{ fn, ...options }` or a
 * module job. Cancelling the awaiting task cancels the job: a job not yet started never runs; a
 * running one finishes in the background unless `terminateOnCancel` is set.
 * @throws {TypeError} if the function refers to variables outside itself (the message names them
 *   and the two fixes), or if the arguments or result cannot be structured-cloned.
 * @example
 * ```ts
 * import { run, toThread } from "aiots";
 * await run(async () => {
 *   console.log(await toThread((s: string) => s.toUpperCase(), "abc")); // "ABC"
 *   const hash = await toThread({ module: new URL("./work.ts", import.meta.url), export: "hash" }, Buffer.from("data"));
 * });
 * ```
 */
export function toThread<A extends unknown[], R>(job: Job<A, R>, ...args: A): Future<Awaited<R>> {
  const loop = getRunningLoop();
  return runInExecutor(loop, null, job, args, "toThread()") as Future<Awaited<R>>;
}
