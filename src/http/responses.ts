/**
 * Responses a handler returns: `json()`, `text()`, `html()`, `stream()`, or a `Response`.
 * @module
 */
import { inspectSymbol } from "../core/index.ts";

/** Status and headers of a response. */
export interface ResponseInit {
  /** The status code (default 200). */
  status?: number;
  /** Headers to send; names are case-insensitive. */
  headers?: Record<string, string>;
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
  readonly headers: Record<string, string>;
  readonly body: ResponseBody;

  /** @throws {RangeError} for a status outside 100..599; {TypeError} for a bad body. */
  constructor(body: ResponseBody = null, init: ResponseInit = {}) {
    const status = init.status ?? 200;
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new RangeError(`response status must be an integer from 100 to 599, not ${String(status)}`);
    }
    if (body !== null && typeof body !== "string" && !(body instanceof Uint8Array) && !isAsyncIterable(body)) {
      throw new TypeError("a response body is a string, a Uint8Array, an async iterable of chunks, or null");
    }
    this.status = status;
    this.headers = {};
    for (const [key, value] of Object.entries(init.headers ?? {})) this.headers[key.toLowerCase()] = value;
    this.body = body;
  }

  toString(): string {
    const kind = this.body === null ? "empty" : isAsyncIterable(this.body) ? "streamed" : `${this.body.length}`;
    return `<Response ${this.status} ${this.headers["content-type"] ?? ""} body=${kind}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

function withType(init: ResponseInit | undefined, type: string): ResponseInit {
  const headers: Record<string, string> = { "content-type": type };
  for (const [key, value] of Object.entries(init?.headers ?? {})) headers[key.toLowerCase()] = value;
  return { status: init?.status, headers };
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
  return new Response(JSON.stringify(data) ?? "null", withType(init, "application/json; charset=utf-8"));
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
  return new Response(body, withType(init, "text/plain; charset=utf-8"));
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
  return new Response(body, withType(init, "text/html; charset=utf-8"));
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
  const type = init?.headers?.["content-type"] ?? "application/octet-stream";
  return new Response(chunks, withType(init, type));
}

/** True when `value` can be iterated with `for await`. @internal */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function";
}
