/**
 * PostgreSQL's CancelRequest: a 16-byte message on a new connection to the server, naming the
 * backend (process ID and secret key from BackendKeyData) whose current statement must stop.
 *
 * Why written here: node-postgres has no public API for it. The server answers nothing and closes
 * the connection once it has signalled the backend; waiting for that close means the signal was
 * sent, so a statement sent afterwards is never hit by this cancel.
 * @module
 */
import { connect, type Socket } from "node:net";
import { join } from "node:path";

/** The protocol's CancelRequest code, 1234 << 16 | 5678. */
const CANCEL_REQUEST_CODE = 80877102;

/**
 * Sends a CancelRequest for backend `pid` (with its `secret`) to the server at `host:port` (a host
 * that starts with `/` is a unix socket directory). Resolves once the server closed the
 * connection, or after `timeoutMs`; never rejects (a cancel that cannot be delivered leaves the
 * caller's own bound to act).
 */
export function sendCancelRequest(host: string, port: number, pid: number, secret: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let socket: Socket;
    try {
      socket = host.startsWith("/") ? connect(join(host, `.s.PGSQL.${port}`)) : connect(port, host);
    } catch {
      resolve(false);
      return;
    }
    let ok = false;
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.once("connect", () => {
      const message = Buffer.alloc(16);
      message.writeInt32BE(16, 0);
      message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
      message.writeInt32BE(pid, 8);
      message.writeInt32BE(secret, 12);
      socket.end(message);
      ok = true;
    });
    socket.on("data", () => {});
    socket.once("error", () => {
      ok = false;
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(ok);
    });
  });
}
