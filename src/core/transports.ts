/**
 * Transports: the interface a protocol talks to (asyncio.transports). These are abstract classes with
 * no Node code; the Node-backed ones live in `net/socket-transport.ts`, `net/datagram-transport.ts` and
 * `net/pipe-transport.ts` (and `proc/subprocess-transport.ts`).
 *
 * JavaScript has single inheritance, so `Transport` cannot extend both `ReadTransport` and
 * `WriteTransport`; `instanceof ReadTransport` and `instanceof WriteTransport` are nonetheless true
 * for every `Transport` (see `Symbol.hasInstance` below), as in asyncio.
 * @module
 */
import type { Socket } from "node:net";
import type { Socket as UdpSocket } from "node:dgram";
import type { CipherNameAndProtocol, PeerCertificate, SecureContext } from "node:tls";
import type { BaseProtocol } from "./protocols.ts";
import { inspectSymbol } from "./internal/inspect.ts";

/** A socket address: `[host, port]` for IP, a path for Unix sockets. */
export type SocketAddress = [string, number] | string;

/** What `getExtraInfo(name)` returns for each name (asyncio's `get_extra_info`). */
export interface ExtraInfo {
  /** The remote address. */
  peername: SocketAddress;
  /** The local address. */
  sockname: SocketAddress;
  /** The Node socket under the transport. */
  socket: Socket | UdpSocket;
  /** The TLS context of a TLS connection. */
  sslcontext: SecureContext;
  /** The peer's certificate (TLS), `null` when it sent none. */
  peercert: PeerCertificate | null;
  /** The negotiated cipher (TLS). */
  cipher: CipherNameAndProtocol;
  /** The negotiated TLS version, e.g. `"TLSv1.3"`. */
  tlsVersion: string;
  /** The Node stream under a pipe transport. */
  pipe: object;
}

/** The names `getExtraInfo` knows. */
export type ExtraInfoName = keyof ExtraInfo;

/**
 * What every transport has: extra info, closing, and its protocol.
 * @example
 * ```ts
 * import { run, getRunningLoop, Protocol } from "aiots";
 * await run(async () => {
 *   const [transport] = await getRunningLoop().createConnection(() => new Protocol(), "127.0.0.1", 8888);
 *   console.log(transport.getExtraInfo("peername")); // ["127.0.0.1", 8888]
 *   transport.close();
 * });
 * ```
 */
export abstract class BaseTransport implements AsyncDisposable {
  /**
   * Information about the connection, typed per name. Returns `defaultValue` (else `undefined`)
   * when the transport has no such information (e.g. `"peercert"` on a plain TCP connection).
   */
  abstract getExtraInfo<K extends ExtraInfoName>(name: K): ExtraInfo[K] | undefined;
  abstract getExtraInfo<K extends ExtraInfoName, D>(name: K, defaultValue: D): ExtraInfo[K] | D;
  /** True once `close()` or `abort()` was called or the connection was lost. */
  abstract isClosing(): boolean;
  /**
   * Closes the transport: buffered data is flushed first, then `connectionLost(null)` is called.
   * No more data is received. Idempotent.
   */
  abstract close(): void;
  /** Switches the protocol that receives the callbacks from now on. */
  abstract setProtocol(protocol: BaseProtocol): void;
  abstract getProtocol(): BaseProtocol;

  /** Closes the transport (`await using transport = ...`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  toString(): string {
    return `<${this.constructor.name}${this.isClosing() ? " closing" : ""}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

/** The read side: flow control of incoming data. */
export abstract class ReadTransport extends BaseTransport {
  /** True while data is delivered to the protocol (not paused). */
  abstract isReading(): boolean;
  /** Stops delivering data until `resumeReading()`; the peer's writes back up. Idempotent. */
  abstract pauseReading(): void;
  /** Delivers data again. Idempotent. */
  abstract resumeReading(): void;

  static override [Symbol.hasInstance](value: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, value) || (this === ReadTransport && value instanceof Transport);
  }
}

