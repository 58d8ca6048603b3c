/**
 * Files: `new FileResponse(path)` and `app.static(prefix, directory)` (aiohttp's FileResponse and
 * `add_static`).
 *
 * How a file is sent: it is opened first and everything else is read from that open file (so what
 * is checked is what is sent): size and mtime give the `ETag` and `Last-Modified`;
 * `If-None-Match` (else `If-Modified-Since`) may answer 304; one `bytes=` range gives 206 (or 416
 * when it starts past the end; an `If-Range` that no longer matches, or several ranges, give the
 * whole file). The body is piped from a read stream with backpressure.
 *
 * How a static path is confined: the request target's raw segments after the prefix are decoded
 * one by one; a segment that decodes to `.` or `..`, or contains `/`, `\` or NUL, is refused, and
 * the resolved real path (symlinks followed) must lie inside the real `directory`.
 * @module
 */
import { createReadStream, promises as fs, type Stats } from "node:fs";
import type { ServerResponse } from "node:http";
import { join, resolve, sep } from "node:path";
import mime from "mime-types";
import { CancelledError, getRunningLoop, inspectSymbol, awaitForeign, waitFuture } from "../core/index.ts";
import { HttpError } from "./errors.ts";
import type { Request } from "./request.ts";
import { Response, type ResponseInit } from "./responses.ts";
import { type SendContext, isBodiless, sendHead } from "./send.ts";

/**
 * A response that sends a file from disk, with `Content-Type` from its extension, `ETag`,
 * `Last-Modified`, conditional requests (304) and single byte ranges (206/416). A missing file
 * gives 404 when it is sent.
 * @example
 * ```ts
 * import { Application, FileResponse } from "aiots/http";
 * new Application().get("/report", () => new FileResponse("./report.pdf"));
 * ```
 */
export class FileResponse extends Response {
  /** The file to send. */
  readonly path: string;
  readonly #chunkSize: number;

  /** @throws {TypeError} for a path that is not a non-empty string without NUL; as `Response`. */
  constructor(path: string, init: ResponseInit & { chunkSize?: number } = {}) {
    super(null, init);
    if (typeof path !== "string" || path === "" || path.includes("\0")) {
      throw new TypeError(`FileResponse needs a file path (a non-empty string without NUL), not ${JSON.stringify(path)}`);
    }
    this.path = path;
    this.#chunkSize = init.chunkSize ?? 256 * 1024;
  }

  override toString(): string {
    return `<FileResponse ${this.status} ${this.path}>`;
  }

  override [inspectSymbol](): string {
    return this.toString();
  }

  /** Sends the file (see the module note). @internal @throws {CancelledError} when the client left. */
  async send(res: ServerResponse, request: Request, ctx: SendContext): Promise<void> {
    let handle: fs.FileHandle;
    const opening = fs.open(this.path, "r");
    try {
      handle = await awaitForeign(opening);
    } catch (error) {
      if (error instanceof CancelledError) {
        // The open may still succeed after the task was cancelled: close what it opens.
        opening.then((h) => h.close(), () => undefined).catch(() => undefined);
        throw error;
      }
      throw new HttpError(404, "not found");
    }
    try {
      const stat = await awaitForeign(handle.stat());
      if (!stat.isFile()) throw new HttpError(404, "not found");
      await this.#sendOpen(res, request, ctx, handle, stat);
    } finally {
      // The read stream closes the handle itself once it took it over.
      if (handle.fd !== -1 && !handleTaken.has(handle)) await awaitForeign(handle.close()).catch(() => undefined);
    }
  }

  async #sendOpen(res: ServerResponse, request: Request, ctx: SendContext, handle: fs.FileHandle, stat: Stats): Promise<void> {
    const etag = `"${Math.trunc(stat.mtimeMs * 1000).toString(16)}-${stat.size.toString(16)}"`;
    const lastModified = new Date(Math.trunc(stat.mtimeMs / 1000) * 1000);
    const headers = this.headers;
    if (!headers.has("content-type")) headers.set("Content-Type", mime.contentType(mime.lookup(this.path) || "application/octet-stream") || "application/octet-stream");
    headers.set("ETag", etag);
    headers.set("Last-Modified", lastModified.toUTCString());
    headers.set("Accept-Ranges", "bytes");
    const rh = request.raw.headers;
    if ((request.method === "GET" || request.method === "HEAD") && notModified(rh["if-none-match"], rh["if-modified-since"], etag, lastModified)) {
      for (const name of ["content-type", "accept-ranges", "content-length"]) headers.delete(name);
      sendHead(res, new Response(null, { status: 304, headers }), ctx, null);
      res.end();
      return;
    }
    let start = 0;
    let end = stat.size - 1;
    let status = this.status;
    const range = rh.range;
    if (range !== undefined && status === 200 && rangeApplies(request.raw.headers["if-range"] as string | undefined, etag, lastModified)) {
      const parsed = parseRange(range, stat.size);
      if (parsed === "unsatisfiable") {
        const headers416 = new Response(null, { status: 416, headers: { "Content-Range": `bytes */${stat.size}` } });
        sendHead(res, headers416, ctx, 0);
        res.end();
        return;
      }
      if (parsed !== null) {
        [start, end] = parsed;
        status = 206;
        headers.set("Content-Range", `bytes ${start}-${end}/${stat.size}`);
      }
    }
    const length = Math.max(0, end - start + 1);
    const head = status === this.status ? this : new Response(null, { status, headers });
    sendHead(res, head, ctx, length);
    if (length === 0 || isBodiless(status, ctx.method)) {
      res.end();
      return;
    }
    ctx.sent = length;
    await pipeFile(res, handle, start, end, this.#chunkSize);
  }
}

