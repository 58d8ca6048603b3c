/**
 * TLS on top of an already-connected socket, for clients, servers and `startTls`. aiots wraps the
 * plain socket itself (rather than using `tls.connect(port)` / `tls.Server`) so that one code path
 * serves all three, and the handshake wait is an aiots Future: cancellable, with asyncio's
 * handshake timeout.
 */
import * as tls from "node:tls";
import { isIP, type Socket } from "node:net";
import { type AbstractEventLoop, outsideTasks, type SslOption } from "../../core/index.ts";
import { waitEvent } from "./wait-event.ts";


/** asyncio's default TLS handshake timeout, seconds. */
export const SSL_HANDSHAKE_TIMEOUT = 60;

function isSecureContext(value: object): value is tls.SecureContext {
  return "context" in value && Object.keys(value).length <= 2 && typeof (value).context === "object";
}

/** Turns the `ssl` option into TLSSocket options. */
export function tlsOptions(ssl: SslOption, serverSide: boolean): tls.TLSSocketOptions {
  if (ssl === true) {
    if (serverSide) throw new TypeError("a TLS server needs a certificate: pass ssl: { key, cert } or a SecureContext, not true");
    return {};
  }
  if (ssl === false || typeof ssl !== "object" || ssl === null) {
    throw new TypeError("ssl takes true, a tls.SecureContext (tls.createSecureContext()) or TLS options such as { key, cert, ca }");
  }
  if (isSecureContext(ssl)) return { secureContext: ssl };
  const options = { ...(ssl as tls.TLSSocketOptions) };
  if (options.secureContext === undefined) options.secureContext = tls.createSecureContext(options);
  return options;
}

function checkTimeout(timeout: number | null | undefined): number | null {
  if (timeout === undefined) return SSL_HANDSHAKE_TIMEOUT;
  if (timeout === null) return null;
  if (typeof timeout !== "number" || !(timeout > 0)) {
    throw new RangeError(`sslHandshakeTimeout must be a number of seconds > 0, got ${String(timeout)}`);
  }
  return timeout;
}

export interface UpgradeOptions {
  serverSide: boolean;
  serverHostname?: string | null;
  handshakeTimeout?: number | null;
  /** For error messages: where the peer is. */
  where: string;
}

/**
 * Wraps `socket` in TLS and waits for the handshake. On failure or cancellation both sockets are
 * destroyed; errors name the peer. Resolves to the TLS socket and its context (Node does not expose it).
 * @throws {Error} the handshake error, with `where` in the message, or a timeout (`ConnectionAbortedError`).
 */
export async function upgradeToTls(
  loop: AbstractEventLoop,
  socket: Socket,
  ssl: SslOption,
  options: UpgradeOptions,
): Promise<[tls.TLSSocket, tls.SecureContext | undefined]> {
  const timeout = checkTimeout(options.handshakeTimeout);
  const base = tlsOptions(ssl, options.serverSide);
  let tlsSocket: tls.TLSSocket;
  let event: string;
  if (options.serverSide) {
    tlsSocket = outsideTasks(() => new tls.TLSSocket(socket, { ...base, isServer: true }));
    event = "secure";
  } else {
    // The certificate is checked against `host` (a name or an IP address); SNI takes names only.
    const host = options.serverHostname ?? undefined;
    const sni = host !== undefined && host !== "" && isIP(host) === 0 ? host : undefined;
    tlsSocket = outsideTasks(() =>
      tls.connect({
        ...base,
        socket,
        ...(host === undefined || host === "" ? {} : { host }),
        ...(sni === undefined ? {} : { servername: sni }),
        checkServerIdentity: host === "" ? () => undefined : tls.checkServerIdentity,
      }),
    );
    event = "secureConnect";
  }
  try {
    await waitEvent(loop, tlsSocket, event, {
      timeout,
      onTimeout: () =>
        Object.assign(new Error(`TLS handshake with ${options.where} is taking longer than ${timeout} seconds: aborting the connection`), {
          name: "ConnectionAbortedError",
          code: "ECONNABORTED",
        }),
      wrapError: (error) => Object.assign(new Error(`TLS handshake with ${options.where} failed: ${error.message}`, { cause: error }), { code: (error as { code?: string }).code }),
    });
    if (!options.serverSide && tlsSocket.authorized === false && base.rejectUnauthorized !== false) {
      throw new Error(`TLS handshake with ${options.where} failed: ${String(tlsSocket.authorizationError)}`);
    }
  } catch (error) {
    tlsSocket.destroy();
    socket.destroy();
    throw error;
  }
  return [tlsSocket, base.secureContext];
}
