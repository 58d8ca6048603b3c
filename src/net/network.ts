/**
 * The loop's networking methods (asyncio's `create_connection`, `create_server`, `start_tls`,
 * `getaddrinfo`, ...), implemented on Node's `net`, `tls` and `dns`. `EventLoop` delegates here.
 *
 * Every wait (connect, listen, TLS handshake, DNS) is an aiots Future, so task cancellation and
 * `timeout()` interrupt it; an interrupted connect destroys its socket.
 *
 * Sockets and servers are `unref()`ed: while the loop runs it keeps the process alive itself, and
 * once `run()` returns, a server or connection left open does not keep Node from exiting (as a
 * Python process exits after `asyncio.run()` whatever sockets are still open).
 * @module
 */
import * as net from "node:net";
import * as dns from "node:dns";
import { promises as fsp, type Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import {
  type AbstractEventLoop,
  type Future,
  SendfileNotAvailableError,
  type StreamProtocol,
  Server,
  type ExtraInfo,
  type Transport,
  outsideTasks,
  type AcceptedSocketOptions,
  type AddrInfo,
  type ConnectionOptions,
  type ServerCreateOptions,
  type SslOption,
  type UnixServerCreateOptions,
} from "../core/index.ts";
import { SocketTransport } from "./socket-transport.ts";
import { tlsOptions, upgradeToTls } from "./internal/tls-upgrade.ts";
import { waitEvent } from "./internal/wait-event.ts";
import { AI_CANONNAME, canonicalName, servicePort } from "./address-names.ts";


export type ProtocolFactory<P> = () => P;

function describe(host: string | null | undefined, port: number | null | undefined): string {
  return host?.includes(":") === true ? `[${host}]:${port}` : `${host}:${port}`;
}

function wrapNetError(error: Error, where: string): Error {
  if (error.message.includes(where)) return error;
  return Object.assign(new Error(`${error.message} (${where})`, { cause: error }), { code: (error as { code?: string }).code });
}

function makeProtocol<P>(protocolFactory: ProtocolFactory<P>, what: string): P {
  if (typeof protocolFactory !== "function") {
    throw new TypeError(`${what} takes a protocol factory (a function returning a Protocol), got ${typeof protocolFactory}`);
  }
  return protocolFactory();
}

// Waits for a dialling socket to connect; on failure or cancellation the socket is destroyed.
async function connected(loop: AbstractEventLoop, socket: net.Socket, where: string): Promise<void> {
  try {
    await waitEvent(loop, socket, "connect", { wrapError: (e) => wrapNetError(e, where) });
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

/** Dials `host:port` (or adopts `sock`), optionally upgrades to TLS, and returns `[transport, protocol]`. */
export async function createConnection<P extends StreamProtocol>(
  loop: AbstractEventLoop,
  protocolFactory: ProtocolFactory<P>,
  host: string | null,
  port: number | null,
  options: ConnectionOptions = {},
): Promise<[Transport, P]> {
  let socket: net.Socket;
  const where = options.sock ? "the given socket" : describe(host, port);
  if (options.sock) {
    if (host !== null || port !== null) throw new TypeError("createConnection(): pass host and port as null when sock is given");
    socket = options.sock;
  } else {
    if (typeof host !== "string" || host === "") throw new TypeError(`createConnection() takes a host name or address, got ${String(host)}`);
    checkPort(port, "createConnection()");
    const delay = options.happyEyeballsDelay;
    socket = outsideTasks(() => net.connect({
      host,
      port,
      family: options.family ?? 0,
      allowHalfOpen: true,
      noDelay: true,
      localAddress: options.localAddr?.[0],
      localPort: options.localAddr?.[1],
      autoSelectFamily: options.family === undefined || options.family === 0,
      ...(delay === undefined || delay === null ? {} : { autoSelectFamilyAttemptTimeout: Math.max(10, delay * 1000) }),
    }));
    socket.unref(); // see the module note: the running loop keeps the process alive, not sockets
    await connected(loop, socket, where);
  }
  return connectSocket(loop, protocolFactory, socket, {
    ssl: options.ssl,
    sslHandshakeTimeout: options.sslHandshakeTimeout,
    serverHostname: options.serverHostname === undefined ? host : options.serverHostname,
    where,
    extra: {},
  });
}

interface ConnectSocketOptions {
  ssl: SslOption | null | undefined;
  sslHandshakeTimeout: number | null | undefined;
  serverHostname: string | null | undefined;
  serverSide?: boolean;
  where: string;
  extra: Partial<ExtraInfo>;
  server?: Server | null;
}

async function connectSocket<P extends StreamProtocol>(
  loop: AbstractEventLoop,
  protocolFactory: ProtocolFactory<P>,
  socket: net.Socket,
  options: ConnectSocketOptions,
): Promise<[Transport, P]> {
  const ssl = options.ssl;
  let stream: net.Socket = socket;
  let extra = options.extra;
  if (ssl !== undefined && ssl !== null && ssl !== false) {
    let sslcontext;
    [stream, sslcontext] = await upgradeToTls(loop, socket, ssl, {
      serverSide: options.serverSide ?? false,
      serverHostname: options.serverHostname,
      handshakeTimeout: options.sslHandshakeTimeout,
      where: options.where,
    });
    extra = { ...extra, sslcontext };
  }
  let protocol: P;
  try {
    protocol = makeProtocol(protocolFactory, "createConnection()");
  } catch (error) {
    stream.destroy();
    throw error;
  }
  const tlsOn = stream !== socket;
  const transport = new SocketTransport(loop, stream, protocol, { extra, tls: tlsOn, server: options.server ?? null });
  return [transport, protocol];
}

function checkPort(port: unknown, what: string): asserts port is number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`${what} takes a port number 0-65535, got ${String(port)}`);
  }
}

