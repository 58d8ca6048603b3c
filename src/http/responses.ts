/**
 * Responses a handler returns: `json()`, `text()`, `html()`, `stream()`, or a `Response`.
 * @module
 */
import { inspectSymbol } from "../core/index.ts";
import { type CookieOptions, serializeCookie } from "./cookies.ts";
import { CIMultiDict, type HeadersInit } from "./headers.ts";

/** Status and headers of a response. */
export interface ResponseInit {
  /** The status code (default 200); a final status, 200..599. */
  status?: number;
  /** Headers to send: a record, `[name, value]` pairs or a `CIMultiDict`; names are case-insensitive. */
  headers?: HeadersInit;
}

/** What a response carries: nothing, bytes or text, or chunks produced over time. */
export type ResponseBody = string | Uint8Array | AsyncIterable<string | Uint8Array> | null;

/**
 * An HTTP response (aiohttp's web.Response / web.StreamResponse). A body that is an async iterable
 * is streamed chunk by chunk with backpressure: the next chunk is asked for once the previous one
 * fits in the socket's buffer. If the client goes away, the iteration is stopped (its task is
 * cancelled at its await).
 * @example
 * ```ts
 * import { Response } from "aiots/http";
 * const resp = new Response("created", { status: 201, headers: { location: "/users/7" } });
 * ```
 */
export class Response {
  readonly status: number;
  // Built on first access: a response whose headers nobody touches (json(), text() on the hot
  // path) is sent from `#contentType` alone, without creating the dict.
  #headers: CIMultiDict | null = null;
  readonly #contentType: string | undefined;
  readonly body: ResponseBody;

  /**
   * A 204 or 304 response, or any response to HEAD, goes out without its body (and a streamed body
   * is then never iterated).
   * @throws {RangeError} for a status outside 200..599 (a 1xx is an interim status, never the final
   * one; the server sends `100 Continue` itself); {TypeError} for a bad body or header.
   */
  constructor(body: ResponseBody = null, init: ResponseInit = {}, /** @internal */ contentType?: string) {
    const status = init.status ?? 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(
        status >= 100 && status < 200
          ? `response status ${status} is an interim (1xx) status and cannot be the final one: use 200..599`
          : `response status must be an integer from 200 to 599, not ${String(status)}`,
      );
    }
    if (body !== null && typeof body !== "string" && !(body instanceof Uint8Array) && !isAsyncIterable(body)) {
      throw new TypeError("a response body is a string, a Uint8Array, an async iterable of chunks, or null");
    }
    this.status = status;
    this.#contentType = contentType;
    if (init.headers !== undefined) {
      // The given headers win over the default content type; several values of a name are kept.
      const given = new CIMultiDict(init.headers);
      const headers = this.headers;
      for (const name of new Set([...given.keys()].map((n) => n.toLowerCase()))) headers.delete(name);
      for (const [name, value] of given) headers.append(name, value);
    }
    this.body = body;
  }

  /** The headers to send, case-insensitive (`response.headers["Content-Type"] = ...` replaces). */
  get headers(): CIMultiDict {
    if (this.#headers === null) {
      const headers = new CIMultiDict();
      if (this.#contentType !== undefined) headers.set("content-type", this.#contentType);
      this.#headers = headers;
    }
    return this.#headers;
  }

  /** The content type alone when the headers were never touched, else `null`. @internal */
  get untouchedContentType(): string | null {
    return this.#headers === null ? (this.#contentType ?? "") : null;
  }

  /**
   * Adds a `Set-Cookie` header (aiohttp's `set_cookie`); several cookies give several headers.
   * `path` defaults to `"/"`. Setting the same name again replaces the earlier one.
   * @example
   * ```ts
   * import { text } from "aiots/http";
   * const resp = text("welcome");
   * resp.setCookie("session", "abc123", { httpOnly: true, sameSite: "Lax", maxAge: 3600 });
   * ```
   * @throws {TypeError} for a name that is not a token or a bad option (see `CookieOptions`).
   */
  setCookie(name: string, value: string, options: CookieOptions = {}): this {
    const line = serializeCookie(name, value, options);
    const kept = this.headers.getAll("set-cookie").filter((v) => !v.startsWith(`${name}=`));
    this.headers.delete("set-cookie");
    for (const v of kept) this.headers.append("Set-Cookie", v);
    this.headers.append("Set-Cookie", line);
    return this;
  }

  /**
   * Tells the client to delete cookie `name` (an empty value that expired in 1970); give the
   * `path`/`domain` it was set with.
   * @throws {TypeError} as `setCookie()`.
   */
  delCookie(name: string, options: { path?: string; domain?: string } = {}): this {
    return this.setCookie(name, "", { path: options.path, domain: options.domain, maxAge: 0, expires: new Date(0) });
  }

  toString(): string {
    const kind = this.body === null ? "empty" : isAsyncIterable(this.body) ? "streamed" : `${this.body.length}`;
    const type = this.#headers === null ? this.#contentType : this.#headers.get("content-type");
    return `<Response ${this.status} ${type ?? ""} body=${kind}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}


/**
 * A JSON response (`application/json`).
 * @throws {TypeError} when `data` cannot be serialized (a cycle, a BigInt).
 * @example
 * ```ts
 * import { Application, json } from "aiots/http";
 * new Application().get("/", () => json({ message: "Hello, aiots !" }));
 * ```
 */
export function json(data: unknown, init?: ResponseInit): Response {
  return new Response(JSON.stringify(data) ?? "null", init, "application/json; charset=utf-8");
}

/**
 * A plain-text response (`text/plain; charset=utf-8`).
 * @example
 * ```ts
 * import { Application, text } from "aiots/http";
 * new Application().get("/ping", () => text("pong"));
 * ```
 */
export function text(body: string, init?: ResponseInit): Response {
  return new Response(body, init, "text/plain; charset=utf-8");
}

/**
 * An HTML response (`text/html; charset=utf-8`).
 * @example
 * ```ts
 * import { Application, html } from "aiots/http";
 * new Application().get("/", () => html("<h1>aiots</h1>"));
 * ```
 */
export function html(body: string, init?: ResponseInit): Response {
  return new Response(body, init, "text/html; charset=utf-8");
}

/**
 * A streamed response: each chunk the iterable yields is sent as it comes (chunked encoding).
 * @example
 * ```ts
 * import { sleep } from "aiots";
 * import { Application, stream } from "aiots/http";
 * new Application().get("/count", () => stream((async function* () {
 *   for (let i = 0; i < 3; i++) { yield `${i}\n`; await sleep(0.1); }
 * })()));
 * ```
 */
export function stream(chunks: AsyncIterable<string | Uint8Array>, init?: ResponseInit): Response {
  return new Response(chunks, init, "application/octet-stream");
}

/** True when `value` can be iterated with `for await`. @internal */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function";
}
