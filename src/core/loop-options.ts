/**
 * The option and result types of the loop's networking, subprocess and executor methods. They live
 * in the core, beside `AbstractEventLoop`, because the loop interface names them; the layers that
 * implement those methods (`net/`, `proc/`) import them from here.
 * @module
 */
import type * as dgram from "node:dgram";
import type * as net from "node:net";
import type * as tls from "node:tls";
import type { Transferable } from "node:worker_threads";

// --- networking (net/) ---

/** The `ssl` option: `true` (defaults, verifying the server), a `SecureContext`, or TLS options. */
export type SslOption = boolean | tls.SecureContext | (tls.SecureContextOptions & tls.CommonConnectionOptions & { rejectUnauthorized?: boolean; ca?: unknown });

/** Options of `loop.createConnection` (asyncio's keyword arguments). */
export interface ConnectionOptions {
  /** TLS: `true`, a `tls.SecureContext`, or TLS options (`{ ca, cert, key, rejectUnauthorized }`). */
  ssl?: SslOption | null;
  /** The name checked against the server's certificate (default: `host`); `""` skips the check. */
  serverHostname?: string | null;
  /** 4 or 6 to force an address family (default: both, with Happy Eyeballs). */
  family?: 0 | 4 | 6;
  /** Bind the local end to `[host, port]` first. */
  localAddr?: [string, number] | null;
  /** An already-connected `net.Socket` to use instead of `host`/`port`. */
  sock?: net.Socket | null;
  /** Seconds to wait for the TLS handshake (default 60). */
  sslHandshakeTimeout?: number | null;
  /** Happy Eyeballs: seconds before trying the next address (default 0.25; Node's `autoSelectFamily`). */
  happyEyeballsDelay?: number | null;
}

/** Options of `loop.createServer`. */
export interface ServerCreateOptions {
  ssl?: SslOption | null;
  /** 4 or 6 to listen on one family only when `host` is null. */
  family?: 0 | 4 | 6;
  /** Listen queue length (default 100, as asyncio). */
  backlog?: number;
  /** Let several processes bind the same port (SO_REUSEPORT; Linux and BSDs). */
  reusePort?: boolean;
  /** Accepted for asyncio compatibility: Node always sets SO_REUSEADDR on listening TCP sockets. */
  reuseAddress?: boolean;
  /** Set SO_KEEPALIVE on accepted connections. */
  keepAlive?: boolean;
  /** Seconds to wait for each client's TLS handshake (default 60). */
  sslHandshakeTimeout?: number | null;
  /** Accept at once (default true); with false, call `server.startServing()` or `serveForever()`. */
  startServing?: boolean;
  /** An already-listening `net.Server` to serve on, instead of `host`/`port`. */
  sock?: net.Server | null;
}

/** Options of `loop.createUnixServer` (Node removes the socket file when the server closes). */
export type UnixServerCreateOptions = Omit<ServerCreateOptions, "family" | "reusePort" | "reuseAddress">;

/** Options of `loop.connectAcceptedSocket` and the TLS part of `loop.startTls`. */
export interface AcceptedSocketOptions {
  ssl?: SslOption | null;
  sslHandshakeTimeout?: number | null;
}

/** One `getaddrinfo` result: `[family, type, proto, canonname, [address, port]]` (family 4 or 6). */
export type AddrInfo = [family: 4 | 6, type: number, proto: number, canonname: string, sockaddr: [string, number]];

/** Options of `loop.createDatagramEndpoint` (asyncio's keyword arguments). */
export interface DatagramEndpointOptions {
  /** Bind to `[host, port]` (port 0 for any). */
  localAddr?: [string, number] | null;
  /** Connect to `[host, port]`: `sendto(data)` goes there and only its datagrams are received. */
  remoteAddr?: [string, number] | null;
  /** 4 or 6; by default taken from the addresses (IPv4 when none is given). */
  family?: 0 | 4 | 6;
  /** SO_REUSEPORT. */
  reusePort?: boolean;
  /** SO_BROADCAST. */
  allowBroadcast?: boolean;
  /** An existing `dgram.Socket` (bound or not) to use instead. */
  sock?: dgram.Socket | null;
}

// --- subprocesses (proc/) ---

/** A child stream's setting: `PIPE`, `DEVNULL`, `STDOUT` (stderr only), an inherited fd, or `null` (inherit). */
export type StdioSpec = number | null;

export interface SubprocessOptions {
  /** Default `PIPE` for the loop methods, `null` (inherit) for `createSubprocessExec`. */
  stdin?: StdioSpec;
  stdout?: StdioSpec;
  stderr?: StdioSpec;
  /** Working directory of the child. */
  cwd?: string | URL;
  /** The child's whole environment (default: this process's). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Run the child in a new session (`setsid()`, Popen's `start_new_session`): it leaves this
   * process's terminal and process group, and leads a new group whose id is its pid, so
   * `process.kill(-proc.pid, signal)` signals the whole tree it starts.
   */
  startNewSession?: boolean;
  /**
   * `0`: put the child in a new process group whose id is its pid (Popen's `process_group=0`), so
   * that `process.kill(-proc.pid, signal)` reaches every process it starts. Node's `spawn` can only
   * do this through `setsid()`, so the child is also in a new session, as with `startNewSession`.
   * Joining an existing group (a value > 0) is not possible with Node's `spawn` and is refused.
   */
  processGroup?: number | null;
  /** Run the child as this user: a name (looked up in /etc/passwd) or a uid (Popen's `user`). Needs the privilege to switch. */
  user?: string | number | null;
  /** Run the child with this group: a name (looked up in /etc/group) or a gid (Popen's `group`). Needs the privilege to switch. */
  group?: string | number | null;
}

// --- executors (proc/) ---

/** Options every job form takes. */
export interface JobOptions {
  /** ArrayBuffers (or MessagePorts) among the arguments to move to the worker instead of copying. */
  transfer?: readonly Transferable[];
  /** Move the ArrayBuffers found in the result back instead of copying them (default `false`). */
  transferResult?: boolean;
  /** Terminate the worker if the job is cancelled while running (default: the executor's setting). */
  terminateOnCancel?: boolean;
  /**
   * Seconds a cancelled running job may go on before its worker is terminated and replaced
   * (default: the executor's setting, 2 s; `null`: let it run to its end).
   */
  cancelGracePeriod?: number | null;
}

/** A job that names a module and one of its exported functions; the worker imports it. */
export interface ModuleJob extends JobOptions {
  /** `new URL("./work.ts", import.meta.url)`, a `file:` URL string, an absolute path or a package name. */
  module: URL | string;
  export: string;
}

/** A self-contained function with job options. */
export interface FunctionJob<A extends unknown[], R> extends JobOptions {
  fn: (...args: A) => R;
}

/** What `runInExecutor`, `toThread` and `submit` run. */
export type Job<A extends unknown[], R> = ((...args: A) => R) | FunctionJob<A, R> | ModuleJob;