/** Wraps an accepted (already-connected) `net.Socket` in a transport, optionally with TLS. */
export async function connectAcceptedSocket<P extends StreamProtocol>(
  loop: AbstractEventLoop,
  protocolFactory: ProtocolFactory<P>,
  sock: net.Socket,
  options: AcceptedSocketOptions = {},
): Promise<[Transport, P]> {
  if (!(sock instanceof net.Socket)) throw new TypeError("connectAcceptedSocket() takes a connected net.Socket");
  return connectSocket(loop, protocolFactory, sock, {
    ssl: options.ssl,
    sslHandshakeTimeout: options.sslHandshakeTimeout,
    serverHostname: null,
    serverSide: true,
    where: describe(sock.remoteAddress, sock.remotePort),
    extra: {},
  });
}

async function listen(loop: AbstractEventLoop, server: net.Server, options: net.ListenOptions, where: string): Promise<void> {
  outsideTasks(() => server.listen(options));
  server.unref();
  try {
    await waitEvent(loop, server, "listening", { wrapError: (e) => wrapNetError(e, where) });
  } catch (error) {
    server.close();
    throw error;
  }
}

function acceptor<P extends StreamProtocol>(
  loop: AbstractEventLoop,
  protocolFactory: ProtocolFactory<P>,
  options: { ssl?: SslOption | null; sslHandshakeTimeout?: number | null; unixPath?: string },
  getServer: () => Server,
): (socket: net.Socket) => void {
  // Built once per server: a SecureContext per connection would cost a handshake's worth of CPU.
  const ssl = options.ssl === undefined || options.ssl === null || options.ssl === false ? null : tlsOptions(options.ssl, true);
  const extra = options.unixPath === undefined ? {} : { sockname: options.unixPath, peername: "" };
  if (ssl === null) {
    return (socket) => {
      let protocol: P;
      try {
        protocol = protocolFactory();
      } catch (exception) {
        socket.destroy();
        loop.callExceptionHandler({ message: "protocol factory failed for an accepted connection", exception });
        return;
      }
      new SocketTransport(loop, socket, protocol, { server: getServer(), extra });
    };
  }
  return (socket) => {
    const where = describe(socket.remoteAddress ?? options.unixPath, socket.remotePort);
    socket.unref();
    socket.on("error", () => undefined);
    // The handshake runs in its own task so that the accept path never waits on one client.
    loop.createTask(async () => {
      try {
        await connectSocket(loop, protocolFactory, socket, {
          ssl,
          sslHandshakeTimeout: options.sslHandshakeTimeout,
          serverHostname: null,
          serverSide: true,
          where,
          extra,
          server: getServer(),
        });
      } catch (exception) {
        socket.destroy();
        if (loop.getDebug()) loop.callExceptionHandler({ message: `TLS handshake with ${where} failed`, exception });
      }
    }, { name: `tls-accept ${where}` });
  };
}

