/**
 * `EventLoop`: the asyncio event loop on Node's own libuv loop.
 *
 * How it runs: callbacks wait in a FIFO ready queue; timers in a heap (`core/internal/timer-heap.ts`)
 * backed by one Node timer armed for the earliest deadline. One "iteration" (a drain) moves due
 * timers to the ready queue and runs the callbacks that were ready when it began, as asyncio's
 * `_run_once` does. Tasks resume in microtasks between drains, and the next drain is chained as a
 * microtask too, so a task switch costs no trip through libuv. To keep I/O flowing, after
 * `IO_BUDGET` callbacks without a macrotask turn the next drain goes through `setImmediate`: sockets
 * and timers are polled at least every `IO_BUDGET` callbacks, however busy the loop is.
 * @module
 */
import { AsyncResource } from "node:async_hooks";
import { performance } from "node:perf_hooks";
import { inspect } from "node:util";
import {
  AbstractEventLoop,
  Handle,
  TimerHandle,
  type ExceptionContext,
  type ExceptionHandler,
  type Executor,
  type TaskFactory,
  type TaskOptions,
  Future,
  isFuture,
  getRunningLoopOrNull,
  setCaptureStacks,
  setWatchUndeliveredCancels,
  setInLoopCallback,
  enterDrain,
  leaveDrain,
  setRunningLoop,
  inspectSymbol,
  kScheduleRunnable,
  type Runnable,
  taskActivity,
  ReadyQueue,
  TimerHeap,
  loopClosing,
  loopDebugEnabled,
  checkCallback,
  checkDelay,
  checkWhen,
  ensureFuture,
  reportAbandonedTasks,
  Task,
  type BaseProtocol,
  type DatagramProtocol,
  type Protocol,
  type StreamProtocol,
  type Server,
  type DatagramTransport,
  type ReadTransport,
  type Transport,
  type WriteTransport,
  type SubprocessProtocol,
  type AcceptedSocketOptions,
  type AddrInfo,
  type ConnectionOptions,
  type DatagramEndpointOptions,
  type Job,
  type ServerCreateOptions,
  type SslOption,
  type SubprocessOptions,
  type UnixServerCreateOptions,
} from "../core/index.ts";
import { SlowCallbackMonitor } from "./slow-callbacks.ts";
import {
  runInExecutor,
  addSignalHandler,
  removeAllSignalHandlers,
  removeSignalHandler,
  closeSubprocessTransports,
  subprocessExec,
  subprocessShell,
  type ChildProcessTransport,
} from "../proc/index.ts";
import type { Socket as NetSocket } from "node:net";
import type { FileHandle } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import * as network from "../net/index.ts";
import { createDatagramEndpoint, connectReadPipe, connectWritePipe } from "../net/index.ts";

/** Callbacks run before the loop lets libuv poll for I/O again (see the module note). */
export const IO_BUDGET = 512;

// Keeps Node's process alive while the loop runs, as a running asyncio loop keeps Python busy.
const KEEP_ALIVE_MS = 2 ** 30;

function noop(): void {}

const resolvedPromise = Promise.resolve();

/** A scheduled wake-up of the loop (see `EventLoop.scheduleWakeup`). */
export interface Wakeup {
  cancel(): void;
}

function envDebug(): boolean {
  const value = process.env["AIOTS_DEBUG"];
  return value !== undefined && value !== "" && value !== "0";
}

/**
 * The event loop. Create one with `newEventLoop()` (or let `run()` do it).
 * @example
 * ```ts
 * import { newEventLoop } from "aiots";
 * const loop = newEventLoop();
 * loop.callLater(0.05, () => loop.stop());
 * await loop.runForever();
 * loop.close();
 * ```
 */
