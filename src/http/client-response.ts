/**
 * `ClientResponse`: the status, headers and body of a response to a `ClientSession` request.
 *
 * How reading works: the body is undici's stream; every chunk is awaited through an aiots Future
 * (`awaitForeign`), so cancelling the reading task aborts the request at that await and undici drops
 * the connection instead of returning a half-read one to the pool. The session's `total` deadline
 * still applies while the body is read; `sockRead` is undici's `bodyTimeout`.
 * @module
 */
import { STATUS_CODES } from "node:http";
import type { Readable } from "node:stream";
import { awaitForeign, inspectSymbol } from "../core/index.ts";
import { ClientResponseError } from "./errors.ts";
import { translateError } from "./client-errors.ts";

/** What the session hands a response when it is created. @internal */
export interface ResponseInit {
  method: string;
  url: URL;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  controller: AbortController;
  deadline: number | null;
}

/**
 * A response to a `ClientSession` request (aiohttp.ClientResponse). Read the body once, with
 * `text()`, `json()`, `bytes()` or `for await` over its chunks; later `text()`/`json()`/`bytes()`
 * calls return the same content. A response whose body is not read keeps its connection busy until
 * `release()` (or `await using`) drains it.
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { ClientSession } from "aiots/http";
 * await run(async () => {
 *   await using session = new ClientSession();
 *   const resp = await session.get("http://127.0.0.1:8000/");
 *   resp.raiseForStatus();
 *   console.log(resp.status, resp.headers.get("content-type"), await resp.json());
 * });
 * ```
 */
export class ClientResponse implements AsyncIterable<Buffer>, AsyncDisposable {
  /** The HTTP status code. */
  readonly status: number;
  /** Response headers (case-insensitive lookup with `get`). */
  readonly headers: Headers;
  /** The request method. */
  readonly method: string;
  /** The URL that was requested. */
  readonly url: URL;
  readonly #body: Readable;
  readonly #controller: AbortController;
  readonly #deadline: number | null;
  // The whole body once read; null until then.
  #content: Buffer | null = null;
  // True once iteration or a read has started consuming the stream.
  #consumed = false;
  #released = false;

  /** @internal created by `ClientSession`. */
  constructor(init: ResponseInit) {
    this.method = init.method;
    this.url = init.url;
    this.status = init.status;
    this.headers = new Headers();
    for (const [key, value] of Object.entries(init.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) this.headers.append(key, v);
    }
    this.#body = init.body;
    this.#controller = init.controller;
    this.#deadline = init.deadline;
  }

  /** True for statuses below 400 (aiohttp's `ok`). */
  get ok(): boolean {
    return this.status < 400;
  }

  /**
   * Throws `ClientResponseError` when the status is 400 or more; does nothing otherwise.
   * @throws {ClientResponseError} for an error status.
   */
  raiseForStatus(): void {
    if (this.status < 400) return;
    this.#drainInBackground();
    throw new ClientResponseError({
      status: this.status,
      statusText: statusText(this.status),
      url: this.url.href,
      method: this.method,
    });
  }

  /**
   * The whole body as a Buffer (read once, then cached).
   * @throws {TimeoutError} past the session's `total` or `sockRead` timeout; `CancelledError`.
   */
  async bytes(): Promise<Buffer> {
    if (this.#content !== null) return this.#content;
    const chunks: Buffer[] = [];
    for await (const chunk of this) chunks.push(chunk);
    this.#content = Buffer.concat(chunks);
    return this.#content;
  }

  /**
   * The body decoded as text (UTF-8 unless the content type names another charset).
   * @throws as `bytes()`.
   */
  async text(): Promise<string> {
    const body = await this.bytes();
    return new TextDecoder(charsetOf(this.headers.get("content-type"))).decode(body);
  }

  /**
   * The body parsed as JSON.
   * @throws {SyntaxError} when the body is not JSON; as `bytes()`.
   */
  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  /**
   * Iterates over the body's chunks as they arrive. The body can be iterated once.
   * @throws {Error} when the body was already consumed; as `bytes()`.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.#consumed) throw new Error("the response body was already read: read it once (bytes() caches it)");
    this.#consumed = true;
    const iterator = this.#body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    for (;;) {
      let step: IteratorResult<Buffer>;
      try {
        step = await awaitForeign(iterator.next(), {
          deadline: this.#deadline,
          timeoutMessage: `total timeout reading the body of ${this.method} ${this.url.href}`,
          onCancel: () => this.#controller.abort(),
        });
      } catch (error) {
        throw translateError(error, this.method, this.url);
      }
      if (step.done === true) break;
      yield step.value;
    }
    this.#released = true;
  }

  /**
   * Frees the connection: a body not read is discarded in the background (the connection returns
   * to the pool once it has drained). Safe to call more than once.
   */
  release(): void {
    this.#drainInBackground();
  }

  /** `await using resp = await session.get(url)` releases the response at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }

  toString(): string {
    return `<ClientResponse ${this.status} ${this.method} ${this.url.href}${this.#released ? " released" : ""}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #drainInBackground(): void {
    if (this.#released || this.#consumed) return;
    this.#released = true;
    this.#consumed = true;
    // Reading to the end lets undici reuse the connection; errors only mean it was dropped instead.
    this.#body.on("error", () => {});
    this.#body.resume();
  }
}

function statusText(status: number): string {
  return STATUS_CODES[status] ?? "";
}

function charsetOf(contentType: string | null): string {
  const match = contentType === null ? null : /charset="?([^";\s]+)"?/i.exec(contentType);
  const charset = match?.[1]?.toLowerCase() ?? "utf-8";
  try {
    new TextDecoder(charset);
    return charset;
  } catch {
    return "utf-8";
  }
}
