/**
 * `SocketTransport`: the `Transport` over a Node `net.Socket` (TCP, Unix socket) or `tls.TLSSocket`.
 *
 * How it works: Node's socket does the I/O; this class turns its events into protocol calls in
 * asyncio's order. `data` → `dataReceived` (or `getBuffer`/`bufferUpdated` for a `BufferedProtocol`),
 * `end` → `eofReceived` (closing unless it returns true), `error` is remembered and `close` →
 * `connectionLost(error | null)`, exactly once. Sockets are opened with `allowHalfOpen` so that EOF
 * handling is ours. The write buffer is the socket's own (`writableLength`); `WriteFlow` turns its
 * size into `pauseWriting`/`resumeWriting`. A write that fails at once (the peer reset: EPIPE,
 * ECONNRESET) is seen in `write()` from the socket's state, and the connection is lost from there
 * (`connectionLost` is scheduled on the loop), because Node's own events for it come on a later tick.
 * @module
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import {
  type AbstractEventLoop,
  type Future,
  type BaseProtocol,
  type Protocol,
  type StreamProtocol,
  isBufferedProtocol,
  type Server,
  Transport,
  type ExtraInfo,
  type ExtraInfoName,
  type SocketAddress,
  resourceClosed,
  resourceOpened,
  outsideTasks,
} from "../core/index.ts";
import { WriteFlow, checkBytes, connectionLostError, kPeerGone } from "./internal/write-flow.ts";

/** Options of the (internal) `SocketTransport` constructor. */
export interface SocketTransportOptions {
  /** Extra info that the socket cannot tell (a Unix path, the TLS context). */
  extra?: Partial<ExtraInfo>;
  /** The server that accepted this connection; it is told when the connection goes. */
  server?: Server | null;
  /** Call `protocol.connectionMade(this)` now (default true; `startTls` keeps the protocol's state). */
  callConnectionMade?: boolean;
  /** The socket is TLS: EOF always closes, no half-close. */
  tls?: boolean;
}

const EMPTY = Buffer.alloc(0);

function addressOf(host: string | undefined, port: number | undefined): SocketAddress | undefined {
  if (host === undefined) return undefined;
  return [host, port ?? 0];
}

/**
 * The stream transport aiots creates for TCP, Unix and TLS connections (see `Transport`).
 * @example
 * ```ts
 * import { run, getRunningLoop, Protocol } from "aiots";
 * await run(async () => {
 *   const [transport] = await getRunningLoop().createConnection(() => new Protocol(), "127.0.0.1", 8888);
 *   transport.write(Buffer.from("hi"));
 *   transport.close();
 * });
 * ```
 */
export class SocketTransport extends Transport {
  readonly #loop: AbstractEventLoop;
  readonly #socket: Socket;
  #protocol: StreamProtocol;
  #buffered: boolean;
  readonly #server: Server | null;
  readonly #extra: Partial<ExtraInfo>;
  readonly #tls: boolean;
  readonly #flow: WriteFlow;
  // close() or abort() was called, or the connection was lost. No data is delivered after this.
  #closing = false;
  // connectionLost was called (the socket emitted 'close'). Implies #closing.
  #lost = false;
  // writeEof() was called: writes are an error from now on.
  #eofWritten = false;
  #reading = true;
  // The error the socket reported, given to connectionLost.
  #error: Error | null = null;
  // Futures waiting for the connection to be lost (waitClosed, startTls detaching).
  #lostWaiters: Future<void>[] | null = null;
  #detached = false;
  // A write failed because the peer is gone; #error says why. Implies #closing.
  #peerGone = false;

