/**
 * `StreamResponse`: a response written piece by piece from the handler (aiohttp's StreamResponse).
 * @module
 */
import type { ServerResponse } from "node:http";
import { getRunningLoop, waitFuture } from "../core/index.ts";
import { type Request, kNodeResponse, kSendContext } from "./request.ts";
import { Response, type ResponseInit } from "./responses.ts";
import { type SendContext, drained, isBodiless, sendHead, writeChunk } from "./send.ts";

/**
 * A response the handler writes itself: `await resp.prepare(request)` sends the status and
 * headers, `await resp.write(chunk)` sends a chunk and waits while the client is slow
 * (backpressure), `await resp.writeEof()` ends it; then return it from the handler. For HEAD, 204
 * and 304 the writes are dropped. A handler that returns it unprepared sends it with an empty body;
 * one that returns it without `writeEof()` has it ended by the server.
 * @example
 * ```ts
 * import { sleep } from "aiots";
 * import { Application, StreamResponse } from "aiots/http";
 * new Application().get("/ticks", async (request) => {
 *   const resp = new StreamResponse({ headers: { "content-type": "text/plain" } });
 *   await resp.prepare(request);
 *   for (let i = 0; i < 3; i++) { await resp.write(`tick ${i}\n`); await sleep(0.1); }
 *   await resp.writeEof();
 *   return resp;
 * });
 * ```
 */
export class StreamResponse extends Response {
  #res: ServerResponse | null = null;
  #ctx: SendContext | null = null;
  #ended = false;

  /** @throws as `Response`: a status outside 200..599, a bad header. */
  constructor(init: ResponseInit = {}) {
    super(null, init);
  }

  /** True once `prepare()` sent the head. */
  get prepared(): boolean {
    return this.#res !== null;
  }

  /** True once `writeEof()` ended the body. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Sends the status line and headers (changes to `headers` after this are not sent). Calling it
   * again does nothing.
   * @throws {TypeError} when `request` is not one the server is answering, or for a header Node refuses.
   */
  async prepare(request: Request): Promise<void> {
    if (this.#res !== null) return;
    const res = request[kNodeResponse];
    const ctx = request[kSendContext];
    if (res === null || ctx === null) throw new TypeError("prepare() needs the request the server handed to this handler");
    if (res.headersSent) throw new TypeError(`${request.toString()} already has a response on its way; prepare one response per request`);
    sendHead(res, this, ctx, null);
    this.#res = res;
    this.#ctx = ctx;
    // The head is with Node now; wait only if its buffer is already over the high-water mark.
    if (res.writableNeedDrain) await drained(res);
  }

  /**
   * Sends one chunk; resolves once Node's buffer has room again.
   * @throws {TypeError} before `prepare()` or after `writeEof()`; {CancelledError} when the client went away.
   */
  async write(chunk: string | Uint8Array): Promise<void> {
    const res = this.#check("write()");
    if (typeof chunk !== "string" && !(chunk instanceof Uint8Array)) throw new TypeError("write() takes a string or a Uint8Array");
    if (isBodiless(this.status, this.#ctx!.method)) return;
    await writeChunk(res, chunk, this.#ctx!);
  }

  /**
   * Ends the body (after an optional last chunk) and resolves once Node has handed it all to the
   * socket.
   * @throws as `write()`.
   */
  async writeEof(chunk?: string | Uint8Array): Promise<void> {
    if (chunk !== undefined) await this.write(chunk);
    const res = this.#check("writeEof()");
    this.#ended = true;
    if (res.writableFinished || res.destroyed) return;
    const fut = getRunningLoop().createFuture<void>();
    const done = (): void => {
      if (!fut.done()) fut.setResult(undefined);
    };
    res.once("close", done);
    res.end(done);
    try {
      await waitFuture(fut);
    } finally {
      res.off("close", done);
    }
  }

  /** Ends a response the handler returned without `writeEof()`. @internal */
  finish(): void {
    if (this.#res !== null && !this.#ended) {
      this.#ended = true;
      this.#res.end();
    }
  }

  override toString(): string {
    const state = this.#ended ? "ended" : this.#res !== null ? "prepared" : "unprepared";
    return `<StreamResponse ${this.status} ${state}>`;
  }

  #check(what: string): ServerResponse {
    if (this.#res === null) throw new TypeError(`${what} before prepare(): call await resp.prepare(request) first`);
    if (this.#ended) throw new TypeError(`${what} after writeEof(): the response is complete`);
    return this.#res;
  }
}
