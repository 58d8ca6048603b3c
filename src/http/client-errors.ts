/**
 * The client's error classes beyond the base ones of `errors.ts` (aiohttp's names), and the mapping
 * of every low-level failure (undici, node:net, node:tls, node:zlib) onto them.
 *
 * Rule: everything a request can throw, other than `CancelledError` and `TimeoutError`, is a
 * `ClientError` whose message names the method and the URL; the original error is its `cause`.
 * @module
 */
import { CancelledError, TimeoutError } from "../core/index.ts";
import { ClientConnectionError, ClientError, ClientResponseError } from "./errors.ts";

/**
 * TLS failed: the handshake broke or the server's certificate did not verify (aiohttp.ClientSSLError).
 * A `ClientConnectionError`, so code that retries on connection errors covers it too.
 * @example
 * ```ts
 * import { ClientSession, ClientSSLError } from "aiots/http";
 * try { await session.get("https://self-signed.example/"); }
 * catch (e) { if (e instanceof ClientSSLError) console.log(e.code, e.message); }
 * ```
 */
export class ClientSSLError extends ClientConnectionError {
  override name = "ClientSSLError";
  /** The TLS or OpenSSL code, e.g. `"DEPTH_ZERO_SELF_SIGNED_CERT"`, `"ERR_TLS_CERT_ALTNAME_INVALID"`. */
  readonly code: string | undefined;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, { cause: options?.cause });
    this.code = options?.code;
  }
}

/**
 * The response was malformed or its body could not be read in full (aiohttp.ClientPayloadError):
 * an invalid status line or header, a body cut short, bad compressed data, or a body over `maxBodySize`.
 * @example
 * ```ts
 * import { ClientPayloadError } from "aiots/http";
 * try { await (await session.get(url, { maxBodySize: 1024 })).text(); }
 * catch (e) { if (e instanceof ClientPayloadError) console.log(e.message); }
 * ```
 */
export class ClientPayloadError extends ClientError {
  override name = "ClientPayloadError";
}

/**
 * More redirects than `maxRedirects` (aiohttp.TooManyRedirects). `history` holds the responses seen.
 * @example
 * ```ts
 * import { TooManyRedirects } from "aiots/http";
 * try { await session.get(url, { maxRedirects: 3 }); }
 * catch (e) { if (e instanceof TooManyRedirects) console.log(e.history.length); }
 * ```
 */
export class TooManyRedirects extends ClientResponseError {
  override name = "TooManyRedirects";
  /** The redirect responses that were followed, oldest first. */
  readonly history: readonly { status: number; url: URL }[];
  constructor(init: { status: number; method: string; url: string; maxRedirects: number; history: readonly { status: number; url: URL }[] }) {
    super({ status: init.status, statusText: "", url: init.url, method: init.method });
    this.message = `too many redirects (more than maxRedirects=${init.maxRedirects}), ${init.method} ${init.url}: raise maxRedirects or pass allowRedirects: false`;
    this.history = init.history;
  }
}

/**
 * A redirect whose `Location` is not a valid URL (aiohttp.InvalidUrlRedirectClientError).
 * @example
 * ```ts
 * import { InvalidUrlRedirectClientError } from "aiots/http";
 * try { await session.get(url); } catch (e) { if (e instanceof InvalidUrlRedirectClientError) console.log(e.location); }
 * ```
 */
export class InvalidUrlRedirectClientError extends ClientError {
  override name = "InvalidUrlRedirectClientError";
  /** The `Location` header as sent. */
  readonly location: string;
  constructor(message: string, location: string) {
    super(message);
    this.location = location;
  }
}

/**
 * A redirect to a scheme other than http: and https: (aiohttp.NonHttpUrlRedirectClientError), e.g.
 * `Location: file:///etc/passwd` or `javascript:`; never followed.
 * @example
 * ```ts
 * import { NonHttpUrlRedirectClientError } from "aiots/http";
 * try { await session.get(url); } catch (e) { if (e instanceof NonHttpUrlRedirectClientError) console.log(e.location); }
 * ```
 */
export class NonHttpUrlRedirectClientError extends InvalidUrlRedirectClientError {
  override name = "NonHttpUrlRedirectClientError";
}

// OpenSSL verification results and Node's TLS codes that mean "the certificate is not acceptable".
const SSL_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL_)/;

const PAYLOAD_CODES = new Set([
  "UND_ERR_HEADERS_OVERFLOW",
  "UND_ERR_RES_EXCEEDED_MAX_SIZE",
  "UND_ERR_INFO",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);

/** Marks an error raised by the TLS layer of a connection the client opened. @internal */
export const kTlsFailure = Symbol("aiots.tlsFailure");

/** Where an error happened, for `translateError`. @internal */
export type FailurePhase = "connect" | "headers" | "body";

/**
 * The error to throw for `error`, raised while running `method url` during `phase`. @internal
 * Errors that already belong to the hierarchy (and cancellation, timeouts) pass through unchanged.
 */
export function translateError(error: unknown, method: string, url: URL, phase: FailurePhase = "headers"): unknown {
  if (error instanceof CancelledError || error instanceof TimeoutError || error instanceof ClientError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  const where = `${method} ${url.href}`;
  if (typeof code === "string") {
    if (code === "AIOTS_SOCK_CONNECT_TIMEOUT") return new TimeoutError(`${text} (${where})`, { cause: error });
    if (code === "UND_ERR_CONNECT_TIMEOUT") return new TimeoutError(`connect timeout (${where})`, { cause: error });
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
      return new TimeoutError(`sockRead timeout (${where})`, { cause: error });
    }
    if ((error as { [kTlsFailure]?: boolean })[kTlsFailure] === true || SSL_CODES.test(code)) {
      return new ClientSSLError(`${where} failed TLS: ${text || code}${sslHint(code)}`, { cause: error, code });
    }
    if (code.startsWith("HPE_")) {
      return new ClientPayloadError(`${where}: malformed response from the server (${code}: ${text})`, { cause: error });
    }
    if (PAYLOAD_CODES.has(code) || code.startsWith("Z_")) {
      return new ClientPayloadError(`${where}: invalid response body (${text || code})`, { cause: error });
    }
    if (phase === "body") {
      return new ClientPayloadError(`${where}: the response body was cut short (${text || code})`, { cause: error });
    }
  }
  if (error instanceof Error && error.name === "HTTPParserError") {
    // undici leaves `code` unset for some parser failures (a status line that is not HTTP/1.x).
    return new ClientPayloadError(`${where}: malformed response from the server (${text})`, { cause: error });
  }
  if ((error as { [kTlsFailure]?: boolean } | null)?.[kTlsFailure] === true) {
    return new ClientSSLError(`${where} failed TLS: ${text}`, { cause: error });
  }
  if (phase === "body") return new ClientPayloadError(`${where}: reading the response body failed: ${text}`, { cause: error });
  return new ClientConnectionError(`${where} failed: ${text || String(code)}`, { cause: error });
}

function sslHint(code: string): string {
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID" || code === "HOSTNAME_MISMATCH") {
    return " (the certificate does not name this host: fix the URL's host, or pass ssl: { servername })";
  }
  if (/^(UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/.test(code)) {
    return " (pass the issuing CA as ssl: { ca }, or ssl: false to skip verification)";
  }
  return "";
}
