/**
 * `Request`: what a handler gets for one HTTP request (aiohttp's web.Request, Sanic's request).
 *
 * How the body is read: chunks are collected from Node's `IncomingMessage` events into an aiots
 * Future, so a read is interruptible (the handler's task is cancelled when the client goes away).
 * The size limit is checked against `content-length` first, then while reading: past it the read
 * throws `HttpError(413)`, which the server turns into a 413 response.
 * @module
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { getRunningLoop, waitFuture, inspectSymbol } from "../core/index.ts";
import { HttpError } from "./errors.ts";

/**
 * One HTTP request as a handler sees it. The body is read once and cached: `text()`, `json()` and
 * `bytes()` may be called in any order, any number of times.
 * @example
 * ```ts
 * import { Application, json } from "aiots/http";
 * const app = new Application();
 * app.post("/users/:id", async (request) => {
 *   const body = await request.json<{ name: string }>();
 *   return json({ id: request.params.id, name: body.name, verbose: request.query.get("verbose") });
 * });
 * ```
 */
export class Request {
  /** The method, upper case (`GET`). */
  readonly method: string;
  /** The path, percent-decoded, without the query string (`/users/42`). */
  readonly path: string;
  /** The request target as sent (`/users/42?verbose=1`). */
  readonly rawPath: string;
  // Parsed on first use: most handlers never look at the query.
  #query: URLSearchParams | null = null;
  /** The request headers, names in lower case. */
  readonly headers: IncomingHttpHeaders;
  /** Values of the route's `:name` segments. */
  params: Record<string, string> = {};
  #state: Map<string, unknown> | null = null;
  /** The Node request this wraps, for what aiots does not cover. */
  readonly raw: IncomingMessage;
  readonly #maxBodySize: number;
  #body: Buffer | null = null;

  /** @internal created by the server for each request. */
  constructor(raw: IncomingMessage, maxBodySize: number) {
    this.raw = raw;
    this.method = (raw.method ?? "GET").toUpperCase();
    this.rawPath = raw.url ?? "/";
    const q = this.rawPath.indexOf("?");
    const path = q === -1 ? this.rawPath : this.rawPath.slice(0, q);
    this.path = path.includes("%") ? safeDecode(path) : path;
    this.headers = raw.headers;
    this.#maxBodySize = maxBodySize;
  }

  /** Free-form per-request storage for middleware (aiohttp's `request[key]`). */
  get state(): Map<string, unknown> {
    return (this.#state ??= new Map());
  }

  /** The query string's parameters. */
  get query(): URLSearchParams {
    if (this.#query === null) {
      const q = this.rawPath.indexOf("?");
      this.#query = new URLSearchParams(q === -1 ? "" : this.rawPath.slice(q + 1));
    }
    return this.#query;
  }

  /** `[host, port]` of the client. */
  get remote(): [string, number] {
    return [this.raw.socket.remoteAddress ?? "", this.raw.socket.remotePort ?? 0];
  }

  /** The `content-type` header without its parameters, or `""`. */
  get contentType(): string {
    return (this.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  }

  /**
   * The whole body as a Buffer.
   * @throws {HttpError} 413 when the body is over the application's `maxBodySize`; `CancelledError`.
   */
  async bytes(): Promise<Buffer> {
    if (this.#body !== null) return this.#body;
    const declared = Number(this.headers["content-length"] ?? "0");
    if (declared > this.#maxBodySize) throw this.#tooLarge();
    this.#body = await this.#readAll();
    return this.#body;
  }

  /** The body as UTF-8 text. @throws as `bytes()`. */
  async text(): Promise<string> {
    return (await this.bytes()).toString("utf8");
  }

  /**
   * The body parsed as JSON.
   * @throws {HttpError} 400 when the body is not valid JSON; as `bytes()`.
   */
  async json<T = unknown>(): Promise<T> {
    const text = await this.text();
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new HttpError(400, `the request body is not valid JSON: ${(error as Error).message}`);
    }
  }

  /** The body parsed as an `application/x-www-form-urlencoded` form. @throws as `bytes()`. */
  async form(): Promise<URLSearchParams> {
    return new URLSearchParams(await this.text());
  }

  toString(): string {
    return `<Request ${this.method} ${this.rawPath}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #tooLarge(): HttpError {
    return new HttpError(413, `request body is larger than the limit of ${this.#maxBodySize} bytes`, {
      headers: { connection: "close" },
    });
  }

  async #readAll(): Promise<Buffer> {
    const raw = this.raw;
    if (raw.readableEnded) return Buffer.alloc(0);
    const fut = getRunningLoop().createFuture<Buffer>();
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > this.#maxBodySize) {
        cleanup();
        raw.pause();
        if (!fut.done()) fut.setException(this.#tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      if (!fut.done()) fut.setResult(Buffer.concat(chunks));
    };
    const onError = (error: Error): void => {
      cleanup();
      if (!fut.done()) fut.setException(error);
    };
    const cleanup = (): void => {
      raw.off("data", onData);
      raw.off("end", onEnd);
      raw.off("error", onError);
    };
    raw.on("data", onData);
    raw.on("end", onEnd);
    raw.on("error", onError);
    return await waitFuture(fut, { onCancel: cleanup });
  }
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
