/**
 * Streams: `openConnection`/`startServer` (and the Unix variants) give a `StreamReader` and a
 * `StreamWriter` per connection instead of protocol callbacks (asyncio.streams).
 *
 * How it works: `StreamReaderProtocol` is the protocol under a stream connection. It feeds the
 * reader, records `pauseWriting`/`resumeWriting` so that `drain()` can wait on an aiots Future, and
 * for servers runs the client-connected callback as a task per connection. `drain()` returns at once
 * unless the transport's buffer is over its high-water mark, so "write, then drain" costs little;
 * such a return spends the core's fast-path budget (`spendFastPath`), so a task looping on
 * `write()`/`drain()` still lets libuv poll (timers, I/O, the peer's reset) every few hundred rounds.
 * A transport that saw its peer vanish in `write()` makes the next `drain()` throw.
 * @module
 */
import {
  getRunningLoop,
  type AbstractEventLoop,
  type Future,
  Protocol,
  type Server,
  sleep,
  spendFastPath,
  yieldToIo,
  type ExtraInfo,
  type ExtraInfoName,
  type Transport,
  type ConnectionOptions,
  type ServerCreateOptions,
  type SslOption,
  type UnixServerCreateOptions,
  inspectSymbol,
} from "../core/index.ts";
import { connectionLostError, peerGoneError } from "./internal/write-flow.ts";
import { StreamReader, DEFAULT_LIMIT, kTakeIoWake } from "./stream-reader.ts";
import {
  createConnection,
  createServer,
  createUnixConnection,
  createUnixServer,
  startTls,
} from "./network.ts";

export { StreamReader, DEFAULT_LIMIT, type StreamReaderOptions } from "./stream-reader.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/** Called for each new connection of a stream server; runs as its own task. */
export type ClientConnectedCallback = (reader: StreamReader, writer: StreamWriter) => unknown;

/** `{ limit }` on top of the loop method's options. */
export interface StreamOptions {
  /** The `StreamReader` limit (default 64 KiB). */
  limit?: number;
}

/**
 * The protocol under stream connections: adapts protocol callbacks to a `StreamReader` and
 * `StreamWriter` (asyncio.StreamReaderProtocol). Exported for `loop.createConnection` users who
 * want streams over their own transports.
 * @example
 * ```ts
 * import { run, getRunningLoop, StreamReader, StreamReaderProtocol, StreamWriter } from "aiots";
 * await run(async () => {
 *   const loop = getRunningLoop();
 *   const reader = new StreamReader();
 *   const protocol = new StreamReaderProtocol(reader);
 *   const [transport] = await loop.createConnection(() => protocol, "127.0.0.1", 8888);
 *   const writer = new StreamWriter(transport, protocol, reader, loop);
 * });
 * ```
 */
export class StreamReaderProtocol extends Protocol {
  readonly #loop: AbstractEventLoop;
  #reader: StreamReader | null;
  readonly #clientConnected: ClientConnectedCallback | null;
  #overTls = false;
  // Flow control: true between pauseWriting and resumeWriting. drain() waits on #drainWaiters.
  #paused = false;
  // Made at the first wait (most connections never wait): memory per idle connection.
  #drainWaiters: Future<void>[] | null = null;
  #connectionLost = false;
  // The error the connection was lost with (null for a clean close).
  #lostError: Error | null = null;
  // Server side: the client-connected task has finished / the peer has sent EOF.
  #handlerDone = false;
  #eofSeen = false;
  // Resolved (or failed) when the connection is lost; StreamWriter.waitClosed() waits on it. Made
  // by the first closeWaiter() call (a server's connections rarely ask), settled from #closedWith.
  #closed: Future<void> | null = null;
  // The error of the first connectionLost (null: a clean close); meaningful once #connectionLost.
  #closedWith: Error | null = null;

  constructor(reader: StreamReader, clientConnected: ClientConnectedCallback | null = null, loop: AbstractEventLoop = getRunningLoop()) {
    super();
    this.#reader = reader;
    this.#clientConnected = clientConnected;
    this.#loop = loop;
  }

  /** True when this protocol serves a server-side connection. */
  get serverSide(): boolean {
    return this.#clientConnected !== null;
  }

