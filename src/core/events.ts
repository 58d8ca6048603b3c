/**
 * The event loop's interface: `AbstractEventLoop`, `Handle`, `TimerHandle`, and the functions that
 * find the current loop. The Node-backed implementation is `EventLoop` in `loop/base-events.ts`.
 * @module
 */
import type { Future } from "./futures.ts";
import type { Socket as NetSocket } from "node:net";
import type { FileHandle } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import type {
  AcceptedSocketOptions,
  AddrInfo,
  ConnectionOptions,
  DatagramEndpointOptions,
  Job,
  ServerCreateOptions,
  SslOption,
  SubprocessOptions,
  UnixServerCreateOptions,
} from "./loop-options.ts";
import type { BaseProtocol, DatagramProtocol, Protocol, StreamProtocol, SubprocessProtocol } from "./protocols.ts";
import type { Server } from "./servers.ts";
import type { DatagramTransport, ReadTransport, SubprocessTransport, Transport, WriteTransport } from "./transports.ts";
import type { Task } from "./tasks.ts";
import { getRunningLoopOrNull } from "./internal/context.ts";
import { callbackName, inspectSymbol } from "./internal/inspect.ts";
import { kScheduleRunnable, type Runnable } from "./internal/runnable.ts";

/** What the loop's exception handler receives (asyncio's context dict). */
export interface ExceptionContext {
  message: string;
  exception?: unknown;
  future?: Future<unknown>;
  task?: Task<unknown>;
  handle?: Handle;
  [key: string]: unknown;
}

export type ExceptionHandler = (loop: AbstractEventLoop, context: ExceptionContext) => void;

export interface TaskOptions {
  name?: string;
  /**
   * Start running the function synchronously, inside `createTask`, up to its first suspension
   * (Python 3.14's `eager_start`); ignored when the loop is not running.
   */
  eagerStart?: boolean;
}

/** Builds the tasks a loop creates (`loop.setTaskFactory`). `eagerTaskFactory` is one. */
export type TaskFactory = <T>(loop: AbstractEventLoop, fn: () => PromiseLike<T> | T, options: TaskOptions) => Task<T>;

/** What `loop.setDefaultExecutor` accepts: anything that can be shut down. */
export interface Executor {
  shutdown(wait?: boolean): void | Promise<void>;
}

/**
 * A callback scheduled by `callSoon`; `cancel()` stops it from running.
 * @example
 * ```ts
 * import { getRunningLoop } from "aiots";
 * const handle = getRunningLoop().callSoon(() => console.log("never"));
 * handle.cancel();
 * ```
 */
export class Handle implements Runnable {
  protected readonly callback: (...args: never[]) => unknown;
  protected readonly args: readonly unknown[];
  protected readonly loop: AbstractEventLoop;
  #cancelled = false;

  constructor(callback: (...args: never[]) => unknown, args: readonly unknown[], loop: AbstractEventLoop) {
    this.callback = callback;
    this.args = args;
    this.loop = loop;
  }

  /** Prevents the callback from running; does nothing if it already ran. */
  cancel(): void {
    this.#cancelled = true;
  }

  cancelled(): boolean {
    return this.#cancelled;
  }

  getLoop(): AbstractEventLoop {
    return this.loop;
  }

