/**
 * UDP: `DatagramSocketTransport` over a Node `dgram.Socket`, and `createDatagramEndpoint`.
 *
 * How it works: `message` events become `datagramReceived(data, [host, port])`; send failures and
 * socket errors (ICMP unreachable on a connected endpoint) become `errorReceived(exc)` and the
 * endpoint stays open, as in asyncio. Bytes handed to `send` but not yet sent are counted for
 * `getWriteBufferSize()` and drive `pauseWriting`/`resumeWriting` like a stream transport's buffer.
 * @module
 */
import * as dgram from "node:dgram";
import { isIPv6 } from "node:net";
import {
  type AbstractEventLoop,
  type BaseProtocol,
  type DatagramProtocol,
  DatagramTransport,
  type ExtraInfo,
  type ExtraInfoName,
  resourceClosed,
  resourceOpened,
  outsideTasks,
  type DatagramEndpointOptions,
} from "../core/index.ts";
import { WriteFlow, checkBytes } from "./internal/write-flow.ts";
import { waitEvent } from "./internal/wait-event.ts";


/**
 * The UDP transport aiots creates (see `DatagramTransport`).
 * @example
 * ```ts
 * import { run, getRunningLoop, DatagramProtocol } from "aiots";
 * await run(async () => {
 *   const [t] = await getRunningLoop().createDatagramEndpoint(() => new DatagramProtocol(), { localAddr: ["127.0.0.1", 0] });
 *   console.log(t.getExtraInfo("sockname"));
 *   t.close();
 * });
 * ```
 */
export class DatagramSocketTransport extends DatagramTransport {
  readonly #loop: AbstractEventLoop;
  readonly #socket: dgram.Socket;
  #protocol: DatagramProtocol;
  readonly #remote: [string, number] | null;
  readonly #flow: WriteFlow;
  // Bytes passed to socket.send() whose callback has not run yet.
  #pending = 0;
  #closing = false;
  #lost = false;