// File handles a read stream took over (it closes them).
const handleTaken = new WeakSet<fs.FileHandle>();

async function pipeFile(res: ServerResponse, handle: fs.FileHandle, start: number, end: number, chunkSize: number): Promise<void> {
  handleTaken.add(handle);
  const stream = createReadStream("", { fd: handle, start, end, highWaterMark: chunkSize, autoClose: true });
  const fut = getRunningLoop().createFuture<void>();
  const finish = (error?: Error): void => {
    res.off("finish", onFinish);
    res.off("close", onClose);
    stream.off("error", finish);
    if (fut.done()) return;
    if (error !== undefined) fut.setException(error);
    else fut.setResult(undefined);
  };
  const onFinish = (): void => finish();
  const onClose = (): void => {
    stream.destroy();
    finish(res.writableFinished ? undefined : new CancelledError("the client disconnected"));
  };
  res.on("finish", onFinish);
  res.on("close", onClose);
  stream.on("error", finish);
  stream.pipe(res);
  await waitFuture(fut, {
    onCancel: () => {
      stream.destroy();
      finish();
    },
  });
}

function notModified(ifNoneMatch: string | undefined, ifModifiedSince: string | undefined, etag: string, lastModified: Date): boolean {
  if (ifNoneMatch !== undefined) {
    // Weak comparison (RFC 9110 §13.1.2): W/ prefixes do not matter.
    const strip = (tag: string): string => tag.trim().replace(/^W\//, "");
    return ifNoneMatch.trim() === "*" || ifNoneMatch.split(",").some((tag) => strip(tag) === etag);
  }
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && lastModified.getTime() <= since;
  }
  return false;
}

function rangeApplies(ifRange: string | undefined, etag: string, lastModified: Date): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith("W/")) return value === etag;
  const date = Date.parse(value);
  return !Number.isNaN(date) && date === lastModified.getTime();
}

/**
 * One `bytes=` range as `[start, end]` (inclusive), `null` to ignore the header (malformed, another
 * unit, several ranges), or "unsatisfiable" (416).
 */
export function parseRange(header: string, size: number): [number, number] | null | "unsatisfiable" {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null) return null;
  const [, a = "", b = ""] = m;
  if (a === "" && b === "") return null;
  if (a === "") {
    const suffix = Number(b);
    if (suffix === 0) return "unsatisfiable";
    return size === 0 ? "unsatisfiable" : [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(a);
  if (!Number.isSafeInteger(start)) return "unsatisfiable";
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== "" && Number(b) < start) return null;
  if (start >= size) return "unsatisfiable";
  return [start, end];
}

/**
 * The handler behind `app.static(prefix, directory)`: maps the request target below `prefix` to
 * a file inside `directory` (see the module note), or throws 404. @internal
 * @throws {TypeError} for a directory that is not a string.
 */
export function staticHandler(prefix: string, directory: string): (request: Request) => Promise<Response> {
  if (typeof directory !== "string" || directory === "") throw new TypeError(`app.static() needs a directory path, not ${JSON.stringify(directory)}`);
  const root = resolve(directory);
  const prefixSegments = prefix.split("/").filter((s) => s !== "").length;
  let realRoot: string | null = null;
  return async (request) => {
    realRoot ??= await awaitForeign(fs.realpath(root)).catch(() => {
      throw new HttpError(404, "not found");
    });
    const target = request.rawPath.split("?")[0]!;
    const raw = target.split("/").filter((s) => s !== "").slice(prefixSegments);
    const parts: string[] = [];
    for (const segment of raw) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        throw new HttpError(404, "not found");
      }
      if (decoded === "." || decoded === ".." || /[/\\\0]/.test(decoded)) throw new HttpError(404, "not found");
      parts.push(decoded);
    }
    if (parts.length === 0) throw new HttpError(404, "not found");
    let real: string;
    try {
      real = await awaitForeign(fs.realpath(join(realRoot, ...parts)));
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      throw new HttpError(404, "not found");
    }
    if (!real.startsWith(realRoot + sep)) throw new HttpError(404, "not found");
    return new FileResponse(real);
  };
}