  /** Runs the callback unless cancelled; an error goes to the loop's exception handler. */
  runScheduled(): void {
    if (this.#cancelled) return;
    try {
      (this.callback as (...args: unknown[]) => unknown)(...this.args);
    } catch (exception) {
      this.loop.callExceptionHandler({ message: `Exception in callback ${callbackName(this.callback)}`, exception, handle: this });
    }
  }

  toString(): string {
    return `<${this.constructor.name}${this.#cancelled ? " cancelled" : ""} ${callbackName(this.callback)}()>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

let timerSeq = 0;

/** A callback scheduled for a time by `callLater` or `callAt`. */
export class TimerHandle extends Handle {
  readonly whenSeconds: number;
  readonly seq: number;
  #scheduled = true;

  constructor(when: number, callback: (...args: never[]) => unknown, args: readonly unknown[], loop: AbstractEventLoop) {
    super(callback, args, loop);
    this.whenSeconds = when;
    this.seq = timerSeq++;
  }

  /** The loop time (seconds) the callback is due at. */
  when(): number {
    return this.whenSeconds;
  }

  override cancel(): void {
    if (this.cancelled()) return;
    super.cancel();
    if (this.#scheduled) {
      this.#scheduled = false;
      this.loop.timerHandleCancelled(this);
    }
  }

  /** Marks the timer as taken off the loop's heap (it is due or the loop closed). */
  unscheduled(): void {
    this.#scheduled = false;
  }

  isCancelled(): boolean {
    return this.cancelled();
  }

  override toString(): string {
    return `<TimerHandle${this.cancelled() ? " cancelled" : ""} when=${this.whenSeconds.toFixed(3)} ${callbackName(this.callback)}()>`;
  }
}

/**
 * The event loop interface: scheduling, time, futures and tasks, running, closing, errors.
 * `EventLoop` (from `newEventLoop()`) implements it on Node's own libuv loop.
 */
export abstract class AbstractEventLoop implements AsyncDisposable {
  /** In debug mode, callbacks and task steps slower than this (seconds) are reported. */
  abstract slowCallbackDuration: number;

  abstract callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle;
  abstract callSoonThreadsafe<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle;
  abstract callLater<A extends unknown[]>(delay: number, callback: (...args: A) => unknown, ...args: A): TimerHandle;
  abstract callAt<A extends unknown[]>(when: number, callback: (...args: A) => unknown, ...args: A): TimerHandle;
  abstract time(): number;

  abstract createFuture<T = unknown>(): Future<T>;
  abstract createTask<T>(fn: () => PromiseLike<T> | T, options?: TaskOptions): Task<T>;
  abstract setTaskFactory(factory: TaskFactory | null): void;
  abstract getTaskFactory(): TaskFactory | null;

  abstract runUntilComplete<T>(future: Future<T> | PromiseLike<T> | (() => PromiseLike<T> | T)): Promise<T>;
  abstract runForever(): Promise<void>;
  abstract stop(): void;
  abstract isRunning(): boolean;
  abstract isClosed(): boolean;
  abstract close(): void;
  abstract shutdownAsyncgens(): Promise<void>;
  abstract shutdownDefaultExecutor(timeout?: number | null): Promise<void>;
  abstract setDefaultExecutor(executor: Executor): void;
  abstract getDefaultExecutor(): Executor | null;

  abstract setExceptionHandler(handler: ExceptionHandler | null): void;
  abstract getExceptionHandler(): ExceptionHandler | null;
  abstract defaultExceptionHandler(context: ExceptionContext): void;
  abstract callExceptionHandler(context: ExceptionContext): void;

  abstract getDebug(): boolean;
  abstract setDebug(enabled: boolean): void;

  // --- networking (transports, servers, DNS): declared below by the networking module ---
  /**
   * Connects to `host:port` (TCP, optionally TLS) and resolves to `[transport, protocol]`.
   * @throws {Error} Node's error with the address (`ECONNREFUSED`, `ENOTFOUND`, TLS failures).
   */
  abstract createConnection<P extends StreamProtocol>(protocolFactory: () => P, host: string | null, port: number | null, options?: ConnectionOptions): Promise<[Transport, P]>;
  /** Listens on `host:port` (all interfaces when `host` is null) and resolves to a `Server`. */
  abstract createServer<P extends StreamProtocol>(protocolFactory: () => P, host?: string | string[] | null, port?: number | null, options?: ServerCreateOptions): Promise<Server>;
  /** Connects to the Unix socket at `path`. */
  abstract createUnixConnection<P extends StreamProtocol>(protocolFactory: () => P, path: string | null, options?: Omit<ConnectionOptions, "family" | "localAddr" | "happyEyeballsDelay">): Promise<[Transport, P]>;
  /** Listens on the Unix socket at `path`. */
  abstract createUnixServer<P extends StreamProtocol>(protocolFactory: () => P, path: string | null, options?: UnixServerCreateOptions): Promise<Server>;
  /** Opens a UDP endpoint (`localAddr` to bind, `remoteAddr` to connect). */
  abstract createDatagramEndpoint<P extends DatagramProtocol>(protocolFactory: () => P, options?: DatagramEndpointOptions): Promise<[DatagramTransport, P]>;
  /** Wraps an accepted `net.Socket` in a transport (optionally TLS, server side). */
  abstract connectAcceptedSocket<P extends StreamProtocol>(protocolFactory: () => P, sock: NetSocket, options?: AcceptedSocketOptions): Promise<[Transport, P]>;
  /** Connects a protocol to the read end of a pipe (a Readable stream or a file descriptor). */
  abstract connectReadPipe<P extends Protocol>(protocolFactory: () => P, pipe: Readable | number): Promise<[ReadTransport, P]>;
  /** Connects a protocol to the write end of a pipe (a Writable stream or a file descriptor). */
  abstract connectWritePipe<P extends BaseProtocol>(protocolFactory: () => P, pipe: Writable | number): Promise<[WriteTransport, P]>;
  /** Upgrades `transport` to TLS; resolves to the new transport (the protocol stays). */
  abstract startTls(
    transport: Transport,
    protocol: StreamProtocol,
    sslcontext: SslOption,
    options?: AcceptedSocketOptions & { serverSide?: boolean; serverHostname?: string | null },
  ): Promise<Transport>;
  /** Resolves `host` to `[family, type, proto, canonname, [address, port]]` entries. */
  abstract getaddrinfo(host: string | null, port: number | string | null, options?: { family?: 0 | 4 | 6; type?: number; proto?: number; flags?: number }): Promise<AddrInfo[]>;
  /** Reverse-resolves `[address, port]` to `[hostname, service]`. */
  abstract getnameinfo(sockaddr: [string, number], flags?: number): Promise<[string, string]>;
  /**
   * Sends a file over `transport`; resolves to the bytes sent.
   * @throws {SendfileNotAvailableError} with `fallback: false` (Node has no zero-copy socket sendfile).
   */
  abstract sendfile(transport: Transport, file: FileHandle | number, offset?: number, count?: number | null, options?: { fallback?: boolean }): Promise<number>;

  // --- subprocesses, signals, executors: declared below by their modules ---
  /**
   * Runs `job(...args)` in a worker thread of `executor` (`null`: the loop's default
   * `ThreadPoolExecutor`, created on first use) and returns a future of its result. `job` is a
   * self-contained function (sent by its source), `{ fn, ...options }`, or a module job
   * `{ module, export }`. See `ThreadPoolExecutor.submit` for cancellation.
   * @throws {TypeError} if `job` refers to variables outside itself (the message names them and the fixes).
   * @example
   * ```ts
   * import { run, getRunningLoop } from "aiots";
   * await run(async () => {
   *   console.log(await getRunningLoop().runInExecutor(null, (a: number, b: number) => a * b, 6, 7)); // 42
   * });
   * ```
   */
  abstract runInExecutor<A extends unknown[], R>(executor: Executor | null, job: Job<A, R>, ...args: A): Future<Awaited<R>>;
  /**
   * Starts `program` with `args` (no shell) connected to the protocol `protocolFactory()` makes;
   * resolves to `[transport, protocol]` once it runs. stdin/stdout/stderr default to `PIPE`.
   * @throws {Error} (code `ENOENT`) naming the program when it does not exist.
   * @example
   * ```ts
   * import { run, getRunningLoop, SubprocessProtocol } from "aiots";
   * class Printer extends SubprocessProtocol {
   *   override pipeDataReceived(fd: number, data: Buffer) { console.log(fd, data.toString()); }
   * }
   * await run(async () => {
   *   const [transport] = await getRunningLoop().subprocessExec(() => new Printer(), "ls", ["-l"]);
   *   console.log(await transport.wait());
   * });
   * ```
   */
  abstract subprocessExec<P extends SubprocessProtocol>(
    protocolFactory: () => P,
    program: string,
    args?: readonly string[],
    options?: SubprocessOptions,
  ): Promise<[SubprocessTransport, P]>;
  /** As `subprocessExec`, running `cmd` with `/bin/sh -c`. */
  abstract subprocessShell<P extends SubprocessProtocol>(protocolFactory: () => P, cmd: string, options?: SubprocessOptions): Promise<[SubprocessTransport, P]>;
  /**
   * Runs `callback(...args)` as a loop callback whenever `signal` (`"SIGTERM"` or a number) arrives,
   * replacing the loop's previous handler for it.
   * @throws {TypeError|RangeError} for an unknown signal, SIGKILL or SIGSTOP.
   * @example
   * ```ts
   * import { run, getRunningLoop, Event } from "aiots";
   * await run(async () => {
   *   const stop = new Event();
   *   getRunningLoop().addSignalHandler("SIGTERM", () => stop.set());
   *   await stop.wait();
   * });
   * ```
   */
  abstract addSignalHandler<A extends unknown[]>(signal: number | string, callback: (...args: A) => unknown, ...args: A): void;
  /** Removes the handler for `signal`; `true` if there was one. */
  abstract removeSignalHandler(signal: number | string): boolean;

  /** Called by a `TimerHandle` when it is cancelled while scheduled. */
  abstract timerHandleCancelled(handle: TimerHandle): void;
  /** Schedules a runnable for the next iteration without allocating a `Handle`. */
  abstract [kScheduleRunnable](runnable: Runnable): void;

  /** Closes the loop (`await using loop = newEventLoop()`); a running loop is asked to stop first. */
  [Symbol.asyncDispose](): Promise<void> {
    if (this.isRunning()) this.stop();
    else if (!this.isClosed()) this.close();
    return Promise.resolve();
  }
}

let currentEventLoop: AbstractEventLoop | null = null;

/**
 * The loop running now. Throws when none is running (call it from a task or a callback).
 * @throws {Error} when no loop is running.
 * @example
 * ```ts
 * import { run, getRunningLoop } from "aiots";
 * await run(async () => console.log(getRunningLoop().time()));
 * ```
 */
export function getRunningLoop(): AbstractEventLoop {
  const loop = getRunningLoopOrNull();
  if (loop === null) {
    throw new Error("no running event loop: call this from inside run(main), a task, or a loop callback");
  }
  return loop as AbstractEventLoop;
}

/** The running loop, else the one set with `setEventLoop`. Like asyncio 3.14, never creates one. */
export function getEventLoop(): AbstractEventLoop {
  const running = getRunningLoopOrNull();
  if (running !== null) return running as AbstractEventLoop;
  if (currentEventLoop === null) {
    throw new Error("There is no current event loop: use run(main), or newEventLoop() and setEventLoop(loop)");
  }
  return currentEventLoop;
}

/** Sets the loop `getEventLoop()` returns when none is running (`null` to unset). */
export function setEventLoop(loop: AbstractEventLoop | null): void {
  if (loop !== null && !(loop instanceof AbstractEventLoop)) {
    throw new TypeError(`setEventLoop() takes an event loop or null, not ${typeof loop}`);
  }
  currentEventLoop = loop;
}
