/**
 * `StreamReader`: buffered reads over a byte stream (asyncio.StreamReader).
 *
 * How it works: the protocol feeds chunks (`feedData`) into a list of Buffers, never copying on the
 * way in; reads take from the front (a zero-copy `subarray` when one chunk suffices) and searches
 * merge the chunks into one Buffer first. A read that needs more data waits on a `ReadWait`: a
 * native promise registered with the reading task, as `sleep()` registers its wait, so cancellation
 * and `timeout()` interrupt it, losing nothing (data stays buffered). `read(n)` is completed by the
 * data's arrival itself (the wait resolves with the bytes), so a read that waits costs one promise
 * and no async frame; awaiting a native promise also skips the thenable protocol that awaiting an
 * aiots Future goes through. That is most of what a streams echo allocates per message. Backpressure: when
 * more than `2 * limit` bytes are buffered the transport is paused; it resumes once a read brings
 * the buffer to `limit` or below, or when a reader must wait.
 * @module
 */
import {
  CancelledError,
  IncompleteReadError,
  LimitOverrunError,
  currentAwaitingTask,
  getRunningLoop,
  makeInternalError,
  type AbstractEventLoop,
  type AwaitingTask,
  type Cancellable,
  inspectSymbol,
  shortRepr,
} from "../core/index.ts";

/** asyncio's default buffer limit: 64 KiB. */
export const DEFAULT_LIMIT = 64 * 1024;

const EMPTY = Buffer.alloc(0);
const NEWLINE = Buffer.from("\n");

function noop(): void {}

/**
 * Internal (streams.ts): true once, when a read on this reader has waited and was woken by data or
 * EOF since the last call. Such data came from an I/O poll, so the writer's next `drain()` need not
 * spend the cooperative fast-path budget: a task that suspends on its reads lets libuv poll anyway.
 */
export const kTakeIoWake: unique symbol = Symbol("aiots.takeIoWake");

/**
 * The wait of a read that needs more data: resolves with the bytes for `read(n)` (or `undefined`:
 * "data or EOF arrived, look again"), rejects with the connection's error or, when the task is
 * cancelled, with `CancelledError`. Registered with the awaiting task (`suspendOn`) when made.
 */
class ReadWait implements Cancellable {
  readonly promise: Promise<Buffer | undefined>;
  readonly #task: AwaitingTask | undefined;
  readonly #resolve: (value: Buffer | undefined) => void;
  readonly #reject: (reason: unknown) => void;
  #done = false;

  constructor(task: AwaitingTask | undefined) {
    const { promise, resolve, reject } = Promise.withResolvers<Buffer | undefined>();
    this.promise = promise;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#task = task;
  }

  done(): boolean {
    return this.#done;
  }

  settle(value: Buffer | undefined): void {
    if (this.#done) return;
    this.#done = true;
    this.#task?.resumeFrom(this);
    this.#resolve(value);
  }

  fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#task?.resumeFrom(this);
    this.#reject(error);
  }

