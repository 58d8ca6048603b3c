/**
 * `ClientResponse`: the status, headers and body of a response to a `ClientSession` request.
 *
 * How reading works: the body comes from the exchange (`client-exchange.ts`) chunk by chunk; every
 * wait is an aiots Future, so cancelling the reading task aborts the request at that await and the
 * connection is closed rather than reused half-read. A `Content-Encoding` of gzip, deflate or br is
 * undone on the way (unless `autoDecompress: false`), with the decoder paused while its output is
 * unread, so a small compressed body cannot expand without bound in memory. `bytes()`, `text()` and
 * `json()` stop at `maxBodySize` decoded bytes.
 * @module
 */
import { STATUS_CODES } from "node:http";
import * as zlib from "node:zlib";
import { type AbstractEventLoop, type Future, waitFuture, inspectSymbol } from "../core/index.ts";
import { ClientResponseError } from "./errors.ts";
import { ClientPayloadError } from "./client-errors.ts";
import type { Exchange, ResponseHead } from "./client-exchange.ts";
import { type CIMultiDict, headersFromRaw } from "./headers.ts";

/** What the session hands a response when it is created. @internal */
export interface ClientResponseInit {
  loop: AbstractEventLoop;
  method: string;
  url: URL;
  head: ResponseHead;
  exchange: Exchange;
  deadline: number | null;
  autoDecompress: boolean;
  maxBodySize: number | null;
  cookies: Record<string, string>;
}

/** Content codings the client accepts and undoes, in `Accept-Encoding` order. @internal */
export const DECODINGS = ["gzip", "deflate", "br"] as const;

const DECODED_HIGH_WATER = 1024 * 1024;

/**
 * A response to a `ClientSession` request (aiohttp.ClientResponse). Read the body once, with
 * `text()`, `json()`, `bytes()` or `for await` over its chunks; later `text()`/`json()`/`bytes()`
 * calls return the same content. A response whose body is not read keeps its connection busy until
 * `release()` (or `await using`) lets it go.
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { ClientSession } from "aiots/http";
 * await run(async () => {
 *   await using session = new ClientSession();
 *   const resp = await session.get("http://127.0.0.1:8000/");
 *   resp.raiseForStatus();
 *   console.log(resp.status, resp.headers["Content-Type"], await resp.json());
 * });
 * ```
 */
export class ClientResponse implements AsyncIterable<Buffer>, AsyncDisposable {
  /** The HTTP status code. */
  readonly status: number;
  /** The reason phrase the server sent (aiohttp's `reason`), e.g. `"Not Found"`. */
  readonly reason: string;
  /** Response headers, case-insensitive (`resp.headers["content-type"]`, `get`, `getAll`), as sent. */
  readonly headers: CIMultiDict;
  /** The request method. */
  readonly method: string;
  /** The URL of this response: after redirects, the last one. */
  readonly url: URL;
  /** The redirect responses that led here, oldest first (empty without redirects). */
  history: readonly ClientResponse[] = [];
  /** The cookies this response set (`Set-Cookie`), `{ name: value }`, stored in the session's jar or not. */
  readonly cookies: Record<string, string>;
  readonly #loop: AbstractEventLoop;
  readonly #exchange: Exchange;
  readonly #deadline: number | null;
  readonly #autoDecompress: boolean;
  readonly #maxBodySize: number | null;
  // The whole body once read; null until then.
  #content: Buffer | null = null;
  // True once iteration or a read has started consuming the body.
  #consumed = false;

  /** @internal created by `ClientSession`. */
  constructor(init: ClientResponseInit) {
    this.#loop = init.loop;
    this.method = init.method;
    this.url = init.url;
    this.status = init.head.status;
    this.reason = init.head.statusText || (STATUS_CODES[init.head.status] ?? "");
    this.headers = headersFromRaw(init.head.headers.flat());
    this.cookies = init.cookies;
    this.#exchange = init.exchange;
    this.#deadline = init.deadline;
    this.#autoDecompress = init.autoDecompress;
    this.#maxBodySize = init.maxBodySize;
  }

  /** True for statuses below 400 (aiohttp's `ok`). */
  get ok(): boolean {
    return this.status < 400;
  }