/** Listens on `host:port` (every address of `host`, or all interfaces when `host` is null). */
export async function createServer<P extends StreamProtocol>(
  loop: AbstractEventLoop,
  protocolFactory: ProtocolFactory<P>,
  host: string | string[] | null | undefined,
  port: number | null | undefined,
  options: ServerCreateOptions = {},
): Promise<Server> {
  if (typeof protocolFactory !== "function") throw new TypeError(`createServer() takes a protocol factory, got ${typeof protocolFactory}`);
  const tlsOn = options.ssl !== undefined && options.ssl !== null && options.ssl !== false;
  if (tlsOn) tlsOptions(options.ssl!, true); // fail before listening
  const netServers: net.Server[] = [];
  if (options.sock) {
    if ((host ?? null) !== null || (port ?? null) !== null) throw new TypeError("createServer(): pass host and port as null when sock is given");
    netServers.push(options.sock);
  } else {
    const p = port ?? 0;
    checkPort(p, "createServer()");
    const hosts = host === null || host === undefined || host === "" ? [options.family === 4 ? "0.0.0.0" : options.family === 6 ? "::" : undefined] : Array.isArray(host) ? host : [host];
    try {
      for (const h of hosts) {
        const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true, keepAlive: options.keepAlive ?? false });
        netServers.push(srv);
        await listen(loop, srv, { host: h, port: p, backlog: options.backlog ?? 100, reusePort: options.reusePort ?? false, ipv6Only: options.family === 6 }, describe(h ?? "*", p));
      }
    } catch (error) {
      for (const srv of netServers) if (srv.listening) srv.close();
      throw error;
    }
  }
  const server: Server = new Server(loop, netServers, {
    startServing: options.startServing ?? true,
    onConnection: acceptor(loop, protocolFactory, options, () => server),
  });
  return server;
}

/** Connects to the Unix socket at `path`. */
export async function createUnixConnection<P extends StreamProtocol>(
  loop: AbstractEventLoop,
  protocolFactory: ProtocolFactory<P>,
  path: string | null,
  options: Omit<ConnectionOptions, "family" | "localAddr" | "happyEyeballsDelay"> = {},
): Promise<[Transport, P]> {
  if (options.sock) return createConnection(loop, protocolFactory, null, null, options);
  if (typeof path !== "string" || path === "") throw new TypeError(`createUnixConnection() takes a socket path, got ${String(path)}`);
  if ((options.ssl ?? false) !== false && (options.serverHostname ?? null) === null) {
    throw new TypeError("createUnixConnection() with ssl needs serverHostname (there is no host name to check the certificate against)");
  }
  const socket = outsideTasks(() => net.connect({ path, allowHalfOpen: true }));
  socket.unref();
  await connected(loop, socket, path);
  return connectSocket(loop, protocolFactory, socket, {
    ssl: options.ssl,
    sslHandshakeTimeout: options.sslHandshakeTimeout,
    serverHostname: options.serverHostname,
    where: path,
    extra: { peername: path, sockname: "" },
  });
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await fsp.stat(path);
  } catch {
    return null;
  }
}

