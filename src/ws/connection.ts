/**
 * `WebSocket`: one WebSocket connection with websockets' asyncio API, on top of the `ws` library.
 *
 * How it works:
 * - Receiving: `ws` parses frames (and inflates permessage-deflate) and emits whole messages. One
 *   that a `recv()` (or a `for await` step) is waiting for is handed to it directly: the wait is a
 *   native promise completed with the message itself (see recv-wait.ts), so the receiver resumes
 *   a microtask later with no async frame in between. Otherwise it goes into a small queue, which
 *   `recv()` takes from without suspending; such a return spends the core's fast-path budget
 *   (`spendFastPath`), so a reader that always finds messages waiting still lets libuv poll every
 *   few hundred. A cancelled wait is never given a message, so a cancelled `recv()` loses nothing.
 *   When the queue holds `maxQueue` messages the socket is paused, so a slow reader pushes back on
 *   the peer through TCP.
 * - Sending: `send()` writes at once (a server's uncompressed whole message as one frame written
 *   straight to the socket when `ws`'s Sender is idle, see frames.ts; otherwise through `ws`);
 *   when that takes the buffered amount over `highWaterMark`, it waits until the message has been
 *   flushed to the kernel. A send loop that never has to wait
 *   still yields to the loop once per `highWaterMark` bytes, so it cannot starve other tasks, and
 *   each send checks the socket itself: once the peer reset the connection, the next send throws
 *   `ConnectionClosedError` even before `ws` has reported the close.
 * - A fragmented message (`send(iterable)`) holds the sending side until its last frame is out;
 *   other `send()` calls wait for it (control frames do not).
 * - Close codes: `ws` reports the code it received. When it failed the connection itself (invalid
 *   UTF-8, an oversized message, a protocol violation) it sent 1007, 1009 or 1002 and tells us
 *   through its error; `closeCode` is the code received, else the one sent, else 1006.
 * - Keepalive: a ping every `pingInterval` seconds; no pong within `pingTimeout` closes with 1011.
 *   `latency` is the round trip of the last answered ping (keepalive or `ping()`).
 * @module
 */
import type { Socket } from "node:net";
import type { WebSocket as RawWebSocket } from "ws";
import {
  getRunningLoop,
  type AbstractEventLoop,
  type TimerHandle,
  type Future,
  currentAwaitingTask,
  waitFuture,
  inspectSymbol,
  sleep,
  spendFastPath,
  yieldToIo,
} from "../core/index.ts";
import { closedError, ConnectionClosedOK, statusCodeOf, type ConnectionClosed } from "./errors.ts";
import { PingTracker } from "./pings.ts";
import { RecvWait } from "./recv-wait.ts";
import { isKnownSender, senderIdle, writeFrame } from "./frames.ts";

/** A message: text arrives as a string, binary as a Buffer. */
export type Message = string | Buffer;

/** What `send()` takes: a message, or an (async) iterable of fragments all strings or all bytes. */
export type Sendable = string | Uint8Array | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;

