/**
 * Protocols: the callbacks a transport calls (asyncio.protocols). Subclass one and override what you
 * need; every method has a do-nothing default.
 *
 * Call order on a stream connection: `connectionMade(transport)` once, `dataReceived(data)` any
 * number of times, `eofReceived()` at most once, then `connectionLost(exc)` exactly once (`null` on a
 * normal close, the error otherwise). `pauseWriting()`/`resumeWriting()` alternate, driven by the
 * transport's write buffer crossing its high and low water marks.
 * @module
 */
import type { BaseTransport, DatagramTransport, SubprocessTransport, Transport } from "./transports.ts";

/**
 * What every protocol has: the connection callbacks and write flow control.
 * @example
 * ```ts
 * import { BaseProtocol } from "aiots";
 * class Watcher extends BaseProtocol {
 *   override connectionLost(exc: Error | null) { console.log("gone", exc); }
 * }
 * ```
 */
export class BaseProtocol {
  /** Called once the connection is made; keep `transport` to write to it. */
  connectionMade(_transport: BaseTransport): void {}
  /** Called once when the connection closes: `null` on a normal close or EOF, else the error. */
  connectionLost(_exc: Error | null): void {}
  /** The transport's write buffer went over its high-water mark: stop writing until `resumeWriting()`. */
  pauseWriting(): void {}
  /** The write buffer drained to its low-water mark: writing may continue. */
  resumeWriting(): void {}
}

/**
 * A stream protocol (TCP, TLS, Unix sockets, pipes): receives data as it arrives.
 * @example
 * ```ts
 * import { Protocol, type Transport } from "aiots";
 * class Echo extends Protocol {
 *   transport!: Transport;
 *   override connectionMade(t: Transport) { this.transport = t; }
 *   override dataReceived(data: Buffer) { this.transport.write(data); }
 * }
 * ```
 */
export class Protocol extends BaseProtocol {
  override connectionMade(_transport: Transport): void {}
  /** A chunk of received bytes. Chunk boundaries carry no meaning. */
  dataReceived(_data: Buffer): void {}
  /**
   * The peer sent EOF. Return `true` to keep the connection half-open (you may still write);
   * anything else closes the transport. TLS transports always close (TLS cannot half-close).
   */
  eofReceived(): boolean | void {
    return undefined;
  }
}

/**
 * A stream protocol that supplies its own receive buffer (asyncio.BufferedProtocol), avoiding a copy
 * per chunk: the transport asks `getBuffer(sizeHint)` for space, fills it, then calls `bufferUpdated(n)`.
 * @example
 * ```ts
 * import { BufferedProtocol } from "aiots";
 * class Sink extends BufferedProtocol {
 *   buf = Buffer.alloc(65536);
 *   total = 0;
 *   override getBuffer(_sizeHint: number) { return this.buf; }
 *   override bufferUpdated(n: number) { this.total += n; }
 * }
 * ```
 */
export class BufferedProtocol extends BaseProtocol {
  override connectionMade(_transport: Transport): void {}
  /**
   * Returns a buffer to receive into (at least 1 byte; `sizeHint` is how much is ready, `-1` if unknown).
   * @throws {Error} the default implementation, which must be overridden.
   */
  getBuffer(_sizeHint: number): Uint8Array {
    throw new Error(`${this.constructor.name} must override getBuffer(sizeHint)`);
  }
  /** `nbytes` bytes were written at the start of the buffer last returned by `getBuffer`. */
  bufferUpdated(_nbytes: number): void {}
  /** As `Protocol.eofReceived`: return `true` to keep the connection half-open. */
  eofReceived(): boolean | void {
    return undefined;
  }
}

/**
 * A UDP protocol: one call per datagram.
 * @example
 * ```ts
 * import { DatagramProtocol, type DatagramTransport } from "aiots";
 * class EchoUdp extends DatagramProtocol {
 *   transport!: DatagramTransport;
 *   override connectionMade(t: DatagramTransport) { this.transport = t; }
 *   override datagramReceived(data: Buffer, addr: [string, number]) { this.transport.sendto(data, addr); }
 * }
 * ```
 */
export class DatagramProtocol extends BaseProtocol {
  override connectionMade(_transport: DatagramTransport): void {}
  /** A datagram arrived from `addr` (`[host, port]`). */
  datagramReceived(_data: Buffer, _addr: [string, number]): void {}
  /** A send or receive failed (for example ICMP port unreachable on a connected endpoint). */
  errorReceived(_exc: Error): void {}
}

/** The protocol of a subprocess transport (asyncio.SubprocessProtocol). */
export class SubprocessProtocol extends BaseProtocol {
  override connectionMade(_transport: SubprocessTransport): void {}
  /** The child wrote `data` to its stdout (fd 1) or stderr (fd 2). */
  pipeDataReceived(_fd: number, _data: Buffer): void {}
  /** One of the child's pipes closed. */
  pipeConnectionLost(_fd: number, _exc: Error | null): void {}
  /** The child exited. */
  processExited(): void {}
}

/** Anything usable as a stream protocol: a `Protocol` or a `BufferedProtocol`. */
export type StreamProtocol = Protocol | BufferedProtocol;

/** True when `p` supplies its own buffers (it has `getBuffer` and `bufferUpdated`). */
export function isBufferedProtocol(p: object): p is BufferedProtocol {
  return typeof (p as BufferedProtocol).getBuffer === "function" && typeof (p as BufferedProtocol).bufferUpdated === "function";
}
