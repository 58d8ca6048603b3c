/**
 * Following one redirect hop (RFC 9110 §15.4, as aiohttp and browsers do): the next request's
 * method, body and headers from the redirect response.
 *
 * 301/302/303 turn any method but GET/HEAD into a GET without body; 307/308 keep method and body.
 * On a hop to another origin (scheme, host or port), `Authorization` and `Cookie` are dropped so
 * that credentials meant for one server never reach another; the jar still adds the cookies that
 * belong to the new URL. A `Location` that is not an http(s) URL is refused, never followed.
 * @module
 */
import { ClientRequest } from "./client-request.ts";
import type { ClientResponse } from "./client-response.ts";
import { InvalidUrlRedirectClientError, NonHttpUrlRedirectClientError, TooManyRedirects } from "./client-errors.ts";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** True for the statuses the client follows. @internal */
export function isRedirect(status: number): boolean {
  return REDIRECTS.has(status);
}

/**
 * The request for the hop after `response` (already appended to `history`), and whether it
 * crosses origins.
 * @throws {TooManyRedirects} past `maxRedirects`; {InvalidUrlRedirectClientError} /
 * {NonHttpUrlRedirectClientError} for a bad `Location`. @internal
 */
export function followRedirect(
  request: ClientRequest,
  response: ClientResponse,
  history: readonly ClientResponse[],
  maxRedirects: number,
): { request: ClientRequest; crossOrigin: boolean } {
  const where = `${request.method} ${request.url.href}`;
  if (history.length > maxRedirects) {
    throw new TooManyRedirects({
      status: response.status,
      method: request.method,
      url: history[0]!.url.href,
      maxRedirects,
      history: history.map((r) => ({ status: r.status, url: r.url })),
    });
  }
  const location = response.headers.get("location")!;
  let next: URL;
  try {
    next = new URL(location, request.url);
  } catch {
    throw new InvalidUrlRedirectClientError(`${where} redirected (${response.status}) to an invalid URL ${JSON.stringify(location)}`, location);
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw new NonHttpUrlRedirectClientError(
      `${where} redirected (${response.status}) to ${JSON.stringify(location)}, which is not an http: or https: URL; it was not followed`,
      location,
    );
  }
  next.hash = "";
  let method = request.method;
  let body = request.body;
  const headers = request.headers.copy();
  if ((response.status === 301 || response.status === 302 || response.status === 303) && method !== "GET" && method !== "HEAD") {
    method = "GET";
    body = { kind: "none" };
    for (const name of ["Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding"]) headers.delete(name);
  }
  const crossOrigin = next.origin !== request.url.origin;
  if (crossOrigin) {
    headers.delete("Authorization");
    headers.delete("Cookie");
  }
  headers.delete("Host");
  return { request: new ClientRequest(method, next, headers, body), crossOrigin };
}