/** The opening handshake's request as the server saw it (websockets' `ws.request`). */
export interface HandshakeRequest {
  /** The request target: path and query string (`/feed?since=3`). */
  readonly path: string;
  /** Header names in lower case; repeated headers joined with `", "`. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Tuning shared by client and server connections; seconds for times, `null` disables. */
export interface ConnectionOptions {
  /** Seconds between keepalive pings (default 20). */
  pingInterval?: number | null;
  /** Seconds to wait for the pong before closing with 1011 (default 20). */
  pingTimeout?: number | null;
  /** Seconds `close()` waits for the peer's close frame before dropping the connection (default 10). */
  closeTimeout?: number;
  /** Messages buffered before the socket is paused (default 16). */
  maxQueue?: number;
  /** Bytes buffered for sending over which `send()` waits (default 64 KiB). */
  highWaterMark?: number;
}

/** @internal what the side that made the connection knows about it. */
export interface ConnectionInfo {
  request: HandshakeRequest;
  remoteAddress: [string, number] | null;
}

let connectionCounter = 0;
const RESOLVED = Promise.resolve();
const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;

/** @internal sends a whole message without waiting, if the connection can take it now (broadcast). */
export const kSendNowait = Symbol("sendNowait");

function isIterableMessage(data: unknown): data is Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array> {
  return typeof data === "object" && data !== null && !(data instanceof Uint8Array) && (Symbol.asyncIterator in data || Symbol.iterator in data);
}

/**
 * An open WebSocket connection (websockets' `ClientConnection`/`ServerConnection`). Iterate it with
 * `for await` to receive until a normal close; `send()` text or bytes; `close(code, reason)`.
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { connect } from "aiots/ws";
 * await run(async () => {
 *   await using ws = await connect("ws://127.0.0.1:8000/echo");
 *   await ws.send("hello");
 *   console.log(await ws.recv());
 *   for await (const message of ws) console.log(message); // ends when the server closes with 1000
 * });
 * ```
 */
export class WebSocket implements AsyncIterable<Message>, AsyncDisposable {
  readonly #raw: RawWebSocket;
  readonly #loop: AbstractEventLoop;
  readonly #id = ++connectionCounter;
  readonly #side: "client" | "server";
  readonly #info: ConnectionInfo;
  readonly #maxQueue: number;
  readonly #highWaterMark: number;
  readonly #closeTimeout: number;
  readonly #pingInterval: number | null;
  readonly #pingTimeout: number | null;
  readonly #pings: PingTracker;
  // Messages received and not yet taken by recv(). Paused while length >= #maxQueue.
  readonly #queue: Message[] = [];
  #paused = false;
  // The one recv() or iteration step waiting for a message (invariant: the queue is empty while it
  // is pending); given the next message, or ended by the close. A cancelled one stays here, done.
  #recvWaiter: RecvWait<Message> | null = null;
  // Settled when the TCP connection is gone; then #closeCode is set.
  readonly #closed: Future<void>;
  #closeCode: number | null = null;
  #closeReason: string | null = null;
  // The close frame we sent (by close(), keepalive, or ws failing the connection), if any.
  #sentCode: number | null = null;
  #sentReason = "";
  // Why ws failed the connection (an invalid frame...), the cause of the ConnectionClosedError.
  #failure: Error | null = null;
  #closing = false; // a close frame was sent or received
  #pingTimer: TimerHandle | null = null;
  #pongTimer: TimerHandle | null = null;
  // A fragmented send in progress: other sends wait for it (invariant: null when none is).
  #fragmenting: Future<void> | null = null;
  // Bytes sent since the last time this connection went through the loop (see the module note).
  #unyielded = 0;
  // ws's Sender, when whole messages may be framed here (server side, no compression; frames.ts).
  readonly #directSender: Parameters<typeof senderIdle>[0] | null;