  /** The media type of `Content-Type` without parameters, lower case (`"application/json"`); `"application/octet-stream"` when absent. */
  get contentType(): string {
    const value = this.headers.get("content-type");
    return value === undefined ? "application/octet-stream" : value.split(";")[0]!.trim().toLowerCase();
  }

  /**
   * Throws `ClientResponseError` when the status is 400 or more (the body is discarded); does nothing otherwise.
   * @throws {ClientResponseError} for an error status.
   */
  raiseForStatus(): void {
    if (this.status < 400) return;
    this.release();
    throw new ClientResponseError({ status: this.status, statusText: this.reason, url: this.url.href, method: this.method });
  }

  /**
   * The whole body as a Buffer, decoded (read once, then cached).
   * @throws {ClientPayloadError} for a body over `maxBodySize`, cut short, or badly compressed;
   * {TimeoutError} past the `total` or `sockRead` timeout; `CancelledError`.
   */
  async bytes(): Promise<Buffer> {
    if (this.#content !== null) return this.#content;
    const limit = this.#maxBodySize;
    if (limit !== null && !this.#decoding()) {
      const declared = Number(this.headers.get("content-length") ?? NaN);
      if (declared > limit) throw this.#tooBig(limit, `it declares Content-Length: ${declared}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this) {
      size += chunk.length;
      if (limit !== null && size > limit) {
        this.#exchange.abort(new Error("the body was over maxBodySize"));
        throw this.#tooBig(limit, "more arrived");
      }
      chunks.push(chunk);
    }
    this.#content = Buffer.concat(chunks);
    return this.#content;
  }

  /**
   * Reads a redirect's body (up to `limit` bytes) so that its connection can serve the next hop;
   * a longer body is dropped with its connection. The body stays readable from `history`. @internal
   */
  async readForHistory(limit: number): Promise<void> {
    if (this.#consumed) return;
    const chunks: Buffer[] = [];
    let size = 0;
    this.#consumed = true;
    for (;;) {
      const chunk = await this.#exchange.read();
      if (chunk === null) break;
      size += chunk.length;
      if (size > limit) {
        this.#exchange.abort(new Error("a redirect's body was too long to keep"));
        return;
      }
      chunks.push(chunk);
    }
    const raw = Buffer.concat(chunks);
    this.#content = this.#decoding() ? await decodeWhole(this.#encoding(), raw).catch(() => Buffer.alloc(0)) : raw;
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
   * The body parsed as JSON; `null` for an empty body.
   * @throws {ClientPayloadError} when the body is not JSON; as `bytes()`.
   */
  async json<T = unknown>(): Promise<T> {
    const text = await this.text();
    // An empty body (a 204, or nothing sent) is null, as aiohttp's json() returns None.
    if (text.trim() === "") return null as T;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      const start = JSON.stringify(text.slice(0, 40));
      throw new ClientPayloadError(`the body of ${this.method} ${this.url.href} (${this.contentType}) is not JSON: ${(error as Error).message}; it starts ${start}`, { cause: error });
    }
  }

  /**
   * Iterates over the body's chunks (decoded) as they arrive. The body can be iterated once;
   * `maxBodySize` does not apply (the caller decides what to keep).
   * @throws {Error} when the body was already consumed; as `bytes()`, except the size limit.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.#consumed) throw new Error("the response body was already read: read it once (bytes() caches it)");
    this.#consumed = true;
    if (!this.#decoding()) {
      for (;;) {
        const chunk = await this.#exchange.read();
        if (chunk === null) return;
        yield chunk;
      }
    }
    yield* this.#decode();
  }

  /**
   * Frees the connection: a body not read is discarded in the background (the connection returns
   * to the pool once it has ended). Safe to call more than once.
   */
  release(): void {
    if (this.#exchange.finished) return;
    this.#consumed = true;
    this.#exchange.discard();
  }

  /** `await using resp = await session.get(url)` releases the response at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }

  toString(): string {
    return `<ClientResponse ${this.status} ${this.method} ${this.url.href}${this.#exchange.finished ? "" : " body pending"}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #encoding(): string {
    return (this.headers.get("content-encoding") ?? "").trim().toLowerCase();
  }

  #decoding(): boolean {
    const encoding = this.#encoding();
    return this.#autoDecompress && (encoding === "gzip" || encoding === "x-gzip" || encoding === "deflate" || encoding === "br");
  }

  #tooBig(limit: number, why: string): ClientPayloadError {
    return new ClientPayloadError(
      `the body of ${this.method} ${this.url.href} is over maxBodySize (${limit} bytes; ${why}): raise maxBodySize, or read it chunk by chunk with for await`,
    );
  }

  async *#decode(): AsyncGenerator<Buffer> {
    const encoding = this.#encoding();
    // `as`: these are set from event callbacks, which TypeScript's narrowing does not see.
    let decoder = null as zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress | null;
    const out: Buffer[] = [];
    let outBytes = 0;
    let failure = null as Error | null;
    let finished = false as boolean;
    let writing = false;
    let inputDone = false;
    let waiter: Future<void> | null = null;
    const wake = (): void => {
      if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
    };
    try {
      for (;;) {
        const chunk = out.shift();
        if (chunk !== undefined) {
          outBytes -= chunk.length;
          if (decoder?.isPaused() === true && outBytes < DECODED_HIGH_WATER / 4) decoder.resume();
          yield chunk;
          continue;
        }
        if (failure !== null) {
          this.#exchange.abort(failure);
          throw new ClientPayloadError(`the ${encoding} body of ${this.method} ${this.url.href} could not be decoded: ${failure.message}`, { cause: failure });
        }
        if (finished || (inputDone && decoder === null)) return;
        if (!writing && !inputDone) {
          const raw = await this.#exchange.read();
          if (raw === null) {
            inputDone = true;
            if (decoder !== null) {
              writing = true;
              decoder.end();
            }
            continue;
          }
          if (raw.length === 0) continue;
          if (decoder === null) {
            decoder = createDecoder(encoding, raw);
            decoder.on("data", (data: Buffer) => {
              out.push(data);
              outBytes += data.length;
              if (outBytes > DECODED_HIGH_WATER) decoder!.pause();
              wake();
            });
            decoder.on("error", (error: Error) => {
              failure = error;
              wake();
            });
            decoder.on("end", () => {
              finished = true;
              wake();
            });
          }
          writing = true;
          decoder.write(raw, () => {
            writing = false;
            wake();
          });
          continue;
        }
        waiter = this.#loop.createFuture<void>();
        try {
          await waitFuture(waiter, { deadline: this.#deadline, timeoutMessage: `total timeout reading the body of ${this.method} ${this.url.href}` });
        } catch (error) {
          this.#exchange.abort(error);
          throw error;
        } finally {
          waiter = null;
        }
      }
    } finally {
      decoder?.destroy();
    }
  }
}

function decodeWhole(encoding: string, raw: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (raw.length === 0) return resolve(raw);
    const decoder = createDecoder(encoding, raw);
    const out: Buffer[] = [];
    decoder.on("data", (c: Buffer) => out.push(c));
    decoder.on("error", reject);
    decoder.on("end", () => resolve(Buffer.concat(out)));
    decoder.end(raw);
  });
}

function createDecoder(encoding: string, first: Buffer): zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress {
  if (encoding === "br") return zlib.createBrotliDecompress();
  if (encoding === "deflate") {
    // RFC 9110 says zlib-wrapped, but some servers send raw deflate: a zlib header has CM=8 and a
    // header checksum that is a multiple of 31.
    const wrapped = first.length >= 2 && (first[0]! & 0x0f) === 8 && ((first[0]! << 8) | first[1]!) % 31 === 0;
    return wrapped ? zlib.createInflate() : zlib.createInflateRaw();
  }
  return zlib.createGunzip();
}

function charsetOf(contentType: string | undefined): string {
  const match = contentType === undefined ? null : /charset="?([^";\s]+)"?/i.exec(contentType);
  const charset = match?.[1]?.toLowerCase() ?? "utf-8";
  try {
    new TextDecoder(charset);
    return charset;
  } catch {
    return "utf-8";
  }
}
