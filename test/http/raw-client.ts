/**
 * A raw HTTP/1.1 connection for the server tests and the conformance probes: send bytes exactly
 * as given, parse the responses that come back (Content-Length, chunked, or until close; no body
 * for HEAD/1xx/204/304), and tell whether the server closed the connection.
 */
import { connect, type Socket } from "node:net";

/** One parsed response. */
export interface RawResponse {
  status: number;
  reason: string;
  /** Lower-cased names, every value. */
  headers: Map<string, string[]>;
  body: Buffer;
  /** The head as received (status line and headers). */
  head: string;
}

/** A raw client connection to 127.0.0.1:port. */
export class RawConnection {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #closed = false;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    const onClose = (): void => {
      this.#closed = true;
      this.#wake();
    };
    socket.on("end", onClose);
    socket.on("close", onClose);
    socket.on("error", onClose);
  }

  /** Connects (resolves once connected). */
  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  /** True once the server ended or reset the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Writes bytes as given. */
  send(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Bytes received and not parsed yet. */
  get pending(): Buffer {
    return this.#buffer;
  }

  /**
   * Reads one response; `method` tells whether it has a body. Rejects after `timeout` seconds, or
   * when the connection closes before a whole response arrived.
   */
  async response(method = "GET", timeout = 10): Promise<RawResponse> {
    const deadline = Date.now() + timeout * 1000;
    for (;;) {
      const parsed = parseResponse(this.#buffer, method, this.#closed);
      if (parsed !== null) {
        this.#buffer = this.#buffer.subarray(parsed.used);
        return parsed.response;
      }
      if (this.#closed) throw new Error(`connection closed before a whole response; got ${JSON.stringify(this.#buffer.toString("latin1").slice(0, 200))}`);
      if (!(await this.#wait(deadline - Date.now()))) throw new Error(`no whole response within ${timeout}s; got ${JSON.stringify(this.#buffer.toString("latin1").slice(0, 200))}`);
    }
  }

  /** Resolves true when the server closes the connection within `timeout` seconds, else false. */
  async waitClosed(timeout = 5): Promise<boolean> {
    const deadline = Date.now() + timeout * 1000;
    while (!this.#closed) {
      if (!(await this.#wait(deadline - Date.now()))) return false;
    }
    return true;
  }

  /** Resolves true when nothing more arrives within `seconds` and the connection stays open. */
  async quiet(seconds: number): Promise<boolean> {
    const before = this.#buffer.length;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    return this.#buffer.length === before && !this.#closed;
  }

  close(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #wait(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

function parseResponse(buffer: Buffer, method: string, closed: boolean): { response: RawResponse; used: number } | null {
  const end = buffer.indexOf("\r\n\r\n");
  if (end === -1) return null;
  const head = buffer.subarray(0, end).toString("latin1");
  const [statusLine = "", ...lines] = head.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
  if (m === null) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  const status = Number(m[1]);
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const list = headers.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    headers.set(name, list);
  }
  const start = end + 4;
  const response = (body: Buffer): RawResponse => ({ status, reason: m[2] ?? "", headers, body, head });
  if (status < 200 || status === 204 || status === 304 || method === "HEAD") return { response: response(Buffer.alloc(0)), used: start };
  const te = headers.get("transfer-encoding")?.join(",").toLowerCase();
  if (te !== undefined && te.includes("chunked")) {
    const chunks: Buffer[] = [];
    let pos = start;
    for (;;) {
      const lineEnd = buffer.indexOf("\r\n", pos);
      if (lineEnd === -1) return null;
      const size = parseInt(buffer.subarray(pos, lineEnd).toString("latin1"), 16);
      if (Number.isNaN(size)) throw new Error("bad chunk size in the response");
      if (size === 0) {
        const trailerEnd = buffer.indexOf("\r\n", lineEnd + 2);
        if (trailerEnd === -1) return null;
        return { response: response(Buffer.concat(chunks)), used: trailerEnd + 2 };
      }
      if (buffer.length < lineEnd + 2 + size + 2) return null;
      chunks.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
      pos = lineEnd + 2 + size + 2;
    }
  }
  const cl = headers.get("content-length");
  if (cl !== undefined) {
    const length = Number(cl[0]);
    if (buffer.length < start + length) return null;
    return { response: response(buffer.subarray(start, start + length)), used: start + length };
  }
  if (!closed) return null;
  return { response: response(buffer.subarray(start)), used: buffer.length };
}

/** A request head: `req("GET", "/", { host: "x" })` → the bytes, CRLF line ends. */
export function req(method: string, target: string, headers: Record<string, string | number> = {}, body = ""): string {
  const lines = [`${method} ${target} HTTP/1.1`, "Host: 127.0.0.1"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}