  /** @internal wraps an open `ws` socket; use `connect()`, `serve()` or `app.websocket()`. */
  constructor(raw: RawWebSocket, side: "client" | "server", options: ConnectionOptions = {}, loop?: AbstractEventLoop, info?: ConnectionInfo) {
    this.#raw = raw;
    this.#side = side;
    this.#loop = loop ?? getRunningLoop();
    this.#maxQueue = options.maxQueue ?? 16;
    this.#highWaterMark = options.highWaterMark ?? 64 * 1024;
    this.#closeTimeout = options.closeTimeout ?? 10;
    this.#pingInterval = options.pingInterval === undefined ? 20 : options.pingInterval;
    this.#pingTimeout = options.pingTimeout === undefined ? 20 : options.pingTimeout;
    this.#pings = new PingTracker(this.#loop);
    this.#closed = this.#loop.createFuture<void>();
    const socket = this.#socket();
    this.#info = info ?? {
      request: { path: "/", headers: {} },
      remoteAddress: socket?.remoteAddress === undefined ? null : [socket.remoteAddress, socket.remotePort ?? 0],
    };
    const sender = (raw as unknown as { _sender?: unknown })._sender;
    this.#directSender = side === "server" && this.extensions === "" && isKnownSender(sender) ? sender : null;
    raw.on("message", (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    raw.on("close", (code, reason) => this.#onClose(code, reason.toString("utf8")));
    raw.on("error", (error) => this.#onError(error));
    raw.on("pong", (data) => this.#onPong(data));
    if (raw.readyState > 1) this.#onClose(1006, "");
    else this.#schedulePing();
  }

  /** The subprotocol agreed in the handshake, or `""`. */
  get subprotocol(): string {
    return this.#raw.protocol;
  }

  /**
   * The negotiated extensions with their parameters, as a `Sec-WebSocket-Extensions` value
   * (`"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"`), or `""`.
   */
  get extensions(): string {
    const negotiated = (this.#raw as unknown as { _extensions: Record<string, { params?: Record<string, unknown> }> })._extensions ?? {};
    return Object.entries(negotiated)
      .map(([name, ext]) => [name, ...Object.entries(ext.params ?? {}).map(([k, v]) => (v === true ? k : `${k}=${String(v)}`))].join("; "))
      .join(", ");
  }

  /** `"open"`, `"closing"` or `"closed"`. */
  get state(): "open" | "closing" | "closed" {
    if (this.#closeCode !== null) return "closed";
    return this.#closing || this.#raw.readyState !== 1 ? "closing" : "open";
  }

  /**
   * Once closed: the code of the close frame received, else of the one sent (1002, 1007, 1009 when
   * the frames were bad), else 1006 (lost without a closing handshake). `null` while open.
   */
  get closeCode(): number | null {
    return this.#closeCode;
  }

  /** The reason that goes with `closeCode` once closed, else `null`. */
  get closeReason(): string | null {
    return this.#closeReason;
  }

  /** The handshake request: `path` (with the query string) and `headers`. */
  get request(): HandshakeRequest {
    return this.#info.request;
  }

  /** The peer's `[host, port]` (captured when the connection opened). */
  get remoteAddress(): [string, number] | null {
    return this.#info.remoteAddress;
  }

  /** Round trip of the last answered ping in seconds (keepalive or `ping()`); 0 before the first. */
  get latency(): number {
    return this.#pings.latency;
  }

  /** Bytes queued for sending and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#raw.bufferedAmount;
  }

  /** The `ws` socket underneath, for what aiots does not cover. */
  get raw(): RawWebSocket {
    return this.#raw;
  }

  /**
   * Receives the next message: a string for text, a Buffer for binary.
   * @throws {ConnectionClosedOK} after a normal close, {ConnectionClosedError} after any other;
   * {Error} when another `recv()` is already waiting; `CancelledError` (no message is lost).
   */
  recv(): Promise<Message> {
    // Not an async function: a recv() that waits returns its wait's own promise (see recv-wait.ts).
    if (this.#queue.length > 0) return spendFastPath() ? this.#afterTurn(false) : Promise.resolve(this.#take());
    if (this.#closeCode !== null) return Promise.reject(this.#closedError());
    return this.#wait(false) as Promise<Message>;
  }

  // The next iteration step, as recv() but with its IteratorResult built in (no async frame).
  #next(): Promise<IteratorResult<Message>> {
    if (this.#queue.length > 0) return spendFastPath() ? this.#afterTurn(true) : Promise.resolve({ value: this.#take(), done: false });
    if (this.#closeCode !== null) {
      const error = this.#closedError();
      return error instanceof ConnectionClosedOK ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(error);
    }
    return this.#wait(true) as Promise<IteratorResult<Message>>;
  }

  // The fast-path budget is spent: let libuv poll first. The message stays queued until then, so
  // a cancel while suspended here loses nothing.
  async #afterTurn(iterating: true): Promise<IteratorResult<Message>>;
  async #afterTurn(iterating: false): Promise<Message>;
  async #afterTurn(iterating: boolean): Promise<Message | IteratorResult<Message>> {
    await yieldToIo(this.#loop);
    return iterating ? this.#next() : this.recv();
  }

  #take(): Message {
    const message = this.#queue.shift()!;
    if (this.#queue.length < this.#maxQueue) this.#resumeReading();
    return message;
  }

  #wait(iterating: boolean): Promise<Message | IteratorResult<Message>> {
    const pending = this.#recvWaiter;
    if (pending !== null && !pending.done()) {
      return Promise.reject(new Error("another recv() is already waiting on this WebSocket: receive from one task at a time"));
    }
    const task = currentAwaitingTask();
    const wait = new RecvWait<Message>(task, iterating);
    // Suspend first: a cancel due now settles the wait at once (as sleep() does).
    task?.suspendOn(wait);
    this.#recvWaiter = wait.done() ? null : wait;
    return wait.promise;
  }

  /**
   * Sends a text (string) or binary (Uint8Array) message, or one fragmented message from an
   * iterable or async iterable of fragments (all strings or all bytes; an empty one sends nothing).
   * Waits while more than `highWaterMark` bytes are buffered, until this message has been flushed.
   * @throws {ConnectionClosed} when the connection is closing or closed (a peer that reset it
   * included); {TypeError} for other data or mixed fragments (the connection is then closed with
   * 1011, as when the iterable throws, since the message cannot be finished); `CancelledError`.
   */
  send(data: Sendable): Promise<void> {
    // The common case, a whole message with room in the buffer, is sent synchronously and costs
    // one already-resolved promise: no async frames in between (the echo benchmark's hot path).
    if (this.#fragmenting === null && (typeof data === "string" || data instanceof Uint8Array)) {
      const binary = typeof data !== "string";
      const size = binary ? data.byteLength : data.length;
      const socket = this.#writableSocket();
      if (socket !== null && this.#raw.bufferedAmount + size < this.#highWaterMark) {
        const sender = this.#directSender;
        if (sender !== null && senderIdle(sender)) writeFrame(socket, data, binary);
        else this.#raw.send(data, binary ? BINARY : TEXT);
        this.#unyielded += size;
        if (this.#unyielded < this.#highWaterMark) return RESOLVED;
        this.#unyielded = 0;
        return sleep(0);
      }
    }
    return this.#sendSlowly(data);
  }

  async #sendSlowly(data: Sendable): Promise<void> {
    while (this.#fragmenting !== null) await waitFuture(this.#fragmenting);
    if (typeof data === "string" || data instanceof Uint8Array) return this.#sendFrame(data, typeof data !== "string", true);
    if (isIterableMessage(data)) return this.#sendFragments(data);
    throw new TypeError(`send() takes a string (text), a Uint8Array (binary) or an iterable of fragments, not ${typeof data}`);
  }

  /**
   * Sends a ping and waits for its pong. Resolves to the round-trip time in seconds.
   * @throws {ConnectionClosed} when the connection closes first; {Error} when a ping with the same
   * payload is already waiting; {RangeError} for a payload over 125 bytes; `CancelledError`.
   */
  async ping(data?: string | Uint8Array): Promise<number> {
    if (this.state !== "open") throw this.#closedError();
    const pong = this.#loop.createFuture<number>();
    this.#raw.ping(this.#pings.add(data, pong));
    let rtt: number;
    try {
      rtt = await pong;
    } finally {
      if (!pong.done()) this.#pings.forget(pong);
    }
    if (rtt < 0) throw this.#closedError();
    return rtt;
  }

  /**
   * Sends an unsolicited pong (a unidirectional heartbeat, RFC 6455 §5.5.3).
   * @throws {ConnectionClosed} when the connection is not open; {RangeError} over 125 bytes.
   */
  pong(data: string | Uint8Array = Buffer.alloc(0)): Promise<void> {
    if (this.state !== "open") return Promise.reject(this.#closedError());
    const size = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    if (size > 125) return Promise.reject(new RangeError(`a pong payload is at most 125 bytes, got ${size}`));
    this.#raw.pong(data);
    return RESOLVED;
  }

  /**
   * Closes the connection with `code` (default 1000) and `reason`, and waits until it is closed
   * (at most `closeTimeout` seconds, then the TCP connection is dropped). Idempotent.
   * @throws {TypeError} for a code that may not be sent (use 1000, 1001, 1008, 1011 or 3000-4999)
   * or a reason over 123 bytes.
   */
  async close(code = 1000, reason = ""): Promise<void> {
    if (this.#closeCode === null && !this.#closing) {
      if (Buffer.byteLength(reason) > 123) throw new TypeError("a close reason is at most 123 bytes of UTF-8");
      try {
        this.#sendClose(code, reason);
      } catch (error) {
        throw new TypeError(`close code ${code} cannot be sent: use 1000, 1001, 1008, 1011 or 3000-4999`, { cause: error });
      }
    }
    await this.waitClosed();
  }

  /** Waits until the connection is closed (by either side), dropping it after `closeTimeout` once closing. */
  async waitClosed(): Promise<void> {
    if (this.#closeCode !== null) return;
    const timer = this.#closing ? this.#loop.callLater(this.#closeTimeout, () => this.#raw.terminate()) : null;
    try {
      await waitFuture(this.#closed);
    } finally {
      timer?.cancel();
    }
  }

  /** Receives messages until the connection closes: quietly after 1000/1001, with `ConnectionClosedError` otherwise. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    // A plain iterator object rather than an async generator: one promise per message, not three.
    return { next: () => this.#next() };
  }

  /** `await using ws = await connect(url)` closes with 1000 at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * @internal queues a whole message at once; false when the connection is not open, its socket is
   * gone, a fragmented message is in progress, or more than `limit` bytes are already buffered.
   */
  [kSendNowait](data: string | Uint8Array, binary: boolean, limit: number): boolean {
    if (this.#fragmenting !== null || this.state !== "open" || this.#raw.bufferedAmount > limit) return false;
    const socket = this.#socket();
    if (socket !== null && (socket.destroyed || !socket.writable)) return false;
    this.#raw.send(data, { binary });
    return true;
  }

  /** Drops the TCP connection at once, without a close handshake (code 1006). */
  abort(): void {
    this.#raw.terminate();
  }

  toString(): string {
    const closed = this.#closeCode === null ? "" : ` code=${this.#closeCode}`;
    const proto = this.subprotocol === "" ? "" : ` subprotocol=${this.subprotocol}`;
    const deflate = this.extensions.includes("permessage-deflate") ? " deflate" : "";
    return `<WebSocket #${this.#id} ${this.#side} ${this.state}${closed}${proto}${deflate} path=${this.request.path} queued=${this.#queue.length}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  // ws keeps its socket on a field it does not document; it has been there since ws 1.
  #socket(): Socket | null {
    return (this.#raw as unknown as { _socket: Socket | null })._socket ?? null;
  }

  #closedError(): ConnectionClosed {
    const code = this.#closeCode ?? this.#sentCode ?? 1006;
    const reason = this.#closeReason ?? (this.#closeCode === null && this.#sentCode !== null ? this.#sentReason : "");
    return closedError(code, reason, this.#failure ?? undefined);
  }

  #sendClose(code: number, reason: string): void {
    // A paused socket would never read the peer's close frame (or its EOF).
    this.#resumeReading();
    this.#raw.close(code, reason);
    this.#closing = true;
    this.#sentCode ??= code;
    if (this.#sentCode === code) this.#sentReason = reason;
  }

  // The socket when frames can go out now; null when closing, closed, or the socket is dead (reset
  // by the peer: Node marks it errored at the failed write, before ws reports the close).
  #writableSocket(): Socket | null {
    if (this.#closing || this.#closeCode !== null || this.#raw.readyState !== 1) return null;
    const socket = this.#socket();
    return socket !== null && !socket.destroyed && socket.writable ? socket : null;
  }

  #checkWritable(): void {
    if (this.#writableSocket() === null) throw this.#closedError();
  }

  async #sendFrame(data: string | Uint8Array, binary: boolean, fin: boolean): Promise<void> {
    this.#checkWritable();
    const size = typeof data === "string" ? data.length : data.byteLength;
    if (this.#raw.bufferedAmount + size < this.#highWaterMark) {
      this.#raw.send(data, { binary, fin });
      this.#unyielded += size;
      if (this.#unyielded >= this.#highWaterMark) {
        this.#unyielded = 0;
        await sleep(0);
      }
      return;
    }
    this.#unyielded = 0;
    const flushed = this.#loop.createFuture<void>();
    const onFlushed = (): void => {
      if (!flushed.done()) flushed.setResult(undefined);
    };
    this.#raw.send(data, { binary, fin }, onFlushed);
    this.#closed.addDoneCallback(onFlushed);
    try {
      await waitFuture(flushed);
    } finally {
      this.#closed.removeDoneCallback(onFlushed);
    }
    if (this.#closeCode !== null) throw this.#closedError();
    this.#checkWritable();
  }

  async #sendFragments(fragments: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>): Promise<void> {
    const done = this.#loop.createFuture<void>();
    this.#fragmenting = done;
    let binary: boolean | null = null;
    try {
      for await (const fragment of fragments as AsyncIterable<string | Uint8Array>) {
        const isBinary = typeof fragment !== "string";
        if (isBinary && !(fragment instanceof Uint8Array)) {
          throw new TypeError(`the fragments of a message are strings or Uint8Arrays, not ${typeof fragment}`);
        }
        if (binary !== null && binary !== isBinary) {
          throw new TypeError("the fragments of one message are all strings (text) or all Uint8Arrays (binary), not a mix");
        }
        binary = isBinary;
        await this.#sendFrame(fragment, isBinary, false);
      }
      if (binary !== null) await this.#sendFrame(binary ? Buffer.alloc(0) : "", binary, true);
    } catch (error) {
      // A message started and never finished leaves the peer waiting for its end: close with 1011.
      if (binary !== null && this.state === "open") this.#sendClose(1011, "error in a fragmented message");
      throw error;
    } finally {
      this.#fragmenting = null;
      done.setResult(undefined);
    }
  }

  #resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#raw.resume();
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#unyielded = 0;
    const message = isBinary ? data : data.toString("utf8");
    const waiter = this.#recvWaiter;
    if (waiter !== null) {
      this.#recvWaiter = null;
      // A cancelled wait is done: the message is queued for the next recv() instead.
      if (!waiter.done()) {
        waiter.settle(message);
        return;
      }
    }
    this.#queue.push(message);
    if (!this.#paused && !this.#closing && this.#queue.length >= this.#maxQueue) {
      this.#paused = true;
      this.#raw.pause();
    }
  }

  // ws failed the connection (bad frame, bad UTF-8, too big...) and has sent a close frame.
  #onError(error: Error): void {
    this.#failure ??= error;
    const code = statusCodeOf(error);
    if (code !== null && this.#sentCode === null) {
      this.#sentCode = code;
      this.#sentReason = "";
    }
    this.#closing = true;
  }

  #onClose(code: number, reason: string): void {
    if (this.#closeCode !== null) return;
    // ws reports 1006 when no close frame was received.
    if (code === 1006 && this.#sentCode !== null) {
      this.#closeCode = this.#sentCode;
      this.#closeReason = this.#sentReason;
    } else {
      this.#closeCode = code;
      this.#closeReason = reason;
    }
    this.#closing = true;
    this.#pingTimer?.cancel();
    this.#pongTimer?.cancel();
    this.#pingTimer = this.#pongTimer = null;
    this.#pings.abandon();
    if (!this.#closed.done()) this.#closed.setResult(undefined);
    this.#endReceiver();
  }

  // The connection closed: a pending receive (the queue is empty then) ends.
  #endReceiver(): void {
    const waiter = this.#recvWaiter;
    if (waiter === null) return;
    this.#recvWaiter = null;
    const error = this.#closedError();
    if (waiter.iterating && error instanceof ConnectionClosedOK) waiter.finish();
    else waiter.fail(error);
  }

  #schedulePing(): void {
    const interval = this.#pingInterval;
    if (interval === null) return;
    this.#pingTimer = this.#loop.callLater(interval, () => {
      this.#pingTimer = null;
      if (this.state !== "open") return;
      this.#raw.ping(this.#pings.add(undefined, null));
      const timeout = this.#pingTimeout;
      if (timeout !== null && this.#pongTimer === null) {
        this.#pongTimer = this.#loop.callLater(timeout, () => this.#keepaliveTimedOut());
      }
      this.#schedulePing();
    });
  }

  #onPong(data: Buffer): void {
    if (!this.#pings.pong(data)) return;
    this.#pongTimer?.cancel();
    this.#pongTimer = null;
    // Pings still unanswered keep their own deadline.
    const oldest = this.#pings.oldest();
    const timeout = this.#pingTimeout;
    if (oldest !== null && timeout !== null) {
      this.#pongTimer = this.#loop.callAt(oldest + timeout, () => this.#keepaliveTimedOut());
    }
  }

  #keepaliveTimedOut(): void {
    this.#pongTimer = null;
    if (this.#closeCode !== null || this.#closing) return;
    this.#sendClose(1011, "keepalive ping timeout");
    // The peer is unresponsive: do not wait long for its close frame.
    this.#loop.callLater(Math.min(this.#closeTimeout, 1), () => this.#raw.terminate());
  }
}