export class EventLoop extends AbstractEventLoop {
  slowCallbackDuration = 0.1;
  #ready = new ReadyQueue();
  #timers = new TimerHeap<TimerHandle>();
  // The wake-up armed for the earliest timer, and its deadline.
  #wakeup: Wakeup | null = null;
  #wakeupWhen = Infinity;
  #drainScheduled = false;
  // Callbacks run since libuv last polled; see IO_BUDGET.
  #budgetUsed = 0;
  // Callbacks of the current iteration not run yet (an iteration may span several drains).
  #iterationLeft = 0;
  // Whether the running drain was called from a microtask (see #drainSoon), and whether the tick
  // that ends a wait for a task blocked on a foreign promise is armed (see #waitForQuiet).
  #drainInMicrotask = false;
  #quietTickArmed = false;
  // The async context runForever() was called in (see #onQuiet).
  #loopContext: AsyncResource | null = null;
  #running = false;
  #stopping = false;
  #closed = false;
  #onStopped: (() => void) | null = null;
  #keepAlive: NodeJS.Timeout | null = null;
  #debug = envDebug();
  #slowMonitor: SlowCallbackMonitor | null = null;
  #exceptionHandler: ExceptionHandler | null = null;
  #taskFactory: TaskFactory | null = null;
  #defaultExecutor: Executor | null = null;
  readonly #plainTaskOptions = { loop: this };

