/**
 * `WebSocket`: one WebSocket connection with websockets' asyncio API, on top of the `ws` library.
 *
 * How it works:
 * - Receiving: `ws` parses frames and emits whole messages; they go into a small queue. `recv()`
 *   takes from the queue or waits on an aiots Future that the next message (or the close) wakes.
 *   A message is taken from the queue only by a `recv()` that is still running, so a cancelled
 *   `recv()` loses nothing. When the queue holds `maxQueue` messages the socket is paused, so a slow
 *   reader pushes back on the peer through TCP instead of growing memory.
 * - Sending: `send()` writes at once; when that takes the socket's buffered amount over
 *   `highWaterMark`, it waits (on a Future) until the message has been flushed to the kernel, so at
 *   most `highWaterMark` plus one message is ever buffered.
 * - The wrapper is attached synchronously when the socket opens: frames that arrive in the same
 *   TCP read as the handshake are not missed.
 * - Closing: `close()` starts the handshake and waits for it, up to `closeTimeout`, then drops the
 *   TCP connection. A close frame from the peer is answered with the same code by `ws`.
 * - Keepalive: a ping every `pingInterval` seconds; no pong within `pingTimeout` closes with 1011.
 * @module
 */
import type { WebSocket as RawWebSocket } from "ws";
import { getRunningLoop, type AbstractEventLoop, type TimerHandle, type Future, waitFuture, inspectSymbol } from "../core/index.ts";
import { closedError, ConnectionClosedOK, type ConnectionClosed } from "./errors.ts";

/** A message: text arrives as a string, binary as a Buffer. */
export type Message = string | Buffer;

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

