/**
 * Writing a `Response` to Node's `ServerResponse`: the status line and headers, then the body.
 *
 * Rules applied here, whatever the handler did (RFC 9110 §6.4.1, §15.3.5, §15.4.5): a response to
 * HEAD and a 204 or 304 carry no body — the headers go out at once and a streamed body is never
 * iterated (for HEAD, Node drops written data and `write()` keeps returning true, so iterating
 * would spin without ever yielding to the loop); a 204/304 carries no `Content-Length` or
 * `Transfer-Encoding`. The reason phrase is always given explicitly: Node otherwise keeps the one
 * of an earlier, failed `writeHead()` (a 500 would go out as "500 OK").
 * @module
 */
import { STATUS_CODES, type ServerResponse } from "node:http";
import { CancelledError, getRunningLoop, waitFuture } from "../core/index.ts";
import { headerItems } from "./headers.ts";
import type { Response } from "./responses.ts";

/** How a response is to be sent; filled by the server. @internal */
export interface SendContext {
  /** The request method (HEAD gets no body). */
  method: string;
  /** Add `Connection: close` (the server is shutting down, or the body was not read). */
  close: boolean;
  /** Body bytes handed to Node, for the access log. */
  sent: number;
}

/** True when a response with this status, to this method, carries no body. @internal */
export function isBodiless(status: number, method: string): boolean {
  return status === 204 || status === 304 || method === "HEAD";
}

/**
 * Writes the status line and headers; `length` is the body size when known (it becomes
 * `Content-Length` unless the handler set one), `null` for a streamed body. @internal
 * @throws {TypeError} from Node for a header it refuses.
 */
export function sendHead(res: ServerResponse, response: Response, ctx: SendContext, length: number | null): void {
  const status = response.status;
  const noContent = status === 204 || status === 304;
  const reason = STATUS_CODES[status] ?? "Unknown";
  const plain = response.untouchedContentType;
  if (plain !== null && !noContent) {
    // The hot path: only the content type, and the length.
    const flat = plain === "" ? [] : ["content-type", plain];
    if (length !== null) flat.push("content-length", String(length));
    if (ctx.close) flat.push("connection", "close");
    res.writeHead(status, reason, flat);
    return;
  }
  const flat: string[] = [];
  let hasLength = false;
  for (const [key, entry] of headerItems(response.headers)) {
    if (key === "content-length") {
      if (noContent) continue;
      hasLength = true;
    } else if (key === "transfer-encoding" && noContent) {
      continue;
    } else if (key === "connection" && ctx.close) {
      continue;
    }
    for (const value of entry.values) flat.push(entry.name, value);
  }
  if (length !== null && !hasLength && !noContent) flat.push("content-length", String(length));
  if (ctx.close) flat.push("connection", "close");
  res.writeHead(status, reason, flat);
}

/** Writes a response whose body is complete (or empty) in one go. @internal @throws as `sendHead`. */
export function writeResponse(res: ServerResponse, response: Response, ctx: SendContext): void {
  const body = response.body as string | Uint8Array | null;
  const length = body === null ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  sendHead(res, response, ctx, length);
  if (body === null || length === 0 || isBodiless(response.status, ctx.method)) {
    res.end();
    return;
  }
  ctx.sent = length;
  res.end(body);
}

/**
 * Streams an async-iterable body with backpressure (chunked encoding). For HEAD/204/304 only the
 * head is sent and the body is not touched. @internal
 * @throws {CancelledError} when the client went away; the body's errors.
 */
export async function streamResponse(res: ServerResponse, response: Response, ctx: SendContext): Promise<void> {
  sendHead(res, response, ctx, null);
  if (isBodiless(response.status, ctx.method)) {
    res.end();
    return;
  }
  const body = response.body as AsyncIterable<string | Uint8Array>;
  for await (const chunk of body) {
    await writeChunk(res, chunk, ctx);
  }
  res.end();
}

/**
 * Writes one chunk and waits while Node's buffer is over its high-water mark. @internal
 * @throws {CancelledError} when the client went away.
 */
export async function writeChunk(res: ServerResponse, chunk: string | Uint8Array, ctx: SendContext): Promise<void> {
  if (res.destroyed) throw new CancelledError("the client disconnected");
  const size = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength;
  if (size === 0) return;
  ctx.sent += size;
  if (!res.write(chunk)) await drained(res);
  if (res.destroyed) throw new CancelledError("the client disconnected");
}

/** Resolves when `res` drains or closes; cancellable. @internal */
export async function drained(res: ServerResponse): Promise<void> {
  const fut = getRunningLoop().createFuture<void>();
  const done = (): void => {
    res.off("drain", done);
    res.off("close", done);
    if (!fut.done()) fut.setResult(undefined);
  };
  res.on("drain", done);
  res.on("close", done);
  await waitFuture(fut, { onCancel: done });
}
