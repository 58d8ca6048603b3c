/**
 * Options shared by the client and the server sides: TLS (`ssl`) and permessage-deflate
 * (`compression`), turned into what the `ws` library and `node:tls` take.
 *
 * Compression follows Python's websockets: offered by the client and accepted by the server by
 * default, with the server's window at 12 bits and zlib's memLevel at 5, which bounds the zlib
 * state of a connection to about 64 KiB instead of the ~300 KiB of zlib's defaults.
 * @module
 */
import * as tls from "node:tls";
import type { PerMessageDeflateOptions } from "ws";

/**
 * TLS for `wss://`, as `aiots/http` takes it: `true` (verify against the system CAs, the default
 * for `wss:`), `false` (no verification), a `tls.SecureContext`, or options
 * `{ ca, cert, key, passphrase, rejectUnauthorized, servername }`. A server needs `cert` and `key`
 * (or a SecureContext).
 */
export type WsSslOption =
  | boolean
  | tls.SecureContext
  | { ca?: string | Buffer | Array<string | Buffer>; cert?: string | Buffer | Array<string | Buffer>; key?: string | Buffer | Array<string | Buffer>; passphrase?: string; rejectUnauthorized?: boolean; servername?: string };

/**
 * `"deflate"` (the default) negotiates permessage-deflate (RFC 7692) with bounded memory; `null`
 * turns compression off; a `ws` `PerMessageDeflateOptions` object tunes it.
 */
export type Compression = "deflate" | null | PerMessageDeflateOptions;

// websockets' defaults (window 12 bits, memLevel 5): about 64 KiB of zlib state per connection.
const MEM_LEVEL = 5;
const WINDOW_BITS = 12;

function isSecureContext(value: object): value is tls.SecureContext {
  return "context" in value && Object.keys(value).length <= 2 && typeof value.context === "object";
}

/**
 * The `node:tls` options for `ssl` on a client (`false` means do not verify).
 * @throws {TypeError} for a value that is none of the accepted kinds.
 */
export function clientTlsOptions(ssl: WsSslOption): tls.ConnectionOptions {
  if (ssl === true) return {};
  if (ssl === false) return { rejectUnauthorized: false };
  if (typeof ssl !== "object" || ssl === null) {
    throw new TypeError(`ssl takes true, false, a tls.SecureContext or options such as { ca, cert, key, rejectUnauthorized, servername }, not ${typeof ssl}`);
  }
  if (isSecureContext(ssl)) return { secureContext: ssl };
  return { ...ssl };
}

/**
 * The one `tls.SecureContext` a server uses for every connection (built once: a context per
 * connection would cost a certificate parse each time).
 * @throws {TypeError} for `true`/`false` or options without `cert` and `key`; the TLS error for
 * an unreadable key or certificate.
 */
export function serverSecureContext(ssl: WsSslOption): tls.SecureContext {
  if (typeof ssl !== "object" || ssl === null) {
    throw new TypeError("a wss:// server needs a certificate: pass ssl: { cert, key } or a tls.SecureContext, not " + String(ssl));
  }
  if (isSecureContext(ssl)) return ssl;
  if (ssl.cert === undefined || ssl.key === undefined) {
    throw new TypeError("a wss:// server needs ssl.cert and ssl.key (PEM strings or Buffers), or a tls.SecureContext");
  }
  return tls.createSecureContext(ssl);
}

/**
 * The `perMessageDeflate` option of `ws` for `compression` on the given side.
 * @throws {TypeError} for a value that is not `"deflate"`, `null` or an options object.
 */
export function deflateOptions(compression: Compression | undefined, side: "client" | "server"): PerMessageDeflateOptions | false {
  if (compression === null) return false;
  if (compression === undefined || compression === "deflate") {
    const zlibDeflateOptions = { memLevel: MEM_LEVEL };
    return side === "server"
      ? { serverMaxWindowBits: WINDOW_BITS, clientMaxWindowBits: WINDOW_BITS, zlibDeflateOptions }
      : { zlibDeflateOptions }; // ws's client offers client_max_window_bits by default
  }
  if (typeof compression !== "object") {
    throw new TypeError(`compression takes "deflate", null (off) or ws's PerMessageDeflateOptions, not ${JSON.stringify(compression)}`);
  }
  return compression;
}
