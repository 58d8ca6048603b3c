/**
 * `request.multipart()`: the parts of a `multipart/*` body, streamed (aiohttp's MultipartReader).
 *
 * How it works: the body is pulled from the request's `BodyReader` one chunk at a time and written
 * to a Dicer parser (the multipart engine of @fastify/busboy). Dicer announces each part with its
 * headers and content; content chunks are queued on the part. Nothing is read from the client
 * until the consumer asks for more, so at most a chunk or so is buffered whatever the body's size,
 * and `maxBodySize` bounds the whole body. When the consumer moves to the next part, what it left
 * of the current one is read and dropped. A malformed body (no boundary, a part cut short, no
 * closing delimiter) is `HttpError(400)`.
 * @module
 */
import { Dicer } from "@fastify/busboy";
import { type Future, getRunningLoop, inspectSymbol, waitFuture } from "../core/index.ts";
import type { BodyReader } from "./body-reader.ts";
import { HttpError } from "./errors.ts";
import { CIMultiDict } from "./headers.ts";

interface PartState {
  headers: CIMultiDict | null;
  chunks: Buffer[];
  ended: boolean;
  error: Error | null;
}

interface ParserState {
  queue: PartState[];
  finished: boolean;
  error: Error | null;
  wake: Future<void> | null;
}

// A part's header block is small; more than this many header lines is an attack, not a form.
const MAX_PART_HEADERS = 64;

/**
 * One part of a multipart body: `name` and `filename` from its `Content-Disposition`, its
 * `headers`, and its content, read once: `for await` over the chunks, or `bytes()` / `text()`.
 * @example
 * ```ts
 * import { Application, text } from "aiots/http";
 * new Application().post("/files", async (request) => {
 *   for await (const part of request.multipart()) {
 *     if (part.filename !== null) for await (const chunk of part) void chunk; // store it somewhere
 *   }
 *   return text("stored");
 * });
 * ```
 */
export class BodyPart {
  /** The part's headers (case-insensitive). */
  readonly headers: CIMultiDict;
  /** The form field name (`name=` of `Content-Disposition`), or `null`. */
  readonly name: string | null;
  /** The file name (`filename=` / `filename*=`), or `null` for a plain field. */
  readonly filename: string | null;
  readonly #state: PartState;
  readonly #pump: () => Promise<void>;
  #consumed = false;

  /** @internal created by `request.multipart()`. */
  constructor(state: PartState, pump: () => Promise<void>) {
    this.#state = state;
    this.#pump = pump;
    this.headers = state.headers ?? new CIMultiDict();
    const disposition = parseDisposition(this.headers.get("content-disposition") ?? "");
    this.name = disposition.name;
    this.filename = disposition.filename;
  }

  /** The part's `Content-Type`, or `"text/plain"` as RFC 7578 says for a part without one. */
  get contentType(): string {
    return this.headers.get("content-type") ?? "text/plain";
  }

  /**
   * The content, chunk by chunk as it arrives.
   * @throws {HttpError} 400 for a malformed body, 413 past `maxBodySize`; {TypeError} when read twice.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    this.#claim();
    const state = this.#state;
    for (;;) {
      const chunk = state.chunks.shift();
      if (chunk !== undefined) {
        yield chunk;
        continue;
      }
      if (state.error !== null) throw malformed(state.error);
      if (state.ended) return;
      await this.#pump();
    }
  }

  /** The whole content. @throws as iteration. */
  async bytes(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  /** The content as UTF-8 text. @throws as iteration. */
  async text(): Promise<string> {
    return (await this.bytes()).toString("utf8");
  }

  /** Reads and drops what is left (before the next part). @internal */
  async skip(): Promise<void> {
    const state = this.#state;
    while (!state.ended && state.error === null) {
      state.chunks.length = 0;
      await this.#pump();
    }
    state.chunks.length = 0;
  }

  toString(): string {
    return `<BodyPart name=${JSON.stringify(this.name)} filename=${JSON.stringify(this.filename)} ${this.#state.ended ? "complete" : "streaming"}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #claim(): void {
    if (this.#consumed) throw new TypeError(`the content of ${this.toString()} was already read; read a part once`);
    this.#consumed = true;
  }
}

function malformed(error: Error): HttpError {
  return error instanceof HttpError ? error : new HttpError(400, `malformed multipart body: ${error.message}`);
}

/** The boundary of a `multipart/*` content type. @throws {HttpError} 400 when missing. */
function boundaryOf(contentType: string): string {
  const [type, ...params] = contentType.split(";");
  if (!/^\s*multipart\/[a-z0-9.+-]+\s*$/i.test(type ?? "")) {
    throw new HttpError(400, `expected a multipart body (Content-Type: multipart/form-data; boundary=...), got ${JSON.stringify(contentType)}`);
  }
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== "boundary") continue;
    let value = param.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (value.length >= 1 && value.length <= 70) return value;
  }
  throw new HttpError(400, "the multipart Content-Type has no valid boundary parameter (1 to 70 characters)");
}

/** `name` and `filename` of a `Content-Disposition` value (RFC 6266, with `filename*`). */
function parseDisposition(value: string): { name: string | null; filename: string | null } {
  const params = new Map<string, string>();
  const re = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    let v = m[2]!.trim();
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, "$1");
    params.set(m[1]!.toLowerCase(), v);
  }
  let filename = params.get("filename") ?? null;
  const extended = params.get("filename*");
  if (extended !== undefined) {
    const m = /^([\w-]+)'[^']*'(.*)$/.exec(extended);
    if (m !== null && m[1]!.toLowerCase() === "utf-8") {
      try {
        filename = decodeURIComponent(m[2]!);
      } catch {
        // A broken extended value: keep the plain filename.
      }
    }
  }
  return { name: params.get("name") ?? null, filename };
}