  constructor(loop: AbstractEventLoop, socket: dgram.Socket, protocol: DatagramProtocol, remote: [string, number] | null) {
    super();
    this.#loop = loop;
    this.#socket = socket;
    this.#protocol = protocol;
    this.#remote = remote;
    this.#flow = new WriteFlow(loop, this, protocol);
    socket.on("message", this.#onMessage);
    socket.on("error", this.#onError);
    resourceOpened(this, "datagram transport", loop);
    socket.on("close", this.#onClose);
    this.#callProtocol(() => protocol.connectionMade(this), "connectionMade");
  }

  #callProtocol(fn: () => void, name: string): void {
    try {
      outsideTasks(fn);
    } catch (exception) {
      this.#loop.callExceptionHandler({ message: `protocol.${name}() failed`, exception, transport: this, protocol: this.#protocol });
    }
  }

  readonly #onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.#closing) return;
    this.#callProtocol(() => this.#protocol.datagramReceived(msg, [rinfo.address, rinfo.port]), "datagramReceived");
  };

  readonly #onError = (error: Error): void => {
    if (this.#lost) return;
    this.#callProtocol(() => this.#protocol.errorReceived(error), "errorReceived");
  };

  readonly #onClose = (): void => {
    if (this.#lost) return;
    resourceClosed(this);
    this.#lost = true;
    this.#closing = true;
    this.#callProtocol(() => this.#protocol.connectionLost(null), "connectionLost");
  };

  /**
   * Sends one datagram. Dropped silently after `close()`.
   * @throws {TypeError} when `data` is not bytes.
   * @throws {Error} when `addr` is missing on an unconnected endpoint, or differs from the connected address.
   */
  sendto(data: Uint8Array, addr?: [string, number] | null): void {
    checkBytes("transport.sendto()", data);
    const remote = this.#remote;
    if (remote !== null) {
      if (addr !== undefined && addr !== null && (addr[0] !== remote[0] || addr[1] !== remote[1])) {
        throw new Error(`Invalid address: must be null or ${JSON.stringify(remote)} (the endpoint is connected)`);
      }
    } else if (addr === undefined || addr === null) {
      throw new Error("sendto() needs an address [host, port]: this endpoint has no remoteAddr");
    }
    if (this.#closing) return;
    this.#pending += data.length;
    const done = (error: Error | null): void => {
      this.#pending -= data.length;
      if (error && !this.#lost) this.#onError(error);
      if (this.#flow.paused) this.#flow.check(this.#pending);
    };
    if (remote !== null) this.#socket.send(data, done);
    else this.#socket.send(data, addr![1], addr![0], done);
    if (!this.#flow.paused) this.#flow.check(this.#pending);
  }

  getExtraInfo<K extends ExtraInfoName>(name: K): ExtraInfo[K] | undefined;
  getExtraInfo<K extends ExtraInfoName, D>(name: K, defaultValue: D): ExtraInfo[K] | D;
  getExtraInfo(name: ExtraInfoName, defaultValue?: unknown): unknown {
    let value: unknown;
    try {
      if (name === "socket") value = this.#socket;
      else if (name === "sockname") {
        const a = this.#socket.address();
        value = [a.address, a.port];
      } else if (name === "peername" && this.#remote !== null) {
        const a = this.#socket.remoteAddress();
        value = [a.address, a.port];
      }
    } catch {
      value = undefined; // not bound / not connected / closed
    }
    return value ?? defaultValue;
  }

  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as DatagramProtocol;
    this.#flow.protocol = protocol;
  }

  getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  isClosing(): boolean {
    return this.#closing;
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    resourceClosed(this);
    this.#socket.close();
  }

  abort(): void {
    this.close();
  }

  getWriteBufferSize(): number {
    return this.#pending;
  }

  /** Sets the water marks for queued datagram bytes (defaults 64 KiB and high / 4). */
  setWriteBufferLimits(high?: number | null, low?: number | null): void {
    this.#flow.setLimits(high, low, this.#pending);
  }

  getWriteBufferLimits(): [number, number] {
    return [this.#flow.low, this.#flow.high];
  }

  override toString(): string {
    const state = this.#lost ? "closed" : this.#closing ? "closing" : "open";
    return `<DatagramSocketTransport ${state} sockname=${JSON.stringify(this.getExtraInfo("sockname") ?? null)}>`;
  }
}

function familyOf(options: DatagramEndpointOptions): "udp4" | "udp6" {
  if (options.family === 6) return "udp6";
  if (options.family === 4) return "udp4";
  const host = options.localAddr?.[0] ?? options.remoteAddr?.[0];
  return host !== undefined && (isIPv6(host) || host === "localhost6") ? "udp6" : "udp4";
}

/** Creates a UDP endpoint and returns `[transport, protocol]` (asyncio's `create_datagram_endpoint`). */
export async function createDatagramEndpoint<P extends DatagramProtocol>(
  loop: AbstractEventLoop,
  protocolFactory: () => P,
  options: DatagramEndpointOptions = {},
): Promise<[DatagramSocketTransport, P]> {
  if (typeof protocolFactory !== "function") throw new TypeError(`createDatagramEndpoint() takes a protocol factory, got ${typeof protocolFactory}`);
  for (const [what, addr] of [["localAddr", options.localAddr], ["remoteAddr", options.remoteAddr]] as const) {
    if (addr !== undefined && addr !== null && (!Array.isArray(addr) || typeof addr[0] !== "string" || typeof addr[1] !== "number")) {
      throw new TypeError(`createDatagramEndpoint() ${what} must be [host, port], got ${JSON.stringify(addr)}`);
    }
  }
  const socket = options.sock ?? outsideTasks(() => dgram.createSocket({ type: familyOf(options), reuseAddr: options.reusePort ?? false, reusePort: options.reusePort ?? false }));
  socket.unref(); // the running loop keeps the process alive, an endpoint left open after run() does not
  try {
    if (!options.sock || options.localAddr) {
      const [host, port] = options.localAddr ?? [undefined, 0];
      outsideTasks(() => socket.bind({ address: host, port, exclusive: true }));
      await waitEvent(loop, socket, "listening", { wrapError: (e) => new Error(`${e.message} (binding UDP ${host ?? "*"}:${port})`, { cause: e }) });
    }
    if (options.allowBroadcast) socket.setBroadcast(true);
    if (options.remoteAddr) {
      const [host, port] = options.remoteAddr;
      socket.connect(port, host);
      await waitEvent(loop, socket, "connect", { wrapError: (e) => new Error(`${e.message} (connecting UDP to ${host}:${port})`, { cause: e }) });
    }
  } catch (error) {
    try {
      socket.close();
    } catch {
      // already closed
    }
    throw error;
  }
  const protocol = protocolFactory();
  return [new DatagramSocketTransport(loop, socket, protocol, options.remoteAddr ?? null), protocol];
}