/** Listens on the Unix socket at `path`, replacing a stale socket file. */
export async function createUnixServer<P extends StreamProtocol>(
  loop: AbstractEventLoop,
  protocolFactory: ProtocolFactory<P>,
  path: string | null,
  options: UnixServerCreateOptions = {},
): Promise<Server> {
  if (typeof protocolFactory !== "function") throw new TypeError(`createUnixServer() takes a protocol factory, got ${typeof protocolFactory}`);
  let srv: net.Server;
  if (options.sock) {
    srv = options.sock;
  } else {
    if (typeof path !== "string" || path === "") throw new TypeError(`createUnixServer() takes a socket path, got ${String(path)}`);
    const stat = await statOrNull(path);
    if (stat?.isSocket() === true) await fsp.unlink(path);
    srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    await listen(loop, srv, { path, backlog: options.backlog ?? 100 }, path);
  }
  const address = srv.address();
  const unixPath = typeof address === "string" ? address : (path ?? "");
  const server: Server = new Server(loop, [srv], {
    startServing: options.startServing ?? true,
    onConnection: acceptor(loop, protocolFactory, { ...options, unixPath }, () => server),
  });
  return server;
}

/**
 * Upgrades a connected transport to TLS and returns the new transport; the protocol stays the
 * same (its `connectionMade` is not called again) and the old transport must not be used.
 */
export async function startTls(
  loop: AbstractEventLoop,
  transport: Transport,
  protocol: StreamProtocol,
  sslcontext: SslOption,
  options: AcceptedSocketOptions & { serverSide?: boolean; serverHostname?: string | null } = {},
): Promise<Transport> {
  if (!(transport instanceof SocketTransport)) throw new TypeError(`startTls() takes a transport from createConnection or createServer, got ${String(transport)}`);
  if (transport.isTls) throw new Error("startTls(): the transport already runs TLS");
  const peer = transport.getExtraInfo("peername");
  const where = typeof peer === "string" ? peer : peer === undefined ? "the peer" : describe(peer[0], peer[1]);
  const server = transport.server;
  const socket = transport.detachSocket();
  const [tlsSocket, context] = await upgradeToTls(loop, socket, sslcontext, {
    serverSide: options.serverSide ?? false,
    serverHostname: options.serverHostname,
    handshakeTimeout: options.sslHandshakeTimeout,
    where,
  });
  return new SocketTransport(loop, tlsSocket, protocol, { tls: true, callConnectionMade: false, server, extra: { sslcontext: context } });
}


/** Node's `dns.lookup` hints; other bits of `flags` are refused, AI_CANONNAME is ours. */
const LOOKUP_HINTS = dns.ADDRCONFIG | dns.V4MAPPED | dns.ALL;

/** Settles a loop future from a promise, so that the awaiting task can be cancelled at once. */
function adopt<T>(loop: AbstractEventLoop, promise: Promise<T>): Future<T> {
  const fut: Future<T> = loop.createFuture();
  promise.then(
    (value) => {
      if (!fut.done() && !loop.isClosed()) fut.setResult(value);
    },
    (error: unknown) => {
      if (!fut.done() && !loop.isClosed()) fut.setException(error);
    },
  );
  return fut;
}

/**
 * Resolves `host` (asyncio's `loop.getaddrinfo`, on `dns.lookup`, the system resolver). `port` is a
 * number, a numeric string or a service name (`"http"`, from /etc/services); with `AI_CANONNAME` in
 * `flags` the first result carries the host's canonical name.
 */
export async function getaddrinfo(
  loop: AbstractEventLoop,
  host: string | null,
  port: number | string | null,
  options: { family?: 0 | 4 | 6; type?: number; proto?: number; flags?: number } = {},
): Promise<AddrInfo[]> {
  const flags = options.flags ?? 0;
  if (!Number.isInteger(flags) || (flags & ~(LOOKUP_HINTS | AI_CANONNAME)) !== 0) {
    throw new TypeError(`getaddrinfo() flags must combine AI_CANONNAME and dns.ADDRCONFIG, dns.V4MAPPED, dns.ALL, got ${String(options.flags)}`);
  }
  const numericPort = await adopt(loop, servicePort(port, options));
  const name = host ?? "localhost";
  const fut: Future<dns.LookupAddress[]> = loop.createFuture();
  dns.lookup(name, { all: true, family: options.family ?? 0, hints: flags & LOOKUP_HINTS }, (error, addresses) => {
    if (fut.done()) return;
    if (error) fut.setException(wrapNetError(error, name));
    else fut.setResult(addresses);
  });
  const addresses = await fut;
  const canonname = (flags & AI_CANONNAME) !== 0 && addresses.length > 0 ? await adopt(loop, canonicalName(name)) : "";
  // As the C library: only the first result carries the canonical name.
  return addresses.map((a, i) => [a.family === 6 ? 6 : 4, options.type ?? 0, options.proto ?? 0, i === 0 ? canonname : "", [a.address, numericPort]]);
}

