/**
 * `ClientRequest`: the request a `ClientSession` is about to send, as client middlewares see it
 * (aiohttp 3.12's `ClientRequest`), and the encoding of request bodies.
 *
 * A body is kept in a form that can be sent again (bytes, text, a `FormData`) whenever possible,
 * so that a 307/308 redirect or a middleware that retries can resend it; a stream can be sent once.
 * @module
 */
import { Readable } from "node:stream";
import { inspectSymbol } from "../core/index.ts";
import { CIMultiDict, type HeadersInit } from "./headers.ts";

/** A request body: bytes, text, a `FormData` (multipart), or a stream of chunks (sent once, as produced). */
export type RequestBody = string | Uint8Array | FormData | URLSearchParams | AsyncIterable<Uint8Array | string> | Readable;

/** The body of a request once encoded. @internal */
export type EncodedBody =
  | { kind: "none" }
  | { kind: "bytes"; data: string | Uint8Array }
  | { kind: "form"; form: FormData }
  | { kind: "stream"; stream: AsyncIterable<Uint8Array | string>; sent: boolean };

/**
 * A request on its way out, handed to client middlewares (aiohttp's `ClientRequest`). A middleware
 * may change `method`, `url` and `headers`, and call the next handler more than once (a retry after
 * refreshing a token); the body goes again each time unless it was a stream.
 * @example
 * ```ts
 * import { ClientSession, type ClientMiddleware } from "aiots/http";
 * const auth: ClientMiddleware = async (request, handler) => {
 *   request.headers.set("Authorization", "Bearer t0k3n");
 *   return handler(request);
 * };
 * await using session = new ClientSession({ middlewares: [auth] });
 * ```
 */
export class ClientRequest {
  /** The method, upper case. */
  method: string;
  /** The URL to send to. */
  url: URL;
  /** The request headers (case-insensitive); cookies from the jar are added after the middlewares. */
  readonly headers: CIMultiDict;
  /** @internal */
  body: EncodedBody;

  /** @internal created by `ClientSession`. */
  constructor(method: string, url: URL, headers: CIMultiDict, body: EncodedBody) {
    this.method = method;
    this.url = url;
    this.headers = headers;
    this.body = body;
  }

  toString(): string {
    return `<ClientRequest ${this.method} ${this.url.href}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function";
}

/**
 * Encodes `json` or `data` into a body, setting `Content-Type` on `headers` when it has none.
 * @throws {TypeError} for both `json` and `data`, or a `data` of another type. @internal
 */
export function encodeBody(json: unknown, data: unknown, headers: CIMultiDict): EncodedBody {
  if (json !== undefined && data !== undefined) throw new TypeError("pass either json or data to a request, not both");
  if (json !== undefined) {
    const text = JSON.stringify(json);
    if (text === undefined) throw new TypeError(`json must be a JSON-serialisable value, not ${typeof json}`);
    headers.setDefault("Content-Type", "application/json");
    return { kind: "bytes", data: text };
  }
  if (data === undefined || data === null) return { kind: "none" };
  if (typeof data === "string") {
    headers.setDefault("Content-Type", "text/plain; charset=utf-8");
    return { kind: "bytes", data };
  }
  if (data instanceof Uint8Array) return { kind: "bytes", data };
  if (data instanceof FormData) return { kind: "form", form: data };
  if (data instanceof URLSearchParams) {
    headers.setDefault("Content-Type", "application/x-www-form-urlencoded");
    return { kind: "bytes", data: data.toString() };
  }
  if (data instanceof Readable || isAsyncIterable(data)) return { kind: "stream", stream: data as AsyncIterable<Uint8Array | string>, sent: false };
  if (typeof data === "object") {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
      if (value === undefined) continue;
      if (typeof value === "object" && value !== null) {
        throw new TypeError(`form field ${JSON.stringify(key)} must be a string, number or boolean: send files with data: FormData`);
      }
      form.append(key, String(value));
    }
    headers.setDefault("Content-Type", "application/x-www-form-urlencoded");
    return { kind: "bytes", data: form.toString() };
  }
  throw new TypeError("data must be a string, bytes, a FormData, a form object, URLSearchParams, or an async iterable of chunks");
}

/**
 * The body in the shape undici sends, setting `Content-Type` for multipart (its boundary is new
 * each time) on `headers`.
 * @throws {TypeError} when a stream body would be sent a second time. @internal
 */
export function bodyToSend(body: EncodedBody, headers: CIMultiDict, what: string): string | Uint8Array | AsyncIterable<Uint8Array> | null {
  switch (body.kind) {
    case "none":
      return null;
    case "bytes":
      return body.data;
    case "form": {
      // fetch's Response encodes FormData as multipart/form-data, streaming Blob/File parts.
      const encoded = new Response(body.form);
      headers.set("Content-Type", encoded.headers.get("content-type")!);
      return encoded.body;
    }
    case "stream":
      if (body.sent) {
        throw new TypeError(`${what}: a streamed body can be sent only once (a redirect or a retry needs it again): pass bytes, a string or a FormData`);
      }
      body.sent = true;
      return toBytes(body.stream);
  }
}

async function* toBytes(stream: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
}

/** Merges header sets left to right: a later set replaces a name (any case) set before. @internal */
export function mergeHeaders(...sets: (HeadersInit | undefined)[]): CIMultiDict {
  const merged = new CIMultiDict();
  for (const set of sets) {
    if (set === undefined) continue;
    const layer = set instanceof CIMultiDict ? set : new CIMultiDict(set);
    const seen = new Set<string>();
    for (const [name, value] of layer) {
      const key = name.toLowerCase();
      if (seen.has(key)) merged.append(name, value);
      else {
        seen.add(key);
        merged.set(name, value);
      }
    }
  }
  return merged;
}