  override connectionMade(transport: Transport): void {
    this.#reader?.setTransport(transport);
    this.#overTls = transport.getExtraInfo("cipher") !== undefined;
    const cb = this.#clientConnected;
    if (cb === null || this.#reader === null) return;
    const reader = this.#reader;
    const writer = new StreamWriter(transport, this, reader, this.#loop);
    const peer = transport.getExtraInfo("peername");
    const task = this.#loop.createTask(() => Promise.resolve(cb(reader, writer)), { name: `client ${peer === undefined ? "" : JSON.stringify(peer)}` });
    task.addDoneCallback((t) => {
      this.#handlerDone = true;
      const exception = t.cancelled() ? null : t.exception();
      if (exception !== null && exception !== undefined) {
        this.#loop.callExceptionHandler({ message: "Unhandled exception in client_connected_cb", exception, transport: writer.transport });
        writer.close();
      } else if (t.cancelled() || this.#eofSeen) {
        // Nobody will read or close this half-closed connection any more (asyncio closes it when the
        // writer is garbage-collected).
        writer.close();
      }
    });
  }

  /** Called by `StreamWriter.startTls` after the upgrade. */
  replaceTransport(transport: Transport): void {
    this.#reader?.replaceTransport(transport);
    this.#overTls = true;
  }

  override connectionLost(exc: Error | null): void {
    const reader = this.#reader;
    if (reader !== null) {
      if (exc === null) reader.feedEof();
      else reader.setException(exc);
    }
    if (!this.#connectionLost) this.#closedWith = exc;
    this.#connectionLost = true;
    this.#lostError = exc;
    if (this.#closed !== null) this.#settleClosed(this.#closed);
    const waiters = this.#drainWaiters ?? [];
    this.#drainWaiters = null;
    for (const w of waiters) {
      if (w.done()) continue;
      if (exc === null) w.setResult(undefined);
      else w.setException(exc);
    }
    this.#reader = null;
  }

  override dataReceived(data: Buffer): void {
    this.#reader?.feedData(data);
  }

  override eofReceived(): boolean {
    this.#eofSeen = true;
    this.#reader?.feedEof();
    // TLS cannot half-close: let the transport close. Plain TCP stays open for writing, unless the
    // server's handler has already returned (then nobody will write or close it).
    return !this.#overTls && !this.#handlerDone;
  }

  override pauseWriting(): void {
    this.#paused = true;
  }

  override resumeWriting(): void {
    this.#paused = false;
    const waiters = this.#drainWaiters;
    if (waiters === null) return;
    this.#drainWaiters = null;
    for (const w of waiters) if (!w.done()) w.setResult(undefined);
  }

  /** True while the transport's write buffer is over its high-water mark. */
  get writingPaused(): boolean {
    return this.#paused;
  }

  /** True once `connectionLost` was called. */
  get lost(): boolean {
    return this.#connectionLost;
  }

  /**
   * Waits until writing may continue (`StreamWriter.drain()` calls this).
   * @throws {Error} `ConnectionResetError` ("Connection lost"; `BrokenPipeError` for EPIPE) when the
   *   connection is gone, with the error it was lost with as `cause`.
   */
  async drainHelper(): Promise<void> {
    if (this.#connectionLost) throw connectionLostError(this.#lostError);
    if (!this.#paused) return;
    const waiter = this.#loop.createFuture<void>();
    (this.#drainWaiters ??= []).push(waiter);
    try {
      await waiter;
    } finally {
      // connectionLost()/resumeWriting() may have replaced the list with null meanwhile
      const waiters: Future<void>[] | null = this.#drainWaiters;
      const i = waiters === null ? -1 : waiters.indexOf(waiter);
      if (waiters !== null && i >= 0) waiters.splice(i, 1);
    }
  }

  /** The future that settles when the connection is lost. */
  closeWaiter(): Future<void> {
    if (this.#closed === null) {
      this.#closed = this.#loop.createFuture<void>();
      if (this.#connectionLost) this.#settleClosed(this.#closed);
    }
    return this.#closed;
  }

  #settleClosed(closed: Future<void>): void {
    if (closed.done()) return;
    const exc = this.#closedWith;
    if (exc === null) closed.setResult(undefined);
    else {
      closed.setException(exc);
      closed.exception(); // retrieved: waitClosed() is optional
    }
  }

  override toString(): string {
    return `<StreamReaderProtocol${this.#paused ? " paused" : ""}${this.#connectionLost ? " lost" : ""}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

/**
 * The write side of a stream connection (asyncio.StreamWriter): `write()` then `await drain()`.
 * Disposing it (`await using`) closes it and waits for the close.
 * @example
 * ```ts
 * import { run, openConnection } from "aiots";
 * await run(async () => {
 *   const [reader, writer] = await openConnection("127.0.0.1", 8888);
 *   writer.write(Buffer.from("ping\n"));
 *   await writer.drain();
 *   console.log((await reader.readLine()).toString());
 *   writer.close();
 *   await writer.waitClosed();
 * });
 * ```
 */
export class StreamWriter implements AsyncDisposable {
  #transport: Transport;
  readonly #protocol: StreamReaderProtocol;
  readonly #reader: StreamReader | null;
  readonly #loop: AbstractEventLoop;

  constructor(transport: Transport, protocol: StreamReaderProtocol, reader: StreamReader | null, loop: AbstractEventLoop) {
    this.#transport = transport;
    this.#protocol = protocol;
    this.#reader = reader;
    this.#loop = loop;
  }

  /** The transport under this writer. */
  get transport(): Transport {
    return this.#transport;
  }

  /**
   * Queues `data` for sending (never waits: call `drain()` after writing).
   * @throws {TypeError} when `data` is not bytes.
   */
  write(data: Uint8Array): void {
    this.#transport.write(data);
  }

  /** Queues each buffer of `data`. */
  writeLines(data: Iterable<Uint8Array>): void {
    this.#transport.writeLines(data);
  }

  /** Half-closes: sends EOF after buffered data. */
  writeEof(): void {
    this.#transport.writeEof();
  }

  canWriteEof(): boolean {
    return this.#transport.canWriteEof();
  }

  /** Closes the connection after buffered data is sent. */
  close(): void {
    this.#transport.close();
  }

  isClosing(): boolean {
    return this.#transport.isClosing();
  }

  /**
   * Waits until the connection is closed.
   * @throws the connection's error, if it was lost with one.
   */
  async waitClosed(): Promise<void> {
    await this.#protocol.closeWaiter();
  }

  /** See `Transport.getExtraInfo`. */
  getExtraInfo<K extends ExtraInfoName>(name: K): ExtraInfo[K] | undefined;
  getExtraInfo<K extends ExtraInfoName, D>(name: K, defaultValue: D): ExtraInfo[K] | D;
  getExtraInfo(name: ExtraInfoName, defaultValue?: unknown): unknown {
    return this.#transport.getExtraInfo(name, defaultValue);
  }

  /**
   * Waits while the transport's write buffer is over its high-water mark. Returns at once otherwise,
   * except that after a few hundred such returns with no I/O turn between them it waits for one
   * turn of libuv, so that a `write()`/`drain()` loop never keeps other tasks, timers and I/O from
   * running. A return right after a read on this connection that waited for data does not count:
   * that read already let libuv poll.
   * @throws the reader's error, or `ConnectionResetError` ("Connection lost"; `BrokenPipeError` for
   *   a broken pipe) once the connection is gone: the first `drain()` after a `write()` that met a
   *   reset peer throws.
   * @throws {CancelledError} when the task is cancelled while waiting.
   */
  drain(): Promise<void> {
    // The common case (buffer under the high-water mark) allocates nothing, as asyncio's drain()
    // returns without suspending then.
    // A drain after a read that waited for I/O spends no budget: that task suspends on its reads, so
    // libuv polls anyway (1,000 echo connections in one poll would otherwise spend it every turn
    // and send half of them through a setImmediate).
    if (this.#canWrite()) {
      if (this.#reader !== null && this.#reader[kTakeIoWake]()) return RESOLVED;
      return spendFastPath() ? this.#drainAfterTurn() : RESOLVED;
    }
    return this.#drainSlow();
  }

  #canWrite(): boolean {
    return !this.#protocol.writingPaused && !this.#protocol.lost && !this.#transport.isClosing() && (this.#reader?.exception() ?? null) === null;
  }

  async #drainAfterTurn(): Promise<void> {
    await yieldToIo(this.#loop);
    if (!this.#canWrite()) await this.#drainSlow();
  }

  async #drainSlow(): Promise<void> {
    const exc = this.#reader?.exception() ?? null;
    if (exc !== null) throw exc;
    const gone = peerGoneError(this.#transport);
    if (gone !== null) {
      // As asyncio's drain(): yield once so that the connectionLost the failed write scheduled runs
      // first and the reader fails with the same error, whether or not the peer's EOF came before.
      await sleep(0);
      throw connectionLostError(gone);
    }
    // Let connectionLost run first, so a closed connection is reported here rather than later.
    if (this.#transport.isClosing()) await sleep(0);
    await this.#protocol.drainHelper();
  }

  /**
   * Upgrades the connection to TLS in place; the reader and writer keep working over TLS.
   * @throws {Error} when the handshake fails (with the peer's address) or times out.
   */
  async startTls(sslcontext: SslOption, options: { serverHostname?: string | null; sslHandshakeTimeout?: number | null } = {}): Promise<void> {
    const serverSide = this.#protocol.serverSide;
    await this.drain();
    const transport = await startTls(this.#loop, this.#transport, this.#protocol, sslcontext, { ...options, serverSide });
    this.#transport = transport;
    this.#protocol.replaceTransport(transport);
  }

  /** Closes and waits for the close; a connection error is not rethrown here. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    try {
      await this.waitClosed();
    } catch (error) {
      if ((error as Error).name === "CancelledError") throw error;
    }
  }

  toString(): string {
    return `<StreamWriter transport=${String(this.#transport)}${this.#reader === null ? "" : ` reader=${String(this.#reader)}`}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

/** Options of `openConnection`: the reader `limit` plus `loop.createConnection`'s options. */
export type OpenConnectionOptions = StreamOptions & ConnectionOptions;

/**
 * Connects to `host:port` and returns `[reader, writer]`.
 * @throws {Error} Node's connection error with the address (`ECONNREFUSED`, `ENOTFOUND`, TLS failures).
 * @throws {CancelledError} when the task is cancelled while connecting (the socket is destroyed).
 * @example
 * ```ts
 * import { run, openConnection } from "aiots";
 * await run(async () => {
 *   const [reader, writer] = await openConnection("example.com", 443, { ssl: true });
 *   writer.write(Buffer.from("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n"));
 *   console.log((await reader.readLine()).toString());
 *   writer.close();
 * });
 * ```
 */
export async function openConnection(host: string | null, port: number | null, options: OpenConnectionOptions = {}): Promise<[StreamReader, StreamWriter]> {
  const loop = getRunningLoop();
  const { limit, ...rest } = options;
  const reader = new StreamReader({ limit: limit ?? DEFAULT_LIMIT, loop });
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const [transport] = await createConnection(loop, () => protocol, host, port, rest);
  return [reader, new StreamWriter(transport, protocol, reader, loop)];
}

/**
 * Starts a TCP server; `clientConnected(reader, writer)` runs as a task for each connection.
 * An error thrown by it is reported to the loop's exception handler and the connection is closed.
 * @example
 * ```ts
 * import { run, startServer } from "aiots";
 * await run(async () => {
 *   await using server = await startServer(async (reader, writer) => {
 *     for await (const line of reader) writer.write(line);
 *     writer.close();
 *   }, "127.0.0.1", 8888);
 *   await server.serveForever();
 * });
 * ```
 */
export async function startServer(
  clientConnected: ClientConnectedCallback,
  host: string | string[] | null = null,
  port: number | null = null,
  options: StreamOptions & ServerCreateOptions = {},
): Promise<Server> {
  if (typeof clientConnected !== "function") throw new TypeError(`startServer() takes a callback (reader, writer) => ..., got ${typeof clientConnected}`);
  const loop = getRunningLoop();
  const { limit, ...rest } = options;
  const factory = (): StreamReaderProtocol => new StreamReaderProtocol(new StreamReader({ limit: limit ?? DEFAULT_LIMIT, loop }), clientConnected, loop);
  return createServer(loop, factory, host, port, rest);
}

/**
 * As `openConnection`, over the Unix socket at `path`.
 * @throws {Error} Node's error with the path (`ENOENT`, `ECONNREFUSED`).
 * @example
 * ```ts
 * import { run, openUnixConnection } from "aiots";
 * await run(async () => {
 *   const [reader, writer] = await openUnixConnection("/tmp/app.sock");
 *   writer.write(Buffer.from("status\n"));
 *   console.log((await reader.readLine()).toString());
 *   writer.close();
 * });
 * ```
 */
export async function openUnixConnection(
  path: string | null,
  options: StreamOptions & Omit<ConnectionOptions, "family" | "localAddr" | "happyEyeballsDelay"> = {},
): Promise<[StreamReader, StreamWriter]> {
  const loop = getRunningLoop();
  const { limit, ...rest } = options;
  const reader = new StreamReader({ limit: limit ?? DEFAULT_LIMIT, loop });
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const [transport] = await createUnixConnection(loop, () => protocol, path, rest);
  return [reader, new StreamWriter(transport, protocol, reader, loop)];
}

/**
 * As `startServer`, on the Unix socket at `path` (a stale socket file there is replaced).
 * @throws {Error} Node's error with the path (`EADDRINUSE`, `EACCES`).
 * @example
 * ```ts
 * import { run, startUnixServer } from "aiots";
 * await run(async () => {
 *   await using server = await startUnixServer(async (reader, writer) => {
 *     writer.write(await reader.readLine());
 *     writer.close();
 *   }, "/tmp/app.sock");
 *   await server.serveForever();
 * });
 * ```
 */
export async function startUnixServer(
  clientConnected: ClientConnectedCallback,
  path: string | null,
  options: StreamOptions & UnixServerCreateOptions = {},
): Promise<Server> {
  if (typeof clientConnected !== "function") throw new TypeError(`startUnixServer() takes a callback (reader, writer) => ..., got ${typeof clientConnected}`);
  const loop = getRunningLoop();
  const { limit, ...rest } = options;
  const factory = (): StreamReaderProtocol => new StreamReaderProtocol(new StreamReader({ limit: limit ?? DEFAULT_LIMIT, loop }), clientConnected, loop);
  return createUnixServer(loop, factory, path, rest);
}