  cancel(msg?: string): boolean {
    if (this.#done) return false;
    // a wait cancelled before its read was awaited must not crash the process
    this.promise.catch(noop);
    this.fail(makeInternalError(() => new CancelledError(msg)));
    return true;
  }

  toString(): string {
    return `<StreamReader read ${this.#done ? "done" : "pending"}>`;
  }
}

/** The part of a transport the reader uses for flow control. */
export interface ReadFlowControl {
  pauseReading(): void;
  resumeReading(): void;
}

/** Options of `new StreamReader()`. */
export interface StreamReaderOptions {
  /** Buffer limit in bytes for `readLine`/`readUntil` and for backpressure (default 64 KiB). */
  limit?: number;
  loop?: AbstractEventLoop;
}

function toSeparator(sep: Uint8Array | string): Buffer {
  const buf = typeof sep === "string" ? Buffer.from(sep) : sep instanceof Uint8Array ? Buffer.from(sep.buffer, sep.byteOffset, sep.byteLength) : null;
  if (buf === null) throw new TypeError(`readUntil() takes a separator as a Buffer or string (or a list of them), got ${typeof sep}`);
  if (buf.length === 0) throw new RangeError("readUntil(): a separator must be at least one byte long");
  return buf;
}

/**
 * Reads from a stream connection: bytes, lines, exact sizes, up to a separator.
 * @example
 * ```ts
 * import { run, openConnection } from "aiots";
 * await run(async () => {
 *   const [reader, writer] = await openConnection("127.0.0.1", 8888);
 *   writer.write(Buffer.from("hello\n"));
 *   const line = await reader.readLine();
 *   for await (const more of reader) console.log(more.toString());
 *   writer.close();
 * });
 * ```
 */
export class StreamReader implements AsyncIterable<Buffer> {
  // The loop of the reads' futures: given, or the running loop at the first wait.
  #loop: AbstractEventLoop | null;
  readonly #limit: number;
  // Buffered data, oldest first; #length is the sum of their lengths. No chunk is empty.
  #chunks: Buffer[] = [];
  #length = 0;
  #eof = false;
  #exception: Error | null = null;
  // The single pending read's wait (asyncio allows one reader at a time), and for read(n) the n
  // its arrival completes it with (0: the wait only says that data or EOF arrived).
  #waiter: ReadWait | null = null;
  #wanted = 0;
  #transport: ReadFlowControl | null = null;
  // True while this reader has paused the transport.
  #paused = false;
  // A waiting read was woken by feedData/feedEof since the last kTakeIoWake call.
  #ioWake = false;

  /**
   * @param options `{ limit, loop }`, or the limit alone.
   * @throws {RangeError} when `limit` is not a positive number.
   */
  constructor(options: StreamReaderOptions | number = {}) {
    const opts = typeof options === "number" ? { limit: options } : options;
    const limit = opts.limit ?? DEFAULT_LIMIT;
    if (typeof limit !== "number" || !(limit > 0)) throw new RangeError(`StreamReader limit must be a number of bytes > 0, got ${String(limit)}`);
    this.#limit = limit;
    this.#loop = opts.loop ?? null;
  }

  /** The buffer limit, bytes. */
  get limit(): number {
    return this.#limit;
  }

  /** The error set by `setException` (the connection's error), or `null`. */
  exception(): Error | null {
    return this.#exception;
  }

  /** Makes pending and later reads throw `exc` (used when the connection fails). */
  setException(exc: Error): void {
    this.#exception = exc;
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter.fail(exc);
    }
  }

