/**
 * A raw-socket WebSocket peer for the conformance suite: it writes frames byte by byte as RFC 6455
 * lays them out (any opcode, RSV bits, fragmentation, masking, bad lengths), reads what the other
 * side sends frame by frame, and does either half of the opening handshake itself, so aiots/ws
 * can be tested as a server (the peer is a client) and as a client (the peer is a server).
 * Compression (RFC 7692) uses node:zlib directly: raw deflate with the 00 00 ff ff tail removed.
 */
import { createHash, randomBytes } from "node:crypto";
import { connect as netConnect, createServer, type Server, type Socket } from "node:net";
import * as zlib from "node:zlib";

export const OP = { cont: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** One frame as read from the wire (payload unmasked). */
export interface Frame {
  fin: boolean;
  rsv: number; // RSV1..3 as bits 4, 2, 1
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  rsv?: number;
  /** Override the length field (to send a lying 7-bit length on a control frame...). */
  mask?: boolean;
}

/** Encodes one frame. */
export function encodeFrame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === "string" ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const fin = spec.fin ?? true;
  const rsv = spec.rsv ?? 0;
  const mask = spec.mask ?? false;
  const len = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (spec.opcode & 0xf)];
  const maskBit = mask ? 0x80 : 0;
  if (len < 126) head.push(maskBit | len);
  else if (len < 65536) head.push(maskBit | 126, len >> 8, len & 0xff);
  else {
    head.push(maskBit | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(len));
    head.push(...big);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ key[i & 3]!;
  return Buffer.concat([Buffer.from(head), key, masked]);
}

/** A close frame payload: code and reason. */
export function closePayload(code: number, reason: string | Buffer = ""): Buffer {
  const body = Buffer.alloc(2);
  body.writeUInt16BE(code);
  return Buffer.concat([body, typeof reason === "string" ? Buffer.from(reason) : reason]);
}

/** RFC 7692 compression of one message, each message on its own (no context carried over). */
export function deflateMessage(data: Buffer | string, windowBits = 15): Buffer {
  const out = zlib.deflateRawSync(typeof data === "string" ? Buffer.from(data) : data, { windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** A compressor or decompressor that keeps its context across messages (context takeover). */
export class ZStream {
  readonly #stream: zlib.DeflateRaw | zlib.InflateRaw;
  readonly #chunks: Buffer[] = [];
  readonly #inflate: boolean;
  constructor(kind: "deflate" | "inflate", windowBits = 15) {
    this.#inflate = kind === "inflate";
    this.#stream = kind === "inflate" ? zlib.createInflateRaw({ windowBits }) : zlib.createDeflateRaw({ windowBits });
    this.#stream.on("data", (c: Buffer) => this.#chunks.push(c));
  }
  /** Compresses or inflates one message's worth. */
  async process(data: Buffer): Promise<Buffer> {
    const input = this.#inflate ? Buffer.concat([data, Buffer.from([0, 0, 0xff, 0xff])]) : data;
    this.#stream.write(input);
    await new Promise<void>((resolve) => this.#stream.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
    const out = Buffer.concat(this.#chunks.splice(0));
    return this.#inflate ? out : out.subarray(0, out.length - 4);
  }
  close(): void {
    this.#stream.close();
  }
}

/** What a read gives: a frame, the end of the connection, or nothing in time. */
export type ReadResult = Frame | "eof" | "timeout";

/** One side of a raw connection: write frames, read frames. */
export class FramePeer {
  readonly socket: Socket;
  readonly masks: boolean;
  /** The response (peer is a client) or request (peer is a server) head of the handshake. */
  readonly handshake: string;
  #buffer: Buffer;
  #eof = false;
  #wake: (() => void) | null = null;

  constructor(socket: Socket, masks: boolean, handshake: string, rest: Buffer) {
    this.socket = socket;
    this.masks = masks;
    this.handshake = handshake;
    this.#buffer = rest;
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake?.();
    });
    const end = (): void => {
      this.#eof = true;
      this.#wake?.();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  /** Writes one frame (masked when this peer is the client), optionally in small TCP chunks. */
  async send(spec: FrameSpec, chunkSize?: number): Promise<void> {
    const bytes = encodeFrame({ mask: this.masks, ...spec });
    await this.write(bytes, chunkSize);
  }

  /** Writes raw bytes, optionally in chunks of `chunkSize` with a short pause between. */
  async write(bytes: Buffer, chunkSize?: number): Promise<void> {
    if (this.socket.destroyed) return;
    if (chunkSize === undefined) {
      this.socket.write(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i += chunkSize) {
      if (this.socket.destroyed) return;
      this.socket.write(bytes.subarray(i, i + chunkSize));
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** Reads the next frame, or `"eof"`, or `"timeout"` after `seconds`. */
  async read(seconds = 5): Promise<ReadResult> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const frame = this.#parse();
      if (frame !== null) return frame;
      if (this.#eof) return "eof";
      const left = deadline - Date.now();
      if (left <= 0) return "timeout";
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = null;
          resolve();
        };
      });
    }
  }

  /** Reads frames until a data frame's message is complete; reassembles fragments. */
  async readMessage(seconds = 5): Promise<{ opcode: number; payload: Buffer; rsv1: boolean } | ReadResult> {
    let opcode = -1;
    let rsv1 = false;
    const parts: Buffer[] = [];
    for (;;) {
      const frame = await this.read(seconds);
      if (typeof frame === "string" || frame.opcode >= 8) return frame;
      if (opcode < 0) {
        opcode = frame.opcode;
        rsv1 = (frame.rsv & 4) !== 0;
      }
      parts.push(frame.payload);
      if (frame.fin) return { opcode, payload: Buffer.concat(parts), rsv1 };
    }
  }

  close(): void {
    this.socket.destroy();
  }

  #parse(): Frame | null {
    const b = this.#buffer;
    if (b.length < 2) return null;
    const masked = (b[1]! & 0x80) !== 0;
    let len = b[1]! & 0x7f;
    let offset = 2;
    if (len === 126) {
      if (b.length < 4) return null;
      len = b.readUInt16BE(2);
      offset = 4;
    } else if (len === 127) {
      if (b.length < 10) return null;
      len = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    const keyLength = masked ? 4 : 0;
    if (b.length < offset + keyLength + len) return null;
    const key = b.subarray(offset, offset + keyLength);
    const payload = Buffer.from(b.subarray(offset + keyLength, offset + keyLength + len));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i & 3]!;
    this.#buffer = b.subarray(offset + keyLength + len);
    return { fin: (b[0]! & 0x80) !== 0, rsv: (b[0]! >> 4) & 7, opcode: b[0]! & 0xf, masked, payload };
  }
}

function acceptKey(key: string): string {
  return createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
}

// Reads until the end of an HTTP head; resolves to [head, the bytes after it].
function readHead(socket: Socket): Promise<[string, Buffer]> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      const end = got.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      socket.off("error", reject);
      socket.pause();
      resolve([got.subarray(0, end).toString("latin1"), got.subarray(end + 4)]);
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("close", () => reject(new Error(`connection closed during the handshake after ${JSON.stringify(got.toString("latin1"))}`)));
  });
}