/** Reverse-resolves `[address, port]` to `[hostname, service]` (asyncio's `loop.getnameinfo`). */
export async function getnameinfo(loop: AbstractEventLoop, sockaddr: [string, number], _flags = 0): Promise<[string, string]> {
  if (!Array.isArray(sockaddr) || typeof sockaddr[0] !== "string" || typeof sockaddr[1] !== "number") {
    throw new TypeError("getnameinfo() takes [address, port]");
  }
  const fut: Future<[string, string]> = loop.createFuture();
  dns.lookupService(sockaddr[0], sockaddr[1], (error, hostname, service) => {
    if (fut.done()) return;
    if (error) fut.setException(wrapNetError(error, describe(sockaddr[0], sockaddr[1])));
    else fut.setResult([hostname, service]);
  });
  return await fut;
}

const SENDFILE_CHUNK = 256 * 1024;

/**
 * Sends a file over a transport. Node has no zero-copy socket sendfile, so this always takes the
 * fallback path (read and write in chunks, honouring flow control) unless `fallback` is false, in
 * which case it throws `SendfileNotAvailableError`, as asyncio does where `os.sendfile` is missing.
 */
export async function sendfile(
  loop: AbstractEventLoop,
  transport: Transport,
  file: FileHandle | number,
  offset = 0,
  count: number | null = null,
  options: { fallback?: boolean } = {},
): Promise<number> {
  if (!(transport instanceof SocketTransport)) throw new TypeError(`sendfile() takes a stream transport, got ${String(transport)}`);
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`sendfile() offset must be an integer >= 0, got ${offset}`);
  if (count !== null && (!Number.isInteger(count) || count <= 0)) throw new RangeError(`sendfile() count must be a positive integer or null, got ${count}`);
  if (options.fallback === false) {
    throw new SendfileNotAvailableError("sendfile is not available: Node has no zero-copy socket sendfile; pass fallback: true to read and write instead");
  }
  if (transport.isClosing()) throw new Error("sendfile(): the transport is closing");
  const handle = typeof file === "number" ? await fsp.open(`/dev/fd/${file}`, "r") : file;
  const socket = transport.getExtraInfo("socket") as net.Socket;
  let sent = 0;
  try {
    const buffer = Buffer.allocUnsafe(SENDFILE_CHUNK);
    for (;;) {
      const want = count === null ? SENDFILE_CHUNK : Math.min(SENDFILE_CHUNK, count - sent);
      if (want <= 0) break;
      const { bytesRead } = await readChunk(loop, handle, buffer, want, offset + sent);
      if (bytesRead === 0) break;
      transport.write(Buffer.from(buffer.subarray(0, bytesRead)));
      sent += bytesRead;
      // 'drain' comes only after a write() that returned false (writableNeedDrain).
      if (transport.getWriteBufferSize() > transport.getWriteBufferLimits()[1] && socket.writableNeedDrain && !transport.isClosing()) {
        await waitEvent(loop, socket, "drain");
      }
      if (transport.isClosing()) throw SocketTransport.connectionLostError();
    }
  } finally {
    if (typeof file === "number") await handle.close();
  }
  return sent;
}

function readChunk(loop: AbstractEventLoop, handle: FileHandle, buffer: Buffer, length: number, position: number): Future<{ bytesRead: number }> {
  const fut: Future<{ bytesRead: number }> = loop.createFuture();
  handle.read(buffer, 0, length, position).then(
    (r) => {
      if (!fut.done()) fut.setResult(r);
    },
    (e: unknown) => {
      if (!fut.done()) fut.setException(e);
    },
  );
  return fut;
}