  /** Tells the reader which transport to pause when it holds too much. */
  setTransport(transport: ReadFlowControl): void {
    if (this.#transport !== null && this.#transport !== transport) throw new Error("StreamReader already has a transport");
    this.#transport = transport;
  }

  /** Replaces the transport after a TLS upgrade. */
  replaceTransport(transport: ReadFlowControl): void {
    this.#transport = transport;
  }

  #wakeup(): void {
    const waiter = this.#waiter;
    if (waiter === null) return;
    this.#waiter = null;
    if (waiter.done()) return; // cancelled: what arrived stays buffered for the next read
    this.#ioWake = true;
    // read(n): hand over what is there now (nothing only at EOF)
    waiter.settle(this.#wanted > 0 ? this.#take(Math.min(this.#wanted, this.#length)) : undefined);
  }

  /** @internal see `kTakeIoWake`. */
  [kTakeIoWake](): boolean {
    const woke = this.#ioWake;
    this.#ioWake = false;
    return woke;
  }

  /** Marks the end of the stream: reads return what is left, then empty Buffers. */
  feedEof(): void {
    this.#eof = true;
    this.#wakeup();
  }

  /** True when EOF was fed and the buffer is empty. */
  atEof(): boolean {
    return this.#eof && this.#length === 0;
  }

  /**
   * Appends received bytes (the protocol calls this; tests may too). The Buffer is kept, not copied.
   * @throws {Error} after `feedEof()`.
   */
  feedData(data: Uint8Array): void {
    if (this.#eof) throw new Error("feedData() after feedEof()");
    if (data.length === 0) return;
    this.#chunks.push(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.#length += data.length;
    this.#wakeup();
    if (this.#transport !== null && !this.#paused && this.#length > 2 * this.#limit) {
      try {
        this.#transport.pauseReading();
        this.#paused = true;
      } catch {
        // The transport is closing: nothing left to pause.
      }
    }
  }

  #maybeResume(): void {
    if (this.#paused && this.#length <= this.#limit) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
  }

  // The promise a read awaits until data or EOF arrives, completed with up to `wanted` bytes when
  // `wanted` > 0. Returned rather than awaited here: one async frame less per wait. A wait that was
  // cancelled leaves a done wait behind, which no longer counts as a pending reader.
  #waitForData(what: string, wanted = 0): Promise<Buffer | undefined> {
    if (this.#waiter !== null && !this.#waiter.done()) {
      throw new Error(`${what}() called while another task is already waiting for incoming data on this reader`);
    }
    if (this.#paused) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
    // reads wait on a running loop (getRunningLoop throws outside one), the reader's own
    const loop = getRunningLoop();
    if (this.#loop !== null && loop !== this.#loop) throw new Error(`${what}(): this StreamReader belongs to a different event loop than the one running`);
    this.#loop = loop;
    const task = currentAwaitingTask();
    const waiter = new ReadWait(task);
    // Suspend first: a cancel due now settles the wait at once (as sleep() does).
    task?.suspendOn(waiter);
    if (waiter.done()) return waiter.promise;
    this.#waiter = waiter;
    this.#wanted = wanted;
    return waiter.promise;
  }

  // Merges the buffered chunks into one and returns it.
  #contiguous(): Buffer {
    const chunks = this.#chunks;
    if (chunks.length === 0) return EMPTY;
    if (chunks.length > 1) this.#chunks = [Buffer.concat(chunks, this.#length)];
    return this.#chunks[0]!;
  }

  // Removes and returns the first n bytes (n <= #length).
  #take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const chunks = this.#chunks;
    const first = chunks[0]!;
    let out: Buffer;
    if (first.length > n) {
      out = first.subarray(0, n);
      chunks[0] = first.subarray(n);
    } else if (first.length === n) {
      out = first;
      chunks.shift();
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = chunks[0]!;
        const need = n - filled;
        if (chunk.length <= need) {
          chunk.copy(out, filled);
          filled += chunk.length;
          chunks.shift();
        } else {
          chunk.copy(out, filled, 0, need);
          chunks[0] = chunk.subarray(need);
          filled = n;
        }
      }
    }
    this.#length -= n;
    this.#maybeResume();
    return out;
  }