/**
 * The parts of a multipart body (see the module note). @internal
 * @throws {HttpError} 400 for a body that is not multipart or is malformed; 413 past the limit.
 */
export async function* readMultipart(contentType: string, openReader: () => BodyReader): AsyncGenerator<BodyPart, void, undefined> {
  const boundary = boundaryOf(contentType);
  const reader = openReader();
  const state: ParserState = { queue: [], finished: false, error: null, wake: null };
  const wake = (): void => {
    const w = state.wake;
    if (w !== null && !w.done()) w.setResult(undefined);
  };
  const dicer = new Dicer({ boundary, maxHeaderPairs: MAX_PART_HEADERS });
  dicer.on("part", (stream) => {
    const part: PartState = { headers: null, chunks: [], ended: false, error: null };
    state.queue.push(part);
    stream.on("header", (header: Record<string, string[]>) => {
      const headers = new CIMultiDict();
      try {
        for (const [name, values] of Object.entries(header)) for (const v of values) headers.append(name, v);
      } catch (error) {
        part.error = new Error(`a part has an invalid header: ${(error as Error).message}`);
      }
      part.headers = headers;
      wake();
    });
    stream.on("data", (chunk: Buffer) => {
      part.chunks.push(chunk);
      wake();
    });
    stream.on("end", () => {
      part.ended = true;
      wake();
    });
    stream.on("error", (error: Error) => {
      part.error = error;
      wake();
    });
  });
  dicer.on("finish", () => {
    state.finished = true;
    wake();
  });
  dicer.on("error", (error: Error) => {
    state.error ??= error;
    wake();
  });
  let bodyDone = false;
  // Makes progress: feeds the parser one more chunk of the body, or, once the body is all in,
  // waits for the parser's next event.
  const pump = async (): Promise<void> => {
    if (state.error !== null) throw malformed(state.error);
    if (!bodyDone) {
      let chunk: Buffer | null;
      try {
        chunk = await reader.read();
      } catch (error) {
        state.error = error as Error;
        throw error;
      }
      const written = getRunningLoop().createFuture<void>();
      const done = (error?: Error | null): void => {
        if (error) state.error ??= error;
        if (!written.done()) written.setResult(undefined);
      };
      if (chunk === null) {
        bodyDone = true;
        dicer.end();
        done();
      } else {
        dicer.write(chunk, done);
      }
      await waitFuture(written);
      return;
    }
    if (state.finished) return;
    const waiter = getRunningLoop().createFuture<void>();
    state.wake = waiter;
    try {
      await waitFuture(waiter);
    } finally {
      state.wake = null;
    }
  };
  let current: BodyPart | null = null;
  try {
    for (;;) {
      if (current !== null) await current.skip();
      current = null;
      while (state.queue.length === 0 || state.queue[0]!.headers === null) {
        if (state.error !== null) throw malformed(state.error);
        if (state.finished) {
          // Parts whose header block never completed carry nothing.
          if (state.queue.every((p) => p.headers === null)) return;
          while (state.queue[0]?.headers === null) state.queue.shift();
          break;
        }
        await pump();
      }
      const next = state.queue.shift();
      if (next === undefined) return;
      if (next.error !== null && next.headers !== null && next.chunks.length === 0) throw malformed(next.error);
      current = new BodyPart(next, pump);
      yield current;
    }
  } finally {
    dicer.removeAllListeners();
    dicer.on("error", () => undefined);
    dicer.destroy();
    if (!bodyDone) reader.stop();
  }
}
