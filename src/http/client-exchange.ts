/**
 * One request/response exchange on a pooled connection: an undici dispatch handler whose waits are
 * aiots Futures and whose timeouts are aiots loop timers.
 *
 * How it works: undici calls the handler as the exchange progresses (request written, request sent,
 * headers, body chunks, end or error). The session awaits `head()`; the response reads with
 * `read()`. Chunks are queued up to a high-water mark, past which the connection is paused until
 * the reader catches up, so an unread body costs bounded memory. Timers:
 * - `connect` (aiohttp's: getting a connection, including waiting for a free one and opening it)
 *   runs from the start of the request until undici starts writing it;
 * - `sockRead` runs only while somebody waits for data that has not arrived (headers after the
 *   request was sent, then each body chunk); a paused or unread body does not time out;
 * - `total` is a deadline (loop time) checked by every wait.
 * Any failure aborts the request, which makes undici destroy the socket, and the connection goes
 * back to the pool as broken; a clean end returns it for reuse.
 * @module
 */
import type { Dispatcher } from "undici";
import { type AbstractEventLoop, type Future, type TimerHandle, TimeoutError, waitFuture, inspectSymbol } from "../core/index.ts";
import { type FailurePhase, translateError } from "./client-errors.ts";
import type { ConnectionPool, PooledConnection } from "./client-pool.ts";

const HIGH_WATER = 1024 * 1024; // bytes queued before the connection is paused
const LOW_WATER = 256 * 1024; // ...and resumed

/** The status line and headers of a response. @internal */
export interface ResponseHead {
  status: number;
  statusText: string;
  /** Raw header pairs in arrival order, names as sent. */
  headers: [string, string][];
}

/** Timeouts of one exchange, seconds or null. @internal */
export interface ExchangeTimeouts {
  /** Seconds left of the `connect` timeout (its clock started before waiting for the pool). */
  connect: number | null;
  /** The `connect` timeout as configured, for messages. */
  connectSetting: number | null;
  sockRead: number | null;
  deadline: number | null;
  total: number | null;
}

/** The request as undici dispatches it. @internal */
export interface ExchangeRequest {
  origin: string;
  path: string;
  method: string;
  headers: [string, string][];
  body: string | Uint8Array | AsyncIterable<Uint8Array> | null;
}

