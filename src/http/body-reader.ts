/**
 * `BodyReader`: pulls a request body chunk by chunk, within a size limit, through aiots futures.
 *
 * How it works: Node's `IncomingMessage` is switched to flowing mode once; chunks it emits are
 * queued, and the stream is paused while more than `HIGH_WATER` bytes wait, so a slow consumer
 * holds back the client (TCP backpressure) instead of buffering the body. `read()` hands out the
 * queued chunks in order and otherwise waits on a Future, which a task cancel interrupts. Past
 * `limit` bytes the read throws `HttpError(413)` and the rest of the body is never read. A client
 * that goes away mid-body is not an error here: the server cancels the handler's task.
 * @module
 */
import type { IncomingMessage } from "node:http";
import { type Future, getRunningLoop, waitFuture } from "../core/index.ts";
import { HttpError } from "./errors.ts";

const HIGH_WATER = 256 * 1024;

/** Reads one request body; one reader per request. @internal */
export class BodyReader {
  readonly #raw: IncomingMessage;
  readonly #limit: number;
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #total = 0;
  #ended = false;
  #error: Error | null = null;
  #waiter: Future<void> | null = null;
  #started = false;

  constructor(raw: IncomingMessage, limit: number) {
    this.#raw = raw;
    this.#limit = limit;
  }

  /** Bytes read so far. */
  get total(): number {
    return this.#total;
  }

  /** The error for a body over the limit. */
  tooLarge(): HttpError {
    return new HttpError(413, `request body is larger than the limit of ${this.#limit} bytes`, { headers: { connection: "close" } });
  }

  /**
   * The next chunk, or `null` at the end of the body.
   * @throws {HttpError} 413 past the limit; the stream's error (the client aborted); `CancelledError`.
   */
  async read(): Promise<Buffer | null> {
    this.#start();
    for (;;) {
      const chunk = this.#queue.shift();
      if (chunk !== undefined) {
        this.#queued -= chunk.length;
        if (this.#queued <= HIGH_WATER && this.#raw.isPaused() && !this.#ended) this.#raw.resume();
        return chunk;
      }
      if (this.#error !== null) throw this.#error;
      if (this.#ended) return null;
      const waiter = getRunningLoop().createFuture<void>();
      this.#waiter = waiter;
      try {
        await waitFuture(waiter);
      } finally {
        this.#waiter = null;
      }
    }
  }

  /**
   * Stops reading: listeners are removed and the stream stays paused (the server closes a
   * connection whose body was not read to its end).
   */
  stop(): void {
    if (!this.#started) return;
    this.#raw.off("data", this.#onData);
    this.#raw.off("end", this.#onEnd);
    this.#raw.off("error", this.#onError);
    this.#raw.off("aborted", this.#onAborted);
    this.#raw.pause();
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    const declared = Number(this.#raw.headers["content-length"] ?? "0");
    if (declared > this.#limit) {
      this.#error = this.tooLarge();
      return;
    }
    if (this.#raw.readableEnded || this.#raw.complete) {
      // Nothing (left) to read: a GET, or a body someone else consumed.
      if (this.#raw.readableLength === 0) {
        this.#ended = true;
        return;
      }
    }
    this.#raw.on("data", this.#onData);
    this.#raw.on("end", this.#onEnd);
    this.#raw.on("error", this.#onError);
    this.#raw.on("aborted", this.#onAborted);
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#total += chunk.length;
    if (this.#total > this.#limit) {
      this.#error = this.tooLarge();
      this.stop();
      this.#wake();
      return;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued > HIGH_WATER) this.#raw.pause();
    this.#wake();
  };

  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#wake();
  };

  // The client went away mid-body ("aborted", a reset): the server cancels the handler's task
  // when the connection closes, so the read waits for that CancelledError rather than failing
  // the handler with an error of the transport.
  readonly #onError = (error: Error): void => {
    if (this.#raw.destroyed || (error as NodeJS.ErrnoException).code === "ECONNRESET" || error.message === "aborted") return;
    this.#error = error;
    this.#wake();
  };

  readonly #onAborted = (): void => undefined;
}