  /**
   * Reads up to `n` bytes: waits for at least one byte (or EOF), then returns what is buffered, at
   * most `n`. With `n = -1` (the default) reads until EOF. Returns an empty Buffer at EOF.
   * @throws the connection's error (see `exception()`).
   * @throws {CancelledError} when the task is cancelled while waiting (no data is lost).
   */
  read(n = -1): Promise<Buffer> {
    // not an async function: a read that waits returns the wait's own promise (see #waitForData)
    try {
      if (this.#exception !== null) throw this.#exception;
      if (n === 0) return Promise.resolve(EMPTY);
      if (n < 0) return this.#readAll();
      if (this.#length > 0 || this.#eof) return Promise.resolve(this.#take(Math.min(n, this.#length)));
      return this.#waitForData("read", n) as Promise<Buffer>; // wanted > 0: resolves with a Buffer
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what was thrown, as an async function would reject
      return Promise.reject(error);
    }
  }

  async #readAll(): Promise<Buffer> {
    while (!this.#eof) await this.#waitForData("read");
    return this.#take(this.#length);
  }

  /**
   * Reads exactly `n` bytes.
   * @throws {IncompleteReadError} when EOF comes first (`partial` holds what arrived; it is consumed).
   * @throws {RangeError} when `n` is negative.
   */
  async readExactly(n: number): Promise<Buffer> {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`readExactly() takes a byte count >= 0, got ${n}`);
    if (this.#exception !== null) throw this.#exception;
    if (n === 0) return EMPTY;
    while (this.#length < n) {
      if (this.#eof) {
        const partial = this.#take(this.#length);
        throw new IncompleteReadError(partial, n);
      }
      await this.#waitForData("readExactly");
    }
    return this.#take(n);
  }

  /**
   * Reads up to and including `separator` (or the first-ending of several separators).
   * @throws {LimitOverrunError} when no separator is found within `limit` bytes; the data stays buffered.
   * @throws {IncompleteReadError} at EOF without a separator (`partial` is the rest; it is consumed).
   */
  async readUntil(separator: Uint8Array | string | readonly (Uint8Array | string)[] = NEWLINE): Promise<Buffer> {
    const seps = (Array.isArray(separator) ? (separator as (Uint8Array | string)[]) : [separator as Uint8Array | string]).map(toSeparator);
    if (seps.length === 0) throw new RangeError("readUntil() needs at least one separator");
    seps.sort((a, b) => a.length - b.length);
    const minLen = seps[0]!.length;
    const maxLen = seps[seps.length - 1]!.length;
    if (this.#exception !== null) throw this.#exception;
    let offset = 0;
    for (;;) {
      if (this.#length - offset >= minLen) {
        const buf = this.#contiguous();
        let matchStart = -1;
        let matchEnd = -1;
        for (const sep of seps) {
          const i = buf.indexOf(sep, offset);
          if (i !== -1 && (matchEnd === -1 || i + sep.length < matchEnd)) {
            matchStart = i;
            matchEnd = i + sep.length;
          }
        }
        if (matchEnd !== -1) {
          if (matchStart > this.#limit) throw new LimitOverrunError("Separator is found, but chunk is longer than limit", matchStart);
          return this.#take(matchEnd);
        }
        offset = Math.max(0, this.#length + 1 - maxLen);
        if (offset > this.#limit) throw new LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
      }
      if (this.#eof) throw new IncompleteReadError(this.#take(this.#length), null);
      await this.#waitForData("readUntil");
    }
  }

  /**
   * Reads one line, `\n` included. At EOF returns the partial last line, then empty Buffers.
   * @throws {LimitOverrunError} when the line is longer than `limit`; the oversized line is discarded
   *   (asyncio raises ValueError there).
   */
  async readLine(): Promise<Buffer> {
    try {
      return await this.readUntil(NEWLINE);
    } catch (error) {
      if (error instanceof IncompleteReadError) return error.partial;
      if (!(error instanceof LimitOverrunError)) throw error;
      const buf = this.#contiguous();
      const dropped = buf.length > error.consumed && buf[error.consumed] === 0x0a ? error.consumed + 1 : buf.length;
      this.#take(dropped);
      throw new LimitOverrunError(error.message, error.consumed);
    }
  }

  /** Yields lines until EOF (`for await (const line of reader)`). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const line = await this.readLine();
      if (line.length === 0) return;
      yield line;
    }
  }

  toString(): string {
    const info = [`${this.#length} bytes`];
    if (this.#eof) info.push("eof");
    if (this.#limit !== DEFAULT_LIMIT) info.push(`limit=${this.#limit}`);
    if (this.#waiter !== null && !this.#waiter.done()) info.push("waiting");
    if (this.#exception !== null) info.push(`exception=${shortRepr(this.#exception)}`);
    if (this.#paused) info.push("paused");
    return `<StreamReader ${info.join(" ")}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}
