/**
 * `Request`: what a handler gets for one HTTP request (aiohttp's web.Request, Sanic's request).
 *
 * How the body is read: a `BodyReader` pulls chunks from Node's `IncomingMessage` through aiots
 * futures, so a read is interruptible (the handler's task is cancelled when the client goes away).
 * The size limit is checked against `content-length` first, then while reading: past it the read
 * throws `HttpError(413)`, which the server turns into a 413 response. `bytes()` collects the
 * chunks; `for await (const chunk of request)` hands them out as they come; `multipart()` parses
 * them into parts. Headers and cookies are parsed on first use: most handlers never look.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { inspectSymbol } from "../core/index.ts";
import type { Application } from "./application.ts";
import { BodyReader } from "./body-reader.ts";
import { parseCookies } from "./cookies.ts";
import { HttpError } from "./errors.ts";
import { type CIMultiDict, headersFromRaw } from "./headers.ts";
import { type BodyPart, readMultipart } from "./multipart.ts";
import type { SendContext } from "./send.ts";

/** Where the server keeps the Node response of a request (read by `StreamResponse.prepare`). @internal */
export const kNodeResponse = Symbol("aiots.http.nodeResponse");
/** Where the server keeps how the response to a request is sent. @internal */
export const kSendContext = Symbol("aiots.http.sendContext");
/** Set on a Node request by the server: the application serving it. @internal */
export const kApplication = Symbol("aiots.http.application");

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
  #headers: CIMultiDict | null = null;
  #cookies: Record<string, string> | null = null;
  /** Values of the route's `:name` / `{name}` segments. */
  params: Record<string, string> = {};
  #state: Map<string, unknown> | null = null;
  /** The Node request this wraps, for what aiots does not cover. */
  readonly raw: IncomingMessage;
  /** The application serving this request (aiohttp's `request.app`). */
  readonly app: Application;
  readonly #maxBodySize: number;
  #body: Buffer | null = null;
  #reader: BodyReader | null = null;
  /** @internal the Node response, set by the server. */
  [kNodeResponse]: ServerResponse | null = null;
  /** @internal how the response is sent, set by the server. */
  [kSendContext]: SendContext | null = null;

  /** @internal created by the server for each request. */
  constructor(raw: IncomingMessage, maxBodySize: number, app?: Application) {
    this.raw = raw;
    this.method = raw.method ?? "GET";
    const target = raw.url ?? "/";
    // absolute-form (RFC 9112 §3.2.2): a server must accept it; routing uses its path.
    this.rawPath = target.charCodeAt(0) === 47 /* / */ ? target : originForm(target);
    const q = this.rawPath.indexOf("?");
    const path = q === -1 ? this.rawPath : this.rawPath.slice(0, q);
    this.path = path.includes("%") ? safeDecode(path) : path;
    this.app = app ?? (raw as unknown as { [kApplication]?: Application })[kApplication]!;
    this.#maxBodySize = maxBodySize;
  }

  /**
   * The request headers, case-insensitive (`request.headers["User-Agent"]`,
   * `request.headers.get("user-agent")`); a repeated header keeps every value (`getAll()`).
   */
  get headers(): CIMultiDict {
    return (this.#headers ??= headersFromRaw(this.raw.rawHeaders));
  }

  /** The cookies the client sent (`Cookie` headers), name -> value; `{}` when none. */
  get cookies(): Record<string, string> {
    if (this.#cookies === null) {
      const header = this.raw.headers.cookie;
      this.#cookies = parseCookies(header);
    }
    return this.#cookies;
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
    return (this.raw.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  }

  /**
   * The whole body as a Buffer.
   * @throws {HttpError} 413 when the body is over the application's `maxBodySize`; `CancelledError`.
   */
  async bytes(): Promise<Buffer> {
    if (this.#body !== null) return this.#body;
    const reader = this.#bodyReader("bytes()");
    const chunks: Buffer[] = [];
    for (let chunk = await reader.read(); chunk !== null; chunk = await reader.read()) chunks.push(chunk);
    this.#body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    return this.#body;
  }

  /**
   * The body, chunk by chunk as it arrives (`for await (const chunk of request)`), within
   * `maxBodySize`. After `bytes()` (or `text()`, `json()`) it yields the cached body once.
   * @example
   * ```ts
   * import { Application, json } from "aiots/http";
   * new Application().post("/upload", async (request) => {
   *   let size = 0;
   *   for await (const chunk of request) size += chunk.length;
   *   return json({ size });
   * });
   * ```
   * @throws {HttpError} 413 past `maxBodySize`; {TypeError} when the body was already streamed.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    if (this.#body !== null) {
      if (this.#body.length > 0) yield this.#body;
      return;
    }
    const reader = this.#bodyReader("for await");
    for (let chunk = await reader.read(); chunk !== null; chunk = await reader.read()) yield chunk;
  }

  /**
   * The parts of a `multipart/form-data` (or other `multipart/*`) body, streamed: each part has
   * `name`, `filename`, `headers`, and its content through `for await`, `text()` or `bytes()`.
   * Going on to the next part skips what was not read of the current one.
   * @example
   * ```ts
   * import { Application, json } from "aiots/http";
   * new Application().post("/upload", async (request) => {
   *   const seen: Record<string, number> = {};
   *   for await (const part of request.multipart()) seen[part.name ?? "?"] = (await part.bytes()).length;
   *   return json(seen);
   * });
   * ```
   * @throws {HttpError} 400 when the body is not multipart or is malformed, 413 past `maxBodySize`.
   */
  multipart(): AsyncIterable<BodyPart> {
    const type = this.raw.headers["content-type"] ?? "";
    return readMultipart(type, () => this.#bodyReader("multipart()"));
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

  #bodyReader(what: string): BodyReader {
    if (this.#reader !== null) {
      throw new TypeError(`${what}: the request body was already read as a stream; read it once (bytes() caches, for await does not)`);
    }
    return (this.#reader = new BodyReader(this.raw, this.#maxBodySize));
  }
}

function originForm(target: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(target);
  if (m === null) return target;
  const rest = m[1]!;
  return rest === "" || rest.startsWith("?") ? `/${rest}` : rest;
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
