/**
 * Pipes: `loop.connectReadPipe` and `loop.connectWritePipe` over Node streams (a child's stdio, the
 * process's stdin/stdout, a `net.Socket` on a pipe fd) or a raw file descriptor number.
 *
 * How it works: as `SocketTransport`, Node's stream does the I/O and its events become protocol
 * calls. A read pipe's EOF calls `eofReceived()` and then closes (a pipe has no write side to keep
 * open); a write pipe reports a vanished reader (EPIPE) through `connectionLost(exc)`. As with
 * sockets, a write that fails at once is seen in `write()` from the stream's state (Node reports it
 * only on a later tick), and the pipe is lost from there.
 * @module
 */
import { Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import {
  type AbstractEventLoop,
  type BaseProtocol,
  type Protocol,
  ReadTransport,
  WriteTransport,
  type ExtraInfo,
  type ExtraInfoName,
  outsideTasks,
} from "../core/index.ts";
import { WriteFlow, checkBytes, kPeerGone } from "./internal/write-flow.ts";

/** What the pipe functions accept: a Node stream or a file descriptor. */
export type PipeLike<S> = S | number;

function toStream<S extends Readable | Writable>(pipe: PipeLike<S>, readable: boolean): S {
  if (typeof pipe === "number") {
    if (!Number.isInteger(pipe) || pipe < 0) throw new TypeError(`a pipe file descriptor must be an integer >= 0, got ${pipe}`);
    return new Socket({ fd: pipe, readable, writable: !readable }) as unknown as S;
  }
  const ok = readable ? typeof (pipe as Readable).on === "function" && typeof (pipe as Readable).pause === "function" : typeof (pipe as Writable).write === "function";
  if (!ok) throw new TypeError(`connect${readable ? "Read" : "Write"}Pipe() takes a ${readable ? "Readable" : "Writable"} stream or a file descriptor`);
  return pipe;
}

// A Writable that is not a Node stream (only `write()`) has no `errored`: it never fails this way.
function failed(stream: Writable): boolean {
  return (stream.errored ?? null) !== null;
}

function report(loop: AbstractEventLoop, transport: object, protocol: BaseProtocol, name: string, exception: unknown): void {
  loop.callExceptionHandler({ message: `protocol.${name}() failed`, exception, transport, protocol });
}

/**
 * The read end of a pipe (see `ReadTransport`).
 * @example
 * ```ts
 * import { run, getRunningLoop, Protocol } from "aiots";
 * await run(async () => {
 *   const [t] = await getRunningLoop().connectReadPipe(() => new Protocol(), process.stdin);
 *   t.close();
 * });
 * ```
 */
export class ReadPipeTransport extends ReadTransport {
  readonly #loop: AbstractEventLoop;
  readonly #stream: Readable;
  #protocol: Protocol;
  #closing = false;
  #lost = false;
  #reading = true;
  #error: Error | null = null;

  constructor(loop: AbstractEventLoop, stream: Readable, protocol: Protocol) {
    super();
    this.#loop = loop;
    this.#stream = stream;
    this.#protocol = protocol;
    stream.on("data", this.#onData);
    stream.on("end", this.#onEnd);
    stream.on("error", this.#onError);
    stream.on("close", this.#onClose);
    stream.on("resume", this.#onResume);
    this.#call("connectionMade", () => protocol.connectionMade(this as never));
  }

  // Node resumes a child's output streams when the child exits (to drain unread ones), and a
  // stream resumes on the tick after its first 'data' listener: neither may override pauseReading().
  // 'resume' is emitted before the stream flows, so pausing here holds the data back.
  readonly #onResume = (): void => {
    if (!this.#reading && !this.#closing) this.#stream.pause();
  };

  #call(name: string, fn: () => void): void {
    try {
      outsideTasks(fn);
    } catch (exception) {
      report(this.#loop, this, this.#protocol, name, exception);
    }
  }

  readonly #onData = (chunk: Buffer | string): void => {
    if (this.#closing) return;
    this.#call("dataReceived", () => this.#protocol.dataReceived(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
  };

  readonly #onEnd = (): void => {
    if (this.#closing) return;
    this.#call("eofReceived", () => void this.#protocol.eofReceived());
    this.close();
  };

  readonly #onError = (error: Error): void => {
    this.#error ??= error;
  };

  readonly #onClose = (): void => {
    if (this.#lost) return;
    this.#lost = true;
    this.#closing = true;
    this.#call("connectionLost", () => this.#protocol.connectionLost(this.#error));
  };

  getExtraInfo<K extends ExtraInfoName>(name: K): ExtraInfo[K] | undefined;
  getExtraInfo<K extends ExtraInfoName, D>(name: K, defaultValue: D): ExtraInfo[K] | D;
  getExtraInfo(name: ExtraInfoName, defaultValue?: unknown): unknown {
    return name === "pipe" ? this.#stream : defaultValue;
  }

  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as Protocol;
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
    this.#stream.pause();
  }

  resumeReading(): void {
    if (this.#closing || this.#reading) return;
    this.#reading = true;
    this.#stream.resume();
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#stream.destroy();
  }

  override toString(): string {
    return `<ReadPipeTransport ${this.#lost ? "closed" : this.#closing ? "closing" : this.#reading ? "open" : "open paused"}>`;
  }
}

/**
 * The write end of a pipe (see `WriteTransport`).
 * @example
 * ```ts
 * import { run, getRunningLoop, BaseProtocol } from "aiots";
 * await run(async () => {
 *   const [t] = await getRunningLoop().connectWritePipe(() => new BaseProtocol(), process.stdout);
 *   t.write(Buffer.from("hello\n"));
 * });
 * ```
 */
export class WritePipeTransport extends WriteTransport {
  readonly #loop: AbstractEventLoop;
  readonly #stream: Writable;
  #protocol: BaseProtocol;
  readonly #flow: WriteFlow;
  #closing = false;
  #lost = false;
  #eofWritten = false;
  #error: Error | null = null;
  // A write failed because the reader is gone; #error says why. Implies #closing.
  #peerGone = false;

  constructor(loop: AbstractEventLoop, stream: Writable, protocol: BaseProtocol) {
    super();
    this.#loop = loop;
    this.#stream = stream;
    this.#protocol = protocol;
    this.#flow = new WriteFlow(loop, this, protocol);
    stream.on("error", this.#onError);
    stream.on("close", this.#onClose);
    try {
      outsideTasks(() => protocol.connectionMade(this));
    } catch (exception) {
      report(loop, this, protocol, "connectionMade", exception);
    }
  }

  readonly #onError = (error: Error): void => {
    this.#error ??= error;
    // A broken pipe: no more writes can succeed.
    if (!this.#stream.destroyed) this.#stream.destroy();
  };

  readonly #onClose = (): void => {
    if (this.#lost) return;
    this.#lost = true;
    this.#closing = true;
    try {
      this.#protocol.connectionLost(this.#error);
    } catch (exception) {
      report(this.#loop, this, this.#protocol, "connectionLost", exception);
    }
  };

  readonly #onFlushed = (): void => {
    if (this.#flow.paused && !this.#lost) this.#flow.check(this.#stream.writableLength);
  };

  /**
   * Queues `data`; dropped after close.
   * @throws {TypeError} when `data` is not bytes.
   * @throws {Error} after `writeEof()`.
   */
  write(data: Uint8Array): void {
    checkBytes("transport.write()", data);
    if (this.#eofWritten) throw new Error("Cannot call write() after writeEof()");
    if (data.length === 0 || this.#closing) return;
    const stream = this.#stream;
    if (failed(stream)) {
      this.#lostOnWrite();
      return;
    }
    if (this.#flow.wantsCallback(stream.writableLength + data.length)) stream.write(data, this.#onFlushed);
    else stream.write(data);
    if (failed(stream)) this.#lostOnWrite();
    else if (!this.#flow.paused) this.#flow.check(stream.writableLength);
  }

  // The reader is gone (EPIPE): close now and lose the pipe on the loop, without waiting for 'close'.
  #lostOnWrite(): void {
    if (this.#lost || this.#peerGone) return;
    this.#peerGone = true;
    this.#error ??= this.#stream.errored ?? null;
    this.#closing = true;
    if (!this.#stream.destroyed) this.#stream.destroy();
    this.#loop.callSoon(this.#onClose);
  }

  /** The error that showed the reader is gone, once a write met it (for `StreamWriter.drain()`). */
  [kPeerGone](): Error | null {
    if (!this.#peerGone && !this.#closing && failed(this.#stream)) this.#lostOnWrite();
    return this.#peerGone ? this.#error : null;
  }

  writeEof(): void {
    if (this.#closing || this.#eofWritten) return;
    this.#eofWritten = true;
    this.close();
  }

  canWriteEof(): boolean {
    return true;
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    const stream = this.#stream;
    stream.end(() => {
      if (!stream.destroyed) stream.destroy();
    });
  }

  abort(): void {
    if (this.#lost) return;
    this.#closing = true;
    this.#stream.destroy();
  }

  getWriteBufferSize(): number {
    return this.#stream.writableLength;
  }

  setWriteBufferLimits(high?: number | null, low?: number | null): void {
    const wasPaused = this.#flow.paused;
    this.#flow.setLimits(high, low, this.#stream.writableLength);
    // As SocketTransport: an empty write's callback tells when the writes in flight are done.
    if (this.#flow.paused && !wasPaused && !this.#closing) this.#stream.write(Buffer.alloc(0), this.#onFlushed);
  }

  getWriteBufferLimits(): [number, number] {
    return [this.#flow.low, this.#flow.high];
  }

  getExtraInfo<K extends ExtraInfoName>(name: K): ExtraInfo[K] | undefined;
  getExtraInfo<K extends ExtraInfoName, D>(name: K, defaultValue: D): ExtraInfo[K] | D;
  getExtraInfo(name: ExtraInfoName, defaultValue?: unknown): unknown {
    return name === "pipe" ? this.#stream : defaultValue;
  }

  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol;
    this.#flow.protocol = protocol;
  }

  getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  isClosing(): boolean {
    return this.#closing;
  }

  override toString(): string {
    return `<WritePipeTransport ${this.#lost ? "closed" : this.#closing ? "closing" : "open"} buffered=${this.#stream.writableLength}>`;
  }
}

/** Connects a protocol to the read end of a pipe. */
export function connectReadPipe<P extends Protocol>(loop: AbstractEventLoop, protocolFactory: () => P, pipe: PipeLike<Readable>): Promise<[ReadPipeTransport, P]> {
  if (typeof protocolFactory !== "function") return Promise.reject(new TypeError("connectReadPipe() takes a protocol factory"));
  try {
    const stream = toStream(pipe, true);
    const protocol = protocolFactory();
    return Promise.resolve([new ReadPipeTransport(loop, stream, protocol), protocol]);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Connects a protocol to the write end of a pipe. */
export function connectWritePipe<P extends BaseProtocol>(loop: AbstractEventLoop, protocolFactory: () => P, pipe: PipeLike<Writable>): Promise<[WritePipeTransport, P]> {
  if (typeof protocolFactory !== "function") return Promise.reject(new TypeError("connectWritePipe() takes a protocol factory"));
  try {
    const stream = toStream(pipe, false);
    const protocol = protocolFactory();
    return Promise.resolve([new WritePipeTransport(loop, stream, protocol), protocol]);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