/** One exchange; see the module comment. @internal */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly method: string;
  readonly url: URL;
  readonly #loop: AbstractEventLoop;
  readonly #pool: ConnectionPool;
  readonly #conn: PooledConnection;
  readonly #timeouts: ExchangeTimeouts;
  #controller: Dispatcher.DispatchController | null = null;
  #head: ResponseHead | null = null;
  #headWaiter: Future<void> | null = null;
  #chunks: Buffer[] = [];
  #queued = 0;
  #ended = false;
  #error: unknown = null;
  #phase: FailurePhase = "connect";
  #reader: Future<void> | null = null;
  #sent = false;
  #connectTimer: TimerHandle | null = null;
  #sockReadTimer: TimerHandle | null = null;
  #released = false;
  #discarding = false; // released unread: chunks are dropped as they arrive

  constructor(loop: AbstractEventLoop, pool: ConnectionPool, conn: PooledConnection, url: URL, request: ExchangeRequest, timeouts: ExchangeTimeouts) {
    this.#loop = loop;
    this.#pool = pool;
    this.#conn = conn;
    this.method = request.method;
    this.url = url;
    this.#timeouts = timeouts;
    if (timeouts.connect !== null) {
      this.#connectTimer = loop.callLater(timeouts.connect, () => this.#fail(new TimeoutError(`connect timeout of ${timeouts.connectSetting}s for ${this.#where()}`)));
    }
    try {
      conn.client.dispatch(
        {
          origin: request.origin,
          path: request.path,
          method: request.method,
          headers: request.headers.flat(),
          body: request.body as string | null,
          // Our pool decides reuse; undici must not hold a request back for HEAD's "blocking" rule.
          blocking: false,
          // undici closes the socket after every HEAD (against servers that wrongly send a body);
          // aiohttp and browsers keep it alive, and so do we unless the caller asked to close.
          ...(request.method === "HEAD" && !request.headers.some(([n, v]) => n.toLowerCase() === "connection" && /close/i.test(v)) ? { reset: false } : {}),
        },
        this,
      );
    } catch (error) {
      this.#fail(error);
    }
  }

  /** True once the response ended cleanly or failed. */
  get finished(): boolean {
    return this.#ended || this.#error !== null;
  }

  /**
   * Waits for the status line and headers.
   * @throws the translated failure, `TimeoutError` past a timeout, `CancelledError` (the exchange is aborted).
   */
  async head(): Promise<ResponseHead> {
    if (this.#head === null && this.#error === null) {
      this.#headWaiter = this.#loop.createFuture<void>();
      if (this.#sent) this.#armSockRead();
      await this.#wait(this.#headWaiter, "headers");
    }
    if (this.#head === null) throw this.#translated();
    return this.#head;
  }

  /**
   * The next body chunk, or null at the end.
   * @throws as `head()`, with payload errors as `ClientPayloadError`.
   */
  async read(): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) {
        this.#queued -= chunk.length;
        if (this.#controller?.paused === true && this.#queued <= LOW_WATER) this.#controller.resume();
        return chunk;
      }
      if (this.#ended) return null;
      if (this.#error !== null) throw this.#translated();
      this.#reader = this.#loop.createFuture<void>();
      this.#armSockRead();
      await this.#wait(this.#reader, "body");
    }
  }

  /** Aborts the exchange (the socket is closed, not reused). Idempotent. */
  abort(reason: unknown = new Error("the response was released before its body was read")): void {
    this.#fail(reason);
  }

  /**
   * Lets the body finish in the background so that the connection can be reused, dropping what
   * arrives; a body still running after `grace` seconds is aborted instead.
   */
  discard(grace = 1): void {
    if (this.finished) return;
    this.#chunks = [];
    this.#queued = 0;
    this.#discarding = true;
    this.#controller?.resume();
    this.#loop.callLater(grace, () => {
      if (!this.finished) this.abort();
    });
  }

  toString(): string {
    const state = this.#error !== null ? "failed" : this.#ended ? "done" : this.#head !== null ? "reading" : "waiting";
    return `<Exchange ${this.#where()} ${state}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  // --- undici's handler interface ---

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    this.#connectTimer?.cancel();
    this.#connectTimer = null;
    this.#phase = "headers";
    if (this.#error !== null) controller.abort(this.#error as Error);
  }

  onRequestSent(): void {
    this.#sent = true;
    if (this.#headWaiter !== null) this.#armSockRead();
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, _headers: unknown, statusMessage?: string): void {
    // undici reports informational responses (103 Early Hints) here too: they are not the answer.
    if (this.#error !== null || statusCode < 200) return;
    const raw = controller.rawHeaders;
    const headers: [string, string][] = [];
    if (Array.isArray(raw)) {
      for (let i = 0; i + 1 < raw.length; i += 2) headers.push([String(raw[i]), latin1(raw[i + 1])]);
    } else if (raw !== null && raw !== undefined) {
      for (const [name, value] of Object.entries(raw)) for (const v of [value ?? []].flat()) headers.push([name, String(v)]);
    }
    this.#head = { status: statusCode, statusText: statusMessage ?? "", headers };
    this.#phase = "body";
    this.#clearSockRead();
    this.#wake("head");
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#error !== null || this.#discarding) return;
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued > HIGH_WATER) controller.pause();
    this.#clearSockRead();
    this.#wake("reader");
  }

  onResponseEnd(): void {
    if (this.#error !== null) return;
    this.#ended = true;
    this.#clearSockRead();
    this.#release(false);
    this.#wake("head");
    this.#wake("reader");
  }

  onResponseError(_controller: unknown, error: Error): void {
    this.#fail(error);
  }

  // --- internals ---

  #where(): string {
    return `${this.method} ${this.url.href}`;
  }

  #translated(): unknown {
    return translateError(this.#error, this.method, this.url, this.#phase);
  }

  async #wait(fut: Future<void>, what: "headers" | "body"): Promise<void> {
    const { deadline, total } = this.#timeouts;
    try {
      await waitFuture(fut, {
        deadline,
        timeoutMessage: `total timeout of ${total}s for ${this.#where()}${what === "body" ? " (reading the body)" : ""}`,
      });
    } catch (error) {
      // A timeout or a cancellation of this wait ends the exchange: the socket is not reusable.
      if (!this.finished) this.#fail(error instanceof TimeoutError ? error : new Error(`the request was cancelled while waiting for the ${what}`));
      throw error;
    } finally {
      if (what === "headers") this.#headWaiter = null;
      else this.#reader = null;
      this.#clearSockRead();
    }
  }

  #armSockRead(): void {
    const seconds = this.#timeouts.sockRead;
    if (seconds === null || this.#sockReadTimer !== null) return;
    this.#sockReadTimer = this.#loop.callLater(seconds, () => {
      this.#sockReadTimer = null;
      const what = this.#head === null ? "waiting for the response headers" : "waiting for the response body";
      this.#fail(new TimeoutError(`sockRead timeout of ${seconds}s ${what} of ${this.#where()}`));
    });
  }

  #clearSockRead(): void {
    this.#sockReadTimer?.cancel();
    this.#sockReadTimer = null;
  }

  #wake(which: "head" | "reader"): void {
    const fut = which === "head" ? this.#headWaiter : this.#reader;
    if (fut !== null && !fut.done()) fut.setResult(undefined);
  }

  #fail(error: unknown): void {
    if (this.finished) return;
    this.#error = error ?? new Error("the request failed");
    this.#connectTimer?.cancel();
    this.#clearSockRead();
    const controller = this.#controller;
    if (controller !== null && !controller.aborted) {
      controller.abort(this.#error instanceof Error ? this.#error : new Error(String(this.#error)));
    }
    this.#release(true);
    for (const fut of [this.#headWaiter, this.#reader]) {
      if (fut !== null && !fut.done()) fut.setException(this.#translated());
    }
  }

  #release(broken: boolean): void {
    if (this.#released) return;
    this.#released = true;
    // Before the request started, aborting means destroying the connection being opened.
    this.#pool.release(this.#conn, broken);
  }
}

function latin1(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString("latin1") : String(value);
}
