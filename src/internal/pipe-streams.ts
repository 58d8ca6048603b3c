/**
 * A minimal StreamReader/StreamWriter pair for subprocess pipes, with the method names and
 * semantics of `streams.ts` (asyncio's StreamReader/StreamWriter), used until the streams module
 * is available to the subprocess module.
 *
 * How it works: received chunks are queued as they arrive (no concatenation until read). One read
 * at a time may wait, on a Future that `feedData`/`feedEof`/`setException` settle, so cancelling
 * the reading task interrupts the read and loses no data. Flow control as asyncio: the transport's
 * reading is paused while more than 2 x `limit` bytes are buffered and resumed at `limit` or below.
 */
import { getRunningLoop, type AbstractEventLoop } from "../events.ts";
import { IncompleteReadError, LimitOverrunError } from "../exceptions.ts";
import type { Future } from "../futures.ts";
import type { ReadTransport, WriteTransport } from "../transports.ts";
import { inspectSymbol } from "./inspect.ts";

const DEFAULT_LIMIT = 64 * 1024;
const NEWLINE = Buffer.from("\n");

export class StreamReader implements AsyncIterable<Buffer> {
  readonly #limit: number;
  readonly #loop: AbstractEventLoop;
  // Unread chunks, oldest first; #size is their total length.
  #chunks: Buffer[] = [];
  #size = 0;
  #eof = false;
  #exception: unknown = null;
  // The one pending read's wake-up future, if a read is waiting.
  #waiter: Future<void> | null = null;
  #transport: ReadTransport | null = null;
  #paused = false;

  constructor(options: { limit?: number; loop?: AbstractEventLoop } = {}) {
    const limit = options.limit ?? DEFAULT_LIMIT;
    if (!(Number.isInteger(limit) && limit > 0)) throw new RangeError(`StreamReader limit must be a positive integer, got ${String(limit)}`);
    this.#limit = limit;
    this.#loop = options.loop ?? getRunningLoop();
  }

  setTransport(transport: ReadTransport): void {
    this.#transport = transport;
  }

  exception(): unknown {
    return this.#exception;
  }

  setException(exception: unknown): void {
    this.#exception = exception;
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter !== null && !waiter.done()) waiter.setException(exception);
  }

  feedEof(): void {
    this.#eof = true;
    this.#wake();
  }

  atEof(): boolean {
    return this.#eof && this.#size === 0;
  }

  feedData(data: Uint8Array): void {
    if (data.byteLength === 0) return;
    this.#chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.#size += data.byteLength;
    this.#wake();
    if (this.#transport !== null && !this.#paused && this.#size > 2 * this.#limit) {
      this.#paused = true;
      this.#transport.pauseReading();
    }
  }

  /** Up to `n` bytes (`-1`: everything until EOF); an empty Buffer at EOF. */
  async read(n = -1): Promise<Buffer> {
    if (n === 0) return Buffer.alloc(0);
    if (n < 0) {
      const parts: Buffer[] = [];
      for (;;) {
        const part = await this.read(this.#limit);
        if (part.length === 0) return Buffer.concat(parts);
        parts.push(part);
      }
    }
    while (this.#size === 0 && !this.#eof) await this.#wait("read");
    return this.#take(Math.min(n, this.#size));
  }

  /** One line, including its `\n`; the rest of the data at EOF. */
  async readLine(): Promise<Buffer> {
    try {
      return await this.readUntil(NEWLINE);
    } catch (error) {
      if (error instanceof IncompleteReadError) return error.partial;
      if (error instanceof LimitOverrunError) {
        // As asyncio: the oversized line is dropped.
        const found = this.#indexOf(NEWLINE, 0);
        this.#take(found >= 0 ? found + 1 : this.#size);
      }
      throw error;
    }
  }

  /** Exactly `n` bytes. @throws {IncompleteReadError} at EOF first. */
  async readExactly(n: number): Promise<Buffer> {
    while (this.#size < n) {
      if (this.#eof) throw new IncompleteReadError(this.#take(this.#size), n);
      await this.#wait("readExactly");
    }
    return this.#take(n);
  }

  /** Data up to and including `separator`. @throws {LimitOverrunError}, {IncompleteReadError}. */
  async readUntil(separator: Uint8Array = NEWLINE): Promise<Buffer> {
    const sep = Buffer.from(separator);
    let from = 0;
    for (;;) {
      const found = this.#indexOf(sep, from);
      if (found >= 0) {
        if (found > this.#limit) throw new LimitOverrunError("Separator is found, but chunk is longer than limit", found);
        return this.#take(found + sep.length);
      }
      from = Math.max(0, this.#size - sep.length + 1);
      if (from > this.#limit) throw new LimitOverrunError("Separator is not found, and chunk exceed the limit", from);
      if (this.#eof) throw new IncompleteReadError(this.#take(this.#size), null);
      await this.#wait("readUntil");
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const line = await this.readLine();
      if (line.length === 0) return;
      yield line;
    }
  }

  toString(): string {
    const state = [`${this.#size} bytes`];
    if (this.#eof) state.push("eof");
    if (this.#paused) state.push("paused");
    if (this.#waiter !== null) state.push("waiting");
    return `<StreamReader ${state.join(" ")}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #indexOf(sep: Buffer, from: number): number {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    const data = this.#chunks[0];
    return data === undefined ? -1 : data.indexOf(sep, from);
  }

  #take(n: number): Buffer {
    let out: Buffer;
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.#chunks);
      out = all.subarray(0, n);
      this.#chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.#size -= n;
    if (this.#paused && this.#size <= this.#limit) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
    return out;
  }

  async #wait(what: string): Promise<void> {
    if (this.#exception !== null) throw this.#exception as Error;
    if (this.#waiter !== null) throw new Error(`${what}() called while another task is already waiting for incoming data`);
    if (this.#paused) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
    const waiter = this.#loop.createFuture<void>();
    this.#waiter = waiter;
    try {
      await waiter;
    } finally {
      if (this.#waiter === waiter) this.#waiter = null;
    }
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
  }
}

/** What `StreamWriter.drain()` waits on: the protocol's flow control. */
export interface DrainSource {
  drainHelper(): Promise<void>;
}

export class StreamWriter implements AsyncDisposable {
  readonly transport: WriteTransport;
  readonly #protocol: DrainSource;
  #closed = false;

  constructor(transport: WriteTransport, protocol: DrainSource) {
    this.transport = transport;
    this.#protocol = protocol;
  }

  write(data: Uint8Array): void {
    this.transport.write(data);
  }

  writeLines(list: Iterable<Uint8Array>): void {
    for (const data of list) this.transport.write(data);
  }

  writeEof(): void {
    this.transport.writeEof();
  }

  canWriteEof(): boolean {
    return this.transport.canWriteEof();
  }

  close(): void {
    this.#closed = true;
    this.transport.close();
  }

  isClosing(): boolean {
    return this.transport.isClosing();
  }

  async waitClosed(): Promise<void> {}

  /** Waits while the pipe's buffer is over its high-water mark. @throws the pipe's error. */
  async drain(): Promise<void> {
    await this.#protocol.drainHelper();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#closed) this.close();
    await this.waitClosed();
  }

  toString(): string {
    return `<StreamWriter transport=${String(this.transport)}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}