  constructor(loop: AbstractEventLoop, socket: Socket, protocol: StreamProtocol, options: SocketTransportOptions = {}) {
    super();
    this.#loop = loop;
    this.#socket = socket;
    this.#protocol = protocol;
    this.#buffered = isBufferedProtocol(protocol);
    this.#server = options.server ?? null;
    this.#extra = options.extra ?? {};
    this.#tls = options.tls ?? false;
    this.#flow = new WriteFlow(loop, this, protocol);
    if (typeof socket.setNoDelay === "function" && socket.remotePort !== undefined) socket.setNoDelay(true);
    // The running loop keeps the process alive; a connection left open after run() must not.
    socket.unref();
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
    this.#server?.attach(this);
    resourceOpened(this, this.#tls ? "TLS transport" : "socket transport", loop, { connection: true });
    if (options.callConnectionMade ?? true) {
      try {
        outsideTasks(() => protocol.connectionMade(this));
      } catch (exception) {
        this.#fatal(exception, "protocol.connectionMade() failed");
      }
    }
    if (socket.destroyed) queueMicrotask(this.#onClose);
    // A protocol that called pauseReading() in connectionMade() gets nothing until resumeReading().
    else if (!this.#reading) socket.pause();
    else if (socket.isPaused()) socket.resume();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#closing) return;
    try {
      if (this.#buffered) this.#feedBuffered(chunk);
      else (this.#protocol as Protocol).dataReceived(chunk);
    } catch (exception) {
      this.#fatal(exception, this.#buffered ? "protocol.bufferUpdated() failed" : "protocol.dataReceived() failed");
    }
  };

  #feedBuffered(chunk: Buffer): void {
    const protocol = this.#protocol as { getBuffer(n: number): Uint8Array; bufferUpdated(n: number): void };
    let offset = 0;
    while (offset < chunk.length && !this.#closing) {
      const target = protocol.getBuffer(chunk.length - offset);
      if (!(target instanceof Uint8Array) || target.length === 0) {
        throw new TypeError("getBuffer() must return a non-empty Buffer or Uint8Array");
      }
      const n = chunk.copy(target, 0, offset, offset + Math.min(target.length, chunk.length - offset));
      offset += n;
      protocol.bufferUpdated(n);
    }
  }

  readonly #onEnd = (): void => {
    if (this.#closing) return;
    let keepOpen: unknown;
    try {
      keepOpen = this.#protocol.eofReceived();
    } catch (exception) {
      this.#fatal(exception, "protocol.eofReceived() failed");
      return;
    }
    if (this.#tls || keepOpen !== true) this.close();
  };

  readonly #onError = (error: Error): void => {
    this.#error ??= error;
  };

  readonly #onClose = (): void => {
    if (this.#lost || this.#detached) return;
    // An error emitted before this transport listened is kept by the stream.
    this.#error ??= this.#socket.errored ?? null;
    this.#lost = true;
    this.#closing = true;
    this.#server?.detach(this);
    resourceClosed(this, { connection: true, kind: this.#tls ? "TLS transport" : "socket transport" });
    try {
      this.#protocol.connectionLost(this.#error);
    } catch (exception) {
      this.#loop.callExceptionHandler({ message: "protocol.connectionLost() failed", exception, transport: this, protocol: this.#protocol });
    }
    const waiters = this.#lostWaiters;
    this.#lostWaiters = null;
    if (waiters !== null) for (const w of waiters) if (!w.done()) w.setResult(undefined);
  };

  // An error in a protocol callback: report it and drop the connection with that error.
  #fatal(exception: unknown, message: string): void {
    this.#loop.callExceptionHandler({ message: `Fatal error on transport: ${message}`, exception, transport: this, protocol: this.#protocol });
    if (this.#lost) return;
    this.#error ??= exception instanceof Error ? exception : new Error(String(exception));
    this.#closing = true;
    this.#socket.destroy();
  }

  getExtraInfo<K extends ExtraInfoName>(name: K): ExtraInfo[K] | undefined;
  getExtraInfo<K extends ExtraInfoName, D>(name: K, defaultValue: D): ExtraInfo[K] | D;
  getExtraInfo(name: ExtraInfoName, defaultValue?: unknown): unknown {
    return this.#extraInfo(name) ?? defaultValue;
  }

  #extraInfo(name: ExtraInfoName): unknown {
    if (this.#extra[name] !== undefined) return this.#extra[name];
    const socket = this.#socket;
    const tlsSocket = this.#tls ? (socket as TLSSocket) : null;
    switch (name) {
      case "socket":
        return socket;
      case "peername":
        return addressOf(socket.remoteAddress, socket.remotePort);
      case "sockname":
        return addressOf(socket.localAddress, socket.localPort);
      case "peercert": {
        if (tlsSocket === null) return undefined;
        const cert = tlsSocket.getPeerCertificate();
        return cert === null || Object.keys(cert).length === 0 ? null : cert;
      }
      case "cipher":
        return tlsSocket?.getCipher() ?? undefined;
      case "tlsVersion":
        return tlsSocket?.getProtocol() ?? undefined;
      default:
        return undefined;
    }
  }

  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as StreamProtocol;
    this.#buffered = isBufferedProtocol(protocol);
    this.#flow.protocol = protocol;
  }

  getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  isClosing(): boolean {
    return this.#closing;
  }

  isReading(): boolean {
    return this.#reading && !this.#closing;
  }

  pauseReading(): void {
    if (this.#closing || !this.#reading) return;
    this.#reading = false;
    this.#socket.pause();
  }

  resumeReading(): void {
    if (this.#closing || this.#reading) return;
    this.#reading = true;
    this.#socket.resume();
  }

  /**
   * Queues `data`. Writes after `close()` or after the connection was lost are dropped (asyncio);
   * `StreamWriter.drain()` then reports the lost connection.
   * @throws {TypeError} when `data` is not bytes.
   * @throws {Error} after `writeEof()`.
   */
  write(data: Uint8Array): void {
    checkBytes("transport.write()", data);
    if (this.#eofWritten) throw new Error("Cannot call write() after writeEof()");
    if (data.length === 0 || this.#closing) return;
    const socket = this.#socket;
    if (socket.errored !== null) {
      this.#lostOnWrite();
      return;
    }
    const flow = this.#flow;
    if (flow.wantsCallback(socket.writableLength + data.length)) socket.write(data, this.#onFlushed);
    else socket.write(data);
    // Node sets `errored` at once when the write fails in the kernel, and tells only on a later tick.
    if (socket.errored !== null) this.#lostOnWrite();
    else if (!flow.paused && socket.writableLength > flow.high) flow.check(socket.writableLength);
  }

  // The peer is gone (a write failed): close now, and lose the connection on the loop, as asyncio's
  // _fatal_error does, without waiting for the socket's 'close' event.
  #lostOnWrite(): void {
    if (this.#lost || this.#peerGone) return;
    this.#peerGone = true;
    this.#error ??= this.#socket.errored ?? connectionLostError();
    this.#closing = true;
    this.#reading = false;
    this.#socket.destroy();
    this.#loop.callSoon(this.#onClose);
  }

  /** The error that showed the peer is gone, once a write met it (for `StreamWriter.drain()`). */
  [kPeerGone](): Error | null {
    if (!this.#peerGone && !this.#closing && this.#socket.errored !== null) this.#lostOnWrite();
    return this.#peerGone ? this.#error : null;
  }

  readonly #onFlushed = (): void => {
    if (this.#flow.paused && !this.#lost) this.#flow.check(this.#socket.writableLength);
  };

  /**
   * Sends EOF after the buffered data (half-close); reading continues.
   * @throws {Error} on TLS connections, which cannot half-close.
   */
  writeEof(): void {
    if (this.#tls) throw new Error("TLS connections cannot half-close (canWriteEof() is false): use close()");
    if (this.#closing || this.#eofWritten) return;
    this.#eofWritten = true;
    this.#socket.end();
  }

  canWriteEof(): boolean {
    return !this.#tls;
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    resourceClosed(this);
    this.#reading = false;
    const socket = this.#socket;
    // Flush what is buffered, then close both directions (asyncio closes the socket, not only its write side).
    if (socket.writableFinished || this.#eofWritten) {
      if (socket.writableLength === 0) socket.destroy();
      else socket.once("finish", () => socket.destroy());
    } else {
      socket.end(() => socket.destroy());
    }
  }

  abort(): void {
    if (this.#lost) return;
    this.#closing = true;
    this.#socket.destroy();
    resourceClosed(this);
  }

  getWriteBufferSize(): number {
    return this.#socket.writableLength;
  }

  setWriteBufferLimits(high?: number | null, low?: number | null): void {
    const wasPaused = this.#flow.paused;
    this.#flow.setLimits(high, low, this.#socket.writableLength);
    // Paused by the new limits: the writes in flight may carry no callback, so queue an empty
    // write whose callback runs once they are done, to see the buffer drain.
    if (this.#flow.paused && !wasPaused && !this.#closing) this.#socket.write(EMPTY, this.#onFlushed);
  }

  getWriteBufferLimits(): [number, number] {
    return [this.#flow.low, this.#flow.high];
  }

  /** Resolves once `connectionLost` has been called (for `StreamWriter.waitClosed` and `startTls`). */
  async waitLost(): Promise<void> {
    if (this.#lost) return;
    const waiter = this.#loop.createFuture<void>();
    (this.#lostWaiters ??= []).push(waiter);
    await waiter;
  }

  /**
   * Stops this transport from touching the socket and returns it (for `startTls`, which wraps the
   * socket in TLS and builds a new transport for the same protocol).
   * @throws {Error} when the transport is closing.
   */
  detachSocket(): Socket {
    if (this.#closing) throw new Error(`${this.toString()} is closing: cannot upgrade it to TLS`);
    this.#detached = true;
    resourceClosed(this, { connection: true, kind: this.#tls ? "TLS transport" : "socket transport" });
    this.#closing = true;
    const socket = this.#socket;
    socket.off("data", this.#onData);
    socket.off("end", this.#onEnd);
    socket.off("error", this.#onError);
    socket.off("close", this.#onClose);
    socket.pause();
    this.#server?.detach(this);
    return socket;
  }

  /** True when this transport runs TLS. */
  get isTls(): boolean {
    return this.#tls;
  }

  get loop(): AbstractEventLoop {
    return this.#loop;
  }

  /** The server that accepted this connection, if any. */
  get server(): Server | null {
    return this.#server;
  }

  /** The error to raise for an operation on a lost connection (`ConnectionResetError`, or `BrokenPipeError` for EPIPE). */
  static connectionLostError(cause: Error | null = null): Error {
    return connectionLostError(cause);
  }

  override toString(): string {
    const state = this.#lost ? "closed" : this.#closing ? "closing" : this.#reading ? "open" : "open paused";
    const peer = this.#extraInfo("peername");
    const where = peer === undefined ? "" : ` peer=${JSON.stringify(peer)}`;
    return `<SocketTransport${this.#tls ? " tls" : ""} ${state}${where} buffered=${this.#socket.writableLength}>`;
  }
}