/** Connects as a client and performs the handshake; `extensions` is the offer to send. */
export async function rawClient(port: number, path = "/", extensions?: string): Promise<FramePeer> {
  const socket = netConnect(port, "127.0.0.1");
  socket.setNoDelay(true);
  const key = randomBytes(16).toString("base64");
  socket.write(
    `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
      `sec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n` +
      (extensions === undefined ? "" : `sec-websocket-extensions: ${extensions}\r\n`) +
      "\r\n",
  );
  const [head, rest] = await readHead(socket);
  if (!head.startsWith("HTTP/1.1 101")) throw new Error(`handshake refused: ${head}`);
  if (!head.toLowerCase().includes(`sec-websocket-accept: ${acceptKey(key)}`.toLowerCase())) throw new Error(`bad accept key in ${head}`);
  const peer = new FramePeer(socket, true, head, rest);
  socket.resume();
  return peer;
}

/**
 * A raw server: each accepted connection is handshaken (answering with `extensions`, chosen from
 * the client's offer by the callback) and handed over as a FramePeer.
 */
export class RawServer {
  readonly server: Server;
  readonly #waiting: Array<(peer: FramePeer) => void> = [];
  readonly #ready: FramePeer[] = [];
  extensions: (offer: string) => string | undefined = () => undefined;

  constructor() {
    this.server = createServer((socket) => void this.#accept(socket));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as { port: number }).port;
  }

  /** The next handshaken connection. */
  next(): Promise<FramePeer> {
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #accept(socket: Socket): Promise<void> {
    socket.setNoDelay(true);
    const [head, rest] = await readHead(socket).catch(() => ["", Buffer.alloc(0)] as [string, Buffer]);
    const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1];
    if (key === undefined) return void socket.destroy();
    const offer = /sec-websocket-extensions:\s*([^\r\n]+)/i.exec(head)?.[1] ?? "";
    const answer = this.extensions(offer);
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${acceptKey(key)}\r\n` +
        (answer === undefined ? "" : `sec-websocket-extensions: ${answer}\r\n`) +
        "\r\n",
    );
    const peer = new FramePeer(socket, false, head, rest);
    socket.resume();
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter(peer);
    else this.#ready.push(peer);
  }
}