/** The write side: buffered writes with high/low water marks. */
export abstract class WriteTransport extends BaseTransport {
  /** Queues `data` for sending; never blocks. Use the protocol's `pauseWriting` (or `drain()`) for backpressure. */
  abstract write(data: Uint8Array): void;
  /** Writes every buffer of `list`, in order. */
  writeLines(list: Iterable<Uint8Array>): void {
    for (const data of list) this.write(data);
  }
  /** Closes the write side after buffered data is sent (half-close). */
  abstract writeEof(): void;
  /** True when `writeEof()` is supported (not for TLS). */
  abstract canWriteEof(): boolean;
  /** Closes at once, dropping buffered data; `connectionLost(null)` follows. */
  abstract abort(): void;
  /** Bytes waiting to be sent. */
  abstract getWriteBufferSize(): number;
  /**
   * Sets the water marks (bytes). `pauseWriting()` is called when the buffer goes over `high`,
   * `resumeWriting()` when it drains to `low`. Defaults: 64 KiB, and `high / 4`.
   * @throws {RangeError} unless `high >= low >= 0`.
   */
  abstract setWriteBufferLimits(high?: number | null, low?: number | null): void;
  /** `[low, high]`, as asyncio's `get_write_buffer_limits()`. */
  abstract getWriteBufferLimits(): [number, number];

  static override [Symbol.hasInstance](value: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, value) || (this === WriteTransport && value instanceof Transport);
  }
}

/**
 * A bidirectional stream transport (TCP, TLS, Unix socket): read and write sides together.
 * @example
 * ```ts
 * import { run, getRunningLoop, Protocol } from "aiots";
 * await run(async () => {
 *   const [t] = await getRunningLoop().createConnection(() => new Protocol(), "127.0.0.1", 8888);
 *   t.setWriteBufferLimits(1 << 20);
 *   t.write(Buffer.from("hello"));
 *   t.close();
 * });
 * ```
 */
export abstract class Transport extends BaseTransport {
  abstract isReading(): boolean;
  abstract pauseReading(): void;
  abstract resumeReading(): void;
  abstract write(data: Uint8Array): void;
  writeLines(list: Iterable<Uint8Array>): void {
    for (const data of list) this.write(data);
  }
  abstract writeEof(): void;
  abstract canWriteEof(): boolean;
  abstract abort(): void;
  abstract getWriteBufferSize(): number;
  abstract setWriteBufferLimits(high?: number | null, low?: number | null): void;
  abstract getWriteBufferLimits(): [number, number];
}

/**
 * A UDP endpoint (asyncio.DatagramTransport).
 * @example
 * ```ts
 * import { run, getRunningLoop, DatagramProtocol } from "aiots";
 * await run(async () => {
 *   const [t] = await getRunningLoop().createDatagramEndpoint(() => new DatagramProtocol(), { remoteAddr: ["127.0.0.1", 9999] });
 *   t.sendto(Buffer.from("ping"));
 *   t.close();
 * });
 * ```
 */
export abstract class DatagramTransport extends BaseTransport {
  /**
   * Sends one datagram to `addr`, or to the connected remote address when `addr` is omitted.
   * @throws {Error} when `addr` is omitted on an unconnected endpoint or differs from the connected one.
   */
  abstract sendto(data: Uint8Array, addr?: [string, number] | null): void;
  /** Closes at once; `connectionLost(null)` follows. */
  abstract abort(): void;
  /** Bytes of datagrams queued but not yet sent. */
  abstract getWriteBufferSize(): number;
}

/** A child process and its pipes (asyncio.SubprocessTransport); implemented by the subprocess module. */
export abstract class SubprocessTransport extends BaseTransport {
  /** The child's process id. */
  abstract getPid(): number;
  /** The exit code, `-N` if killed by signal N, `null` while running. */
  abstract getReturncode(): number | null;
  /** The transport of pipe `fd` (0 stdin, 1 stdout, 2 stderr), or `null`. */
  abstract getPipeTransport(fd: number): BaseTransport | null;
  abstract sendSignal(signal: number | string): void;
  abstract terminate(): void;
  abstract kill(): void;
  /** Resolves to the return code once the child has exited and its pipes have closed. */
  abstract wait(): PromiseLike<number>;
}
