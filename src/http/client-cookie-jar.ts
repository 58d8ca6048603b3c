/**
 * `CookieJar`: the client's cookie store (aiohttp.CookieJar), on tough-cookie.
 *
 * tough-cookie applies RFC 6265's rules (domain and path matching, host-only cookies, `Secure`,
 * `Max-Age`/`Expires`, public suffixes, `__Host-`/`__Secure-` prefixes); a `Set-Cookie` it refuses
 * is dropped, never an error, since a server's bad cookie must not fail the request. Cookies given
 * without a URL (`updateCookies(record)`, the session's `cookies` option) are shared: sent to every
 * host, as aiohttp's are.
 * @module
 */
import { Cookie, CookieJar as ToughJar } from "tough-cookie";
import { inspectSymbol } from "../core/index.ts";

// RFC 6265 §4.1.1: a cookie name is a token; a value has no CTLs, whitespace, DQUOTE, comma, semicolon or backslash.
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

/**
 * A cookie jar (aiohttp.CookieJar): every `ClientSession` has one (`session.cookieJar`) that
 * stores the cookies responses set and sends them back to matching URLs. Pass one jar to several
 * sessions to share cookies.
 * @example
 * ```ts
 * import { ClientSession, CookieJar } from "aiots/http";
 * const jar = new CookieJar();
 * jar.updateCookies({ theme: "dark" }, "https://example.com/");
 * console.log(jar.filterCookies("https://example.com/page")); // { theme: 'dark' }
 * await using session = new ClientSession({ cookieJar: jar });
 * ```
 */
export class CookieJar {
  #jar = new ToughJar(undefined, { looseMode: false, rejectPublicSuffixes: true, allowSpecialUseDomain: true });
  readonly #shared = new Map<string, string>();
  // False until a cookie is stored (and again after clear()): lets a jar that never got a cookie
  // skip tough-cookie's matching on every request.
  #maybeStored = false;

  /**
   * The cookies to send to `url`, `{ name: value }` (shared ones, then those whose domain, path,
   * `Secure` flag and expiry match; the most specific path wins a name).
   * @throws {TypeError} for an invalid URL.
   */
  filterCookies(url: string | URL): Record<string, string> {
    const target = toUrl(url);
    const out: Record<string, string> = {};
    for (const [name, value] of this.#shared) out[name] = value;
    if (!this.#maybeStored) return out;
    const seen = new Set<string>();
    for (const cookie of this.#jar.getCookiesSync(target.href)) {
      if (seen.has(cookie.key)) continue;
      seen.add(cookie.key);
      out[cookie.key] = cookie.value;
    }
    return out;
  }

  /**
   * Stores `cookies` (`{ name: value }`) as if `url` had set them (host-only, default path), or,
   * without a URL, as shared cookies sent to every host.
   * @throws {TypeError} for a name or value that a Cookie header cannot carry, or an invalid URL.
   */
  updateCookies(cookies: Record<string, string>, url?: string | URL): void {
    checkCookies(cookies);
    for (const [name, value] of Object.entries(cookies)) {
      if (url === undefined) this.#shared.set(name, value);
      else {
        this.#jar.setCookieSync(`${name}=${value}`, toUrl(url).href);
        this.#maybeStored = true;
      }
    }
  }

  /**
   * Stores the cookies of `Set-Cookie` header values received from `url`; invalid ones and those
   * `url` may not set are ignored. Returns `{ name: value }` of the cookies in the headers. @internal
   */
  storeResponseCookies(setCookies: readonly string[], url: URL): Record<string, string> {
    const seen: Record<string, string> = {};
    for (const header of setCookies) {
      const cookie = Cookie.parse(header);
      if (cookie === undefined || cookie.key === "") continue;
      seen[cookie.key] = cookie.value;
      try {
        if (this.#jar.setCookieSync(cookie, url.href, { ignoreError: true }) !== undefined) this.#maybeStored = true;
      } catch {
        // tough-cookie throws for a few refusals even with ignoreError (e.g. a public suffix): ignore them.
      }
    }
    return seen;
  }

  /** Removes every cookie, or (with `predicate`) those it returns true for. */
  clear(predicate?: (cookie: { name: string; value: string; domain: string | null; path: string | null }) => boolean): void {
    if (predicate === undefined) {
      this.#shared.clear();
      this.#jar.removeAllCookiesSync();
      this.#maybeStored = false;
      return;
    }
    for (const [name, value] of [...this.#shared]) if (predicate({ name, value, domain: null, path: null })) this.#shared.delete(name);
    const store = this.#jar.serializeSync();
    if (store === undefined) return;
    const keep = store.cookies.filter((c) => !predicate({ name: String(c.key ?? ""), value: String(c.value ?? ""), domain: (c.domain as string | null) ?? null, path: (c.path as string | null) ?? null }));
    this.#jar = ToughJar.deserializeSync({ ...store, cookies: keep });
  }

  /** Removes the cookies of `domain` and its subdomains (aiohttp's `clear_domain`). */
  clearDomain(domain: string): void {
    const d = domain.toLowerCase().replace(/^\./, "");
    this.clear((c) => c.domain !== null && (c.domain === d || c.domain.endsWith(`.${d}`)));
  }

  /** Number of cookies stored (shared ones included). */
  get size(): number {
    return this.#shared.size + (this.#jar.serializeSync()?.cookies.length ?? 0);
  }

  toString(): string {
    return `<CookieJar ${this.size} cookies>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

/**
 * Checks that `{ name: value }` can go in a Cookie header as is.
 * @throws {TypeError} naming the first bad name or value. @internal
 */
export function checkCookies(cookies: Record<string, string>): void {
  for (const [name, value] of Object.entries(cookies)) {
    if (!NAME.test(name)) throw new TypeError(`invalid cookie name ${JSON.stringify(name)}: a cookie name is a token (letters, digits, !#$%&'*+-.^_\`|~)`);
    if (typeof value !== "string" || !VALUE.test(value)) {
      throw new TypeError(`invalid value for cookie ${name}: no spaces, quotes, commas, semicolons, backslashes or control characters (encode it first)`);
    }
  }
}

function toUrl(url: string | URL): URL {
  if (url instanceof URL) return url;
  try {
    return new URL(url);
  } catch {
    throw new TypeError(`invalid URL ${JSON.stringify(url)}: cookies belong to absolute http(s) URLs`);
  }
}