  constructor() {
    super();
    if (this.#debug) loopDebugEnabled(this);
  }

  time(): number {
    return performance.now() / 1000;
  }

  callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle {
    this.#checkClosed();
    checkCallback("callSoon()", callback);
    const handle = new Handle(callback, args, this);
    this.#push(handle);
    return handle;
  }

  /** The same as `callSoon`: JavaScript threads share no objects, so any caller is the loop's. */
  callSoonThreadsafe<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle {
    return this.callSoon(callback, ...args);
  }

  callLater<A extends unknown[]>(delay: number, callback: (...args: A) => unknown, ...args: A): TimerHandle {
    checkDelay("callLater()", delay);
    return this.callAt(this.time() + delay, callback, ...args);
  }

  callAt<A extends unknown[]>(when: number, callback: (...args: A) => unknown, ...args: A): TimerHandle {
    this.#checkClosed();
    checkWhen("callAt()", when);
    checkCallback("callAt()", callback);
    const handle = new TimerHandle(when, callback, args, this);
    this.#timers.push(handle);
    if (this.#running && when < this.#wakeupWhen) this.#armWakeup();
    return handle;
  }

  timerHandleCancelled(_handle: TimerHandle): void {
    this.#timers.noteCancelled();
  }

  [kScheduleRunnable](runnable: Runnable): void {
    this.#push(runnable);
  }

  createFuture<T = unknown>(): Future<T> {
    return new Future<T>({ loop: this });
  }

  createTask<T>(fn: () => PromiseLike<T> | T, options: TaskOptions = {}): Task<T> {
    this.#checkClosed();
    if (this.#taskFactory !== null) return this.#taskFactory(this, fn, options);
    if (options.name === undefined && options.eagerStart !== true) return new Task(fn, this.#plainTaskOptions);
    return new Task(fn, { name: options.name, eagerStart: options.eagerStart === true, loop: this });
  }

  setTaskFactory(factory: TaskFactory | null): void {
    if (factory !== null && typeof factory !== "function") throw new TypeError("setTaskFactory() takes a function(loop, fn, options) or null");
    this.#taskFactory = factory;
  }

  getTaskFactory(): TaskFactory | null {
    return this.#taskFactory;
  }

  /**
   * Runs the loop until `future` is done and returns its result (throws its error). A function is
   * run as a task first; a promise is wrapped in one.
   */
  async runUntilComplete<T>(future: Future<T> | PromiseLike<T> | (() => PromiseLike<T> | T)): Promise<T> {
    this.#checkClosed();
    this.#checkNotRunning();
    const fut: Future<T> = typeof future === "function" ? this.createTask(future) : ensureFuture(future, this);
    if (isFuture(future) && future.getLoop() !== this) throw new Error("runUntilComplete(): the future belongs to another loop");
    const stopWhenDone = (): void => this.stop();
    fut.addDoneCallback(stopWhenDone);
    try {
      await this.runForever();
    } finally {
      fut.removeDoneCallback(stopWhenDone);
    }
    if (!fut.done()) throw new Error("Event loop stopped before Future completed.");
    return fut.result();
  }

  /** Runs the loop until `stop()` is called. Resolves when it has stopped. */
  runForever(): Promise<void> {
    this.#checkClosed();
    this.#checkNotRunning();
    this.#running = true;
    setRunningLoop(this);
    setCaptureStacks(this.#debug);
    this.#keepAlive = setInterval(noop, KEEP_ALIVE_MS);
    this.#loopContext = new AsyncResource("aiots.loop");
    if (this.#debug) this.#startDebugMonitor();
    const stopped = new Promise<void>((resolve) => {
      this.#onStopped = resolve;
    });
    this.#armWakeup();
    this.#scheduleDrain();
    return stopped;
  }

  /** Stops the loop after the current iteration (or the next one, if it is not running yet). */
  stop(): void {
    this.#stopping = true;
    if (this.#running) this.#scheduleDrain();
  }

  isRunning(): boolean {
    return this.#running;
  }

  isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Closes the loop: drops pending callbacks and timers and reports tasks still pending and task
   * errors nobody retrieved. Idempotent.
   * @throws {Error} if the loop is running.
   */
  close(): void {
    if (this.#running) throw new Error("Cannot close a running event loop: stop it first (or let run() close it)");
    if (this.#closed) return;
    this.#closed = true;
    this.#ready.clear();
    this.#iterationLeft = 0;
    for (const timer of this.#timers.clear()) timer.unscheduled();
    reportAbandonedTasks(this);
    // Children and signal handlers must not outlive the loop that owns them.
    closeSubprocessTransports(this);
    removeAllSignalHandlers(this);
    loopClosing(this);
    const executor = this.#defaultExecutor;
    this.#defaultExecutor = null;
    if (executor !== null) void Promise.resolve(executor.shutdown(false)).catch((exception: unknown) => {
      this.callExceptionHandler({ message: "Error shutting down the default executor", exception });
    });
  }

  /**
   * Closes async generators created through aiots. JavaScript gives no hook on every async
   * generator, so generators a task was iterating are closed by its cancellation instead.
   */
  async shutdownAsyncgens(): Promise<void> {}

  setDefaultExecutor(executor: Executor): void {
    if (executor === null || typeof executor !== "object" || typeof executor.shutdown !== "function") {
      throw new TypeError("setDefaultExecutor() takes an executor with a shutdown(wait) method");
    }
    this.#defaultExecutor = executor;
  }

  getDefaultExecutor(): Executor | null {
    return this.#defaultExecutor;
  }

  /** Shuts the default executor down, waiting for its jobs (at most `timeout` seconds). */
  async shutdownDefaultExecutor(timeout: number | null = 300): Promise<void> {
    const executor = this.#defaultExecutor;
    this.#defaultExecutor = null;
    if (executor === null) return;
    const done = Promise.resolve(executor.shutdown(true));
    if (timeout === null) return done;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((resolve) => {
      timer = setTimeout(() => resolve("expired"), timeout * 1000);
    });
    try {
      if ((await Promise.race([done, expired])) === "expired") {
        process.emitWarning(`The default executor did not finish joining its workers within ${timeout} seconds`);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null && typeof handler !== "function") throw new TypeError("setExceptionHandler() takes a function(loop, context) or null");
    this.#exceptionHandler = handler;
  }

  getExceptionHandler(): ExceptionHandler | null {
    return this.#exceptionHandler;
  }

  /** Writes the context to stderr: the message, the other fields, then the error's stack. */
  defaultExceptionHandler(context: ExceptionContext): void {
    const lines = [context.message || "Unhandled exception in event loop"];
    for (const [key, value] of Object.entries(context)) {
      if (key === "message" || key === "exception") continue;
      lines.push(`${key}: ${typeof value === "string" ? value : inspect(value)}`);
    }
    if (context.exception !== undefined) {
      const error = context.exception;
      lines.push(error instanceof Error ? (error.stack ?? String(error)) : inspect(error));
    }
    process.stderr.write(`${lines.join("\n")}\n`);
  }

  /** Passes `context` to the handler set with `setExceptionHandler`, or the default one. */
  callExceptionHandler(context: ExceptionContext): void {
    const handler = this.#exceptionHandler;
    if (handler === null) {
      try {
        this.defaultExceptionHandler(context);
      } catch (error) {
        process.stderr.write(`Exception in default exception handler: ${inspect(error)}\n`);
      }
      return;
    }
    try {
      handler(this, context);
    } catch (exception) {
      try {
        this.defaultExceptionHandler({ message: "Unhandled error in exception handler", exception, context });
      } catch (error) {
        process.stderr.write(`Exception in default exception handler: ${inspect(error)}\n`);
      }
    }
  }

  getDebug(): boolean {
    return this.#debug;
  }

  setDebug(enabled: boolean): void {
    this.#debug = Boolean(enabled);
    if (this.#debug) loopDebugEnabled(this);
    if (this.#running) {
      setCaptureStacks(this.#debug);
      if (this.#debug) this.#startDebugMonitor();
      else this.#stopDebugMonitor();
    }
  }

  // --- networking (transports, servers, DNS): added below by the networking module ---
  createConnection<P extends StreamProtocol>(protocolFactory: () => P, host: string | null, port: number | null, options?: ConnectionOptions): Promise<[Transport, P]> {
    return network.createConnection(this, protocolFactory, host, port, options);
  }

  createServer<P extends StreamProtocol>(protocolFactory: () => P, host?: string | string[] | null, port?: number | null, options?: ServerCreateOptions): Promise<Server> {
    return network.createServer(this, protocolFactory, host, port, options);
  }

  createUnixConnection<P extends StreamProtocol>(protocolFactory: () => P, path: string | null, options?: Omit<ConnectionOptions, "family" | "localAddr" | "happyEyeballsDelay">): Promise<[Transport, P]> {
    return network.createUnixConnection(this, protocolFactory, path, options);
  }

  createUnixServer<P extends StreamProtocol>(protocolFactory: () => P, path: string | null, options?: UnixServerCreateOptions): Promise<Server> {
    return network.createUnixServer(this, protocolFactory, path, options);
  }

  createDatagramEndpoint<P extends DatagramProtocol>(protocolFactory: () => P, options?: DatagramEndpointOptions): Promise<[DatagramTransport, P]> {
    return createDatagramEndpoint(this, protocolFactory, options);
  }

  connectAcceptedSocket<P extends StreamProtocol>(protocolFactory: () => P, sock: NetSocket, options?: AcceptedSocketOptions): Promise<[Transport, P]> {
    return network.connectAcceptedSocket(this, protocolFactory, sock, options);
  }

  connectReadPipe<P extends Protocol>(protocolFactory: () => P, pipe: Readable | number): Promise<[ReadTransport, P]> {
    return connectReadPipe(this, protocolFactory, pipe);
  }

  connectWritePipe<P extends BaseProtocol>(protocolFactory: () => P, pipe: Writable | number): Promise<[WriteTransport, P]> {
    return connectWritePipe(this, protocolFactory, pipe);
  }

  startTls(
    transport: Transport,
    protocol: StreamProtocol,
    sslcontext: SslOption,
    options?: AcceptedSocketOptions & { serverSide?: boolean; serverHostname?: string | null },
  ): Promise<Transport> {
    return network.startTls(this, transport, protocol, sslcontext, options);
  }

  getaddrinfo(host: string | null, port: number | string | null, options?: { family?: 0 | 4 | 6; type?: number; proto?: number; flags?: number }): Promise<AddrInfo[]> {
    return network.getaddrinfo(this, host, port, options);
  }

  getnameinfo(sockaddr: [string, number], flags?: number): Promise<[string, string]> {
    return network.getnameinfo(this, sockaddr, flags);
  }

  sendfile(transport: Transport, file: FileHandle | number, offset?: number, count?: number | null, options?: { fallback?: boolean }): Promise<number> {
    return network.sendfile(this, transport, file, offset, count, options);
  }

  // --- subprocesses, signals, executors: added below by their modules ---
  runInExecutor<A extends unknown[], R>(executor: Executor | null, job: Job<A, R>, ...args: A): Future<Awaited<R>> {
    return runInExecutor(this, executor, job, args) as Future<Awaited<R>>;
  }

  subprocessExec<P extends SubprocessProtocol>(
    protocolFactory: () => P,
    program: string,
    args: readonly string[] = [],
    options?: SubprocessOptions,
  ): Promise<[ChildProcessTransport, P]> {
    return subprocessExec(this, protocolFactory, program, args, options);
  }

  subprocessShell<P extends SubprocessProtocol>(protocolFactory: () => P, cmd: string, options?: SubprocessOptions): Promise<[ChildProcessTransport, P]> {
    return subprocessShell(this, protocolFactory, cmd, options);
  }

  addSignalHandler<A extends unknown[]>(signal: number | string, callback: (...args: A) => unknown, ...args: A): void {
    addSignalHandler(this, signal, callback, args);
  }

  removeSignalHandler(signal: number | string): boolean {
    return removeSignalHandler(this, signal);
  }

  override toString(): string {
    const state = this.#closed ? "closed" : this.#running ? "running" : "idle";
    return `<EventLoop ${state} ready=${this.#ready.size} timers=${this.#timers.size} debug=${this.#debug}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #push(runnable: Runnable): void {
    this.#ready.push(runnable);
    if (!this.#drainScheduled && this.#running) this.#scheduleDrain();
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    if (this.#budgetUsed < IO_BUDGET) {
      // A promise reaction, not queueMicrotask: the latter allocates an AsyncResource per call.
      // If a drain ever threw (a bug: callbacks catch their own errors), Node reports the rejection.
      void resolvedPromise.then(this.#drainSoon);
    } else {
      setImmediate(this.#drainAfterPoll);
    }
  }

  readonly #drainAfterPoll = (): void => {
    this.#budgetUsed = 0;
    this.#drainQuiet();
  };

  // A drain chained as a microtask runs at once only if no task is still on its way to its next
  // suspension (asyncio: one sleep(0) lets every other ready task run, through any depth of async
  // calls). Otherwise it waits: the last running task to suspend tells the loop at that moment
  // (taskActivity.onQuiet), and the drain follows as one promise reaction queued after whatever that
  // task queued. A task that does not suspend on an aiots wait (it awaits a foreign promise) is
  // waited for through the tick queue instead, which Node runs once V8's microtask queue is empty.
  // A single task switching with itself (the common hot loop) keeps the microtask path.
  readonly #drainSoon = (): void => {
    if (!this.#drainScheduled) return; // a wait ended by the tick queue already drained
    if (taskActivity.running > 0) {
      this.#waitForQuiet();
      return;
    }
    this.#drainInMicrotask = true;
    this.#drain();
    this.#drainInMicrotask = false;
  };

  // Runs in a microtask (so the tick armed here runs only once the microtask queue is empty).
  #waitForQuiet(): void {
    taskActivity.onQuiet = this.#onQuiet;
    if (!this.#quietTickArmed) {
      this.#quietTickArmed = true;
      process.nextTick(this.#onQuietTick);
    }
  }

  // Called inside the task that suspended last: the drain is scheduled from the loop's own context,
  // not that task's, or every later drain (and the timers and handles it creates) would keep the
  // task's context, and so the task, alive.
  readonly #onQuiet = (): void => {
    if (this.#loopContext === null) void resolvedPromise.then(this.#drainSoon);
    else this.#loopContext.runInAsyncScope(this.#queueDrainSoon);
  };

  readonly #queueDrainSoon = (): void => {
    void resolvedPromise.then(this.#drainSoon);
  };

  // The microtask queue is empty: if the loop still waits, the running task is blocked on a foreign promise.
  readonly #onQuietTick = (): void => {
    this.#quietTickArmed = false;
    if (taskActivity.onQuiet !== this.#onQuiet) return;
    taskActivity.onQuiet = null;
    this.#drainQuiet();
  };

  // The microtask queue is empty here: every task is suspended (see taskActivity).
  readonly #drainQuiet = (): void => {
    taskActivity.running = 0;
    taskActivity.epoch += 1;
    this.#drain();
  };

  // One loop iteration (asyncio's _run_once): the callbacks ready when it starts, no more. A
  // callback that wakes a task ends this drain early; the rest of the iteration runs once that task
  // has reached its next suspension (see #drainSoon), so the tasks of one iteration run one after
  // another, as asyncio's do, rather than interleaved at every promise reaction.
  readonly #drain = (): void => {
    this.#drainScheduled = false;
    if (!this.#running) return;
    const ready = this.#ready;
    if (this.#iterationLeft === 0) {
      this.#moveDueTimers();
      this.#iterationLeft = ready.size;
    }
    const monitor = this.#slowMonitor;
    const wasInCallback = setInLoopCallback(true);
    let ran = 0;
    enterDrain();
    try {
      while (this.#iterationLeft > 0) {
        this.#iterationLeft -= 1;
        ran += 1;
        if (monitor === null) ready.shift().runScheduled();
        else monitor.timeCallback(ready.shift());
        if (taskActivity.running > 0 && this.#iterationLeft > 0) break;
      }
    } finally {
      leaveDrain();
      setInLoopCallback(wasInCallback);
      this.#budgetUsed += ran;
    }
    if (this.#iterationLeft > 0) {
      // A callback woke a task (or I/O ran out of budget): the rest of the iteration runs once it suspends.
      if (taskActivity.running > 0 && this.#drainInMicrotask && this.#budgetUsed < IO_BUDGET) {
        this.#drainScheduled = true;
        this.#waitForQuiet();
      } else {
        this.#scheduleDrain();
      }
      return;
    }
    if (this.#stopping) {
      this.#finishStopping();
      return;
    }
    if (ready.size > 0) this.#scheduleDrain();
    if (this.#timers.size > 0 || this.#wakeup !== null) this.#armWakeup();
  };

  #moveDueTimers(): void {
    const timers = this.#timers;
    if (timers.size === 0) return;
    const now = this.time();
    for (;;) {
      const top = timers.peek();
      if (top === undefined || top.whenSeconds > now) break;
      timers.pop();
      top.unscheduled();
      this.#ready.push(top);
    }
  }

  #armWakeup(): void {
    if (!this.#running) return;
    const next = this.#timers.peek();
    const when = next === undefined ? Infinity : next.whenSeconds;
    if (when === this.#wakeupWhen) return;
    this.#wakeup?.cancel();
    this.#wakeup = null;
    this.#wakeupWhen = when;
    if (when !== Infinity) this.#wakeup = this.scheduleWakeup(when, this.#onWakeup);
  }

  /**
   * Arranges for `wake()` to be called at loop time `when` (the earliest timer's deadline). This
   * loop arms one Node timer; a virtual-time loop (aiots/testing) jumps its clock instead.
   */
  protected scheduleWakeup(when: number, wake: () => void): Wakeup {
    const delayMs = Math.max(0, Math.ceil((when - this.time()) * 1000));
    const timer = setTimeout(wake, Math.min(delayMs, KEEP_ALIVE_MS));
    return { cancel: () => clearTimeout(timer) };
  }

  /** Whether callbacks are waiting in the ready queue (so the loop is not idle). */
  protected hasReadyCallbacks(): boolean {
    return this.#ready.size > 0;
  }

  readonly #onWakeup = (): void => {
    this.#wakeup = null;
    this.#wakeupWhen = Infinity;
    this.#budgetUsed = 0;
    if (!this.#running) return;
    const next = this.#timers.peek();
    // Woken a little early by libuv's millisecond clock: wait for the rest.
    if (next !== undefined && next.whenSeconds > this.time() && this.#ready.size === 0) {
      this.#armWakeup();
      return;
    }
    this.#scheduleDrain();
  };

  #finishStopping(): void {
    this.#stopping = false;
    this.#iterationLeft = 0;
    this.#running = false;
    if (getRunningLoopOrNull() === this) {
      setRunningLoop(null);
      setCaptureStacks(false);
    }
    if (this.#keepAlive !== null) clearInterval(this.#keepAlive);
    this.#keepAlive = null;
    this.#wakeup?.cancel();
    this.#wakeup = null;
    this.#wakeupWhen = Infinity;
    this.#stopDebugMonitor();
    const resolve = this.#onStopped;
    this.#onStopped = null;
    resolve?.();
  }

  #startDebugMonitor(): void {
    setWatchUndeliveredCancels(true);
    if (this.#slowMonitor !== null) return;
    this.#slowMonitor = new SlowCallbackMonitor(this);
    this.#slowMonitor.start();
  }

  #stopDebugMonitor(): void {
    setWatchUndeliveredCancels(false);
    this.#slowMonitor?.stop();
    this.#slowMonitor = null;
  }

  #checkClosed(): void {
    if (this.#closed) throw new Error("Event loop is closed: create a new one with newEventLoop(), or use run(main)");
  }

  #checkNotRunning(): void {
    if (this.#running) throw new Error("This event loop is already running");
    if (getRunningLoopOrNull() !== null) {
      throw new Error("Cannot run the event loop while another loop is running: await the work in the running loop instead");
    }
  }
}

/** Creates a new event loop (not set as current; see `setEventLoop`). */
export function newEventLoop(): EventLoop {
  return new EventLoop();
}