let connectionCounter = 0;

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
  readonly #maxQueue: number;
  readonly #highWaterMark: number;
  readonly #closeTimeout: number;
  readonly #pingInterval: number | null;
  readonly #pingTimeout: number | null;
  // Messages received and not yet taken by recv(). Paused while length >= #maxQueue.
  readonly #queue: Message[] = [];
  #paused = false;
  // The one recv() waiting for a message, woken (never given the message) by the next event.
  #recvWaiter: Future<void> | null = null;
  // Settled when the TCP connection is gone; then #closeCode is set.
  readonly #closed: Future<void>;
  #closeCode: number | null = null;
  #closeReason: string | null = null;
  #closing = false; // a close frame was sent or received
  #pingTimer: TimerHandle | null = null;
  #pongTimer: TimerHandle | null = null;
  // A code to report instead of 1006 when we failed the connection ourselves (keepalive timeout).
  #failCode: number | null = null;

  /** @internal wraps an open `ws` socket; use `connect()` or `app.websocket()`. */
  constructor(raw: RawWebSocket, side: "client" | "server", options: ConnectionOptions = {}, loop?: AbstractEventLoop) {
    this.#raw = raw;
    this.#side = side;
    this.#loop = loop ?? getRunningLoop();
    this.#maxQueue = options.maxQueue ?? 16;
    this.#highWaterMark = options.highWaterMark ?? 64 * 1024;
    this.#closeTimeout = options.closeTimeout ?? 10;
    this.#pingInterval = options.pingInterval === undefined ? 20 : options.pingInterval;
    this.#pingTimeout = options.pingTimeout === undefined ? 20 : options.pingTimeout;
    this.#closed = this.#loop.createFuture<void>();
    raw.on("message", (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    raw.on("close", (code, reason) => this.#onClose(code, reason.toString("utf8")));
    // Protocol errors are followed by a close (with 1002, 1007, 1009...): nothing to rethrow here.
    raw.on("error", () => {});
    raw.on("pong", () => this.#onPong());
    if (raw.readyState > 1) this.#onClose(1006, "");
    else this.#schedulePing();
  }

  /** The subprotocol agreed in the handshake, or `""`. */
  get subprotocol(): string {
    return this.#raw.protocol;
  }

  /** `"open"`, `"closing"` or `"closed"`. */
  get state(): "open" | "closing" | "closed" {
    if (this.#closeCode !== null) return "closed";
    return this.#closing || this.#raw.readyState !== 1 ? "closing" : "open";
  }

  /** The close code once the connection is closed (1006 when it was lost without a handshake), else `null`. */
  get closeCode(): number | null {
    return this.#closeCode;
  }

  /** The close reason once closed, else `null`. */
  get closeReason(): string | null {
    return this.#closeReason;
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
  async recv(): Promise<Message> {
    for (;;) {
      const message = this.#queue.shift();
      if (message !== undefined) {
        if (this.#queue.length < this.#maxQueue) this.#resumeReading();
        return message;
      }
      if (this.#closeCode !== null) throw this.#closedError();
      if (this.#recvWaiter !== null) {
        throw new Error("another recv() is already waiting on this WebSocket: receive from one task at a time");
      }
      const waiter = this.#loop.createFuture<void>();
      this.#recvWaiter = waiter;
      try {
        await waiter;
      } finally {
        this.#recvWaiter = null;
      }
    }
  }

  /**
   * Sends a text (string) or binary (Uint8Array) message. Waits while more than `highWaterMark`
   * bytes are buffered, until this message has been flushed.
   * @throws {ConnectionClosed} when the connection is closing or closed; {TypeError} for other data;
   * `CancelledError` (the message was already queued and will still be sent).
   */
  async send(data: string | Uint8Array): Promise<void> {
    const binary = typeof data !== "string";
    if (binary && !(data instanceof Uint8Array)) {
      throw new TypeError(`send() takes a string (text) or a Uint8Array (binary), not ${typeof data}`);
    }
    if (this.#closing || this.#closeCode !== null || this.#raw.readyState !== 1) throw this.#closedError();
    const size = typeof data === "string" ? data.length : data.byteLength;
    if (this.#raw.bufferedAmount + size < this.#highWaterMark) {
      this.#raw.send(data, { binary });
      return;
    }
    const flushed = this.#loop.createFuture<void>();
    this.#raw.send(data, { binary }, () => {
      if (!flushed.done()) flushed.setResult(undefined);
    });
    const onClose = (): void => {
      if (!flushed.done()) flushed.setResult(undefined);
    };
    this.#closed.addDoneCallback(onClose);
    try {
      await waitFuture(flushed);
    } finally {
      this.#closed.removeDoneCallback(onClose);
    }
    if (this.#closeCode !== null) throw this.#closedError();
  }

  /**
   * Sends a ping and waits for its pong. Resolves to the round-trip time in seconds.
   * @throws {ConnectionClosed} when the connection closes first; `CancelledError`.
   */
  async ping(data?: string | Uint8Array): Promise<number> {
    if (this.state !== "open") throw this.#closedError();
    const started = this.#loop.time();
    const pong = this.#loop.createFuture<void>();
    const onPong = (): void => {
      if (!pong.done()) pong.setResult(undefined);
    };
    const onClose = onPong;
    this.#raw.once("pong", onPong);
    this.#closed.addDoneCallback(onClose);
    this.#raw.ping(data);
    try {
      await pong;
    } finally {
      this.#raw.off("pong", onPong);
      this.#closed.removeDoneCallback(onClose);
    }
    if (this.#closeCode !== null) throw this.#closedError();
    return this.#loop.time() - started;
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
      this.#closing = true;
      // A paused socket would never read the peer's close frame (or its EOF).
      this.#resumeReading();
      try {
        this.#raw.close(code, reason);
      } catch (error) {
        this.#closing = false;
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
    const next = async (): Promise<IteratorResult<Message>> => {
      try {
        return { value: await this.recv(), done: false };
      } catch (error) {
        if (error instanceof ConnectionClosedOK) return { value: undefined, done: true };
        throw error;
      }
    };
    return { next };
  }

  /** `await using ws = await connect(url)` closes with 1000 at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Drops the TCP connection at once, without a close handshake (code 1006). */
  abort(): void {
    this.#raw.terminate();
  }

  toString(): string {
    const closed = this.#closeCode === null ? "" : ` code=${this.#closeCode}`;
    const proto = this.subprotocol === "" ? "" : ` subprotocol=${this.subprotocol}`;
    return `<WebSocket #${this.#id} ${this.#side} ${this.state}${closed}${proto} queued=${this.#queue.length}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #closedError(): ConnectionClosed {
    return closedError(this.#closeCode ?? 1006, this.#closeReason ?? "");
  }

  #resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#raw.resume();
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#queue.push(isBinary ? data : data.toString("utf8"));
    if (!this.#paused && !this.#closing && this.#queue.length >= this.#maxQueue) {
      this.#paused = true;
      this.#raw.pause();
    }
    this.#wakeReceiver();
  }

  #onClose(code: number, reason: string): void {
    if (this.#closeCode !== null) return;
    this.#closeCode = code === 1006 && this.#failCode !== null ? this.#failCode : code;
    this.#closeReason = reason;
    this.#closing = true;
    this.#pingTimer?.cancel();
    this.#pongTimer?.cancel();
    this.#pingTimer = this.#pongTimer = null;
    if (!this.#closed.done()) this.#closed.setResult(undefined);
    this.#wakeReceiver();
  }

  #wakeReceiver(): void {
    const waiter = this.#recvWaiter;
    if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
  }

  #schedulePing(): void {
    const interval = this.#pingInterval;
    if (interval === null) return;
    this.#pingTimer = this.#loop.callLater(interval, () => {
      this.#pingTimer = null;
      if (this.state !== "open") return;
      this.#raw.ping();
      const timeout = this.#pingTimeout;
      if (timeout !== null && this.#pongTimer === null) {
        this.#pongTimer = this.#loop.callLater(timeout, () => this.#keepaliveTimedOut());
      }
      this.#schedulePing();
    });
  }

  #onPong(): void {
    this.#pongTimer?.cancel();
    this.#pongTimer = null;
  }

  #keepaliveTimedOut(): void {
    this.#pongTimer = null;
    if (this.#closeCode !== null) return;
    this.#failCode = 1011;
    this.#closing = true;
    this.#raw.close(1011, "keepalive ping timeout");
    // The peer is unresponsive: do not wait long for its close frame.
    this.#loop.callLater(Math.min(this.#closeTimeout, 1), () => this.#raw.terminate());
  }
}
